/* The randomizer's plan (issue 6, CRON3): booking slot times for the next weeks, picked at
 * random inside per-weekday windows, with the brands rotated across consecutive slots.
 * Pure computation: no I/O, no clock; dates are days since 1970-01-01 in the booking zone,
 * times are minutes since local midnight. */
#ifndef CHORED_RANDOMIZER_PLAN_H
#define CHORED_RANDOMIZER_PLAN_H

#include <stddef.h>
#include <stdint.h>

#define PLAN_MAX_BRANDS  16
#define PLAN_MAX_WINDOWS 14

/* One window: weekday (0 = Sunday … 6 = Saturday) and the range [start, end] (minutes) in
 * which the day's first slot starts; the day's slots follow it back to back. (The business's
 * Friday window 18:30-19:00 holds three 30-minute slots only read this way.) */
struct plan_window {
	int weekday;
	int start, end;
};

struct plan_params {
	const char *const *brands; /* rotation order, n_brands of them (borrowed) */
	size_t n_brands;
	struct plan_window windows[PLAN_MAX_WINDOWS];
	size_t n_windows;
	int granularity;   /* minutes between possible block starts, > 0 */
	int slots_per_day; /* consecutive slots a window day gets, 1..n_brands */
	int slot_length;   /* minutes */
	int weeks;         /* horizon */
};

/* One planned slot. `brand` indexes params.brands. */
struct plan_slot {
	int64_t day; /* days since 1970-01-01 */
	int start;   /* minutes since midnight; the slot ends at start + slot_length */
	size_t brand;
	int pos; /* position in its block, 0 = first */
};

struct plan {
	struct plan_slot *slots; /* owned, in date then start order */
	size_t n;
};

/* Uniform random integer in [0, n) (n ≥ 1); `data` is the generator's state. */
typedef uint64_t (*plan_rand_fn)(void *data, uint64_t n);

/* Parses "mon 13:00-16:00 wed 10:00-11:00" into p->windows. Returns 0, or -1 with a message
 * naming the bad item in err. */
int plan_parse_windows(struct plan_params *p, const char *text, char *err, size_t errlen);

/* Checks the bounds: every window leaves at least two start times on the granularity, and
 * its latest start plus slots_per_day slots ends by 24:00. Returns 0, or -1 with a message. */
int plan_check(const struct plan_params *p, char *err, size_t errlen);

/* Computes the plan of days [first_day, first_day + 7*weeks). `prev` (may be NULL) is the
 * previous plan: no brand gets the time it had a week earlier on the same weekday, in `prev`
 * or earlier in this plan, and each brand's position in the day's block differs from its
 * position on the previous window day. Returns 0 and fills *out (free with plan_free), or -1
 * with the date that has no placement in err. */
int plan_make(const struct plan_params *p, int64_t first_day, const struct plan *prev,
              plan_rand_fn rnd, void *rnd_data, struct plan *out, char *err, size_t errlen);
void plan_free(struct plan *pl);

/* Deterministic generator for `seed = N` (SHA-256 in counter mode): same seed, same plan. */
struct plan_seeded {
	uint64_t seed, counter;
	unsigned char block[32];
	size_t used;
};
void plan_seeded_init(struct plan_seeded *s, uint64_t seed);
uint64_t plan_seeded_rand(void *data, uint64_t n);
/* OpenSSL's RAND_bytes; data unused. */
uint64_t plan_os_rand(void *data, uint64_t n);

#endif

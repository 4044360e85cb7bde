/* The randomizer's plan: see plan.h. Each (window day × window) gets one block of
 * slots_per_day consecutive slots; the block's start and the brands' rotation offset are
 * drawn together, uniformly among the pairs that satisfy both rules, so no rule is ever
 * traded for the other and a seeded generator reproduces the plan exactly. */
#include "plan.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <chored/time.h>

static const char *const day_names[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

static void fmt_day(int64_t day, char *buf, size_t len)
{
	int y, m, d;
	chored_civil_from_days(day, &y, &m, &d);
	snprintf(buf, len, "%04d-%02d-%02d", y, m, d);
}

/* "HH:MM" → minutes, or -1. Accepts 24:00 as an end of day. */
static int parse_hhmm(const char *s, size_t len)
{
	if (len != 5 || !isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]) ||
	    s[2] != ':' || !isdigit((unsigned char)s[3]) || !isdigit((unsigned char)s[4]))
		return -1;
	int h = (s[0] - '0') * 10 + (s[1] - '0'), m = (s[3] - '0') * 10 + (s[4] - '0');
	if (m > 59 || h > 24 || (h == 24 && m != 0))
		return -1;
	return h * 60 + m;
}

static int weekday_of(const char *s, size_t len)
{
	for (int i = 0; i < 7; i++)
		if (len == 3 && strncasecmp(s, day_names[i], 3) == 0)
			return i;
	return -1;
}

static int cmp_window(const void *a, const void *b)
{
	const struct plan_window *x = a, *y = b;
	if (x->weekday != y->weekday)
		return x->weekday - y->weekday;
	return x->start - y->start;
}

int plan_parse_windows(struct plan_params *p, const char *text, char *err, size_t errlen)
{
	p->n_windows = 0;
	const char *s = text;
	for (;;) {
		while (*s == ' ' || *s == '\t')
			s++;
		if (!*s)
			break;
		const char *w = s;
		while (*s && *s != ' ' && *s != '\t')
			s++;
		int wd = weekday_of(w, (size_t)(s - w));
		if (wd < 0) {
			snprintf(err, errlen,
			         "'%.*s' is not a weekday (mon, tue, wed, thu, fri, sat, sun)",
			         (int)(s - w), w);
			return -1;
		}
		while (*s == ' ' || *s == '\t')
			s++;
		const char *r = s;
		while (*s && *s != ' ' && *s != '\t')
			s++;
		const char *dash = memchr(r, '-', (size_t)(s - r));
		int a = dash ? parse_hhmm(r, (size_t)(dash - r)) : -1;
		int b = dash ? parse_hhmm(dash + 1, (size_t)(s - dash - 1)) : -1;
		if (r == s) {
			snprintf(err, errlen,
			         "'%s' needs a time range after it, such as 13:00-16:00",
			         day_names[wd]);
			return -1;
		}
		if (a < 0 || b < 0 || a >= b || a == 24 * 60) {
			snprintf(err, errlen,
			         "'%.*s' is not a time range HH:MM-HH:MM with start < end",
			         (int)(s - r), r);
			return -1;
		}
		if (p->n_windows == PLAN_MAX_WINDOWS) {
			snprintf(err, errlen, "more than %d windows", PLAN_MAX_WINDOWS);
			return -1;
		}
		p->windows[p->n_windows++] = (struct plan_window){wd, a, b};
	}
	if (!p->n_windows) {
		snprintf(err, errlen, "no window: expected items such as 'mon 13:00-16:00'");
		return -1;
	}
	qsort(p->windows, p->n_windows, sizeof p->windows[0], cmp_window);
	for (size_t i = 1; i < p->n_windows; i++) {
		const struct plan_window *x = &p->windows[i - 1], *y = &p->windows[i];
		if (x->weekday == y->weekday && y->start < x->end) {
			snprintf(
			    err, errlen,
			    "the %s windows %02d:%02d-%02d:%02d and %02d:%02d-%02d:%02d overlap",
			    day_names[x->weekday], x->start / 60, x->start % 60, x->end / 60,
			    x->end % 60, y->start / 60, y->start % 60, y->end / 60, y->end % 60);
			return -1;
		}
	}
	return 0;
}

int plan_check(const struct plan_params *p, char *err, size_t errlen)
{
	if (p->n_brands < 1 || p->n_brands > PLAN_MAX_BRANDS) {
		snprintf(err, errlen, "brands: expected 1 to %d names, got %zu", PLAN_MAX_BRANDS,
		         p->n_brands);
		return -1;
	}
	if (p->granularity < 1 || p->granularity > 24 * 60) {
		snprintf(err, errlen, "granularity: expected 1 minute to 1 day");
		return -1;
	}
	if (p->slot_length < 1 || p->slot_length > 24 * 60) {
		snprintf(err, errlen, "slot_length: expected 1 minute to 1 day");
		return -1;
	}
	if (p->slots_per_day < 1 || (size_t)p->slots_per_day > p->n_brands) {
		snprintf(err, errlen,
		         "slots_per_day: expected 1 to %zu (the number of brands), got %d",
		         p->n_brands, p->slots_per_day);
		return -1;
	}
	if (p->weeks < 1 || p->weeks > 52) {
		snprintf(err, errlen, "weeks: expected 1 to 52, got %d", p->weeks);
		return -1;
	}
	int block = p->slots_per_day * p->slot_length;
	for (size_t i = 0; i < p->n_windows; i++) {
		const struct plan_window *w = &p->windows[i];
		if ((w->end - w->start) / p->granularity < 1) {
			snprintf(err, errlen,
			         "window %s %02d:%02d-%02d:%02d is shorter than the %d-minute "
			         "granularity: "
			         "it leaves one start time, nothing to randomize",
			         day_names[w->weekday], w->start / 60, w->start % 60, w->end / 60,
			         w->end % 60, p->granularity);
			return -1;
		}
		if (i > 0 && w->weekday == p->windows[i - 1].weekday &&
		    p->windows[i - 1].end + block > w->start) {
			const struct plan_window *x = &p->windows[i - 1];
			snprintf(
			    err, errlen,
			    "windows %s %02d:%02d-%02d:%02d and %02d:%02d-%02d:%02d are too close: "
			    "%d slots of %d minutes from the first could run into the second",
			    day_names[w->weekday], x->start / 60, x->start % 60, x->end / 60,
			    x->end % 60, w->start / 60, w->start % 60, w->end / 60, w->end % 60,
			    p->slots_per_day, p->slot_length);
			return -1;
		}
		if (w->end + block > 24 * 60) {
			snprintf(err, errlen,
			         "window %s %02d:%02d-%02d:%02d is too late for %d slots of %d "
			         "minutes: a "
			         "day's slots must end by 24:00",
			         day_names[w->weekday], w->start / 60, w->start % 60, w->end / 60,
			         w->end % 60, p->slots_per_day, p->slot_length);
			return -1;
		}
	}
	return 0;
}

/* The time brand `b` had on `day` in `pl`, or -1. */
static int brand_time(const struct plan *pl, int64_t day, size_t b)
{
	for (size_t i = 0; pl && i < pl->n; i++)
		if (pl->slots[i].day == day && pl->slots[i].brand == b)
			return pl->slots[i].start;
	return -1;
}

/* The rotation offset (the brand in the first position) of the last block that starts
 * before (day, start) in `pl`, or -1 when there is none. */
static int last_offset(const struct plan *pl, size_t n_brands, int64_t day, int start)
{
	const struct plan_slot *last = NULL;
	for (size_t i = 0; pl && i < pl->n; i++) {
		const struct plan_slot *s = &pl->slots[i];
		if (s->day > day || (s->day == day && s->start >= start))
			continue;
		if (!last || s->day > last->day || (s->day == last->day && s->start > last->start))
			last = s;
	}
	if (!last)
		return -1;
	return (int)((last->brand + n_brands - (size_t)last->pos % n_brands) % n_brands);
}

static int push(struct plan *pl, size_t *cap, int64_t day, int start, size_t brand, int pos)
{
	if (pl->n == *cap) {
		size_t nc = *cap ? *cap * 2 : 32;
		struct plan_slot *v = realloc(pl->slots, nc * sizeof *v);
		if (!v)
			return -1;
		pl->slots = v;
		*cap = nc;
	}
	pl->slots[pl->n++] = (struct plan_slot){day, start, brand, pos};
	return 0;
}

int plan_make(const struct plan_params *p, int64_t first_day, const struct plan *prev,
              plan_rand_fn rnd, void *rnd_data, struct plan *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof *out);
	if (plan_check(p, err, errlen) < 0)
		return -1;
	size_t cap = 0, N = p->n_brands, S = (size_t)p->slots_per_day;
	int L = p->slot_length;
	int prev_off = -1; /* offset of the previous block, this plan or `prev` */
	bool prev_off_known = false;
	for (int64_t day = first_day; day < first_day + 7 * (int64_t)p->weeks; day++) {
		int wd = chored_weekday(day);
		for (size_t wi = 0; wi < p->n_windows; wi++) {
			const struct plan_window *w = &p->windows[wi];
			if (w->weekday != wd)
				continue;
			if (!prev_off_known) {
				prev_off = last_offset(prev, N, day, w->start);
				prev_off_known = true;
			}
			/* Every (start, offset) pair that keeps both rules. */
			int n_starts = (w->end - w->start) / p->granularity + 1;
			uint64_t n_valid = 0;
			for (int pass = 0; pass < 2; pass++) {
				uint64_t pick = pass ? rnd(rnd_data, n_valid) : 0, k = 0;
				for (int si = 0; si < n_starts; si++) {
					int start = w->start + si * p->granularity;
					for (size_t off = 0; off < N; off++) {
						if ((int)off == prev_off && N > 1)
							continue;
						bool ok = true;
						for (size_t i = 0; i < S && ok; i++) {
							size_t b = (off + i) % N;
							int t = start + (int)i * L;
							if (brand_time(out, day - 7, b) == t ||
							    brand_time(prev, day - 7, b) == t)
								ok = false;
						}
						if (!ok)
							continue;
						if (pass == 0) {
							n_valid++;
							continue;
						}
						if (k++ != pick)
							continue;
						for (size_t i = 0; i < S; i++)
							if (push(out, &cap, day, start + (int)i * L,
							         (off + i) % N, (int)i) < 0) {
								snprintf(err, errlen,
								         "out of memory");
								plan_free(out);
								return -1;
							}
						prev_off = (int)off;
						goto placed;
					}
				}
				if (pass == 0 && n_valid == 0) {
					char d[16];
					fmt_day(day, d, sizeof d);
					snprintf(
					    err, errlen,
					    "no placement on %s (%s %02d:%02d-%02d:%02d) gives "
					    "every brand a "
					    "new time and position: widen the window or add brands",
					    d, day_names[wd], w->start / 60, w->start % 60,
					    w->end / 60, w->end % 60);
					plan_free(out);
					return -1;
				}
			}
		placed:;
		}
	}
	return 0;
}

void plan_free(struct plan *pl)
{
	free(pl->slots);
	pl->slots = NULL;
	pl->n = 0;
}

void plan_seeded_init(struct plan_seeded *s, uint64_t seed)
{
	memset(s, 0, sizeof *s);
	s->seed = seed;
	s->used = sizeof s->block; /* empty: refill on first use */
}

static uint64_t seeded_u64(struct plan_seeded *s)
{
	if (s->used + 8 > sizeof s->block) {
		unsigned char in[16];
		for (int i = 0; i < 8; i++) {
			in[i] = (unsigned char)(s->seed >> (8 * i));
			in[8 + i] = (unsigned char)(s->counter >> (8 * i));
		}
		s->counter++;
		unsigned int len = 0;
		EVP_Digest(in, sizeof in, s->block, &len, EVP_sha256(), NULL);
		s->used = 0;
	}
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v |= (uint64_t)s->block[s->used + (size_t)i] << (8 * i);
	s->used += 8;
	return v;
}

/* Uniform in [0, n) by rejection, so no value is favoured by the modulo. */
static uint64_t uniform(uint64_t (*next)(void *), void *data, uint64_t n)
{
	if (n <= 1)
		return 0;
	uint64_t limit = UINT64_MAX - UINT64_MAX % n;
	for (;;) {
		uint64_t v = next(data);
		if (v < limit)
			return v % n;
	}
}

static uint64_t seeded_next(void *data)
{
	return seeded_u64(data);
}

uint64_t plan_seeded_rand(void *data, uint64_t n)
{
	return uniform(seeded_next, data, n);
}

static uint64_t os_next(void *data)
{
	(void)data;
	uint64_t v = 0;
	if (RAND_bytes((unsigned char *)&v, sizeof v) != 1)
		abort(); /* no entropy: never plan with a predictable stream */
	return v;
}

uint64_t plan_os_rand(void *data, uint64_t n)
{
	return uniform(os_next, data, n);
}

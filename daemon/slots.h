/* Pure schedule arithmetic for the daemon (design §6): the next slot, the random jitter
 * delay, the slots to catch up after downtime, and retry delays. No clock, no I/O: the
 * caller passes "now" and random numbers, so every rule is unit-tested exactly. */
#ifndef CHORED_SCHED_H
#define CHORED_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

/* Upper bound of the slots one catch-up replays (catchup = all without catchup_max). */
#define SCHED_CATCHUP_HARD_MAX 1000
/* Slots walked at most while looking for missed ones (a per-second schedule down for
 * ~11 days); older slots are not considered. */
#define SCHED_CATCHUP_WALK_MAX 1000000

/* The first calendar slot of `job` strictly after `after` (UTC seconds); false for
 * @reboot, manual, or a schedule that never fires again. */
bool sched_next(const struct cfg_job *job, int64_t after, int64_t *next);

/* The random delay of one firing, in ns, uniform in [0, jitter_s] seconds, from a
 * uniform 64-bit random number. 0 when jitter_s <= 0. The nominal slot is unchanged. */
int64_t sched_jitter_ns(int64_t jitter_s, uint64_t rnd);

/* What a catch-up leaves out: every calendar slot s with stamp < s <= now is found; the
 * ones not returned to run are missed. first/last are the oldest and newest missed slot
 * (0 when none); capped: the walk stopped at SCHED_CATCHUP_WALK_MAX slots, so more were
 * missed than counted. */
struct sched_gap {
	size_t found;
	size_t missed;
	int64_t first, last;
	bool capped;
};

/* The slots to run now for `job` whose last begun slot is `stamp`: the calendar slots s
 * with stamp < s <= now, filtered by the job's catchup policy: none → none, latest → the
 * newest one, all → every one, oldest first; then only the newest catchup_max (when set)
 * and only those with s > now - catchup_within (when set). Writes at most `cap` slots
 * (the newest ones) to out and returns their number. *gap (may be NULL) receives what was
 * found and what is missed (the slots found but not returned). */
size_t sched_catchup(const struct cfg_job *job, int64_t stamp, int64_t now, int64_t *out,
                     size_t cap, struct sched_gap *gap);

/* The delay before retry number `attempt` (1 = the first retry), in ms:
 * retry_delay_s * 2^(attempt-1), capped at one day, times a random factor in
 * [0.75, 1.25] taken from `rnd`. */
int64_t sched_retry_delay_ms(int64_t retry_delay_s, unsigned attempt, uint64_t rnd);

#endif

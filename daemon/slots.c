/* Pure slot arithmetic: see slots.h. */
#include "slots.h"

#include <string.h>

#include "cron.h"

bool sched_next(const struct cfg_job *job, int64_t after, int64_t *next)
{
	if (job->schedule.kind != CRON_CALENDAR)
		return false;
	return cron_next(&job->schedule, job->tz, after, next);
}

int64_t sched_jitter_ns(int64_t jitter_s, uint64_t rnd)
{
	if (jitter_s <= 0)
		return 0;
	uint64_t span = (uint64_t)jitter_s * UINT64_C(1000000000) + 1;
	return (int64_t)(rnd % span);
}

size_t sched_catchup(const struct cfg_job *job, int64_t stamp, int64_t now, int64_t *out,
                     size_t cap, struct sched_gap *gap)
{
	struct sched_gap g = {0};
	if (gap)
		*gap = g;
	if (job->schedule.kind != CRON_CALENDAR || stamp >= now)
		return 0;
	size_t keep = cap;
	if (job->catchup == CFG_CATCHUP_NONE)
		keep = 0;
	else if (job->catchup == CFG_CATCHUP_LATEST)
		keep = 1;
	else if (job->catchup_max && job->catchup_max < keep)
		keep = job->catchup_max;
	if (keep > SCHED_CATCHUP_HARD_MAX)
		keep = SCHED_CATCHUP_HARD_MAX;
	if (keep > cap)
		keep = cap;
	int64_t from = stamp;
	if (job->catchup_within > 0 && now - job->catchup_within > from)
		from = now - job->catchup_within; /* only slots > now - within */
	/* Walk forward from the stamp; `out` is a ring holding the newest `keep` slots, `pred`
	 * the slot before each (stamp for the first), so the newest missed one is known. */
	int64_t pred[SCHED_CATCHUP_HARD_MAX];
	size_t n = 0, head = 0, walked = 0;
	int64_t t = stamp, s;
	for (; walked < SCHED_CATCHUP_WALK_MAX && sched_next(job, t, &s) && s <= now; walked++) {
		if (!g.found++)
			g.first = s;
		int64_t before = t;
		t = s;
		if (s <= from || keep == 0)
			continue;
		if (n < keep) {
			pred[n] = before;
			out[n++] = s;
		} else {
			pred[head] = before;
			out[head] = s;
			head = (head + 1) % keep;
		}
	}
	g.capped = walked == SCHED_CATCHUP_WALK_MAX && sched_next(job, t, &s) && s <= now;
	/* Rotate the ring so that the oldest kept slot comes first. */
	if (n == keep && head) {
		int64_t tmp[SCHED_CATCHUP_HARD_MAX];
		memcpy(tmp, out + head, (n - head) * sizeof *out);
		memcpy(tmp + (n - head), out, head * sizeof *out);
		memcpy(out, tmp, n * sizeof *out);
		memcpy(tmp, pred + head, (n - head) * sizeof *pred);
		memcpy(tmp + (n - head), pred, head * sizeof *pred);
		memcpy(pred, tmp, n * sizeof *pred);
	}
	g.missed = g.found - n;
	if (g.missed)
		g.last = n ? pred[0] : t; /* the kept slots are the newest: the rest precede them */
	else
		g.first = 0;
	if (gap)
		*gap = g;
	return n;
}

int64_t sched_retry_delay_ms(int64_t retry_delay_s, unsigned attempt, uint64_t rnd)
{
	const int64_t day_ms = INT64_C(86400000);
	if (retry_delay_s < 0)
		retry_delay_s = 0;
	if (attempt < 1)
		attempt = 1;
	int64_t base = retry_delay_s * 1000;
	for (unsigned i = 1; i < attempt && base < day_ms; i++)
		base *= 2;
	if (base > day_ms)
		base = day_ms;
	/* factor in [0.75, 1.25] with 1/10000 resolution */
	int64_t permille = 7500 + (int64_t)(rnd % 5001);
	return base * permille / 10000;
}

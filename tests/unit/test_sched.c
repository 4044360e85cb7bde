/* Pure schedule arithmetic of the daemon (daemon/slots.c): next slot, jitter bounds,
 * catch-up slot lists for none/latest/all with catchup_max and catchup_within and the
 * missed slots they leave out, retry delays; the missed-run summaries (missed_text.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "cron.h"
#include "missed.h"
#include "slots.h"
#include "tz.h"

/* A job with schedule `expr` in UTC and the given catch-up policy. */
static struct cfg_job job_with(const char *expr, enum cfg_catchup catchup, unsigned max,
                               int64_t within)
{
	struct cfg_job j;
	char err[200];
	memset(&j, 0, sizeof j);
	if (cron_parse(expr, &j.schedule, err, sizeof err) != 0)
		fail_msg("cron_parse(%s): %s", expr, err);
	j.tz = tz_utc();
	j.catchup = catchup;
	j.catchup_max = max;
	j.catchup_within = within;
	return j;
}

static void next_slot(void **s)
{
	(void)s;
	struct cfg_job j = job_with("*/2 * * * * *", CFG_CATCHUP_NONE, 0, 0);
	int64_t n;
	assert_true(sched_next(&j, 100, &n));
	assert_int_equal(n, 102);
	assert_true(sched_next(&j, 101, &n));
	assert_int_equal(n, 102);
	struct cfg_job m = job_with("manual", CFG_CATCHUP_NONE, 0, 0);
	assert_false(sched_next(&m, 100, &n));
	struct cfg_job r = job_with("@reboot", CFG_CATCHUP_NONE, 0, 0);
	assert_false(sched_next(&r, 100, &n));
}

static void jitter_bounds(void **s)
{
	(void)s;
	assert_int_equal(sched_jitter_ns(0, 12345), 0);
	assert_int_equal(sched_jitter_ns(-3, 12345), 0);
	assert_int_equal(sched_jitter_ns(5, 0), 0);
	/* The whole range [0, 5 s] is reachable, and nothing beyond it. */
	assert_int_equal(sched_jitter_ns(5, 5000000000u), 5000000000);
	assert_int_equal(sched_jitter_ns(5, 5000000001u), 0);
	srand(7);
	int64_t lo = INT64_MAX, hi = 0;
	for (int i = 0; i < 100000; i++) {
		uint64_t rnd =
		    ((uint64_t)rand() << 33) ^ ((uint64_t)rand() << 11) ^ (uint64_t)rand();
		int64_t d = sched_jitter_ns(3, rnd);
		assert_true(d >= 0 && d <= 3000000000);
		lo = d < lo ? d : lo;
		hi = d > hi ? d : hi;
	}
	/* Spread over the range, not stuck at one end. */
	assert_true(lo < 100000000);
	assert_true(hi > 2900000000);
}

static void assert_slots(const int64_t *got, size_t n, const int64_t *want, size_t wn)
{
	assert_int_equal(n, wn);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(got[i], want[i]);
}

static void catchup_policies(void **s)
{
	(void)s;
	int64_t out[16];
	struct sched_gap gap;
	/* Every 2 s; last begun slot 1000, now 1005: 1002 and 1004 were missed. */
	struct cfg_job none = job_with("*/2 * * * * *", CFG_CATCHUP_NONE, 0, 0);
	assert_int_equal(sched_catchup(&none, 1000, 1005, out, 16, &gap), 0);
	assert_int_equal(gap.found, 2);

	struct cfg_job latest = job_with("*/2 * * * * *", CFG_CATCHUP_LATEST, 0, 0);
	size_t n = sched_catchup(&latest, 1000, 1005, out, 16, &gap);
	assert_slots(out, n, (int64_t[]){1004}, 1);
	assert_int_equal(gap.found, 2);

	struct cfg_job all = job_with("*/2 * * * * *", CFG_CATCHUP_ALL, 0, 0);
	n = sched_catchup(&all, 1000, 1005, out, 16, NULL);
	assert_slots(out, n, (int64_t[]){1002, 1004}, 2);
	/* A slot equal to now counts as due. */
	n = sched_catchup(&all, 1000, 1004, out, 16, NULL);
	assert_slots(out, n, (int64_t[]){1002, 1004}, 2);
	/* Nothing missed: stamp is the newest slot. */
	assert_int_equal(sched_catchup(&all, 1004, 1005, out, 16, &gap), 0);
	assert_int_equal(gap.found, 0);
	assert_int_equal(sched_catchup(&all, 1005, 1005, out, 16, NULL), 0);
}

static void catchup_limits(void **s)
{
	(void)s;
	int64_t out[16];
	struct sched_gap gap;
	/* 10 missed slots 1002 … 1020. */
	struct cfg_job max3 = job_with("*/2 * * * * *", CFG_CATCHUP_ALL, 3, 0);
	size_t n = sched_catchup(&max3, 1000, 1021, out, 16, &gap);
	assert_int_equal(gap.found, 10);
	assert_slots(out, n, (int64_t[]){1016, 1018, 1020}, 3);

	/* within 5 s: only slots > 1016. */
	struct cfg_job within = job_with("*/2 * * * * *", CFG_CATCHUP_ALL, 0, 5);
	n = sched_catchup(&within, 1000, 1021, out, 16, NULL);
	assert_slots(out, n, (int64_t[]){1018, 1020}, 2);

	/* Both: the tighter one wins. */
	struct cfg_job both = job_with("*/2 * * * * *", CFG_CATCHUP_ALL, 1, 10);
	n = sched_catchup(&both, 1000, 1021, out, 16, NULL);
	assert_slots(out, n, (int64_t[]){1020}, 1);

	/* latest with within: the newest slot is too old → nothing. */
	struct cfg_job old = job_with("*/10 * * * * *", CFG_CATCHUP_LATEST, 0, 3);
	n = sched_catchup(&old, 1000, 1015, out, 16, &gap);
	assert_int_equal(n, 0);
	assert_int_equal(gap.found, 1);

	/* The caller's buffer bounds the list: the newest slots are kept, oldest first. */
	struct cfg_job all = job_with("*/2 * * * * *", CFG_CATCHUP_ALL, 0, 0);
	n = sched_catchup(&all, 1000, 1021, out, 4, NULL);
	assert_slots(out, n, (int64_t[]){1014, 1016, 1018, 1020}, 4);

	/* Not calendar schedules: never caught up. */
	struct cfg_job manual = job_with("manual", CFG_CATCHUP_ALL, 0, 0);
	assert_int_equal(sched_catchup(&manual, 1000, 1021, out, 16, NULL), 0);
}

/* What each policy leaves out: count, oldest and newest missed slot. */
static void catchup_gaps(void **s)
{
	(void)s;
	int64_t out[16];
	struct sched_gap gap;
	/* Every 2 s, stamp 1000, now 1009: slots 1002 … 1008. */
	struct cfg_job none = job_with("*/2 * * * * *", CFG_CATCHUP_NONE, 0, 0);
	assert_int_equal(sched_catchup(&none, 1000, 1009, out, 16, &gap), 0);
	assert_int_equal(gap.found, 4);
	assert_int_equal(gap.missed, 4);
	assert_int_equal(gap.first, 1002);
	assert_int_equal(gap.last, 1008);
	assert_false(gap.capped);

	struct cfg_job latest = job_with("*/2 * * * * *", CFG_CATCHUP_LATEST, 0, 0);
	size_t n = sched_catchup(&latest, 1000, 1009, out, 16, &gap);
	assert_slots(out, n, (int64_t[]){1008}, 1);
	assert_int_equal(gap.missed, 3);
	assert_int_equal(gap.first, 1002);
	assert_int_equal(gap.last, 1006);

	/* all with catchup_max 2: 1006 and 1008 run, 1002 and 1004 are missed. */
	struct cfg_job max2 = job_with("*/2 * * * * *", CFG_CATCHUP_ALL, 2, 0);
	n = sched_catchup(&max2, 1000, 1009, out, 16, &gap);
	assert_slots(out, n, (int64_t[]){1006, 1008}, 2);
	assert_int_equal(gap.missed, 2);
	assert_int_equal(gap.first, 1002);
	assert_int_equal(gap.last, 1004);

	/* A ring that wrapped (10 slots, max 3): the newest missed is the one before 1016. */
	struct cfg_job max3 = job_with("*/2 * * * * *", CFG_CATCHUP_ALL, 3, 0);
	n = sched_catchup(&max3, 1000, 1021, out, 16, &gap);
	assert_slots(out, n, (int64_t[]){1016, 1018, 1020}, 3);
	assert_int_equal(gap.missed, 7);
	assert_int_equal(gap.first, 1002);
	assert_int_equal(gap.last, 1014);

	/* all within 5 s: only slots > 1004 run. */
	struct cfg_job within = job_with("*/2 * * * * *", CFG_CATCHUP_ALL, 0, 5);
	n = sched_catchup(&within, 1000, 1009, out, 16, &gap);
	assert_slots(out, n, (int64_t[]){1006, 1008}, 2);
	assert_int_equal(gap.missed, 2);
	assert_int_equal(gap.last, 1004);

	/* all, nothing left out. */
	struct cfg_job all = job_with("*/2 * * * * *", CFG_CATCHUP_ALL, 0, 0);
	n = sched_catchup(&all, 1000, 1009, out, 16, &gap);
	assert_int_equal(n, 4);
	assert_int_equal(gap.missed, 0);
	assert_int_equal(gap.first, 0);
	assert_int_equal(gap.last, 0);

	/* latest whose newest slot is too old for catchup_within: everything is missed. */
	struct cfg_job old = job_with("*/10 * * * * *", CFG_CATCHUP_LATEST, 0, 3);
	assert_int_equal(sched_catchup(&old, 1000, 1025, out, 16, &gap), 0);
	assert_int_equal(gap.missed, 2);
	assert_int_equal(gap.first, 1010);
	assert_int_equal(gap.last, 1020);

	/* Every second for two weeks: the walk stops, and says so. */
	struct cfg_job sec = job_with("* * * * * *", CFG_CATCHUP_NONE, 0, 0);
	assert_int_equal(sched_catchup(&sec, 0, 14 * 86400, out, 16, &gap), 0);
	assert_true(gap.capped);
	assert_int_equal(gap.missed, SCHED_CATCHUP_WALK_MAX);
	assert_int_equal(gap.first, 1);
	assert_int_equal(gap.last, SCHED_CATCHUP_WALK_MAX);
}

/* 2026-11-23T02:00:00Z */
#define T0 INT64_C(1795399200)

static void missed_summaries(void **s)
{
	(void)s;
	char buf[200];
	assert_string_equal(
	    missed_summary(buf, sizeof buf, "chored was not running", 3, false, T0, T0 + 7200),
	    "missed: chored was not running (3 slots, 2026-11-23 02:00\u201304:00 UTC)");
	assert_string_equal(
	    missed_summary(buf, sizeof buf, "run 7 still in progress", 1, false, T0 + 5, T0 + 5),
	    "missed: run 7 still in progress (1 slot, 2026-11-23 02:00:05 UTC)");
	/* Across midnight: both dates. */
	assert_string_equal(missed_summary(buf, sizeof buf, "x", 2, false, T0 - 3 * 3600, T0),
	                    "missed: x (2 slots, 2026-11-22 23:00 \u2013 2026-11-23 02:00 UTC)");
	/* Seconds when either end has some; a capped count says "at least". */
	assert_string_equal(
	    missed_summary(buf, sizeof buf, "x", 1000000, true, T0, T0 + 61),
	    "missed: x (at least 1000000 slots, 2026-11-23 02:00:00\u201302:01:01 UTC)");
	/* Cut to the buffer, still terminated. */
	char small[12];
	missed_summary(small, sizeof small, "chored was not running", 3, false, T0, T0);
	assert_string_equal(small, "missed: cho");
}

static void retry_delays(void **s)
{
	(void)s;
	/* rnd % 5001 == 2500 → factor exactly 1. */
	assert_int_equal(sched_retry_delay_ms(10, 1, 2500), 10000);
	assert_int_equal(sched_retry_delay_ms(10, 2, 2500), 20000);
	assert_int_equal(sched_retry_delay_ms(10, 3, 2500), 40000);
	/* Jitter bounds: -25 % and +25 %. */
	assert_int_equal(sched_retry_delay_ms(10, 1, 0), 7500);
	assert_int_equal(sched_retry_delay_ms(10, 1, 5000), 12500);
	assert_int_equal(sched_retry_delay_ms(10, 1, 5001), 7500);
	/* Capped at one day before the jitter. */
	assert_int_equal(sched_retry_delay_ms(3600, 30, 2500), 86400000);
	assert_int_equal(sched_retry_delay_ms(0, 4, 2500), 0);
	srand(3);
	for (int i = 0; i < 10000; i++) {
		int64_t d = sched_retry_delay_ms(4, 2, (uint64_t)rand());
		assert_true(d >= 6000 && d <= 10000);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(next_slot),        cmocka_unit_test(jitter_bounds),
	    cmocka_unit_test(catchup_policies), cmocka_unit_test(catchup_limits),
	    cmocka_unit_test(catchup_gaps),     cmocka_unit_test(missed_summaries),
	    cmocka_unit_test(retry_delays),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* cron_next throughput: median ns per call for the production schedules in UTC and in a DST
 * zone, against the 200 ns target. Each call starts from the previous result, so the walk
 * moves forward through months, DST transitions and year ends as a daemon would; it restarts
 * at 2026 when it passes 2126. */
#include <stdio.h>
#include <stdlib.h>

#include "bench_util.h"
#include "civil.h"
#include "cron.h"
#include "tz.h"

#define TARGET_NS 200.0
#define REPS      15
#define CALLS     200000

static const char *const exprs[] = {
    "*/15 * * * *", "0 3 1 * *", "0 21 * * SUN", "0 5 1 1,7 *", "59 23 LW * *",
};
static const char *const zones[] = {"UTC", "Europe/Paris"};

/* Median ns per call over REPS runs of CALLS calls, each run restarting at 2026-01-01. */
static double measure(const struct cron *c, const struct tz *z)
{
	double per_call[REPS];
	const int64_t start = INT64_C(1767225600);   /* 2026-01-01T00:00:00Z */
	const int64_t horizon = INT64_C(4922899200); /* 2126-01-01T00:00:00Z */
	for (int r = 0; r < REPS; r++) {
		int64_t t = start;
		int64_t t0 = bench_now_ns();
		for (int i = 0; i < CALLS; i++) {
			int64_t next;
			/* These schedules always fire again; restart past a daemon's horizon. */
			if (!cron_next(c, z, t, &next) || next >= horizon)
				next = start;
			t = next;
		}
		int64_t t1 = bench_now_ns();
		bench_sink(t);
		per_call[r] = (double)(t1 - t0) / CALLS;
	}
	return bench_median(per_call, REPS);
}

int main(void)
{
	size_t ne = sizeof exprs / sizeof exprs[0], nz = sizeof zones / sizeof zones[0];
	double result[sizeof exprs / sizeof exprs[0]][sizeof zones / sizeof zones[0]];
	int over = 0;
	for (size_t e = 0; e < ne; e++) {
		struct cron c;
		char err[256];
		if (cron_parse(exprs[e], &c, err, sizeof err) != 0) {
			fprintf(stderr, "bench_next: '%s': %s\n", exprs[e], err);
			return 1;
		}
		for (size_t k = 0; k < nz; k++) {
			const struct tz *z = tz_get(zones[k], err, sizeof err);
			if (!z) {
				fprintf(stderr, "bench_next: zone %s: %s\n", zones[k], err);
				return 1;
			}
			result[e][k] = measure(&c, z);
			printf("cron_next '%s' %s: median %.1f ns/call (%d reps x %d calls)\n",
			       exprs[e], zones[k], result[e][k], REPS, CALLS);
		}
	}
	printf("\n%-16s", "schedule");
	for (size_t k = 0; k < nz; k++)
		printf(" | %14s ns  ratio", zones[k]);
	printf("\n");
	for (size_t e = 0; e < ne; e++) {
		printf("%-16s", exprs[e]);
		for (size_t k = 0; k < nz; k++) {
			printf(" | %17.1f  %5.2f", result[e][k], result[e][k] / TARGET_NS);
			over += result[e][k] > TARGET_NS;
		}
		printf("\n");
	}
	printf("target %.0f ns/call; ratio = median / target (<= 1.00 meets it); %d over target\n",
	       TARGET_NS, over);
	return 0;
}

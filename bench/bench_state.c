/* The state store's share of the daemon's per-run budget (1 ms in total): one
 * state_run_begin plus one state_run_finish with 20 log lines, a counters object, one
 * plugin state change and the history trim (100 runs kept), on a disk-backed file:
 * spaced out like the daemon's writes, then back to back (where checkpoints land inside
 * the measured calls). */
#include "bench_util.h"
#include "state.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RUNS      2000
#define LINES     20
#define BUDGET_MS 1.0

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *f)
{
	(void)sb;
	(void)flag;
	(void)f;
	return remove(p);
}

/* RUNS begin+finish pairs on a fresh store, with `gap_us` of idle time after each (the
 * daemon's pattern: the store is written in bursts, and checkpoints happen in the gaps).
 * Prints one line; returns 0 or 1. */
static int measure(const char *base, const char *label, unsigned gap_us)
{
	char dir[256], db[300], err[512];
	snprintf(dir, sizeof dir, "%s/bench-state-XXXXXX", base);
	if (!mkdtemp(dir)) {
		perror("bench_state: mkdtemp");
		return 1;
	}
	snprintf(db, sizeof db, "%s/state.db", dir);
	struct state *st;
	if (state_open(db, &st, err, sizeof err) < 0) {
		fprintf(stderr, "bench_state: %s\n", err);
		return 1;
	}
	struct state_log_line lines[LINES];
	char texts[LINES][96];
	for (int i = 0; i < LINES; i++) {
		snprintf(texts[i], sizeof texts[i],
		         "fetched page %d of %d from https://example.com/", i + 1, LINES);
		lines[i] = (struct state_log_line){0, i % 2 ? "out" : "log", 6, texts[i],
		                                   i % 2 ? NULL : "{\"page\":1,\"items\":25}"};
	}
	static double ms[RUNS];
	int64_t now = 1800000000000;
	for (int i = 0; i < RUNS; i++) {
		char cursor[32];
		snprintf(cursor, sizeof cursor, "c%d", i);
		struct state_kv_change kv = {"cursor", cursor};
		int64_t t0 = bench_now_ns(), id;
		if (state_run_begin(st, "bench", now / 1000 + i, 0, TRIG_SCHEDULE, false, now, &id,
		                    err, sizeof err) != 0 ||
		    state_run_finish(st, id, RUN_OK, 0, "20 pages", "{\"pages\":20}", lines, LINES,
		                     &kv, 1, now + 5, 100, err, sizeof err) != 0) {
			fprintf(stderr, "bench_state: %s\n", err);
			return 1;
		}
		ms[i] = (double)(bench_now_ns() - t0) / 1e6;
		if (gap_us)
			usleep(gap_us);
	}
	state_close(st);
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	double med = bench_median(ms, RUNS); /* sorts ms */
	printf("state begin+finish, %d log lines, history 100, %s: median %.3f ms, p90 %.3f ms, "
	       "p99 %.3f ms over %d runs; budget %.1f ms per run, ratio %.2f\n",
	       LINES, label, med, ms[RUNS * 9 / 10], ms[RUNS * 99 / 100], RUNS, BUDGET_MS,
	       med / BUDGET_MS);
	return 0;
}

int main(void)
{
	/* /var/tmp, not /tmp: /tmp may be tmpfs, where an fsync costs nothing. */
	const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/var/tmp";
	return measure(base, "1 ms apart", 1000) || measure(base, "back to back", 0);
}

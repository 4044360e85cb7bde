/* Idle daemon (issue 7): 100 jobs whose next slot is months away, nothing due. Over
 * CHORED_BENCH_IDLE_SECONDS (default 60) after start-up has settled, a wake-up is any
 * context switch of the daemon: the increase of voluntary + nonvoluntary switches summed
 * over every thread in /proc/PID/task. Target 0 per minute (one timer armed for the earliest
 * slot, no periodic ticks). RSS (VmRSS) at the end, target <= 16 MB. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_harness.h"
#include "bench_util.h"

#define N_JOBS    100
#define RSS_MB    16.0
#define SETTLE_NS INT64_C(2000000000)

int main(void)
{
	long seconds = bh_env_long("CHORED_BENCH_IDLE_SECONDS", 60, 1);
	/* Midnight on the first day of a month six months ahead: never due during the bench,
	 * whatever today is. */
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	int month = (tm.tm_mon + 6) % 12 + 1;

	char *dir = bh_tmpdir("idle");
	size_t cap = N_JOBS * 128 + 64, len = 0;
	char *jobs = malloc(cap);
	if (!jobs)
		return 1;
	for (int i = 0; i < N_JOBS; i++)
		len +=
		    (size_t)snprintf(jobs + len, cap - len,
		                     "[job idle-%03d]\nplugin = testplug\nschedule = %d 0 1 %d *\n"
		                     "mode = ok\n\n",
		                     i, i % 60, month);
	bh_write_main_conf(dir, jobs);
	free(jobs);
	printf("idle bench: %d jobs due in month %d, %ld s window (CHORED_BENCH_IDLE_SECONDS "
	       "to change)\n",
	       N_JOBS, month, seconds);
	fflush(stdout);

	bh_print_machine();
	fflush(stdout);
	struct bh_daemon d;
	bh_start(&d, dir);
	bh_wait_ready(&d, 30);
	/* Let the answer to our GET /healthz and any start-up work finish. */
	int64_t settle = bench_now_ns() + SETTLE_NS;
	while (bh_read_line(&d, settle, NULL))
		;
	int threads0, threads1;
	int64_t c0 = bh_ctxt_switches(d.pid, &threads0);
	int64_t t0 = bench_now_ns();
	size_t lines0 = d.n_lines;
	/* Reading its stderr pipe never wakes the daemon; lines here would be a finding. */
	int64_t end = t0 + seconds * INT64_C(1000000000);
	while (bh_read_line(&d, end, NULL))
		;
	int64_t c1 = bh_ctxt_switches(d.pid, &threads1);
	double window_s = (double)(bench_now_ns() - t0) / 1e9;
	long rss = bh_status_kb(d.pid, "VmRSS:"), hwm = bh_status_kb(d.pid, "VmHWM:");
	size_t lines = d.n_lines - lines0;
	bh_stop(&d);

	if (c0 < 0 || c1 < 0 || rss < 0) {
		printf("idle: MISSED (could not read /proc for chored)\n");
	} else {
		double per_min = (double)(c1 - c0) * 60.0 / window_s;
		double rss_mb = (double)rss / 1024.0;
		printf(
		    "idle daemon, %d jobs, %.1f s: %lld wake-ups = %.1f per minute (target 0%s); "
		    "%d thread%s; %zu log lines in the window\n",
		    N_JOBS, window_s, (long long)(c1 - c0), per_min, c1 > c0 ? " MISSED" : "",
		    threads1, threads1 == 1 ? "" : "s", lines);
		printf("idle daemon RSS: %.1f MB (%.2fx the %.0f MB target%s), peak %.1f MB\n",
		       rss_mb, rss_mb / RSS_MB, RSS_MB, bh_missed(rss_mb, RSS_MB),
		       (double)hwm / 1024.0);
	}
	bh_rmtree(dir);
	free(dir);
	return 0;
}

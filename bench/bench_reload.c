/* SIGHUP reload of 10,000 jobs (issue 7): target median <= 150 ms, with no slot missed or
 * doubled around it. 100 drop-ins of 100 jobs (mixed schedules and zones, all due months
 * from now) plus one every-second job `tick` (testplug mode=ok). CHORED_BENCH_RELOADS times
 * (default 10) one drop-in is rewritten and the daemon reloaded, alternately by SIGHUP (timed
 * from kill() to the daemon's "reload done" log line) and by POST /v1/reload (timed to its
 * answer), at varying phases within the second. Afterwards the state database must hold
 * exactly one run of `tick` for every second from 2 s before the first reload to 2 s after
 * the last. */
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <json-c/json.h>

#include "bench_harness.h"
#include "bench_util.h"

#define N_FILES   100
#define PER_FILE  100
#define TARGET_MS 150.0
#define NS        INT64_C(1000000000)

static const char *const zones[] = {"UTC", "Europe/Paris", "America/New_York", "Asia/Tokyo",
                                    "Australia/Sydney"};
/* Schedules as the text before and after the month field: every one stays in that month. */
static const char *const schedules[][2] = {
    {"*/15 * * ", " *"}, {"0 3 1 ", " *"},       {"0 0 L ", " *"},   {"0 9 * ", " 1#1"},
    {"30 2 15W ", " *"}, {"0 8 * ", " MON-FRI"}, {"0 */6 * ", " *"},
};

/* conf.d/NNN-jobs.conf; `rev` changes every job's schedule and description. */
static void write_dropin(const char *dir, int file, int rev, int month)
{
	size_t cap = PER_FILE * 256, len = 0;
	char *text = malloc(cap);
	if (!text)
		exit(1);
	for (int i = file * PER_FILE; i < (file + 1) * PER_FILE; i++) {
		char sched[64];
		const char *const *sc = schedules[(i + rev) % 7];
		snprintf(sched, sizeof sched, "%s%d%s", sc[0], month, sc[1]);
		len += (size_t)snprintf(
		    text + len, cap - len,
		    "[job job-%05d]\nplugin = testplug\nschedule = %s\n"
		    "timezone = %s\nmode = ok\ndescription = bench job %d rev %d\n\n",
		    i, sched, zones[i % 5], i, rev);
	}
	char rel[64];
	snprintf(rel, sizeof rel, "conf.d/%03d-jobs.conf", file);
	bh_write_file(dir, rel, text);
	free(text);
}

/* The reload duration chored logs itself ("reloaded: generation N, M jobs (X ms)"), or -1. */
static double own_ms = -1;

/* The daemon's log line that ends a reload: msg naming a reload that finished, failed or
 * was rejected. *ok tells which. */
static bool reload_end(const char *line, bool *ok)
{
	json_object *o = json_tokener_parse(line), *m;
	bool end = false;
	if (o && json_object_object_get_ex(o, "msg", &m)) {
		const char *msg = json_object_get_string(m);
		if (strstr(msg, "reload")) {
			if (strstr(msg, "fail") || strstr(msg, "reject") || strstr(msg, "keep"))
				end = true, *ok = false;
			else if (strstr(msg, "done") || strstr(msg, "complete") ||
			         strstr(msg, "reloaded") || strstr(msg, "generation"))
				end = true, *ok = true;
			const char *paren = strrchr(msg, '(');
			if (end && !(paren && sscanf(paren, "(%lf ms)", &own_ms) == 1))
				own_ms = -1;
		}
	}
	json_object_put(o);
	return end;
}

/* kill(SIGHUP) → "reload done" line, in ms; -1 when none came within 10 s. */
static double reload_by_signal(struct bh_daemon *d, bool *ok)
{
	int64_t t0 = bench_now_ns(), t1;
	kill(d->pid, SIGHUP);
	const char *line;
	while ((line = bh_read_line(d, t0 + 10 * NS, &t1)) != NULL)
		if (reload_end(line, ok))
			return (double)(t1 - t0) / 1e6;
	return -1;
}

/* POST /v1/reload → its answer, in ms; -1 when the API did not answer 200/422. */
static double reload_by_api(struct bh_daemon *d, bool *ok)
{
	char body[4096];
	int64_t t0 = bench_now_ns();
	int code = bh_http(d->sock, "POST", "/v1/reload", "{}", body, sizeof body);
	int64_t t1 = bench_now_ns();
	if (code != 200 && code != 422)
		return -1;
	/* Its log lines are read now, after the answer: they are not part of the timing. */
	const char *line;
	bool logged_ok;
	while ((line = bh_read_line(d, t1 + 2 * NS, NULL)) != NULL)
		if (reload_end(line, &logged_ok))
			break;
	*ok = code == 200;
	return (double)(t1 - t0) / 1e6;
}

/* Checks the runs of `tick` for slots [from, to]: one per second. Prints the verdict. */
static void check_slots(const char *dir, int64_t from, int64_t to)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/state.db", dir);
	sqlite3 *db;
	sqlite3_stmt *q;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db,
	                       "SELECT nominal, status, \"trigger\" FROM runs WHERE job = 'tick'"
	                       " AND nominal BETWEEN ?1 AND ?2 ORDER BY nominal, id",
	                       -1, &q, NULL) != SQLITE_OK) {
		printf("slots around the reloads: MISSED (state %s: %s)\n", path,
		       sqlite3_errmsg(db));
		sqlite3_close(db);
		return;
	}
	sqlite3_bind_int64(q, 1, from);
	sqlite3_bind_int64(q, 2, to);
	int64_t expect = from, missing = 0, doubled = 0, not_ok = 0, not_sched = 0, rows = 0;
	char first[256] = "";
	while (sqlite3_step(q) == SQLITE_ROW) {
		int64_t nominal = sqlite3_column_int64(q, 0);
		const char *status = (const char *)sqlite3_column_text(q, 1);
		const char *trig = (const char *)sqlite3_column_text(q, 2);
		rows++;
		not_ok += strcmp(status, "ok") != 0;
		not_sched += strcmp(trig, "schedule") != 0;
		if (nominal < expect) {
			doubled++;
			if (!*first)
				snprintf(first, sizeof first, "slot %lld ran twice",
				         (long long)nominal);
			continue;
		}
		if (nominal > expect && !*first)
			snprintf(first, sizeof first, "first missing slot %lld", (long long)expect);
		missing += nominal - expect;
		expect = nominal + 1;
	}
	missing += to + 1 - expect;
	if (expect <= to && !*first)
		snprintf(first, sizeof first, "slots from %lld on missing", (long long)expect);
	sqlite3_finalize(q);
	sqlite3_close(db);
	printf("slots of the every-second job from %lld to %lld (%lld s): %lld runs, %lld missed, "
	       "%lld doubled, %lld not ok, %lld not by schedule%s%s%s\n",
	       (long long)from, (long long)to, (long long)(to - from + 1), (long long)rows,
	       (long long)missing, (long long)doubled, (long long)not_ok, (long long)not_sched,
	       missing || doubled ? " MISSED (" : "", first, missing || doubled ? ")" : "");
}

static void report(const char *how, double *ms, size_t n, size_t failed)
{
	if (n == 0) {
		printf("reload of %d jobs by %s: MISSED, no reload completed\n", N_FILES * PER_FILE,
		       how);
		return;
	}
	bh_sort(ms, n);
	double med = bench_median(ms, n);
	printf("reload of %d jobs by %s: median %.1f ms (%.2fx the %.0f ms target%s), max %.1f "
	       "ms, n=%zu%s\n",
	       N_FILES * PER_FILE, how, med, med / TARGET_MS, TARGET_MS, bh_missed(med, TARGET_MS),
	       ms[n - 1], n, failed ? " (some reloads were rejected: MISSED)" : "");
}

int main(void)
{
	long reloads = bh_env_long("CHORED_BENCH_RELOADS", 10, 1);
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	int month = (tm.tm_mon + 6) % 12 + 1;

	char *dir = bh_tmpdir("reload");
	char sub[4200];
	snprintf(sub, sizeof sub, "%s/conf.d", dir);
	if (mkdir(sub, 0755) != 0) {
		perror(sub);
		return 1;
	}
	bh_write_main_conf(dir,
	                   "[job tick]\nplugin = testplug\nschedule = * * * * * *\nmode = ok\n");
	for (int f = 0; f < N_FILES; f++)
		write_dropin(dir, f, 0, month);
	printf("reload bench: %d jobs in %d drop-ins + one every-second job, %ld reloads by "
	       "SIGHUP and %ld by POST /v1/reload (CHORED_BENCH_RELOADS to change)\n",
	       N_FILES * PER_FILE, N_FILES, reloads, reloads);
	fflush(stdout);

	bh_print_machine();
	fflush(stdout);
	struct bh_daemon d;
	bh_start(&d, dir);
	double ready_s = bh_wait_ready(&d, 60);
	printf("chored with %d jobs ready after %.2f s, VmRSS %ld KiB\n", N_FILES * PER_FILE + 1,
	       ready_s, bh_status_kb(d.pid, "VmRSS:"));
	/* Let the tick job run a few slots before the first reload. */
	int64_t until = bench_now_ns() + 3 * NS;
	while (bh_read_line(&d, until, NULL))
		;

	double *sig = calloc((size_t)reloads, sizeof *sig),
	       *api = calloc((size_t)reloads, sizeof *api),
	       *own = calloc((size_t)reloads * 2, sizeof *own);
	size_t n_sig = 0, n_api = 0, n_own = 0, failed = 0;
	bool api_ok = true;
	int64_t from = bh_wall_ns() / NS - 2;
	for (long i = 0; i < reloads * 2; i++) {
		write_dropin(dir, (int)(i * 37 % N_FILES), (int)i + 1, month);
		bool ok = true;
		double ms;
		if (i % 2 == 0) {
			ms = reload_by_signal(&d, &ok);
			if (ms < 0) {
				printf("SIGHUP %ld: no reload-done log line within 10 s\n",
				       i / 2 + 1);
				break;
			}
			sig[n_sig++] = ms;
		} else if (api_ok) {
			ms = reload_by_api(&d, &ok);
			if (ms < 0) {
				printf("POST /v1/reload: no 200/422 answer; API reloads skipped\n");
				api_ok = false;
			} else {
				api[n_api++] = ms;
			}
		}
		failed += !ok;
		if (own_ms >= 0)
			own[n_own++] = own_ms;
		own_ms = -1;
		/* 600-1400 ms apart, so reloads land at every phase of the second. */
		int64_t pause = (600 + (i * 173) % 800) * INT64_C(1000000);
		until = bench_now_ns() + pause;
		while (bh_read_line(&d, until, NULL))
			;
	}
	int64_t to = bh_wall_ns() / NS + 2;
	/* Runs are recorded when they start; wait for slot `to` and one more. */
	while (bh_wall_ns() / NS <= to + 1)
		while (bh_read_line(&d, bench_now_ns() + 100000000, NULL))
			;
	bh_stop(&d);

	report("SIGHUP (kill -> 'reload done' log line)", sig, n_sig, failed);
	if (n_api || api_ok)
		report("POST /v1/reload (request -> answer)", api, n_api, failed);
	if (n_own) {
		bh_sort(own, n_own);
		printf("  as chored measures it (its 'reloaded: ... (X ms)' line): median %.1f ms, "
		       "max %.1f ms, n=%zu\n",
		       bench_median(own, n_own), own[n_own - 1], n_own);
	}
	check_slots(dir, from, to);
	free(own);
	free(sig);
	free(api);
	bh_rmtree(dir);
	free(dir);
	return 0;
}

/* The state store, one call at a time: names, opening and its errors, claiming slots,
 * finishing runs (log bound, plugin state, history trim), queries and the API's JSON. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <sys/stat.h>

#include "state.h"
#include "state_helpers.h"

struct fx {
	struct tdir t;
	struct state *st;
	char err[512];
};

static int setup(void **s)
{
	struct fx *f = calloc(1, sizeof *f);
	tdir_make(&f->t);
	if (state_open(f->t.db, &f->st, f->err, sizeof f->err) != 0) {
		fprintf(stderr, "# %s\n", f->err);
		return -1;
	}
	*s = f;
	return 0;
}

static int teardown(void **s)
{
	struct fx *f = *s;
	state_close(f->st);
	tdir_remove(&f->t);
	free(f);
	return 0;
}

/* Begins a keyed (schedule) run and returns its id. */
static int64_t begin(struct fx *f, const char *job, int64_t nominal, unsigned attempt)
{
	int64_t id = 0;
	assert_int_equal(state_run_begin(f->st, job, nominal, attempt, TRIG_SCHEDULE, false,
	                                 nominal * 1000 + 5, &id, f->err, sizeof f->err),
	                 0);
	assert_true(id > 0);
	return id;
}

static void finish(struct fx *f, int64_t id, enum run_status status, unsigned keep)
{
	assert_int_equal(state_run_finish(f->st, id, status, 0, "done", NULL, NULL, 0, NULL, 0,
	                                  2000000000000, keep, f->err, sizeof f->err),
	                 0);
}

static void test_names(void **s)
{
	(void)s;
	for (int i = RUN_RUNNING; i <= RUN_INTERRUPTED; i++) {
		enum run_status back;
		assert_int_equal(run_status_parse(run_status_name(i), &back), 0);
		assert_int_equal(back, i);
		assert_int_equal(run_status_final(i), i != RUN_RUNNING);
	}
	for (int i = TRIG_SCHEDULE; i <= TRIG_MANUAL; i++) {
		enum run_trigger back;
		assert_int_equal(run_trigger_parse(run_trigger_name(i), &back), 0);
		assert_int_equal(back, i);
	}
	enum run_status st;
	enum run_trigger tr;
	assert_string_equal(run_status_name(RUN_CRASHED), "crashed");
	assert_string_equal(run_trigger_name(TRIG_CATCHUP), "catchup");
	assert_int_equal(run_status_parse("OK", &st), -1);
	assert_int_equal(run_status_parse("", &st), -1);
	assert_int_equal(run_trigger_parse("cron", &tr), -1);
}

static void test_open_creates_private_wal_store(void **s)
{
	(void)s;
	struct tdir t;
	tdir_make(&t);
	char url[200], err[512];
	snprintf(url, sizeof url, "sqlite://%s", t.db);
	mode_t old = umask(0);
	struct state *st;
	int rc = state_open(url, &st, err, sizeof err);
	umask(old);
	assert_int_equal(rc, 0);
	assert_int_equal(state_meta_set(st, "boot_id", "abc"), 0); /* makes -wal and -shm */
	const char *suffix[] = {"", "-wal", "-shm"};
	for (int i = 0; i < 3; i++) {
		char p[200];
		struct stat sb;
		snprintf(p, sizeof p, "%s%s", t.db, suffix[i]);
		assert_int_equal(stat(p, &sb), 0);
		assert_int_equal(sb.st_mode & 0777, 0600);
	}
	char buf[64];
	assert_string_equal(raw_text(t.db, "PRAGMA journal_mode", buf, sizeof buf), "wal");
	assert_int_equal(raw_int(t.db, "PRAGMA user_version"), 1);
	state_close(st);
	/* Reopening keeps the data; the plain path form works too. */
	assert_int_equal(state_open(t.db, &st, err, sizeof err), 0);
	char *v = state_meta_get(st, "boot_id");
	assert_string_equal(v, "abc");
	free(v);
	state_close(st);
	tdir_remove(&t);
}

/* state_open must fail with a message holding every fragment in `want`. */
static void open_fails(const char *url, const char *want1, const char *want2)
{
	struct state *st = (struct state *)1;
	char err[512] = "";
	assert_int_equal(state_open(url, &st, err, sizeof err), -1);
	assert_null(st);
	if (!strstr(err, want1) || (want2 && !strstr(err, want2)))
		fail_msg("error for %s: \"%s\" lacks \"%s\" / \"%s\"", url, err, want1,
		         want2 ? want2 : "");
}

static void test_open_errors(void **s)
{
	(void)s;
	struct tdir t;
	tdir_make(&t);
	char p[256];
	open_fails("", "empty store URL", NULL);
	open_fails("state.db", "state.db: the store path must be absolute", NULL);
	open_fails("sqlite://rel/state.db", "must be absolute", NULL);
	open_fails("postgresql://db.example/chored", "unsupported store URL", NULL);
	snprintf(p, sizeof p, "%s/", t.dir);
	open_fails(p, "names a directory", NULL);
	snprintf(p, sizeof p, "%s/missing/state.db", t.dir);
	open_fails(p, p, "the parent directory must exist");
	/* Parent is a regular file. */
	snprintf(p, sizeof p, "%s/file", t.dir);
	FILE *fp = fopen(p, "w");
	fclose(fp);
	snprintf(p, sizeof p, "%s/file/state.db", t.dir);
	open_fails(p, p, "Not a directory");
	/* A directory where the file should be. */
	snprintf(p, sizeof p, "%s/dir.db", t.dir);
	assert_int_equal(mkdir(p, 0700), 0);
	open_fails(p, p, "not a regular file (a directory)");
	/* Nobody, root included, creates files in /proc. */
	open_fails("/proc/self/state.db", "state /proc/self/state.db: cannot create", NULL);
	if (geteuid() != 0) {
		snprintf(p, sizeof p, "%s/ro", t.dir);
		assert_int_equal(mkdir(p, 0500), 0);
		snprintf(p, sizeof p, "%s/ro/state.db", t.dir);
		open_fails(p, p, "Permission denied");
	}
	tdir_remove(&t);
}

static void write_file(const char *path, const char *data, size_t len, off_t at)
{
	int fd = open(path, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, data, len, at), (ssize_t)len);
	close(fd);
}

static void test_open_refuses_bad_files(void **s)
{
	(void)s;
	struct tdir t;
	tdir_make(&t);
	char garbage[8192];
	for (size_t i = 0; i < sizeof garbage; i++)
		garbage[i] = (char)(i * 7 + 3);
	write_file(t.db, garbage, sizeof garbage, 0);
	open_fails(t.db, t.db, "file is not a database");

	/* Another program's SQLite file. */
	unlink(t.db);
	assert_int_equal(raw_exec(t.db, "CREATE TABLE notes (x)"), SQLITE_OK);
	open_fails(t.db, t.db, "not a chored state store");

	/* A store from a newer chored. */
	unlink(t.db);
	struct state *st;
	char err[512];
	assert_int_equal(state_open(t.db, &st, err, sizeof err), 0);
	state_close(st);
	assert_int_equal(raw_exec(t.db, "PRAGMA user_version = 2"), SQLITE_OK);
	open_fails(t.db, t.db, "schema version 2 is newer than this chored supports (1)");
	tdir_remove(&t);
}

/* Garbage over everything past the header page: the store reports, never crashes. */
static void test_corrupt_pages(void **s)
{
	(void)s;
	struct tdir t;
	tdir_make(&t);
	struct state *st;
	char err[512];
	assert_int_equal(state_open(t.db, &st, err, sizeof err), 0);
	int64_t id;
	for (int i = 0; i < 50; i++)
		assert_int_equal(state_run_begin(st, "j", 1000 + i, 1, TRIG_SCHEDULE, false, 1, &id,
		                                 err, sizeof err),
		                 0);
	state_close(st); /* checkpoints: everything is in the main file now */
	struct stat sb;
	assert_int_equal(stat(t.db, &sb), 0);
	assert_true(sb.st_size > 4096);
	char *garbage = malloc((size_t)sb.st_size - 4096);
	for (off_t i = 0; i < sb.st_size - 4096; i++)
		garbage[i] = (char)(i * 13 + 1);
	write_file(t.db, garbage, (size_t)sb.st_size - 4096, 4096);
	free(garbage);
	int rc = state_open(t.db, &st, err, sizeof err);
	if (rc == 0) {
		/* Opened (the damage is not on the recovery path): reads must fail cleanly. */
		struct state_run *runs;
		ssize_t n = state_runs_list(st, "j", 100, 0, &runs);
		assert_int_equal(n, -1);
		assert_non_null(strstr(state_errmsg(st), t.db));
		state_close(st);
	} else {
		assert_non_null(strstr(err, t.db));
		assert_non_null(strstr(err, "malformed"));
	}
	tdir_remove(&t);
}

static void test_begin_and_get(void **s)
{
	struct fx *f = *s;
	int64_t id = 0;
	assert_int_equal(state_run_begin(f->st, "backup", 1774746000, 2, TRIG_RETRY, true,
	                                 1774746000123, &id, f->err, sizeof f->err),
	                 0);
	struct state_run r;
	assert_int_equal(state_run_get(f->st, id, &r), 0);
	assert_int_equal(r.id, id);
	assert_string_equal(r.job, "backup");
	assert_int_equal(r.nominal, 1774746000);
	assert_int_equal(r.attempt, 2);
	assert_int_equal(r.trigger, TRIG_RETRY);
	assert_int_equal(r.status, RUN_RUNNING);
	assert_true(r.dry_run);
	assert_int_equal(r.started_ms, 1774746000123);
	assert_int_equal(r.ended_ms, 0);
	assert_null(r.summary);
	assert_null(r.counters);
	state_run_clear(&r);
	assert_null(r.job);
	assert_int_equal(state_run_get(f->st, id + 1, &r), 1);
	/* The key includes the job: the same slot of another job is free. */
	assert_int_equal(begin(f, "backup2", 1774746000, 2) > id, 1);
}

static void test_idempotency(void **s)
{
	struct fx *f = *s;
	int64_t id = begin(f, "sync", 600, 1), again = 4242;
	for (int trig = TRIG_SCHEDULE; trig < TRIG_MANUAL; trig++)
		assert_int_equal(state_run_begin(f->st, "sync", 600, 1, trig, false, 1, &again,
		                                 f->err, sizeof f->err),
		                 1);
	assert_int_equal(again, 4242); /* untouched */
	/* The retry is another key. */
	assert_true(begin(f, "sync", 600, 2) > id);
	/* Manual runs never collide, even on a slot that is taken. */
	int64_t m1 = 0, m2 = 0;
	assert_int_equal(state_run_begin(f->st, "sync", 600, 1, TRIG_MANUAL, false, 1, &m1, f->err,
	                                 sizeof f->err),
	                 0);
	assert_int_equal(state_run_begin(f->st, "sync", 600, 1, TRIG_MANUAL, false, 1, &m2, f->err,
	                                 sizeof f->err),
	                 0);
	assert_true(m1 > 0 && m2 > m1);
	/* Still refused after a finish and a reopen. */
	finish(f, id, RUN_OK, 0);
	state_close(f->st);
	assert_int_equal(state_open(f->t.db, &f->st, f->err, sizeof f->err), 0);
	assert_int_equal(state_run_begin(f->st, "sync", 600, 1, TRIG_CATCHUP, false, 1, &again,
	                                 f->err, sizeof f->err),
	                 1);
	assert_int_equal(raw_int(f->t.db, "SELECT count(*) FROM runs WHERE job = 'sync'"), 4);
}

static void test_skip_claims_the_slot(void **s)
{
	struct fx *f = *s;
	int64_t id = 0, other = 0;
	assert_int_equal(state_run_skip(f->st, "report", 3600, TRIG_SCHEDULE,
	                                "previous run still in progress", 3600500, &id, f->err,
	                                sizeof f->err),
	                 0);
	assert_int_equal(state_run_begin(f->st, "report", 3600, 1, TRIG_SCHEDULE, false, 3600600,
	                                 &other, f->err, sizeof f->err),
	                 1);
	struct state_run r;
	assert_int_equal(state_run_get(f->st, id, &r), 0);
	assert_int_equal(r.status, RUN_SKIPPED);
	assert_int_equal(r.attempt, 1);
	assert_string_equal(r.summary, "previous run still in progress");
	assert_int_equal(r.started_ms, 3600500);
	assert_int_equal(r.ended_ms, 3600500);
	state_run_clear(&r);
	int64_t stamp = 0;
	assert_int_equal(state_stamp_get(f->st, "report", &stamp), 0);
	assert_int_equal(stamp, 3600);
	/* A begun slot cannot be skipped afterwards either. */
	begin(f, "report", 7200, 1);
	assert_int_equal(state_run_skip(f->st, "report", 7200, TRIG_SCHEDULE, "x", 1, &other,
	                                f->err, sizeof f->err),
	                 1);
}

static void test_stamps(void **s)
{
	struct fx *f = *s;
	int64_t v = -1;
	assert_int_equal(state_stamp_get(f->st, "new", &v), 1);
	assert_int_equal(v, -1);
	assert_int_equal(state_stamp_set(f->st, "new", 5000), 0);
	assert_int_equal(state_stamp_set(f->st, "new", 4000), 0); /* never lowered */
	assert_int_equal(state_stamp_get(f->st, "new", &v), 0);
	assert_int_equal(v, 5000);
	begin(f, "new", 4500, 1); /* an older slot (catch-up all) leaves it */
	assert_int_equal(state_stamp_get(f->st, "new", &v), 0);
	assert_int_equal(v, 5000);
	begin(f, "new", 6000, 1);
	assert_int_equal(state_stamp_get(f->st, "new", &v), 0);
	assert_int_equal(v, 6000);
	int64_t id;
	assert_int_equal(state_run_begin(f->st, "new", 9000, 1, TRIG_MANUAL, false, 1, &id, f->err,
	                                 sizeof f->err),
	                 0);
	assert_int_equal(state_stamp_get(f->st, "new", &v), 0);
	assert_int_equal(v, 6000); /* manual runs leave it */
	assert_int_equal(state_run_begin(f->st, "manual-only", 9000, 1, TRIG_MANUAL, false, 1, &id,
	                                 f->err, sizeof f->err),
	                 0);
	assert_int_equal(state_stamp_get(f->st, "manual-only", &v), 1);
}

static void test_finish_and_log(void **s)
{
	struct fx *f = *s;
	int64_t id = begin(f, "crawl", 1000, 1);
	struct state_log_line lines[] = {
	    {1000100, "log", 6, "fetched 3 pages", "{\"pages\":3,\"host\":\"a.example\"}"},
	    {1000200, "out", 6, "plain stdout line", NULL},
	    {1000300, "log", 3, "", "not json"},
	};
	struct state_kv_change kv[] = {{"cursor", "abc"}, {"etag", "W/1"}};
	assert_int_equal(state_run_finish(f->st, id, RUN_CRASHED, 11, "crashed (SIGSEGV)",
	                                  "{\"pages\":3}", lines, 3, kv, 2, 1002500, 10, f->err,
	                                  sizeof f->err),
	                 0);
	struct state_run r;
	assert_int_equal(state_run_get(f->st, id, &r), 0);
	assert_int_equal(r.status, RUN_CRASHED);
	assert_int_equal(r.signal, 11);
	assert_int_equal(r.ended_ms, 1002500);
	assert_string_equal(r.summary, "crashed (SIGSEGV)");
	assert_string_equal(r.counters, "{\"pages\":3}");
	state_run_clear(&r);

	struct json_object *log = state_run_log_json(f->st, id);
	assert_non_null(log);
	assert_int_equal(json_object_array_length(log), 3);
	assert_string_equal(json_object_to_json_string_ext(log, JSON_C_TO_STRING_PLAIN),
	                    "[{\"ts\":1000100,\"stream\":\"log\",\"level\":6,\"text\":"
	                    "\"fetched 3 pages\",\"fields\":{\"pages\":3,\"host\":\"a.example\"}},"
	                    "{\"ts\":1000200,\"stream\":\"out\",\"level\":6,\"text\":"
	                    "\"plain stdout line\"},"
	                    "{\"ts\":1000300,\"stream\":\"log\",\"level\":3,\"text\":\"\"}]");
	json_object_put(log);
	log = state_run_log_json(f->st, 999999); /* no such run: empty, not an error */
	assert_int_equal(json_object_array_length(log), 0);
	json_object_put(log);

	/* A second finish is refused and changes nothing. */
	struct state_kv_change kv2[] = {{"cursor", "zzz"}};
	assert_int_equal(state_run_finish(f->st, id, RUN_OK, 0, "again", NULL, lines, 1, kv2, 1,
	                                  1003000, 0, f->err, sizeof f->err),
	                 -1);
	assert_non_null(strstr(f->err, "is already finished (crashed)"));
	assert_non_null(strstr(f->err, f->t.db));
	struct json_object *kvj = state_kv_json(f->st, "crawl");
	assert_string_equal(json_object_to_json_string_ext(kvj, JSON_C_TO_STRING_PLAIN),
	                    "{\"cursor\":\"abc\",\"etag\":\"W\\/1\"}");
	json_object_put(kvj);

	assert_int_equal(state_run_finish(f->st, 777, RUN_OK, 0, NULL, NULL, NULL, 0, NULL, 0, 1, 0,
	                                  f->err, sizeof f->err),
	                 -1);
	assert_non_null(strstr(f->err, "no run 777 to finish"));
	int64_t id2 = begin(f, "crawl", 2000, 1);
	assert_int_equal(state_run_finish(f->st, id2, RUN_RUNNING, 0, NULL, NULL, NULL, 0, NULL, 0,
	                                  1, 0, f->err, sizeof f->err),
	                 -1);
	assert_non_null(strstr(f->err, "cannot finish as running"));
}

/* A finish that fails half-way (bad kv change after the log) leaves nothing behind. */
static void test_finish_is_atomic(void **s)
{
	struct fx *f = *s;
	int64_t id = begin(f, "atomic", 1000, 1);
	struct state_log_line line = {1, "log", 6, "hello", NULL};
	struct state_kv_change kv[] = {{"good", "1"}, {NULL, "2"}};
	assert_int_equal(state_run_finish(f->st, id, RUN_OK, 0, "ok", NULL, &line, 1, kv, 2, 5, 0,
	                                  f->err, sizeof f->err),
	                 -1);
	assert_non_null(strstr(f->err, "plugin state change 1 has no key"));
	struct state_run r;
	assert_int_equal(state_run_get(f->st, id, &r), 0);
	assert_int_equal(r.status, RUN_RUNNING);
	assert_null(r.summary);
	state_run_clear(&r);
	struct json_object *log = state_run_log_json(f->st, id);
	assert_int_equal(json_object_array_length(log), 0);
	json_object_put(log);
	struct json_object *kvj = state_kv_json(f->st, "atomic");
	assert_int_equal(json_object_object_length(kvj), 0);
	json_object_put(kvj);
	/* And the run can still be finished properly. */
	assert_int_equal(state_run_finish(f->st, id, RUN_OK, 0, "ok", NULL, &line, 1, kv, 1, 5, 0,
	                                  f->err, sizeof f->err),
	                 0);
}

static void test_log_truncation(void **s)
{
	struct fx *f = *s;
	int64_t id = begin(f, "chatty", 1000, 1);
	enum { N = 15, LEN = 100 * 1024 };
	char *text = malloc(LEN + 1);
	memset(text, 'x', LEN);
	text[LEN] = '\0';
	struct state_log_line lines[N];
	for (int i = 0; i < N; i++)
		lines[i] = (struct state_log_line){1000 + i, "out", 6, text, NULL};
	assert_int_equal(state_run_finish(f->st, id, RUN_OK, 0, NULL, NULL, lines, N, NULL, 0, 5000,
	                                  0, f->err, sizeof f->err),
	                 0);
	free(text);
	/* 10 lines fit in 1 MiB (1,024,000 bytes), the 11th would not. */
	struct json_object *log = state_run_log_json(f->st, id);
	assert_int_equal(json_object_array_length(log), 11);
	size_t stored = 0;
	for (int i = 0; i < 10; i++)
		stored += strlen(json_object_get_string(
		    json_object_object_get(json_object_array_get_idx(log, (size_t)i), "text")));
	assert_int_equal(stored, 10 * LEN);
	assert_true(stored <= STATE_LOG_MAX_BYTES);
	struct json_object *last = json_object_array_get_idx(log, 10);
	assert_string_equal(json_object_get_string(json_object_object_get(last, "text")),
	                    "[log truncated: 5 more lines, 512000 bytes]");
	assert_int_equal(json_object_get_int(json_object_object_get(last, "level")), 4);
	json_object_put(log);

	/* Exactly the limit is kept whole. */
	id = begin(f, "chatty", 2000, 1);
	char *full = malloc(STATE_LOG_MAX_BYTES + 1);
	memset(full, 'y', STATE_LOG_MAX_BYTES);
	full[STATE_LOG_MAX_BYTES] = '\0';
	struct state_log_line two[] = {{1, "out", 6, full, NULL}, {2, "out", 6, "z", NULL}};
	assert_int_equal(state_run_finish(f->st, id, RUN_OK, 0, NULL, NULL, two, 2, NULL, 0, 5000,
	                                  0, f->err, sizeof f->err),
	                 0);
	free(full);
	log = state_run_log_json(f->st, id);
	assert_int_equal(json_object_array_length(log), 2);
	assert_int_equal(json_object_get_string_len(
	                     json_object_object_get(json_object_array_get_idx(log, 0), "text")),
	                 STATE_LOG_MAX_BYTES);
	assert_string_equal(json_object_get_string(
	                        json_object_object_get(json_object_array_get_idx(log, 1), "text")),
	                    "[log truncated: 1 more lines, 1 bytes]");
	json_object_put(log);
}

static void test_trim(void **s)
{
	struct fx *f = *s;
	int64_t running = begin(f, "t", 100, 1); /* oldest id, still running */
	int64_t ids[6];
	struct state_log_line line = {1, "log", 6, "x", NULL};
	for (int i = 0; i < 6; i++) {
		ids[i] = begin(f, "t", 200 + i, 1);
		assert_int_equal(state_run_finish(f->st, ids[i], RUN_OK, 0, NULL, NULL, &line, 1,
		                                  NULL, 0, 1, 0, f->err, sizeof f->err),
		                 0);
	}
	int64_t other = begin(f, "u", 200, 1);
	finish(f, other, RUN_FAILED, 0);
	int64_t last = begin(f, "t", 300, 1);
	assert_int_equal(state_run_finish(f->st, last, RUN_OK, 0, NULL, NULL, &line, 1, NULL, 0, 1,
	                                  3, f->err, sizeof f->err),
	                 0);
	struct state_run *runs;
	ssize_t n = state_runs_list(f->st, "t", 100, 0, &runs);
	assert_int_equal(n, 4);
	assert_int_equal(runs[0].id, last);
	assert_int_equal(runs[1].id, ids[5]);
	assert_int_equal(runs[2].id, ids[4]);
	assert_int_equal(runs[3].id, running);
	assert_int_equal(runs[3].status, RUN_RUNNING);
	state_runs_free(runs, (size_t)n);
	/* Their logs went with them; the other job is untouched. */
	assert_int_equal(raw_int(f->t.db, "SELECT count(*) FROM run_log"), 3 + 0);
	struct state_run r;
	assert_int_equal(state_run_get(f->st, ids[0], &r), 1);
	assert_int_equal(state_run_get(f->st, other, &r), 0);
	state_run_clear(&r);
	/* keep_runs = 1 keeps exactly the newest (by id, as listed) finished run, even when
	 * an older one is the last to finish. */
	finish(f, running, RUN_CANCELLED, 1);
	n = state_runs_list(f->st, "t", 100, 0, &runs);
	assert_int_equal(n, 1);
	assert_int_equal(runs[0].id, last);
	state_runs_free(runs, (size_t)n);
}

static void test_kv(void **s)
{
	struct fx *f = *s;
	int64_t id = begin(f, "k", 1, 1);
	struct state_kv_change c1[] = {{"a", "1"}, {"b", "2"}};
	assert_int_equal(state_run_finish(f->st, id, RUN_OK, 0, NULL, NULL, NULL, 0, c1, 2, 1, 0,
	                                  f->err, sizeof f->err),
	                 0);
	id = begin(f, "other", 1, 1);
	struct state_kv_change c0[] = {{"a", "elsewhere"}};
	assert_int_equal(state_run_finish(f->st, id, RUN_OK, 0, NULL, NULL, NULL, 0, c0, 1, 1, 0,
	                                  f->err, sizeof f->err),
	                 0);
	id = begin(f, "k", 2, 1);
	struct state_kv_change c2[] = {{"a", NULL}, {"b", "3"}, {"c", "x\ny\"z"}};
	assert_int_equal(state_run_finish(f->st, id, RUN_OK, 0, NULL, NULL, NULL, 0, c2, 3, 1, 0,
	                                  f->err, sizeof f->err),
	                 0);
	struct json_object *o = state_kv_json(f->st, "k");
	assert_string_equal(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
	                    "{\"b\":\"3\",\"c\":\"x\\ny\\\"z\"}");
	json_object_put(o);
	o = state_kv_json(f->st, "other");
	assert_string_equal(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
	                    "{\"a\":\"elsewhere\"}");
	json_object_put(o);
	o = state_kv_json(f->st, "none");
	assert_int_equal(json_object_object_length(o), 0);
	json_object_put(o);
}

static void test_list_and_last(void **s)
{
	struct fx *f = *s;
	struct state_run r, *runs;
	assert_int_equal(state_last_run(f->st, "l", false, &r), 1);
	int64_t a = begin(f, "l", 1, 1);
	finish(f, a, RUN_OK, 0);
	int64_t b = begin(f, "l", 2, 1);
	finish(f, b, RUN_PARTIAL, 0);
	int64_t c = begin(f, "l", 3, 1);
	finish(f, c, RUN_FAILED, 0);
	int64_t d = begin(f, "l", 4, 1); /* running */
	begin(f, "m", 5, 1);
	assert_int_equal(state_last_run(f->st, "l", false, &r), 0);
	assert_int_equal(r.id, c);
	assert_int_equal(r.status, RUN_FAILED);
	state_run_clear(&r);
	assert_int_equal(state_last_run(f->st, "l", true, &r), 0);
	assert_int_equal(r.id, b);
	state_run_clear(&r);

	ssize_t n = state_runs_list(f->st, "l", 2, 0, &runs);
	assert_int_equal(n, 2);
	assert_int_equal(runs[0].id, d);
	assert_int_equal(runs[1].id, c);
	state_runs_free(runs, (size_t)n);
	n = state_runs_list(f->st, "l", 10, c, &runs);
	assert_int_equal(n, 2);
	assert_int_equal(runs[0].id, b);
	assert_string_equal(runs[0].job, "l");
	assert_int_equal(runs[1].id, a);
	state_runs_free(runs, (size_t)n);
	assert_int_equal(state_runs_list(f->st, "l", 0, 0, &runs), 0);
	assert_null(runs);
	assert_int_equal(state_runs_list(f->st, "nobody", 10, 0, &runs), 0);
	state_runs_free(runs, 0);
}

static void test_run_json(void **s)
{
	(void)s;
	struct state_run r = {
	    .id = 42,
	    .job = "backup",
	    .nominal = 1774746000, /* 2026-03-29T01:00:00Z */
	    .attempt = 1,
	    .trigger = TRIG_RETRY,
	    .status = RUN_CRASHED,
	    .signal = 11,
	    .dry_run = false,
	    .started_ms = 1774746000250,
	    .ended_ms = 1774746003750,
	    .summary = "segfault",
	    .counters = "{\"items\":5}",
	};
	struct json_object *o = state_run_json(&r);
	assert_string_equal(
	    json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
	    "{\"id\":42,\"job\":\"backup\",\"nominal\":\"2026-03-29T01:00:00+00:00\","
	    "\"attempt\":1,\"trigger\":\"retry\",\"status\":\"crashed\",\"signal\":\"SIGSEGV\","
	    "\"dry_run\":false,\"started\":\"2026-03-29T01:00:00+00:00\","
	    "\"ended\":\"2026-03-29T01:00:03+00:00\",\"duration_ms\":3500,"
	    "\"summary\":\"segfault\",\"counters\":{\"items\":5}}");
	json_object_put(o);
	r.status = RUN_RUNNING;
	r.signal = 0;
	r.ended_ms = 0;
	r.summary = NULL;
	r.counters = NULL;
	r.dry_run = true;
	o = state_run_json(&r);
	assert_string_equal(
	    json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
	    "{\"id\":42,\"job\":\"backup\",\"nominal\":\"2026-03-29T01:00:00+00:00\","
	    "\"attempt\":1,\"trigger\":\"retry\",\"status\":\"running\","
	    "\"signal\":null,\"dry_run\":true,\"started\":"
	    "\"2026-03-29T01:00:00+00:00\",\"ended\":null,\"duration_ms\":null,"
	    "\"summary\":null,\"counters\":null}");
	json_object_put(o);
}

static void test_meta(void **s)
{
	struct fx *f = *s;
	assert_null(state_meta_get(f->st, "boot_id"));
	assert_int_equal(state_meta_set(f->st, "boot_id", "one"), 0);
	assert_int_equal(state_meta_set(f->st, "boot_id", "two"), 0);
	char *v = state_meta_get(f->st, "boot_id");
	assert_string_equal(v, "two");
	free(v);
	assert_int_equal(state_meta_set(f->st, "x", NULL), -1);
	assert_non_null(strstr(state_errmsg(f->st), "needs a key and a value"));
}

/* A run left running by a closed handle is interrupted on the next open, which lists it
 * (state_interrupted, by id); a late finish by its real owner still lands. */
static void test_recovery(void **s)
{
	struct fx *f = *s;
	int64_t id = begin(f, "r", 1, 1);
	int64_t done = begin(f, "r", 2, 1);
	int64_t manual = 0;
	assert_int_equal(state_run_begin(f->st, "m", 7, 1, TRIG_MANUAL, true, 7005, &manual, f->err,
	                                 sizeof f->err),
	                 0);
	finish(f, done, RUN_OK, 0);
	size_t n = 99;
	state_interrupted(f->st, &n);
	assert_int_equal(n, 0); /* a fresh store had none */
	state_close(f->st);
	assert_int_equal(state_open(f->t.db, &f->st, f->err, sizeof f->err), 0);
	const struct state_interrupted *ir = state_interrupted(f->st, &n);
	assert_int_equal(n, 2);
	assert_int_equal(ir[0].id, id);
	assert_string_equal(ir[0].job, "r");
	assert_int_equal(ir[0].nominal, 1);
	assert_int_equal(ir[0].trigger, TRIG_SCHEDULE);
	assert_false(ir[0].dry_run);
	assert_int_equal(ir[1].id, manual);
	assert_string_equal(ir[1].job, "m");
	assert_int_equal(ir[1].trigger, TRIG_MANUAL);
	assert_true(ir[1].dry_run);
	struct state_run r;
	assert_int_equal(state_run_get(f->st, id, &r), 0);
	assert_int_equal(r.status, RUN_INTERRUPTED);
	assert_string_equal(r.summary, "daemon stopped while the run was in progress");
	assert_true(r.ended_ms > 1700000000000);
	state_run_clear(&r);
	assert_int_equal(state_run_get(f->st, done, &r), 0);
	assert_int_equal(r.status, RUN_OK);
	state_run_clear(&r);
	assert_int_equal(state_last_run(f->st, "r", false, &r), 0);
	assert_int_equal(r.id, done);
	state_run_clear(&r);
	finish(f, id, RUN_OK, 0);
	assert_int_equal(state_run_get(f->st, id, &r), 0);
	assert_int_equal(r.status, RUN_OK);
	state_run_clear(&r);
	/* The next open finds nothing left running. */
	finish(f, manual, RUN_OK, 0);
	state_close(f->st);
	assert_int_equal(state_open(f->t.db, &f->st, f->err, sizeof f->err), 0);
	state_interrupted(f->st, &n);
	assert_int_equal(n, 0);
}

struct last_seen {
	const char *const *jobs;
	char text[256];
};

static void note_last(void *ctx, size_t i, bool success, int64_t ended_ms)
{
	struct last_seen *l = ctx;
	size_t n = strlen(l->text);
	snprintf(l->text + n, sizeof l->text - n, "%s%s:%s:%lld", n ? " " : "", l->jobs[i],
	         success ? "ok" : "any", (long long)ended_ms);
}

/* state_last_each: per job asked, the newest finished run and the newest success, as
 * state_last_run gives them one job at a time; running runs and unknown jobs give nothing. */
static void test_last_each(void **s)
{
	struct fx *f = *s;
	static const char *const jobs[] = {"a", "b", "c", "d", "nope"};
	struct last_seen l = {jobs, ""};
	assert_int_equal(state_last_each(f->st, jobs, 5, note_last, &l), 0);
	assert_string_equal(l.text, "");
	int64_t a1 = begin(f, "a", 10, 1), a2 = begin(f, "a", 20, 1), a3 = begin(f, "a", 30, 1);
	int64_t b1 = begin(f, "b", 10, 1);
	begin(f, "c", 10, 1); /* still running */
	int64_t d1 = begin(f, "d", 10, 1);
	assert_int_equal(state_run_finish(f->st, a1, RUN_OK, 0, NULL, NULL, NULL, 0, NULL, 0, 1001,
	                                  0, f->err, sizeof f->err),
	                 0);
	assert_int_equal(state_run_finish(f->st, a2, RUN_PARTIAL, 0, NULL, NULL, NULL, 0, NULL, 0,
	                                  1002, 0, f->err, sizeof f->err),
	                 0);
	assert_int_equal(state_run_finish(f->st, a3, RUN_FAILED, 0, NULL, NULL, NULL, 0, NULL, 0,
	                                  1003, 0, f->err, sizeof f->err),
	                 0);
	assert_int_equal(state_run_finish(f->st, b1, RUN_CRASHED, 11, NULL, NULL, NULL, 0, NULL, 0,
	                                  2001, 0, f->err, sizeof f->err),
	                 0);
	assert_int_equal(state_run_finish(f->st, d1, RUN_OK, 0, NULL, NULL, NULL, 0, NULL, 0, 4001,
	                                  0, f->err, sizeof f->err),
	                 0);
	assert_int_equal(state_last_each(f->st, jobs, 5, note_last, &l), 0);
	assert_string_equal(l.text, "a:any:1003 a:ok:1002 b:any:2001 d:any:4001 d:ok:4001");
}

static void test_two_handles(void **s)
{
	struct fx *f = *s;
	struct state *b;
	assert_int_equal(state_open(f->t.db, &b, f->err, sizeof f->err), 0);
	int64_t id = begin(f, "shared", 60, 1), other = 0;
	assert_int_equal(state_run_begin(b, "shared", 60, 1, TRIG_SCHEDULE, false, 1, &other,
	                                 f->err, sizeof f->err),
	                 1);
	finish(f, id, RUN_OK, 0);
	struct state_run r;
	assert_int_equal(state_run_get(b, id, &r), 0);
	assert_int_equal(r.status, RUN_OK);
	state_run_clear(&r);
	state_close(b);
}

/* The WAL is copied into the main file while the store stays open (by the checkpoint
 * thread): ~6 MB of logs must reach the main file without a close. */
static void test_checkpoints_while_open(void **s)
{
	struct fx *f = *s;
	enum { LEN = 512 * 1024 };
	char *text = malloc(LEN + 1);
	memset(text, 'c', LEN);
	text[LEN] = '\0';
	struct state_log_line two[] = {{1, "out", 6, text, NULL}, {2, "out", 6, text, NULL}};
	for (int i = 0; i < 6; i++) {
		int64_t id = begin(f, "big", i, 1);
		assert_int_equal(state_run_finish(f->st, id, RUN_OK, 0, NULL, NULL, two, 2, NULL, 0,
		                                  1, 0, f->err, sizeof f->err),
		                 0);
	}
	free(text);
	struct stat sb;
	for (int tries = 0; tries < 300; tries++) { /* up to 30 s on a loaded machine */
		assert_int_equal(stat(f->t.db, &sb), 0);
		if (sb.st_size >= 6 * 1024 * 1024)
			break;
		/* A commit after a finished checkpoint is also what restarts the WAL. */
		assert_int_equal(state_meta_set(f->st, "tick", "x"), 0);
		usleep(100 * 1000);
	}
	assert_true(sb.st_size >= 6 * 1024 * 1024);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_open_creates_private_wal_store),
	    cmocka_unit_test(test_open_errors),
	    cmocka_unit_test(test_open_refuses_bad_files),
	    cmocka_unit_test(test_corrupt_pages),
	    cmocka_unit_test_setup_teardown(test_begin_and_get, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_idempotency, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_skip_claims_the_slot, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stamps, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_finish_and_log, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_finish_is_atomic, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_log_truncation, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_trim, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_kv, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_list_and_last, setup, teardown),
	    cmocka_unit_test(test_run_json),
	    cmocka_unit_test_setup_teardown(test_meta, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_recovery, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_last_each, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_two_handles, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_checkpoints_while_open, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

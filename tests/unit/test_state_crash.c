/* The state store across process deaths and between processes: runs left behind by a
 * killed process, kill -9 at random points of a begin/finish loop, and two processes
 * racing to claim the same slots. Children never use cmocka: they report by exit code. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include "state.h"
#include "state_helpers.h"

#define LOG_LINES 20

static int64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void child_fail(const char *what, const char *err)
{
	fprintf(stderr, "# child: %s: %s\n", what, err);
	_exit(2);
}

/* Waits for pid and returns its exit code, or 128 + signal. */
static int reap(pid_t pid)
{
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* A child begins one run and dies without finishing it, by _exit or by SIGKILL. */
static void left_running(bool by_signal)
{
	struct tdir t;
	tdir_make(&t);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct state *st;
		char err[512];
		int64_t id;
		if (state_open(t.db, &st, err, sizeof err) < 0)
			child_fail("open", err);
		if (state_run_begin(st, "victim", 1000, 1, TRIG_SCHEDULE, false, wall_ms(), &id,
		                    err, sizeof err) != 0)
			child_fail("begin", err);
		if (by_signal)
			raise(SIGKILL);
		_exit(0); /* no state_close: the process just ends */
	}
	assert_int_equal(reap(pid), by_signal ? 128 + SIGKILL : 0);
	int64_t before = wall_ms();
	struct state *st;
	char err[512];
	assert_int_equal(state_open(t.db, &st, err, sizeof err), 0);
	struct state_run *runs;
	ssize_t n = state_runs_list(st, "victim", 10, 0, &runs);
	assert_int_equal(n, 1);
	assert_int_equal(runs[0].status, RUN_INTERRUPTED);
	assert_string_equal(runs[0].summary, "daemon stopped while the run was in progress");
	assert_true(runs[0].ended_ms >= before && runs[0].ended_ms <= wall_ms());
	state_runs_free(runs, (size_t)n);
	/* The slot stays claimed: the restarted daemon does not run it again. */
	int64_t id;
	assert_int_equal(
	    state_run_begin(st, "victim", 1000, 1, TRIG_CATCHUP, false, 1, &id, err, sizeof err),
	    1);
	state_close(st);
	tdir_remove(&t);
}

static void test_exit_leaves_interrupted(void **s)
{
	(void)s;
	left_running(false);
}

static void test_sigkill_leaves_interrupted(void **s)
{
	(void)s;
	left_running(true);
}

static void fill_log(struct state_log_line *lines, char texts[][64], int64_t id)
{
	for (int i = 0; i < LOG_LINES; i++) {
		snprintf(texts[i], 64, "run %" PRId64 " line %d", id, i);
		lines[i] = (struct state_log_line){i, "out", 6, texts[i], NULL};
	}
}

/* Begins and finishes runs on fresh keys as fast as it can, writing each finished run's
 * id to `fd` once state_run_finish has returned. Never returns. */
static void churn(const char *db, int round, int ready_fd, int fd)
{
	struct state *st;
	char err[512];
	if (state_open(db, &st, err, sizeof err) < 0)
		child_fail("open", err);
	if (write(ready_fd, "r", 1) != 1)
		_exit(3);
	struct state_log_line lines[LOG_LINES];
	char texts[LOG_LINES][64];
	for (int64_t i = 0;; i++) {
		int64_t id;
		int rc = state_run_begin(st, "churn", (int64_t)round * 10000000 + i, 1,
		                         TRIG_SCHEDULE, false, wall_ms(), &id, err, sizeof err);
		if (rc != 0)
			child_fail("begin", rc > 0 ? "fresh key refused" : err);
		fill_log(lines, texts, id);
		struct state_kv_change kv = {"last", texts[0]};
		if (state_run_finish(st, id, i % 3 ? RUN_OK : RUN_FAILED, 0, "churned", NULL, lines,
		                     LOG_LINES, &kv, 1, wall_ms(), 50, err, sizeof err) != 0)
			child_fail("finish", err);
		if (write(fd, &id, sizeof id) != (ssize_t)sizeof id)
			_exit(4);
	}
}

/* Reads ids from fd until `deadline_ms` (monotonic) or end of file. */
static void collect(int fd, int64_t **ids, size_t *n, size_t *cap, int64_t deadline_ms)
{
	for (;;) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		int64_t left = deadline_ms - ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
		if (deadline_ms >= 0 && left <= 0)
			return;
		struct pollfd p = {fd, POLLIN, 0};
		int r = poll(&p, 1, deadline_ms >= 0 ? (int)left : -1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return;
		int64_t buf[512];
		ssize_t got = read(fd, buf, sizeof buf);
		if (got <= 0)
			return;
		for (size_t i = 0; i < (size_t)got / sizeof *buf; i++) {
			if (*n == *cap) {
				*cap = *cap ? *cap * 2 : 1024;
				*ids = realloc(*ids, *cap * sizeof **ids);
			}
			(*ids)[(*n)++] = buf[i];
		}
		/* A partial id at a kill is impossible: 8-byte pipe writes are atomic. */
		assert_int_equal(got % (ssize_t)sizeof *buf, 0);
	}
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Every run the child saw finished is in the store, finished, with its whole log. */
static void check_finished(struct state *st, const int64_t *ids, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct state_run r;
		int rc = state_run_get(st, ids[i], &r);
		if (rc == 1)
			continue; /* trimmed away by a later finish (history 50) */
		assert_int_equal(rc, 0);
		assert_true(r.status == RUN_OK || r.status == RUN_FAILED);
		assert_string_equal(r.summary, "churned");
		state_run_clear(&r);
		struct json_object *log = state_run_log_json(st, ids[i]);
		assert_non_null(log);
		assert_int_equal(json_object_array_length(log), LOG_LINES);
		char want[64];
		snprintf(want, sizeof want, "run %" PRId64 " line %d", ids[i], LOG_LINES - 1);
		assert_string_equal(json_object_get_string(json_object_object_get(
		                        json_object_array_get_idx(log, LOG_LINES - 1), "text")),
		                    want);
		json_object_put(log);
	}
}

static void test_kill9_stress(void **s)
{
	(void)s;
	struct tdir t;
	tdir_make(&t);
	unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid();
	srand(seed);
	fprintf(stderr, "# kill -9 stress: seed %u\n", seed);
	enum { ROUNDS = 6 };
	size_t total = 0, interrupted_seen = 0;
	for (int round = 0; round < ROUNDS; round++) {
		int ready[2], ids_pipe[2];
		assert_int_equal(pipe(ready), 0);
		assert_int_equal(pipe(ids_pipe), 0);
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			close(ready[0]);
			close(ids_pipe[0]);
			churn(t.db, round, ready[1], ids_pipe[1]);
		}
		close(ready[1]);
		close(ids_pipe[1]);
		char c;
		assert_int_equal(read(ready[0], &c, 1), 1); /* the child has opened the store */
		close(ready[0]);
		int delay = 20 + rand() % 181;
		int64_t *ids = NULL;
		size_t n = 0, cap = 0;
		collect(ids_pipe[0], &ids, &n, &cap, mono_ms() + delay);
		assert_int_equal(kill(pid, SIGKILL), 0);
		assert_int_equal(reap(pid), 128 + SIGKILL);
		collect(ids_pipe[0], &ids, &n, &cap, -1);
		close(ids_pipe[0]);
		total += n;

		struct state *st;
		char err[512];
		assert_int_equal(state_open(t.db, &st, err, sizeof err), 0);
		check_finished(st, ids, n);
		/* The last id the child reported may not be the last it finished, but nothing it
		 * reported may be missing or half-done. */
		state_close(st);
		free(ids);
		char buf[64];
		assert_string_equal(raw_text(t.db, "PRAGMA integrity_check", buf, sizeof buf),
		                    "ok");
		assert_int_equal(raw_int(t.db,
		                         "SELECT count(*) FROM (SELECT idem FROM runs WHERE "
		                         "idem IS NOT NULL GROUP BY idem HAVING count(*) > 1)"),
		                 0);
		/* No finished run without its full log; no interrupted run with a log. */
		assert_int_equal(raw_int(t.db, "SELECT count(*) FROM runs WHERE status IN ('ok', "
		                               "'failed') AND (SELECT count(*) FROM run_log WHERE "
		                               "run_id = runs.id) <> 20"),
		                 0);
		assert_int_equal(raw_int(t.db, "SELECT count(*) FROM runs WHERE status = "
		                               "'interrupted' AND EXISTS (SELECT 1 FROM run_log "
		                               "WHERE run_id = runs.id)"),
		                 0);
		assert_int_equal(
		    raw_int(t.db, "SELECT count(*) FROM runs WHERE status = 'running'"), 0);
		size_t intr = (size_t)raw_int(t.db, "SELECT count(*) FROM runs WHERE status = "
		                                    "'interrupted'");
		assert_true(intr <= (size_t)round + 1); /* at most one per kill */
		interrupted_seen += intr;
		fprintf(stderr, "# round %d: killed after %d ms, %zu finished, %zu interrupted\n",
		        round, delay, n, intr);
		assert_int_equal(raw_int(t.db, "SELECT count(*) FROM run_log WHERE run_id NOT IN "
		                               "(SELECT id FROM runs)"),
		                 0);
	}
	fprintf(stderr, "# %zu runs finished across %d kills; interrupted runs seen: %zu\n", total,
	        ROUNDS, interrupted_seen);
	assert_true(total > 0);
	/* After all that, every slot ever begun is still refused. */
	struct state *st;
	char err[512];
	assert_int_equal(state_open(t.db, &st, err, sizeof err), 0);
	int64_t max_nominal = raw_int(t.db, "SELECT max(nominal) FROM runs");
	int64_t id, stamp;
	assert_int_equal(state_stamp_get(st, "churn", &stamp), 0);
	assert_int_equal(stamp, max_nominal);
	assert_int_equal(state_run_begin(st, "churn", max_nominal, 1, TRIG_CATCHUP, false, 1, &id,
	                                 err, sizeof err),
	                 1);
	state_close(st);
	tdir_remove(&t);
}

/* Two processes, each with its own handle, claim the same slots at the same time, in
 * opposite orders so they meet and fight over the middle: every slot is won exactly once.
 * Each child marks its runs (dry_run = child index) so the parent can tell them apart. */
static void test_race_two_processes(void **s)
{
	(void)s;
	struct tdir t;
	tdir_make(&t);
	enum { SLOTS = 1000 };
	struct state *st;
	char err[512];
	assert_int_equal(state_open(t.db, &st, err, sizeof err), 0); /* schema in place */
	state_close(st);
	int go[2];
	assert_int_equal(pipe(go), 0);
	pid_t pids[2];
	for (int k = 0; k < 2; k++) {
		pids[k] = fork();
		assert_true(pids[k] >= 0);
		if (pids[k] == 0) {
			close(go[1]);
			struct state *mine;
			if (state_open(t.db, &mine, err, sizeof err) < 0)
				child_fail("open", err);
			char c;
			if (read(go[0], &c, 1) != 0) /* released when the parent closes it */
				_exit(3);
			for (int j = 0; j < SLOTS; j++) {
				int64_t id;
				int i = k == 0 ? j : SLOTS - 1 - j;
				/* A busy timeout (the other process held the write lock for 5 s on
				 * a loaded machine) is an honest answer the caller retries; a
				 * double win is what this test is after. */
				int rc, tries = 0;
				while (
				    (rc = state_run_begin(mine, "race", i, 1, TRIG_SCHEDULE, k == 1,
				                          wall_ms(), &id, err, sizeof err)) < 0 &&
				    strstr(err, "locked") && ++tries < 10)
					;
				if (rc < 0)
					child_fail("begin", err);
			}
			state_close(mine);
			_exit(0);
		}
	}
	close(go[0]);
	close(go[1]);
	assert_int_equal(reap(pids[0]), 0);
	assert_int_equal(reap(pids[1]), 0);
	int64_t a = raw_int(t.db, "SELECT count(*) FROM runs WHERE dry_run = 0");
	int64_t b = raw_int(t.db, "SELECT count(*) FROM runs WHERE dry_run = 1");
	fprintf(stderr, "# race: %" PRId64 " + %" PRId64 " wins\n", a, b);
	assert_int_equal(a + b, SLOTS);
	assert_int_equal(raw_int(t.db, "SELECT count(*) FROM runs WHERE job = 'race'"), SLOTS);
	assert_int_equal(raw_int(t.db, "SELECT count(DISTINCT nominal) FROM runs"), SLOTS);
	tdir_remove(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_exit_leaves_interrupted),
	    cmocka_unit_test(test_sigkill_leaves_interrupted),
	    cmocka_unit_test(test_kill9_stress),
	    cmocka_unit_test(test_race_two_processes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

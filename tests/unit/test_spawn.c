/* The daemon side of a run (daemon/spawn.c), driven on a real event loop against
 * tests/unit/fake_runner, whose behaviour each test picks through the input's "mode". */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <json-c/json.h>

#include "runproto.h"
#include "runner.h"
#include "spawn_int.h" /* spawn_redact, spawn_redact_tail */

/* A run that should end by itself is abandoned (and the test failed) after this long. */
#define WATCHDOG_S 30

static char fake_path[PATH_MAX];
static char runner_path[PATH_MAX]; /* the real chored-run of this build tree */
static char testplug_path[PATH_MAX];

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* What one run reported, in order. */
struct run {
	struct event_base *base;
	struct runner *r;
	int64_t t_start, t_started, t_done; /* CLOCK_MONOTONIC ns */
	int64_t start_call_ns;              /* how long runner_start itself took */
	int64_t started_mono, started_real; /* as reported by the runner */
	int started_calls;
	int records_before_started; /* records or output seen before started(): order check */
	char **lines;               /* output lines, owned copies (unless counting only) */
	size_t nlines;
	bool count_only; /* spam: check numbering instead of keeping lines */
	long spam_next;  /* next expected line number */
	bool spam_ok;
	struct json_object *records; /* array of copies of the records */
	int done_calls;
	struct runner_result res;
	char summary[512];
	bool watchdog_fired;
	/* Hooks for the lifecycle tests. */
	bool cancel_on_started, kill_after_cancel, free_in_done, free_on_output;
};

static void cb_started(void *data, int64_t mono_ns, int64_t released_ns)
{
	struct run *t = data;
	t->started_calls++;
	t->started_mono = mono_ns;
	t->started_real = released_ns;
	t->t_started = now_ns();
	if (t->cancel_on_started) {
		runner_cancel(t->r);
		runner_cancel(t->r); /* idempotent */
		if (t->kill_after_cancel)
			runner_kill(t->r);
	}
}

static void cb_output(void *data, const char *line)
{
	struct run *t = data;
	if (!t->started_calls)
		t->records_before_started++;
	if (t->free_on_output) {
		runner_free(t->r);
		t->r = NULL;
		t->free_on_output = false;
		event_base_loopbreak(t->base);
		return;
	}
	if (t->count_only) {
		char want[32];
		snprintf(want, sizeof want, "%08ld ", t->spam_next);
		if (strncmp(line, want, 9) == 0 && strlen(line) == 99)
			t->spam_next++;
		else
			t->spam_ok = false;
		return;
	}
	t->lines = realloc(t->lines, (t->nlines + 1) * sizeof *t->lines);
	assert_non_null(t->lines);
	t->lines[t->nlines++] = strdup(line);
}

static void cb_record(void *data, struct json_object *rec)
{
	struct run *t = data;
	if (!t->started_calls)
		t->records_before_started++;
	struct json_object *copy = NULL;
	assert_int_equal(json_object_deep_copy(rec, &copy, NULL), 0);
	json_object_array_add(t->records, copy);
}

static void cb_done(void *data, const struct runner_result *res)
{
	struct run *t = data;
	t->done_calls++;
	t->t_done = now_ns();
	t->res = *res;
	snprintf(t->summary, sizeof t->summary, "%s", res->summary);
	t->res.summary = t->summary;
	if (t->free_in_done) {
		runner_free(t->r);
		t->r = NULL;
	}
	event_base_loopbreak(t->base);
}

static const struct runner_cbs cbs = {cb_started, cb_output, cb_record, cb_done};

static void on_watchdog(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct run *t = arg;
	t->watchdog_fired = true;
	event_base_loopbreak(t->base);
}

static void run_init(struct run *t)
{
	memset(t, 0, sizeof *t);
	t->base = event_base_new();
	assert_non_null(t->base);
	t->records = json_object_new_array();
	t->spam_ok = true;
}

static void run_fini(struct run *t)
{
	runner_free(t->r);
	for (size_t i = 0; i < t->nlines; i++)
		free(t->lines[i]);
	free(t->lines);
	json_object_put(t->records);
	event_base_free(t->base);
}

/* Starts fake_runner with `input` (consumed) and runs the loop until done(). */
static void run_path(struct run *t, const char *path, struct json_object *input,
                     const char *const *redact, int64_t timeout_s, int64_t grace_s)
{
	struct runner_params p = {path, input, redact, timeout_s, grace_s};
	char err[256] = "";
	t->t_start = now_ns();
	int rc = runner_start(t->base, &p, &cbs, t, &t->r, err, sizeof err);
	t->start_call_ns = now_ns() - t->t_start;
	json_object_put(input);
	if (rc != 0)
		fail_msg("runner_start: %s", err);
	struct event *wd = evtimer_new(t->base, on_watchdog, t);
	struct timeval tv = {WATCHDOG_S, 0};
	evtimer_add(wd, &tv);
	event_base_dispatch(t->base);
	event_free(wd);
	if (t->watchdog_fired)
		fail_msg("the run did not end within %d s", WATCHDOG_S);
}

static void run_doc(struct run *t, struct json_object *input, const char *const *redact,
                    int64_t timeout_s, int64_t grace_s)
{
	run_path(t, fake_path, input, redact, timeout_s, grace_s);
}

static struct json_object *doc(const char *mode)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "mode", json_object_new_string(mode));
	return o;
}

static void run_mode(struct run *t, const char *mode, int64_t timeout_s, int64_t grace_s)
{
	run_doc(t, doc(mode), NULL, timeout_s, grace_s);
}

static bool has_line(const struct run *t, const char *line)
{
	for (size_t i = 0; i < t->nlines; i++)
		if (strcmp(t->lines[i], line) == 0)
			return true;
	return false;
}

/* Index of the first line starting with prefix, or SIZE_MAX. Lines of one stream keep their
 * order; output and protocol records are two pipes, so no order holds between them. */
static size_t find_prefix(const struct run *t, const char *prefix)
{
	for (size_t i = 0; i < t->nlines; i++)
		if (strncmp(t->lines[i], prefix, strlen(prefix)) == 0)
			return i;
	return SIZE_MAX;
}

static size_t count_prefix(const struct run *t, const char *prefix)
{
	size_t n = 0;
	for (size_t i = 0; i < t->nlines; i++)
		n += strncmp(t->lines[i], prefix, strlen(prefix)) == 0;
	return n;
}

static const char *rec_str(const struct run *t, size_t i, const char *key)
{
	struct json_object *v;
	if (!json_object_object_get_ex(json_object_array_get_idx(t->records, i), key, &v))
		return NULL;
	return json_object_get_string(v);
}

static double secs(int64_t ns)
{
	return (double)ns / 1e9;
}

static void test_ok_and_record_order(void **state)
{
	(void)state;
	struct run t;
	run_init(&t);
	run_mode(&t, "ok", 0, 5);
	assert_int_equal(t.done_calls, 1);
	assert_int_equal(t.res.status, RUN_OK);
	assert_string_equal(t.res.summary, "all good");
	assert_int_equal(t.res.signal, 0);
	assert_int_equal(t.res.exit_code, 0);
	assert_int_equal(t.started_calls, 1);
	assert_int_equal(t.records_before_started, 0);
	assert_true(t.started_mono >= t.t_start && t.started_mono <= t.t_started);
	assert_true(has_line(&t, "hello from the plugin"));
	static const char *const types[] = {"log", "progress", "counter",
	                                    "log", "state",    "summary"};
	assert_int_equal(json_object_array_length(t.records), 6);
	for (size_t i = 0; i < 6; i++)
		assert_string_equal(rec_str(&t, i, "t"), types[i]);
	assert_string_equal(rec_str(&t, 0, "msg"), "one");
	assert_string_equal(rec_str(&t, 3, "msg"), "two");
	run_fini(&t);
}

static void test_partial_and_failed(void **state)
{
	(void)state;
	struct run t;
	run_init(&t);
	run_mode(&t, "partial", 0, 5);
	assert_int_equal(t.res.status, RUN_PARTIAL);
	assert_string_equal(t.res.summary, "2 of 3");
	run_fini(&t);
	run_init(&t);
	run_mode(&t, "failed", 0, 5);
	assert_int_equal(t.res.status, RUN_FAILED);
	assert_string_equal(t.res.summary, "nope");
	assert_int_equal(t.res.exit_code, 1);
	run_fini(&t);
}

static void test_crash(void **state)
{
	(void)state;
	struct run t;
	run_init(&t);
	run_mode(&t, "crash", 0, 5);
	assert_int_equal(t.res.status, RUN_CRASHED);
	assert_int_equal(t.res.signal, SIGSEGV);
	assert_string_equal(t.res.summary, "killed by SIGSEGV");
	run_fini(&t);
}

static void test_no_result(void **state)
{
	(void)state;
	struct run t;
	run_init(&t);
	run_mode(&t, "noresult", 0, 5);
	assert_int_equal(t.res.status, RUN_CRASHED);
	assert_int_equal(t.res.signal, 0);
	assert_int_equal(t.res.exit_code, 3);
	assert_string_equal(t.res.summary, "runner exited with status 3 without a result");
	run_fini(&t);
}

static void test_timeout_sigterm(void **state)
{
	(void)state;
	struct run t;
	run_init(&t);
	run_mode(&t, "sleep", 1, 5);
	assert_int_equal(t.res.status, RUN_TIMEOUT);
	assert_string_equal(t.res.summary, "timed out after 1s");
	assert_int_equal(t.res.signal, SIGTERM);
	double el = secs(t.t_done - t.t_start);
	/* libevent's timers run on CLOCK_MONOTONIC_COARSE (one tick, up to 4 ms, early
	 * against CLOCK_MONOTONIC). */
	assert_true(el >= 0.99);
	assert_true(el < 2.0); /* SIGTERM sufficed: the 5 s grace was not waited for */
	run_fini(&t);
}

static void test_timeout_grace_sigkill(void **state)
{
	(void)state;
	struct run t;
	run_init(&t);
	run_mode(&t, "ignore-term", 1, 1);
	assert_int_equal(t.res.status, RUN_TIMEOUT);
	assert_int_equal(t.res.signal, SIGKILL);
	assert_string_equal(t.res.summary, "timed out after 1s");
	double el = secs(t.t_done - t.t_start);
	print_message("# ignore-term: timeout 1 s + grace 1 s ended after %.3f s\n", el);
	assert_true(el >= 2.0);
	assert_true(el < 3.0);
	run_fini(&t);
}

static void test_result_after_timeout_is_timeout(void **state)
{
	(void)state;
	struct run t;
	run_init(&t);
	run_mode(&t, "late-result", 1, 5);
	assert_int_equal(t.res.status, RUN_TIMEOUT);
	assert_string_equal(t.res.summary, "timed out after 1s");
	assert_int_equal(t.res.exit_code, 0); /* it did answer, and exit 0 */
	assert_int_equal(t.res.signal, 0);
	run_fini(&t);
}

static void test_cancel(void **state)
{
	(void)state;
	struct run t;
	run_init(&t);
	t.cancel_on_started = true;
	run_mode(&t, "sleep", 0, 5);
	assert_int_equal(t.res.status, RUN_CANCELLED);
	assert_int_equal(t.res.signal, SIGTERM);
	assert_true(secs(t.t_done - t.t_start) < 2.0);
	run_fini(&t);

	/* A plugin that ignores SIGTERM, ended by runner_kill well before its 60 s grace. */
	run_init(&t);
	t.cancel_on_started = true;
	t.kill_after_cancel = true;
	run_mode(&t, "ignore-term", 0, 60);
	assert_int_equal(t.res.status, RUN_CANCELLED);
	assert_int_equal(t.res.signal, SIGKILL);
	assert_true(secs(t.t_done - t.t_start) < 5.0);
	run_fini(&t);
}

/* The pid of the "grandchild" log record's fields. */
static pid_t grandchild_pid(const struct run *t)
{
	for (size_t i = 0; i < json_object_array_length(t->records); i++) {
		struct json_object *rec = json_object_array_get_idx(t->records, i), *f, *pid;
		if (json_object_object_get_ex(rec, "fields", &f) &&
		    json_object_object_get_ex(f, "pid", &pid))
			return (pid_t)json_object_get_int(pid);
	}
	return 0;
}

/* Gone: no such process, or a zombie waiting for whoever adopted it. */
static bool process_gone_now(pid_t pid)
{
	char path[64], buf[512];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return true;
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	const char *paren = strrchr(buf, ')');
	return paren && (paren[2] == 'Z' || paren[2] == 'X');
}

/* A killed process closes its files before it turns zombie: give it up to a second. */
static bool process_gone(pid_t pid)
{
	for (int i = 0; i < 100; i++) {
		if (process_gone_now(pid))
			return true;
		usleep(10000);
	}
	return false;
}

static void test_grandchild_killed_with_group(void **state)
{
	(void)state;
	struct run t;
	run_init(&t);
	run_mode(&t, "grandchild", 0, 5);
	assert_int_equal(t.res.status, RUN_OK);
	pid_t pid = grandchild_pid(&t);
	assert_true(pid > 0);
	/* It held the pipes: done() came only once it was killed, well before its 10 s and
	 * before the 2 s drain cap. */
	assert_true(secs(t.t_done - t.t_start) < 1.9);
	assert_int_equal(count_prefix(&t, "[spawn]"), 0);
	assert_true(process_gone(pid));
	run_fini(&t);
}

static void test_escaped_grandchild_capped(void **state)
{
	(void)state;
	struct run t;
	run_init(&t);
	run_mode(&t, "escape", 0, 5);
	pid_t pid = grandchild_pid(&t);
	assert_true(pid > 0);
	kill(pid, SIGKILL); /* setsid() took it out of the group: clean up ourselves */
	assert_int_equal(t.res.status, RUN_OK);
	double el = secs(t.t_done - t.t_start);
	assert_true(el >= 2.0);
	assert_true(el < 4.0);
	assert_int_equal(count_prefix(&t, "[spawn] output still open"), 1);
	run_fini(&t);
}

static void test_secrets_redacted(void **state)
{
	(void)state;
	struct run t;
	run_init(&t);
	struct json_object *in = doc("print-secret");
	json_object_object_add(in, "secret", json_object_new_string("s3cr3t-Value"));
	/* Overlapping secrets and an empty one (ignored). */
	const char *const redact[] = {"cr3t", "", "s3cr3t-Value", "Value", NULL};
	run_doc(&t, in, redact, 0, 5);
	assert_int_equal(t.res.status, RUN_OK);
	assert_string_equal(t.res.summary, "done with ***");
	assert_true(has_line(&t, "token=***"));
	assert_true(has_line(&t, "twice *** and ***."));
	assert_true(has_line(&t, "glued *** end"));
	for (size_t i = 0; i < t.nlines; i++) {
		assert_null(strstr(t.lines[i], "cr3t"));
		assert_null(strstr(t.lines[i], "Value"));
	}
	assert_int_equal(json_object_array_length(t.records), 3);
	assert_string_equal(rec_str(&t, 0, "msg"), "auth *** failed");
	struct json_object *fields, *v;
	assert_true(
	    json_object_object_get_ex(json_object_array_get_idx(t.records, 0), "fields", &fields));
	assert_true(json_object_object_get_ex(fields, "auth", &v));
	assert_string_equal(json_object_get_string(v), "Bearer ***");
	assert_true(json_object_object_get_ex(fields, "n", &v));
	assert_int_equal(json_object_get_int(v), 1);
	assert_string_equal(rec_str(&t, 1, "text"), "used ***");
	/* State is the plugin's own data, stored as given. */
	assert_string_equal(rec_str(&t, 2, "t"), "state");
	assert_string_equal(rec_str(&t, 2, "value"), "s3cr3t-Value");
	run_fini(&t);
}

/* Output is redacted line by line: each line of a multi-line secret is a secret too. */
static void test_multiline_secret_redacted(void **state)
{
	(void)state;
	const char *key =
	    "-----BEGIN TEST KEY-----\r\nQUJDREVGR0hJSktMTU5PUA==\n-----END TEST KEY-----";
	struct run t;
	run_init(&t);
	struct json_object *in = doc("print-secret");
	json_object_object_add(in, "secret", json_object_new_string(key));
	const char *const redact[] = {key, NULL};
	run_doc(&t, in, redact, 0, 5);
	assert_int_equal(t.res.status, RUN_OK);
	assert_string_equal(t.res.summary, "done with ***");
	assert_true(has_line(&t, "token=***"));
	for (size_t i = 0; i < t.nlines; i++) {
		assert_null(strstr(t.lines[i], "TEST KEY"));
		assert_null(strstr(t.lines[i], "QUJDREVGR0hJSktMTU5PUA=="));
	}
	/* In records the whole value is one string: one "***". */
	assert_string_equal(rec_str(&t, 0, "msg"), "auth *** failed");
	run_fini(&t);
}

static void expect_redacted(char *const *secrets, const char *in, const char *want)
{
	bool changed;
	char *out = spawn_redact(secrets, in, strlen(in), &changed);
	if (!want) {
		assert_false(changed);
		assert_null(out);
		return;
	}
	assert_true(changed);
	assert_non_null(out);
	assert_string_equal(out, want);
	free(out);
}

static void test_redact_rules(void **state)
{
	(void)state;
	char *overlap[] = {"abcd", "cdef", NULL};
	expect_redacted(overlap, "xxabcdefyy", "xx***yy"); /* overlapping: one stretch */
	expect_redacted(overlap, "abcd cdef", "*** ***");
	expect_redacted(overlap, "abc def", NULL);
	expect_redacted(overlap, "", NULL);
	char *one[] = {"ab", NULL};
	expect_redacted(one, "abab", "***"); /* touching: one stretch */
	expect_redacted(one, "ab-ab", "***-***");
	expect_redacted(NULL, "ab", NULL);
	char *nested[] = {"pass", "password1", NULL};
	expect_redacted(nested, "a password1 b pass", "a *** b ***");
	/* A tail that begins a secret is dropped; a whole secret or unrelated text is kept. */
	char *sec[] = {"secret", NULL};
	assert_int_equal(spawn_redact_tail(sec, "hello sec", 9), 6);
	assert_int_equal(spawn_redact_tail(sec, "hello s", 7), 6);
	assert_int_equal(spawn_redact_tail(sec, "hello secret", 12), 12);
	assert_int_equal(spawn_redact_tail(sec, "hello", 5), 5);
	assert_int_equal(spawn_redact_tail(NULL, "hello sec", 9), 9);
}

/* The cut of an over-long line must not leave the first half of a secret behind. */
static void test_secret_across_line_cut(void **state)
{
	(void)state;
	struct run t;
	run_init(&t);
	struct json_object *in = doc("cut-secret");
	json_object_object_add(in, "secret", json_object_new_string("SECRETVALUE"));
	const char *const redact[] = {"SECRETVALUE", NULL};
	run_doc(&t, in, redact, 0, 5);
	assert_int_equal(t.res.status, RUN_OK);
	assert_int_equal(t.nlines, 1);
	size_t xs = strspn(t.lines[0], "x");
	assert_int_equal(xs, RUNPROTO_MAX_LINE - 4);
	assert_string_equal(t.lines[0] + xs, " [line truncated]");
	run_fini(&t);
}

/* A line is never cut inside a UTF-8 sequence. */
static void test_cut_keeps_utf8_whole(void **state)
{
	(void)state;
	struct run t;
	run_init(&t);
	run_mode(&t, "utf8-cut", 0, 5);
	assert_int_equal(t.res.status, RUN_OK);
	assert_int_equal(t.nlines, 1);
	size_t xs = strspn(t.lines[0], "x");
	assert_int_equal(xs, RUNPROTO_MAX_LINE - 1);
	assert_string_equal(t.lines[0] + xs, " [line truncated]");
	run_fini(&t);
}

static void test_long_lines(void **state)
{
	(void)state;
	struct run t;
	run_init(&t);
	run_mode(&t, "bigline", 0, 5);
	assert_int_equal(t.res.status, RUN_OK);
	assert_int_equal(t.nlines, 4);
	char *want = malloc(RUNPROTO_MAX_LINE + 32);
	memset(want, 'x', RUNPROTO_MAX_LINE);
	strcpy(want + RUNPROTO_MAX_LINE, " [line truncated]");
	size_t x = find_prefix(&t, "xxx"), after = find_prefix(&t, "after"),
	       tail = find_prefix(&t, "tail-without-newline");
	assert_true(x < after && after < tail && tail < t.nlines);
	assert_string_equal(t.lines[x], want);
	free(want);
	assert_string_equal(t.lines[after], "after");
	assert_string_equal(t.lines[tail], "tail-without-newline");
	size_t bad = find_prefix(&t, "[protocol] bad record: line longer than 65536 bytes: {yyy");
	assert_true(bad < t.nlines);
	/* quoted up to 200 bytes, itself marked as cut */
	assert_int_equal(strlen(t.lines[bad]),
	                 strlen("[protocol] bad record: line longer than 65536 bytes: ") + 200 +
	                     strlen(" [line truncated]"));
	run_fini(&t);
}

static void test_bad_records(void **state)
{
	(void)state;
	struct run t;
	run_init(&t);
	run_mode(&t, "badjson", 0, 5);
	assert_int_equal(t.res.status, RUN_OK);
	assert_string_equal(t.res.summary, "survived");
	assert_true(has_line(&t, "[protocol] bad record: not JSON: not json"));
	assert_true(has_line(&t, "[protocol] bad record: no string member \"t\": {\"t\":1}"));
	assert_true(has_line(&t, "[protocol] bad record: not a JSON object: [1,2]"));
	assert_int_equal(count_prefix(&t, "[protocol] bad record: \"started\" without"), 1);
	assert_int_equal(count_prefix(&t, "[protocol] bad record: \"result\" status is not"), 1);
	assert_int_equal(count_prefix(&t, "[protocol] bad record: text after the record"), 1);
	assert_int_equal(count_prefix(&t, "[protocol] bad record: second \"result\""), 1);
	assert_int_equal(t.nlines, 7);
	assert_int_equal(json_object_array_length(t.records), 1);
	assert_string_equal(rec_str(&t, 0, "msg"), "still here");
	run_fini(&t);
}

static void test_environment_not_inherited(void **state)
{
	(void)state;
	setenv("CHORED_TEST_CANARY", "inherited-secret", 1);
	struct run t;
	run_init(&t);
	run_mode(&t, "env", 0, 5);
	unsetenv("CHORED_TEST_CANARY");
	assert_int_equal(t.res.status, RUN_OK);
	assert_int_equal(count_prefix(&t, "env "), 2);
	assert_true(has_line(&t, "env PATH=/usr/local/bin:/usr/bin:/bin"));
	assert_true(has_line(&t, "env LANG=C.UTF-8"));
	for (size_t i = 0; i < t.nlines; i++)
		assert_null(strstr(t.lines[i], "CANARY"));
	run_fini(&t);
}

static void on_sigterm(int sig)
{
	(void)sig;
}

/* Only fds 0-3 reach the runner, even one the daemon leaked without O_CLOEXEC; it leads its
 * own process group, with an empty signal mask and default dispositions. */
static void test_fds_group_and_signals(void **state)
{
	(void)state;
	int null = open("/dev/null", O_RDONLY);
	int leak = fcntl(null, F_DUPFD, 10); /* inherited across exec unless closed */
	close(null);
	assert_true(leak >= 10);
	sigset_t term, old;
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigprocmask(SIG_BLOCK, &term, &old);
	struct sigaction sa = {.sa_handler = on_sigterm}, old_sa;
	sigaction(SIGTERM, &sa, &old_sa);

	struct run t;
	run_init(&t);
	run_mode(&t, "fds", 0, 5);
	pid_t pid = runner_pid(t.r);
	sigaction(SIGTERM, &old_sa, NULL);
	sigprocmask(SIG_SETMASK, &old, NULL);
	close(leak);

	assert_int_equal(t.res.status, RUN_OK);
	assert_int_equal(count_prefix(&t, "fd "), 4);
	for (int fd = 0; fd <= 3; fd++) {
		char want[16];
		snprintf(want, sizeof want, "fd %d", fd);
		assert_true(has_line(&t, want));
	}
	char want[64];
	snprintf(want, sizeof want, "pgid %d pid %d masked 0 termdfl 1", (int)pid, (int)pid);
	assert_true(has_line(&t, want));
	run_fini(&t);
}

static void test_ten_megabytes_not_lost(void **state)
{
	(void)state;
	struct run t;
	run_init(&t);
	t.count_only = true;
	run_mode(&t, "spam", 0, 5);
	assert_int_equal(t.res.status, RUN_OK);
	assert_true(t.spam_ok);
	assert_int_equal(t.spam_next, 10L * 1024 * 1024 / 100);
	/* progress records every 1000 lines, in order */
	size_t n = json_object_array_length(t.records);
	assert_int_equal(n, (size_t)((t.spam_next + 999) / 1000));
	for (size_t i = 0; i < n; i++) {
		struct json_object *v;
		json_object_object_get_ex(json_object_array_get_idx(t.records, i), "done", &v);
		assert_int_equal(json_object_get_int64(v), (int64_t)i * 1000);
	}
	run_fini(&t);
}

static uint64_t fnv1a(const char *s, size_t n, uint64_t h)
{
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= UINT64_C(1099511628211);
	}
	return h;
}

static void test_one_megabyte_input_intact(void **state)
{
	(void)state;
	size_t big = 1024 * 1024;
	char *pad = malloc(big + 1);
	for (size_t i = 0; i < big; i++)
		pad[i] = (char)('a' + i % 26);
	pad[big] = '\0';
	struct json_object *in = doc("input");
	json_object_object_add(in, "pad", json_object_new_string(pad));
	free(pad);
	size_t len;
	const char *text = json_object_to_json_string_length(in, JSON_C_TO_STRING_PLAIN, &len);
	uint64_t h = fnv1a("\n", 1, fnv1a(text, len, UINT64_C(14695981039346656037)));
	char want[64];
	snprintf(want, sizeof want, "len=%zu hash=%016" PRIx64, len + 1, h);
	struct run t;
	run_init(&t);
	run_doc(&t, in, NULL, 0, 5);
	assert_int_equal(t.res.status, RUN_OK);
	assert_string_equal(t.res.summary, want);
	run_fini(&t);
}

/* A runner that exits without reading a 1 MB input: the write fails, nothing hangs. */
static void test_input_unread(void **state)
{
	(void)state;
	struct json_object *in = doc("no-read");
	char *pad = malloc(1024 * 1024 + 1);
	memset(pad, 'p', 1024 * 1024);
	pad[1024 * 1024] = '\0';
	json_object_object_add(in, "pad", json_object_new_string(pad));
	free(pad);
	struct run t;
	run_init(&t);
	run_doc(&t, in, NULL, 0, 5);
	assert_int_equal(t.res.status, RUN_CRASHED);
	assert_int_equal(t.res.exit_code, 5);
	assert_int_equal(t.started_calls, 0);
	run_fini(&t);
}

static int count_fds(void)
{
	int n = 0;
	DIR *d = opendir("/proc/self/fd");
	assert_non_null(d);
	struct dirent *de;
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

static double cpu_us(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* No fd survives 50 runs of every kind of ending; the figures of the runs that went well. */
static void test_no_fd_leak_and_figures(void **state)
{
	(void)state;
	static const char *const modes[] = {"ok", "crash", "noresult", "badjson", "ok"};
	enum { RUNS = 50 };
	int before = count_fds();
	int64_t lag[RUNS], call[RUNS];
	size_t nlag = 0;
	double cpu0 = cpu_us();
	for (int i = 0; i < RUNS; i++) {
		struct run t;
		run_init(&t);
		run_mode(&t, modes[i % 5], 0, 5);
		assert_int_equal(t.done_calls, 1);
		call[i] = t.start_call_ns;
		if (t.started_calls)
			lag[nlag++] = t.started_mono - t.t_start;
		run_fini(&t);
	}
	double cpu = (cpu_us() - cpu0) / RUNS;
	assert_int_equal(count_fds(), before);
	assert_int_equal(nlag, RUNS);
	qsort(lag, nlag, sizeof *lag, cmp_i64);
	print_message("# runner_start -> fake_runner main(): median %.0f us, p90 %.0f us "
	              "(%d runs)\n",
	              (double)lag[nlag / 2] / 1e3, (double)lag[nlag * 9 / 10] / 1e3, RUNS);
	qsort(call, RUNS, sizeof *call, cmp_i64);
	print_message("# runner_start call (pipes, posix_spawn, pidfd, events): median %.0f us\n",
	              (double)call[RUNS / 2] / 1e3);
	print_message("# daemon-side CPU per run (this process, user+sys): %.0f us\n", cpu);
}

static void test_spawn_error(void **state)
{
	(void)state;
	int before = count_fds();
	struct event_base *base = event_base_new();
	struct json_object *in = doc("ok");
	struct runner_params p = {"/nonexistent/chored-run", in, NULL, 0, 5};
	struct runner *r = (struct runner *)1;
	char err[256];
	assert_int_equal(runner_start(base, &p, &cbs, NULL, &r, err, sizeof err), -1);
	assert_null(r);
	assert_non_null(strstr(err, "/nonexistent/chored-run"));
	assert_non_null(strstr(err, strerror(ENOENT)));
	json_object_put(in);
	event_base_free(base);
	assert_int_equal(count_fds(), before);
}

static void test_free_at_any_time(void **state)
{
	(void)state;
	/* Freed live, before the loop ever ran: killed and reaped, done() never called. */
	struct run t;
	run_init(&t);
	struct json_object *in = doc("sleep");
	struct runner_params p = {fake_path, in, NULL, 0, 5};
	char err[256];
	assert_int_equal(runner_start(t.base, &p, &cbs, &t, &t.r, err, sizeof err), 0);
	json_object_put(in);
	pid_t pid = runner_pid(t.r);
	runner_free(t.r);
	t.r = NULL;
	assert_int_equal(waitpid(pid, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
	event_base_dispatch(t.base); /* nothing left to fire */
	assert_int_equal(t.done_calls, 0);
	run_fini(&t);

	/* Freed from inside output(), in the middle of a stream of lines. */
	run_init(&t);
	t.free_on_output = true;
	t.count_only = true;
	run_mode(&t, "spam", 0, 5);
	assert_null(t.r);
	assert_int_equal(t.done_calls, 0);
	event_base_loop(t.base, EVLOOP_NONBLOCK);
	assert_int_equal(t.done_calls, 0);
	run_fini(&t);

	/* Freed from done(). */
	run_init(&t);
	t.free_in_done = true;
	run_mode(&t, "ok", 0, 5);
	assert_int_equal(t.done_calls, 1);
	assert_null(t.r);
	run_fini(&t);
}

/* The input document chored would send to run testplug with `mode`. */
static struct json_object *real_doc(const char *mode, const char *token)
{
	struct json_object *o = json_object_new_object(), *opts = json_object_new_object();
	json_object_object_add(o, "plugin", json_object_new_string(testplug_path));
	json_object_object_add(o, "job", json_object_new_string("spawntest"));
	json_object_object_add(o, "run_id", json_object_new_string("r1"));
	json_object_object_add(o, "nominal", json_object_new_int64(1767225600));
	json_object_object_add(o, "dry_run", json_object_new_boolean(0));
	json_object_object_add(opts, "mode", json_object_new_string(mode));
	if (token) {
		json_object_object_add(opts, "token", json_object_new_string(token));
		struct json_object *red = json_object_new_array();
		json_object_array_add(red, json_object_new_string(token));
		json_object_object_add(o, "redact", red);
	}
	json_object_object_add(o, "options", opts);
	json_object_object_add(o, "state", json_object_new_object());
	return o;
}

static void test_real_runner_outcomes(void **state)
{
	(void)state;
	struct run t;
	run_init(&t);
	run_path(&t, runner_path, real_doc("ok", NULL), NULL, 0, 5);
	assert_int_equal(t.res.status, RUN_OK);
	assert_string_equal(t.res.summary, "ok");
	assert_int_equal(t.started_calls, 1);
	assert_int_equal(t.records_before_started, 0);
	run_fini(&t);

	run_init(&t);
	run_path(&t, runner_path, real_doc("partial", NULL), NULL, 0, 5);
	assert_int_equal(t.res.status, RUN_PARTIAL);
	assert_string_equal(t.res.summary, "2 of 3 items");
	run_fini(&t);

	run_init(&t);
	run_path(&t, runner_path, real_doc("segv", NULL), NULL, 0, 5);
	assert_int_equal(t.res.status, RUN_CRASHED);
	assert_int_equal(t.res.signal, SIGSEGV);
	assert_string_equal(t.res.summary, "killed by SIGSEGV");
	run_fini(&t);

	/* sleep sleeps 30 s: the 1 s timeout ends it, the plugin's cancel or SIGTERM within the
	 * 2 s grace. */
	run_init(&t);
	run_path(&t, runner_path, real_doc("sleep", NULL), NULL, 1, 2);
	assert_int_equal(t.res.status, RUN_TIMEOUT);
	assert_string_equal(t.res.summary, "timed out after 1s");
	double el = secs(t.t_done - t.t_start);
	assert_true(el >= 1.0);
	assert_true(el < 4.0);
	run_fini(&t);
}

static void test_real_runner_secret(void **state)
{
	(void)state;
	const char *token = "tok-5ecr3t-99";
	const char *const redact[] = {token, NULL};
	struct run t;
	run_init(&t);
	run_path(&t, runner_path, real_doc("print-secret", token), redact, 0, 5);
	assert_int_equal(t.res.status, RUN_OK);
	assert_string_equal(t.res.summary, "summary token=***");
	assert_true(has_line(&t, "stdout token=***"));
	assert_true(has_line(&t, "stderr token=***"));
	for (size_t i = 0; i < t.nlines; i++)
		assert_null(strstr(t.lines[i], "5ecr3t"));
	const char *text = json_object_to_json_string(t.records);
	assert_null(strstr(text, "5ecr3t"));
	assert_non_null(strstr(text, "log token=***"));
	run_fini(&t);
}

/* Pre-spawn: with "release_ns" the runner loads the plugin, checks it and waits by itself;
 * run() is entered at that CLOCK_REALTIME instant, never before, and within milliseconds
 * after. The daemon does nothing at the instant. */
static int64_t real_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void on_kill_held(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct run *t = arg;
	runner_kill(t->r);
}

/* Runs testplug mode ok released at `release_ns`; with kill_ms > 0, killed that many ms
 * after the start instead. */
static void run_held(struct run *t, int64_t release_ns, long kill_ms)
{
	struct json_object *in = real_doc("ok", NULL);
	json_object_object_add(in, "release_ns", json_object_new_int64(release_ns));
	struct runner_params p = {runner_path, in, NULL, 0, 5};
	char err[256] = "";
	t->t_start = now_ns();
	int rc = runner_start(t->base, &p, &cbs, t, &t->r, err, sizeof err);
	json_object_put(in);
	if (rc != 0)
		fail_msg("runner_start: %s", err);
	struct event *kill_ev = evtimer_new(t->base, on_kill_held, t);
	if (kill_ms > 0) {
		struct timeval at = {0, kill_ms * 1000};
		evtimer_add(kill_ev, &at);
	}
	struct event *wd = evtimer_new(t->base, on_watchdog, t);
	struct timeval tv = {WATCHDOG_S, 0};
	evtimer_add(wd, &tv);
	event_base_dispatch(t->base);
	event_free(wd);
	event_free(kill_ev);
	if (t->watchdog_fired)
		fail_msg("the run did not end within %d s", WATCHDOG_S);
}

static void test_real_runner_hold(void **state)
{
	(void)state;
	enum { RUNS = 10 };
	int64_t lag[RUNS];
	for (int i = 0, tries = 0; i < RUNS; i++) {
		struct run t;
		run_init(&t);
		int64_t release = real_ns() + 400000000, offset = real_ns() - now_ns();
		run_held(&t, release, 0);
		/* daemon_clock.sh steps the wall clock (the runner then goes at once, by
		 * design): a run that saw a step says nothing about the wait; run it again. */
		int64_t moved = real_ns() - now_ns() - offset;
		if ((moved > 50000000 || moved < -50000000) && ++tries < 20) {
			run_fini(&t);
			i--;
			continue;
		}
		assert_int_equal(t.res.status, RUN_OK);
		assert_int_equal(t.started_calls, 1);
		assert_true(t.started_real >= release); /* never before the instant */
		lag[i] = t.started_real - release;
		assert_true(lag[i] < 100000000);
		run_fini(&t);
	}
	qsort(lag, RUNS, sizeof *lag, cmp_i64);
	print_message("# held runner: release_ns -> run() entered: median %.0f us, "
	              "max %.0f us (%d runs)\n",
	              (double)lag[RUNS / 2] / 1e3, (double)lag[RUNS - 1] / 1e3, RUNS);

	/* An instant already past: run() at once. */
	struct run t;
	run_init(&t);
	int64_t past = real_ns() - 5000000000;
	run_held(&t, past, 0);
	assert_int_equal(t.res.status, RUN_OK);
	assert_int_equal(t.started_calls, 1);
	assert_true(t.started_mono - t.t_start < 2000000000);
	run_fini(&t);

	/* Killed while waiting: the plugin never ran. */
	run_init(&t);
	run_held(&t, real_ns() + 800000000, 300);
	assert_int_equal(t.res.status, RUN_CANCELLED);
	assert_int_equal(t.started_calls, 0);
	run_fini(&t);
}

/* posix_spawn → plugin run() entered, with the real runner: the floor of the start lag. */
static void test_real_runner_start_lag(void **state)
{
	(void)state;
	enum { RUNS = 30 };
	int64_t lag[RUNS];
	for (int i = 0; i < RUNS; i++) {
		struct run t;
		run_init(&t);
		run_path(&t, runner_path, real_doc("ok", NULL), NULL, 0, 5);
		assert_int_equal(t.res.status, RUN_OK);
		assert_int_equal(t.started_calls, 1);
		lag[i] = t.started_mono - t.t_start;
		run_fini(&t);
	}
	qsort(lag, RUNS, sizeof *lag, cmp_i64);
	print_message("# runner_start -> chored-run + testplug run() entered: median %.0f us, "
	              "p90 %.0f us (%d runs)\n",
	              (double)lag[RUNS / 2] / 1e3, (double)lag[RUNS * 9 / 10] / 1e3, RUNS);
}

static int find_fake_runner(void)
{
	const char *top = getenv("top_builddir");
	if (top) {
		snprintf(fake_path, sizeof fake_path, "%s/tests/unit/fake_runner", top);
		snprintf(runner_path, sizeof runner_path, "%s/daemon/chored-run-uninstalled", top);
		snprintf(testplug_path, sizeof testplug_path, "%s/tests/plugins/stage/testplug.so",
		         top);
		return 0;
	}
	/* Run by hand: fake_runner sits next to this program. */
	ssize_t n = readlink("/proc/self/exe", fake_path, sizeof fake_path - 32);
	if (n <= 0)
		return -1;
	fake_path[n] = '\0';
	char *slash = strrchr(fake_path, '/');
	strcpy(slash + 1, "fake_runner");
	/* tests/unit/ → the top of the build tree */
	int dir = (int)(slash - fake_path);
	snprintf(runner_path, sizeof runner_path, "%.*s/../../daemon/chored-run-uninstalled", dir,
	         fake_path);
	snprintf(testplug_path, sizeof testplug_path, "%.*s/../../tests/plugins/stage/testplug.so",
	         dir, fake_path);
	return 0;
}

int main(void)
{
	/* As in the daemon: a runner that dies early makes writing its input fail with EPIPE. */
	signal(SIGPIPE, SIG_IGN);
	if (find_fake_runner() != 0) {
		fprintf(stderr, "test_spawn: cannot locate the build tree\n");
		return 1;
	}
	const char *need[] = {fake_path, runner_path, testplug_path};
	for (size_t i = 0; i < 3; i++) {
		if (access(need[i], R_OK) != 0) {
			fprintf(stderr, "test_spawn: %s: %s (run through make check)\n", need[i],
			        strerror(errno));
			return 1;
		}
	}
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ok_and_record_order),
	    cmocka_unit_test(test_partial_and_failed),
	    cmocka_unit_test(test_crash),
	    cmocka_unit_test(test_no_result),
	    cmocka_unit_test(test_timeout_sigterm),
	    cmocka_unit_test(test_timeout_grace_sigkill),
	    cmocka_unit_test(test_result_after_timeout_is_timeout),
	    cmocka_unit_test(test_cancel),
	    cmocka_unit_test(test_grandchild_killed_with_group),
	    cmocka_unit_test(test_escaped_grandchild_capped),
	    cmocka_unit_test(test_secrets_redacted),
	    cmocka_unit_test(test_multiline_secret_redacted),
	    cmocka_unit_test(test_redact_rules),
	    cmocka_unit_test(test_secret_across_line_cut),
	    cmocka_unit_test(test_cut_keeps_utf8_whole),
	    cmocka_unit_test(test_long_lines),
	    cmocka_unit_test(test_bad_records),
	    cmocka_unit_test(test_environment_not_inherited),
	    cmocka_unit_test(test_fds_group_and_signals),
	    cmocka_unit_test(test_ten_megabytes_not_lost),
	    cmocka_unit_test(test_one_megabyte_input_intact),
	    cmocka_unit_test(test_input_unread),
	    cmocka_unit_test(test_no_fd_leak_and_figures),
	    cmocka_unit_test(test_spawn_error),
	    cmocka_unit_test(test_free_at_any_time),
	    cmocka_unit_test(test_real_runner_outcomes),
	    cmocka_unit_test(test_real_runner_secret),
	    cmocka_unit_test(test_real_runner_start_lag),
	    cmocka_unit_test(test_real_runner_hold),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

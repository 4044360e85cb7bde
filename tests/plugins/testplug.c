/* testplug: a test-only plugin whose option `mode` picks a behaviour (see the table in
 * check()); used by the runner and daemon tests. Never installed. */
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <chored/notify.h>
#include <chored/plugin.h>
#include <chored/report.h>

extern char **environ;

static const char *const modes[] = {"ok",   "fail",         "partial",     "segv",     "sleep",
                                    "spin", "print-secret", "state",       "progress", "child",
                                    "out",  "now",          "report-spin", NULL};

static const struct chored_option options[] = {
    {"mode", CHORED_OPT_STRING, 0, "ok",
     "ok, fail, partial, segv, sleep, spin, print-secret, "
     "state, progress, child, out, now or report-spin"},
    {"seconds", CHORED_OPT_DURATION, 0, "30s", "how long sleep mode sleeps"},
    {"token", CHORED_OPT_STRING, CHORED_OPT_SECRET, NULL, "a secret print-secret prints"},
    {"count", CHORED_OPT_INT, 0, "3", "steps of progress mode"},
    {"lines", CHORED_OPT_INT, 0, "10", "lines out mode prints on stdout"},
    {"pidfile", CHORED_OPT_PATH, 0, NULL, "where child mode writes the child's pid"},
    {NULL, 0, 0, NULL, NULL},
};

static volatile sig_atomic_t cancel_called;

static int check(struct chored_job *job)
{
	const char *mode = chored_job_opt(job, "mode");
	for (size_t i = 0; modes[i]; i++)
		if (strcmp(mode, modes[i]) == 0)
			return 0;
	chored_job_error(job, "mode", "unknown mode '%s'", mode);
	return -1;
}

static void cancel(struct chored_job *job)
{
	(void)job;
	cancel_called = 1;
}

static void nap_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};
	nanosleep(&ts, NULL);
}

/* Sleeps `seconds`, waking every 10 ms to honour cancel. */
static enum chored_status do_sleep(struct chored_job *job)
{
	int64_t ms = chored_job_opt_int(job, "seconds") * 1000;
	for (int64_t t = 0; t < ms; t += 10) {
		if (chored_job_cancelled(job)) {
			chored_log(job, CHORED_LOG_NOTICE, "cancelled (callback %s)",
			           cancel_called ? "called" : "not called");
			chored_summary(job, "cancelled after %lld ms", (long long)t);
			return CHORED_FAILED;
		}
		nap_ms(10);
	}
	chored_summary(job, "slept %lld s", (long long)(ms / 1000));
	return CHORED_OK;
}

/* Burns CPU and ignores cancel: only SIGKILL (or RLIMIT_CPU) ends it. */
static enum chored_status do_spin(struct chored_job *job)
{
	chored_log(job, CHORED_LOG_INFO, "spinning");
	for (volatile unsigned long n = 0;; n++)
		;
	return CHORED_FAILED;
}

static enum chored_status do_print_secret(struct chored_job *job)
{
	const char *tok = chored_job_opt(job, "token");
	if (!tok)
		tok = "";
	printf("stdout token=%s\n", tok);
	fflush(stdout);
	fprintf(stderr, "stderr token=%s\n", tok);
	chored_log(job, CHORED_LOG_INFO, "log token=%s", tok);
	chored_log_kv(job, CHORED_LOG_INFO, "fields", "token", tok, NULL);
	chored_summary(job, "summary token=%s", tok);
	return CHORED_OK;
}

static enum chored_status do_state(struct chored_job *job)
{
	const char *v = chored_state_get(job, "n");
	long n = v ? strtol(v, NULL, 10) : 0;
	char buf[32];
	snprintf(buf, sizeof buf, "%ld", n + 1);
	chored_state_set(job, "n", buf);
	chored_summary(job, "n=%ld", n + 1);
	return CHORED_OK;
}

static enum chored_status do_progress(struct chored_job *job)
{
	int64_t count = chored_job_opt_int(job, "count");
	for (int64_t i = 1; i <= count; i++) {
		chored_progress(job, (uint64_t)i, (uint64_t)count);
		chored_counter_add(job, "items", 1);
	}
	chored_counter_add(job, "bytes", 1024);
	chored_summary(job, "%lld items", (long long)count);
	return CHORED_OK;
}

/* Starts `sleep 300` and waits for it: the process-group kill must end both. */
static enum chored_status do_child(struct chored_job *job)
{
	char *argv[] = {"sleep", "300", NULL};
	pid_t pid;
	int err = posix_spawnp(&pid, "sleep", NULL, NULL, argv, environ);
	if (err) {
		chored_summary(job, "cannot start sleep: %s", strerror(err));
		return CHORED_FAILED;
	}
	printf("child pid %ld\n", (long)pid);
	fflush(stdout);
	const char *pidfile = chored_job_opt(job, "pidfile");
	if (pidfile) {
		FILE *f = fopen(pidfile, "w");
		if (f) {
			fprintf(f, "%ld\n", (long)pid);
			fclose(f);
		}
	}
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	chored_summary(job, "child ended");
	return CHORED_FAILED;
}

static enum chored_status do_out(struct chored_job *job)
{
	int64_t lines = chored_job_opt_int(job, "lines");
	for (int64_t i = 1; i <= lines; i++)
		printf("line %lld\n", (long long)i);
	fflush(stdout);
	chored_summary(job, "%lld lines", (long long)lines);
	return CHORED_OK;
}

static enum chored_status run(struct chored_job *job)
{
	const char *mode = chored_job_opt(job, "mode");
	if (strcmp(mode, "fail") == 0) {
		chored_log(job, CHORED_LOG_ERR, "failing on purpose");
		chored_summary(job, "failed on purpose");
		return CHORED_FAILED;
	}
	if (strcmp(mode, "partial") == 0) {
		chored_summary(job, "2 of 3 items");
		return CHORED_PARTIAL;
	}
	if (strcmp(mode, "segv") == 0) {
		/* The default action even under a sanitizer's handler: the runner must die of it.
		 */
		signal(SIGSEGV, SIG_DFL);
		raise(SIGSEGV);
		return CHORED_FAILED;
	}
	if (strcmp(mode, "sleep") == 0)
		return do_sleep(job);
	if (strcmp(mode, "spin") == 0)
		return do_spin(job);
	if (strcmp(mode, "report-spin") == 0) {
		/* Its own report first, then a hang: chored must not report the timeout again. */
		struct chored_report *r = chored_report_new("report-spin: done");
		chored_report_set_status(r, CHORED_FAILED);
		chored_report_paragraph(r, "sent by the plugin");
		chored_notify(job, r);
		chored_report_free(r);
		return do_spin(job);
	}
	if (strcmp(mode, "print-secret") == 0)
		return do_print_secret(job);
	if (strcmp(mode, "state") == 0)
		return do_state(job);
	if (strcmp(mode, "progress") == 0)
		return do_progress(job);
	if (strcmp(mode, "child") == 0)
		return do_child(job);
	if (strcmp(mode, "out") == 0)
		return do_out(job);
	if (strcmp(mode, "now") == 0) {
		chored_summary(job, "now=%lld nominal=%lld dry_run=%s run_id=%s job=%s",
		               (long long)chored_job_now(job),
		               (long long)chored_job_nominal_time(job),
		               chored_job_dry_run(job) ? "yes" : "no", chored_job_run_id(job),
		               chored_job_name(job));
		return CHORED_OK;
	}
	chored_log(job, CHORED_LOG_INFO, "testplug ok");
	chored_summary(job, "ok");
	return CHORED_OK;
}

CHORED_EXPORT const struct chored_plugin chored_plugin_v1 = {
    CHORED_PLUGIN_HEADER, .name = "testplug",
    .version = "1.0",     .summary = "test-only plugin with selectable behaviours",
    .options = options,   .check = check,
    .run = run,           .cancel = cancel,
};

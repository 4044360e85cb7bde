/* chored-run: serves one run of one plugin (daemon/runproto.h). Reads the input document
 * on fd 0, applies the limits, loads the plugin, calls run() and streams JSON-line records
 * on fd 3, ending with "result". Links only libchored, json-c and libdl: start-up time is
 * part of every run's start lag. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "chored-build.h"
#include "chored/notify.h"
#include "chored/report.h"
#include "job_impl.h"
#include "job_private.h"
#include "notify_impl.h"
#include "run_limits.h"
#include "run_out.h"
#include "runproto.h"
#include "sysexits_compat.h"

#define MAX_INPUT (4u << 20)  /* bytes of the input document */
#define CUT_TEXT  (32u << 10) /* a log message or summary longer than this is cut */

/* The job and plugin the SIGTERM handler reaches. */
static struct chored_job *volatile sig_job;
static const struct chored_plugin *volatile sig_plugin;
/* The job whose plugin is in run(): once it has called chored_notify, a "notified" record
 * tells chored not to report a later crash or timeout again (runproto.h). */
static struct chored_job *run_job;
static bool notified_sent;

static void on_sigterm(int sig)
{
	(void)sig;
	int saved = errno;
	if (sig_job) {
		chored__job_cancel(sig_job);
		if (sig_plugin && sig_plugin->cancel)
			sig_plugin->cancel(sig_job);
	}
	errno = saved;
}

/* `s` cut to at most `max` bytes on a UTF-8 boundary, with a marker. New string. */
static char *cut_text(const char *s, size_t max)
{
	size_t n = strlen(s);
	if (n <= max)
		return strdup(s);
	while (n > max || (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80))
		n--;
	char *out = malloc(n + sizeof " [cut]");
	if (out) {
		memcpy(out, s, n);
		memcpy(out + n, " [cut]", sizeof " [cut]");
	}
	return out;
}

/* A copy of a record too long for one protocol line, with its text cut and its fields
 * dropped (log, summary); NULL for other records, which are sent whole. */
static struct json_object *shorten(struct json_object *rec)
{
	struct json_object *t, *v;
	if (!json_object_object_get_ex(rec, "t", &t))
		return NULL;
	const char *type = json_object_get_string(t);
	const char *member = strcmp(type, "log") == 0       ? "msg"
	                     : strcmp(type, "summary") == 0 ? "text"
	                     : strcmp(type, "result") == 0  ? "summary"
	                                                    : NULL;
	if (!member || !json_object_object_get_ex(rec, member, &v))
		return NULL;
	struct json_object *copy = json_object_new_object();
	json_object_object_foreach(rec, key, val)
	{
		if (strcmp(key, "fields") == 0)
			continue;
		if (strcmp(key, member) == 0) {
			char *c = cut_text(json_object_get_string(val), CUT_TEXT);
			json_object_object_add(copy, key, json_object_new_string(c ? c : ""));
			free(c);
		} else {
			json_object_object_add(copy, key, json_object_get(val));
		}
	}
	return copy;
}

static void emit_line(void *data, struct json_object *rec);

/* Sends "notified" once, before the first record that follows the plugin's chored_notify
 * call (which logs one line per sink): job_notify.notified is libchored's own flag. */
static void check_notified(void)
{
	if (notified_sent || !run_job || !run_job->notify || !run_job->notify->notified)
		return;
	notified_sent = true;
	struct json_object *rec = json_object_new_object();
	json_object_object_add(rec, "t", json_object_new_string("notified"));
	emit_line(NULL, rec);
	json_object_put(rec);
}

/* The emit sink: one record, one line, queued for fd 3 (run_out.h). */
static void emit_line(void *data, struct json_object *rec)
{
	(void)data;
	check_notified();
	const int flags = JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE;
	size_t len;
	const char *s = json_object_to_json_string_length(rec, flags, &len);
	struct json_object *short_rec = NULL;
	if (len + 1 > RUNPROTO_MAX_LINE && (short_rec = shorten(rec)))
		s = json_object_to_json_string_length(short_rec, flags, &len);
	char *line = malloc(len + 1);
	if (line) {
		memcpy(line, s, len);
		line[len] = '\n';
		run_out_line(line, len + 1);
		free(line);
	}
	json_object_put(short_rec);
}

/* Bytes read from fd 0 so far, for the offsets in error messages. */
static size_t input_total;

/* Index of the first byte of p[0..n) that is not a blank (a NUL byte is not one), or n. */
static size_t first_nonblank(const char *p, size_t n)
{
	size_t i = 0;
	while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
		i++;
	return i;
}

/* Reads fd 0 until one complete JSON object has arrived (at most MAX_INPUT bytes); the rest
 * (blanks, EOF) is read by wait_release. Returns the document, or NULL with err set. */
static struct json_object *read_document(char *err, size_t errlen)
{
	struct json_tokener *tok = json_tokener_new();
	if (!tok) {
		snprintf(err, errlen, "input: out of memory");
		return NULL;
	}
	char buf[64 * 1024];
	struct json_object *doc = NULL;
	for (;;) {
		ssize_t n = read(0, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, errlen, "input: cannot read fd 0: %s", strerror(errno));
			break;
		}
		if (n == 0) {
			snprintf(err, errlen, "input: the JSON document is incomplete (%zu bytes)",
			         input_total);
			break;
		}
		size_t before = input_total;
		input_total += (size_t)n;
		if (input_total > MAX_INPUT) {
			snprintf(err, errlen, "input: the document is larger than %u MiB",
			         MAX_INPUT >> 20);
			break;
		}
		doc = json_tokener_parse_ex(tok, buf, (int)n);
		enum json_tokener_error jerr = json_tokener_get_error(tok);
		if (jerr == json_tokener_continue)
			continue;
		size_t end = json_tokener_get_parse_end(tok);
		size_t rest = end + first_nonblank(buf + end, (size_t)n - end);
		if (jerr != json_tokener_success)
			snprintf(err, errlen, "input: invalid JSON at byte %zu: %s", before + end,
			         json_tokener_error_desc(jerr));
		else if (!json_object_is_type(doc, json_type_object))
			snprintf(err, errlen, "input: the document is not a JSON object");
		else if (rest < (size_t)n)
			snprintf(err, errlen,
			         "input: unexpected data after the document at byte %zu",
			         before + rest);
		break;
	}
	if (err[0]) {
		json_object_put(doc);
		doc = NULL;
	}
	json_tokener_free(tok);
	return doc;
}

#define NS_PER_S INT64_C(1000000000)

static int64_t real_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

/* CLOCK_REALTIME when the run was let go (the "started" record's released_ns). */
static int64_t released_ns;

/* Sleeps until CLOCK_REALTIME reaches release_ns, on a timer that a setting of the wall
 * clock cancels (as the daemon's own is): after a step either way, or a resume, the run
 * goes at once instead of waiting for an instant the step moved away. */
static void wait_instant(int64_t release_ns)
{
	if (real_now_ns() >= release_ns)
		return;
	struct timespec at = {(time_t)(release_ns / NS_PER_S), (long)(release_ns % NS_PER_S)};
	int fd = timerfd_create(CLOCK_REALTIME, TFD_CLOEXEC);
	struct itimerspec its = {.it_value = at};
	/* chored sends an instant ~100 ms ahead: one further off means the clock was stepped
	 * back before the timer was armed (which CANCEL_ON_SET cannot see): go now. */
	if (fd >= 0 &&
	    timerfd_settime(fd, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &its, NULL) == 0) {
		uint64_t ticks;
		if (release_ns - real_now_ns() > NS_PER_S) {
			close(fd);
			return;
		}
		while (read(fd, &ticks, sizeof ticks) < 0 && errno == EINTR)
			; /* ECANCELED: the clock was set, go now */
	} else {
		while (clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &at, NULL) == EINTR)
			;
	}
	if (fd >= 0)
		close(fd);
}

/* Waits for EOF on fd 0 (chored closes it after the document); anything but blanks after
 * the document is an error. Then fd 0 becomes /dev/null for the plugin, and a run spawned
 * ahead of its slot waits for the instant ("release_ns"). */
static int wait_release(struct json_object *doc, char *err, size_t errlen)
{
	char buf[4096];
	for (;;) {
		ssize_t n = read(0, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, errlen, "input: cannot read fd 0: %s", strerror(errno));
			return -1;
		}
		if (n == 0)
			break;
		size_t at = first_nonblank(buf, (size_t)n);
		if (at < (size_t)n) {
			snprintf(err, errlen,
			         "input: unexpected data after the document at byte %zu",
			         input_total + at);
			return -1;
		}
		input_total += (size_t)n;
		if (input_total > MAX_INPUT) {
			snprintf(err, errlen, "input: the document is larger than %u MiB",
			         MAX_INPUT >> 20);
			return -1;
		}
	}
	int devnull = open("/dev/null", O_RDONLY);
	if (devnull < 0 || dup2(devnull, 0) < 0) {
		snprintf(err, errlen, "cannot reopen fd 0 on /dev/null: %s", strerror(errno));
		return -1;
	}
	if (devnull > 0)
		close(devnull);
	struct json_object *v;
	if (json_object_object_get_ex(doc, "release_ns", &v)) {
		if (!json_object_is_type(v, json_type_int)) {
			snprintf(err, errlen, "input: \"release_ns\" is not an integer");
			return -1;
		}
		wait_instant(json_object_get_int64(v));
	}
	released_ns = real_now_ns();
	return 0;
}

/* Member `key` of `doc` as a string, or NULL when absent or not a string. */
static const char *get_str(struct json_object *doc, const char *key)
{
	struct json_object *v;
	if (!json_object_object_get_ex(doc, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* Loads the plugin at `path` and checks its ABI fields as chored's loader does. Returns the
 * descriptor, or NULL with the reason in err. */
static const struct chored_plugin *load_plugin(const char *path, char *err, size_t errlen)
{
	void *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!dl) {
		snprintf(err, errlen, "%s", dlerror());
		return NULL;
	}
	const struct chored_plugin *p = dlsym(dl, "chored_plugin_v1");
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	size_t blen = strlen(base);
	if (blen > 3 && strcmp(base + blen - 3, ".so") == 0)
		blen -= 3;
	if (!p)
		snprintf(err, errlen, "%s: no symbol chored_plugin_v1 (not a chored plugin)", path);
	else if (p->abi_major != CHORED_ABI_MAJOR)
		snprintf(err, errlen, "%s: abi_major is %u, this chored supports %u", path,
		         (unsigned)p->abi_major, (unsigned)CHORED_ABI_MAJOR);
	else if (p->abi_minor > CHORED_ABI_MINOR)
		snprintf(err, errlen, "%s: abi_minor is %u, this chored supports up to %u", path,
		         (unsigned)p->abi_minor, (unsigned)CHORED_ABI_MINOR);
	else if (p->size < sizeof(struct chored_plugin))
		snprintf(err, errlen, "%s: size is %u, ABI %u.0 needs at least %zu", path,
		         (unsigned)p->size, (unsigned)CHORED_ABI_MAJOR,
		         sizeof(struct chored_plugin));
	else if (!p->name || strlen(p->name) != blen || strncmp(p->name, base, blen) != 0)
		snprintf(err, errlen, "%s: name is \"%s\", the file name says \"%.*s\"", path,
		         p->name ? p->name : "(null)", (int)blen, base);
	else if (!p->run)
		snprintf(err, errlen, "%s: run is NULL", path);
	else
		return p; /* the handle stays open for the life of the process */
	dlclose(dl);
	return NULL;
}

static void emit_started(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	struct json_object *rec = json_object_new_object();
	json_object_object_add(rec, "t", json_object_new_string("started"));
	json_object_object_add(rec, "mono_ns",
	                       json_object_new_int64((int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec));
	json_object_object_add(rec, "released_ns", json_object_new_int64(released_ns));
	emit_line(NULL, rec);
	json_object_put(rec);
	/* At once: chored must know run() was entered even if the plugin then dies in a way
	 * no handler sees (SIGKILL, or its own SIG_DFL for SIGSEGV), or it would report a run
	 * that crashed as one that never started. */
	run_out_flush();
}

/* The runner's last word (runproto.h): what was printed before it is flushed first, and
 * fds 1 and 2 go to /dev/null after it, so that the output pipe ends with the result and
 * its EOF reaches chored with it. */
static void emit_result(const char *status, const char *summary)
{
	fflush(NULL);
	struct json_object *rec = json_object_new_object();
	json_object_object_add(rec, "t", json_object_new_string("result"));
	json_object_object_add(rec, "status", json_object_new_string(status));
	json_object_object_add(rec, "summary", json_object_new_string(summary));
	emit_line(NULL, rec);
	json_object_put(rec);
	run_out_flush();
	int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (devnull >= 0) {
		dup2(devnull, 1);
		dup2(devnull, 2);
		if (devnull > 2)
			close(devnull);
	}
}

/* Reports an error before run(): a level-3 log record and a failed result, both redacted by
 * `job`. */
static int fail(struct chored_job *job, const char *msg)
{
	chored_log(job, CHORED_LOG_ERR, "chored-run: %s", msg);
	char *r = chored__job_redact(job, msg);
	emit_result("failed", r);
	free(r);
	return 0;
}

static const char *status_name(enum chored_status st)
{
	switch (st) {
	case CHORED_OK:
		return "ok";
	case CHORED_PARTIAL:
		return "partial";
	default:
		return "failed";
	}
}

static int usage(FILE *f, int status)
{
	fprintf(f, "Usage: chored-run\n"
	           "Runs one job of a chored plugin: started by chored, which writes the run's\n"
	           "JSON input document on fd 0 and reads JSON-line records on fd 3 (see\n"
	           "chored-plugin(7)). Not meant to be run by hand.\n"
	           "  -h, --help      show this help\n"
	           "  -V, --version   show the version\n");
	return status;
}

/* A sink's policy for a report of `status` — a run status ("crashed", "timeout", …) or
 * "missed" — after `prev` (NULL: no earlier run), as libchored's policies read. */
static bool policy_wants(const char *policy, const char *status, const char *prev)
{
	if (strcmp(policy, "always") == 0)
		return true;
	if (strcmp(policy, "never") == 0)
		return false;
	if (strcmp(policy, "on-change") == 0)
		return !prev || strcmp(prev, status) != 0;
	return strcmp(status, "ok") != 0; /* on-failure, and unknown policies */
}

/* "notify_only" (runproto.h): the report of a run or slot that the plugin could not send —
 * the job's sinks whose policy asks for `status`, the summary, the run id and slot — built
 * and delivered without loading the plugin. Reports through fd 3 like a run: log records,
 * then a result (ok: every wanted sink got it, partial: some, failed: none). */
static int serve_notify_only(struct json_object *doc, struct json_object *no,
                             struct chored_job *early)
{
	const char *name = get_str(doc, "job");
	const char *status = get_str(no, "status");
	const char *summary = get_str(no, "summary");
	struct json_object *v, *sinks;
	int64_t nominal =
	    json_object_object_get_ex(no, "nominal", &v) ? json_object_get_int64(v) : 0;
	if (!name || !*name)
		return fail(early, "input: \"job\" (the job's name) is missing");
	if (!status || !*status)
		return fail(early, "input: \"notify_only\" has no \"status\"");
	if (!summary)
		summary = "";
	char err[1024] = "";
	struct json_object *limits = NULL;
	json_object_object_get_ex(doc, "limits", &limits);
	if (run_limits_apply(limits, err, sizeof err) < 0) /* the job's user, as its runs */
		return fail(early, err);
	/* The SDK decides by ok/partial/failed; the policy here is decided on the real status
	 * (on-change: crashed after crashed is no change), and the chosen sinks get "always". */
	const char *prev = get_str(doc, "previous_status");
	struct json_object *wanted = json_object_new_array();
	if (json_object_object_get_ex(doc, "notify", &sinks) &&
	    json_object_is_type(sinks, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(sinks); i++) {
			struct json_object *e = json_object_array_get_idx(sinks, i);
			const char *policy = get_str(e, "policy");
			if (!json_object_is_type(e, json_type_object) ||
			    !policy_wants(policy ? policy : "on-failure", status, prev))
				continue;
			struct json_object *c = json_object_new_object();
			json_object_object_foreach(e, key, val)
			{
				if (strcmp(key, "policy") != 0)
					json_object_object_add(c, key, json_object_get(val));
			}
			json_object_object_add(c, "policy", json_object_new_string("always"));
			json_object_array_add(wanted, c);
		}
	}
	size_t n_wanted = json_object_array_length(wanted);
	json_object_object_add(doc, "notify", wanted);
	if (!n_wanted) {
		emit_result("ok", "no sink's policy asks for it");
		return 0;
	}
	struct chored_job *job = chored__job_new(name, NULL);
	chored__job_set_emit(job, emit_line, NULL);
	chored__job_load_input(job, doc);
	char *text = chored__job_redact(job, summary);
	/* The subject reads "[chored] ❌ JOB: crashed — killed by SIGSEGV": the status word
	 * replaces "failed", and a summary that starts with it ("missed: …") loses it there. */
	chored__notify_set_status_word(job, status);
	size_t sl = strlen(status);
	const char *rest = text;
	if (strncmp(text, status, sl) == 0 && text[sl] == ':')
		rest = text + sl + 1 + (text[sl + 1] == ' ');
	chored_summary(job, "%s", rest);
	char title[300];
	snprintf(title, sizeof title, "%s: %s", name, status);
	struct chored_report *r = chored_report_new(title);
	chored_report_set_status(r, CHORED_FAILED);
	if (*text)
		chored_report_paragraph(r, "%s", text);
	char when[32] = "";
	time_t t = (time_t)nominal;
	struct tm tm;
	if (nominal && gmtime_r(&t, &tm))
		strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
	const char *run_id = get_str(doc, "run_id");
	if (run_id && *run_id)
		chored_report_paragraph(r, "Run %s%s%s. Its record: chorectl logs %s", run_id,
		                        *when ? ", slot " : "", when, run_id);
	else if (*when)
		chored_report_paragraph(r, "Slot %s.", when);
	if (strcmp(status, "missed") == 0)
		chored_report_paragraph(r, "History: chorectl history %s", name);
	int failed = chored_notify(job, r);
	chored_report_free(r);
	free(text);
	char res[80];
	snprintf(res, sizeof res, "%zu of %zu sinks notified", n_wanted - (size_t)failed, n_wanted);
	emit_result(failed == 0 ? "ok" : (size_t)failed < n_wanted ? "partial" : "failed", res);
	chored__job_free(job);
	return 0;
}

/* Loads the plugin and performs the run described by `doc`; reports through fd 3. */
static int serve(struct json_object *doc, struct chored_job *early)
{
	const char *path = get_str(doc, "plugin");
	const char *name = get_str(doc, "job");
	if (!path || !*path)
		return fail(early, "input: \"plugin\" (the plugin's path) is missing");
	if (!name || !*name)
		return fail(early, "input: \"job\" (the job's name) is missing");
	char err[1024] = "";
	struct json_object *limits = NULL;
	json_object_object_get_ex(doc, "limits", &limits);
	if (run_limits_apply(limits, err, sizeof err) < 0)
		return fail(early, err);
	const struct chored_plugin *p = load_plugin(path, err, sizeof err);
	if (!p)
		return fail(early, err);

	struct chored_job *job = chored__job_new(name, p);
	chored__job_set_emit(job, emit_line, NULL);
	chored__job_load_input(job, doc);
	if (p->check && p->check(job) < 0) {
		const char *key = chored__job_error_key(job);
		const char *msg = chored__job_error_message(job);
		snprintf(err, sizeof err, "%s%s%s", key ? key : "", key ? ": " : "",
		         msg ? msg : "check failed");
		fail(job, err);
		chored__job_free(job);
		return 0;
	}
	/* Ready: the plugin is loaded and the options checked. Start at the instant. */
	if (wait_release(doc, err, sizeof err) < 0) {
		fail(job, err);
		chored__job_free(job);
		return 0;
	}
	if (p->cancel) {
		/* Without a cancel callback SIGTERM keeps its default action and ends the run. */
		sig_plugin = p;
		sig_job = job;
		struct sigaction sa = {.sa_handler = on_sigterm, .sa_flags = SA_RESTART};
		sigemptyset(&sa.sa_mask);
		sigaction(SIGTERM, &sa, NULL);
	}
	emit_started();
	run_job = job;
	enum chored_status st = p->run(job);
	check_notified();
	run_job = NULL;
	fflush(stdout);
	chored__notify_after_run(job, st);
	emit_result(status_name(st), chored__job_summary(job));
	/* Further signals must not touch the job being freed. */
	signal(SIGTERM, SIG_IGN);
	sig_job = NULL;
	chored__job_free(job);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 1) {
		if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)
			return usage(stdout, 0);
		if (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0) {
			printf("chored-run %s (libchored %s, plugin ABI %d.%d)\n", PACKAGE_VERSION,
			       chored_version(), CHORED_ABI_MAJOR, CHORED_ABI_MINOR);
			return 0;
		}
		fprintf(stderr, "chored-run: unexpected argument '%s'\n", argv[1]);
		return usage(stderr, EX_USAGE);
	}
	if (fcntl(RUNPROTO_FD, F_GETFD) < 0) {
		fprintf(stderr, "chored-run: fd %d is not open: run by chored only\n", RUNPROTO_FD);
		return EX_USAGE;
	}
	fcntl(RUNPROTO_FD, F_SETFD, FD_CLOEXEC); /* programs the plugin starts never see it */
	run_out_init(RUNPROTO_FD);
	/* The plugin shares our stdio: whole lines reach the run's log even if it is killed. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (getpgrp() != getpid())
		setpgid(0, 0);

	char err[512] = "";
	struct json_object *doc = read_document(err, sizeof err);

	/* Redacts error messages until the plugin's own job exists. */
	struct chored_job *early =
	    chored__job_new(doc && get_str(doc, "job") ? get_str(doc, "job") : "", NULL);
	chored__job_set_emit(early, emit_line, NULL);
	int rc;
	if (!doc) {
		rc = fail(early, err);
	} else {
		chored__job_load_redactions(early, doc);
		struct json_object *no;
		if (json_object_object_get_ex(doc, "notify_only", &no) &&
		    json_object_is_type(no, json_type_object))
			rc = serve_notify_only(doc, no, early);
		else
			rc = serve(doc, early);
	}
	chored__job_free(early);
	json_object_put(doc);
	return rc;
}

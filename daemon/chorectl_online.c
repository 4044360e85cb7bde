/* chorectl verbs that talk to the daemon over the control socket (routes in api.h).
 *
 * Exit status (chorectl(1)): 0 success; 64 usage; 65 unknown job or run, or a request the
 * daemon refused (400, or 409: the job cannot run now); 69 daemon unreachable or shutting
 * down; 70 run failed, crashed, timed out, was cancelled or interrupted, or the daemon
 * failed (5xx); 75 run ended partial (or skipped); 76 an answer that is not JSON;
 * 78 reload rejected.
 *
 * What the verbs read from the daemon's JSON (extra members are ignored):
 *   job:   name, plugin, schedule, enabled, next (ISO 8601), last (a run, or null)
 *   run:   id, job, nominal, trigger, status, signal, dry_run, started, ended, duration_ms,
 *          summary, counters, log [{ts, stream, level, text, fields}]
 *   event: {seq, t:"out", text} · {seq, t:"log", level, msg, fields} ·
 *          {seq, t:"progress", done, total}; other kinds are not shown. */
#include "chored-build.h"

#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chorectl.h"
#include "chorectl_fmt.h"
#include "civil.h"
#include "ctl_client.h"
#include "strbuf.h"
#include "sysexits_compat.h"

#define CALL_TIMEOUT_S   30L
#define RELOAD_TIMEOUT_S 300L
/* Seconds the daemon holds an events poll; the client waits that plus a margin. */
#define POLL_WAIT_S 25
#define BAR_WIDTH   20

/* One verb's connection and options. */
struct session {
	const char *verb;
	bool json;
	struct ctl *ctl;
};

static int open_session(struct session *s, const struct chorectl_opts *o, const char *verb)
{
	s->verb = verb;
	s->json = s->json || o->json;
	char *path = ctl_socket_path(o->config);
	s->ctl = path ? ctl_new(path) : NULL;
	free(path);
	if (!s->ctl) {
		fprintf(stderr, "chorectl %s: out of memory\n", verb);
		return EX_OSERR;
	}
	return 0;
}

/* Maps an HTTP error answer to a message on stderr and an exit status. */
static int http_error(const struct session *s, long status, struct json_object *body)
{
	struct json_object *err = NULL;
	json_object_object_get_ex(body, "error", &err);
	const char *msg = fmt_str(err, "message");
	fprintf(stderr, "chorectl %s: %s (HTTP %ld)\n", s->verb, msg ? msg : "request failed",
	        status);
	if (status == 404 || status == 400 || status == 409 || status == 422)
		return EX_DATAERR;
	if (status == 503)
		return EX_UNAVAILABLE;
	if (status >= 500)
		return EX_SOFTWARE;
	return EX_PROTOCOL;
}

/* Performs a call. Returns 0 with *body for the expected status, or an exit status (the
 * error already reported). With `any_status`, every JSON answer is returned as 0. */
static int call(struct session *s, const char *method, const char *path, const char *body,
                long timeout_s, long *status, struct json_object **out, bool any_status)
{
	char err[512];
	long st = 0;
	enum ctl_result r =
	    ctl_call(s->ctl, method, path, body, timeout_s, &st, out, err, sizeof err);
	if (r == CTL_UNREACHABLE) {
		fprintf(stderr, "chorectl: %s\n", err);
		return EX_UNAVAILABLE;
	}
	if (r == CTL_BAD_ANSWER) {
		fprintf(stderr, "chorectl %s: %s\n", s->verb, err);
		return EX_PROTOCOL;
	}
	if (status)
		*status = st;
	if (!any_status && (st < 200 || st > 299)) {
		int rc = http_error(s, st, *out);
		json_object_put(*out);
		*out = NULL;
		return rc;
	}
	return 0;
}

static void print_raw(const struct session *s)
{
	fputs(ctl_body(s->ctl), stdout);
}

/* Parses the verb's options: --json, --help and the verb's own (`extra`, handled by
 * `on_opt`). Returns -1 to go on, else an exit status. */
struct optspec {
	const char *usage;
	const struct option *extra; /* terminated by a zeroed entry, may be NULL */
	int (*on_opt)(int ch, const char *arg, void *ctx);
	void *ctx;
	int min_args, max_args;
};

/* A run id argument: a positive decimal integer, said so on stderr when it is not. */
static bool parse_run_id(const char *verb, const char *arg, long long *id)
{
	char *end;
	*id = strtoll(arg, &end, 10);
	if (end == arg || *end || *id < 1 || arg[0] == '+') {
		fprintf(stderr, "chorectl %s: run id '%s' is not a positive integer\n", verb, arg);
		return false;
	}
	return true;
}

static int parse_opts(struct session *s, int argc, char **argv, const struct optspec *spec)
{
	struct option longopts[8] = {
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	};
	size_t n = 2;
	for (size_t i = 0; spec->extra && spec->extra[i].name && n < 7; i++)
		longopts[n++] = spec->extra[i];
	int ch;
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (ch == 'j') {
			s->json = true;
		} else if (ch == 'h') {
			fputs(spec->usage, stdout);
			return 0;
		} else if (ch == '?' || !spec->on_opt) {
			fputs(spec->usage, stderr);
			return EX_USAGE;
		} else {
			int rc = spec->on_opt(ch, optarg, spec->ctx);
			if (rc >= 0)
				return rc;
		}
	}
	int left = argc - optind;
	if (left < spec->min_args || left > spec->max_args) {
		fprintf(stderr, "chorectl %s: %s\n", s->verb,
		        left < spec->min_args ? "missing argument" : "too many arguments");
		fputs(spec->usage, stderr);
		return EX_USAGE;
	}
	return -1;
}

/* ---- status ---- */

static const char status_usage[] =
    "Usage: chorectl status [--json]\n"
    "\n"
    "Prints the daemon's version, uptime, configuration generation, jobs and runs in\n"
    "flight, one 'name: value' line each.\n";

/* The start of a verb on one run (cancel, logs): its options, the RUN argument, the
 * session, and the route /v1/runs/ID`suffix` into path. -1 to go on (*id set, the session
 * open), else the exit status. */
static int run_verb(struct session *s, const struct chorectl_opts *o, int argc, char **argv,
                    const char *verb, const char *usage, const char *suffix, long long *id,
                    char *path, size_t len)
{
	const struct optspec spec = {.usage = usage, .min_args = 1, .max_args = 1};
	int rc = parse_opts(s, argc, argv, &spec);
	if (rc >= 0)
		return rc;
	if (!parse_run_id(verb, argv[optind], id))
		return EX_USAGE;
	if ((rc = open_session(s, o, verb)))
		return rc;
	snprintf(path, len, "/v1/runs/%lld%s", *id, suffix);
	return -1;
}

int chorectl_status(const struct chorectl_opts *o, int argc, char **argv)
{
	struct session s = {0};
	const struct optspec spec = {.usage = status_usage};
	int rc = parse_opts(&s, argc, argv, &spec);
	if (rc >= 0)
		return rc;
	if ((rc = open_session(&s, o, "status")))
		return rc;
	struct json_object *body;
	rc = call(&s, "GET", "/v1/status", NULL, CALL_TIMEOUT_S, NULL, &body, false);
	if (rc == 0 && s.json) {
		print_raw(&s);
	} else if (rc == 0) {
		json_object_object_foreach(body, k, v)
		{
			/* Strings as they are, anything else as compact JSON. */
			printf("%s: %s\n", k,
			       !v ? "-"
			       : json_object_is_type(v, json_type_string)
			           ? json_object_get_string(v)
			           : json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
		}
	}
	json_object_put(body);
	ctl_free(s.ctl);
	return rc;
}

/* ---- list ---- */

static const char list_usage[] =
    "Usage: chorectl list [--json]\n"
    "\n"
    "Prints every job: name, plugin, schedule, next run (UTC) and the status and end time\n"
    "(UTC) of its last run.\n";

static void last_cell(struct json_object *job, char *buf, size_t len)
{
	struct json_object *last = NULL;
	json_object_object_get_ex(job, "last", &last);
	if (!last || !json_object_is_type(last, json_type_object)) {
		snprintf(buf, len, "-");
		return;
	}
	char st[64], when[64];
	fmt_status(last, st, sizeof st);
	const char *t = fmt_str(last, "ended");
	fmt_utc(t ? t : fmt_str(last, "started"), when, sizeof when);
	snprintf(buf, len, "%s %s", st, when);
}

int chorectl_list(const struct chorectl_opts *o, int argc, char **argv)
{
	struct session s = {0};
	const struct optspec spec = {.usage = list_usage};
	int rc = parse_opts(&s, argc, argv, &spec);
	if (rc >= 0)
		return rc;
	if ((rc = open_session(&s, o, "list")))
		return rc;
	struct json_object *body, *jobs = NULL;
	rc = call(&s, "GET", "/v1/jobs", NULL, CALL_TIMEOUT_S, NULL, &body, false);
	if (rc == 0 && s.json) {
		print_raw(&s);
	} else if (rc == 0 && json_object_object_get_ex(body, "jobs", &jobs) &&
	           json_object_is_type(jobs, json_type_array)) {
		struct table t = {.cols = 5};
		table_row(&t, (const char *const[]){"JOB", "PLUGIN", "SCHEDULE", "NEXT RUN (UTC)",
		                                    "LAST RUN (UTC)"});
		for (size_t i = 0; i < json_object_array_length(jobs); i++) {
			struct json_object *job = json_object_array_get_idx(jobs, i);
			char next[64], last[128];
			struct json_object *en = NULL;
			if (json_object_object_get_ex(job, "enabled", &en) && en &&
			    !json_object_get_boolean(en))
				snprintf(next, sizeof next, "disabled");
			else
				fmt_utc(fmt_str(job, "next"), next, sizeof next);
			last_cell(job, last, sizeof last);
			table_row(&t, (const char *const[]){fmt_str(job, "name"),
			                                    fmt_str(job, "plugin"),
			                                    fmt_str(job, "schedule"), next, last});
		}
		table_print(&t, stdout);
		table_free(&t);
	} else if (rc == 0) {
		fprintf(stderr, "chorectl list: the answer has no \"jobs\" array\n");
		rc = EX_PROTOCOL;
	}
	json_object_put(body);
	ctl_free(s.ctl);
	return rc;
}

/* ---- run ---- */

static const char run_usage[] =
    "Usage: chorectl run JOB [--dry-run] [--at TIME] [--wait] [--json]\n"
    "\n"
    "Starts a run of JOB now and prints its run id.\n"
    "  --dry-run   the plugin is told not to change anything\n"
    "  --at TIME   run as if the clock read TIME (ISO 8601 with Z or an offset)\n"
    "  --wait      stream the run's log (with a progress bar on a terminal), then print\n"
    "              'RUN ID STATUS in DURATION: SUMMARY' and exit with the run's status:\n"
    "              0 ok, 75 partial, 70 failed, crashed, timeout or cancelled\n"
    "  --json      print the daemon's JSON answer (with --wait: the finished run)\n";

struct run_opts {
	bool dry_run, wait;
	const char *at;
};

static int run_opt(int ch, const char *arg, void *ctx)
{
	struct run_opts *r = ctx;
	if (ch == 'd')
		r->dry_run = true;
	else if (ch == 'w')
		r->wait = true;
	else if (ch == 'a')
		r->at = arg;
	return -1;
}

/* What --wait shows on a terminal: the progress bar line, redrawn in place. */
struct progress {
	bool tty;
	bool shown;
	int64_t done, total;
};

static void bar_clear(struct progress *p)
{
	if (p->shown)
		fputs("\r\033[K", stdout);
	p->shown = false;
}

static void bar_draw(struct progress *p)
{
	if (!p->tty || p->total <= 0)
		return;
	int64_t done = p->done < 0 ? 0 : p->done > p->total ? p->total : p->done;
	int fill = (int)(done * BAR_WIDTH / p->total);
	char bar[BAR_WIDTH + 1];
	for (int i = 0; i < BAR_WIDTH; i++)
		bar[i] = i < fill ? '#' : '-';
	bar[BAR_WIDTH] = '\0';
	printf("\r\033[K[%s] %" PRId64 "/%" PRId64, bar, p->done, p->total);
	p->shown = true;
}

static void show_event(struct json_object *ev, struct progress *p)
{
	const char *t = fmt_str(ev, "t");
	if (!t)
		return;
	if (!strcmp(t, "progress")) {
		p->done = fmt_int(ev, "done", 0);
		p->total = fmt_int(ev, "total", 0);
		bar_draw(p);
		return;
	}
	struct strbuf line = STRBUF_INIT;
	if (!strcmp(t, "out")) {
		const char *text = fmt_str(ev, "text");
		strbuf_append(&line, text ? text : "");
	} else if (!strcmp(t, "log")) {
		struct json_object *level = NULL, *fields = NULL;
		json_object_object_get_ex(ev, "level", &level);
		json_object_object_get_ex(ev, "fields", &fields);
		const char *msg = fmt_str(ev, "msg");
		fmt_log_line(&line, level, msg ? msg : fmt_str(ev, "text"), fields);
	} else {
		strbuf_free(&line);
		return;
	}
	bool had_bar = p->shown;
	bar_clear(p);
	printf("%s\n", strbuf_str(&line));
	if (had_bar)
		bar_draw(p);
	strbuf_free(&line);
}

static void print_run_end(struct json_object *run, int64_t id)
{
	char st[64], dur[32];
	fmt_status(run, st, sizeof st);
	fmt_duration(fmt_int(run, "duration_ms", 0), dur, sizeof dur);
	const char *summary = fmt_str(run, "summary");
	printf("RUN %" PRId64 " %s in %s%s%s\n", id, st, dur, summary && *summary ? ": " : "",
	       summary && *summary ? summary : "");
}

/* Ctrl-C during --wait ends chorectl, not the run: the handler wipes the progress bar's line
 * (when stdout is a terminal), says where the run is on stderr and exits 128 + SIGINT. Only
 * async-signal-safe calls; the message is made before the handler is installed. */
static volatile sig_atomic_t interrupt_tty;
static char interrupt_msg[192];
static size_t interrupt_len;

static void on_interrupt(int sig)
{
	if (interrupt_tty)
		(void)!write(STDOUT_FILENO, "\r\033[K", 4);
	(void)!write(STDERR_FILENO, interrupt_msg, interrupt_len);
	_exit(128 + sig);
}

static void catch_interrupt(int64_t id, bool tty)
{
	int n = snprintf(interrupt_msg, sizeof interrupt_msg,
	                 "chorectl: interrupted; run %" PRId64 " goes on in the daemon "
	                 "(chorectl logs %" PRId64 ", chorectl cancel %" PRId64 ")\n",
	                 id, id, id);
	interrupt_len = n > 0 && (size_t)n < sizeof interrupt_msg ? (size_t)n : 0;
	interrupt_tty = tty;
	struct sigaction sa = {.sa_handler = on_interrupt};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
}

/* Long-polls the run's events until it is over; returns the exit status. */
static int wait_run(struct session *s, int64_t id)
{
	struct progress p = {.tty = !s->json && isatty(STDOUT_FILENO)};
	catch_interrupt(id, p.tty);
	int64_t after = 0;
	for (;;) {
		char path[128];
		snprintf(path, sizeof path, "/v1/runs/%" PRId64 "/events?after=%" PRId64 "&wait=%d",
		         id, after, POLL_WAIT_S);
		struct json_object *body, *events = NULL, *run = NULL;
		int rc = call(s, "GET", path, NULL, POLL_WAIT_S + 15L, NULL, &body, false);
		if (rc) {
			bar_clear(&p);
			return rc;
		}
		if (!s->json && json_object_object_get_ex(body, "events", &events) &&
		    json_object_is_type(events, json_type_array))
			for (size_t i = 0; i < json_object_array_length(events); i++)
				show_event(json_object_array_get_idx(events, i), &p);
		fflush(stdout);
		int64_t last = fmt_int(body, "last_seq", after);
		after = last > after ? last : after;
		const char *status = fmt_str(body, "status");
		json_object_object_get_ex(body, "run", &run);
		if (run || (status && strcmp(status, "running"))) {
			bar_clear(&p);
			if (s->json)
				printf("%s\n",
				       json_object_to_json_string_ext(
				           run ? run : body, JSON_C_TO_STRING_PLAIN |
				                                 JSON_C_TO_STRING_NOSLASHESCAPE));
			else
				print_run_end(run ? run : body, id);
			const char *final = run ? fmt_str(run, "status") : status;
			rc = fmt_run_exit(final);
			json_object_put(body);
			return rc;
		}
		json_object_put(body);
	}
}

int chorectl_run(const struct chorectl_opts *o, int argc, char **argv)
{
	static const struct option extra[] = {
	    {"dry-run", no_argument, NULL, 'd'},
	    {"wait", no_argument, NULL, 'w'},
	    {"at", required_argument, NULL, 'a'},
	    {NULL, 0, NULL, 0},
	};
	struct session s = {0};
	struct run_opts r = {0};
	const struct optspec spec = {.usage = run_usage,
	                             .extra = extra,
	                             .on_opt = run_opt,
	                             .ctx = &r,
	                             .min_args = 1,
	                             .max_args = 1};
	int rc = parse_opts(&s, argc, argv, &spec);
	if (rc >= 0)
		return rc;
	const char *job = argv[optind];
	struct json_object *req = json_object_new_object();
	if (r.dry_run)
		json_object_object_add(req, "dry_run", json_object_new_boolean(true));
	if (r.at) {
		int64_t t;
		char err[128];
		if (civil_parse_iso(r.at, &t, err, sizeof err) != 0) {
			fprintf(stderr,
			        "chorectl run: --at '%s': %s (ISO 8601 with Z or an offset)\n",
			        r.at, err);
			json_object_put(req);
			return EX_USAGE;
		}
		json_object_object_add(req, "at", json_object_new_string(r.at));
	}
	if ((rc = open_session(&s, o, "run"))) {
		json_object_put(req);
		return rc;
	}
	char *esc = ctl_escape(s.ctl, job);
	struct strbuf path = STRBUF_INIT;
	strbuf_appendf(&path, "/v1/jobs/%s/run", esc ? esc : "");
	free(esc);
	struct json_object *body;
	rc = call(&s, "POST", strbuf_str(&path), json_object_to_json_string(req), CALL_TIMEOUT_S,
	          NULL, &body, false);
	strbuf_free(&path);
	json_object_put(req);
	if (rc == 0) {
		int64_t id = fmt_int(body, "run_id", 0);
		if (id <= 0) {
			fprintf(stderr, "chorectl run: the answer has no run_id\n");
			rc = EX_PROTOCOL;
		} else if (r.wait) {
			if (!s.json)
				fprintf(stderr, "chorectl: run %" PRId64 " of %s started\n", id,
				        job);
			rc = wait_run(&s, id);
		} else if (s.json) {
			print_raw(&s);
		} else {
			printf("%" PRId64 "\n", id);
		}
	}
	json_object_put(body);
	ctl_free(s.ctl);
	return rc;
}

/* ---- cancel ---- */

static const char cancel_usage[] =
    "Usage: chorectl cancel RUN [--json]\n"
    "\n"
    "Asks the daemon to end run RUN: SIGTERM to the run's process group, SIGKILL after\n"
    "the grace period; the run is recorded as cancelled (unless it ends first).\n"
    "Exit status: 0 asked, 65 no such run or the run already finished, 69 daemon\n"
    "unreachable.\n"
    "  --json      print the daemon's JSON answer\n";

int chorectl_cancel(const struct chorectl_opts *o, int argc, char **argv)
{
	struct session s = {0};
	long long id;
	char path[64];
	int rc =
	    run_verb(&s, o, argc, argv, "cancel", cancel_usage, "/cancel", &id, path, sizeof path);
	if (rc >= 0)
		return rc;
	struct json_object *body = NULL;
	rc = call(&s, "POST", path, NULL, CALL_TIMEOUT_S, NULL, &body, false);
	if (rc == 0 && s.json)
		print_raw(&s);
	else if (rc == 0)
		printf("run %lld: cancelling\n", id);
	json_object_put(body);
	ctl_free(s.ctl);
	return rc;
}

/* ---- history ---- */

static const char history_usage[] =
    "Usage: chorectl history JOB [--limit N] [--json]\n"
    "\n"
    "Prints the job's newest runs, newest first: id, nominal time (UTC), trigger, status,\n"
    "duration and summary.\n"
    "  --limit N   how many runs, 1-1000 (default 20)\n";

static int history_opt(int ch, const char *arg, void *ctx)
{
	(void)ch;
	char *end;
	long v = strtol(arg, &end, 10);
	if (end == arg || *end || v < 1 || v > 1000) {
		fprintf(stderr, "chorectl history: --limit '%s' is not a number from 1 to 1000\n",
		        arg);
		return EX_USAGE;
	}
	*(long *)ctx = v;
	return -1;
}

static void history_row(struct table *t, struct json_object *run)
{
	char id[32], nominal[64], st[64], dur[32];
	snprintf(id, sizeof id, "%" PRId64, fmt_int(run, "id", 0));
	fmt_utc(fmt_str(run, "nominal"), nominal, sizeof nominal);
	fmt_status(run, st, sizeof st);
	struct json_object *dry = NULL;
	if (json_object_object_get_ex(run, "dry_run", &dry) && json_object_get_boolean(dry))
		strncat(st, " (dry run)", sizeof st - strlen(st) - 1);
	const char *status = fmt_str(run, "status");
	if (status && !strcmp(status, "running"))
		snprintf(dur, sizeof dur, "-");
	else
		fmt_duration(fmt_int(run, "duration_ms", 0), dur, sizeof dur);
	const char *summary = fmt_str(run, "summary");
	table_row(t, (const char *const[]){id, nominal, fmt_str(run, "trigger"), st, dur,
	                                   summary && *summary ? summary : "-"});
}

int chorectl_history(const struct chorectl_opts *o, int argc, char **argv)
{
	static const struct option extra[] = {
	    {"limit", required_argument, NULL, 'l'},
	    {NULL, 0, NULL, 0},
	};
	struct session s = {0};
	long limit = 20;
	const struct optspec spec = {.usage = history_usage,
	                             .extra = extra,
	                             .on_opt = history_opt,
	                             .ctx = &limit,
	                             .min_args = 1,
	                             .max_args = 1};
	int rc = parse_opts(&s, argc, argv, &spec);
	if (rc >= 0)
		return rc;
	const char *job = argv[optind];
	if ((rc = open_session(&s, o, "history")))
		return rc;
	char *esc = ctl_escape(s.ctl, job);
	struct strbuf path = STRBUF_INIT;
	strbuf_appendf(&path, "/v1/jobs/%s/runs?limit=%ld", esc ? esc : "", limit);
	free(esc);
	struct json_object *body, *runs = NULL;
	rc = call(&s, "GET", strbuf_str(&path), NULL, CALL_TIMEOUT_S, NULL, &body, false);
	strbuf_free(&path);
	if (rc == 0 && s.json) {
		print_raw(&s);
	} else if (rc == 0 && json_object_object_get_ex(body, "runs", &runs) &&
	           json_object_is_type(runs, json_type_array)) {
		size_t n = json_object_array_length(runs);
		if (n == 0) {
			printf("no runs of %s yet\n", job);
		} else {
			struct table t = {.cols = 6};
			table_row(&t, (const char *const[]){"ID", "NOMINAL (UTC)", "TRIGGER",
			                                    "STATUS", "DURATION", "SUMMARY"});
			for (size_t i = 0; i < n; i++)
				history_row(&t, json_object_array_get_idx(runs, i));
			table_print(&t, stdout);
			table_free(&t);
		}
	} else if (rc == 0) {
		fprintf(stderr, "chorectl history: the answer has no \"runs\" array\n");
		rc = EX_PROTOCOL;
	}
	json_object_put(body);
	ctl_free(s.ctl);
	return rc;
}

/* ---- logs ---- */

static const char *or_dash(const char *s)
{
	return s ? s : "-";
}

static const char *or_empty(const char *s)
{
	return s ? s : "";
}

static const char logs_usage[] =
    "Usage: chorectl logs RUN [--json]\n"
    "\n"
    "Prints one run's record (job, nominal time, trigger, status, duration, summary,\n"
    "counters), then its log: one line per record, 'HH:MM:SS.mmm LEVEL message k=v' for\n"
    "the plugin's log and 'HH:MM:SS.mmm OUT text' for what it printed (times in UTC).\n";

static void print_run_header(struct json_object *run)
{
	char st[64], dur[32], t[64];
	fmt_status(run, st, sizeof st);
	struct json_object *dry = NULL;
	bool is_dry =
	    json_object_object_get_ex(run, "dry_run", &dry) && json_object_get_boolean(dry);
	printf("run %" PRId64 " of %s%s\n", fmt_int(run, "id", 0), or_dash(fmt_str(run, "job")),
	       is_dry ? " (dry run)" : "");
	printf("nominal:  %s\n", fmt_utc(fmt_str(run, "nominal"), t, sizeof t));
	printf("trigger:  %s\n", or_dash(fmt_str(run, "trigger")));
	printf("started:  %s\n", fmt_utc(fmt_str(run, "started"), t, sizeof t));
	printf("ended:    %s\n", fmt_utc(fmt_str(run, "ended"), t, sizeof t));
	const char *status = fmt_str(run, "status");
	if (status && !strcmp(status, "running")) {
		printf("status:   running\n");
	} else {
		fmt_duration(fmt_int(run, "duration_ms", 0), dur, sizeof dur);
		printf("status:   %s in %s\n", st, dur);
	}
	const char *summary = fmt_str(run, "summary");
	if (summary && *summary)
		printf("summary:  %s\n", summary);
	struct json_object *counters = NULL;
	if (json_object_object_get_ex(run, "counters", &counters) && counters &&
	    json_object_is_type(counters, json_type_object) &&
	    json_object_object_length(counters) > 0) {
		printf("counters:");
		json_object_object_foreach(counters, k, v)
		{
			printf(" %s=%s", k, v ? json_object_get_string(v) : "null");
		}
		printf("\n");
	}
}

static void print_log(struct json_object *log)
{
	size_t n = json_object_array_length(log);
	for (size_t i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(log, i);
		char clock[32];
		fmt_clock_ms(fmt_int(e, "ts", 0), clock, sizeof clock);
		const char *stream = fmt_str(e, "stream");
		struct strbuf line = STRBUF_INIT;
		if (stream && !strcmp(stream, "out")) {
			strbuf_appendf(&line, "OUT %s", or_empty(fmt_str(e, "text")));
		} else {
			struct json_object *level = NULL, *fields = NULL;
			json_object_object_get_ex(e, "level", &level);
			json_object_object_get_ex(e, "fields", &fields);
			fmt_log_line(&line, level, fmt_str(e, "text"), fields);
		}
		printf("%s %s\n", clock, strbuf_str(&line));
		strbuf_free(&line);
	}
}

int chorectl_logs(const struct chorectl_opts *o, int argc, char **argv)
{
	struct session s = {0};
	long long id;
	char path[64];
	int rc = run_verb(&s, o, argc, argv, "logs", logs_usage, "", &id, path, sizeof path);
	if (rc >= 0)
		return rc;
	struct json_object *body, *log = NULL;
	rc = call(&s, "GET", path, NULL, CALL_TIMEOUT_S, NULL, &body, false);
	if (rc == 0 && s.json) {
		print_raw(&s);
	} else if (rc == 0) {
		print_run_header(body);
		if (json_object_object_get_ex(body, "log", &log) &&
		    json_object_is_type(log, json_type_array) && json_object_array_length(log)) {
			printf("\n");
			print_log(log);
		}
	}
	json_object_put(body);
	ctl_free(s.ctl);
	return rc;
}

/* ---- reload ---- */

static const char reload_usage[] =
    "Usage: chorectl reload [--wait] [--json]\n"
    "\n"
    "Asks the daemon to reload its configuration and waits for the outcome: prints\n"
    "'ok (generation N)', or 'rejected' with the number of errors; the daemon keeps the\n"
    "running configuration then. Exit status 0, or 78 when the reload was rejected.\n"
    "  --wait   also print every error of a rejected configuration (FILE:LINE: …)\n";

static int reload_opt(int ch, const char *arg, void *ctx)
{
	(void)ch;
	(void)arg;
	*(bool *)ctx = true;
	return -1;
}

int chorectl_reload(const struct chorectl_opts *o, int argc, char **argv)
{
	static const struct option extra[] = {
	    {"wait", no_argument, NULL, 'w'},
	    {NULL, 0, NULL, 0},
	};
	struct session s = {0};
	bool wait = false;
	const struct optspec spec = {
	    .usage = reload_usage, .extra = extra, .on_opt = reload_opt, .ctx = &wait};
	int rc = parse_opts(&s, argc, argv, &spec);
	if (rc >= 0)
		return rc;
	if ((rc = open_session(&s, o, "reload")))
		return rc;
	struct json_object *body;
	long status = 0;
	rc = call(&s, "POST", "/v1/reload", NULL, RELOAD_TIMEOUT_S, &status, &body, true);
	if (rc == 0 && status == 200) {
		if (s.json)
			print_raw(&s);
		else
			printf("ok (generation %" PRId64 ")\n", fmt_int(body, "generation", 0));
	} else if (rc == 0 && status == 422) {
		struct json_object *errors = NULL;
		json_object_object_get_ex(body, "errors", &errors);
		size_t n = errors && json_object_is_type(errors, json_type_array)
		               ? json_object_array_length(errors)
		               : 0;
		if (s.json) {
			print_raw(&s);
		} else {
			for (size_t i = 0; wait && i < n; i++)
				fprintf(
				    stderr, "%s\n",
				    json_object_get_string(json_object_array_get_idx(errors, i)));
			fprintf(stderr,
			        "rejected: %zu error%s; the running configuration is kept%s\n", n,
			        n == 1 ? "" : "s", wait ? "" : " (--wait lists them)");
		}
		rc = EX_CONFIG;
	} else if (rc == 0) {
		rc = http_error(&s, status, body);
	}
	json_object_put(body);
	ctl_free(s.ctl);
	return rc;
}

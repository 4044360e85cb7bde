/* One run's lifecycle: see jobrun.h. */
#include "jobrun.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <json-c/json.h>

#include "api.h"
#include "civil.h"
#include "daemon.h"
#include "log.h"
#include "metrics.h"
#include "missed.h"
#include "plugins.h"
#include "plugins_value.h"
#include "runinput_notify.h"
#include "runner.h"
#include "strbuf.h"
#include "xalloc.h"

static void on_started(void *data, int64_t mono_ns, int64_t released_ns);
static void on_output(void *data, const char *line);
static void on_record(void *data, struct json_object *rec);
static void on_done(void *data, const struct runner_result *res);
static void unhold(struct run *r);

static const struct runner_cbs run_cbs = {
    .started = on_started,
    .output = on_output,
    .record = on_record,
    .done = on_done,
};

bool run_live(const struct run *r)
{
	return r->status == RUN_RUNNING;
}

struct run *run_find(struct daemon *d, int64_t id)
{
	for (struct run *r = d->runs; r; r = r->next)
		if (r->id == id)
			return r;
	return NULL;
}

/* Appends an event (takes ownership of ev) and tells long polls. Log lines past the
 * memory bound are counted instead. */
static void add_event(struct run *r, struct json_object *ev, size_t text_len, bool is_log)
{
	if (is_log &&
	    (r->log_bytes + text_len > STATE_LOG_MAX_BYTES || r->n_events >= RUN_MAX_EVENTS)) {
		r->dropped_lines++;
		r->dropped_bytes += text_len;
		json_object_put(ev);
		return;
	}
	if (!is_log && r->n_events >= RUN_MAX_EVENTS) {
		json_object_put(ev); /* progress and counters stay in the run's fields */
		return;
	}
	if (is_log)
		r->log_bytes += text_len;
	if (r->n_events == r->cap_events) {
		r->cap_events = r->cap_events ? r->cap_events * 2 : 32;
		r->events = xrealloc(r->events, r->cap_events * sizeof *r->events);
	}
	json_object_object_add(ev, "seq", json_object_new_int64(++r->last_seq));
	json_object_object_add(ev, "ts", json_object_new_int64(daemon_now_ms()));
	r->events[r->n_events++] = ev;
	if (r->d->api)
		api_run_changed(r->d->api, r->id);
	if (r->d->admin) /* the dashboard's long polls */
		api_run_changed(r->d->admin, r->id);
}

static struct json_object *new_event(const char *type)
{
	struct json_object *ev = json_object_new_object();
	json_object_object_add(ev, "t", json_object_new_string(type));
	return ev;
}

/* The run's timing as log fields (a new object). */
static struct json_object *timing_fields(const struct run *r)
{
	struct json_object *f = json_object_new_object();
	json_object_object_add(f, "job", json_object_new_string(r->job->name));
	json_object_object_add(f, "run_id", json_object_new_int64(r->id));
	json_object_object_add(f, "nominal", json_object_new_int64(r->nominal));
	json_object_object_add(f, "trigger", json_object_new_string(run_trigger_name(r->trigger)));
	json_object_object_add(f, "spawn_lag_us", json_object_new_int64(r->spawn_lag_us));
	if (r->start_lag_us >= 0)
		json_object_object_add(f, "start_lag_us", json_object_new_int64(r->start_lag_us));
	json_object_object_add(f, "claim_us", json_object_new_int64(r->claim_us));
	json_object_object_add(f, "prepare_us", json_object_new_int64(r->prepare_us));
	json_object_object_add(f, "spawn_us", json_object_new_int64(r->spawn_us));
	return f;
}

/* In text format, a debug line when the run starts (or ends without having started). In
 * JSON format the timing rides on the line that ends the run (finish): one line per run,
 * not two, since each line costs the daemon a write and its reader a wake-up. */
static void log_timing(const struct run *r)
{
	if (log_get_format() == LOG_FORMAT_JSON || !log_enabled(LOG_L_DEBUG))
		return;
	struct json_object *f = timing_fields(r);
	log_fields(LOG_L_DEBUG, "run started", f);
	json_object_put(f);
}

static void on_started(void *data, int64_t mono_ns, int64_t released_ns)
{
	struct run *r = data;
	/* Spawned ahead, the runner let itself go at the instant: that is the scheduling lag. */
	if (r->held && released_ns > 0)
		r->spawn_lag_us = (released_ns - r->due_ns) / 1000;
	r->held = false;
	/* The runner's CLOCK_MONOTONIC is ours; map the due instant onto it. */
	int64_t due_mono = r->spawn_mono_ns - (r->spawn_real_ns - r->due_ns);
	r->start_lag_us = (mono_ns - due_mono) / 1000;
	log_timing(r);
	add_event(r, new_event("started"), 0, false);
}

static void on_output(void *data, const char *line)
{
	struct run *r = data;
	struct json_object *ev = new_event("out");
	json_object_object_add(ev, "level", json_object_new_int(6));
	json_object_object_add(ev, "text", json_object_new_string(line));
	add_event(r, ev, strlen(line), true);
}

static void set_change(struct run *r, const char *key, const char *value)
{
	for (size_t i = 0; i < r->n_changes; i++)
		if (strcmp(r->changes[i].key, key) == 0) {
			free(r->changes[i].value);
			r->changes[i].value = value ? xstrdup(value) : NULL;
			return;
		}
	r->changes = xrealloc(r->changes, (r->n_changes + 1) * sizeof *r->changes);
	r->changes[r->n_changes].key = xstrdup(key);
	r->changes[r->n_changes].value = value ? xstrdup(value) : NULL;
	r->n_changes++;
}

static void on_record(void *data, struct json_object *rec)
{
	struct run *r = data;
	struct json_object *t, *v;
	if (!json_object_object_get_ex(rec, "t", &t))
		return;
	const char *type = json_object_get_string(t);
	if (strcmp(type, "log") == 0) {
		struct json_object *ev = new_event("log");
		int level = 6;
		const char *msg = "";
		if (json_object_object_get_ex(rec, "level", &v))
			level = json_object_get_int(v);
		if (json_object_object_get_ex(rec, "msg", &v))
			msg = json_object_get_string(v);
		json_object_object_add(ev, "level", json_object_new_int(level));
		json_object_object_add(ev, "text", json_object_new_string(msg));
		if (json_object_object_get_ex(rec, "fields", &v) &&
		    json_object_is_type(v, json_type_object))
			json_object_object_add(ev, "fields", json_object_get(v));
		add_event(r, ev, strlen(msg), true);
	} else if (strcmp(type, "progress") == 0) {
		if (json_object_object_get_ex(rec, "done", &v))
			r->progress_done = json_object_get_int64(v);
		if (json_object_object_get_ex(rec, "total", &v))
			r->progress_total = json_object_get_int64(v);
		struct json_object *ev = new_event("progress");
		json_object_object_add(ev, "done", json_object_new_int64(r->progress_done));
		json_object_object_add(ev, "total", json_object_new_int64(r->progress_total));
		add_event(r, ev, 0, false);
	} else if (strcmp(type, "counter") == 0) {
		struct json_object *name;
		if (!json_object_object_get_ex(rec, "name", &name))
			return;
		int64_t delta =
		    json_object_object_get_ex(rec, "delta", &v) ? json_object_get_int64(v) : 1;
		const char *n = json_object_get_string(name);
		struct json_object *cur;
		int64_t total = delta;
		if (json_object_object_get_ex(r->counters, n, &cur))
			total += json_object_get_int64(cur);
		json_object_object_add(r->counters, n, json_object_new_int64(total));
		struct json_object *ev = new_event("counter");
		json_object_object_add(ev, "name", json_object_new_string(n));
		json_object_object_add(ev, "value", json_object_new_int64(total));
		add_event(r, ev, 0, false);
	} else if (strcmp(type, "summary") == 0) {
		if (!json_object_object_get_ex(rec, "text", &v))
			return;
		free(r->summary);
		r->summary = xstrdup(json_object_get_string(v));
		struct json_object *ev = new_event("summary");
		json_object_object_add(ev, "text", json_object_new_string(r->summary));
		add_event(r, ev, 0, false);
	} else if (strcmp(type, "state") == 0) {
		struct json_object *key;
		if (!json_object_object_get_ex(rec, "key", &key))
			return;
		bool has = json_object_object_get_ex(rec, "value", &v) && v;
		set_change(r, json_object_get_string(key), has ? json_object_get_string(v) : NULL);
	} else if (strcmp(type, "notified") == 0) {
		r->notified = true;
	}
}

/* Writes the outcome to the store in one transaction. */
static void record_finish(struct run *r, const char *summary)
{
	size_t n = 0;
	struct state_log_line *lines = xcalloc(r->n_events + 1, sizeof *lines);
	for (size_t i = 0; i < r->n_events; i++) {
		struct json_object *ev = r->events[i], *t, *v;
		json_object_object_get_ex(ev, "t", &t);
		const char *type = json_object_get_string(t);
		bool is_out = strcmp(type, "out") == 0;
		if (!is_out && strcmp(type, "log") != 0)
			continue;
		struct state_log_line *l = &lines[n++];
		l->stream = is_out ? "out" : "log";
		json_object_object_get_ex(ev, "ts", &v);
		l->ts_ms = json_object_get_int64(v);
		json_object_object_get_ex(ev, "level", &v);
		l->level = json_object_get_int(v);
		json_object_object_get_ex(ev, "text", &v);
		l->text = json_object_get_string(v);
		l->fields_json = json_object_object_get_ex(ev, "fields", &v)
		                     ? json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN)
		                     : NULL;
	}
	char trunc[120];
	if (r->dropped_lines) {
		snprintf(trunc, sizeof trunc, "[log truncated: %zu more lines, %zu bytes]",
		         r->dropped_lines, r->dropped_bytes);
		lines[n++] = (struct state_log_line){
		    .ts_ms = r->ended_ms, .stream = "log", .level = 4, .text = trunc};
	}
	struct state_kv_change *ch = xcalloc(r->n_changes + 1, sizeof *ch);
	for (size_t i = 0; i < r->n_changes; i++)
		ch[i] = (struct state_kv_change){r->changes[i].key, r->changes[i].value};
	const char *counters =
	    json_object_object_length(r->counters)
	        ? json_object_to_json_string_ext(r->counters, JSON_C_TO_STRING_PLAIN)
	        : NULL;
	char err[256];
	if (state_run_finish(r->d->st, r->id, r->status, r->signal, summary, counters, lines, n, ch,
	                     r->n_changes, r->ended_ms, r->gen->cfg->daemon.history, err,
	                     sizeof err) < 0)
		log_msg(LOG_L_ERR, "job %s run %" PRId64 ": could not record the result: %s",
		        r->job->name, r->id, err);
	free(ch);
	free(lines);
}

void run_sweep_ended(struct daemon *d)
{
	int64_t now = daemon_mono_ns() / 1000000;
	/* The FIFO is in ending order, so the first run young enough ends the sweep. */
	while (d->ended_head && now - d->ended_head->ended_mono_ms >= RUN_LINGER_S * 1000)
		run_free(d->ended_head);
}

/* Whether the daemon reports the run to its sinks: the runner does when the plugin's run()
 * returns (its default report, or the plugin's own); when it crashed, timed out or never
 * entered run() nothing was sent, unless the plugin had already called chored_notify. */
static bool daemon_reports(const struct run *r, enum run_status status)
{
	if (r->dry_run || r->notified || r->job->n_notify == 0)
		return false;
	return status == RUN_CRASHED || status == RUN_TIMEOUT ||
	       (status == RUN_FAILED && r->start_lag_us < 0);
}

/* The run is over: record it, keep it a while for its events, hand back to the daemon. */
static void finish(struct run *r, enum run_status status, int sig, const char *summary)
{
	unhold(r);
	r->status = status;
	r->signal = sig;
	r->ended_ms = daemon_now_ms();
	if (summary && (!r->summary || status != RUN_OK)) {
		free(r->summary);
		r->summary = xstrdup(summary);
	}
	if (r->start_lag_us < 0)
		log_timing(r); /* the plugin never started: still one timing line per run */
	record_finish(r, r->summary);
	metrics_run_ended(r->job->name, status, (double)(r->ended_ms - r->started_ms) / 1e3,
	                  r->trigger == TRIG_SCHEDULE ? (double)r->spawn_lag_us / 1e6 : -1);
	int level = status == RUN_OK || status == RUN_PARTIAL ? LOG_L_INFO : LOG_L_WARNING;
	if (log_get_format() == LOG_FORMAT_JSON && log_enabled(level)) {
		struct json_object *f = timing_fields(r);
		json_object_object_add(f, "status",
		                       json_object_new_string(run_status_name(status)));
		json_object_object_add(f, "duration_ms",
		                       json_object_new_int64(r->ended_ms - r->started_ms));
		struct strbuf msg = STRBUF_INIT;
		strbuf_appendf(&msg, "job %s run %" PRId64 " %s%s%s", r->job->name, r->id,
		               run_status_name(status), r->summary ? ": " : "",
		               r->summary ? r->summary : "");
		log_fields(level, strbuf_str(&msg), f);
		strbuf_free(&msg);
		json_object_put(f);
	} else {
		log_msg(level, "job %s run %" PRId64 " %s%s%s (%" PRId64 " ms)", r->job->name,
		        r->id, run_status_name(status), r->summary ? ": " : "",
		        r->summary ? r->summary : "", r->ended_ms - r->started_ms);
	}
	if (status != RUN_OK && status != RUN_PARTIAL && status != RUN_CANCELLED) {
		if (r->start_lag_us < 0 && r->trigger != TRIG_MANUAL && !r->dry_run)
			daemon_slot_not_run(r->d, r);
		if (daemon_reports(r, status))
			missed_notify(r->d, r->gen, r->job, run_status_name(status), r->summary,
			              r->nominal, r->id);
		else if (r->notified && status != RUN_FAILED)
			log_msg(LOG_L_INFO,
			        "job %s run %" PRId64 ": the plugin already sent its report; "
			        "no second notification for the %s",
			        r->job->name, r->id, run_status_name(status));
	}
	struct json_object *ev = new_event("end");
	json_object_object_add(ev, "status", json_object_new_string(run_status_name(status)));
	add_event(r, ev, 0, false);
	struct daemon *d = r->d;
	r->ended_mono_ms = daemon_mono_ns() / 1000000;
	if (d->ended_tail)
		d->ended_tail->ended_next = r;
	else
		d->ended_head = r;
	d->ended_tail = r;
	run_sweep_ended(d);
	daemon_run_ended(d, r);
}

static void on_done(void *data, const struct runner_result *res)
{
	struct run *r = data;
	struct runner *rn = r->runner;
	r->runner = NULL;
	enum run_status st = res->status;
	const char *summary = res->summary;
	char buf[160];
	if (r->cancel_requested && st == RUN_CRASHED)
		st = RUN_CANCELLED; /* our own SIGKILL at shutdown */
	if (st == RUN_CRASHED && res->signal && !summary) {
		const char *abbrev = sigabbrev_np(res->signal);
		if (abbrev)
			snprintf(buf, sizeof buf, "killed by SIG%s", abbrev);
		else
			snprintf(buf, sizeof buf, "killed by signal %d", res->signal);
		summary = buf;
	}
	finish(r, st, st == RUN_CRASHED ? res->signal : 0, summary);
	runner_free(rn);
}

/* The per-run members of the input document (runproto.h). */
/* kv: the job's plugin state (taken). */
static void add_run_fields(struct run *r, struct json_object *in, struct json_object *kv)
{
	char id[24];
	snprintf(id, sizeof id, "%" PRId64, r->id);
	json_object_object_add(in, "run_id", json_object_new_string(id));
	json_object_object_add(in, "nominal", json_object_new_int64(r->nominal));
	json_object_object_add(in, "dry_run", json_object_new_boolean(r->dry_run));
	if (r->has_at)
		json_object_object_add(in, "at", json_object_new_int64(r->at));
	json_object_object_add(in, "state", kv ? kv : json_object_new_object());
	const struct cfg_job *j = r->job;
	if (j->memory_limit || j->cpu_limit || j->user) {
		struct json_object *lim = json_object_new_object();
		if (j->memory_limit)
			json_object_object_add(lim, "memory",
			                       json_object_new_int64((int64_t)j->memory_limit));
		if (j->cpu_limit)
			json_object_object_add(lim, "cpu", json_object_new_int64(j->cpu_limit));
		if (j->user)
			json_object_object_add(lim, "user", json_object_new_string(j->user));
		json_object_object_add(in, "limits", lim);
	}
}

/* "peers": the state of the jobs that the job's CHORED_OPT_JOB options name, read-only for
 * the plugin (chored_state_peer). */
static void add_peers(struct run *r, struct json_object *in)
{
	const struct plugin *p = plugin_lookup(r->gen->plugins, r->job->plugin);
	struct json_object *peers = NULL;
	for (size_t i = 0; p && p->desc && i < r->job->n_options; i++) {
		const struct cfg_kv *kv = &r->job->options[i];
		const struct chored_option *o = plugin_option(p->desc, kv->key);
		if (!o || !(o->flags & CHORED_OPT_JOB) || !*kv->value)
			continue;
		struct json_object *kvs = state_kv_json(r->d->st, kv->value);
		if (!peers)
			peers = json_object_new_object();
		json_object_object_add(peers, kv->value, kvs ? kvs : json_object_new_object());
	}
	if (peers)
		json_object_object_add(in, "peers", peers);
}

/* Builds the runner's input with the job's plugin state kv (taken); false when the run could
 * not start (then recorded as failed). */
static bool prepare(struct run *r, struct json_object *kv)
{
	char err[256];
	struct json_object *in = plugin_job_input(r->gen->plugins, r->job);
	if (!in) {
		json_object_put(kv);
		snprintf(err, sizeof err, "plugin %s is not loaded", r->job->plugin);
		finish(r, RUN_FAILED, 0, err);
		return false;
	}
	add_run_fields(r, in, kv);
	add_peers(r, in);
	runinput_add_notify(in, r->gen->cfg, r->job, r->d->st, r->id);
	struct json_object *red;
	size_t n_red =
	    json_object_object_get_ex(in, "redact", &red) ? json_object_array_length(red) : 0;
	r->redact = xcalloc(n_red + 1, sizeof *r->redact);
	for (size_t i = 0; i < n_red; i++)
		r->redact[i] = json_object_get_string(json_object_array_get_idx(red, i));
	r->input = in;
	return true;
}

static void drop_input(struct run *r)
{
	free(r->redact);
	r->redact = NULL;
	if (r->input)
		json_object_put(r->input);
	r->input = NULL;
}

/* The run's hard deadline. A plugin that declares `timeout` applies it to each of its
 * attempts itself (and `retries` of them), so chored ends the run only once every attempt
 * and its back-off could have been spent. */
static int64_t run_deadline_s(const struct run *r)
{
	const struct cfg_job *j = r->job;
	if (j->timeout <= 0 || !plugin_declares(r->gen->plugins, j->plugin, "timeout"))
		return j->timeout;
	int64_t attempts = 1;
	if (plugin_declares(r->gen->plugins, j->plugin, "retries"))
		attempts += j->retries;
	return j->timeout * attempts + 60 * attempts;
}

/* Spawns the runner. With `hold` (the slot's instant is still ahead) the runner loads the
 * plugin, checks the options and waits for the instant by itself ("release_ns"). */
static void launch(struct run *r, bool hold)
{
	char err[256];
	if (hold)
		json_object_object_add(r->input, "release_ns", json_object_new_int64(r->due_ns));
	r->held = hold;
	struct runner_params p = {
	    .path = r->d->runner_path,
	    .input = r->input,
	    .redact = r->redact,
	    .timeout_s = run_deadline_s(r),
	    .grace_s = RUN_KILL_GRACE_S,
	};
	int64_t t1 = daemon_mono_ns();
	int rc = runner_start(r->d->base, &p, &run_cbs, r, &r->runner, err, sizeof err);
	r->spawn_real_ns = daemon_real_ns();
	r->spawn_mono_ns = daemon_mono_ns();
	r->spawn_us = (r->spawn_mono_ns - t1) / 1000;
	r->spawn_lag_us = (r->spawn_real_ns - r->due_ns) / 1000;
	drop_input(r);
	if (rc < 0) {
		char msg[300];
		snprintf(msg, sizeof msg, "could not start the runner: %s", err);
		finish(r, RUN_FAILED, 0, msg);
	}
}

/* The run no longer waits for its instant (cancelled, ended, freed). */
static void unhold(struct run *r)
{
	r->held = false;
}

struct run *run_start(struct daemon *d, struct gen *g, const struct cfg_job *job, int64_t nominal,
                      unsigned attempt, enum run_trigger trigger, bool dry_run, bool has_at,
                      int64_t at, int64_t due_ns, bool *claimed, char *err, size_t errlen)
{
	char msg[256];
	int64_t id = 0, now_ms = daemon_now_ms(), t0 = daemon_mono_ns();
	if (claimed)
		*claimed = false;
	/* Claimed a little ahead of its instant, the run still starts at that instant. */
	if (now_ms < due_ns / 1000000)
		now_ms = due_ns / 1000000;
	struct json_object *kv = NULL; /* the job's plugin state, read in the claim */
	int rc = state_run_begin_kv(d->st, job->name, nominal, attempt, trigger, dry_run, now_ms,
	                            &id, &kv, msg, sizeof msg);
	int64_t claim_us = (daemon_mono_ns() - t0) / 1000;
	if (rc == 1) {
		if (claimed)
			*claimed = true;
		log_msg(LOG_L_INFO,
		        "job %s: slot %" PRId64 " attempt %u was already run, not again", job->name,
		        nominal, attempt);
		return NULL;
	}
	if (rc < 0) {
		log_msg(LOG_L_ERR, "job %s: could not record the start of a run: %s", job->name,
		        msg);
		if (err)
			snprintf(err, errlen, "state store: %s", msg);
		return NULL;
	}
	struct run *r = xcalloc(1, sizeof *r);
	r->d = d;
	r->gen = gen_ref(g);
	r->job = job;
	r->id = id;
	r->nominal = nominal;
	r->attempt = attempt;
	r->trigger = trigger;
	r->dry_run = dry_run;
	r->has_at = has_at;
	r->at = at;
	r->status = RUN_RUNNING;
	r->started_ms = now_ms;
	r->due_ns = due_ns;
	r->start_lag_us = -1;
	r->claim_us = claim_us;
	r->counters = json_object_new_object();
	r->next = d->runs;
	if (d->runs)
		d->runs->prev = r;
	d->runs = r;
	log_msg(LOG_L_DEBUG, "job %s run %" PRId64 " starting (%s, slot %" PRId64 ", attempt %u%s)",
	        job->name, id, run_trigger_name(trigger), nominal, attempt,
	        dry_run ? ", dry run" : "");
	int64_t t1 = daemon_mono_ns();
	if (!prepare(r, kv))
		return r;
	r->prepare_us = (daemon_mono_ns() - t1) / 1000;
	int64_t wait_ns = due_ns - daemon_real_ns();
	launch(r, wait_ns > 50000);
	return r;
}

void run_cancel(struct run *r)
{
	/* Held or not, SIGTERM and the grace period: a runner still waiting for its instant
	 * dies of it before run(); one that let itself go a moment ago (its "started" still on
	 * the way) may be in the plugin's run() already, which must get its cancel callback,
	 * not a SIGKILL. */
	unhold(r);
	if (r->runner && !r->cancel_requested) {
		r->cancel_requested = true;
		runner_cancel(r->runner);
	}
}

void run_kill(struct run *r)
{
	unhold(r);
	if (r->runner) {
		r->cancel_requested = true;
		runner_kill(r->runner);
	}
}

/* Takes r out of the ended FIFO: it is the head when swept; anywhere at shutdown. */
static void unlink_ended(struct daemon *d, struct run *r)
{
	struct run *before = NULL;
	for (struct run *e = d->ended_head; e && e != r; e = e->ended_next)
		before = e;
	if (before ? before->ended_next != r : d->ended_head != r)
		return; /* not ended */
	if (before)
		before->ended_next = r->ended_next;
	else
		d->ended_head = r->ended_next;
	if (d->ended_tail == r)
		d->ended_tail = before;
}

void run_free(struct run *r)
{
	struct daemon *d = r->d;
	if (r->prev)
		r->prev->next = r->next;
	else if (d->runs == r)
		d->runs = r->next;
	if (r->next)
		r->next->prev = r->prev;
	if (!run_live(r))
		unlink_ended(d, r);
	if (r->runner)
		runner_free(r->runner);
	unhold(r);
	drop_input(r);
	for (size_t i = 0; i < r->n_events; i++)
		json_object_put(r->events[i]);
	free(r->events);
	for (size_t i = 0; i < r->n_changes; i++) {
		free(r->changes[i].key);
		free(r->changes[i].value);
	}
	free(r->changes);
	json_object_put(r->counters);
	free(r->summary);
	gen_unref(r->gen);
	free(r);
}

static struct json_object *log_array(const struct run *r)
{
	struct json_object *a = json_object_new_array();
	for (size_t i = 0; i < r->n_events; i++) {
		struct json_object *ev = r->events[i], *t, *v;
		json_object_object_get_ex(ev, "t", &t);
		const char *type = json_object_get_string(t);
		if (strcmp(type, "out") != 0 && strcmp(type, "log") != 0)
			continue;
		struct json_object *l = json_object_new_object();
		json_object_object_get_ex(ev, "ts", &v);
		json_object_object_add(l, "ts", json_object_get(v));
		json_object_object_add(l, "stream", json_object_new_string(type));
		json_object_object_get_ex(ev, "level", &v);
		json_object_object_add(l, "level", json_object_get(v));
		json_object_object_get_ex(ev, "text", &v);
		json_object_object_add(l, "text", json_object_get(v));
		if (json_object_object_get_ex(ev, "fields", &v))
			json_object_object_add(l, "fields", json_object_get(v));
		json_object_array_add(a, l);
	}
	return a;
}

struct json_object *run_json(const struct run *r)
{
	struct state_run sr = {
	    .id = r->id,
	    .job = (char *)r->job->name,
	    .nominal = r->nominal,
	    .attempt = r->attempt,
	    .trigger = r->trigger,
	    .status = r->status,
	    .signal = r->signal,
	    .dry_run = r->dry_run,
	    .started_ms = r->started_ms,
	    .ended_ms = r->ended_ms,
	    .summary = r->summary,
	    .counters =
	        json_object_object_length(r->counters)
	            ? (char *)json_object_to_json_string_ext(r->counters, JSON_C_TO_STRING_PLAIN)
	            : NULL,
	};
	struct json_object *o = state_run_json(&sr);
	if (!o)
		o = json_object_new_object();
	json_object_object_add(o, "log", log_array(r));
	if (r->progress_total || r->progress_done) {
		struct json_object *p = json_object_new_object();
		json_object_object_add(p, "done", json_object_new_int64(r->progress_done));
		json_object_object_add(p, "total", json_object_new_int64(r->progress_total));
		json_object_object_add(o, "progress", p);
	}
	struct json_object *t = json_object_new_object();
	json_object_object_add(t, "spawn_lag_us", json_object_new_int64(r->spawn_lag_us));
	if (r->start_lag_us >= 0)
		json_object_object_add(t, "start_lag_us", json_object_new_int64(r->start_lag_us));
	json_object_object_add(o, "timing", t);
	return o;
}

struct json_object *run_events_json(const struct run *r, int64_t after_seq, bool *over)
{
	struct json_object *o = json_object_new_object(), *a = json_object_new_array();
	for (size_t i = 0; i < r->n_events; i++) {
		struct json_object *seq;
		json_object_object_get_ex(r->events[i], "seq", &seq);
		if (json_object_get_int64(seq) > after_seq)
			json_object_array_add(a, json_object_get(r->events[i]));
	}
	json_object_object_add(o, "events", a);
	json_object_object_add(o, "last_seq", json_object_new_int64(r->last_seq));
	json_object_object_add(o, "status", json_object_new_string(run_status_name(r->status)));
	*over = !run_live(r);
	return o;
}

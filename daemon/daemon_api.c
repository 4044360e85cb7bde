/* The daemon's answers to the HTTP API (daemon/api.h): status, jobs, runs, live run
 * events, manual runs, reload and plugins, read from the live generation, the runs in
 * memory and the state store. */
#include "chored-build.h"

#include <inttypes.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "api.h"
#include "civil.h"
#include "daemon.h"
#include "jobrun.h"
#include "log.h"
#include "metrics.h"
#include "plugins.h"
#include "strbuf.h"
#include "xalloc.h"

static void iso_utc(int64_t t, char *buf, size_t len)
{
	struct civil c;
	civil_from_secs(t, &c);
	snprintf(buf, len, "%04" PRId64 "-%02d-%02dT%02d:%02d:%02dZ", c.year, c.month, c.day,
	         c.hour, c.minute, c.second);
}

static struct json_object *ms_iso(int64_t ms)
{
	char buf[40];
	iso_utc(ms / 1000, buf, sizeof buf);
	return json_object_new_string(buf);
}

static struct json_object *api_status(void *data)
{
	struct daemon *d = data;
	struct json_object *o = json_object_new_object();
	size_t running = 0;
	for (struct run *r = d->runs; r; r = r->next)
		running += run_live(r);
	json_object_object_add(o, "version", json_object_new_string(PACKAGE_VERSION));
	json_object_object_add(o, "pid", json_object_new_int64(getpid()));
	json_object_object_add(o, "started", ms_iso(d->started_ms));
	json_object_object_add(o, "uptime_s",
	                       json_object_new_int64((daemon_now_ms() - d->started_ms) / 1000));
	json_object_object_add(o, "generation", json_object_new_int64(d->gen->id));
	json_object_object_add(o, "config", json_object_new_string(d->gen->cfg->main_path));
	json_object_object_add(o, "jobs", json_object_new_int64((int64_t)d->gen->cfg->n_jobs));
	json_object_object_add(o, "running", json_object_new_int64((int64_t)running));
	json_object_object_add(o, "reloads", json_object_new_int64(d->reloads));
	json_object_object_add(o, "reload_failed", json_object_new_int64(d->reload_failed));
	json_object_object_add(o, "stopping", json_object_new_boolean(d->stopping));
	const char *dtz = d->gen->cfg->daemon.display_timezone;
	json_object_object_add(o, "display_timezone", dtz ? json_object_new_string(dtz) : NULL);
	return o;
}

static const char *const overlap_names[] = {"skip", "queue", "replace"};
static const char *const catchup_names[] = {"none", "latest", "all"};

static struct json_object *job_json(struct daemon *d, const struct jstate *js)
{
	const struct cfg_job *j = js->job;
	struct json_object *o = json_object_new_object();
	char buf[64];
	json_object_object_add(o, "name", json_object_new_string(j->name));
	json_object_object_add(o, "plugin", json_object_new_string(j->plugin));
	json_object_object_add(o, "description",
	                       j->description ? json_object_new_string(j->description) : NULL);
	json_object_object_add(o, "schedule",
	                       j->schedule_text ? json_object_new_string(j->schedule_text) : NULL);
	if (j->schedule_text) {
		struct strbuf sb = STRBUF_INIT;
		cron_explain(&j->schedule, j->schedule_text, j->timezone, &sb);
		json_object_object_add(o, "schedule_text", json_object_new_string(strbuf_str(&sb)));
		strbuf_free(&sb);
	}
	json_object_object_add(o, "timezone", json_object_new_string(j->timezone));
	json_object_object_add(o, "enabled", json_object_new_boolean(j->enabled));
	json_object_object_add(o, "overlap", json_object_new_string(overlap_names[j->overlap]));
	json_object_object_add(o, "catchup", json_object_new_string(catchup_names[j->catchup]));
	json_object_object_add(o, "timeout", json_object_new_int64(j->timeout));
	json_object_object_add(o, "retries", json_object_new_int64(j->retries));
	if (js->next) {
		iso_utc(js->next, buf, sizeof buf);
		json_object_object_add(o, "next", json_object_new_string(buf));
		civil_format_iso(js->next, tz_offset_at(j->tz, js->next), buf, sizeof buf);
		json_object_object_add(o, "next_local", json_object_new_string(buf));
	} else {
		json_object_object_add(o, "next", NULL);
		json_object_object_add(o, "next_local", NULL);
	}
	/* The next slot in [daemon] display_timezone, the dashboard's second clock. */
	const struct tz *dtz = d->gen->cfg->daemon.display_tz;
	if (js->next && dtz) {
		civil_format_iso(js->next, tz_offset_at(dtz, js->next), buf, sizeof buf);
		json_object_object_add(o, "next_display", json_object_new_string(buf));
	} else {
		json_object_object_add(o, "next_display", NULL);
	}
	json_object_object_add(o, "missed", json_object_new_int64((int64_t)js->missed));
	if (js->last_missed) {
		iso_utc(js->last_missed, buf, sizeof buf);
		json_object_object_add(o, "last_missed", json_object_new_string(buf));
	} else {
		json_object_object_add(o, "last_missed", NULL);
	}
	json_object_object_add(o, "running",
	                       js->running ? json_object_new_int64(js->running->id) : NULL);
	json_object_object_add(o, "queued", json_object_new_int64((int64_t)js->n_pending));
	struct state_run last;
	if (state_last_run(d->st, j->name, false, &last) == 0) {
		json_object_object_add(o, "last", state_run_json(&last));
		state_run_clear(&last);
	} else {
		json_object_object_add(o, "last", NULL);
	}
	return o;
}

static struct json_object *api_jobs(void *data)
{
	struct daemon *d = data;
	struct json_object *a = json_object_new_array();
	for (size_t i = 0; i < d->gen->cfg->n_jobs; i++)
		json_object_array_add(a, job_json(d, &d->gen->jobs[i]));
	return a;
}

static struct json_object *api_job(void *data, const char *name)
{
	struct daemon *d = data;
	struct jstate *js = daemon_jstate(d, name);
	return js ? job_json(d, js) : NULL;
}

static struct json_object *api_job_runs(void *data, const char *name, unsigned limit,
                                        int64_t before_id)
{
	struct daemon *d = data;
	struct state_run *runs = NULL;
	if (!daemon_jstate(d, name))
		return NULL;
	ssize_t n = state_runs_list(d->st, name, limit ? limit : 20, before_id, &runs);
	struct json_object *a = json_object_new_array();
	for (ssize_t i = 0; i < n; i++)
		json_object_array_add(a, state_run_json(&runs[i]));
	if (n > 0)
		state_runs_free(runs, (size_t)n);
	return a;
}

static struct json_object *api_run(void *data, int64_t id)
{
	struct daemon *d = data;
	struct run *r = run_find(d, id);
	if (r)
		return run_json(r);
	struct state_run sr;
	if (state_run_get(d->st, id, &sr) != 0)
		return NULL;
	struct json_object *o = state_run_json(&sr);
	struct json_object *log = state_run_log_json(d->st, id);
	json_object_object_add(o, "log", log ? log : json_object_new_array());
	state_run_clear(&sr);
	return o;
}

static struct json_object *api_run_events(void *data, int64_t id, int64_t after_seq, bool *over)
{
	struct daemon *d = data;
	struct run *r = run_find(d, id);
	if (r)
		return run_events_json(r, after_seq, over);
	/* Ended long ago (or by another daemon): nothing live to stream. */
	struct state_run sr;
	if (state_run_get(d->st, id, &sr) != 0)
		return NULL;
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "events", json_object_new_array());
	json_object_object_add(o, "last_seq", json_object_new_int64(after_seq));
	json_object_object_add(o, "status", json_object_new_string(run_status_name(sr.status)));
	*over = run_status_final(sr.status);
	state_run_clear(&sr);
	return o;
}

static int api_run_job(void *data, const char *name, bool dry_run, bool has_at, int64_t at,
                       int64_t *run_id, char *err, size_t errlen)
{
	return daemon_run_manual(data, name, dry_run, has_at, at, run_id, err, errlen);
}

static int api_cancel_run(void *data, int64_t id, char *err, size_t errlen)
{
	struct daemon *d = data;
	struct run *r = run_find(d, id);
	if (r && run_live(r)) {
		log_msg(LOG_L_NOTICE, "job %s run %" PRId64 ": cancel requested", r->job->name, id);
		run_cancel(r);
		return 202;
	}
	if (r) {
		snprintf(err, errlen, "run %" PRId64 " already finished (%s)", id,
		         run_status_name(r->status));
		return 409;
	}
	struct state_run sr;
	int rc = state_run_get(d->st, id, &sr);
	if (rc != 0) {
		if (rc < 0)
			snprintf(err, errlen, "cannot read run %" PRId64 " from the state store",
			         id);
		return rc > 0 ? 404 : 500;
	}
	/* In the store but not in memory: ended, or begun by a daemon that is gone. */
	if (run_status_final(sr.status))
		snprintf(err, errlen, "run %" PRId64 " already finished (%s)", id,
		         run_status_name(sr.status));
	else
		snprintf(err, errlen, "run %" PRId64 " is not running in this daemon", id);
	state_run_clear(&sr);
	return 409;
}

static void api_reload(void *data, struct api_req *req)
{
	daemon_request_reload(data, req);
}

static struct json_object *api_plugins(void *data)
{
	struct daemon *d = data;
	struct json_object *a = json_object_new_array();
	for (size_t i = 0; i < d->gen->plugins->n; i++)
		json_object_array_add(a, plugin_json(&d->gen->plugins->plugins[i]));
	return a;
}

static struct json_object *api_plugin(void *data, const char *name)
{
	struct daemon *d = data;
	const struct plugin *p = plugin_lookup(d->gen->plugins, name);
	return p ? plugin_json(p) : NULL;
}

static struct json_object *api_health(void *data, bool *stopping)
{
	struct daemon *d = data;
	*stopping = d->stopping;
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "version", json_object_new_string(PACKAGE_VERSION));
	json_object_object_add(o, "generation", json_object_new_int64(d->gen->id));
	json_object_object_add(o, "uptime_s",
	                       json_object_new_int64((daemon_now_ms() - d->started_ms) / 1000));
	return o;
}

/* state_last_each's callback over the names it was given (metrics_seed keeps the newer of
 * what it has and what it is given). */
static void seed_one(void *ctx, size_t i, bool success, int64_t ended_ms)
{
	const char *const *names = ctx;
	metrics_seed(names[i], success ? 0 : ended_ms, success ? ended_ms : 0);
}

static char *api_metrics(void *data)
{
	struct daemon *d = data;
	size_t n = d->gen->cfg->n_jobs;
	struct metrics_job *mj = xcalloc(n ? n : 1, sizeof *mj);
	const char **unseeded = xcalloc(n ? n : 1, sizeof *unseeded);
	size_t n_unseeded = 0;
	for (size_t i = 0; i < n; i++) {
		const struct jstate *js = &d->gen->jobs[i];
		mj[i].name = js->job->name;
		mj[i].next = js->next;
		mj[i].running = js->running != NULL;
		if (metrics_need_seed(mj[i].name))
			unseeded[n_unseeded++] = mj[i].name;
	}
	/* Once per job and daemon life (a restart keeps the last success), the jobs not seen
	 * yet in one read transaction, not one each. On a store error the next scrape tries
	 * again. */
	if (n_unseeded &&
	    state_last_each(d->st, unseeded, n_unseeded, seed_one, (void *)unseeded) == 0)
		for (size_t i = 0; i < n_unseeded; i++)
			metrics_seed(unseeded[i], 0, 0); /* marks it seen; keeps what it has */
	free(unseeded);
	struct strbuf sb = STRBUF_INIT;
	metrics_render(&sb, mj, n);
	free(mj);
	return strbuf_detach(&sb);
}

static void api_log(void *data, int level, const char *msg)
{
	(void)data;
	log_msg(level, "%s", msg);
}

const struct api_ops daemon_api_ops = {
    .status = api_status,
    .jobs = api_jobs,
    .job = api_job,
    .job_runs = api_job_runs,
    .run = api_run,
    .run_events = api_run_events,
    .run_job = api_run_job,
    .reload = api_reload,
    .plugins = api_plugins,
    .plugin = api_plugin,
    .cancel_run = api_cancel_run,
    .health = api_health,
    .metrics = api_metrics,
    .log = api_log,
};

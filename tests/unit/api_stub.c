/* A stand-in daemon for chorectl's tests: serves api.c on the socket given as argv[1] with
 * canned jobs and runs. Starting a run of "demo" scripts it: over about 300 ms it prints a
 * line, logs three records (events shaped as daemon/jobrun.c makes them), reports progress
 * 1/3..3/3, then ends "partial". A reload is answered after 50 ms: rejected with two errors while
 * the file SOCKET.reject exists, else ok with the next generation. SIGTERM or SIGINT ends it. */
#include <event2/event.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api.h"

#define MAX_RUNS 64

struct srun {
	int64_t id;
	char job[32];
	const char *nominal;
	const char *trigger;
	const char *status;
	const char *summary;
	bool dry_run;
	int64_t duration_ms;
	struct json_object *events; /* array of events, seq = index + 1 */
	int step;
	struct event *timer;
};

struct stub {
	struct event_base *base;
	struct api *api;
	const char *reject_file; /* owned by main */
	unsigned generation;
	struct srun runs[MAX_RUNS];
	size_t n_runs;
	struct api_req *reload_req;
	struct event *reload_timer;
};

static struct json_object *event_new_json(struct srun *r, const char *t)
{
	struct json_object *e = json_object_new_object();
	json_object_object_add(
	    e, "seq", json_object_new_int64((int64_t)json_object_array_length(r->events) + 1));
	json_object_object_add(e, "t", json_object_new_string(t));
	json_object_array_add(r->events, e);
	return e;
}

static void ev_out(struct srun *r, const char *text)
{
	struct json_object *e = event_new_json(r, "out");
	json_object_object_add(e, "text", json_object_new_string(text));
}

static void ev_log(struct srun *r, int level, const char *msg, const char *key, const char *val)
{
	struct json_object *e = event_new_json(r, "log");
	json_object_object_add(e, "level", json_object_new_int(level));
	json_object_object_add(e, "text", json_object_new_string(msg));
	struct json_object *f = json_object_new_object();
	if (key)
		json_object_object_add(f, key, json_object_new_string(val));
	json_object_object_add(e, "fields", f);
}

static void ev_progress(struct srun *r, int done, int total)
{
	struct json_object *e = event_new_json(r, "progress");
	json_object_object_add(e, "done", json_object_new_int(done));
	json_object_object_add(e, "total", json_object_new_int(total));
}

static struct srun *find_run(struct stub *s, int64_t id)
{
	for (size_t i = 0; i < s->n_runs; i++)
		if (s->runs[i].id == id)
			return &s->runs[i];
	return NULL;
}

static struct json_object *run_json(const struct srun *r, bool with_log)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "id", json_object_new_int64(r->id));
	json_object_object_add(o, "job", json_object_new_string(r->job));
	json_object_object_add(o, "nominal", json_object_new_string(r->nominal));
	json_object_object_add(o, "attempt", json_object_new_int(0));
	json_object_object_add(o, "trigger", json_object_new_string(r->trigger));
	json_object_object_add(o, "status", json_object_new_string(r->status));
	json_object_object_add(o, "dry_run", json_object_new_boolean(r->dry_run));
	json_object_object_add(o, "started", json_object_new_string(r->nominal));
	bool over = strcmp(r->status, "running") != 0;
	json_object_object_add(o, "ended", over ? json_object_new_string(r->nominal) : NULL);
	json_object_object_add(o, "duration_ms", json_object_new_int64(r->duration_ms));
	json_object_object_add(o, "summary",
	                       r->summary ? json_object_new_string(r->summary) : NULL);
	if (!with_log)
		return o;
	/* The log as the store serves it, from the events. */
	struct json_object *log = json_object_new_array();
	for (size_t i = 0; i < json_object_array_length(r->events); i++) {
		struct json_object *e = json_object_array_get_idx(r->events, i);
		const char *t = json_object_get_string(json_object_object_get(e, "t"));
		if (strcmp(t, "out") && strcmp(t, "log"))
			continue;
		struct json_object *l = json_object_new_object();
		json_object_object_add(
		    l, "ts", json_object_new_int64(1763861400000 + 123 + (int64_t)i * 1000));
		json_object_object_add(l, "stream", json_object_new_string(t));
		bool out = !strcmp(t, "out");
		json_object_object_add(
		    l, "level",
		    json_object_new_int(
		        out ? 6 : json_object_get_int(json_object_object_get(e, "level"))));
		json_object_object_add(l, "text",
		                       json_object_get(json_object_object_get(e, "text")));
		if (!out)
			json_object_object_add(
			    l, "fields", json_object_get(json_object_object_get(e, "fields")));
		json_object_array_add(log, l);
	}
	json_object_object_add(o, "log", log);
	return o;
}

static struct srun *add_run(struct stub *s, const char *job, const char *nominal,
                            const char *trigger, const char *status, const char *summary,
                            int64_t duration_ms)
{
	if (s->n_runs == MAX_RUNS)
		return NULL;
	struct srun *r = &s->runs[s->n_runs++];
	*r = (struct srun){.id = (int64_t)s->n_runs,
	                   .nominal = nominal,
	                   .trigger = trigger,
	                   .status = status,
	                   .summary = summary,
	                   .duration_ms = duration_ms,
	                   .events = json_object_new_array()};
	snprintf(r->job, sizeof r->job, "%s", job);
	return r;
}

/* ---- ops ---- */

static struct json_object *op_status(void *data)
{
	struct stub *s = data;
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "version", json_object_new_string("0.0-stub"));
	json_object_object_add(o, "generation", json_object_new_int64(s->generation));
	json_object_object_add(o, "jobs", json_object_new_int(3));
	json_object_object_add(o, "runs_in_flight", json_object_new_int(0));
	return o;
}

static struct srun *last_of(struct stub *s, const char *job)
{
	for (size_t i = s->n_runs; i-- > 0;)
		if (!strcmp(s->runs[i].job, job) && strcmp(s->runs[i].status, "running"))
			return &s->runs[i];
	return NULL;
}

static struct json_object *job_json(struct stub *s, const char *name)
{
	static const struct {
		const char *name, *schedule, *next;
		bool enabled;
	} jobs[] = {
	    {"nightly", "30 2 * * *", "2026-11-24T03:30:00+01:00", true},
	    {"demo", "manual", NULL, true},
	    {"frozen", "0 * * * *", NULL, false},
	};
	for (size_t i = 0; i < sizeof jobs / sizeof jobs[0]; i++) {
		if (strcmp(jobs[i].name, name))
			continue;
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "name", json_object_new_string(jobs[i].name));
		json_object_object_add(o, "plugin", json_object_new_string("exec"));
		json_object_object_add(o, "schedule", json_object_new_string(jobs[i].schedule));
		json_object_object_add(o, "enabled", json_object_new_boolean(jobs[i].enabled));
		json_object_object_add(o, "next",
		                       jobs[i].next ? json_object_new_string(jobs[i].next) : NULL);
		struct srun *last = last_of(s, name);
		json_object_object_add(o, "last", last ? run_json(last, false) : NULL);
		return o;
	}
	return NULL;
}

static struct json_object *op_jobs(void *data)
{
	struct json_object *a = json_object_new_array();
	json_object_array_add(a, job_json(data, "nightly"));
	json_object_array_add(a, job_json(data, "demo"));
	json_object_array_add(a, job_json(data, "frozen"));
	return a;
}

static struct json_object *op_job(void *data, const char *name)
{
	return job_json(data, name);
}

static struct json_object *op_job_runs(void *data, const char *name, unsigned limit, int64_t before)
{
	struct stub *s = data;
	struct json_object *job = job_json(s, name);
	if (!job)
		return NULL;
	json_object_put(job);
	struct json_object *a = json_object_new_array();
	for (size_t i = s->n_runs; i-- > 0 && json_object_array_length(a) < limit;)
		if (!strcmp(s->runs[i].job, name) && (!before || s->runs[i].id < before))
			json_object_array_add(a, run_json(&s->runs[i], false));
	return a;
}

static struct json_object *op_run(void *data, int64_t id)
{
	struct srun *r = find_run(data, id);
	return r ? run_json(r, true) : NULL;
}

static struct json_object *op_run_events(void *data, int64_t id, int64_t after, bool *over)
{
	struct srun *r = find_run(data, id);
	if (!r)
		return NULL;
	struct json_object *o = json_object_new_object();
	struct json_object *a = json_object_new_array();
	size_t n = json_object_array_length(r->events);
	for (size_t i = after < 0 ? 0 : (size_t)after; i < n; i++)
		json_object_array_add(a, json_object_get(json_object_array_get_idx(r->events, i)));
	json_object_object_add(o, "events", a);
	json_object_object_add(o, "last_seq", json_object_new_int64((int64_t)n));
	json_object_object_add(o, "status", json_object_new_string(r->status));
	*over = strcmp(r->status, "running") != 0;
	return o;
}

static void script_step(evutil_socket_t fd, short what, void *arg);

static int op_run_job(void *data, const char *name, bool dry_run, bool has_at, int64_t at,
                      int64_t *run_id, char *err, size_t errlen)
{
	struct stub *s = data;
	(void)has_at;
	(void)at;
	struct json_object *job = job_json(s, name);
	if (!job)
		return 404;
	json_object_put(job);
	if (!strcmp(name, "frozen")) {
		snprintf(err, errlen, "job frozen is disabled");
		return 409;
	}
	struct srun *r = add_run(s, name, "2026-11-23T10:00:00Z", "manual", "running", NULL, 0);
	if (!r) {
		snprintf(err, errlen, "too many runs");
		return 500;
	}
	r->dry_run = dry_run;
	*run_id = r->id;
	r->timer = event_new(s->base, -1, EV_PERSIST, script_step, s);
	struct timeval tv = {0, 50000};
	event_add(r->timer, &tv);
	return 0;
}

/* The scripted run: one step every 50 ms, the last one ends it. */
static void script_step(evutil_socket_t fd, short what, void *arg)
{
	struct stub *s = arg;
	(void)fd;
	(void)what;
	for (size_t i = 0; i < s->n_runs; i++) {
		struct srun *r = &s->runs[i];
		if (!r->timer)
			continue;
		switch (r->step++) {
		case 0:
			ev_out(r, "starting upload");
			break;
		case 1:
			ev_log(r, 6, "item done", "item", "a.txt");
			ev_progress(r, 1, 3);
			break;
		case 2:
			ev_log(r, 6, "item done", "item", "b c.txt");
			ev_progress(r, 2, 3);
			break;
		case 3:
			ev_log(r, 4, "item failed", "item", "d.txt");
			ev_progress(r, 3, 3);
			break;
		case 4:
			break;
		default:
			r->status = "partial";
			r->summary = "2 of 3 items uploaded";
			r->duration_ms = 312;
			event_free(r->timer);
			r->timer = NULL;
			break;
		}
		api_run_changed(s->api, r->id);
	}
}

static void reload_answer(evutil_socket_t fd, short what, void *arg)
{
	struct stub *s = arg;
	(void)fd;
	(void)what;
	struct api_req *req = s->reload_req;
	s->reload_req = NULL;
	if (access(s->reject_file, F_OK) == 0) {
		struct json_object *errs = json_object_new_array();
		json_object_array_add(
		    errs, json_object_new_string("conf.d/10-x.conf:3: [job x] schedule: hour 25 "
		                                 "is out of range 0-23"));
		json_object_array_add(
		    errs, json_object_new_string("conf.d/10-x.conf:7: [job y] plugin: no plugin "
		                                 "named 'nope'"));
		api_reload_done(req, false, 0, errs);
		json_object_put(errs);
	} else {
		api_reload_done(req, true, ++s->generation, NULL);
	}
}

static void op_reload(void *data, struct api_req *req)
{
	struct stub *s = data;
	if (s->reload_req) { /* coalesced with the one under way: answered alike */
		api_reload_done(req, true, s->generation, NULL);
		return;
	}
	s->reload_req = req;
	struct timeval tv = {0, 50000};
	evtimer_add(s->reload_timer, &tv);
}

static struct json_object *op_plugins(void *data)
{
	(void)data;
	return json_tokener_parse("[{\"name\":\"exec\",\"version\":\"1.0\"}]");
}

static struct json_object *op_plugin(void *data, const char *name)
{
	(void)data;
	return strcmp(name, "exec") ? NULL
	                            : json_tokener_parse("{\"name\":\"exec\",\"version\":\"1.0\"}");
}

static const struct api_ops ops = {
    .status = op_status,
    .jobs = op_jobs,
    .job = op_job,
    .job_runs = op_job_runs,
    .run = op_run,
    .run_events = op_run_events,
    .run_job = op_run_job,
    .reload = op_reload,
    .plugins = op_plugins,
    .plugin = op_plugin,
};

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	event_base_loopbreak(arg);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: api_stub SOCKET\n");
		return 64;
	}
	signal(SIGPIPE, SIG_IGN);
	struct stub s = {.generation = 1};
	size_t len = strlen(argv[1]) + sizeof ".reject";
	char *reject = malloc(len);
	snprintf(reject, len, "%s.reject", argv[1]);
	s.reject_file = reject;
	s.base = event_base_new();
	s.reload_timer = evtimer_new(s.base, reload_answer, &s);
	struct srun *r = add_run(&s, "nightly", "2026-11-22T01:30:00Z", "schedule", "failed",
	                         "exit status 3", 1200);
	ev_out(r, "cannot open /data: Permission denied");
	r = add_run(&s, "nightly", "2026-11-23T01:30:00Z", "schedule", "ok", "3 files", 4000);
	ev_out(r, "hello");
	ev_log(r, 6, "uploaded", "file", "a b.txt");
	char err[256];
	s.api = api_listen_unix(s.base, argv[1], &ops, &s, err, sizeof err);
	if (!s.api) {
		fprintf(stderr, "api_stub: %s\n", err);
		for (size_t i = 0; i < s.n_runs; i++)
			json_object_put(s.runs[i].events);
		event_free(s.reload_timer);
		event_base_free(s.base);
		free(reject);
		return 69;
	}
	struct event *term = evsignal_new(s.base, SIGTERM, on_signal, s.base);
	struct event *intr = evsignal_new(s.base, SIGINT, on_signal, s.base);
	event_add(term, NULL);
	event_add(intr, NULL);
	event_base_dispatch(s.base);
	api_free(s.api);
	if (s.reload_req)
		api_reload_done(s.reload_req, true, s.generation, NULL);
	for (size_t i = 0; i < s.n_runs; i++) {
		if (s.runs[i].timer)
			event_free(s.runs[i].timer);
		json_object_put(s.runs[i].events);
	}
	event_free(term);
	event_free(intr);
	event_free(s.reload_timer);
	event_base_free(s.base);
	free(reject);
	return 0;
}

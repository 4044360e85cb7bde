/* Routing and request parsing for the HTTP API (routes listed in api.h): path and query
 * parsing, method checks, body limits and JSON bodies; the answers come from api_ops. */
#include "chored-build.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "api.h"
#include "api_internal.h"
#include "dashboard.h"
#include "civil.h"

#define RUNS_LIMIT_DEFAULT 20
#define RUNS_LIMIT_MAX     1000
#define MAX_SEGMENTS       4

enum route {
	R_HEALTHZ,
	R_METRICS,
	R_STATUS,
	R_JOBS,
	R_JOB,
	R_JOB_RUNS,
	R_JOB_RUN,
	R_RUN,
	R_RUN_EVENTS,
	R_RUN_CANCEL,
	R_RELOAD,
	R_PLUGINS,
	R_PLUGIN,
};

/* One request being routed: the decoded path segments are owned here. */
struct ctx {
	struct api *api;
	struct evhttp_request *req;
	char *seg[MAX_SEGMENTS];
	int n_seg;
	struct evkeyvalq query;
};

static bool seg_is(const struct ctx *c, int i, const char *s)
{
	return i < c->n_seg && !strcmp(c->seg[i], s);
}

/* Maps the path to a route and the one method it accepts; -1 = no such route. */
static int match(const struct ctx *c, enum evhttp_cmd_type *method)
{
	*method = EVHTTP_REQ_GET;
	if (c->n_seg == 1 && seg_is(c, 0, "healthz"))
		return R_HEALTHZ;
	if (c->n_seg == 1 && seg_is(c, 0, "metrics") && c->api->ops->metrics)
		return R_METRICS;
	if (!seg_is(c, 0, "v1"))
		return -1;
	switch (c->n_seg) {
	case 2:
		if (seg_is(c, 1, "status"))
			return R_STATUS;
		if (seg_is(c, 1, "jobs"))
			return R_JOBS;
		if (seg_is(c, 1, "plugins"))
			return R_PLUGINS;
		if (seg_is(c, 1, "reload")) {
			*method = EVHTTP_REQ_POST;
			return R_RELOAD;
		}
		return -1;
	case 3:
		if (seg_is(c, 1, "jobs"))
			return R_JOB;
		if (seg_is(c, 1, "runs"))
			return R_RUN;
		if (seg_is(c, 1, "plugins"))
			return R_PLUGIN;
		return -1;
	case 4:
		if (seg_is(c, 1, "jobs") && seg_is(c, 3, "runs"))
			return R_JOB_RUNS;
		if (seg_is(c, 1, "jobs") && seg_is(c, 3, "run")) {
			*method = EVHTTP_REQ_POST;
			return R_JOB_RUN;
		}
		if (seg_is(c, 1, "runs") && seg_is(c, 3, "events"))
			return R_RUN_EVENTS;
		if (seg_is(c, 1, "runs") && seg_is(c, 3, "cancel")) {
			*method = EVHTTP_REQ_POST;
			return R_RUN_CANCEL;
		}
		return -1;
	default:
		return -1;
	}
}

/* Splits "/a/b%20c" into decoded segments. Empty segments (//, trailing /) and encoded
 * NULs make the path unknown. Returns 0, or -1 (no such route). */
static int split_path(struct ctx *c, const char *path)
{
	if (!path || path[0] != '/')
		return -1;
	const char *p = path + 1;
	while (*p) {
		if (c->n_seg == MAX_SEGMENTS)
			return -1;
		size_t len = strcspn(p, "/");
		if (len == 0)
			return -1;
		char *raw = strndup(p, len);
		if (!raw)
			return -1;
		size_t out_len = 0;
		char *dec = evhttp_uridecode(raw, 0, &out_len);
		free(raw);
		if (!dec)
			return -1;
		c->seg[c->n_seg++] = dec;
		if (strlen(dec) != out_len || out_len == 0)
			return -1;
		p += len;
		if (*p == '/' && !*++p)
			return -1;
	}
	return c->n_seg > 0 ? 0 : -1;
}

/* Parses a decimal integer in [min, max] with nothing else around it. */
static bool parse_int(const char *s, int64_t min, int64_t max, int64_t *out)
{
	if (!s || *s < '0' || *s > '9')
		return false;
	errno = 0;
	char *end;
	long long v = strtoll(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return false;
	*out = v;
	return true;
}

/* Every query key must be one of `allowed` (NULL-terminated). */
static bool check_query(struct ctx *c, const char *const *allowed)
{
	for (struct evkeyval *kv = c->query.tqh_first; kv; kv = kv->next.tqe_next) {
		bool known = false;
		for (size_t i = 0; allowed && allowed[i]; i++)
			known = known || !strcmp(kv->key, allowed[i]);
		if (!known) {
			api_send_error(c->req, 400, "bad_request", "unknown query parameter '%s'",
			               kv->key);
			return false;
		}
	}
	return true;
}

/* A query parameter as an integer in [min, max], or `def` when absent. */
static bool query_int(struct ctx *c, const char *key, int64_t min, int64_t max, int64_t def,
                      int64_t *out)
{
	const char *v = evhttp_find_header(&c->query, key);
	if (!v) {
		*out = def;
		return true;
	}
	if (parse_int(v, min, max, out))
		return true;
	api_send_error(c->req, 400, "bad_request",
	               "%s '%s' is not an integer from %" PRId64 " to %" PRId64, key, v, min, max);
	return false;
}

static bool path_id(struct ctx *c, const char *what, int64_t *id)
{
	if (parse_int(c->seg[2], 1, INT64_MAX, id))
		return true;
	api_send_error(c->req, 400, "bad_request", "%s id '%s' is not a positive integer", what,
	               c->seg[2]);
	return false;
}

/* The request body as JSON: *out = NULL for an empty body, else an object. Sends 400 and
 * returns false for anything else. */
static bool parse_body(struct ctx *c, struct json_object **out)
{
	*out = NULL;
	struct evbuffer *in = evhttp_request_get_input_buffer(c->req);
	size_t len = evbuffer_get_length(in);
	const char *text = (const char *)evbuffer_pullup(in, -1);
	size_t skip = 0;
	while (skip < len && strchr(" \t\r\n", text[skip]))
		skip++;
	if (skip == len)
		return true;
	struct json_tokener *tok = json_tokener_new();
	struct json_object *obj = json_tokener_parse_ex(tok, text, (int)len);
	enum json_tokener_error jerr = json_tokener_get_error(tok);
	size_t end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (!obj || jerr != json_tokener_success) {
		api_send_error(c->req, 400, "bad_json", "request body is not valid JSON: %s",
		               jerr == json_tokener_continue ? "unexpected end of input"
		                                             : json_tokener_error_desc(jerr));
		json_object_put(obj);
		return false;
	}
	while (end < len && strchr(" \t\r\n", text[end]))
		end++;
	if (end < len || !json_object_is_type(obj, json_type_object)) {
		api_send_error(c->req, 400, "bad_json", "%s",
		               end < len ? "request body has text after the JSON value"
		                         : "request body must be a JSON object");
		json_object_put(obj);
		return false;
	}
	*out = obj;
	return true;
}

/* Sends a new reference from an op, or 404 when the op found nothing. */
static void send_or_404(struct ctx *c, struct json_object *obj, const char *what, const char *name)
{
	if (!obj) {
		api_send_error(c->req, 404, "not_found", "no %s '%s'", what, name);
		return;
	}
	api_send_json(c->req, 200, obj);
	json_object_put(obj);
}

static void send_wrapped(struct ctx *c, const char *key, struct json_object *array)
{
	struct json_object *body = json_object_new_object();
	json_object_object_add(body, key, array ? array : json_object_new_array());
	api_send_json(c->req, 200, body);
	json_object_put(body);
}

static void job_runs(struct ctx *c)
{
	static const char *const keys[] = {"limit", "before", NULL};
	int64_t limit, before;
	if (!check_query(c, keys) ||
	    !query_int(c, "limit", 1, RUNS_LIMIT_MAX, RUNS_LIMIT_DEFAULT, &limit) ||
	    !query_int(c, "before", 1, INT64_MAX, 0, &before))
		return;
	const struct api_ops *ops = c->api->ops;
	struct json_object *runs = ops->job_runs(c->api->data, c->seg[2], (unsigned)limit, before);
	if (!runs) {
		api_send_error(c->req, 404, "not_found", "no job '%s'", c->seg[2]);
		return;
	}
	send_wrapped(c, "runs", runs);
}

static void job_run(struct ctx *c)
{
	struct json_object *body;
	if (!check_query(c, NULL) || !parse_body(c, &body))
		return;
	bool dry_run = false, has_at = false;
	int64_t at = 0;
	char err[256] = "";
	/* An empty body means defaults; json_object_object_foreach needs an object. */
	struct json_object *fields = body ? body : json_object_new_object();
	json_object_object_foreach(fields, key, val)
	{
		if (!strcmp(key, "dry_run") && json_object_is_type(val, json_type_boolean)) {
			dry_run = json_object_get_boolean(val);
		} else if (!strcmp(key, "at") && json_object_is_type(val, json_type_string)) {
			if (civil_parse_iso(json_object_get_string(val), &at, err, sizeof err) !=
			    0) {
				api_send_error(c->req, 400, "bad_request", "\"at\": %s", err);
				json_object_put(fields);
				return;
			}
			has_at = true;
		} else {
			if (!strcmp(key, "dry_run"))
				api_send_error(c->req, 400, "bad_request",
				               "\"dry_run\" must be true or false");
			else if (!strcmp(key, "at"))
				api_send_error(c->req, 400, "bad_request",
				               "\"at\" must be an ISO 8601 time string");
			else
				api_send_error(c->req, 400, "bad_request",
				               "unknown key \"%s\" (expected dry_run, at)", key);
			json_object_put(fields);
			return;
		}
	}
	json_object_put(fields);
	int64_t run_id = 0;
	const struct api_ops *ops = c->api->ops;
	int rc =
	    ops->run_job(c->api->data, c->seg[2], dry_run, has_at, at, &run_id, err, sizeof err);
	if (rc == 0) {
		struct json_object *ans = json_object_new_object();
		json_object_object_add(ans, "run_id", json_object_new_int64(run_id));
		api_send_json(c->req, 202, ans);
		json_object_put(ans);
	} else if (rc == 404) {
		api_send_error(c->req, 404, "not_found", "no job '%s'", c->seg[2]);
	} else if (rc == 409) {
		api_send_error(c->req, 409, "conflict", "%s", err[0] ? err : "job cannot run now");
	} else {
		api_send_error(c->req, 500, "internal", "%s",
		               err[0] ? err : "cannot start the run");
	}
}

static void run_cancel(struct ctx *c)
{
	int64_t id;
	struct json_object *body;
	if (!path_id(c, "run", &id) || !parse_body(c, &body))
		return;
	if (body && json_object_object_length(body) > 0) {
		json_object_object_foreach(body, key, val)
		{
			(void)val;
			api_send_error(c->req, 400, "bad_request",
			               "unknown key \"%s\" (none expected)", key);
			break;
		}
		json_object_put(body);
		return;
	}
	json_object_put(body);
	const struct api_ops *ops = c->api->ops;
	if (!ops->cancel_run) {
		api_send_error(c->req, 501, "not_implemented", "cancelling runs is not supported");
		return;
	}
	char err[256] = "";
	int rc = ops->cancel_run(c->api->data, id, err, sizeof err);
	if (rc == 202) {
		struct json_object *ans = json_object_new_object();
		json_object_object_add(ans, "run_id", json_object_new_int64(id));
		json_object_object_add(ans, "status", json_object_new_string("cancelling"));
		api_send_json(c->req, 202, ans);
		json_object_put(ans);
	} else if (rc == 404) {
		api_send_error(c->req, 404, "not_found", "no run %" PRId64, id);
	} else if (rc == 409) {
		api_send_error(c->req, 409, "conflict", "%s",
		               err[0] ? err : "the run is not running");
	} else {
		api_send_error(c->req, 500, "internal", "%s",
		               err[0] ? err : "cannot cancel the run");
	}
}

static void run_events(struct ctx *c)
{
	static const char *const keys[] = {"after", "wait", NULL};
	int64_t id, after, wait;
	if (!path_id(c, "run", &id) || !check_query(c, keys) ||
	    !query_int(c, "after", 0, INT64_MAX, 0, &after) ||
	    !query_int(c, "wait", 0, API_WAIT_MAX, 0, &wait))
		return;
	bool news;
	struct json_object *obj = api_events_json(c->api, id, after, &news);
	if (!obj) {
		api_send_error(c->req, 404, "not_found", "no run %" PRId64, id);
		return;
	}
	if (news || wait == 0 ||
	    !api_hold(c->api, c->req, API_REQ_EVENTS, id, after, (unsigned)wait))
		api_send_json(c->req, 200, obj);
	json_object_put(obj);
}

static void reload(struct ctx *c)
{
	struct json_object *body;
	if (!check_query(c, NULL) || !parse_body(c, &body))
		return;
	json_object_put(body);
	struct api_req *r = api_hold(c->api, c->req, API_REQ_RELOAD, 0, 0, 0);
	if (!r) {
		api_send_error(c->req, 500, "internal", "out of memory");
		return;
	}
	/* May answer (and free r) before returning. */
	c->api->ops->reload(c->api->data, r);
}

/* 200 {"status":"ok",…} while serving, 503 {"status":"stopping",…} during shutdown: probes
 * read the status code only. */
static void healthz(struct ctx *c)
{
	bool stopping = false;
	struct json_object *facts =
	    c->api->ops->health ? c->api->ops->health(c->api->data, &stopping) : NULL;
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "status", json_object_new_string(stopping ? "stopping" : "ok"));
	if (facts && json_object_is_type(facts, json_type_object)) {
		json_object_object_foreach(facts, key, val)
		{
			if (strcmp(key, "status") != 0)
				json_object_object_add(o, key, json_object_get(val));
		}
	}
	json_object_put(facts);
	api_send_json(c->req, stopping ? 503 : 200, o);
	json_object_put(o);
}

static void metrics(struct ctx *c)
{
	char *text = c->api->ops->metrics(c->api->data);
	if (!text) {
		api_send_error(c->req, 500, "internal", "cannot render the metrics");
		return;
	}
	struct evbuffer *buf = evbuffer_new();
	if (!buf || evbuffer_add(buf, text, strlen(text)) != 0) {
		free(text);
		if (buf)
			evbuffer_free(buf);
		api_send_error(c->req, 500, "internal", "out of memory");
		return;
	}
	free(text);
	struct evkeyvalq *h = evhttp_request_get_output_headers(c->req);
	evhttp_add_header(h, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
	evhttp_add_header(h, "Cache-Control", "no-store");
	evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
	evhttp_send_reply(c->req, 200, "OK", buf);
	evbuffer_free(buf);
}

static void dispatch(struct ctx *c, enum route route)
{
	const struct api_ops *ops = c->api->ops;
	void *data = c->api->data;
	int64_t id;
	if (route != R_JOB_RUNS && route != R_RUN_EVENTS && route != R_JOB_RUN &&
	    route != R_RELOAD && !check_query(c, NULL))
		return;
	switch (route) {
	case R_HEALTHZ:
		healthz(c);
		break;
	case R_METRICS:
		metrics(c);
		break;
	case R_STATUS: {
		struct json_object *o = ops->status(data);
		if (o)
			api_send_json(c->req, 200, o);
		else
			api_send_error(c->req, 500, "internal", "status unavailable");
		json_object_put(o);
		break;
	}
	case R_JOBS:
		send_wrapped(c, "jobs", ops->jobs(data));
		break;
	case R_JOB:
		send_or_404(c, ops->job(data, c->seg[2]), "job", c->seg[2]);
		break;
	case R_JOB_RUNS:
		job_runs(c);
		break;
	case R_JOB_RUN:
		job_run(c);
		break;
	case R_RUN:
		if (path_id(c, "run", &id))
			send_or_404(c, ops->run(data, id), "run", c->seg[2]);
		break;
	case R_RUN_EVENTS:
		run_events(c);
		break;
	case R_RUN_CANCEL:
		run_cancel(c);
		break;
	case R_RELOAD:
		reload(c);
		break;
	case R_PLUGINS:
		send_wrapped(c, "plugins", ops->plugins(data));
		break;
	case R_PLUGIN:
		send_or_404(c, ops->plugin(data, c->seg[2]), "plugin", c->seg[2]);
		break;
	}
}

static const char *method_name(enum evhttp_cmd_type m)
{
	return m == EVHTTP_REQ_POST ? "POST" : "GET";
}

void api_route(struct evhttp_request *req, void *arg)
{
	struct ctx c = {.api = arg, .req = req};
	TAILQ_INIT(&c.query);
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
	const char *query = uri ? evhttp_uri_get_query(uri) : NULL;
	enum evhttp_cmd_type want;
	/* The admin listener's checks come before any route, the dashboard's included. */
	if (c.api->guard && !api_admit(c.api, req))
		return;
	if (path && evhttp_request_get_command(req) == EVHTTP_REQ_GET &&
	    api_dashboard_route(c.api, req, path))
		return;
	int route = split_path(&c, path) == 0 ? match(&c, &want) : -1;
	if (route < 0) {
		api_send_error(req, 404, "not_found", "no route %s", path ? path : "(none)");
	} else if (evhttp_request_get_command(req) != want) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "Allow",
		                  method_name(want));
		api_send_error(req, 405, "method_not_allowed", "%s takes %s only", path,
		               method_name(want));
	} else if (evbuffer_get_length(evhttp_request_get_input_buffer(req)) > API_BODY_MAX) {
		api_send_error(req, 413, "payload_too_large", "request body is over %d bytes",
		               API_BODY_MAX);
	} else if (query && evhttp_parse_query_str(query, &c.query) != 0) {
		api_send_error(req, 400, "bad_request", "malformed query string");
	} else {
		dispatch(&c, (enum route)route);
	}
	evhttp_clear_headers(&c.query);
	for (int i = 0; i < c.n_seg; i++)
		free(c.seg[i]);
}

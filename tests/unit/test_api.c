/* The HTTP API on a temporary unix socket, against stub ops, single-threaded: the test's
 * raw-socket client is driven by the same event loop as the server, so every exchange,
 * long poll, disconnect and deferred reload happens in a known order. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <event2/event.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <netinet/in.h>
#include <sys/un.h>
#include <unistd.h>

#include "api.h"
#include "api_internal.h"
#include "metrics.h"
#include "strbuf.h"

#define TOKEN "s3cret-token-4f1d"

/* ---- stub daemon ---- */

struct stub {
	struct event_base *base;
	struct api *api;
	/* run 7: its events and whether it is over */
	struct json_object *events; /* array */
	bool over;
	int run_events_calls;
	bool add_event_on_first_poll; /* first empty poll schedules a new event + changed */
	/* last run_job call */
	char run_name[64];
	bool run_dry, run_has_at;
	int64_t run_at;
	/* job_runs call */
	unsigned runs_limit;
	int64_t runs_before;
	/* reload behaviour: 0 ok now, 1 rejected now, 2 deferred */
	int reload_mode;
	struct api_req *reload_req;
	bool stopping; /* health: the daemon stops */
	int log_lines; /* log calls */
	char last_log[256];
};

static struct json_object *st_status(void *data)
{
	(void)data;
	return json_tokener_parse("{\"version\":\"1.0\",\"generation\":2}");
}

static struct json_object *job_obj(const char *name)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "name", json_object_new_string(name));
	return o;
}

static struct json_object *st_jobs(void *data)
{
	(void)data;
	struct json_object *a = json_object_new_array();
	json_object_array_add(a, job_obj("alpha"));
	json_object_array_add(a, job_obj("frozen"));
	return a;
}

static bool known_job(const char *name)
{
	return !strcmp(name, "alpha") || !strcmp(name, "frozen") || !strcmp(name, "a b");
}

static struct json_object *st_job(void *data, const char *name)
{
	(void)data;
	return known_job(name) ? job_obj(name) : NULL;
}

static struct json_object *st_job_runs(void *data, const char *name, unsigned limit, int64_t before)
{
	struct stub *s = data;
	if (!known_job(name))
		return NULL;
	s->runs_limit = limit;
	s->runs_before = before;
	return json_tokener_parse("[{\"id\":7}]");
}

static struct json_object *st_run(void *data, int64_t id)
{
	struct stub *s = data;
	if (id != 7)
		return NULL;
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "id", json_object_new_int64(7));
	json_object_object_add(o, "status", json_object_new_string(s->over ? "ok" : "running"));
	json_object_object_add(o, "log", json_object_new_array());
	return o;
}

static void add_event(struct stub *s)
{
	struct json_object *e = json_object_new_object();
	size_t n = json_object_array_length(s->events);
	json_object_object_add(e, "seq", json_object_new_int64((int64_t)n + 1));
	json_object_object_add(e, "t", json_object_new_string("out"));
	json_object_object_add(e, "text", json_object_new_string("hello"));
	json_object_array_add(s->events, e);
}

static void news_later(evutil_socket_t fd, short what, void *arg)
{
	struct stub *s = arg;
	(void)fd;
	(void)what;
	/* A change that brings nothing past the poll's `after` must not answer it... */
	api_run_changed(s->api, 7);
	assert_int_equal(api_pending(s->api), 1);
	/* ...nor a change of another run; a new event does. */
	add_event(s);
	api_run_changed(s->api, 8);
	assert_int_equal(api_pending(s->api), 1);
	api_run_changed(s->api, 7);
	assert_int_equal(api_pending(s->api), 0);
}

static struct json_object *st_run_events(void *data, int64_t id, int64_t after, bool *over)
{
	struct stub *s = data;
	if (id != 7)
		return NULL;
	s->run_events_calls++;
	struct json_object *o = json_object_new_object();
	struct json_object *a = json_object_new_array();
	size_t n = json_object_array_length(s->events);
	for (size_t i = (size_t)(after < 0 ? 0 : after); i < n; i++)
		json_object_array_add(a, json_object_get(json_object_array_get_idx(s->events, i)));
	json_object_object_add(o, "events", a);
	json_object_object_add(o, "last_seq", json_object_new_int64((int64_t)n));
	json_object_object_add(o, "status", json_object_new_string(s->over ? "ok" : "running"));
	*over = s->over;
	if (s->add_event_on_first_poll && s->run_events_calls == 1 && !s->over &&
	    (size_t)after >= n) {
		struct timeval tv = {0, 20000};
		event_base_once(s->base, -1, EV_TIMEOUT, news_later, s, &tv);
	}
	return o;
}

static int st_run_job(void *data, const char *name, bool dry_run, bool has_at, int64_t at,
                      int64_t *run_id, char *err, size_t errlen)
{
	struct stub *s = data;
	if (!known_job(name))
		return 404;
	if (!strcmp(name, "frozen")) {
		snprintf(err, errlen, "job frozen is disabled");
		return 409;
	}
	snprintf(s->run_name, sizeof s->run_name, "%s", name);
	s->run_dry = dry_run;
	s->run_has_at = has_at;
	s->run_at = at;
	*run_id = 42;
	return 0;
}

static void st_reload(void *data, struct api_req *req)
{
	struct stub *s = data;
	if (s->reload_mode == 0) {
		api_reload_done(req, true, 3, NULL);
	} else if (s->reload_mode == 1) {
		struct json_object *errs = json_object_new_array();
		json_object_array_add(errs,
		                      json_object_new_string("a.conf:3: [job x] schedule: bad"));
		api_reload_done(req, false, 0, errs);
		json_object_put(errs);
	} else {
		s->reload_req = req;
	}
}

static struct json_object *st_plugins(void *data)
{
	(void)data;
	return json_tokener_parse("[{\"name\":\"exec\"}]");
}

static struct json_object *st_plugin(void *data, const char *name)
{
	(void)data;
	return strcmp(name, "exec") ? NULL : json_tokener_parse("{\"name\":\"exec\"}");
}

static struct json_object *st_health(void *data, bool *stopping)
{
	struct stub *s = data;
	*stopping = s->stopping;
	/* "status" from an op must not override the router's */
	return json_tokener_parse("{\"generation\":2,\"status\":\"bogus\"}");
}

static char *st_metrics(void *data)
{
	(void)data;
	return strdup("# HELP x_total X.\n# TYPE x_total counter\nx_total 3\n");
}

static void st_log(void *data, int level, const char *msg)
{
	struct stub *s = data;
	(void)level;
	s->log_lines++;
	snprintf(s->last_log, sizeof s->last_log, "%s", msg);
}

static const struct api_ops stub_ops = {
    .status = st_status,
    .jobs = st_jobs,
    .job = st_job,
    .job_runs = st_job_runs,
    .run = st_run,
    .run_events = st_run_events,
    .run_job = st_run_job,
    .reload = st_reload,
    .plugins = st_plugins,
    .plugin = st_plugin,
    .health = st_health,
    .metrics = st_metrics,
    .log = st_log,
};

/* The first table: no health, metrics or log ops (older daemons). */
static const struct api_ops stub_ops_v1 = {
    .status = st_status,
    .jobs = st_jobs,
    .job = st_job,
    .job_runs = st_job_runs,
    .run = st_run,
    .run_events = st_run_events,
    .run_job = st_run_job,
    .reload = st_reload,
    .plugins = st_plugins,
    .plugin = st_plugin,
};

/* ---- fixture ---- */

struct fx {
	char dir[64];
	char path[128];
	unsigned port; /* admin listener fixtures: requests go to 127.0.0.1:port */
	struct stub stub;
};

static struct fx *fx_new(void)
{
	struct fx *fx = calloc(1, sizeof *fx);
	strcpy(fx->dir, "/tmp/test_api.XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	snprintf(fx->path, sizeof fx->path, "%s/ctl.sock", fx->dir);
	fx->stub.base = event_base_new();
	fx->stub.events = json_object_new_array();
	return fx;
}

static int setup_ops(void **state, const struct api_ops *ops)
{
	struct fx *fx = fx_new();
	char err[256] = "";
	fx->stub.api = api_listen_unix(fx->stub.base, fx->path, ops, &fx->stub, err, sizeof err);
	if (!fx->stub.api)
		fail_msg("api_listen_unix: %s", err);
	*state = fx;
	return 0;
}

static int setup(void **state)
{
	return setup_ops(state, &stub_ops);
}

static int setup_v1(void **state)
{
	return setup_ops(state, &stub_ops_v1);
}

/* The admin listener on 127.0.0.1 (a port the kernel picks) with TOKEN. */
static int setup_admin(void **state)
{
	struct fx *fx = fx_new();
	char err[256] = "";
	fx->stub.api = api_listen_tcp(fx->stub.base, "127.0.0.1:0", TOKEN, &stub_ops, &fx->stub,
	                              err, sizeof err);
	if (!fx->stub.api)
		fail_msg("api_listen_tcp: %s", err);
	fx->port = api_tcp_port(fx->stub.api);
	assert_true(fx->port > 0);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;
	api_free(fx->stub.api);
	if (fx->stub.reload_req)
		api_reload_done(fx->stub.reload_req, true, 1, NULL);
	json_object_put(fx->stub.events);
	event_base_free(fx->stub.base);
	unlink(fx->path);
	rmdir(fx->dir);
	free(fx);
	return 0;
}

/* ---- client: one request per connection, driven by the server's loop ---- */

struct client {
	int fd;
	struct event *ev;
	struct strbuf out; /* still to send */
	size_t sent;
	struct strbuf in;
	bool done;
	/* the parsed answer */
	int status;
	const char *headers; /* into in */
	const char *body;    /* into in */
	struct json_object *json;
};

static void client_io(evutil_socket_t fd, short what, void *arg)
{
	struct client *c = arg;
	if ((what & EV_WRITE) && c->sent < c->out.len) {
		ssize_t n = write(fd, c->out.buf + c->sent, c->out.len - c->sent);
		if (n > 0)
			c->sent += (size_t)n;
	}
	if (what & EV_READ) {
		char buf[4096];
		ssize_t n = read(fd, buf, sizeof buf);
		if (n > 0) {
			strbuf_appendn(&c->in, buf, (size_t)n);
		} else if (n == 0 || errno != EAGAIN) {
			c->done = true;
			event_del(c->ev);
			return;
		}
	}
	short want = EV_READ | (c->sent < c->out.len ? EV_WRITE : 0);
	event_del(c->ev);
	event_assign(c->ev, event_get_base(c->ev), fd, want, client_io, c);
	event_add(c->ev, NULL);
}

/* Sends `raw` (a whole request) to the fixture's server: its socket file, or 127.0.0.1. */
static struct client *client_raw(struct fx *fx, const char *raw, size_t len)
{
	struct client *c = calloc(1, sizeof *c);
	if (fx->port) {
		c->fd = socket(AF_INET, SOCK_STREAM, 0);
		struct sockaddr_in sa = {.sin_family = AF_INET,
		                         .sin_port = htons((uint16_t)fx->port)};
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		/* Blocking connect: the kernel completes it from the listen backlog. */
		assert_int_equal(connect(c->fd, (struct sockaddr *)&sa, sizeof sa), 0);
		evutil_make_socket_nonblocking(c->fd);
	} else {
		c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
		struct sockaddr_un sa = {.sun_family = AF_UNIX};
		strcpy(sa.sun_path, fx->path);
		assert_int_equal(connect(c->fd, (struct sockaddr *)&sa, sizeof sa), 0);
	}
	strbuf_appendn(&c->out, raw, len);
	c->ev = event_new(fx->stub.base, c->fd, EV_READ | EV_WRITE, client_io, c);
	event_add(c->ev, NULL);
	return c;
}

/* `headers`: extra header lines, each ending in \r\n (NULL = none). */
static struct client *client_start_h(struct fx *fx, const char *method, const char *target,
                                     const char *headers, const char *body, size_t body_len)
{
	struct strbuf req = STRBUF_INIT;
	strbuf_appendf(&req,
	               "%s %s HTTP/1.1\r\n%sConnection: close\r\n"
	               "Content-Length: %zu\r\n\r\n",
	               method, target, headers ? headers : "Host: localhost\r\n",
	               body ? body_len : 0);
	if (body)
		strbuf_appendn(&req, body, body_len);
	struct client *c = client_raw(fx, req.buf, req.len);
	strbuf_free(&req);
	return c;
}

static struct client *client_start(struct fx *fx, const char *method, const char *target,
                                   const char *body, size_t body_len)
{
	return client_start_h(fx, method, target, NULL, body, body_len);
}

static void give_up(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	*(bool *)arg = true;
}

/* Runs the loop until `*flag` turns true (or `until_zero` pending requests); 10 s cap. */
static void loop_until(struct fx *fx, const bool *flag, bool until_idle)
{
	bool timed_out = false;
	struct timeval cap = {10, 0};
	struct event *t = evtimer_new(fx->stub.base, give_up, &timed_out);
	evtimer_add(t, &cap);
	while (!timed_out && (flag ? !*flag : api_pending(fx->stub.api) != (until_idle ? 0 : 1)))
		event_base_loop(fx->stub.base, EVLOOP_ONCE);
	event_free(t);
	assert_false(timed_out);
}

static void client_finish(struct fx *fx, struct client *c)
{
	loop_until(fx, &c->done, false);
	char *text = c->in.buf;
	assert_non_null(text);
	assert_int_equal(sscanf(text, "HTTP/1.1 %d ", &c->status), 1);
	char *sep = strstr(text, "\r\n\r\n");
	assert_non_null(sep);
	*sep = '\0';
	c->headers = text;
	c->body = sep + 4;
	c->json = json_tokener_parse(c->body);
}

static void client_free(struct client *c)
{
	if (c->ev)
		event_free(c->ev);
	if (c->fd >= 0)
		close(c->fd);
	strbuf_free(&c->out);
	strbuf_free(&c->in);
	json_object_put(c->json);
	free(c);
}

static struct client *request(struct fx *fx, const char *method, const char *target,
                              const char *body)
{
	struct client *c = client_start(fx, method, target, body, body ? strlen(body) : 0);
	client_finish(fx, c);
	return c;
}

static const char *jstr(struct json_object *o, const char *path)
{
	/* "a.b" walks objects */
	char key[64];
	const char *p = path;
	while (o && *p) {
		size_t n = strcspn(p, ".");
		snprintf(key, sizeof key, "%.*s", (int)n, p);
		if (!json_object_object_get_ex(o, key, &o))
			return NULL;
		p += n + (p[n] == '.');
	}
	return o ? json_object_get_string(o) : NULL;
}

/* Every answer: JSON content type, body ending in one newline, parseable. */
static void assert_json_reply(struct client *c, int status)
{
	if (c->status != status)
		fail_msg("status %d, want %d; body: %s", c->status, status, c->body);
	assert_non_null(strstr(c->headers, "Content-Type: application/json"));
	size_t len = strlen(c->body);
	assert_true(len > 1 && c->body[len - 1] == '\n' && c->body[len - 2] != '\n');
	assert_non_null(c->json);
}

static void assert_error(struct client *c, int status, const char *code, const char *needle)
{
	assert_json_reply(c, status);
	assert_string_equal(jstr(c->json, "error.code"), code);
	const char *msg = jstr(c->json, "error.message");
	assert_non_null(msg);
	if (needle && !strstr(msg, needle))
		fail_msg("message '%s' lacks '%s'", msg, needle);
}

static void expect(struct fx *fx, const char *method, const char *target, const char *body,
                   int status, const char *code, const char *needle)
{
	struct client *c = request(fx, method, target, body);
	if (code)
		assert_error(c, status, code, needle);
	else
		assert_json_reply(c, status);
	client_free(c);
}

/* ---- tests ---- */

static void test_read_routes(void **state)
{
	struct fx *fx = *state;
	struct client *c = request(fx, "GET", "/healthz", NULL);
	assert_json_reply(c, 200);
	assert_string_equal(c->body, "{\"status\":\"ok\",\"generation\":2}\n");
	client_free(c);

	c = request(fx, "GET", "/v1/status", NULL);
	assert_json_reply(c, 200);
	assert_string_equal(jstr(c->json, "generation"), "2");
	client_free(c);

	c = request(fx, "GET", "/v1/jobs", NULL);
	assert_json_reply(c, 200);
	assert_string_equal(c->body, "{\"jobs\":[{\"name\":\"alpha\"},{\"name\":\"frozen\"}]}\n");
	client_free(c);

	c = request(fx, "GET", "/v1/jobs/alpha", NULL);
	assert_json_reply(c, 200);
	assert_string_equal(jstr(c->json, "name"), "alpha");
	client_free(c);
	c = request(fx, "GET", "/v1/jobs/a%20b", NULL);
	assert_json_reply(c, 200);
	assert_string_equal(jstr(c->json, "name"), "a b");
	client_free(c);
	expect(fx, "GET", "/v1/jobs/nosuch", NULL, 404, "not_found", "nosuch");

	c = request(fx, "GET", "/v1/runs/7", NULL);
	assert_json_reply(c, 200);
	assert_string_equal(jstr(c->json, "id"), "7");
	assert_non_null(jstr(c->json, "log"));
	client_free(c);
	expect(fx, "GET", "/v1/runs/99", NULL, 404, "not_found", "99");
	expect(fx, "GET", "/v1/runs/0", NULL, 400, "bad_request", "positive integer");
	expect(fx, "GET", "/v1/runs/7x", NULL, 400, "bad_request", "'7x'");
	expect(fx, "GET", "/v1/runs/-7", NULL, 400, "bad_request", NULL);
	expect(fx, "GET", "/v1/runs/99999999999999999999", NULL, 400, "bad_request", NULL);

	c = request(fx, "GET", "/v1/plugins", NULL);
	assert_json_reply(c, 200);
	assert_string_equal(c->body, "{\"plugins\":[{\"name\":\"exec\"}]}\n");
	client_free(c);
	expect(fx, "GET", "/v1/plugins/exec", NULL, 200, NULL, NULL);
	expect(fx, "GET", "/v1/plugins/nope", NULL, 404, "not_found", "nope");
}

static void test_job_runs_params(void **state)
{
	struct fx *fx = *state;
	struct stub *s = &fx->stub;
	struct client *c = request(fx, "GET", "/v1/jobs/alpha/runs", NULL);
	assert_json_reply(c, 200);
	assert_string_equal(c->body, "{\"runs\":[{\"id\":7}]}\n");
	client_free(c);
	assert_int_equal(s->runs_limit, 20);
	assert_int_equal(s->runs_before, 0);
	expect(fx, "GET", "/v1/jobs/alpha/runs?limit=1000&before=9", NULL, 200, NULL, NULL);
	assert_int_equal(s->runs_limit, 1000);
	assert_int_equal(s->runs_before, 9);
	expect(fx, "GET", "/v1/jobs/alpha/runs?limit=1", NULL, 200, NULL, NULL);
	assert_int_equal(s->runs_limit, 1);
	expect(fx, "GET", "/v1/jobs/alpha/runs?limit=0", NULL, 400, "bad_request", "limit");
	expect(fx, "GET", "/v1/jobs/alpha/runs?limit=1001", NULL, 400, "bad_request", "1 to 1000");
	expect(fx, "GET", "/v1/jobs/alpha/runs?limit=ten", NULL, 400, "bad_request", "ten");
	expect(fx, "GET", "/v1/jobs/alpha/runs?limit=", NULL, 400, "bad_request", NULL);
	expect(fx, "GET", "/v1/jobs/alpha/runs?before=0", NULL, 400, "bad_request", "before");
	expect(fx, "GET", "/v1/jobs/alpha/runs?sort=asc", NULL, 400, "bad_request", "sort");
	expect(fx, "GET", "/v1/jobs/nosuch/runs", NULL, 404, "not_found", "nosuch");
	expect(fx, "GET", "/v1/jobs?x=1", NULL, 400, "bad_request", "'x'");
}

static void test_run_job(void **state)
{
	struct fx *fx = *state;
	struct stub *s = &fx->stub;
	struct client *c = request(fx, "POST", "/v1/jobs/alpha/run", NULL);
	assert_json_reply(c, 202);
	assert_string_equal(c->body, "{\"run_id\":42}\n");
	client_free(c);
	assert_string_equal(s->run_name, "alpha");
	assert_false(s->run_dry);
	assert_false(s->run_has_at);

	expect(fx, "POST", "/v1/jobs/alpha/run",
	       "{\"dry_run\":true,\"at\":\"2026-03-29T03:00:00+02:00\"}", 202, NULL, NULL);
	assert_true(s->run_dry);
	assert_true(s->run_has_at);
	assert_int_equal(s->run_at, 1774746000); /* 2026-03-29T01:00:00Z */

	s->run_name[0] = '\0';
	expect(fx, "POST", "/v1/jobs/alpha/run", "{\"dry_run\":", 400, "bad_json", "JSON");
	expect(fx, "POST", "/v1/jobs/alpha/run", "{} {}", 400, "bad_json", "after");
	expect(fx, "POST", "/v1/jobs/alpha/run", "[true]", 400, "bad_json", "object");
	expect(fx, "POST", "/v1/jobs/alpha/run", "{\"dry\":true}", 400, "bad_request", "dry");
	expect(fx, "POST", "/v1/jobs/alpha/run", "{\"dry_run\":1}", 400, "bad_request",
	       "true or false");
	expect(fx, "POST", "/v1/jobs/alpha/run", "{\"at\":\"tomorrow\"}", 400, "bad_request",
	       "\"at\"");
	expect(fx, "POST", "/v1/jobs/alpha/run", "{\"at\":\"2026-01-01T00:00:00\"}", 400,
	       "bad_request", NULL);
	assert_string_equal(s->run_name, ""); /* no bad request reached run_job */
	expect(fx, "POST", "/v1/jobs/frozen/run", "{}", 409, "conflict", "frozen is disabled");
	expect(fx, "POST", "/v1/jobs/nosuch/run", NULL, 404, "not_found", "nosuch");
}

static void test_methods_and_routes(void **state)
{
	struct fx *fx = *state;
	struct client *c = request(fx, "POST", "/v1/jobs", "{}");
	assert_error(c, 405, "method_not_allowed", "GET");
	assert_non_null(strstr(c->headers, "\r\nAllow: GET"));
	client_free(c);
	c = request(fx, "GET", "/v1/reload", NULL);
	assert_error(c, 405, "method_not_allowed", "POST");
	assert_non_null(strstr(c->headers, "\r\nAllow: POST"));
	client_free(c);
	c = request(fx, "GET", "/v1/jobs/alpha/run", NULL);
	assert_error(c, 405, "method_not_allowed", NULL);
	assert_non_null(strstr(c->headers, "\r\nAllow: POST"));
	client_free(c);
	c = request(fx, "DELETE", "/v1/runs/7", NULL);
	assert_error(c, 405, "method_not_allowed", NULL);
	assert_non_null(strstr(c->headers, "\r\nAllow: GET"));
	client_free(c);
	expect(fx, "PUT", "/v1/status", "{}", 405, "method_not_allowed", NULL);

	/* GET / is the dashboard's (dashboard.c). */
	expect(fx, "GET", "/nope", NULL, 404, "not_found", "/nope");
	expect(fx, "GET", "/v1", NULL, 404, "not_found", NULL);
	expect(fx, "GET", "/v1/jobs/", NULL, 404, "not_found", NULL);
	expect(fx, "GET", "/v1//jobs", NULL, 404, "not_found", NULL);
	expect(fx, "GET", "/v1/jobs/alpha/runs/7", NULL, 404, "not_found", NULL);
	expect(fx, "GET", "/v1/jobs/alpha/other", NULL, 404, "not_found", NULL);
	expect(fx, "GET", "/v2/jobs", NULL, 404, "not_found", NULL);
	expect(fx, "GET", "/v1/jobs/a%00b", NULL, 404, "not_found", NULL);
	/* an unknown route is 404 whatever the method */
	expect(fx, "POST", "/v1/nothing", NULL, 404, "not_found", NULL);
}

static void test_body_limit(void **state)
{
	struct fx *fx = *state;
	/* exactly 64 KiB: accepted */
	size_t len = API_BODY_MAX;
	char *body = malloc(len + 2);
	memset(body, ' ', len + 1);
	memcpy(body, "{\"dry_run\":true}", 16);
	struct client *c = client_start(fx, "POST", "/v1/jobs/alpha/run", body, len);
	client_finish(fx, c);
	assert_json_reply(c, 202);
	client_free(c);
	/* one byte more: 413 */
	c = client_start(fx, "POST", "/v1/jobs/alpha/run", body, len + 1);
	client_finish(fx, c);
	assert_error(c, 413, "payload_too_large", "65536");
	client_free(c);
	free(body);
}

static void test_events_immediate(void **state)
{
	struct fx *fx = *state;
	struct stub *s = &fx->stub;
	add_event(s);
	add_event(s);
	struct client *c = request(fx, "GET", "/v1/runs/7/events?after=0&wait=30", NULL);
	assert_json_reply(c, 200);
	assert_int_equal(json_object_array_length(json_object_object_get(c->json, "events")), 2);
	assert_string_equal(jstr(c->json, "last_seq"), "2");
	assert_string_equal(jstr(c->json, "status"), "running");
	assert_null(json_object_object_get(c->json, "run"));
	client_free(c);
	/* nothing new and wait=0 (the default): an empty answer at once */
	c = request(fx, "GET", "/v1/runs/7/events?after=2", NULL);
	assert_json_reply(c, 200);
	assert_int_equal(json_object_array_length(json_object_object_get(c->json, "events")), 0);
	client_free(c);
	/* an ended run answers at once, with its record */
	s->over = true;
	c = request(fx, "GET", "/v1/runs/7/events?after=2&wait=30", NULL);
	assert_json_reply(c, 200);
	assert_string_equal(jstr(c->json, "status"), "ok");
	assert_string_equal(jstr(c->json, "run.status"), "ok");
	client_free(c);
	expect(fx, "GET", "/v1/runs/8/events", NULL, 404, "not_found", "8");
	expect(fx, "GET", "/v1/runs/7/events?wait=61", NULL, 400, "bad_request", "wait");
	expect(fx, "GET", "/v1/runs/7/events?after=-1", NULL, 400, "bad_request", "after");
	expect(fx, "GET", "/v1/runs/x/events", NULL, 400, "bad_request", NULL);
	assert_int_equal(api_pending(s->api), 0);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_events_long_poll_changed(void **state)
{
	struct fx *fx = *state;
	struct stub *s = &fx->stub;
	s->add_event_on_first_poll = true;
	double t0 = now_s();
	struct client *c = request(fx, "GET", "/v1/runs/7/events?after=0&wait=30", NULL);
	double dt = now_s() - t0;
	assert_json_reply(c, 200);
	assert_int_equal(json_object_array_length(json_object_object_get(c->json, "events")), 1);
	assert_string_equal(jstr(c->json, "last_seq"), "1");
	client_free(c);
	assert_true(s->run_events_calls >= 2); /* held, then asked again on the change */
	assert_true(dt < 5.0);                 /* answered by the change, not the deadline */
	assert_int_equal(api_pending(s->api), 0);
}

static void test_events_long_poll_timeout(void **state)
{
	struct fx *fx = *state;
	double t0 = now_s();
	struct client *c = request(fx, "GET", "/v1/runs/7/events?after=0&wait=1", NULL);
	double dt = now_s() - t0;
	assert_json_reply(c, 200);
	assert_int_equal(json_object_array_length(json_object_object_get(c->json, "events")), 0);
	assert_string_equal(jstr(c->json, "status"), "running");
	client_free(c);
	assert_true(dt >= 0.9);
	assert_true(dt < 5.0);
}

static void test_events_client_gone(void **state)
{
	struct fx *fx = *state;
	struct stub *s = &fx->stub;
	struct client *c = client_start(fx, "GET", "/v1/runs/7/events?wait=30", NULL, 0);
	loop_until(fx, NULL, false); /* held */
	event_free(c->ev);
	c->ev = NULL;
	close(c->fd);
	c->fd = -1;
	loop_until(fx, NULL, true); /* the hang-up is noticed and the hold dropped */
	add_event(s);
	api_run_changed(s->api, 7); /* nothing left to answer */
	client_free(c);
	/* the server still serves */
	expect(fx, "GET", "/healthz", NULL, 200, NULL, NULL);
}

static void test_reload(void **state)
{
	struct fx *fx = *state;
	struct stub *s = &fx->stub;
	struct client *c = request(fx, "POST", "/v1/reload", NULL);
	assert_json_reply(c, 200);
	assert_string_equal(c->body, "{\"result\":\"ok\",\"generation\":3}\n");
	client_free(c);

	s->reload_mode = 1;
	c = request(fx, "POST", "/v1/reload", "{}");
	assert_error(c, 422, "config_rejected", "1 error");
	struct json_object *errs = json_object_object_get(c->json, "errors");
	assert_int_equal(json_object_array_length(errs), 1);
	assert_string_equal(json_object_get_string(json_object_array_get_idx(errs, 0)),
	                    "a.conf:3: [job x] schedule: bad");
	client_free(c);
	expect(fx, "POST", "/v1/reload", "nope", 400, "bad_json", NULL);

	/* deferred: answered when the reload is over */
	s->reload_mode = 2;
	c = client_start(fx, "POST", "/v1/reload", NULL, 0);
	loop_until(fx, NULL, false);
	assert_non_null(s->reload_req);
	assert_false(c->done);
	api_reload_done(s->reload_req, true, 4, NULL);
	s->reload_req = NULL;
	client_finish(fx, c);
	assert_json_reply(c, 200);
	assert_string_equal(jstr(c->json, "generation"), "4");
	client_free(c);
}

static void test_reload_client_gone(void **state)
{
	struct fx *fx = *state;
	struct stub *s = &fx->stub;
	s->reload_mode = 2;
	struct client *c = client_start(fx, "POST", "/v1/reload", NULL, 0);
	loop_until(fx, NULL, false);
	event_free(c->ev);
	c->ev = NULL;
	close(c->fd);
	c->fd = -1;
	loop_until(fx, NULL, true);
	/* the reload ends after its client left: nothing to answer, nothing leaked */
	struct json_object *errs = json_tokener_parse("[\"x.conf:1: bad\"]");
	api_reload_done(s->reload_req, false, 0, errs);
	json_object_put(errs);
	s->reload_req = NULL;
	client_free(c);
	expect(fx, "GET", "/healthz", NULL, 200, NULL, NULL);
}

static void test_free_answers_held(void **state)
{
	struct fx *fx = *state;
	struct stub *s = &fx->stub;
	s->reload_mode = 2;
	struct client *poll = client_start(fx, "GET", "/v1/runs/7/events?wait=30", NULL, 0);
	loop_until(fx, NULL, false);
	struct client *rel = client_start(fx, "POST", "/v1/reload", NULL, 0);
	while (!s->reload_req)
		event_base_loop(s->base, EVLOOP_ONCE);
	assert_int_equal(api_pending(s->api), 2);
	api_free(s->api);
	s->api = NULL;
	/* the daemon finishes its reload later: the request is just freed */
	api_reload_done(s->reload_req, true, 5, NULL);
	s->reload_req = NULL;
	client_finish(fx, poll);
	assert_error(poll, 503, "shutting_down", NULL);
	client_finish(fx, rel);
	assert_error(rel, 503, "shutting_down", NULL);
	client_free(poll);
	client_free(rel);
	struct stat st;
	assert_int_equal(lstat(fx->path, &st), -1); /* socket file removed */
}

static void test_socket_file(void **state)
{
	struct fx *fx = *state;
	struct stat st;
	assert_int_equal(lstat(fx->path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0660);

	/* a live daemon's socket is never taken */
	char err[256] = "";
	struct api *second =
	    api_listen_unix(fx->stub.base, fx->path, &stub_ops, &fx->stub, err, sizeof err);
	assert_null(second);
	char want[200];
	snprintf(want, sizeof want, "another chored is listening on %s", fx->path);
	assert_string_equal(err, want);
	expect(fx, "GET", "/healthz", NULL, 200, NULL, NULL); /* the first still serves */

	/* a stale socket (bound, nobody listening) is replaced */
	char stale[160];
	snprintf(stale, sizeof stale, "%s/stale.sock", fx->dir);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	strcpy(sa.sun_path, stale);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	close(fd);
	struct api *api2 =
	    api_listen_unix(fx->stub.base, stale, &stub_ops, &fx->stub, err, sizeof err);
	if (!api2)
		fail_msg("stale socket not replaced: %s", err);
	api_free(api2);
	assert_int_equal(lstat(stale, &st), -1);

	/* a regular file is not a socket to replace */
	FILE *f = fopen(stale, "w");
	fclose(f);
	assert_null(api_listen_unix(fx->stub.base, stale, &stub_ops, &fx->stub, err, sizeof err));
	assert_non_null(strstr(err, "not a socket"));
	assert_int_equal(lstat(stale, &st), 0);
	unlink(stale);

	/* a path too long for sun_path */
	char longp[200];
	memset(longp, 'x', sizeof longp - 1);
	longp[0] = '/';
	longp[sizeof longp - 1] = '\0';
	assert_null(api_listen_unix(fx->stub.base, longp, &stub_ops, &fx->stub, err, sizeof err));
	assert_non_null(strstr(err, "too long"));
}

static void test_keepalive(void **state)
{
	/* Two requests on one connection, the first a long poll answered by a change. */
	struct fx *fx = *state;
	struct stub *s = &fx->stub;
	s->add_event_on_first_poll = true;
	struct client *c = calloc(1, sizeof *c);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	strcpy(sa.sun_path, fx->path);
	assert_int_equal(connect(c->fd, (struct sockaddr *)&sa, sizeof sa), 0);
	strbuf_append(&c->out, "GET /v1/runs/7/events?wait=30 HTTP/1.1\r\nHost: x\r\n\r\n"
	                       "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	c->ev = event_new(s->base, c->fd, EV_READ | EV_WRITE, client_io, c);
	event_add(c->ev, NULL);
	loop_until(fx, &c->done, false);
	const char *text = strbuf_str(&c->in);
	const char *second = strstr(text, "{\"status\":\"ok\",");
	const char *first = strstr(text, "\"events\":[{");
	assert_non_null(first);
	assert_non_null(second);
	assert_true(first < second);
	client_free(c);
}

/* ---- health, metrics, and the admin listener's guard ---- */

static struct client *request_h(struct fx *fx, const char *method, const char *target,
                                const char *headers, const char *body)
{
	struct client *c =
	    client_start_h(fx, method, target, headers, body, body ? strlen(body) : 0);
	client_finish(fx, c);
	return c;
}

static void expect_h(struct fx *fx, const char *method, const char *target, const char *headers,
                     int status, const char *code)
{
	struct client *c = request_h(fx, method, target, headers, NULL);
	if (code)
		assert_error(c, status, code, NULL);
	else
		assert_json_reply(c, status);
	client_free(c);
}

static bool has_header(const struct client *c, const char *line)
{
	char want[256];
	snprintf(want, sizeof want, "\r\n%s\r\n", line);
	char *h = NULL;
	if (asprintf(&h, "%s\r\n", c->headers) < 0)
		return false;
	bool found = strstr(h, want) != NULL;
	free(h);
	return found;
}

static void test_health_and_metrics(void **state)
{
	struct fx *fx = *state;
	fx->stub.stopping = true;
	struct client *c = request(fx, "GET", "/healthz", NULL);
	assert_json_reply(c, 503);
	assert_string_equal(jstr(c->json, "status"), "stopping");
	assert_string_equal(jstr(c->json, "generation"), "2");
	client_free(c);

	c = request(fx, "GET", "/metrics", NULL);
	assert_int_equal(c->status, 200);
	assert_true(has_header(c, "Content-Type: text/plain; version=0.0.4; charset=utf-8"));
	assert_string_equal(c->body, "# HELP x_total X.\n# TYPE x_total counter\nx_total 3\n");
	client_free(c);
	expect(fx, "POST", "/metrics", NULL, 405, "method_not_allowed", "GET");
	expect(fx, "GET", "/metrics?x=1", NULL, 400, "bad_request", "'x'");
}

/* Without the optional ops: /healthz is bare, /metrics does not exist. */
static void test_ops_v1(void **state)
{
	struct fx *fx = *state;
	struct client *c = request(fx, "GET", "/healthz", NULL);
	assert_json_reply(c, 200);
	assert_string_equal(c->body, "{\"status\":\"ok\"}\n");
	client_free(c);
	expect(fx, "GET", "/metrics", NULL, 404, "not_found", NULL);
}

#define AUTH(t) "Host: localhost\r\nAuthorization: " t "\r\n"

static void test_admin_reads_need_no_token(void **state)
{
	struct fx *fx = *state;
	expect_h(fx, "GET", "/healthz", NULL, 200, NULL);
	expect_h(fx, "GET", "/v1/status", NULL, 200, NULL);
	expect_h(fx, "GET", "/v1/jobs/alpha/runs?limit=5", NULL, 200, NULL);
	assert_int_equal(fx->stub.runs_limit, 5);
	/* a wrong token on a read route is not looked at */
	expect_h(fx, "GET", "/v1/jobs", AUTH("Bearer nope"), 200, NULL);
	expect_h(fx, "GET", "/v1/nothing", NULL, 404, "not_found");
}

static void test_admin_token(void **state)
{
	struct fx *fx = *state;
	const char *path = "/v1/jobs/alpha/run";
	struct client *c = request_h(fx, "POST", path, NULL, NULL);
	assert_error(c, 401, "unauthorized", "Authorization: Bearer");
	assert_true(has_header(c, "WWW-Authenticate: Bearer realm=\"chored\""));
	client_free(c);
	assert_string_equal(fx->stub.run_name, "");

	c = request_h(fx, "POST", path, AUTH("Bearer wrong"), NULL);
	assert_error(c, 401, "unauthorized", "not valid");
	assert_true(
	    has_header(c, "WWW-Authenticate: Bearer realm=\"chored\", error=\"invalid_token\""));
	client_free(c);
	/* near misses: a prefix, a longer token, another scheme, no credential */
	expect_h(fx, "POST", path, AUTH("Bearer s3cret-token-4f1"), 401, "unauthorized");
	expect_h(fx, "POST", path, AUTH("Bearer " TOKEN "x"), 401, "unauthorized");
	api_guard_succeeded(fx->stub.api->guard, "127.0.0.1"); /* stay under the slow-down */
	expect_h(fx, "POST", path, AUTH("Basic " TOKEN), 401, "unauthorized");
	expect_h(fx, "POST", path, AUTH("Bearer"), 401, "unauthorized");
	expect_h(fx, "POST", path, AUTH("Bearer" TOKEN), 401, "unauthorized");
	assert_string_equal(fx->stub.run_name, "");

	expect_h(fx, "POST", path, AUTH("Bearer " TOKEN), 202, NULL);
	assert_string_equal(fx->stub.run_name, "alpha");
	/* the scheme is case-insensitive (RFC 7235), spaces around the token are not part of it */
	expect_h(fx, "POST", path, AUTH("bearer   " TOKEN "  "), 202, NULL);
	expect_h(fx, "POST", "/v1/reload", AUTH("Bearer " TOKEN), 200, NULL);
	/* every non-GET method is guarded, before routing */
	expect_h(fx, "DELETE", "/v1/runs/7", NULL, 401, "unauthorized");
	expect_h(fx, "POST", "/v1/jobs", AUTH("Bearer " TOKEN), 405, "method_not_allowed");
	/* failures logged without the token */
	assert_true(fx->stub.log_lines > 0);
	assert_null(strstr(fx->stub.last_log, "wrong"));
	assert_non_null(strstr(fx->stub.last_log, "127.0.0.1"));
}

static void test_admin_token_changes(void **state)
{
	struct fx *fx = *state;
	const char *path = "/v1/jobs/alpha/run";
	api_set_token(fx->stub.api, NULL);
	struct client *c = request_h(fx, "POST", path, AUTH("Bearer " TOKEN), NULL);
	assert_error(c, 403, "no_admin_token", "admin_token");
	client_free(c);
	expect_h(fx, "POST", "/v1/reload", NULL, 403, "no_admin_token");
	expect_h(fx, "GET", "/v1/status", NULL, 200, NULL);
	api_set_token(fx->stub.api, ""); /* empty = none */
	expect_h(fx, "POST", path, AUTH("Bearer "), 403, "no_admin_token");

	api_set_token(fx->stub.api, "rotated");
	expect_h(fx, "POST", path, AUTH("Bearer " TOKEN), 401, "unauthorized");
	expect_h(fx, "POST", path, AUTH("Bearer rotated"), 202, NULL);
}

static void test_admin_query_token(void **state)
{
	struct fx *fx = *state;
	struct client *c = request_h(fx, "GET", "/v1/status?token=abc", NULL, NULL);
	assert_error(c, 400, "token_in_query", "Authorization: Bearer");
	client_free(c);
	expect_h(fx, "GET", "/v1/jobs?access_token=abc", NULL, 400, "token_in_query");
	expect_h(fx, "GET", "/v1/jobs?Admin_Token=abc", NULL, 400, "token_in_query");
	expect_h(fx, "GET", "/v1/jobs?api%5Fkey=abc", NULL, 400, "token_in_query");
	expect_h(fx, "GET", "/?token", NULL, 400, "token_in_query"); /* the dashboard too */
	expect_h(fx, "GET", "/nosuch?auth_token=1", NULL, 400, "token_in_query");
	/* the token itself under any name, raw or encoded */
	expect_h(fx, "GET", "/v1/jobs/alpha/runs?limit=5&x=" TOKEN, NULL, 400, "token_in_query");
	expect_h(fx, "GET", "/v1/jobs/alpha/runs?x=s3cret%2Dtoken%2D4f1d", NULL, 400,
	         "token_in_query");
	/* also when the header is right */
	expect_h(fx, "POST", "/v1/reload?token=" TOKEN, AUTH("Bearer " TOKEN), 400,
	         "token_in_query");
	/* ordinary parameters pass */
	expect_h(fx, "GET", "/v1/jobs/alpha/runs?limit=3&before=9", NULL, 200, NULL);
	assert_int_equal(fx->stub.runs_before, 9);
}

static void test_control_socket_unguarded(void **state)
{
	struct fx *fx = *state;
	/* no token, any Host: the socket's file mode is the guard */
	expect_h(fx, "POST", "/v1/jobs/alpha/run", "Host: evil.example\r\n", 202, NULL);
	/* an unknown parameter is the router's 400, not token_in_query */
	expect(fx, "GET", "/v1/status?token=x", NULL, 400, "bad_request", "'token'");
}

static void test_admin_host(void **state)
{
	struct fx *fx = *state;
	struct client *c = request_h(fx, "GET", "/v1/status", "Host: evil.example\r\n", NULL);
	assert_error(c, 421, "bad_host", "localhost");
	client_free(c);
	expect_h(fx, "GET", "/v1/status", "Host: evil.example:8470\r\n", 421, "bad_host");
	expect_h(fx, "GET", "/", "Host: 127.0.0.1.evil.example\r\n", 421, "bad_host");
	expect_h(fx, "POST", "/v1/reload",
	         "Host: evil.example\r\nAuthorization: Bearer " TOKEN "\r\n", 421, "bad_host");
	expect_h(fx, "GET", "/v1/status", "Host: localhost:abc\r\n", 421, "bad_host");
	expect_h(fx, "GET", "/v1/status", "Host: [::1\r\n", 421, "bad_host");
	expect_h(fx, "GET", "/v1/status", "Host: localhost\r\n", 200, NULL);
	expect_h(fx, "GET", "/v1/status", "Host: LocalHost.:8470\r\n", 200, NULL);
	expect_h(fx, "GET", "/v1/status", "Host: 127.0.0.1:8470\r\n", 200, NULL);
	expect_h(fx, "GET", "/v1/status", "Host: 10.1.2.3\r\n", 200, NULL);
	expect_h(fx, "GET", "/v1/status", "Host: [::1]:8470\r\n", 200, NULL);
	/* this host's name is for non-loopback listeners only */
	char hn[256] = "", hdr[300];
	gethostname(hn, sizeof hn - 1);
	if (strcmp(hn, "localhost") != 0) {
		snprintf(hdr, sizeof hdr, "Host: %s\r\n", hn);
		expect_h(fx, "GET", "/v1/status", hdr, 421, "bad_host");
	}
	/* HTTP/1.0 without Host: not a browser */
	const char raw[] = "GET /v1/status HTTP/1.0\r\n\r\n";
	c = client_raw(fx, raw, sizeof raw - 1);
	loop_until(fx, &c->done, false);
	assert_non_null(strstr(strbuf_str(&c->in), " 200 "));
	client_free(c);
}

static void test_host_rule(void **state)
{
	(void)state;
	struct api_guard *g = calloc(1, sizeof *g);
	g->loopback = false;
	strcpy(g->hostname, "box");
	strcpy(g->listen_name, "admin.example.net");
	assert_true(api_guard_host_ok(g, NULL));
	assert_true(api_guard_host_ok(g, "box"));
	assert_true(api_guard_host_ok(g, "BOX:8470"));
	assert_true(api_guard_host_ok(g, "admin.example.net:8470"));
	assert_true(api_guard_host_ok(g, "192.0.2.7:8470"));
	assert_true(api_guard_host_ok(g, "[2001:db8::1]:8470"));
	assert_false(api_guard_host_ok(g, "boxx"));
	assert_false(api_guard_host_ok(g, "box.evil.example"));
	assert_false(api_guard_host_ok(g, ""));
	assert_false(api_guard_host_ok(g, ":8470"));
	assert_false(api_guard_host_ok(g, "box:8470:1"));
	assert_false(api_guard_host_ok(g, "[box]:1"));
	assert_false(api_guard_host_ok(g, "[::1]x"));
	g->loopback = true;
	assert_false(api_guard_host_ok(g, "box"));
	assert_false(api_guard_host_ok(g, "admin.example.net"));
	assert_true(api_guard_host_ok(g, "localhost"));
	free(g);
}

static void test_token_compare(void **state)
{
	(void)state;
	struct api_guard *g = calloc(1, sizeof *g);
	assert_false(api_guard_token_ok(g, "")); /* no token: nothing matches */
	api_guard_set_token(g, TOKEN);
	assert_true(g->has_token);
	/* only the digest is kept */
	assert_null(memmem(g, sizeof *g, TOKEN, strlen(TOKEN)));
	assert_true(api_guard_token_ok(g, TOKEN));
	assert_false(api_guard_token_ok(g, "s3cret-token-4f1"));
	assert_false(api_guard_token_ok(g, TOKEN "\n"));
	assert_false(api_guard_token_ok(g, ""));
	assert_false(api_guard_token_ok(g, NULL));
	api_guard_set_token(g, NULL);
	assert_false(g->has_token);
	assert_false(api_guard_token_ok(g, TOKEN));

	size_t n = 0;
	const char *t = api_bearer("Bearer  abc def ", &n);
	assert_non_null(t);
	assert_int_equal(n, 7);
	assert_memory_equal(t, "abc def", 7);
	assert_null(api_bearer("Bearerabc", &n));
	assert_null(api_bearer("Bearer   ", &n));
	assert_null(api_bearer("Token abc", &n));
	assert_null(api_bearer(NULL, &n));
	free(g);
}

static void test_slowdown_table(void **state)
{
	(void)state;
	struct api_guard *g = calloc(1, sizeof *g);
	const char *a = "192.0.2.1";
	int64_t t = 1000000;
	for (int i = 1; i < API_FAIL_FREE; i++)
		assert_int_equal(api_guard_failed(g, a, t), 0);
	assert_int_equal(api_guard_wait_ms(g, a, t), 0);
	/* the fifth failure locks 5 s, each further one doubles it up to the cap */
	assert_int_equal(api_guard_failed(g, a, t), 5000);
	assert_int_equal(api_guard_wait_ms(g, a, t + 1), 4999);
	assert_int_equal(api_guard_wait_ms(g, "192.0.2.2", t + 1), 0);
	assert_int_equal(api_guard_wait_ms(g, a, t + 5000), 0);
	assert_int_equal(api_guard_failed(g, a, t + 5000), 10000);
	assert_int_equal(api_guard_failed(g, a, t + 5000), 20000);
	int64_t lock = 0;
	for (int i = 0; i < 10; i++)
		lock = api_guard_failed(g, a, t + 2000);
	assert_int_equal(lock, API_FAIL_LOCK_MAX * 1000);
	/* a good token forgets the address */
	api_guard_succeeded(g, a);
	assert_int_equal(api_guard_wait_ms(g, a, t + 2001), 0);
	assert_int_equal(api_guard_failed(g, a, t + 3000), 0);
	/* an address idle past API_FAIL_FORGET starts again */
	for (int i = 0; i < API_FAIL_FREE; i++)
		api_guard_failed(g, a, t + 4000);
	assert_int_equal(api_guard_failed(g, a, t + 4000 + API_FAIL_FORGET * 1000 + 1), 0);

	/* bounded: many addresses never grow the table; the one idle longest goes first */
	char addr[64];
	int64_t t2 = t + 10000000;
	for (int i = 0; i < API_FAIL_FREE; i++)
		api_guard_failed(g, "198.51.100.1", t2);
	for (int i = 0; i < 3 * API_FAIL_SLOTS; i++) {
		snprintf(addr, sizeof addr, "203.0.%d.%d", i / 250, i % 250);
		api_guard_failed(g, addr, t2 + 1 + i);
		/* the locked address keeps failing, so it keeps its slot */
		if (i % 100 == 0)
			api_guard_failed(g, "198.51.100.1", t2 + 1 + i);
	}
	assert_true(api_guard_wait_ms(g, "198.51.100.1", t2 + 3 * API_FAIL_SLOTS) > 0);
	size_t used = 0;
	for (size_t i = 0; i < API_FAIL_SLOTS; i++)
		used += g->fails[i].addr[0] != '\0';
	assert_int_equal(used, API_FAIL_SLOTS);

	/* IPv6 peers count per /64 */
	char k1[64], k2[64], k3[64];
	api_guard_addr_key("2001:db8::1", k1, sizeof k1);
	api_guard_addr_key("2001:db8::ffff:2", k2, sizeof k2);
	api_guard_addr_key("2001:db8:0:1::1", k3, sizeof k3);
	assert_string_equal(k1, "2001:db8::/64");
	assert_string_equal(k1, k2);
	assert_string_not_equal(k1, k3);
	api_guard_addr_key("127.0.0.1", k1, sizeof k1);
	assert_string_equal(k1, "127.0.0.1");
	/* IPv4 clients of a dual-stack listener stay apart */
	api_guard_addr_key("::ffff:192.0.2.9", k1, sizeof k1);
	api_guard_addr_key("::ffff:192.0.2.10", k2, sizeof k2);
	assert_string_equal(k1, "192.0.2.9");
	assert_string_equal(k2, "192.0.2.10");
	free(g);
}

/* Bad tokens over HTTP: five answered 401, then 429 with Retry-After, even for the right
 * token, until the lock-out passes. */
static void test_admin_slowdown(void **state)
{
	struct fx *fx = *state;
	const char *path = "/v1/jobs/alpha/run";
	for (int i = 0; i < API_FAIL_FREE; i++)
		expect_h(fx, "POST", path, AUTH("Bearer guess"), 401, "unauthorized");
	assert_non_null(strstr(fx->stub.last_log, "repeated bad tokens from 127.0.0.1"));
	struct client *c = request_h(fx, "POST", path, AUTH("Bearer guess"), NULL);
	assert_error(c, 429, "too_many_attempts", "retry in");
	assert_true(has_header(c, "Retry-After: 5") || has_header(c, "Retry-After: 4"));
	client_free(c);
	expect_h(fx, "POST", path, AUTH("Bearer " TOKEN), 429, "too_many_attempts");
	/* reads are never slowed */
	expect_h(fx, "GET", "/v1/status", NULL, 200, NULL);
	assert_string_equal(fx->stub.run_name, "");
	/* after the lock-out (its end moved to now) the right token works and clears the
	 * record */
	for (size_t i = 0; i < API_FAIL_SLOTS; i++)
		if (!strcmp(fx->stub.api->guard->fails[i].addr, "127.0.0.1"))
			fx->stub.api->guard->fails[i].locked_ms -= API_FAIL_LOCK_BASE * 1000;
	expect_h(fx, "POST", path, AUTH("Bearer " TOKEN), 202, NULL);
	expect_h(fx, "POST", path, AUTH("Bearer guess"), 401, "unauthorized");
}

static void test_admin_listen_errors(void **state)
{
	(void)state;
	struct event_base *base = event_base_new();
	char err[256] = "";
	assert_null(api_listen_tcp(base, "127.0.0.1", NULL, &stub_ops, NULL, err, sizeof err));
	assert_non_null(strstr(err, "HOST:PORT"));
	assert_null(
	    api_listen_tcp(base, "127.0.0.1:99999", NULL, &stub_ops, NULL, err, sizeof err));
	assert_null(api_listen_tcp(base, "192.0.2.1:1", NULL, &stub_ops, NULL, err, sizeof err));
	assert_non_null(strstr(err, "cannot bind"));
	/* [::1] binds a loopback listener with no token */
	struct api *a = api_listen_tcp(base, "[::1]:0", NULL, &stub_ops, NULL, err, sizeof err);
	if (a) { /* hosts without IPv6 skip this part */
		assert_true(a->guard->loopback);
		assert_false(a->guard->has_token);
		api_free(a);
	}
	event_base_free(base);
}

static void test_metrics_text(void **state)
{
	(void)state;
	metrics_free();
	metrics_run_ended("alpha", RUN_OK, 0.3, 0.002);
	metrics_run_ended("alpha", RUN_FAILED, 12, -1);
	metrics_run_ended("alpha", RUN_SKIPPED, 0, -1);
	metrics_run_ended("we\"ird\\job\n", RUN_TIMEOUT, 4000, 2);
	metrics_missed("alpha", 2);
	metrics_reload(true);
	metrics_reload(false);
	assert_true(metrics_need_seed("alpha"));
	metrics_seed("alpha", 1000, 500); /* older than what was seen: kept */
	assert_false(metrics_need_seed("alpha"));
	metrics_seed("idle", 1700000000123, 1600000000000);
	struct metrics_job jobs[] = {
	    {"alpha", 1800000000, true}, {"we\"ird\\job\n", 0, false}, {"idle", 0, false}};
	struct strbuf sb = STRBUF_INIT;
	metrics_render(&sb, jobs, 3);
	const char *t = strbuf_str(&sb);
	static const char *const want[] = {
	    "# TYPE chored_job_runs_total counter\n",
	    "chored_job_runs_total{job=\"alpha\",status=\"ok\"} 1\n",
	    "chored_job_runs_total{job=\"alpha\",status=\"failed\"} 1\n",
	    "chored_job_runs_total{job=\"alpha\",status=\"skipped\"} 1\n",
	    "chored_job_runs_total{job=\"we\\\"ird\\\\job\\n\",status=\"timeout\"} 1\n",
	    "chored_job_runs_total{job=\"idle\",status=\"ok\"} 0\n",
	    "chored_job_last_success_timestamp_seconds{job=\"idle\"} 1600000000.000\n",
	    "chored_job_last_run_timestamp_seconds{job=\"idle\"} 1700000000.123\n",
	    "chored_job_next_run_timestamp_seconds{job=\"alpha\"} 1800000000\n",
	    "chored_job_running{job=\"alpha\"} 1\n",
	    "chored_job_running{job=\"idle\"} 0\n",
	    "# TYPE chored_job_duration_seconds histogram\n",
	    "chored_job_duration_seconds_bucket{job=\"alpha\",le=\"0.5\"} 1\n",
	    "chored_job_duration_seconds_bucket{job=\"alpha\",le=\"15\"} 2\n",
	    "chored_job_duration_seconds_bucket{job=\"alpha\",le=\"+Inf\"} 2\n",
	    "chored_job_duration_seconds_sum{job=\"alpha\"} 12.3\n",
	    "chored_job_duration_seconds_count{job=\"alpha\"} 2\n",
	    "chored_firing_lag_seconds_bucket{le=\"0.001\"} 0\n",
	    "chored_firing_lag_seconds_bucket{le=\"0.005\"} 1\n",
	    "chored_firing_lag_seconds_bucket{le=\"+Inf\"} 2\n",
	    "chored_firing_lag_seconds_count 2\n",
	    "chored_job_missed_total{job=\"alpha\"} 2\n",
	    "chored_job_missed_total{job=\"idle\"} 0\n",
	    "chored_reloads_total{result=\"ok\"} 1\n",
	    "chored_reloads_total{result=\"failed\"} 1\n",
	    "chored_config_last_reload_successful 0\n",
	};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
		if (!strstr(t, want[i]))
			fail_msg("metrics lack %s in:\n%s", want[i], t);
	/* never-run and next-less jobs have no stamp; idle ran nothing since start */
	assert_null(strstr(t, "chored_job_next_run_timestamp_seconds{job=\"idle\"}"));
	assert_null(strstr(t, "chored_job_duration_seconds_count{job=\"idle\"}"));
	assert_null(strstr(t, "status=\"running\""));
	assert_true(sb.len > 0 && t[sb.len - 1] == '\n');
	strbuf_free(&sb);
	metrics_reload(true);
	metrics_render(&sb, NULL, 0);
	assert_non_null(strstr(strbuf_str(&sb), "chored_config_last_reload_successful 1\n"));
	strbuf_free(&sb);
	metrics_free();
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_read_routes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_job_runs_params, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_run_job, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_methods_and_routes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_body_limit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_events_immediate, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_events_long_poll_changed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_events_long_poll_timeout, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_events_client_gone, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reload, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reload_client_gone, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_free_answers_held, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_socket_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_keepalive, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_health_and_metrics, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ops_v1, setup_v1, teardown),
	    cmocka_unit_test_setup_teardown(test_admin_reads_need_no_token, setup_admin, teardown),
	    cmocka_unit_test_setup_teardown(test_admin_token, setup_admin, teardown),
	    cmocka_unit_test_setup_teardown(test_admin_token_changes, setup_admin, teardown),
	    cmocka_unit_test_setup_teardown(test_admin_query_token, setup_admin, teardown),
	    cmocka_unit_test_setup_teardown(test_control_socket_unguarded, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_admin_host, setup_admin, teardown),
	    cmocka_unit_test(test_host_rule),
	    cmocka_unit_test(test_token_compare),
	    cmocka_unit_test(test_slowdown_table),
	    cmocka_unit_test_setup_teardown(test_admin_slowdown, setup_admin, teardown),
	    cmocka_unit_test(test_admin_listen_errors),
	    cmocka_unit_test(test_metrics_text),
	};
	return cmocka_run_group_tests_name("api", tests, NULL, NULL);
}

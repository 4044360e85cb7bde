/* The control socket server: the unix socket, evhttp, JSON replies and the requests held
 * open for a deferred answer (run event long polls, reloads). Routing is in api_routes.c.
 *
 * Held requests: evhttp stops reading a connection while its request is with the user, so
 * it would not notice a client that hangs up during a long poll. We read on (with our own
 * read callback that only bounds what a client may send meanwhile), so libevent sees the
 * EOF, fails the connection and calls our close callback, where the held request is
 * dropped: nothing dangles and nothing is answered twice. */
#include "chored-build.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "api.h"
#include "api_internal.h"
#include "strbuf.h"

static const char *reason_phrase(int code)
{
	switch (code) {
	case 200:
		return "OK";
	case 202:
		return "Accepted";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 409:
		return "Conflict";
	case 413:
		return "Payload Too Large";
	case 421:
		return "Misdirected Request";
	case 422:
		return "Unprocessable Entity";
	case 429:
		return "Too Many Requests";
	case 503:
		return "Service Unavailable";
	default:
		return code >= 500 ? "Internal Server Error" : "Error";
	}
}

void api_send_json(struct evhttp_request *req, int code, struct json_object *body)
{
	struct evbuffer *buf = evbuffer_new();
	if (!buf) {
		evhttp_send_error(req, 500, NULL);
		return;
	}
	evbuffer_add_printf(buf, "%s\n",
	                    json_object_to_json_string_ext(
	                        body, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	evhttp_add_header(h, "Content-Type", "application/json");
	evhttp_add_header(h, "Cache-Control", "no-store");
	evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
	evhttp_send_reply(req, code, reason_phrase(code), buf);
	evbuffer_free(buf);
}

void api_send_error(struct evhttp_request *req, int status, const char *code, const char *fmt, ...)
{
	struct strbuf msg = STRBUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	strbuf_vappendf(&msg, fmt, ap);
	va_end(ap);
	struct json_object *err = json_object_new_object();
	json_object_object_add(err, "code", json_object_new_string(code));
	json_object_object_add(err, "message", json_object_new_string(strbuf_str(&msg)));
	struct json_object *body = json_object_new_object();
	json_object_object_add(body, "error", err);
	api_send_json(req, status, body);
	json_object_put(body);
	strbuf_free(&msg);
}

unsigned api_pending(const struct api *api)
{
	unsigned n = 0;
	for (const struct api_req *r = api->held; r; r = r->next)
		n++;
	return n;
}

/* Takes `r` off the held list and stops watching its connection (it is answered, gone, or
 * detached). Does not free r. */
static void release(struct api_req *r)
{
	if (r->api) {
		if (r->prev)
			r->prev->next = r->next;
		else
			r->api->held = r->next;
		if (r->next)
			r->next->prev = r->prev;
	}
	r->prev = r->next = NULL;
	if (r->conn)
		evhttp_connection_set_closecb(r->conn, NULL, NULL);
	r->conn = NULL;
	if (r->timer) {
		event_free(r->timer);
		r->timer = NULL;
	}
}

/* Takes the request to answer off `r` (NULL when the client is gone). The watch is
 * dropped first, so nothing can free r while the answer is sent. */
static struct evhttp_request *take(struct api_req *r)
{
	struct evhttp_request *http = r->http;
	release(r);
	r->http = NULL;
	return http;
}

static void req_free(struct api_req *r)
{
	release(r);
	free(r);
}

/* The client hung up while its request was held. libevent has detached the request from
 * the dying connection (it frees it itself only while still attached, as in evhttp_free). */
static void held_closed(struct evhttp_connection *conn, void *arg)
{
	struct api_req *r = arg;
	(void)conn;
	if (r->http && !evhttp_request_get_connection(r->http))
		evhttp_request_free(r->http);
	r->http = NULL;
	if (r->kind == API_REQ_RELOAD) {
		/* The reload goes on; api_reload_done frees r when it is over. */
		release(r);
		r->api = NULL;
		return;
	}
	req_free(r);
}

/* Bytes a client sends while its request is held stay buffered for the next request; past
 * the body limit we stop reading (and so stop noticing a hang-up: the reply will fail). */
static void held_read(struct bufferevent *bev, void *arg)
{
	(void)arg;
	if (evbuffer_get_length(bufferevent_get_input(bev)) > API_BODY_MAX)
		bufferevent_disable(bev, EV_READ);
}

static void events_deadline(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	api_events_answer(arg);
}

struct api_req *api_hold(struct api *api, struct evhttp_request *req, enum api_req_kind kind,
                         int64_t run_id, int64_t after, unsigned wait_s)
{
	struct api_req *r = calloc(1, sizeof *r);
	if (!r)
		return NULL;
	r->api = api;
	r->http = req;
	r->conn = evhttp_request_get_connection(req);
	r->kind = kind;
	r->run_id = run_id;
	r->after = after;
	if (kind == API_REQ_EVENTS) {
		r->timer = evtimer_new(api->base, events_deadline, r);
		struct timeval tv = {.tv_sec = wait_s, .tv_usec = 0};
		if (!r->timer || evtimer_add(r->timer, &tv) != 0) {
			if (r->timer)
				event_free(r->timer);
			free(r);
			return NULL;
		}
	}
	r->next = api->held;
	if (api->held)
		api->held->prev = r;
	api->held = r;

	evhttp_connection_set_closecb(r->conn, held_closed, r);
	struct bufferevent *bev = evhttp_connection_get_bufferevent(r->conn);
	bufferevent_data_cb readcb, writecb;
	bufferevent_event_cb eventcb;
	void *cbarg;
	bufferevent_getcb(bev, &readcb, &writecb, &eventcb, &cbarg);
	bufferevent_setcb(bev, held_read, writecb, eventcb, cbarg);
	bufferevent_enable(bev, EV_READ);
	return r;
}

struct json_object *api_events_json(struct api *api, int64_t id, int64_t after, bool *has_news)
{
	bool over = false;
	struct json_object *obj = api->ops->run_events(api->data, id, after, &over);
	if (!obj)
		return NULL;
	struct json_object *events;
	size_t n = 0;
	if (json_object_object_get_ex(obj, "events", &events) &&
	    json_object_is_type(events, json_type_array))
		n = json_object_array_length(events);
	if (over) {
		struct json_object *run = api->ops->run(api->data, id);
		if (run)
			json_object_object_add(obj, "run", run);
	}
	*has_news = over || n > 0;
	return obj;
}

void api_events_answer(struct api_req *r)
{
	bool news;
	struct json_object *obj = api_events_json(r->api, r->run_id, r->after, &news);
	int64_t id = r->run_id;
	struct evhttp_request *http = take(r);
	req_free(r);
	if (obj)
		api_send_json(http, 200, obj);
	else
		api_send_error(http, 404, "not_found", "no run %lld", (long long)id);
	json_object_put(obj);
}

void api_run_changed(struct api *api, int64_t id)
{
	struct api_req *next;
	for (struct api_req *r = api->held; r; r = next) {
		next = r->next;
		if (r->kind != API_REQ_EVENTS || r->run_id != id)
			continue;
		bool news;
		struct json_object *obj = api_events_json(api, id, r->after, &news);
		if (!obj || news) {
			struct evhttp_request *http = take(r);
			req_free(r);
			if (obj)
				api_send_json(http, 200, obj);
			else
				api_send_error(http, 404, "not_found", "no run %lld",
				               (long long)id);
		}
		json_object_put(obj);
	}
}

void api_reload_done(struct api_req *req, bool ok, unsigned generation, struct json_object *errors)
{
	struct evhttp_request *http = take(req);
	req_free(req);
	if (http) {
		struct json_object *body = json_object_new_object();
		if (ok) {
			json_object_object_add(body, "result", json_object_new_string("ok"));
			json_object_object_add(body, "generation",
			                       json_object_new_int64(generation));
			api_send_json(http, 200, body);
		} else {
			size_t n = errors ? json_object_array_length(errors) : 0;
			struct json_object *err = json_object_new_object();
			json_object_object_add(err, "code",
			                       json_object_new_string("config_rejected"));
			struct strbuf msg = STRBUF_INIT;
			strbuf_appendf(&msg,
			               "configuration rejected (%zu error%s); the running "
			               "configuration is kept",
			               n, n == 1 ? "" : "s");
			json_object_object_add(err, "message",
			                       json_object_new_string(strbuf_str(&msg)));
			strbuf_free(&msg);
			json_object_object_add(body, "error", err);
			json_object_object_add(body, "errors",
			                       errors ? json_object_get(errors)
			                              : json_object_new_array());
			api_send_json(http, 422, body);
		}
		json_object_put(body);
	}
}

/* Binds a listening unix socket at path, replacing a stale socket file but never a live
 * one. Returns the fd or -1 with err set. */
static int listen_unix(const char *path, struct stat *st, char *err, size_t errlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	size_t len = strlen(path);
	if (len == 0 || len >= sizeof sa.sun_path) {
		snprintf(err, errlen, "control socket path '%s' is %s (at most %zu bytes)", path,
		         len ? "too long" : "empty", sizeof sa.sun_path - 1);
		return -1;
	}
	memcpy(sa.sun_path, path, len + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		snprintf(err, errlen, "control socket %s: socket: %s", path, strerror(errno));
		return -1;
	}
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
		if (errno != EADDRINUSE) {
			snprintf(err, errlen, "control socket %s: bind: %s", path, strerror(errno));
			goto fail;
		}
		struct stat old;
		if (lstat(path, &old) == 0 && !S_ISSOCK(old.st_mode)) {
			snprintf(err, errlen,
			         "control socket %s: the path exists and is not a "
			         "socket",
			         path);
			goto fail;
		}
		int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (probe < 0) {
			snprintf(err, errlen, "control socket %s: socket: %s", path,
			         strerror(errno));
			goto fail;
		}
		int live = connect(probe, (struct sockaddr *)&sa, sizeof sa) == 0;
		int cerr = errno;
		close(probe);
		if (live || (cerr != ECONNREFUSED && cerr != ENOENT)) {
			if (live)
				snprintf(err, errlen, "another chored is listening on %s", path);
			else
				snprintf(err, errlen, "control socket %s: in use (%s)", path,
				         strerror(cerr));
			goto fail;
		}
		/* Nobody answers: the file is left over from a daemon that died. */
		if (unlink(path) != 0 && errno != ENOENT) {
			snprintf(err, errlen,
			         "control socket %s: cannot remove the stale socket: %s", path,
			         strerror(errno));
			goto fail;
		}
		if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
			snprintf(err, errlen, "control socket %s: bind: %s", path, strerror(errno));
			goto fail;
		}
	}
	/* Before listen(), so nobody connects through wider permissions. */
	if (chmod(path, 0660) != 0 || lstat(path, st) != 0) {
		snprintf(err, errlen, "control socket %s: chmod: %s", path, strerror(errno));
		unlink(path);
		goto fail;
	}
	if (listen(fd, 64) != 0) {
		snprintf(err, errlen, "control socket %s: listen: %s", path, strerror(errno));
		unlink(path);
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return -1;
}

void api_serve(struct api *api)
{
	/* Every method reaches the router, which answers 405 with Allow
	 * (HEAD is left to libevent, which would send a body with it.) */
	evhttp_set_allowed_methods(api->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
	                                          EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS |
	                                          EVHTTP_REQ_PATCH);
	/* The router answers 413 in JSON up to the hard cap; libevent refuses beyond it. */
	evhttp_set_max_body_size(api->http, API_HARD_BODY_MAX);
	evhttp_set_max_headers_size(api->http, 16 * 1024);
	/* Longer than the longest long poll. */
	evhttp_set_timeout(api->http, 2 * API_WAIT_MAX);
	evhttp_set_gencb(api->http, api_route, api);
}

struct api *api_listen_unix(struct event_base *base, const char *path, const struct api_ops *ops,
                            void *data, char *err, size_t errlen)
{
	struct api *api = calloc(1, sizeof *api);
	if (!api || !(api->path = strdup(path))) {
		free(api);
		snprintf(err, errlen, "control socket %s: out of memory", path);
		return NULL;
	}
	api->base = base;
	api->ops = ops;
	api->data = data;
	struct stat st;
	int fd = listen_unix(path, &st, err, errlen);
	if (fd < 0) {
		free(api->path);
		free(api);
		return NULL;
	}
	api->sock_dev = st.st_dev;
	api->sock_ino = st.st_ino;
	api->http = evhttp_new(base);
	if (!api->http || !evhttp_accept_socket_with_handle(api->http, fd)) {
		snprintf(err, errlen, "control socket %s: cannot serve HTTP on it", path);
		if (api->http)
			evhttp_free(api->http);
		close(fd);
		unlink(path);
		free(api->path);
		free(api);
		return NULL;
	}
	api_serve(api);
	return api;
}

/* Writes what evhttp queued for conn now: the loop will not run again for it. */
static void flush_now(struct evhttp_connection *conn)
{
	struct bufferevent *bev = evhttp_connection_get_bufferevent(conn);
	struct evbuffer *out = bufferevent_get_output(bev);
	evutil_socket_t fd = bufferevent_getfd(bev);
	while (fd >= 0 && evbuffer_get_length(out) > 0)
		if (evbuffer_write(out, fd) <= 0)
			break;
}

void api_free(struct api *api)
{
	if (!api)
		return;
	while (api->held) {
		struct api_req *r = api->held;
		struct evhttp_connection *conn = r->conn;
		struct evhttp_request *http = take(r);
		/* A reload goes on: api_reload_done frees r (evhttp_free frees the request). */
		if (r->kind == API_REQ_RELOAD)
			r->api = NULL;
		else
			req_free(r);
		api_send_error(http, 503, "shutting_down", "chored is shutting down");
		flush_now(conn);
	}
	evhttp_free(api->http);
	struct stat st;
	if (api->path && lstat(api->path, &st) == 0 && st.st_dev == api->sock_dev &&
	    st.st_ino == api->sock_ino)
		unlink(api->path);
	free(api->path);
	if (api->guard)
		explicit_bzero(api->guard->token_sha256, sizeof api->guard->token_sha256);
	free(api->guard);
	free(api);
}

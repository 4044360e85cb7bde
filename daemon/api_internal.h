/* Private to api.c and api_routes.c: the server, held requests and the reply helpers. */
#ifndef CHORED_API_INTERNAL_H
#define CHORED_API_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "api.h"

struct evhttp;
struct evhttp_request;
struct evhttp_connection;
struct event;

/* Request bodies above this get 413 (libevent itself cuts off at API_HARD_BODY_MAX). */
#define API_BODY_MAX      (64 * 1024)
#define API_HARD_BODY_MAX (1024 * 1024)
/* Longest long poll a client may ask for, in seconds. */
#define API_WAIT_MAX 60

enum api_req_kind { API_REQ_EVENTS, API_REQ_RELOAD };

/* A request held open for a deferred answer. `http` is NULL once the client went away or
 * the server was freed; a detached reload request lives until api_reload_done frees it. */
struct api_req {
	struct api *api; /* NULL once detached by api_free */
	struct evhttp_request *http;
	struct evhttp_connection *conn;
	enum api_req_kind kind;
	int64_t run_id;              /* API_REQ_EVENTS */
	int64_t after;               /* API_REQ_EVENTS */
	struct event *timer;         /* API_REQ_EVENTS: the wait deadline */
	struct api_req *prev, *next; /* in api->held */
};

struct api {
	struct event_base *base;
	struct evhttp *http;
	const struct api_ops *ops;
	void *data;
	char *path;           /* socket file, owned */
	dev_t sock_dev;       /* identity of the file we bound, so api_free never unlinks */
	ino_t sock_ino;       /* a socket another daemon put there since */
	struct api_req *held; /* every held request, answered or freed exactly once */
};

/* Number of requests held open (long polls and reloads). For tests and status. */
unsigned api_pending(const struct api *api);

/* Entry point for every request (api_routes.c). */
void api_route(struct evhttp_request *req, void *arg);

/* Replies: `body` is borrowed; the text sent is the compact JSON plus "\n". */
void api_send_json(struct evhttp_request *req, int code, struct json_object *body);
/* {"error":{"code":CODE,"message":…}} with status `code`. */
void api_send_error(struct evhttp_request *req, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Holds `req` open: returns a new api_req in api->held, watched for the client going away.
 * For API_REQ_EVENTS, `wait_s` arms the deadline. NULL on allocation failure. */
struct api_req *api_hold(struct api *api, struct evhttp_request *req, enum api_req_kind kind,
                         int64_t run_id, int64_t after, unsigned wait_s);
/* Answers the run events long poll `r` now (current events; "run" when over) and frees it. */
void api_events_answer(struct api_req *r);
/* Builds the events answer for run `id` after `after`: NULL = unknown run. */
struct json_object *api_events_json(struct api *api, int64_t id, int64_t after, bool *has_news);

#endif

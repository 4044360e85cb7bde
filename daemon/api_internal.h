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

/* The admin listener's request guard (api_auth.c): token digest, Host rule and the
 * per-address table of bad tokens. */
#define API_FAIL_FREE      5    /* bad tokens an address may send before it is slowed down */
#define API_FAIL_LOCK_BASE 5    /* first lock-out, seconds; doubles with each further failure */
#define API_FAIL_LOCK_MAX  60   /* longest lock-out, seconds */
#define API_FAIL_FORGET    600  /* an address is forgotten this long after its last bad token */
#define API_FAIL_SLOTS     1024 /* addresses remembered at most (oldest evicted) */

struct api_fail {
	char addr[48]; /* peer IPv4 address, or the /64 prefix of an IPv6 one; "" = free slot */
	unsigned failures;
	int64_t last_ms;   /* CLOCK_MONOTONIC ms of the last bad token */
	int64_t locked_ms; /* answers 429 until then */
};

struct api_guard {
	bool has_token;
	unsigned char token_sha256[32]; /* the token itself is not kept */
	bool loopback;                  /* the listener is bound to a loopback address */
	char hostname[256];             /* gethostname(), accepted as Host when !loopback */
	char listen_name[256];          /* the name in `listen` when it is not a literal */
	struct api_fail fails[API_FAIL_SLOTS];
};

struct api {
	struct event_base *base;
	struct evhttp *http;
	const struct api_ops *ops;
	void *data;
	char *path;              /* socket file, owned */
	dev_t sock_dev;          /* identity of the file we bound, so api_free never unlinks */
	ino_t sock_ino;          /* a socket another daemon put there since */
	struct api_req *held;    /* every held request, answered or freed exactly once */
	struct api_guard *guard; /* admin listener only (owned); NULL on the control socket */
	int tcp_fd;              /* admin listener's socket (evhttp owns it) */
};

/* Applies the evhttp limits every API server shares and routes its requests. */
void api_serve(struct api *api);
/* The port a TCP server listens on (tests bind port 0), or 0. */
unsigned api_tcp_port(const struct api *api);

/* ---- the admin guard (api_auth.c) ---- */
/* Sets (NULL or "" = clears) the token: only its SHA-256 is kept. */
void api_guard_set_token(struct api_guard *g, const char *token);
/* True when `presented` is the token: SHA-256 of both compared with CRYPTO_memcmp, so the
 * time taken tells nothing of the contents or the length. False without a token. */
bool api_guard_token_ok(const struct api_guard *g, const char *presented);
/* The Host rule: absent, an IP literal (v6 in brackets), "localhost", or when the listener
 * is not loopback this host's name or the name in `listen`; any port. */
bool api_guard_host_ok(const struct api_guard *g, const char *host);
/* True when a query string key names a credential (token, access_token, …) or a value is
 * the token itself. `query` is the raw query (may be NULL). */
bool api_guard_query_has_token(const struct api_guard *g, const char *query);
/* The Bearer credential of an Authorization header value: a pointer into `value` and its
 * length, or NULL when the header is not "Bearer <token68>". */
const char *api_bearer(const char *value, size_t *len);
/* Milliseconds `addr` must still wait before its next token is looked at (0 = none). */
int64_t api_guard_wait_ms(const struct api_guard *g, const char *addr, int64_t now_ms);
/* Records a bad token from `addr`; returns the lock-out it now serves (ms, 0 = none). */
int64_t api_guard_failed(struct api_guard *g, const char *addr, int64_t now_ms);
/* A good token from `addr`: forgets its failures. */
void api_guard_succeeded(struct api_guard *g, const char *addr);
/* The key of a peer address in the table: IPv4 as is (IPv4-mapped IPv6 too), IPv6 cut to
 * its /64 (one host usually holds a whole /64). */
void api_guard_addr_key(const char *peer, char *out, size_t outlen);
/* Checks a request on the admin listener; answers it (and returns false) when refused. */
bool api_admit(struct api *api, struct evhttp_request *req);

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

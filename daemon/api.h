/* The HTTP/1.1 + JSON interface (design §10), served by evhttp on the event loop: on the
 * control socket (unix, mode 0660, no token) and on the admin `listen` address (TCP, token
 * for mutations, Host check: see below).
 * This module owns routing, request parsing, status codes and error bodies; the daemon
 * answers through `struct api_ops`, so the API can be tested against a stub.
 *
 * Routes (all JSON but /metrics; errors are {"error":{"code":"not_found","message":"…"}}):
 *   GET  /healthz                    {"status":"ok",…ops->health}; 503 {"status":"stopping",…}
 *                                    while the daemon stops
 *   GET  /metrics                    ops->metrics as text/plain; version=0.0.4 (Prometheus)
 *   GET  /v1/status                  ops->status
 *   GET  /v1/jobs                    {"jobs":[ops->job…]}
 *   GET  /v1/jobs/NAME               ops->job                          404 unknown job
 *   GET  /v1/jobs/NAME/runs?limit=N&before=ID   {"runs":[…]}          404 unknown job
 *   POST /v1/jobs/NAME/run           body {"dry_run":bool,"at":"ISO 8601"} (both optional)
 *                                    → 202 {"run_id":N}; 404 unknown job; 409 job
 *                                    disabled/not runnable; 400 bad body
 *   GET  /v1/runs/ID                 ops->run (with "log")             404 unknown run
 *   POST /v1/runs/ID/cancel          ends a live run as cancelled (SIGTERM to its process
 *                                    group, SIGKILL after the grace period)
 *                                    → 202 {"run_id":N,"status":"cancelling"}; 404 unknown
 *                                    run; 409 already finished; 501 without ops->cancel_run
 *   GET  /v1/runs/ID/events?after=SEQ&wait=S
 *                                    long poll for `chorectl run --wait`: answers at once
 *                                    when the run has events with seq > SEQ or is over,
 *                                    else when one arrives (api_run_changed) or after S
 *                                    seconds (max 60): {"events":[…],"last_seq":N,
 *                                    "status":"running"|final,"run":{…} when final}
 *   POST /v1/reload                  waits for the reload: 200 {"result":"ok","generation":N}
 *                                    or 422 {"error":{"code":"config_rejected",…},
 *                                    "errors":["FILE:LINE: …",…]}
 *   GET  /v1/plugins                 {"plugins":[plugin_json…]}
 *   GET  /v1/plugins/NAME            plugin_json                        404
 * Unknown route 404, wrong method 405 (with Allow), body over 64 KiB 413.
 *
 * The admin listener (api_listen_tcp) checks every request first, in this order:
 *   Host header not an IP literal, localhost or (non-loopback listen) this host's name
 *                                    → 421 bad_host (DNS rebinding guard; no Host is fine)
 *   a token in the query string      → 400 token_in_query (use the Authorization header)
 *   any method but GET/HEAD:
 *     no admin_token configured      → 403 no_admin_token
 *     too many bad tokens lately     → 429 too_many_attempts with Retry-After
 *     no or wrong Bearer token       → 401 unauthorized with WWW-Authenticate: Bearer
 * The control socket checks none of these: its file mode guards it. */
#ifndef CHORED_API_H
#define CHORED_API_H

#include <stdbool.h>
#include <stdint.h>

struct event_base;
struct json_object;
struct api;     /* the server */
struct api_req; /* a request held open for a deferred answer */

/* Implemented by the daemon. Every returned json_object is a new reference the API puts
 * (and releases). */
struct api_ops {
	struct json_object *(*status)(void *data);
	struct json_object *(*jobs)(void *data);                  /* array of job objects */
	struct json_object *(*job)(void *data, const char *name); /* NULL = unknown */
	/* NULL = unknown job; else an array, newest first. */
	struct json_object *(*job_runs)(void *data, const char *name, unsigned limit,
	                                int64_t before_id);
	struct json_object *(*run)(void *data, int64_t id); /* NULL = unknown; includes "log" */
	/* Events of a run after `after_seq` as {"events":[{"seq":N,"t":"log"|"out"|"progress"
	 * |…,…}], "last_seq":N, "status":"…"}; *over = run finished. NULL = unknown run. */
	struct json_object *(*run_events)(void *data, int64_t id, int64_t after_seq, bool *over);
	/* Starts a manual run. Returns 0 with *run_id, 404 (unknown job), 409 (cannot run now:
	 * message in err), or 500. */
	int (*run_job)(void *data, const char *name, bool dry_run, bool has_at, int64_t at,
	               int64_t *run_id, char *err, size_t errlen);
	/* Starts (or joins: coalesced) a reload; calls api_reload_done(req, …) when it is over,
	 * possibly before returning. */
	void (*reload)(void *data, struct api_req *req);
	struct json_object *(*plugins)(void *data);                  /* array */
	struct json_object *(*plugin)(void *data, const char *name); /* NULL = unknown */
	/* Asks live run `id` to stop. Returns 202 (asked; it ends as cancelled unless its
	 * result arrives first), 404 (unknown run) or 409 (not running: message in err).
	 * Optional (NULL → 501): added after the first version of this table. */
	int (*cancel_run)(void *data, int64_t id, char *err, size_t errlen);
	/* Optional, added with the admin listener. GET /healthz: a new object of facts added
	 * to {"status":…}; *stopping = the daemon is shutting down (503). NULL → {"status":
	 * "ok"} only. */
	struct json_object *(*health)(void *data, bool *stopping);
	/* GET /metrics: the Prometheus text exposition as a new malloc'd string the API frees;
	 * NULL = cannot render (500). A NULL op → 404. */
	char *(*metrics)(void *data);
	/* A line for the daemon's log (syslog level: 4 warning, 5 notice); never holds a
	 * secret. NULL = not logged. */
	void (*log)(void *data, int level, const char *msg);
};

/* Serves on a unix socket at `path` (replacing a stale socket file; mode 0660). Returns a
 * new server or NULL with the reason in err. */
struct api *api_listen_unix(struct event_base *base, const char *path, const struct api_ops *ops,
                            void *data, char *err, size_t errlen);
/* Serves the admin HTTP API on `addr` ("HOST:PORT" or "[V6]:PORT", from [daemon] listen) with
 * the same routes plus the dashboard. `token` (copied; NULL = none) guards the mutating
 * routes: Authorization: Bearer, compared in constant time. Returns a new server or NULL with
 * the reason in err. */
struct api *api_listen_tcp(struct event_base *base, const char *addr, const char *token,
                           const struct api_ops *ops, void *data, char *err, size_t errlen);
/* Replaces the admin token of a server from api_listen_tcp (reload); NULL = none. */
void api_set_token(struct api *api, const char *token);
/* Stops serving, answers held requests with 503, removes the socket file. */
void api_free(struct api *api);

/* Tells long polls waiting on run `id` that it has new events or is over. */
void api_run_changed(struct api *api, int64_t id);
/* Answers a deferred reload request: ok, the new generation, or the error lines. `errors`
 * is borrowed (array of strings, may be NULL). */
void api_reload_done(struct api_req *req, bool ok, unsigned generation, struct json_object *errors);

#endif

/* chorectl's client for the control socket: HTTP/1.1 over the daemon's unix socket with
 * libcurl (one connection kept alive across calls), answers parsed as JSON. */
#ifndef CHORED_CTL_CLIENT_H
#define CHORED_CTL_CLIENT_H

#include <stddef.h>

struct json_object;
struct ctl;

/* The socket to talk to: $CHORED_SOCKET, else `[daemon] socket` of the configuration
 * (`config` NULL = the default file), else RUNSTATEDIR/chored/chored.sock when the
 * configuration cannot be read (a warning names it when `config` was given).
 * Returns a malloc'd path. */
char *ctl_socket_path(const char *config);

/* A client for `socket_path` (copied). NULL only when out of memory. */
struct ctl *ctl_new(const char *socket_path);
void ctl_free(struct ctl *c);
const char *ctl_socket(const struct ctl *c);

enum ctl_result {
	CTL_OK = 0,           /* an HTTP answer with a JSON body */
	CTL_UNREACHABLE = -1, /* no connection, or no answer in time */
	CTL_BAD_ANSWER = -2,  /* an answer that is not JSON */
};

/* `method` `path` (already escaped) with an optional JSON `body`; waits at most
 * `timeout_s` seconds. On CTL_OK: *status is the HTTP status and *json the parsed body (new
 * reference, the caller puts it). Otherwise err holds a message without a "chorectl:" prefix,
 * e.g. "cannot reach chored at PATH: No such file or directory". */
enum ctl_result ctl_call(struct ctl *c, const char *method, const char *path, const char *body,
                         long timeout_s, long *status, struct json_object **json, char *err,
                         size_t errlen);
/* The raw body of the last answer (what --json prints), "" when none. */
const char *ctl_body(const struct ctl *c);

/* `s` escaped for one URL path segment: a malloc'd string, NULL when out of memory. */
char *ctl_escape(struct ctl *c, const char *s);

#endif

/* chored-run: the "limits" member of the input document (daemon/runproto.h), applied to
 * the runner process before the plugin is loaded. */
#ifndef CHORED_RUN_LIMITS_H
#define CHORED_RUN_LIMITS_H

#include <stddef.h>

struct json_object;

/* Applies {"memory": BYTES, "cpu": SECONDS, "user": "name"} (each optional; `limits` may
 * be NULL): RLIMIT_AS, RLIMIT_CPU, then initgroups+setgid+setuid. A user other than the
 * current one needs root. Returns 0, or -1 with the reason in err. */
int run_limits_apply(struct json_object *limits, char *err, size_t errlen);

#endif

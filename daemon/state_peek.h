/* Read-only access to one job's persisted key/value state, for processes other than the
 * daemon (chorectl's plugin subcommands). Never writes, never creates the store, never
 * marks runs interrupted as state_open does. */
#ifndef CHORED_STATE_PEEK_H
#define CHORED_STATE_PEEK_H

#include <stddef.h>

struct json_object;

/* Sets *out to {"key":"value",…} of `job` in the store at `url` (sqlite:///path or a plain
 * absolute path): an empty object when the store does not exist yet. Returns 0, or -1 with
 * the path and the cause in err (unreadable file, not a chored store, PostgreSQL URL). */
int state_peek_kv(const char *url, const char *job, struct json_object **out, char *err,
                  size_t errlen);

#endif

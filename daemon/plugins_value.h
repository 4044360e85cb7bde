/* Helpers shared by the plugin registry's files (daemon/plugins_*.c); not used elsewhere. */
#ifndef CHORED_PLUGINS_VALUE_H
#define CHORED_PLUGINS_VALUE_H

#include <stdbool.h>
#include <stddef.h>

#include "chored/plugin.h"

/* True when `t` is one of the CHORED_OPT_* types this chored knows. */
bool plugin_type_known(enum chored_opt_type t);

/* True when `value` is valid for type `t`; otherwise false, and *expected is a static
 * phrase for the message: "an integer", "an absolute path", … */
bool plugin_value_valid(enum chored_opt_type t, const char *value, const char **expected);

/* The schema entry for `key`, or NULL. `options` may be NULL (no options). */
const struct chored_option *plugin_option(const struct chored_plugin *desc, const char *key);

/* Daemon keys a plugin may also declare (http's timeout and retries, archive's timezone): the job's
 * value, when set, is given to the plugin as well. Fills out[] (at most PLUGIN_FORWARD_MAX) with
 * the keys `desc` declares and returns how many. Values are formatted as written in a config. */
struct cfg_job;
#define PLUGIN_FORWARD_MAX 3
struct plugin_forward {
	const char *key;
	char value[64]; /* an IANA zone name is at most 40 bytes or so */
};
size_t plugin_forwarded(const struct cfg_job *job, const struct chored_plugin *desc,
                        struct plugin_forward out[PLUGIN_FORWARD_MAX]);

#endif

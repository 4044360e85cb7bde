/* Helpers shared by the plugin registry's files (daemon/plugins_*.c); not used elsewhere. */
#ifndef CHORED_PLUGINS_VALUE_H
#define CHORED_PLUGINS_VALUE_H

#include <stdbool.h>

#include "chored/plugin.h"

/* True when `t` is one of the CHORED_OPT_* types this chored knows. */
bool plugin_type_known(enum chored_opt_type t);

/* True when `value` is valid for type `t`; otherwise false, and *expected is a static
 * phrase for the message: "an integer", "an absolute path", … */
bool plugin_value_valid(enum chored_opt_type t, const char *value, const char **expected);

/* The schema entry for `key`, or NULL. `options` may be NULL (no options). */
const struct chored_option *plugin_option(const struct chored_plugin *desc, const char *key);

#endif

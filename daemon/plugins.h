/* The plugin registry (design §7): scans plugin_dir, dlopens each NAME.so, checks its ABI
 * fields and validates job options against its schema. Used by chored (load, reload: a
 * new registry per generation) and chorectl (plugins, plugin info, PLUGIN SUBCOMMAND).
 * Runs never execute here: chored-run loads the plugin again in its own process. */
#ifndef CHORED_PLUGINS_H
#define CHORED_PLUGINS_H

#include <stdbool.h>
#include <stddef.h>

#include "chored/plugin.h"

struct cfg;
struct cfg_job;
struct cfg_diag;
struct json_object;

/* One file of the plugin directory: loaded, or refused with the reason. */
struct plugin {
	char *name;                       /* file basename without ".so" */
	char *path;                       /* absolute path, as given to dlopen and to chored-run */
	void *dl;                         /* dlopen handle, NULL when refused */
	const struct chored_plugin *desc; /* NULL when refused */
	char *error; /* why it was refused, NULL when loaded: "PATH: abi_major is 2, this
	              * chored supports 1" / "PATH: group- or world-writable (mode 0666)" / … */
};

struct plugin_set {
	char *dir;
	struct plugin *plugins; /* sorted by name; loaded and refused alike */
	size_t n;
};

/* Scans `dir` for *.so, skipping names that start with "." (regular files only; symlinks
 * are followed only to regular files; owned by root or the daemon's user; not group- or
 * world-writable; the name a plugin name of a-z 0-9 _ -), dlopens each with
 * RTLD_NOW|RTLD_LOCAL, and checks in order: the symbol chored_plugin_v1 exists, abi_major
 * equals CHORED_ABI_MAJOR, abi_minor <= CHORED_ABI_MINOR, size >= the v1.0 size, name equals
 * the basename, run is set, the option schema is well formed. A refused file is kept with
 * its error (and dlclosed); it never stops the others from loading.
 * dlopen shares an object already loaded under the same path: a file replaced in place is
 * seen anew only once every set holding the old one is freed (new names load at once).
 * Returns 0 and a new set, or -1 when `dir` itself cannot be read (message in err). */
int plugin_set_load(const char *dir, struct plugin_set **out, char *err, size_t errlen);
void plugin_set_free(struct plugin_set *set);

/* The loaded plugin `name`, or NULL (not found or refused). */
const struct plugin *plugin_find(const struct plugin_set *set, const char *name);
/* The entry for `name`, loaded or refused, or NULL when no such file. */
const struct plugin *plugin_lookup(const struct plugin_set *set, const char *name);

/* Validates every enabled job of `cfg` against its plugin: the plugin exists and loaded,
 * each option key is in the schema, each value has the schema type, each required key is
 * set, a SECRET key takes only a reference (${secret:}, ${file:}, ${credential:}); then the
 * plugin's own check(). Appends every error to diag->errors in the config format
 * "FILE:LINE: [job NAME] KEY: message" (the job's [job NAME] line for job-level errors).
 * A plugin may declare `timeout` or `retries`, which are also chored's own job keys: the
 * job's value (when set, i.e. not 0) is then given to the plugin too, in check() and in
 * plugin_job_input's options.
 * Returns the number of errors added (0 = valid). */
size_t plugin_validate_config(const struct plugin_set *set, const struct cfg *cfg,
                              struct cfg_diag *diag);

/* The plugin check of `chored -t` and `chorectl check`, after a successful cfg_load: loads
 * cfg's plugin_dir and runs plugin_validate_config into diag. When plugin_dir does not
 * exist at all, checks nothing and prints "plugins not checked: DIR does not exist" on
 * stderr (unless quiet); a directory that cannot be read is an error in diag.
 * Returns the number of errors added. */
size_t plugin_check_config(const struct cfg *cfg, struct cfg_diag *diag, bool quiet);

/* The input document of one run for chored-run (daemon/runproto.h) minus the per-run
 * fields: {"plugin": PATH, "job": NAME, "options": {…resolved values, defaults applied…},
 * "redact": [every secret value of this job]}. The caller adds run_id, nominal, dry_run,
 * at and state. New reference, or NULL when the job's plugin is not loaded. */
struct json_object *plugin_job_input(const struct plugin_set *set, const struct cfg_job *job);

/* `chorectl plugins` / `GET`-style descriptions: {"name","version","summary","path",
 * "abi":"1.0","error"?, "options":[{"key","type","required","secret","default","help"}],
 * "commands":[{"name","usage","help"}]}. New reference. */
struct json_object *plugin_json(const struct plugin *p);
/* True when the loaded plugin `name` declares option `key` — used for chored's own keys a
 * plugin may take over (http's per-attempt `timeout` and its own `retries`). */
bool plugin_declares(const struct plugin_set *set, const char *name, const char *key);

/* "string", "int", … for an option type. */
const char *plugin_opt_type_name(enum chored_opt_type t);

#endif

/* chorectl verbs. Each takes the verb's own argv (argv[0] = verb name) and returns an exit
 * status from sysexits.h (0 on success). */
#ifndef CHORED_CHORECTL_H
#define CHORED_CHORECTL_H

#include <stdbool.h>

struct chorectl_opts {
	const char *config; /* -c FILE, NULL = compiled-in default */
	bool json;          /* --json given before the verb */
};

int chorectl_next(const struct chorectl_opts *o, int argc, char **argv);
int chorectl_explain(const struct chorectl_opts *o, int argc, char **argv);
int chorectl_check(const struct chorectl_opts *o, int argc, char **argv);

/* Verbs that talk to the daemon over the control socket (chorectl_online.c); daemon
 * unreachable → EX_UNAVAILABLE (69). */
int chorectl_status(const struct chorectl_opts *o, int argc, char **argv);
int chorectl_list(const struct chorectl_opts *o, int argc, char **argv);
int chorectl_run(const struct chorectl_opts *o, int argc, char **argv);
int chorectl_history(const struct chorectl_opts *o, int argc, char **argv);
int chorectl_logs(const struct chorectl_opts *o, int argc, char **argv);
int chorectl_reload(const struct chorectl_opts *o, int argc, char **argv);
int chorectl_cancel(const struct chorectl_opts *o, int argc, char **argv);

/* Plugin verbs (chorectl_plugins.c): read the plugin directory of the configuration. */
int chorectl_plugins(const struct chorectl_opts *o, int argc, char **argv);
int chorectl_plugin(const struct chorectl_opts *o, int argc, char **argv);
/* `chorectl NAME SUBCOMMAND …` for a plugin NAME: returns -1 (and prints nothing) when no
 * plugin of that name exists, so the caller reports an unknown verb. */
int chorectl_plugin_dispatch(const struct chorectl_opts *o, int argc, char **argv);

#endif

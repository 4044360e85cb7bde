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

#endif

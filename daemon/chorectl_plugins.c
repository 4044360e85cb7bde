/* chorectl plugins, plugin info and PLUGIN SUBCOMMAND. Placeholder until the plugin
 * registry lands. */
#include "chored-build.h"

#include <stdio.h>

#include "chorectl.h"
#include "sysexits_compat.h"

int chorectl_plugins(const struct chorectl_opts *o, int argc, char **argv)
{
	fputs("chorectl plugins: the plugin registry is not built yet\n", stderr);
	return EX_SOFTWARE;
}

int chorectl_plugin(const struct chorectl_opts *o, int argc, char **argv)
{
	fputs("chorectl plugin: the plugin registry is not built yet\n", stderr);
	return EX_SOFTWARE;
}

int chorectl_plugin_dispatch(const struct chorectl_opts *o, int argc, char **argv)
{
	return -1;
}

/* chorectl verbs that talk to the daemon over the control socket. Placeholder until the
 * control socket client lands: each verb reports the daemon unreachable. */
#include "chored-build.h"

#include <stdio.h>

#include "chorectl.h"
#include "sysexits_compat.h"

static int unavailable(const char *verb)
{
	fprintf(stderr, "chorectl %s: the control socket client is not built yet\n", verb);
	return EX_UNAVAILABLE;
}

int chorectl_status(const struct chorectl_opts *o, int argc, char **argv)
{
	return unavailable("status");
}

int chorectl_list(const struct chorectl_opts *o, int argc, char **argv)
{
	return unavailable("list");
}

int chorectl_run(const struct chorectl_opts *o, int argc, char **argv)
{
	return unavailable("run");
}

int chorectl_history(const struct chorectl_opts *o, int argc, char **argv)
{
	return unavailable("history");
}

int chorectl_logs(const struct chorectl_opts *o, int argc, char **argv)
{
	return unavailable("logs");
}

int chorectl_reload(const struct chorectl_opts *o, int argc, char **argv)
{
	return unavailable("reload");
}

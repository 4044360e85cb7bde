/* chored_command_job: a plugin subcommand's view of a configured job. The host (chorectl)
 * provides the lookup; anywhere else the function fails with a clear message. */
#include <stdio.h>

#include "job_private.h"

static chored__command_job_fn host_fn;
static void *host_data;

void chored__command_set_host(chored__command_job_fn fn, void *data)
{
	host_fn = fn;
	host_data = data;
}

struct chored_job *chored_command_job(const char *name, char *err, size_t errlen)
{
	if (!host_fn) {
		snprintf(err, errlen,
		         "chored_command_job is only available in a chorectl subcommand");
		return NULL;
	}
	return host_fn(host_data, name, err, errlen);
}

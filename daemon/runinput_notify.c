/* Placeholder until the notify service lands: adds nothing. */
#include "runinput_notify.h"

void runinput_add_notify(struct json_object *in, const struct cfg *cfg, const struct cfg_job *job,
                         struct state *st, int64_t run_id)
{
	(void)in;
	(void)cfg;
	(void)job;
	(void)st;
	(void)run_id;
}

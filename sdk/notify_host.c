/* Runner-side notification: the run's sinks from the input document, and the default
 * report delivered after run(). Placeholder until the notify service lands. */
#include "job_impl.h"

void job_notify_free(struct job_notify *n)
{
	(void)n;
}

void chored__notify_setup(struct chored_job *job, struct json_object *doc)
{
	(void)job;
	(void)doc;
}

void chored__notify_after_run(struct chored_job *job, enum chored_status status)
{
	(void)job;
	(void)status;
}

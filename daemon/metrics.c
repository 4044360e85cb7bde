/* Placeholder: the counters are kept by the admin HTTP work (issue "Operator surface"). */
#include "metrics.h"

void metrics_run_ended(const char *job, enum run_status status, double duration_s, double lag_s)
{
	(void)job;
	(void)status;
	(void)duration_s;
	(void)lag_s;
}

void metrics_missed(const char *job, unsigned n)
{
	(void)job;
	(void)n;
}

void metrics_reload(bool ok)
{
	(void)ok;
}

void metrics_free(void)
{
}

/* chored_notify: a report to each of the run's sinks whose policy asks for it, each on its
 * own (a failing sink is logged and counted, never stops the next). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chored/notify.h"
#include "job_impl.h"
#include "notify_impl.h"

static const struct {
	const char *type;
	notify_send_fn send;
} sink_types[] = {
    {"outbox", notify_outbox_send}, {"smtp", notify_smtp_send},
    {"resend", notify_resend_send}, {"webhook", notify_webhook_send},
    {"notion", notify_notion_send},
};

static notify_send_fn sender(const char *type)
{
	for (size_t i = 0; i < sizeof sink_types / sizeof *sink_types; i++)
		if (strcmp(type, sink_types[i].type) == 0)
			return sink_types[i].send;
	return NULL;
}

int chored_notify(struct chored_job *job, const struct chored_report *r)
{
	struct job_notify *n = job->notify;
	if (!n)
		return 0;
	n->notified = true; /* also for r == NULL: the plugin decided there is no news */
	if (!r)
		return 0;
	const char *status =
	    n->status_word ? n->status_word : notify_status_name(chored_report_status(r));
	char *subject = notify_subject_word(chored_job_name(job), chored_report_status(r),
	                                    n->status_word, chored__job_summary(job));
	int failed = 0;
	for (size_t i = 0; i < n->n_sinks; i++) {
		const struct notify_sink *s = &n->sinks[i];
		if (!notify_policy_wants(s->policy, status, n->previous_status)) {
			chored_log(job, CHORED_LOG_DEBUG,
			           "notify %s: not sent (policy %s, status %s)", s->name, s->policy,
			           status);
			continue;
		}
		if (chored_job_dry_run(job)) {
			chored_log(job, CHORED_LOG_NOTICE,
			           "notify %s: dry run, would send (%s) \"%s\"", s->name, s->type,
			           subject);
			continue;
		}
		notify_send_fn send = sender(s->type);
		char err[512] = "";
		int rc = -1;
		if (!send)
			snprintf(err, sizeof err, "unknown sink type \"%s\"", s->type);
		else
			rc = send(job, s, r, subject, err, sizeof err);
		if (rc == 0) {
			chored_log(job, CHORED_LOG_NOTICE, "notify %s: sent (%s) \"%s\"", s->name,
			           s->type, subject);
		} else {
			failed++;
			chored_log(job, CHORED_LOG_WARNING, "notify %s: not delivered (%s): %s",
			           s->name, s->type, *err ? err : "unknown error");
		}
	}
	if (failed)
		chored_counter_add(job, "notify_failed", failed);
	free(subject);
	return failed;
}

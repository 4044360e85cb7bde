/* Notifications (chored-sdk-notify(3)): delivers a report to the job's sinks — the
 * `notify` key of its [job] section, else of [daemon] — each per its policy:
 *   always      every time
 *   on-failure  when the report's status is not ok (the default policy)
 *   on-change   when the status differs from the previous run's
 *   never       not at all
 * Sinks are independent: one failing is logged and counted on the run (counter
 * "notify_failed") and never stops another. Subjects carry the status:
 * "[chored] ✅ monthly-backup: ok", "[chored] ⚠️ … partial", "[chored] ❌ … failed". */
#ifndef CHORED_NOTIFY_H
#define CHORED_NOTIFY_H

#include <chored/job.h>
#include <chored/report.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Delivers `r` (its status decides the policies) to every sink of the job whose policy asks
 * for it. Returns the number of sinks that failed (0: all delivered or none concerned).
 * Once a plugin has called it, the runner sends no default report after run() returns;
 * chored_notify(job, NULL) sends nothing and only says so (a watcher with no news). */
int chored_notify(struct chored_job *job, const struct chored_report *r);

#ifdef __cplusplus
}
#endif

#endif

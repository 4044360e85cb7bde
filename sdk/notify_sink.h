/* One notification sink as a run sees it, and the delivery function of each sink type.
 * Internal to libchored: sdk/notify*.c (dispatch, outbox, smtp, resend, webhook) and
 * sdk/notify_notion.c (Notion, with the report renderer). */
#ifndef CHORED_NOTIFY_SINK_H
#define CHORED_NOTIFY_SINK_H

#include <stddef.h>

#include <json-c/json.h>

#include "chored/job.h"
#include "chored/report.h"

struct notify_sink {
	const char *name;         /* the [notify NAME] section */
	const char *type;         /* outbox smtp resend webhook notion */
	const char *policy;       /* always on-failure on-change never */
	struct json_object *keys; /* borrowed: the sink's keys, secrets resolved */
};

/* Delivers `r` with `subject` ("[chored] ✅ job: ok") to `sink`. Returns 0, or -1 with a
 * one-line reason in err (never a secret). May block; honours chored_job_cancelled(). */
typedef int (*notify_send_fn)(struct chored_job *job, const struct notify_sink *sink,
                              const struct chored_report *r, const char *subject, char *err,
                              size_t errlen);

int notify_outbox_send(struct chored_job *job, const struct notify_sink *sink,
                       const struct chored_report *r, const char *subject, char *err,
                       size_t errlen);
int notify_smtp_send(struct chored_job *job, const struct notify_sink *sink,
                     const struct chored_report *r, const char *subject, char *err, size_t errlen);
int notify_resend_send(struct chored_job *job, const struct notify_sink *sink,
                       const struct chored_report *r, const char *subject, char *err,
                       size_t errlen);
int notify_webhook_send(struct chored_job *job, const struct notify_sink *sink,
                        const struct chored_report *r, const char *subject, char *err,
                        size_t errlen);
/* keys: token, parent_page, mode (subpage | append), base_url. */
int notify_notion_send(struct chored_job *job, const struct notify_sink *sink,
                       const struct chored_report *r, const char *subject, char *err,
                       size_t errlen);

#endif

/* Host side of struct chored_job: used by chored (option checks) and chored-run (runs).
 * Not installed and not for plugins. These functions are exported from libchored under the
 * reserved prefix chored__ so that the runner and the plugin share one job object. */
#ifndef CHORED_JOB_PRIVATE_H
#define CHORED_JOB_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chored/job.h"
#include "chored/plugin.h"

/* Receives every record a plugin emits, in order. `data` is the sink's own pointer.
 * Each record is one JSON object (see daemon/runproto.h); ownership stays with the caller. */
struct json_object;
typedef void (*chored__emit_fn)(void *data, struct json_object *record);

/* A new job named `name` for `plugin`'s schema. Owned by the caller: chored__job_free. */
struct chored_job *chored__job_new(const char *name, const struct chored_plugin *plugin);
void chored__job_free(struct chored_job *job);

/* Options as resolved from the configuration (copied). Defaults from the schema apply to
 * keys never set. Secret values are also registered for redaction. */
void chored__job_set_opt(struct chored_job *job, const char *key, const char *value);
/* A value to replace by *** in every log record and summary (copied). */
void chored__job_add_redaction(struct chored_job *job, const char *secret_value);
/* Applies `text`'s redactions into a new malloc'd string. */
char *chored__job_redact(const struct chored_job *job, const char *text);

void chored__job_set_run(struct chored_job *job, const char *run_id, int64_t nominal, bool dry_run,
                         bool has_at, int64_t at);
/* Loads a runner input document (daemon/runproto.h) into `job`: redactions, options,
 * state, run fields and notification sinks. Members absent from `doc` are left unset. */
void chored__job_load_input(struct chored_job *job, struct json_object *doc);
/* Only the "redact" member: for error messages before the plugin's job exists. */
void chored__job_load_redactions(struct chored_job *job, struct json_object *doc);
/* Loads one key of persisted state before the run (copied). */
void chored__job_set_state(struct chored_job *job, const char *key, const char *value);
void chored__job_set_emit(struct chored_job *job, chored__emit_fn fn, void *data);
/* Marks the run cancelled (async-signal-safe: sets a sig_atomic_t). */
void chored__job_cancel(struct chored_job *job);

/* The message of the last chored_job_error (NULL when none) and its key (may be NULL). */
const char *chored__job_error_message(const struct chored_job *job);
const char *chored__job_error_key(const struct chored_job *job);
/* The summary set by the plugin, redacted ("" when none). */
const char *chored__job_summary(const struct chored_job *job);

/* The host side of chored_command_job (sdk/command.c): chorectl sets it around a plugin
 * subcommand; fn returns a job it owns (freed after the subcommand) or NULL with err. */
typedef struct chored_job *(*chored__command_job_fn)(void *data, const char *name, char *err,
                                                     size_t errlen);
void chored__command_set_host(chored__command_job_fn fn, void *data);

/* Notification (sdk/notify_host.c). chored__notify_setup reads the input document's
 * "notify" (this job's sinks and policies), "previous_status" and "state_dir" members
 * (runproto.h) before run(). chored__notify_after_run delivers the default report of the run
 * to the sinks whose policy asks for it, unless the plugin already called chored_notify();
 * a failing sink is logged and counted on the run, never changes its status. */
void chored__notify_setup(struct chored_job *job, struct json_object *doc);
void chored__notify_after_run(struct chored_job *job, enum chored_status status);
/* The status word of the reports chored_notify delivers from now on, in place of ok/partial/
 * failed, for their subject and the sinks' policies: "crashed", "timeout", "missed" (copied;
 * NULL: the report's status again). For chored-run's notify-only mode (runproto.h); a job
 * without sinks ignores it. */
void chored__notify_set_status_word(struct chored_job *job, const char *word);

#endif

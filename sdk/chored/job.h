/* The services a plugin calls on its job (libchored). Every function takes the job handle
 * the host passed to check/run. Strings returned are borrowed: valid until run returns. */
#ifndef CHORED_JOB_H
#define CHORED_JOB_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct chored_job; /* opaque */

enum chored_status {
	CHORED_OK = 0,      /* the job did its work */
	CHORED_PARTIAL = 1, /* the work was done but some items failed */
	CHORED_FAILED = 2,  /* the run failed */
};

enum chored_level {
	CHORED_LOG_ERR = 3,
	CHORED_LOG_WARNING = 4,
	CHORED_LOG_NOTICE = 5,
	CHORED_LOG_INFO = 6,
	CHORED_LOG_DEBUG = 7,
};

/* Identity of the job and of this run. */
const char *chored_job_name(const struct chored_job *job);
const char *chored_job_run_id(const struct chored_job *job); /* "" during check */
/* The slot this run serves (UTC seconds); the request time for a manual run. */
int64_t chored_job_nominal_time(const struct chored_job *job);
/* The clock plugins must use instead of time(): `chorectl run --at` sets it. UTC seconds. */
int64_t chored_job_now(const struct chored_job *job);
bool chored_job_dry_run(const struct chored_job *job);
/* The daemon's state directory (where [daemon] state keeps its database, the outbox's
 * default home): the place for a plugin's default local files. Never NULL. */
const char *chored_job_state_dir(const struct chored_job *job);

/* Options, already validated against the plugin's schema; defaults applied.
 * chored_job_opt returns NULL when the key is unset and has no default. */
const char *chored_job_opt(const struct chored_job *job, const char *key);
int64_t chored_job_opt_int(const struct chored_job *job, const char *key);   /* INT, DURATION */
uint64_t chored_job_opt_size(const struct chored_job *job, const char *key); /* SIZE */
bool chored_job_opt_bool(const struct chored_job *job, const char *key);     /* BOOL */

/* Sets the message of a failed check (printed as FILE:LINE: [job NAME] KEY: message). */
void chored_job_error(struct chored_job *job, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Log records go to the run's log with level and fields; configured secret values are
 * replaced by *** whatever the plugin writes. Fields are "key", "value" pairs ended by NULL:
 * chored_log_kv(job, CHORED_LOG_INFO, "uploaded", "bytes", "1024", NULL). */
void chored_log(struct chored_job *job, enum chored_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void chored_vlog(struct chored_job *job, enum chored_level level, const char *fmt, va_list ap);
void chored_log_kv(struct chored_job *job, enum chored_level level, const char *msg, ...)
    __attribute__((sentinel));

/* Progress "done of total" (total 0 = unknown) and named counters for the run's result. */
void chored_progress(struct chored_job *job, uint64_t done, uint64_t total);
void chored_counter_add(struct chored_job *job, const char *name, int64_t delta);
/* One-line summary of the run ("12 pages, 3 dead links"). The last call wins. */
void chored_summary(struct chored_job *job, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Key/value state kept between runs, per job. get returns NULL when unset; set with
 * value NULL deletes. Changes are saved when the run ends, whatever its status. */
const char *chored_state_get(struct chored_job *job, const char *key);
void chored_state_set(struct chored_job *job, const char *key, const char *value);

/* Read-only state of another job, `peer`, named by this job's option flagged
 * CHORED_OPT_JOB (the slot watcher reads the randomizer's plan), as it was when this run
 * started. NULL when the key is unset or `peer` is not such a job. */
const char *chored_state_peer(struct chored_job *job, const char *peer, const char *key);

/* True once the host asked the run to stop (timeout, shutdown, replace): poll it in loops. */
bool chored_job_cancelled(const struct chored_job *job);

#ifdef __cplusplus
}
#endif

#endif

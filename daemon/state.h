/* Persistent state (design §9): runs with their bounded logs, per-job catch-up stamps,
 * per-job plugin key/value state, and a few daemon facts (boot id). SQLite in WAL mode.
 *
 * Crash model: chored may be killed (-9) between any two calls. Every call below is one
 * transaction, so after a restart the store holds each run either as begun ("running",
 * turned into "interrupted" by state_open) or as finished with its log, counters, summary
 * and the plugin state it wrote — never half of a finish.
 *
 * Idempotency (design §6): a non-manual run is keyed by (job, nominal, attempt); the store
 * refuses a second begin of the same key, so a slot never runs twice, even across a crash
 * and restart, and even with several daemons on one database.
 *
 * All times are UTC. `*_ms` are milliseconds since the epoch; nominal times are seconds. */
#ifndef CHORED_STATE_H
#define CHORED_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct json_object;
struct state; /* opaque; one per daemon, used from the event-loop thread only */

enum run_status {
	RUN_RUNNING = 0, /* begun, not finished */
	RUN_OK,
	RUN_PARTIAL,
	RUN_FAILED,
	RUN_CRASHED, /* runner killed by a signal (see state_run.signal) or died without a result */
	RUN_TIMEOUT,
	RUN_SKIPPED, /* overlap = skip: the slot was due while a run was in flight */
	RUN_CANCELLED,
	RUN_INTERRUPTED, /* was running when the daemon died; set by state_open */
};

enum run_trigger {
	TRIG_SCHEDULE = 0,
	TRIG_CATCHUP,
	TRIG_REBOOT,
	TRIG_RETRY,
	TRIG_MANUAL, /* chorectl run / POST /v1/jobs/NAME/run: not idempotency-keyed */
};

/* "ok", "partial", … and "schedule", "catchup", …; _parse return -1 on unknown text. */
const char *run_status_name(enum run_status s);
int run_status_parse(const char *text, enum run_status *out);
const char *run_trigger_name(enum run_trigger t);
int run_trigger_parse(const char *text, enum run_trigger *out);
/* True for every status but RUNNING. */
bool run_status_final(enum run_status s);

/* Opens (creating as mode 0600 when absent) the store at `url`: "sqlite:///abs/path" or a
 * plain absolute path. The parent directory must exist. Sets WAL, busy timeout, schema;
 * marks runs left "running" by a previous process as "interrupted" (so only one daemon
 * should run on one SQLite file; a second would mark the first one's runs). Starts a
 * thread, with every signal blocked, that checkpoints the WAL off the caller's thread;
 * state_close joins it. On error returns -1 with a message naming the path and the cause
 * in err. */
int state_open(const char *url, struct state **out, char *err, size_t errlen);
void state_close(struct state *st);

/* A run that state_open found still running (the process that owned it died during it:
 * kill -9, crash, power loss) and marked interrupted. */
struct state_interrupted {
	int64_t id, nominal;
	char *job; /* owned by the state */
	enum run_trigger trigger;
	bool dry_run;
};
/* Those runs, by id; *n of them. Owned by st, valid until state_close. */
const struct state_interrupted *state_interrupted(const struct state *st, size_t *n);
/* The message of the last failed call on st ("state PATH: what: cause"), for the calls
 * below that have no err buffer. Owned by st; valid until the next call. */
const char *state_errmsg(const struct state *st);

/* Claims a run. attempt is 1 for the first try of a slot and n + 1 for its n-th retry.
 * For trigger != TRIG_MANUAL the key (job, nominal, attempt) must be new:
 * returns 1 (and *id untouched) when that slot attempt was already begun by anyone.
 * Returns 0 with the new run id (> 0), or -1 on a store error (message in err).
 * The run starts as RUN_RUNNING with started_ms = now_ms.
 * The job's catch-up stamp is raised to `nominal` in the same transaction (never
 * lowered; manual runs leave it alone). */
int state_run_begin(struct state *st, const char *job, int64_t nominal, unsigned attempt,
                    enum run_trigger trigger, bool dry_run, int64_t now_ms, int64_t *id, char *err,
                    size_t errlen);

/* state_run_begin that also reads the job's plugin state (as state_kv_json) in the same
 * transaction: one store transaction per claim instead of two. On 0, *kv is a new
 * reference (the caller puts it); otherwise *kv is NULL. */
int state_run_begin_kv(struct state *st, const char *job, int64_t nominal, unsigned attempt,
                       enum run_trigger trigger, bool dry_run, int64_t now_ms, int64_t *id,
                       struct json_object **kv, char *err, size_t errlen);

/* Records a slot that did not run (overlap = skip) as a finished RUN_SKIPPED run with
 * `summary`, claiming its key (attempt 1) like state_run_begin. Same return values. */
int state_run_skip(struct state *st, const char *job, int64_t nominal, enum run_trigger trigger,
                   const char *summary, int64_t now_ms, int64_t *id, char *err, size_t errlen);

/* One line of a run's log. stream: "out" (stdout/stderr of the runner) or "log" (an SDK
 * record). level: syslog 3-7 (use 6 for "out"). fields_json: a JSON object text or NULL. */
struct state_log_line {
	int64_t ts_ms;
	const char *stream;
	int level;
	const char *text;
	const char *fields_json;
};

/* A plugin state change to apply with the finish (value NULL deletes the key). */
struct state_kv_change {
	const char *key;
	const char *value;
};

/* Ends a run in one transaction: its final status (signal: the signal number for
 * RUN_CRASHED by signal, else 0), summary (may be NULL), counters (JSON object text or
 * NULL), the log lines (stored up to STATE_LOG_MAX_BYTES of text and fields per run; past
 * that, one line "[log truncated: N more lines, M bytes]" is stored instead of the rest),
 * and the plugin state changes for the run's job. Then trims the job's history to the
 * `keep_runs` newest (by id) finished runs (0 = keep all). Returns 0 or -1 (nothing
 * applied), also for a run already finished; one that state_open marked interrupted may
 * still be finished by the process that really ran it. */
#define STATE_LOG_MAX_BYTES (1024 * 1024)
int state_run_finish(struct state *st, int64_t id, enum run_status status, int signal,
                     const char *summary, const char *counters_json,
                     const struct state_log_line *lines, size_t n_lines,
                     const struct state_kv_change *changes, size_t n_changes, int64_t now_ms,
                     unsigned keep_runs, char *err, size_t errlen);

/* A run as stored. Strings are owned by the struct: state_run_clear frees them. */
struct state_run {
	int64_t id;
	char *job;
	int64_t nominal;
	unsigned attempt;
	enum run_trigger trigger;
	enum run_status status;
	int signal;
	bool dry_run;
	int64_t started_ms;
	int64_t ended_ms; /* 0 while running */
	char *summary;    /* NULL when none */
	char *counters;   /* JSON object text, NULL when none */
};
void state_run_clear(struct state_run *r);

/* Returns 0 and fills *out, 1 when there is no such run, -1 on error. */
int state_run_get(struct state *st, int64_t id, struct state_run *out);
/* The newest `limit` runs of `job` (newest first) with id < before_id (0 = no bound).
 * Fills a malloc'd array the caller frees with state_runs_free. Returns the count or -1. */
ssize_t state_runs_list(struct state *st, const char *job, size_t limit, int64_t before_id,
                        struct state_run **out);
void state_runs_free(struct state_run *runs, size_t n);
/* The newest finished run of `job` with status in {OK, PARTIAL} (last success), or with
 * any final status (last result). Returns 0, 1 (none) or -1. */
int state_last_run(struct state *st, const char *job, bool success_only, struct state_run *out);
/* For each of jobs[0..n-1], in one read transaction: cb(ctx, i, false, ended_ms of its
 * newest finished run) and cb(ctx, i, true, ended_ms of its newest ok or partial run), for
 * those it has. What state_last_run gives, for many jobs at once: the first metrics scrape
 * with 10,000 jobs (index seeks, no transaction each). 0 or -1 (state_errmsg says why). */
int state_last_each(struct state *st, const char *const *jobs, size_t n,
                    void (*cb)(void *ctx, size_t i, bool success, int64_t ended_ms), void *ctx);

/* The log of a run as a JSON array of {"ts":ms,"stream":…,"level":N,"text":…,"fields":{…}}
 * (new reference), or NULL on error. */
struct json_object *state_run_log_json(struct state *st, int64_t id);
/* A run as the JSON object the API serves: id, job, nominal (ISO 8601 UTC), attempt,
 * trigger, status, signal (name, when crashed by one), dry_run, started, ended, duration_ms,
 * summary, counters. New reference. */
struct json_object *state_run_json(const struct state_run *r);

/* Catch-up stamp: the newest nominal slot begun for `job`. Returns 0, 1 (never set) or -1.
 * state_stamp_set raises it (never lowers it); chored sets it to "now" for a job it sees for
 * the first time, so a new job never catches up on the past. */
int state_stamp_get(struct state *st, const char *job, int64_t *nominal);
int state_stamp_set(struct state *st, const char *job, int64_t nominal);

/* The plugin key/value state of `job` as a JSON object {"key":"value",…} (new reference),
 * or NULL on error. Sent to the runner with each run. */
struct json_object *state_kv_json(struct state *st, const char *job);

/* Daemon facts ("boot_id", …). get returns a malloc'd string, or NULL when unset/on error. */
char *state_meta_get(struct state *st, const char *key);
int state_meta_set(struct state *st, const char *key, const char *value);

#endif

/* One run's lifecycle in the daemon (design §6): claim its slot in the store, build the
 * runner's input, spawn chored-run, collect its output and records in memory (bounded),
 * and record the outcome with the log, counters, summary and plugin state changes.
 * While live and for RUN_LINGER_S after, the run also keeps a numbered event list for
 * `chorectl run --wait` (GET /v1/runs/ID/events). */
#ifndef CHORED_JOBRUN_H
#define CHORED_JOBRUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "state.h"

struct daemon;
struct gen;
struct json_object;
struct runner;
struct event;
struct cfg_job;

/* Seconds an ended run stays in memory with its events. */
#define RUN_LINGER_S 60
/* SIGTERM → SIGKILL delay for a timed-out or cancelled run. */
#define RUN_KILL_GRACE_S 5
/* Events kept per run; past this, log lines are counted and dropped. */
#define RUN_MAX_EVENTS 20000

struct kv_change {
	char *key;
	char *value; /* NULL = delete */
};

struct run {
	struct run *next, *prev; /* daemon's list */
	struct run *ended_next;  /* daemon's ended FIFO, once ended */
	struct daemon *d;
	struct gen *gen;           /* reference held until the run is freed */
	const struct cfg_job *job; /* in gen->cfg */
	int64_t id;
	int64_t nominal;
	unsigned attempt;
	enum run_trigger trigger;
	bool dry_run, has_at;
	int64_t at;
	enum run_status status; /* RUN_RUNNING until done */
	int signal;
	int64_t started_ms, ended_ms;
	struct runner *runner; /* NULL once done */
	bool cancel_requested;
	/* The plugin called chored_notify (the runner's "notified" record): its report went
	 * out, so a later crash or timeout is not notified again by the daemon. */
	bool notified;

	/* Timing: the instant the run was due (CLOCK_REALTIME ns), when the runner was
	 * spawned, and when the plugin's run() was entered (-1 = not yet). */
	int64_t due_ns;
	int64_t spawn_mono_ns, spawn_real_ns;
	int64_t spawn_lag_us, start_lag_us;
	/* Where the spawn lag went: claiming the slot in the store, building the input,
	 * posix_spawn and pipes (µs). */
	int64_t claim_us, prepare_us, spawn_us;

	struct json_object **events; /* each {"seq":N,"t":…}, owned */
	size_t n_events, cap_events;
	int64_t last_seq;
	size_t log_bytes, dropped_lines, dropped_bytes;
	struct json_object *counters; /* {"name": N} */
	char *summary;
	int64_t progress_done, progress_total;
	struct kv_change *changes;
	size_t n_changes;
	int64_t ended_mono_ms; /* when it ended, on CLOCK_MONOTONIC: the linger clock */
	/* A run claimed ahead of its instant: its runner is spawned and waits (loaded) until
	 * due_ns by itself ("release_ns"); until its "started" record or its end. */
	bool held;
	struct json_object *input;
	const char **redact; /* into input */
};

/* Claims the slot (job, nominal, attempt) and starts the run; the runner is spawned at
 * due_ns (CLOCK_REALTIME ns) when that is still ahead, at once otherwise. Returns the run (also
 * linked into d->runs), or NULL when the slot was already claimed (*claimed = true) or the store
 * failed (message logged, and in err when given). A run whose runner cannot be spawned
 * is recorded as failed at once and returned ended. */
struct run *run_start(struct daemon *d, struct gen *g, const struct cfg_job *job, int64_t nominal,
                      unsigned attempt, enum run_trigger trigger, bool dry_run, bool has_at,
                      int64_t at, int64_t due_ns, bool *claimed, char *err, size_t errlen);
/* Asks a live run to stop (replace, shutdown, chorectl cancel): it ends as cancelled. */
void run_cancel(struct run *r);
/* Shutdown after the grace period: SIGKILL now. */
void run_kill(struct run *r);
bool run_live(const struct run *r);
/* Frees an ended run (unlinks it from the daemon's lists). */
void run_free(struct run *r);
/* Frees the ended runs that have lingered RUN_LINGER_S. Called as runs end and as the
 * daemon's timer wakes, instead of a timer per run (which woke the loop once per run). */
void run_sweep_ended(struct daemon *d);

struct run *run_find(struct daemon *d, int64_t id);
/* The run as GET /v1/runs/ID serves it, with "log", "progress" and "timing". */
struct json_object *run_json(const struct run *r);
/* {"events":[…after after_seq],"last_seq":N,"status":…}; *over when ended. */
struct json_object *run_events_json(const struct run *r, int64_t after_seq, bool *over);

#endif

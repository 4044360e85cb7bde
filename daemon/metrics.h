/* The daemon's Prometheus metrics (design §10, GET /metrics, text format 0.0.4).
 * Counters and histograms live in memory from the daemon's start (Prometheus handles the
 * reset). Last run and last success are kept in memory too, seeded once per job from the
 * state store, so a scrape never queries the store for a job it has seen. Next run and
 * running come from the live generation at render time. The daemon feeds the counters
 * through the calls below, all on the event loop. Job names are copied. */
#ifndef CHORED_METRICS_H
#define CHORED_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "state.h"

struct strbuf;

/* A run was recorded with its final status (skipped slots included, duration 0). `lag_s` is
 * the firing lag of a run fired by the schedule — the slot's instant to the runner let go —
 * or < 0 for any other run (manual, retry, catch-up, skipped). */
void metrics_run_ended(const char *job, enum run_status status, double duration_s, double lag_s);
/* `n` slots of `job` passed without a run (daemon down, catch-up none, clock jumped). */
void metrics_missed(const char *job, unsigned n);
/* A reload was accepted (ok) or rejected. */
void metrics_reload(bool ok);
/* Frees everything (daemon exit; leak checkers). */
void metrics_free(void);

/* What the daemon knows of a job of the live generation when /metrics is rendered. */
struct metrics_job {
	const char *name; /* borrowed */
	int64_t next;     /* next slot (UTC s), 0 = none */
	bool running;
};
/* True until metrics_seed has been called for `job`: its last run and last success are not
 * yet read from the state store (once per job and daemon life, so a restart keeps them). */
bool metrics_need_seed(const char *job);
/* The job's newest finished run and newest success as the store has them (ended, UTC ms;
 * 0 = none). What the daemon recorded since start wins when newer. */
void metrics_seed(const char *job, int64_t last_run_ms, int64_t last_success_ms);
/* Appends the text exposition (format 0.0.4) of the daemon's metrics for `jobs` (the live
 * generation's; removed jobs are left out) to out. */
void metrics_render(struct strbuf *out, const struct metrics_job *jobs, size_t n);

#endif

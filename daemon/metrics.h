/* The daemon's Prometheus metrics (design §10, GET /metrics, text format 0.0.4).
 * Counters and histograms live in memory from the daemon's start (Prometheus handles the
 * reset); gauges (next run, running, last run/success) are read from the live generation and
 * the state store when /metrics is rendered. The daemon feeds the counters through the calls
 * below, all on the event loop. Job names are copied. */
#ifndef CHORED_METRICS_H
#define CHORED_METRICS_H

#include <stdbool.h>

#include "state.h"

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

#endif

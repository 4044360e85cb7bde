/* The missed-run alarm (design §6, issue 4): a slot that passed without a run — the daemon
 * was down, an overlap skip, a clock jump or suspend, a run that never started — is counted
 * on its job (struct jstate missed/last_missed, metrics_missed), logged once per event,
 * recorded in the state store as a skipped run with a summary that says why, and notified
 * to the job's sinks by their policy through a notify-only chored-run (runproto.h
 * "notify_only"), which also reports the runs whose runner could not (crashed, timed out,
 * never started). */
#ifndef CHORED_MISSED_H
#define CHORED_MISSED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct daemon;
struct gen;
struct cfg_job;

/* ---- daemon/missed_text.c (pure) ---- */

/* "missed: CAUSE (3 slots, 2026-11-23 02:00–04:00 UTC)" into buf: the count ("at least N"
 * when `at_least`), the oldest and newest missed slot (UTC seconds), the date once when both
 * fall on one day, seconds only when either slot has some. Always NUL-terminated (cut to
 * len). Returns buf. */
char *missed_summary(char *buf, size_t len, const char *cause, uint64_t n, bool at_least,
                     int64_t first, int64_t last);

/* ---- daemon/missed_notify.c ---- */

/* Tells `job`'s sinks (by their policy) that a slot or a run ended with `status` ("missed",
 * "crashed", "timeout", "failed") and `summary`, through a notify-only chored-run started at
 * once: the job's sinks and only their secrets, previous_status for on-change, no plugin
 * loaded. `run_id` is the run (or the skipped-run record) it is about, 0 when none. Not a
 * run: no slot is claimed, nothing is recorded; its failures are logged. Does nothing when
 * the job has no sinks or every policy is never. */
void missed_notify(struct daemon *d, struct gen *g, const struct cfg_job *job, const char *status,
                   const char *summary, int64_t nominal, int64_t run_id);
/* Notify-only runners in flight (a stopping daemon waits for them; it starts no more and
 * drops those still waiting, logged). At most 4 run at once; the others wait in order. */
size_t missed_notify_live(const struct daemon *d);
/* Kills and frees every notifier, logged (daemon exit). */
void missed_notify_free_all(struct daemon *d);

#endif

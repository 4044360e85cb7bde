/* chored-run's protocol output (fd 3, daemon/runproto.h), coalesced: records written within
 * RUN_OUT_DELAY_MS of the first unsent one leave in one write(), so that a plugin that logs
 * a burst, or a short run's "started" … "result", wakes chored once rather than once per
 * record. A thread sends what waits once that delay is up; a crash (a fatal signal whose
 * handler the plugin left alone) or exit() sends it first, so a record is lost only to a
 * SIGKILL, or a crash the plugin made uncatchable, within the delay ("started", which
 * decides how chored reports a crash, is sent at once). */
#ifndef CHORED_RUN_OUT_H
#define CHORED_RUN_OUT_H

#include <stdbool.h>
#include <stddef.h>

/* The longest a record waits before it is sent. */
#define RUN_OUT_DELAY_MS 10

/* Sets up the buffer, the fatal-signal handlers and the exit hook. Once, at start. */
void run_out_init(int fd);
/* Queues one whole line (with its "\n"). Thread-safe. */
void run_out_line(const char *line, size_t len);
/* Sends everything queued now (the result: the last record). False when chored's end of
 * the pipe is gone. Thread-safe. */
bool run_out_flush(void);

#endif

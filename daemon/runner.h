/* The daemon side of one run, implemented in spawn*.c (design §2, §6): start chored-run
 * with posix_spawn (fork+exec in one call; never a fork alone) in its own process group,
 * with an empty signal mask, default signal actions and only fds 0-3 open, write the input
 * document to its fd 0, read its output (fd 1+2, raw lines) and its protocol records (fd 3, JSON
 * lines; daemon/runproto.h) on the event loop, enforce the timeout (SIGTERM to the group, SIGKILL
 * after the grace period) and report the outcome. Limits (RLIMIT_AS, RLIMIT_CPU) and `user` are
 * applied in the child by chored-run itself, from the input document's "limits" member, before the
 * plugin is loaded. */
#ifndef CHORED_RUNNER_H
#define CHORED_RUNNER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "state.h"

struct event_base;
struct json_object;
struct runner; /* one live chored-run process; owned by the caller until runner_free */

struct runner_result {
	enum run_status status; /* OK/PARTIAL/FAILED from the result record; CRASHED (no result,
	                         * or killed by a signal), TIMEOUT, CANCELLED */
	int signal;             /* the signal that ended the runner, 0 if it exited */
	int exit_code;          /* when it exited */
	const char *summary;    /* the plugin's summary, or a description of what went wrong
	                         * ("killed by SIGSEGV", "timed out after 30s"); borrowed */
};

/* Callbacks, all on the event loop. Strings and JSON are borrowed for the call. Every secret
 * of params.redact is already replaced by *** in what they receive. */
struct runner_cbs {
	/* The plugin's run() was entered: mono_ns = CLOCK_MONOTONIC in the runner then;
	 * released_ns = CLOCK_REALTIME when it stopped waiting for its instant, just before
	 * (0 when the record has none). */
	void (*started)(void *data, int64_t mono_ns, int64_t released_ns);
	/* One line the plugin (or a program it ran) wrote on stdout or stderr, without "\n". */
	void (*output)(void *data, const char *line);
	/* One protocol record other than "started" and "result": log, progress, counter,
	 * summary, state (see daemon/runproto.h). */
	void (*record)(void *data, struct json_object *rec);
	/* The run is over: the process is reaped and both pipes are drained. Called once. The
	 * runner may be freed from here. */
	void (*done)(void *data, const struct runner_result *res);
};

struct runner_params {
	const char *path;          /* chored-run executable */
	struct json_object *input; /* the whole input document (runproto.h); borrowed */
	const char *const *redact; /* NULL-terminated secret values; may be NULL */
	int64_t timeout_s;         /* 0 = none */
	int64_t grace_s;           /* SIGTERM → SIGKILL delay */
};

/* Spawns the runner. Returns 0 and *out, or -1 with the reason in err (the run then never
 * started: record it as failed). */
int runner_start(struct event_base *base, const struct runner_params *p,
                 const struct runner_cbs *cbs, void *data, struct runner **out, char *err,
                 size_t errlen);
/* Asks the run to stop: SIGTERM to the process group now, SIGKILL after the grace period.
 * The outcome is RUN_CANCELLED (or RUN_TIMEOUT for the built-in timeout) unless a result
 * record arrived first. `done` still follows. Idempotent. */
void runner_cancel(struct runner *r);
/* Sends SIGKILL to the process group at once (shutdown after the grace period). */
void runner_kill(struct runner *r);
pid_t runner_pid(const struct runner *r);
/* Frees a runner whose `done` was called, or kills (SIGKILL) and reaps a live one without
 * calling `done`. */
void runner_free(struct runner *r);

#endif

/* Internals of daemon/spawn.c shared with its reading half (spawn_read.c) and its
 * redaction helpers (spawn_redact.c). Not for other modules: they use runner.h. */
#ifndef CHORED_SPAWN_INT_H
#define CHORED_SPAWN_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "runner.h"

struct bufferevent;
struct event;
struct json_tokener;

/* Why the run was asked to stop, set once: the first reason wins the outcome. */
enum spawn_stop {
	SPAWN_STOP_NONE = 0,
	SPAWN_STOP_TIMEOUT,
	SPAWN_STOP_CANCEL,
};

/* One pipe read from the runner: fd 1+2 (raw output lines) or fd 3 (protocol records). */
struct spawn_stream {
	struct runner *r;
	struct bufferevent *bev;  /* owned; NULL once the pipe reached EOF and was closed */
	struct json_tokener *tok; /* owned; protocol stream only */
	bool proto;               /* fd 3 */
	bool skipping;            /* discarding the rest of an over-long line */
};

struct runner {
	struct event_base *base; /* borrowed */
	struct runner_cbs cbs;
	void *data;    /* the caller's, passed back to every callback */
	char **redact; /* owned copies of the non-empty secrets (and of the lines of multi-line
	                * ones), NULL-terminated; NULL when none */
	int64_t timeout_s, grace_s;

	pid_t pid;
	int pidfd;                 /* owned; -1 once reaped */
	struct event *ev_exit;     /* pidfd readable: the runner exited */
	struct event *ev_deadline; /* the job's timeout */
	struct event *ev_kill;     /* SIGKILL at the end of the grace period */
	struct event *ev_drain;    /* cap on draining the pipes after the exit */
	struct event *ev_resume;   /* watches fd 3 again if the exit is slow to follow the
	                            * result (a runner still writing would block) */
	struct event *ev_finish;   /* activated once: calls done() from a clean stack */
	struct bufferevent *in;    /* owned; fd 0 of the runner while the document is written
	                            * through it, NULL otherwise */
	struct spawn_stream out, proto;

	enum spawn_stop stop;
	bool term_sent;      /* SIGTERM sent to the group (timeout or cancel) */
	bool reaped;         /* waited for; wstatus valid */
	int wstatus;         /* -1 when the status could not be collected */
	bool finishing;      /* ev_finish activated */
	int depth;           /* > 0 while a user callback runs */
	bool free_requested; /* runner_free called from inside a user callback */

	bool have_result;
	bool result_seen; /* a well-formed "result" came (even after a stop): its pipes are
	                   * no longer watched; the exit drains them */
	enum run_status result_status;
	char *result_summary; /* owned, redacted; NULL when the record had none */
	char summary[160];    /* our own description of the outcome */
};

/* spawn.c */
/* Brackets a call into the user's callbacks. spawn_user_end returns false when the runner
 * was freed from inside the callback: the caller must return without touching it. */
void spawn_user_begin(struct runner *r);
bool spawn_user_end(struct runner *r);
/* Activates done() once the runner is reaped and both streams are closed. */
void spawn_check_finish(struct runner *r);
/* Called when a stream reached EOF (and was closed). The runner is most likely exiting:
 * takes what is already there of the rest of its end (the other stream, the exit) at once,
 * then spawn_check_finish. */
void spawn_stream_ended(struct runner *r);

/* spawn_read.c */
/* Starts reading fd (owned from now on; already non-blocking) into s. Returns 0 or -1. */
int spawn_stream_open(struct runner *r, struct spawn_stream *s, int fd, bool proto);
/* Emits a pending partial line (when flush), then closes the pipe. Idempotent. Returns
 * false if the runner was freed from a callback meanwhile. */
bool spawn_stream_close(struct spawn_stream *s, bool flush);
/* Stops or resumes watching the protocol pipe (reading it stays possible with
 * spawn_stream_poll). Stopping arms ev_resume. */
void spawn_proto_watch(struct runner *r, bool on);
/* One non-blocking read of s's pipe, outside the loop: its lines are handled, EOF closes
 * it. No-op on a closed stream. Returns false if the runner was freed meanwhile. */
bool spawn_stream_poll(struct spawn_stream *s);
/* Reports one line through output(), redacted. Returns false if the runner was freed. */
bool spawn_emit_output(struct runner *r, const char *line, size_t n, bool truncated);

/* spawn_redact.c */
/* Returns a malloc'd NUL-terminated copy of s[0..n) in which every stretch covered by an
 * occurrence of a secret (occurrences that overlap or touch merge) is replaced by one "***".
 * Returns NULL with *changed = false when no secret occurs (use s as is), or NULL with
 * *changed = true when out of memory (drop the text: it holds a secret). */
char *spawn_redact(char *const *secrets, const char *s, size_t n, bool *changed);
/* Length of s[0..n) without a tail that is the start of some secret (a secret cut in two by
 * line truncation must not leak its first half). */
size_t spawn_redact_tail(char *const *secrets, const char *s, size_t n);

#endif

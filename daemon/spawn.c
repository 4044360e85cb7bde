/* The daemon side of one run (daemon/runner.h): process creation, the input document, the
 * timeout, reaping and the outcome. Reading the runner's pipes is in spawn_read.c.
 *
 * No SIGCHLD handler: the exit is seen through a pidfd on the event loop. Every fd the
 * daemon opens is close-on-exec; the runner gets exactly fds 0-3 (posix_spawn's closefrom
 * action catches any descriptor a library opened without O_CLOEXEC). The daemon must ignore or
 * handle SIGPIPE: writing the input to a runner that died early fails with EPIPE. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/util.h>
#include <json-c/json.h>

#include "runproto.h"
#include "spawn_int.h"

/* How long the pipes may stay open after the runner exited: only a process that escaped the
 * group (setsid) can hold them, and it must not hold up the run's outcome. */
#define DRAIN_CAP_S 2

/* Nothing is inherited: the daemon's environment may hold secrets (${env:NAME}). */
static char *const runner_env[] = {"PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8", NULL};
/* Signals the daemon handles: the runner starts with their default actions. */
static const int default_signals[] = {SIGHUP, SIGTERM, SIGINT, SIGCHLD, SIGPIPE};

/* The runner leads its group, so this reaches every program it started too. */
static void signal_group(struct runner *r, int sig)
{
	if (!r->reaped)
		kill(-r->pid, sig);
}

void spawn_user_begin(struct runner *r)
{
	r->depth++;
}

static void destroy(struct runner *r);
static void close_fd(int *fd);

bool spawn_user_end(struct runner *r)
{
	r->depth--;
	if (!r->free_requested)
		return true;
	if (r->depth == 0)
		destroy(r);
	return false;
}

void spawn_check_finish(struct runner *r)
{
	if (r->reaped && !r->out.bev && !r->proto.bev && !r->finishing) {
		r->finishing = true;
		event_active(r->ev_finish, EV_TIMEOUT, 0);
	}
}

static void describe(struct runner *r, struct runner_result *res)
{
	int ws = r->wstatus;
	res->signal = ws != -1 && WIFSIGNALED(ws) ? WTERMSIG(ws) : 0;
	res->exit_code = ws != -1 && WIFEXITED(ws) ? WEXITSTATUS(ws) : 0;
	res->summary = r->summary;
	if (r->have_result) {
		res->status = r->result_status;
		res->summary = r->result_summary ? r->result_summary : "";
	} else if (r->stop == SPAWN_STOP_TIMEOUT) {
		res->status = RUN_TIMEOUT;
		snprintf(r->summary, sizeof r->summary, "timed out after %llds",
		         (long long)r->timeout_s);
	} else if (r->stop == SPAWN_STOP_CANCEL) {
		res->status = RUN_CANCELLED;
		snprintf(r->summary, sizeof r->summary, "cancelled");
	} else if (res->signal) {
		const char *abbrev = sigabbrev_np(res->signal);
		res->status = RUN_CRASHED;
		if (abbrev)
			snprintf(r->summary, sizeof r->summary, "killed by SIG%s", abbrev);
		else
			snprintf(r->summary, sizeof r->summary, "killed by signal %d", res->signal);
	} else {
		res->status = RUN_CRASHED;
		if (ws == -1)
			snprintf(r->summary, sizeof r->summary,
			         "runner ended without a result (exit status unavailable)");
		else
			snprintf(r->summary, sizeof r->summary,
			         "runner exited with status %d without a result", res->exit_code);
	}
}

static void on_finish(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct runner *r = arg;
	event_del(r->ev_drain);
	struct runner_result res;
	describe(r, &res);
	spawn_user_begin(r);
	r->cbs.done(r->data, &res);
	spawn_user_end(r);
}

/* DRAIN_CAP_S after the exit, a pipe is still open: keep what came, stop waiting. */
static void on_drain_cap(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	static const char note[] = "[spawn] output still open after the runner exited (a process "
	                           "left its group); closed";
	struct runner *r = arg;
	if (!spawn_stream_close(&r->out, true) || !spawn_stream_close(&r->proto, true) ||
	    !spawn_emit_output(r, note, sizeof note - 1, false))
		return;
	spawn_check_finish(r);
}

static void reap(struct runner *r, int options)
{
	int ws;
	pid_t got;
	while ((got = waitpid(r->pid, &ws, options)) == -1 && errno == EINTR)
		;
	if (got == 0)
		return;                       /* not yet */
	r->wstatus = got == r->pid ? ws : -1; /* -1: ECHILD, someone else reaped it */
	r->reaped = true;
	/* ev_exit leaves the loop before its pidfd is closed (else epoll_ctl fails, EBADF). */
	struct event *evs[] = {r->ev_exit, r->ev_deadline, r->ev_kill, r->ev_resume};
	for (size_t i = 0; i < sizeof evs / sizeof evs[0]; i++)
		if (evs[i])
			event_del(evs[i]);
	close_fd(&r->pidfd);
}

/* The runner has exited (it is a zombie, not yet reaped). */
static void child_exited(struct runner *r)
{
	/* The zombie still holds its pid as the group id: kill the group before reaping, so
	 * no program it started outlives the run and the id cannot have been reused. */
	kill(-r->pid, SIGKILL);
	reap(r, WNOHANG);
	if (!r->reaped)
		return;
	/* The runner's last lines and the EOFs behind them are in the pipes already (unless a
	 * process that left the group holds one): take them now. */
	if (!spawn_stream_poll(&r->out) || !spawn_stream_poll(&r->proto))
		return; /* freed from a callback */
	if (r->out.bev || r->proto.bev) {
		spawn_proto_watch(r, true);
		struct timeval cap = {DRAIN_CAP_S, 0};
		evtimer_add(r->ev_drain, &cap);
	}
	spawn_check_finish(r);
}

static void on_child_exit(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	child_exited(arg);
}

/* True when the runner has exited; it stays waitable (WNOWAIT). */
static bool has_exited(const struct runner *r)
{
	siginfo_t si = {0};
	return waitid(P_PID, (id_t)r->pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
	       si.si_pid == r->pid;
}

void spawn_stream_ended(struct runner *r)
{
	/* A runner closes both pipes as it exits, and its exit follows at once: taking them
	 * here saves a loop wake-up each (they cost more than the read and the waitid that
	 * find them, on a paravirtualised kernel several times more). */
	struct spawn_stream *other = r->out.bev ? &r->out : &r->proto;
	if (other->bev && !spawn_stream_poll(other))
		return; /* freed from a callback */
	if (!r->out.bev && !r->proto.bev && !r->reaped && has_exited(r))
		child_exited(r);
	else
		spawn_check_finish(r);
}

/* The result came RESUME_MS ago and the runner has not exited: whatever it still writes
 * must not fill a pipe nobody reads (chored-run writes nothing more; a plugin's thread or a
 * runner of another make might). */
static void on_resume(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	spawn_proto_watch(arg, true);
}

static void on_kill(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	signal_group(arg, SIGKILL);
}

/* SIGTERM now, SIGKILL after the grace period; the first reason to stop is kept. */
static void request_stop(struct runner *r, enum spawn_stop why)
{
	if (r->reaped)
		return;
	if (r->stop == SPAWN_STOP_NONE)
		r->stop = why;
	if (r->term_sent)
		return;
	r->term_sent = true;
	event_del(r->ev_deadline);
	signal_group(r, SIGTERM);
	struct timeval grace = {r->grace_s > 0 ? (time_t)r->grace_s : 0, 0};
	evtimer_add(r->ev_kill, &grace);
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	request_stop(arg, SPAWN_STOP_TIMEOUT);
}

/* The input is written; EOF tells the runner the document is complete. */
static void input_close(struct runner *r)
{
	if (r->in) {
		bufferevent_free(r->in);
		r->in = NULL;
	}
}

static void on_input_written(struct bufferevent *bev, void *arg)
{
	struct runner *r = arg;
	if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		input_close(r);
}

static void on_input_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	(void)what;
	input_close(arg); /* EPIPE: the runner is gone; its exit tells the rest */
}

/* Makes fd non-blocking. F_SETFL sets the status flags outright: a fresh pipe end has no
 * other one. */
static int set_nonblock(int fd)
{
	return fcntl(fd, F_SETFL, O_NONBLOCK);
}

/* A close-on-exec pipe whose fds are both >= 4, so that the child's dup2 onto 0-3 can never
 * overwrite another pipe end (when the daemon runs with some of 0-3 closed). Only the
 * daemon's end, fds[daemon_end], is made non-blocking (none when daemon_end is -1):
 * O_NONBLOCK belongs to the open file description, which dup2 shares, and the runner's ends
 * must block. */
static int runner_pipe(int fds[2], int daemon_end)
{
	if (pipe2(fds, O_CLOEXEC) != 0) {
		fds[0] = fds[1] = -1;
		return -1;
	}
	for (int i = 0; i < 2; i++) {
		if (fds[i] > RUNPROTO_FD)
			continue;
		int moved = fcntl(fds[i], F_DUPFD_CLOEXEC, RUNPROTO_FD + 1);
		int saved = errno;
		close(fds[i]);
		fds[i] = moved;
		if (moved < 0) {
			close(fds[1 - i]);
			fds[0] = fds[1] = -1;
			errno = saved;
			return -1;
		}
	}
	if (daemon_end >= 0 && set_nonblock(fds[daemon_end]) != 0) {
		int saved = errno;
		close(fds[0]);
		close(fds[1]);
		fds[0] = fds[1] = -1;
		errno = saved;
		return -1;
	}
	return 0;
}

static void close_fd(int *fd)
{
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
}

/* The posix_spawn attributes, the same for every run: the runner leads a process group of
 * its own (timeouts signal the group), starts with an empty signal mask and with the
 * signals the daemon handles back to their default actions (glibc's child also resets
 * every other handled signal: a handler cannot survive execve). Set up once. */
static posix_spawnattr_t spawn_attr;
static int spawn_attr_err = -1; /* -1: not set up yet; else 0 or an errno */

static int spawn_attr_get(void)
{
	if (spawn_attr_err >= 0)
		return spawn_attr_err;
	sigset_t none, dfl;
	sigemptyset(&none);
	sigemptyset(&dfl);
	for (size_t i = 0; i < sizeof default_signals / sizeof default_signals[0]; i++)
		sigaddset(&dfl, default_signals[i]);
	int rc = posix_spawnattr_init(&spawn_attr);
	if (rc == 0 && ((rc = posix_spawnattr_setflags(
	                     &spawn_attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
	                                      POSIX_SPAWN_SETSIGDEF)) != 0 ||
	                (rc = posix_spawnattr_setpgroup(&spawn_attr, 0)) != 0 ||
	                (rc = posix_spawnattr_setsigmask(&spawn_attr, &none)) != 0 ||
	                (rc = posix_spawnattr_setsigdefault(&spawn_attr, &dfl)) != 0))
		posix_spawnattr_destroy(&spawn_attr);
	spawn_attr_err = rc;
	return rc;
}

/* The file actions: the child's pipe ends become fds 0, 1 and 2 (one pipe), 3; every other
 * fd is closed, also one a library opened without O_CLOEXEC. Building them costs a
 * getrlimit per fd checked (glibc validates each descriptor), so the set of the previous
 * run is kept and used again while the pipe ends get the same numbers, which they do in the
 * steady state (the previous run's were closed). */
static struct {
	bool ready;
	int fds[3]; /* child_in, child_out, child_proto of the actions below */
	posix_spawn_file_actions_t fa;
} spawn_fa;

static int spawn_fa_get(int child_in, int child_out, int child_proto,
                        posix_spawn_file_actions_t **out)
{
	if (spawn_fa.ready && spawn_fa.fds[0] == child_in && spawn_fa.fds[1] == child_out &&
	    spawn_fa.fds[2] == child_proto) {
		*out = &spawn_fa.fa;
		return 0;
	}
	if (spawn_fa.ready) {
		posix_spawn_file_actions_destroy(&spawn_fa.fa);
		spawn_fa.ready = false;
	}
	posix_spawn_file_actions_t *fa = &spawn_fa.fa;
	int rc = posix_spawn_file_actions_init(fa);
	if (rc != 0)
		return rc;
	if ((rc = posix_spawn_file_actions_adddup2(fa, child_in, 0)) != 0 ||
	    (rc = posix_spawn_file_actions_adddup2(fa, child_out, 1)) != 0 ||
	    (rc = posix_spawn_file_actions_adddup2(fa, child_out, 2)) != 0 ||
	    (rc = posix_spawn_file_actions_adddup2(fa, child_proto, RUNPROTO_FD)) != 0 ||
	    (rc = posix_spawn_file_actions_addclosefrom_np(fa, RUNPROTO_FD + 1)) != 0) {
		posix_spawn_file_actions_destroy(fa);
		return rc;
	}
	spawn_fa.fds[0] = child_in;
	spawn_fa.fds[1] = child_out;
	spawn_fa.fds[2] = child_proto;
	spawn_fa.ready = true;
	*out = fa;
	return 0;
}

/* Starts the runner with posix_spawn (design §2: fork+exec, never fork alone; glibc clones
 * with CLONE_VM|CLONE_VFORK, so no page tables are copied, and reports a failed execve as
 * its result, having reaped the child). */
static int spawn_process(struct runner *r, const char *path, int child_in, int child_out,
                         int child_proto, char *err, size_t errlen)
{
	char *const argv[] = {(char *)path, NULL};
	posix_spawn_file_actions_t *fa = NULL;
	int rc = spawn_attr_get();
	if (rc == 0)
		rc = spawn_fa_get(child_in, child_out, child_proto, &fa);
	pid_t pid = -1;
	if (rc == 0)
		rc = posix_spawn(&pid, path, fa, &spawn_attr, argv, runner_env);
	if (rc != 0) {
		snprintf(err, errlen, "cannot start %s: %s", path, strerror(rc));
		return -1;
	}
	r->pid = pid;
	return 0;
}

static int setup_events(struct runner *r)
{
	struct event_base *b = r->base;
	if (!(r->ev_exit = event_new(b, r->pidfd, EV_READ | EV_PERSIST, on_child_exit, r)) ||
	    !(r->ev_deadline = evtimer_new(b, on_deadline, r)) ||
	    !(r->ev_kill = evtimer_new(b, on_kill, r)) ||
	    !(r->ev_drain = evtimer_new(b, on_drain_cap, r)) ||
	    !(r->ev_resume = evtimer_new(b, on_resume, r)) ||
	    !(r->ev_finish = event_new(b, -1, 0, on_finish, r)))
		return -1;
	if (event_add(r->ev_exit, NULL) != 0)
		return -1;
	if (r->timeout_s > 0) {
		struct timeval tv = {(time_t)r->timeout_s, 0};
		if (evtimer_add(r->ev_deadline, &tv) != 0)
			return -1;
	}
	return 0;
}

/* Writes the document and its "\n" to fd 0 of the runner (fd is owned from now on; still
 * blocking). A document that fits the pipe (64 KiB) goes in one writev; a longer one
 * continues through a bufferevent. */
static int setup_input(struct runner *r, int fd, struct json_object *input)
{
	size_t len;
	const char *doc = json_object_to_json_string_length(input, JSON_C_TO_STRING_PLAIN, &len);
	/* Up to PIPE_BUF bytes always fit an empty pipe (it holds at least one page), so a
	 * short document is written without the fcntl that makes the end non-blocking. */
	if (!doc || (len + 1 > PIPE_BUF && set_nonblock(fd) != 0)) {
		close(fd);
		return -1;
	}
	struct iovec iov[2] = {{(void *)doc, len}, {"\n", 1}};
	ssize_t n;
	while ((n = writev(fd, iov, 2)) < 0 && errno == EINTR)
		;
	if (n < 0 && errno != EAGAIN) {
		close(fd); /* EPIPE: the runner is gone already; its exit tells the rest */
		return 0;
	}
	size_t done = n > 0 ? (size_t)n : 0;
	if (done == len + 1) {
		close(fd);
		return 0;
	}
	if (!(r->in = bufferevent_socket_new(r->base, fd, BEV_OPT_CLOSE_ON_FREE))) {
		close(fd);
		return -1;
	}
	if ((done < len && bufferevent_write(r->in, doc + done, len - done) != 0) ||
	    bufferevent_write(r->in, "\n", 1) != 0)
		return -1;
	bufferevent_setcb(r->in, NULL, on_input_written, on_input_event, r);
	return bufferevent_enable(r->in, EV_WRITE);
}

/* Adds secret s to dst (or only counts when dst is NULL): the whole value, and when it spans
 * lines, each non-empty line of it too (a "\r" before the "\n" dropped). Output is redacted
 * line by line, so a multi-line secret (a PEM key) can only be matched piecewise there. */
static int add_secret(const char *s, char **dst, size_t *n)
{
	if (dst && !(dst[*n] = strdup(s)))
		return -1;
	++*n;
	if (!strchr(s, '\n'))
		return 0;
	for (const char *p = s; *p;) {
		size_t len = strcspn(p, "\n");
		size_t keep = len > 0 && p[len - 1] == '\r' ? len - 1 : len;
		if (keep > 0) {
			if (dst && !(dst[*n] = strndup(p, keep)))
				return -1;
			++*n;
		}
		p += len + (p[len] == '\n');
	}
	return 0;
}

/* r->redact: owned copies of the non-empty secrets and their lines, NULL-terminated. */
static int copy_secrets(struct runner *r, const char *const *redact)
{
	size_t n = 0;
	for (size_t i = 0; redact && redact[i]; i++)
		if (redact[i][0] != '\0')
			add_secret(redact[i], NULL, &n);
	if (n == 0)
		return 0;
	if (!(r->redact = calloc(n + 1, sizeof *r->redact)))
		return -1;
	n = 0;
	for (size_t i = 0; redact[i]; i++)
		if (redact[i][0] != '\0' && add_secret(redact[i], r->redact, &n) != 0)
			return -1;
	return 0;
}

int runner_start(struct event_base *base, const struct runner_params *p,
                 const struct runner_cbs *cbs, void *data, struct runner **out, char *err,
                 size_t errlen)
{
	*out = NULL;
	if (!p->path || !p->input || !cbs->done) {
		snprintf(err, errlen, "runner_start: path, input and done are required");
		return -1;
	}
	struct runner *r = calloc(1, sizeof *r);
	if (!r || copy_secrets(r, p->redact) != 0) {
		snprintf(err, errlen, "cannot start %s: out of memory", p->path);
		destroy(r);
		return -1;
	}
	r->base = base;
	r->cbs = *cbs;
	r->data = data;
	r->timeout_s = p->timeout_s;
	r->grace_s = p->grace_s;
	r->pidfd = -1;
	r->wstatus = -1;
	r->reaped = true; /* nothing to kill until the process exists */

	/* The daemon writes in[1] (made non-blocking by setup_input when needed) and reads
	 * outp[0] and proto[0]. */
	int in[2] = {-1, -1}, outp[2] = {-1, -1}, proto[2] = {-1, -1};
	if (runner_pipe(in, -1) != 0 || runner_pipe(outp, 0) != 0 || runner_pipe(proto, 0) != 0) {
		snprintf(err, errlen, "cannot start %s: pipe: %s", p->path, strerror(errno));
		goto fail_fds;
	}
	int rc = spawn_process(r, p->path, in[0], outp[1], proto[1], err, errlen);
	close_fd(&in[0]);
	close_fd(&outp[1]);
	close_fd(&proto[1]);
	if (rc != 0)
		goto fail_fds;
	r->reaped = false;
	r->pidfd = (int)syscall(SYS_pidfd_open, r->pid, 0); /* always close-on-exec */
	if (r->pidfd < 0) {
		snprintf(err, errlen, "cannot watch %s: pidfd_open: %s", p->path, strerror(errno));
		goto fail_fds;
	}
	/* Each of these takes its fd, even when it fails. */
	bool failed = setup_input(r, in[1], p->input) != 0;
	failed |= spawn_stream_open(r, &r->out, outp[0], false) != 0;
	failed |= spawn_stream_open(r, &r->proto, proto[0], true) != 0;
	if (failed || setup_events(r) != 0) {
		snprintf(err, errlen, "cannot start %s: event setup failed", p->path);
		runner_free(r);
		return -1;
	}
	*out = r;
	return 0;

fail_fds:
	for (int i = 0; i < 2; i++) {
		close_fd(&in[i]);
		close_fd(&outp[i]);
		close_fd(&proto[i]);
	}
	runner_free(r);
	return -1;
}

void runner_cancel(struct runner *r)
{
	request_stop(r, SPAWN_STOP_CANCEL);
}

void runner_kill(struct runner *r)
{
	if (r->reaped)
		return;
	if (r->stop == SPAWN_STOP_NONE)
		r->stop = SPAWN_STOP_CANCEL; /* on purpose: not a crash */
	signal_group(r, SIGKILL);
}

pid_t runner_pid(const struct runner *r)
{
	return r->pid;
}

static void free_event(struct event **ev)
{
	if (*ev) {
		event_free(*ev);
		*ev = NULL;
	}
}

static void destroy(struct runner *r)
{
	if (!r)
		return;
	input_close(r);
	spawn_stream_close(&r->out, false);
	spawn_stream_close(&r->proto, false);
	if (r->proto.tok)
		json_tokener_free(r->proto.tok);
	free_event(&r->ev_exit);
	free_event(&r->ev_deadline);
	free_event(&r->ev_kill);
	free_event(&r->ev_drain);
	free_event(&r->ev_resume);
	free_event(&r->ev_finish);
	if (r->pidfd >= 0)
		close(r->pidfd);
	for (size_t i = 0; r->redact && r->redact[i]; i++)
		free(r->redact[i]);
	free(r->redact);
	free(r->result_summary);
	free(r);
}

void runner_free(struct runner *r)
{
	if (!r)
		return;
	if (!r->reaped) {
		kill(-r->pid, SIGKILL);
		reap(r, 0);
	}
	if (r->depth > 0) {
		r->free_requested = true; /* destroyed when the callback returns */
		return;
	}
	destroy(r);
}

/* chored-run's coalesced protocol output: see run_out.h. */
#include "run_out.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Once this much waits, the caller sends it itself at once (a burst fills a pipe anyway). */
#define SEND_AT (32 * 1024)

static int out_fd = -1;
static pid_t owner; /* the runner's pid: a child a plugin forked never sends the queue */

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv;   /* on CLOCK_MONOTONIC; the sender waits on it */
static char *buf;           /* the queue; under mu (read unlocked by on_fatal only) */
static size_t len, cap;     /* under mu */
static struct timespec due; /* when the queue's oldest record must leave; under mu */
static bool sender_up;      /* the sender thread runs; else every line is sent at once */

/* The fatal signals whose default action would drop the queue with the process. */
static const int fatal_signals[] = {SIGTERM, SIGINT,  SIGHUP,  SIGALRM, SIGSEGV, SIGBUS, SIGILL,
                                    SIGFPE,  SIGABRT, SIGTRAP, SIGSYS,  SIGXCPU, SIGXFSZ};

static bool write_all(const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(out_fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		p += w;
		n -= (size_t)w;
	}
	return true;
}

/* Sends the queue; mu held. */
static bool send_locked(void)
{
	bool ok = len == 0 || write_all(buf, len);
	len = 0;
	return ok;
}

static void *sender(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&mu);
	for (;;) {
		while (len == 0)
			pthread_cond_wait(&cv, &mu);
		/* Until the oldest record's delay is up, unless someone sent the queue first. */
		while (len > 0 && pthread_cond_timedwait(&cv, &mu, &due) != ETIMEDOUT)
			;
		send_locked();
	}
	return NULL;
}

/* A crash: the queue goes out first (best effort: no lock in a signal handler; write is
 * async-signal-safe), then the signal's default action ends the process as it would have. */
static void on_fatal(int sig)
{
	/* Only with the lock: a sender blocked mid-write, or a realloc in progress, would
	 * otherwise make us send part of the queue twice, or freed memory. */
	if (getpid() == owner && pthread_mutex_trylock(&mu) == 0) {
		if (buf && len)
			write_all(buf, len);
		pthread_mutex_unlock(&mu);
	}
	raise(sig); /* SA_RESETHAND: the default action now */
}

static void at_exit(void)
{
	if (getpid() != owner)
		return;
	pthread_mutex_lock(&mu);
	send_locked();
	pthread_mutex_unlock(&mu);
}

/* fork() in a plugin: the child gets neither the sender thread nor the parent's queue (the
 * parent sends that), and a usable lock; its records, if any, go out at once. */
static void fork_prepare(void)
{
	pthread_mutex_lock(&mu);
}

static void fork_parent(void)
{
	pthread_mutex_unlock(&mu);
}

static void fork_child(void)
{
	len = 0;
	sender_up = false;
	pthread_mutex_unlock(&mu);
}

static void start_sender(void)
{
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&cv, &ca);
	pthread_condattr_destroy(&ca);
	/* Signals (SIGTERM: the plugin's cancel) stay with the threads that ran before. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	pthread_t t;
	pthread_attr_t a;
	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&a, 256 * 1024); /* virtual; ample under sanitizers */
	sender_up = pthread_create(&t, &a, sender, NULL) == 0;
	pthread_attr_destroy(&a);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

void run_out_init(int fd)
{
	out_fd = fd;
	owner = getpid();
	struct sigaction sa = {.sa_handler = on_fatal, .sa_flags = SA_RESETHAND | SA_NODEFER};
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof fatal_signals / sizeof fatal_signals[0]; i++)
		sigaction(fatal_signals[i], &sa, NULL);
	atexit(at_exit);
	pthread_atfork(fork_prepare, fork_parent, fork_child);
	start_sender();
}

void run_out_line(const char *line, size_t n)
{
	pthread_mutex_lock(&mu);
	if (len + n > cap) {
		size_t want = len + n > 2 * cap ? len + n : 2 * cap;
		char *grown = realloc(buf, want);
		if (!grown) { /* out of memory: this line goes on its own, after the queue */
			send_locked();
			write_all(line, n);
			pthread_mutex_unlock(&mu);
			return;
		}
		buf = grown;
		cap = want;
	}
	bool first = len == 0;
	if (first) {
		clock_gettime(CLOCK_MONOTONIC, &due);
		due.tv_nsec += RUN_OUT_DELAY_MS * 1000000L;
		if (due.tv_nsec >= 1000000000L) {
			due.tv_sec++;
			due.tv_nsec -= 1000000000L;
		}
	}
	memcpy(buf + len, line, n);
	len += n; /* after the copy: on_fatal sends whole lines only */
	if (!sender_up || len >= SEND_AT)
		send_locked();
	else if (first)
		pthread_cond_signal(&cv);
	pthread_mutex_unlock(&mu);
}

bool run_out_flush(void)
{
	pthread_mutex_lock(&mu);
	bool ok = send_locked();
	pthread_mutex_unlock(&mu);
	return ok;
}

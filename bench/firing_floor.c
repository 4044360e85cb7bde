/* The machine's floor under bench_firing's "daemon CPU per run": the least that any daemon
 * starting each run in a fresh process pays per run on this machine, with none of chored's
 * own work. Each cycle is one wake-up of a 1-second CLOCK_REALTIME timerfd on epoll, one
 * posix_spawn of chored-run (own process group, empty signal mask; stdin, stdout and stderr
 * on /dev/null, so it exits at once complaining of an empty input) and its exit seen through
 * a pidfd on the same epoll, then reaped. No store, no pipes, no protocol, no log line.
 * The figure is this process's CPU time (user + system, CLOCK_PROCESS_CPUTIME_ID) from one
 * timer wake-up to the next, so the wake-ups' own cost is in it, as in the daemon's. */
#include "firing_floor.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_harness.h"
#include "bench_util.h"

extern char **environ;

static int64_t process_cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Waits for one event on ep; its fd, or -1. */
static int wait_one(int ep)
{
	struct epoll_event ev;
	int n;
	while ((n = epoll_wait(ep, &ev, 1, 5000)) < 0 && errno == EINTR)
		;
	return n == 1 ? ev.data.fd : -1;
}

/* One spawn of `runner` and the wait for its exit; 0 or -1. */
static int spawn_and_reap(int ep, const char *runner, posix_spawn_file_actions_t *fa,
                          posix_spawnattr_t *attr)
{
	char *argv[] = {(char *)runner, NULL};
	pid_t pid;
	if (posix_spawn(&pid, runner, fa, attr, argv, environ) != 0)
		return -1;
	int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = pfd};
	int rc =
	    pfd >= 0 && epoll_ctl(ep, EPOLL_CTL_ADD, pfd, &ev) == 0 && wait_one(ep) == pfd ? 0 : -1;
	if (pfd >= 0) {
		epoll_ctl(ep, EPOLL_CTL_DEL, pfd, NULL);
		close(pfd);
	}
	siginfo_t si;
	waitid(P_PID, (id_t)pid, &si, WEXITED);
	return rc;
}

int firing_floor(long cycles, double *median_ms)
{
	char runner[4096];
	bh_runner_path(runner, sizeof runner);
	int ep = epoll_create1(EPOLL_CLOEXEC);
	int tfd = timerfd_create(CLOCK_REALTIME, TFD_CLOEXEC);
	double *per = calloc((size_t)cycles, sizeof *per);
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&attr);
	sigset_t none;
	sigemptyset(&none);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, 1, 2);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK);
	struct itimerspec its = {.it_interval = {1, 0}, .it_value = {1, 0}};
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = tfd};
	int rc = -1;
	if (ep < 0 || tfd < 0 || !per || timerfd_settime(tfd, 0, &its, NULL) != 0 ||
	    epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &ev) != 0)
		goto out;
	int64_t mark = -1;
	long n = 0;
	while (n < cycles) {
		if (wait_one(ep) != tfd)
			goto out;
		uint64_t ticks;
		if (read(tfd, &ticks, sizeof ticks) != (ssize_t)sizeof ticks)
			goto out;
		int64_t now = process_cpu_ns();
		if (mark >= 0)
			per[n++] = (double)(now - mark) / 1e6;
		mark = now;
		if (spawn_and_reap(ep, runner, &fa, &attr) != 0) {
			fprintf(stderr, "bench_firing: cannot spawn %s for the floor\n", runner);
			goto out;
		}
	}
	bh_sort(per, (size_t)n);
	*median_ms = bench_median(per, (size_t)n);
	rc = 0;
out:
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	free(per);
	if (tfd >= 0)
		close(tfd);
	if (ep >= 0)
		close(ep);
	return rc;
}

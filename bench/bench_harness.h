/* What the runtime benchmarks share: a scratch directory, the real daemon started in the
 * foreground with its JSON log (stderr) on a pipe we read line by line, a tiny HTTP client
 * for the control socket, and readers for the /proc figures (CPU time, context switches,
 * RSS). Every failure here is fatal for the benchmark: it prints why and exits 1. */
#ifndef CHORED_BENCH_HARNESS_H
#define CHORED_BENCH_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Build tree root: $CHORED_BENCH_BUILDDIR, else the one compiled in (BENCH_TOP_BUILDDIR). */
const char *bh_builddir(void);
/* out = builddir/rel. */
void bh_build_path(char *out, size_t n, const char *rel);
/* The runner the daemon should start: $CHORED_RUNNER, else the build tree's
 * daemon/chored-run-uninstalled (a real binary; daemon/chored-run there is a libtool wrapper
 * script whose shell start-up would distort the start lag), else daemon/chored-run. */
void bh_runner_path(char *out, size_t n);
/* Prints "machine: N CPUs, load average A B C" — figures taken on a busy machine mean
 * little. */
void bh_print_machine(void);
/* Integer from the environment, def when unset; exits on garbage or a value < min. */
long bh_env_long(const char *name, long def, long min);
/* A new directory /tmp/chored-bench-TAG.XXXXXX (malloc'd; free after bh_rmtree). */
char *bh_tmpdir(const char *tag);
void bh_rmtree(const char *dir);
/* Writes `text` to dir/rel atomically (temp file + rename), mode 0644. */
void bh_write_file(const char *dir, const char *rel, const char *text);
/* Writes the [daemon] section every bench uses (state, plugin_dir, socket in `dir`, no admin
 * listener) followed by `extra`, as dir/chored.conf. */
void bh_write_main_conf(const char *dir, const char *extra);

/* Wall clock (CLOCK_REALTIME) in ns: for comparing with nominal slot times. */
int64_t bh_wall_ns(void);

/* One running daemon. */
struct bh_daemon {
	pid_t pid;
	int err_fd; /* read end of its stderr */
	char sock[4096];
	char *buf; /* partial-line buffer (owned) */
	size_t len, cap;
	char *line;     /* the line bh_read_line returned last (inside buf until the next call) */
	size_t n_lines; /* lines read so far */
	bool eof;
};

/* Starts BUILDDIR/daemon/chored -c dir/chored.conf --log-format=json, foreground, with its
 * stderr on a pipe, stdin on /dev/null, CHORED_RUNNER = bh_runner_path() and no systemd
 * variables in its environment. */
void bh_start(struct bh_daemon *d, const char *dir);
/* The next complete log line (NUL-terminated, valid until the next call), or NULL when the
 * deadline (CLOCK_MONOTONIC ns) passed or the daemon closed stderr. *read_ns, when not NULL,
 * is the monotonic instant the line was read. */
const char *bh_read_line(struct bh_daemon *d, int64_t deadline_ns, int64_t *read_ns);
/* Reads (and discards) log lines until GET /healthz answers 200; exits with the daemon's
 * last lines when it dies or timeout_s passes. Returns the seconds it took. */
double bh_wait_ready(struct bh_daemon *d, double timeout_s);
/* SIGTERM, drain its log, reap it (SIGKILL after 30 s). Returns its wait status. */
int bh_stop(struct bh_daemon *d);

/* One HTTP/1.1 request over the unix socket `sock` (Connection: close). Returns the status
 * code and copies the body into body (NUL-terminated, cut at n-1), or -1 when it could not
 * connect or the answer is not HTTP. */
int bh_http(const char *sock, const char *method, const char *path, const char *json_body,
            char *body, size_t n);

/* CPU time (user + system, every thread) of `pid` in ns: the sum of /proc/PID/task/
 * (*)/schedstat run times (ns resolution), or -1 when unreadable. */
int64_t bh_cpu_ns(pid_t pid);
/* Same from /proc/PID/stat utime + stime (clock-tick resolution), or -1. */
int64_t bh_cpu_ticks_ns(pid_t pid);
/* Voluntary + nonvoluntary context switches summed over every thread of pid; *threads gets
 * the thread count. -1 when unreadable. */
int64_t bh_ctxt_switches(pid_t pid, int *threads);
/* A "VmRSS:"-style field of /proc/PID/status in KiB, or -1. */
long bh_status_kb(pid_t pid, const char *field);

/* Nearest-rank percentile (0 < p <= 100) of v[0..n-1], which must be sorted ascending. */
double bh_percentile(const double *sorted, size_t n, double p);
/* Sorts v ascending in place. */
void bh_sort(double *v, size_t n);
/* "" when value <= target, else " MISSED". */
const char *bh_missed(double value, double target);

#endif

/* The floor under the daemon's start lag (issue 7): what posix_spawn costs before a run's
 * code executes, measured here without the daemon, CLOCK_MONOTONIC, 200 spawns each.
 *  1. posix_spawn → main(): the child's first byte on a pipe. bench_plain (libc only) writes
 *     one byte at the top of main(); chored-run, given an empty input on fd 0, writes its
 *     complaint at once — the same handshake after its dynamic loading (libchored, json-c,
 *     libcurl, libcrypto…), which is the part the issue quotes (6.4 ms vs 0.5 ms).
 *  2. posix_spawn → plugin run() entered: chored-run with a real input document (testplug,
 *     mode=ok); the "started" record's mono_ns minus the instant before posix_spawn. This is
 *     what a scheduled run pays at best; the daemon's start_lag_us adds its own share. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>

#include "bench_harness.h"
#include "bench_util.h"

#define SPAWNS 200
#define WARMUP 5

extern char **environ;

/* posix_spawn → first byte (or EOF) on the child's fds 1, 2 and 3; then reaps it. Returns
 * ms; *saw_byte tells which. */
static double spawn_to_first_byte(const char *exe, bool *saw_byte)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) != 0) {
		perror("pipe");
		exit(1);
	}
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	for (int fd = 1; fd <= 3; fd++)
		posix_spawn_file_actions_adddup2(&fa, p[1], fd);
	char *argv[] = {(char *)exe, NULL};
	pid_t pid;
	int64_t t0 = bench_now_ns();
	int rc = posix_spawn(&pid, exe, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(p[1]);
	if (rc != 0) {
		fprintf(stderr, "bench_spawn: %s: %s\n", exe, strerror(rc));
		exit(1);
	}
	char c;
	ssize_t got;
	while ((got = read(p[0], &c, 1)) < 0 && errno == EINTR)
		;
	int64_t t1 = bench_now_ns();
	*saw_byte = got == 1;
	char sink[4096];
	while (read(p[0], sink, sizeof sink) > 0)
		;
	close(p[0]);
	waitpid(pid, NULL, 0);
	return (double)(t1 - t0) / 1e6;
}

/* Reads fd until the "started" record; returns its mono_ns, or -1 at EOF. Keeps reading
 * (into the void) after it, so the runner never blocks on a full pipe. */
static int64_t read_started(int fd3, int fdout)
{
	char buf[65536];
	size_t len = 0;
	int64_t mono = -1;
	struct pollfd pfd[2] = {{.fd = fd3, .events = POLLIN}, {.fd = fdout, .events = POLLIN}};
	while (pfd[0].fd >= 0 || pfd[1].fd >= 0) {
		if (poll(pfd, 2, 10000) <= 0) {
			fprintf(stderr, "bench_spawn: chored-run silent for 10 s\n");
			exit(1);
		}
		if (pfd[1].revents) {
			char sink[4096];
			if (read(fdout, sink, sizeof sink) <= 0) {
				close(fdout);
				pfd[1].fd = -1;
			}
		}
		if (!pfd[0].revents)
			continue;
		ssize_t got = read(fd3, buf + len, sizeof buf - 1 - len);
		if (got <= 0) {
			close(fd3);
			pfd[0].fd = -1;
			continue;
		}
		len += (size_t)got;
		buf[len] = '\0';
		char *nl;
		while (mono < 0 && (nl = strchr(buf, '\n')) != NULL) {
			*nl = '\0';
			json_object *rec = json_tokener_parse(buf), *t, *ns;
			if (rec && json_object_object_get_ex(rec, "t", &t) &&
			    strcmp(json_object_get_string(t), "started") == 0 &&
			    json_object_object_get_ex(rec, "mono_ns", &ns))
				mono = json_object_get_int64(ns);
			json_object_put(rec);
			len -= (size_t)(nl + 1 - buf);
			memmove(buf, nl + 1, len + 1);
		}
		if (len > sizeof buf / 2)
			len = 0; /* records after "started" do not matter */
	}
	return mono;
}

/* One run of testplug through chored-run: ms from posix_spawn to run() entered, and to
 * the runner's exit (*total_ms). */
static double spawn_to_run(const char *exe, const char *doc, double *total_ms)
{
	int in[2], out[2], proto[2];
	if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(proto, O_CLOEXEC)) {
		perror("pipe");
		exit(1);
	}
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn_file_actions_adddup2(&fa, out[1], 2);
	posix_spawn_file_actions_adddup2(&fa, proto[1], 3);
	char *argv[] = {(char *)exe, NULL};
	pid_t pid;
	int64_t t0 = bench_now_ns();
	int rc = posix_spawn(&pid, exe, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(in[0]);
	close(out[1]);
	close(proto[1]);
	if (rc != 0) {
		fprintf(stderr, "bench_spawn: %s: %s\n", exe, strerror(rc));
		exit(1);
	}
	size_t len = strlen(doc);
	if (write(in[1], doc, len) != (ssize_t)len) {
		perror("bench_spawn: writing the input document");
		exit(1);
	}
	close(in[1]);
	int64_t mono = read_started(proto[0], out[0]);
	int status;
	waitpid(pid, &status, 0);
	int64_t t2 = bench_now_ns();
	if (mono < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr,
		        "bench_spawn: chored-run did not run testplug (%s, status %#x); "
		        "is tests/plugins/stage/testplug.so built?\n",
		        mono < 0 ? "no started record" : "bad exit", status);
		exit(1);
	}
	*total_ms = (double)(t2 - t0) / 1e6;
	return (double)(mono - t0) / 1e6;
}

static void report(const char *what, double *ms, size_t n)
{
	bh_sort(ms, n);
	printf("%s: median %.3f ms, p99 %.3f ms (%zu spawns)\n", what, bench_median(ms, n),
	       bh_percentile(ms, n, 99), n);
}

int main(void)
{
	char plain[4096], runner[4096], plug[4096];
	bh_build_path(plain, sizeof plain, "bench/bench_plain");
	bh_runner_path(runner, sizeof runner);
	bh_build_path(plug, sizeof plug, "tests/plugins/stage/testplug.so");
	if (access(plain, X_OK) || access(runner, X_OK)) {
		fprintf(stderr, "bench_spawn: %s or %s is not built\n", plain, runner);
		return 1;
	}
	bh_print_machine();
	fflush(stdout);
	static double a[SPAWNS], b[SPAWNS], r[SPAWNS], rt[SPAWNS];
	bool byte_plain = true, byte_runner = true, saw;
	/* Interleaved, so both programs see the same machine load. */
	for (int i = -WARMUP; i < SPAWNS; i++) {
		double x = spawn_to_first_byte(plain, &saw);
		byte_plain &= saw;
		double y = spawn_to_first_byte(runner, &saw);
		byte_runner &= saw;
		if (i >= 0)
			a[i] = x, b[i] = y;
	}
	printf("posix_spawn -> main() (first byte on a pipe), CLOCK_MONOTONIC:\n");
	report("  plain C program (libc only)  ", a, SPAWNS);
	report(byte_runner ? "  chored-run (its libraries)   " : "  chored-run (to exit: no byte)",
	       b, SPAWNS);
	printf("  runner: %s\n", runner);
	if (!byte_plain)
		printf("  (bench_plain wrote nothing: its figure is spawn -> exit)\n");
	printf("  dynamic loading share of chored-run: %.3f ms\n",
	       bench_median(b, SPAWNS) - bench_median(a, SPAWNS));

	if (access(plug, R_OK) != 0) {
		printf("posix_spawn -> plugin run(): skipped, %s is not built\n", plug);
		return 0;
	}
	char doc[8192];
	snprintf(doc, sizeof doc,
	         "{\"plugin\":\"%s\",\"job\":\"bench\",\"run_id\":\"1\",\"nominal\":%lld,"
	         "\"dry_run\":false,\"options\":{\"mode\":\"ok\"},\"redact\":[],\"state\":{}}",
	         plug, (long long)(bh_wall_ns() / 1000000000));
	for (int i = -WARMUP; i < SPAWNS; i++) {
		double total, x = spawn_to_run(runner, doc, &total);
		if (i >= 0)
			r[i] = x, rt[i] = total;
	}
	printf("chored-run with testplug (mode=ok), input on fd 0, records on fd 3:\n");
	report("  posix_spawn -> plugin run() entered", r, SPAWNS);
	report("  posix_spawn -> runner exited       ", rt, SPAWNS);
	printf("  the daemon's start lag target is 10 ms median, 20 ms p99 (see bench_firing); "
	       "this runner floor is %.2fx the median target%s\n",
	       bench_median(r, SPAWNS) / 10.0, bh_missed(bench_median(r, SPAWNS), 10.0));
	return 0;
}

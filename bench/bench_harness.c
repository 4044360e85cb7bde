/* Shared plumbing of the runtime benchmarks (see bench_harness.h). */
#include "bench_harness.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"

#ifndef BENCH_TOP_BUILDDIR
#define BENCH_TOP_BUILDDIR "."
#endif

extern char **environ;

__attribute__((format(printf, 1, 2), noreturn)) static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "bench: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

const char *bh_builddir(void)
{
	const char *env = getenv("CHORED_BENCH_BUILDDIR");
	return env && *env ? env : BENCH_TOP_BUILDDIR;
}

void bh_build_path(char *out, size_t n, const char *rel)
{
	if ((size_t)snprintf(out, n, "%s/%s", bh_builddir(), rel) >= n)
		die("path too long: %s", rel);
}

void bh_runner_path(char *out, size_t n)
{
	const char *env = getenv("CHORED_RUNNER");
	if (env && *env) {
		snprintf(out, n, "%s", env);
		return;
	}
	bh_build_path(out, n, "daemon/chored-run-uninstalled");
	if (access(out, X_OK) != 0)
		bh_build_path(out, n, "daemon/chored-run");
}

void bh_print_machine(void)
{
	char load[128] = "?";
	FILE *f = fopen("/proc/loadavg", "r");
	if (f) {
		if (!fgets(load, sizeof load, f))
			snprintf(load, sizeof load, "?");
		fclose(f);
	}
	load[strcspn(load, "\n")] = '\0';
	printf("machine: %ld CPUs online, /proc/loadavg %s\n", sysconf(_SC_NPROCESSORS_ONLN), load);
}

long bh_env_long(const char *name, long def, long min)
{
	const char *v = getenv(name);
	if (!v || !*v)
		return def;
	char *end;
	errno = 0;
	long x = strtol(v, &end, 10);
	if (errno || *end || x < min) {
		fprintf(stderr, "bench: %s=%s: expected an integer >= %ld\n", name, v, min);
		exit(1);
	}
	return x;
}

char *bh_tmpdir(const char *tag)
{
	char *dir = malloc(strlen(tag) + 32);
	if (!dir)
		die("%s", "out of memory");
	sprintf(dir, "/tmp/chored-bench-%s.XXXXXX", tag);
	if (!mkdtemp(dir))
		die("mkdtemp: %s", strerror(errno));
	return dir;
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st, (void)flag, (void)f;
	return remove(p);
}

void bh_rmtree(const char *dir)
{
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

void bh_write_file(const char *dir, const char *rel, const char *text)
{
	char path[4096], tmp[4200];
	snprintf(path, sizeof path, "%s/%s", dir, rel);
	/* Named with a leading dot inside the same directory: never read as a drop-in. */
	const char *slash = strrchr(path, '/');
	snprintf(tmp, sizeof tmp, "%.*s/.tmp-%s", (int)(slash - path), path, slash + 1);
	FILE *f = fopen(tmp, "w");
	if (!f)
		die("cannot write %s", tmp);
	size_t len = strlen(text);
	if (fwrite(text, 1, len, f) != len || fclose(f) != 0)
		die("cannot write %s", tmp);
	chmod(tmp, 0644);
	if (rename(tmp, path) != 0)
		die("cannot rename to %s", path);
}

void bh_write_main_conf(const char *dir, const char *extra)
{
	char plugins[4096];
	bh_build_path(plugins, sizeof plugins, "tests/plugins/stage");
	size_t n = strlen(extra) + 3 * 4096 + 256;
	char *text = malloc(n);
	if (!text)
		die("%s", "out of memory");
	snprintf(text, n,
	         "[daemon]\n"
	         "state = sqlite://%s/state.db\n"
	         "plugin_dir = %s\n"
	         "socket = %s/chored.sock\n"
	         "listen =\n"
	         "timezone = UTC\n"
	         "\n%s",
	         dir, plugins, dir, extra);
	bh_write_file(dir, "chored.conf", text);
	free(text);
}

int64_t bh_wall_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void bh_start(struct bh_daemon *d, const char *dir)
{
	memset(d, 0, sizeof *d);
	char exe[4096], conf[4096];
	bh_build_path(exe, sizeof exe, "daemon/chored");
	snprintf(conf, sizeof conf, "%s/chored.conf", dir);
	snprintf(d->sock, sizeof d->sock, "%s/chored.sock", dir);
	if (access(exe, X_OK) != 0)
		die("%s is not built: run make first", exe);
	/* A daemon under a service manager would talk to it; this one must not. */
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	unsetenv("LISTEN_FDS");
	char runner[4096];
	bh_runner_path(runner, sizeof runner);
	setenv("CHORED_RUNNER", runner, 1);
	int p[2];
	if (pipe2(p, O_CLOEXEC) != 0)
		die("pipe: %s", strerror(errno));
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, p[1], 2);
	char *argv[] = {exe, "-c", conf, "--log-format=json", NULL};
	int rc = posix_spawn(&d->pid, exe, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(p[1]);
	if (rc != 0)
		die("cannot start chored: %s", strerror(rc));
	d->err_fd = p[0];
	d->cap = 1 << 16;
	d->buf = malloc(d->cap);
	if (!d->buf)
		die("%s", "out of memory");
}

/* Removes the line returned last from the front of the buffer. */
static void consume_last(struct bh_daemon *d)
{
	if (!d->line)
		return;
	size_t used = strlen(d->line) + 1;
	memmove(d->buf, d->buf + used, d->len - used);
	d->len -= used;
	d->line = NULL;
}

const char *bh_read_line(struct bh_daemon *d, int64_t deadline_ns, int64_t *read_ns)
{
	consume_last(d);
	for (;;) {
		char *nl = memchr(d->buf, '\n', d->len);
		if (nl) {
			*nl = '\0';
			d->line = d->buf;
			d->n_lines++;
			if (read_ns)
				*read_ns = bench_now_ns();
			return d->line;
		}
		if (d->eof)
			return NULL;
		int64_t left = deadline_ns - bench_now_ns();
		if (left <= 0)
			return NULL;
		struct pollfd pfd = {.fd = d->err_fd, .events = POLLIN};
		int ms = (int)((left + 999999) / 1000000);
		int r = poll(&pfd, 1, ms);
		if (r < 0 && errno != EINTR)
			die("poll: %s", strerror(errno));
		if (r <= 0)
			continue;
		if (d->len + 4096 > d->cap) {
			d->cap *= 2;
			d->buf = realloc(d->buf, d->cap);
			if (!d->buf)
				die("%s", "out of memory");
		}
		ssize_t got = read(d->err_fd, d->buf + d->len, d->cap - d->len - 1);
		if (got < 0 && errno != EINTR)
			die("read: %s", strerror(errno));
		if (got == 0) {
			d->eof = true;
			if (d->len > 0 && d->buf[d->len - 1] != '\n')
				d->buf[d->len++] = '\n'; /* last line without its newline */
		}
		if (got > 0)
			d->len += (size_t)got;
	}
}

double bh_wait_ready(struct bh_daemon *d, double timeout_s)
{
	int64_t t0 = bench_now_ns();
	int64_t deadline = t0 + (int64_t)(timeout_s * 1e9);
	char last[8][512] = {{0}};
	unsigned n = 0;
	for (;;) {
		const char *line;
		while ((line = bh_read_line(d, bench_now_ns() + 20000000, NULL)) != NULL)
			snprintf(last[n++ % 8], sizeof last[0], "%s", line);
		char body[256];
		if (bh_http(d->sock, "GET", "/healthz", NULL, body, sizeof body) == 200)
			return (double)(bench_now_ns() - t0) / 1e9;
		int status;
		bool dead = d->eof || waitpid(d->pid, &status, WNOHANG) == d->pid;
		if (dead || bench_now_ns() > deadline) {
			fprintf(stderr, "bench: chored %s; its last log lines:\n",
			        dead ? "exited before answering GET /healthz"
			             : "did not answer GET /healthz in time");
			for (unsigned i = n > 8 ? n - 8 : 0; i < n; i++)
				fprintf(stderr, "  %s\n", last[i % 8]);
			if (!dead)
				kill(d->pid, SIGKILL);
			exit(1);
		}
	}
}

int bh_stop(struct bh_daemon *d)
{
	kill(d->pid, SIGTERM);
	int64_t deadline = bench_now_ns() + INT64_C(30000000000);
	while (bh_read_line(d, deadline, NULL))
		;
	if (!d->eof)
		kill(d->pid, SIGKILL);
	int status = 0;
	while (waitpid(d->pid, &status, 0) < 0 && errno == EINTR)
		;
	close(d->err_fd);
	free(d->buf);
	d->buf = NULL;
	return status;
}

int bh_http(const char *sock, const char *method, const char *path, const char *json_body,
            char *body, size_t n)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", sock);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
		close(fd);
		return -1;
	}
	char req[1024];
	size_t blen = json_body ? strlen(json_body) : 0;
	int rl = snprintf(req, sizeof req,
	                  "%s %s HTTP/1.1\r\nHost: chored\r\nConnection: close\r\n"
	                  "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
	                  method, path, blen);
	if (write(fd, req, (size_t)rl) != rl ||
	    (blen && write(fd, json_body, blen) != (ssize_t)blen)) {
		close(fd);
		return -1;
	}
	char resp[65536];
	size_t len = 0;
	ssize_t got;
	while (len < sizeof resp - 1 && ((got = read(fd, resp + len, sizeof resp - 1 - len)) > 0 ||
	                                 (got < 0 && errno == EINTR)))
		if (got > 0)
			len += (size_t)got;
	close(fd);
	resp[len] = '\0';
	int status;
	if (sscanf(resp, "HTTP/1.%*d %d", &status) != 1)
		return -1;
	const char *b = strstr(resp, "\r\n\r\n");
	if (body && n)
		snprintf(body, n, "%s", b ? b + 4 : "");
	return status;
}

/* Calls fn(path of /proc/PID/task/TID, acc) for each thread of pid; returns the thread
 * count, or -1 when the process is gone. */
static int each_task(pid_t pid, void (*fn)(const char *task, int64_t *acc), int64_t *acc)
{
	char dir[64];
	snprintf(dir, sizeof dir, "/proc/%d/task", (int)pid);
	DIR *dp = opendir(dir);
	if (!dp)
		return -1;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(dp)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		char task[512];
		snprintf(task, sizeof task, "%s/%s", dir, e->d_name);
		fn(task, acc);
		n++;
	}
	closedir(dp);
	return n;
}

static void add_schedstat(const char *task, int64_t *acc)
{
	char path[600];
	snprintf(path, sizeof path, "%s/schedstat", task);
	FILE *f = fopen(path, "r");
	long long run_ns;
	if (!f || fscanf(f, "%lld", &run_ns) != 1)
		*acc = INT64_MIN / 2; /* poisons the sum: unreadable */
	else
		*acc += run_ns;
	if (f)
		fclose(f);
}

int64_t bh_cpu_ns(pid_t pid)
{
	int64_t acc = 0;
	if (each_task(pid, add_schedstat, &acc) < 0 || acc < 0)
		return -1;
	return acc;
}

int64_t bh_cpu_ticks_ns(pid_t pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	size_t len = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[len] = '\0';
	/* Fields after the command name, which may hold spaces: from the last ')'. */
	const char *p = strrchr(buf, ')');
	unsigned long long ut, st;
	if (!p ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
		return -1;
	return (int64_t)(ut + st) * (1000000000 / sysconf(_SC_CLK_TCK));
}

static void add_ctxt(const char *task, int64_t *acc)
{
	char path[600], line[256];
	snprintf(path, sizeof path, "%s/status", task);
	FILE *f = fopen(path, "r");
	if (!f)
		return; /* thread gone between readdir and open */
	while (fgets(line, sizeof line, f)) {
		long long v;
		if (sscanf(line, "voluntary_ctxt_switches: %lld", &v) == 1 ||
		    sscanf(line, "nonvoluntary_ctxt_switches: %lld", &v) == 1)
			*acc += v;
	}
	fclose(f);
}

int64_t bh_ctxt_switches(pid_t pid, int *threads)
{
	int64_t acc = 0;
	int n = each_task(pid, add_ctxt, &acc);
	if (threads)
		*threads = n;
	return n < 0 ? -1 : acc;
}

long bh_status_kb(pid_t pid, const char *field)
{
	char path[64], line[256];
	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	long kb = -1;
	size_t flen = strlen(field);
	while (fgets(line, sizeof line, f))
		if (strncmp(line, field, flen) == 0) {
			kb = strtol(line + flen, NULL, 10);
			break;
		}
	fclose(f);
	return kb;
}

double bh_percentile(const double *sorted, size_t n, double p)
{
	if (n == 0)
		return 0;
	double r = p / 100.0 * (double)n;
	size_t rank = (size_t)r;
	if ((double)rank < r)
		rank++; /* ceil */
	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return sorted[rank - 1];
}

void bh_sort(double *v, size_t n)
{
	qsort(v, n, sizeof *v, bench_cmp_double);
}

const char *bh_missed(double value, double target)
{
	return value <= target ? "" : " MISSED";
}

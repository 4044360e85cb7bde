/* Stands in for chored-run in tests/unit/test_spawn.c: speaks the runner side of
 * daemon/runproto.h with a behaviour chosen by the input document's "mode" member. Plain libc
 * (no json-c) so that its start-up cost is the floor of posix_spawn → main().
 *
 * Input members used: "mode" (below), "secret" (print-secret, cut-secret).
 * Every mode reads fd 0 to EOF first, then sends "started" with the instant main() began. */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static FILE *proto; /* fd 3 */

static int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The n0 bytes of head, then fd up to EOF. */
static char *read_all(int fd, const char *head, size_t n0, size_t *len)
{
	size_t cap = 65536, n = n0;
	char *buf = malloc(cap + 1);
	if (buf)
		memcpy(buf, head, n0);
	for (;;) {
		if (!buf)
			exit(70);
		if (n == cap) {
			cap *= 2;
			buf = realloc(buf, cap + 1);
			continue;
		}
		ssize_t got = read(fd, buf + n, cap - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		n += (size_t)got;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* The string value of "key" in a PLAIN json-c document (test values carry no escape but
 * \r and \n, and no quote). */
static char *member(const char *doc, const char *key)
{
	char pat[64];
	snprintf(pat, sizeof pat, "\"%s\":\"", key);
	const char *p = strstr(doc, pat);
	if (!p)
		return strdup("");
	p += strlen(pat);
	const char *e = strchr(p, '"');
	char *v = strndup(p, e ? (size_t)(e - p) : strlen(p));
	char *w = v;
	for (const char *r = v; *r; r++) {
		if (r[0] == '\\' && (r[1] == 'n' || r[1] == 'r')) {
			*w++ = r[1] == 'n' ? '\n' : '\r';
			r++;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
	return v;
}

/* s as the inside of a JSON string (test values need only \r and \n escaped). */
static char *json_escape(const char *s)
{
	char *out = malloc(2 * strlen(s) + 1), *w = out;
	for (; out && *s; s++) {
		if (*s == '\n' || *s == '\r') {
			*w++ = '\\';
			*w++ = *s == '\n' ? 'n' : 'r';
		} else {
			*w++ = *s;
		}
	}
	if (out)
		*w = '\0';
	return out;
}

static void rec(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void rec(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfprintf(proto, fmt, ap);
	va_end(ap);
	fputc('\n', proto);
	fflush(proto);
}

static void result_ok(const char *summary)
{
	rec("{\"t\":\"result\",\"status\":\"ok\",\"summary\":\"%s\"}", summary);
}

static void forever(void)
{
	for (;;)
		pause();
}

/* FNV-1a: the test checks the runner received the input byte for byte. */
static uint64_t fnv1a(const char *s, size_t n)
{
	uint64_t h = UINT64_C(14695981039346656037);
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= UINT64_C(1099511628211);
	}
	return h;
}

int main(void)
{
	int64_t t0 = mono_ns();
	proto = fdopen(3, "w");
	if (!proto)
		return 71;
	/* no-read: leaves at once, its input unread (the daemon's write fails with EPIPE). */
	char head[32];
	ssize_t hn = read(0, head, sizeof head - 1);
	head[hn > 0 ? hn : 0] = '\0';
	static const char no_read[] = "{\"mode\":\"no-read\"";
	if (strncmp(head, no_read, sizeof no_read - 1) == 0)
		return 5;
	size_t len;
	char *doc = read_all(0, head, hn > 0 ? (size_t)hn : 0, &len);
	char *mode = member(doc, "mode");
	/* Signal set-up comes before "started": the test may signal as soon as it sees it. */
	sigset_t term;
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	if (strcmp(mode, "ignore-term") == 0)
		signal(SIGTERM, SIG_IGN);
	else if (strcmp(mode, "late-result") == 0)
		sigprocmask(SIG_BLOCK, &term, NULL);
	rec("{\"t\":\"started\",\"mono_ns\":%lld}", (long long)t0);
	setvbuf(stdout, NULL, _IOFBF, 1 << 16);

	if (strcmp(mode, "ok") == 0) {
		printf("hello from the plugin\n");
		rec("{\"t\":\"log\",\"level\":6,\"msg\":\"one\",\"fields\":{\"k\":\"v\"}}");
		rec("{\"t\":\"progress\",\"done\":1,\"total\":3}");
		rec("{\"t\":\"counter\",\"name\":\"pages\",\"delta\":2}");
		rec("{\"t\":\"log\",\"level\":6,\"msg\":\"two\"}");
		rec("{\"t\":\"state\",\"key\":\"cursor\",\"value\":\"c1\"}");
		rec("{\"t\":\"summary\",\"text\":\"three\"}");
		fflush(stdout);
		result_ok("all good");
	} else if (strcmp(mode, "partial") == 0) {
		rec("{\"t\":\"result\",\"status\":\"partial\",\"summary\":\"2 of 3\"}");
	} else if (strcmp(mode, "failed") == 0) {
		rec("{\"t\":\"result\",\"status\":\"failed\",\"summary\":\"nope\"}");
		return 1;
	} else if (strcmp(mode, "crash") == 0) {
		signal(SIGSEGV, SIG_DFL); /* a sanitizer build would otherwise catch it */
		raise(SIGSEGV);
	} else if (strcmp(mode, "noresult") == 0) {
		return 3;
	} else if (strcmp(mode, "sleep") == 0) {
		forever();
	} else if (strcmp(mode, "ignore-term") == 0) {
		rec("{\"t\":\"log\",\"level\":6,\"msg\":\"ignoring SIGTERM\"}");
		forever();
	} else if (strcmp(mode, "late-result") == 0) {
		/* Answers SIGTERM with a result: too late, the timeout has fired. */
		int sig;
		sigwait(&term, &sig);
		result_ok("finished anyway");
	} else if (strcmp(mode, "spam") == 0) {
		/* 10 MB on stdout in numbered lines, a log record every 1000 lines. */
		long lines = 10L * 1024 * 1024 / 100;
		for (long i = 0; i < lines; i++) {
			printf("%08ld %090d\n", i, 0);
			if (i % 1000 == 0)
				rec("{\"t\":\"progress\",\"done\":%ld,\"total\":%ld}", i, lines);
		}
		fflush(stdout);
		result_ok("spammed");
	} else if (strcmp(mode, "grandchild") == 0 || strcmp(mode, "escape") == 0) {
		bool escape = strcmp(mode, "escape") == 0;
		int ready[2];
		if (pipe(ready) != 0)
			return 72;
		pid_t pid = fork();
		if (pid == 0) {
			if (escape)
				setsid(); /* leaves the group: only the drain cap ends the wait */
			close(ready[0]);
			close(ready[1]);              /* tells the parent it is out of the group */
			for (int i = 0; i < 100; i++) /* 10 s, holding stdout and fd 3 */
				usleep(100000);
			_exit(0);
		}
		close(ready[1]);
		char c;
		while (read(ready[0], &c, 1) < 0 && errno == EINTR)
			;
		rec("{\"t\":\"log\",\"level\":6,\"msg\":\"grandchild\",\"fields\":{\"pid\":%d}}",
		    (int)pid);
		result_ok("left a child behind");
	} else if (strcmp(mode, "print-secret") == 0) {
		char *s = member(doc, "secret"), *js = json_escape(s);
		printf("token=%s\n", s);
		printf("twice %s and %s.\n", s, s);
		printf("glued %s%s end\n", s, s);
		fflush(stdout);
		rec("{\"t\":\"log\",\"level\":3,\"msg\":\"auth %s failed\",\"fields\":{\"auth\":"
		    "\"Bearer %s\",\"n\":1}}",
		    js, js);
		rec("{\"t\":\"summary\",\"text\":\"used %s\"}", js);
		rec("{\"t\":\"state\",\"key\":\"token\",\"value\":\"%s\"}", js);
		rec("{\"t\":\"result\",\"status\":\"ok\",\"summary\":\"done with %s\"}", js);
		free(js);
		free(s);
	} else if (strcmp(mode, "cut-secret") == 0) {
		/* A secret across the 64 KiB cut of an over-long line. */
		char *s = member(doc, "secret");
		for (int i = 0; i < 64 * 1024 - 4; i++)
			putchar('x');
		printf("%s and more\n", s);
		free(s);
		result_ok("cut");
	} else if (strcmp(mode, "utf8-cut") == 0) {
		/* The 64 KiB cut falls inside a two-byte character. */
		for (int i = 0; i < 64 * 1024 - 1; i++)
			putchar('x');
		printf("\xc3\xa9\xc3\xa9 more\n");
		result_ok("utf8");
	} else if (strcmp(mode, "bigline") == 0) {
		/* 200 KB without a newline, then a normal line; a 100 KB protocol line; a last
		 * output line without "\n". */
		for (int i = 0; i < 200 * 1024; i++)
			putchar('x');
		printf("\nafter\n");
		fputc('{', proto);
		for (int i = 0; i < 100 * 1024; i++)
			fputc('y', proto);
		rec("}");
		printf("tail-without-newline");
		fflush(stdout);
		result_ok("big");
	} else if (strcmp(mode, "badjson") == 0) {
		rec("not json");
		rec("{\"t\":1}");
		rec("[1,2]");
		rec("{\"t\":\"started\"}");
		rec("{\"t\":\"result\",\"status\":\"great\"}");
		rec("{\"t\":\"log\",\"msg\":\"fine\"} trailing");
		rec("{\"t\":\"log\",\"level\":6,\"msg\":\"still here\"}");
		result_ok("survived");
		result_ok("twice");
	} else if (strcmp(mode, "env") == 0) {
		for (char **e = environ; *e; e++)
			printf("env %s\n", *e);
		result_ok("env");
	} else if (strcmp(mode, "fds") == 0) {
		DIR *d = opendir("/proc/self/fd");
		struct dirent *de;
		while (d && (de = readdir(d))) {
			if (de->d_name[0] != '.' && atoi(de->d_name) != dirfd(d))
				printf("fd %s\n", de->d_name);
		}
		if (d)
			closedir(d);
		sigset_t mask;
		sigprocmask(SIG_SETMASK, NULL, &mask);
		struct sigaction sa;
		sigaction(SIGTERM, NULL, &sa);
		printf("pgid %d pid %d masked %d termdfl %d\n", (int)getpgrp(), (int)getpid(),
		       sigismember(&mask, SIGTERM) || sigismember(&mask, SIGINT),
		       sa.sa_handler == SIG_DFL);
		result_ok("fds");
	} else if (strcmp(mode, "input") == 0) {
		char sum[64];
		snprintf(sum, sizeof sum, "len=%zu hash=%016llx", len,
		         (unsigned long long)fnv1a(doc, len));
		result_ok(sum);
	} else {
		rec("{\"t\":\"result\",\"status\":\"failed\",\"summary\":\"unknown mode\"}");
		return 2;
	}
	fflush(stdout);
	free(mode);
	free(doc);
	return 0;
}

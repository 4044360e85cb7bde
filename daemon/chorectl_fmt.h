/* Text output of chorectl's online verbs: tables, times, durations, log lines, and the
 * exit status a run's final status maps to. */
#ifndef CHORED_CHORECTL_FMT_H
#define CHORED_CHORECTL_FMT_H

#include <stdint.h>
#include <stdio.h>

struct json_object;
struct strbuf;

/* String member `key` of `o`, or NULL (absent, null, or not an object). */
const char *fmt_str(struct json_object *o, const char *key);
/* Integer member `key` of `o`, or `def`. */
int64_t fmt_int(struct json_object *o, const char *key, int64_t def);

/* "850ms", "1.2s", "4m05s", "2h03m". */
void fmt_duration(int64_t ms, char *buf, size_t len);
/* An ISO 8601 time shown in UTC ("2026-11-23T08:00:00+00:00"); text that does not parse
 * is shown as is; NULL or "" is "-". Returns buf. */
const char *fmt_utc(const char *iso, char *buf, size_t len);
/* Milliseconds since the epoch as "08:00:00.123" (UTC). */
void fmt_clock_ms(int64_t ms, char *buf, size_t len);
/* A run's status with its signal: "crashed (SIGSEGV)". */
void fmt_status(struct json_object *run, char *buf, size_t len);
/* One log record as "LEVEL msg k=v …": level a syslog number or a name. */
void fmt_log_line(struct strbuf *out, struct json_object *level, const char *msg,
                  struct json_object *fields);

/* Exit status for a run's final status (see chorectl(1)): ok 0, partial/skipped 75,
 * anything else 70. */
int fmt_run_exit(const char *status);

/* A text table: add rows of `cols` cells, print with columns padded to their widest cell. */
struct table {
	size_t cols;
	char **cells; /* rows * cols, owned */
	size_t rows;
};
void table_row(struct table *t, const char *const *cells);
void table_print(const struct table *t, FILE *f);
void table_free(struct table *t);

#endif

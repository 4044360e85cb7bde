/* archive.so internals shared by its files (chored-archive(7)). Strings in struct ar_opts
 * are borrowed from the job's options; everything else is owned where noted. */
#ifndef ARCHIVE_H
#define ARCHIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <chored/db.h>
#include <chored/job.h>
#include <chored/report.h>
#include <chored/store.h>

#define AR_MAX_GROUPS 8
#define AR_TOP_N      10

struct ar_opts {
	const char *database, *table, *time_column, *store, *key_id, *secret, *prefix, *zone;
	const char *groups[AR_MAX_GROUPS];
	size_t n_groups;
	char group_buf[512]; /* the words of group_columns, NUL-separated */
	bool gzip;
};

/* The most frequent values of one group column in one month. */
struct ar_top {
	char *value[AR_TOP_N]; /* owned; NULL stands for SQL NULL when count[i] > 0 */
	int64_t count[AR_TOP_N];
	size_t n;
	int64_t others; /* rows of every other value */
	int64_t distinct;
};

/* One month of rows (a batch object in the store). */
struct ar_month {
	int year, month;
	int64_t from, until; /* [from, until) in UTC seconds: the month in the job's zone */
	int64_t expected;    /* rows counted before the upload */
	int64_t count;       /* rows written to (and read back from) the object */
	int days;            /* days in the month */
	int64_t per_day[31];
	struct ar_top top[AR_MAX_GROUPS];
	char key[512];
	char sha256[65];
	uint64_t size;
	bool completes; /* overwrites an object of an earlier run whose delete did not happen */
	bool verified;
};

/* What the queries need: the quoted table and the time column as UTC seconds. */
struct ar_sql {
	char *table; /* quoted, owned */
	char *epoch; /* SQL expression of the time column as integer UTC seconds, owned */
	enum chored_db_kind kind;
};

/* ident.c: names (pure) and the SQL around them. */
/* [A-Za-z_][A-Za-z0-9_]*, at most 63 bytes: the only table and column names accepted. */
bool ar_ident_ok(const char *s);
/* A key prefix: "" or segments of [A-Za-z0-9._-] joined by '/', no "." or ".." segment. */
bool ar_prefix_ok(const char *p);
int ar_sql_init(struct chored_db *db, const struct ar_opts *o, struct ar_sql *q, char *err,
                size_t errlen);
void ar_sql_free(struct ar_sql *q);
/* printf into a new string (owned), NULL when out of memory. */
char *ar_sql_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* stream.c: writes the month as JSON (gzip) to the store and reads it back. */
int ar_upload(struct chored_job *job, struct chored_db *db, struct chored_store *st,
              const struct ar_opts *o, const struct ar_sql *q, struct ar_month *m, char *err,
              size_t errlen);
int ar_verify(struct chored_job *job, struct chored_store *st, const struct ar_opts *o,
              struct ar_month *m, char *err, size_t errlen);
/* The first row of the object `key` as a JSON object (owned: json_object_put), NULL with
 * err when unreadable. */
struct json_object *ar_first_row(struct chored_store *st, const struct ar_opts *o, const char *key,
                                 char *err, size_t errlen);

/* months.c: the batches of a month and the re-run rule. */
int ar_pick_key(struct chored_job *job, struct chored_db *db, struct chored_store *st,
                const struct ar_opts *o, const struct ar_sql *q, struct ar_month *m, char *err,
                size_t errlen);
void ar_month_free(struct ar_month *m);

/* aggr.c: aggregates and the report. */
int ar_aggregate(struct chored_db *db, const struct ar_opts *o, const struct ar_sql *q,
                 struct ar_month *m, char *err, size_t errlen);
struct chored_report *ar_report(const struct ar_opts *o, const char *store_desc,
                                const struct ar_month *ms, size_t n, enum chored_status status,
                                const char *failure);

#endif

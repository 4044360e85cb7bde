/* Inside of the db service (sdk/db*.c): the connection, the result set and the backend
 * operations. Not installed. */
#ifndef CHORED_DB_IMPL_H
#define CHORED_DB_IMPL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chored/db.h"

/* A parsed database URL (sdk/db_url.c). Strings owned; NULL when absent. */
struct db_url {
	enum chored_db_kind kind;
	char *path;     /* sqlite: the absolute file path, percent-decoded */
	char *account;  /* d1 */
	char *database; /* d1 */
	char *conninfo; /* postgresql: the URL as given, for libpq */
	char *password; /* postgresql: the URL's password, decoded (a secret) */
	char *shown;    /* the URL with the password replaced by *** */
};

/* Parses `url`; returns 0, or -1 with a message in err (never containing a password). */
int db_url_parse(const char *url, struct db_url *out, char *err, size_t errlen);
void db_url_free(struct db_url *u);
/* Copies `in` into `out` (`outlen` bytes) with each of the `n` secrets replaced by ***. */
void db_scrub(char *out, size_t outlen, const char *in, const char *const *secrets, size_t n);

/* Statement splitting for restore (sdk/db_split.c): bytes are fed in, complete statements
 * come out. */
struct db_split {
	char *buf; /* owned: the statement being gathered */
	size_t len, cap;
};
/* Appends `len` bytes; calls `each` for every statement completed (NUL-terminated,
 * trimmed, ending with ';'; borrowed during the call). Stops and returns what `each`
 * returned when non-zero; -2 when memory runs out. */
int db_split_feed(struct db_split *s, const char *p, size_t len,
                  int (*each)(const char *stmt, void *data), void *data);
/* The text left after the last complete statement: NULL when it is only blanks and
 * comments, else the (borrowed) text of an unterminated statement. */
const char *db_split_rest(struct db_split *s);
void db_split_free(struct db_split *s);
/* How many statements `sql` holds (an unterminated last one counts). */
size_t db_count_statements(const char *sql);
/* True when `stmt` is BEGIN..., COMMIT..., END..., or ROLLBACK (not ROLLBACK TO). */
bool db_is_txn_control(const char *stmt);
/* A malloc'd copy of `sql` with `?` placeholders outside quotes and comments numbered
 * $1, $2... (postgresql). NULL on allocation failure. */
char *db_sql_dollar(const char *sql);

struct db_ops;
struct db_out;

struct chored_db {
	const struct db_ops *ops;
	struct chored_job *job; /* borrowed: outlives the connection */
	struct db_url url;
	char *secrets[2]; /* owned copies of the password and token, scrubbed from errors */
	struct chored_db_rows *open_rows; /* borrowed: the open result set, if any */
	bool in_txn;
	long timeout_ms;
	long poll_interval_ms;
	long export_timeout_ms;
	char *base_url; /* d1, owned */
	void *priv;     /* the backend's connection */
	char err[512];
};

struct chored_db_rows {
	struct chored_db *db;
	int ncols;
	char **names;      /* owned, ncols */
	const char **vals; /* ncols, borrowed from the backend's row; NULL = SQL NULL */
	bool done;
	void *priv; /* the backend's cursor */
};

struct db_ops {
	const char *name;
	int (*open)(struct chored_db *db, const struct chored_db_options *opts);
	void (*close)(struct chored_db *db);
	int (*exec)(struct chored_db *db, const char *sql, const struct chored_db_param *p,
	            size_t n, int64_t *changes);
	/* Fills rows->ncols, rows->names, rows->vals (allocated), rows->priv. */
	int (*query)(struct chored_db *db, struct chored_db_rows *rows, const char *sql,
	             const struct chored_db_param *p, size_t n);
	int (*next)(struct chored_db_rows *rows);
	void (*rows_close)(struct chored_db_rows *rows);
	int (*txn)(struct chored_db *db, const char *verb); /* "BEGIN", "COMMIT", "ROLLBACK" */
	const char *tables_sql;
	int (*dump)(struct chored_db *db, struct db_out *out);
	/* Runs a list of statements of a restore (NULL: one exec each). */
	int (*batch)(struct chored_db *db, const char *const *stmts, size_t n);
};

/* d1 (sdk/db_d1.c): POSTs `body` to the database's `endpoint` ("raw", "query", "export")
 * and checks the envelope; *result (owned) gets its "result". `write`: retried on 429
 * only. 0 or -1. */
struct json_object;
int d1_post(struct chored_db *db, const char *endpoint, struct json_object *body, bool write,
            struct json_object **result);
/* The export (sdk/db_d1_export.c). */
int d1_dump(struct chored_db *db, struct db_out *out);

extern const struct db_ops db_sqlite_ops;
extern const struct db_ops db_pg_ops;
extern const struct db_ops db_d1_ops;

/* Sets db->err from a format, scrubbing the connection's secrets. Returns -1. */
int db_fail(struct chored_db *db, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The first `max` characters of `sql` on one line, for messages (static buffer per call
 * site is not safe: writes into `buf`). */
const char *db_sql_brief(const char *sql, char *buf, size_t len);

/* A buffered dump sink (sdk/db_dump.c): the caller's write callback gets 64 KiB pieces. */
struct db_out {
	chored_db_write_fn write;
	void *data;
	char buf[65536];
	size_t len;
	bool failed; /* the callback refused: every later put fails */
};
/* Writes a string, formatted text, a SQL string literal ('it''s', `len` bytes), a quoted
 * identifier ("a""b"). Each returns 0, or -1 once the callback has refused. */
int db_put(struct db_out *o, const char *s);
int db_putn(struct db_out *o, const char *s, size_t len);
int db_putf(struct db_out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int db_put_literal(struct db_out *o, const char *s, size_t len);
int db_put_ident(struct db_out *o, const char *s);
/* Hands the buffered rest to the callback. 0 or -1. */
int db_flush(struct db_out *o);

/* Sleeps `ms` milliseconds unless the job is cancelled; returns -1 when it is. */
int db_sleep_ms(struct chored_job *job, long ms);

#endif

/* SQL database service of libchored (chored-sdk-db(3)): one API over SQLite (embedded),
 * PostgreSQL (libpq) and Cloudflare D1 (REST), chosen by URL:
 *
 *   sqlite:///abs/path/file.db           the default, embedded
 *   postgresql://user@host:port/dbname   also postgres://; any libpq URI parameter
 *   d1://ACCOUNT_ID/DATABASE_ID          token in chored_db_options.token
 *
 * Values are always bound as parameters, never spliced into SQL. Every function takes or
 * reaches the job handle: its cancellation stops long loops, its log gets debug records.
 * Errors are messages naming the backend and what failed; passwords and tokens never
 * appear in them (URLs are shown with the password replaced by ***). */
#ifndef CHORED_DB_H
#define CHORED_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <chored/job.h>

#ifdef __cplusplus
extern "C" {
#endif

struct chored_db;      /* a connection; opaque */
struct chored_db_rows; /* an open result set of a connection; opaque */

enum chored_db_kind {
	CHORED_DB_SQLITE = 1,
	CHORED_DB_POSTGRESQL = 2,
	CHORED_DB_D1 = 3,
};

/* Open options; a NULL pointer or zeroed struct gives the defaults. Strings are borrowed
 * during chored_db_open only (copied when kept). */
struct chored_db_options {
	const char *password;   /* postgresql: overrides the URL's password (a secret option) */
	const char *token;      /* d1: API token, required (a secret option) */
	const char *base_url;   /* d1: NULL = https://api.cloudflare.com/client/v4 */
	bool no_create;         /* sqlite: fail when the file does not exist */
	long timeout_ms;        /* connect (postgresql) / each request (d1) / busy wait (sqlite);
	                           0 = 30 000 */
	long poll_interval_ms;  /* d1 export: delay between polls, 0 = 1000 */
	long export_timeout_ms; /* d1 export: give up after, 0 = 30 minutes */
};

/* One bound parameter: text (NUL-terminated), 64-bit integer or SQL NULL. */
enum chored_db_type {
	CHORED_DB_NULL = 0,
	CHORED_DB_TEXT = 1,
	CHORED_DB_INT = 2,
};
struct chored_db_param {
	enum chored_db_type type;
	const char *text; /* CHORED_DB_TEXT; a NULL text is bound as SQL NULL */
	int64_t i;        /* CHORED_DB_INT */
};
#define CHORED_DB_P_TEXT(s) ((struct chored_db_param){.type = CHORED_DB_TEXT, .text = (s)})
#define CHORED_DB_P_INT(n)  ((struct chored_db_param){.type = CHORED_DB_INT, .i = (n)})
#define CHORED_DB_P_NULL    ((struct chored_db_param){.type = CHORED_DB_NULL})

/* Connects to `url`. Returns the connection (owned: chored_db_close), or NULL with a
 * message in `err` (`errlen` bytes, may be 0): bad URL, file missing, connection refused,
 * authentication failed... Nothing is logged. */
struct chored_db *chored_db_open(struct chored_job *job, const char *url,
                                 const struct chored_db_options *opts, char *err, size_t errlen);
/* Closes (rolling back an open transaction) and frees; NULL is fine. */
void chored_db_close(struct chored_db *db);

enum chored_db_kind chored_db_kind(const struct chored_db *db);
/* The URL with any password replaced by ***, for messages. Borrowed from `db`. */
const char *chored_db_url(const struct chored_db *db);
/* The message of the last failed call on `db` ("" when none). Borrowed: valid until the
 * next call on `db`. */
const char *chored_db_error(const struct chored_db *db);

/* Runs one statement with `n` bound parameters and no result rows wanted. Placeholders
 * are `?` on every backend (on postgresql they are rewritten to $1, $2... outside quotes
 * and comments; SQL already written with $1 is passed as is). `*changes` (may be NULL) receives the
 * number of rows inserted, updated or deleted. Returns 0, or -1 (chored_db_error). */
int chored_db_exec(struct chored_db *db, const char *sql, const struct chored_db_param *params,
                   size_t n, int64_t *changes);

/* Runs a query and returns its rows to iterate (owned: chored_db_rows_free), or NULL
 * (chored_db_error). One result set per connection may be open at a time: free it before
 * the next call on `db`. SQLite and PostgreSQL fetch rows one at a time (constant memory);
 * D1 answers the whole result in one response: page big tables with LIMIT. */
struct chored_db_rows *chored_db_query(struct chored_db *db, const char *sql,
                                       const struct chored_db_param *params, size_t n);
/* Advances to the next row: 1 = a row, 0 = no more rows, -1 = error (chored_db_error of
 * the connection; the job's cancellation is one). */
int chored_db_next(struct chored_db_rows *rows);
int chored_db_columns(const struct chored_db_rows *rows);
/* Column `i`'s name, valid until chored_db_rows_free; NULL when out of range. */
const char *chored_db_column_name(const struct chored_db_rows *rows, int i);
/* Column `i` of the current row as text, or NULL for SQL NULL (or out of range). Valid
 * until the next chored_db_next. Integers are decimal, booleans "t"/"f" (postgresql) or
 * 1/0, blobs raw bytes (sqlite). */
const char *chored_db_value(const struct chored_db_rows *rows, int i);
bool chored_db_is_null(const struct chored_db_rows *rows, int i);
/* Closes the result set (discarding unread rows); NULL is fine. */
void chored_db_rows_free(struct chored_db_rows *rows);

/* The first column of the first row as an integer ("SELECT count(*) ..."). Returns 0, or
 * -1 when the query fails, returns no row, or the value is NULL or not an integer. */
int chored_db_query_int(struct chored_db *db, const char *sql, const struct chored_db_param *params,
                        size_t n, int64_t *out);

/* Transactions (sqlite, postgresql). D1 has none over its REST API: these return -1 with
 * "not supported". chored_db_close rolls back an open transaction. */
int chored_db_begin(struct chored_db *db);
int chored_db_commit(struct chored_db *db);
int chored_db_rollback(struct chored_db *db);

/* Calls `each` with the name of every user table, in name order (sqlite, d1: internal
 * sqlite_* and _cf_* tables left out; postgresql: the tables visible on the search_path).
 * `each` returns 0 to go on, non-zero to stop (then returned). -1 on error. */
int chored_db_tables(struct chored_db *db, int (*each)(const char *name, void *data), void *data);
/* Number of rows of `table` (quoted as an identifier, never spliced raw). 0 or -1. */
int chored_db_count(struct chored_db *db, const char *table, int64_t *count);
/* `name` as a quoted SQL identifier ("a""b"), valid in all three backends. Malloc'd. */
char *chored_db_quote_ident(const char *name);

/* Receives dump text; returns 0 to go on, anything else aborts the dump. */
typedef int (*chored_db_write_fn)(const void *buf, size_t len, void *data);
/* Reads up to `len` bytes of a script; returns the count, 0 at the end, (size_t)-1 on
 * error (same contract as chored_http_read_fn). */
typedef size_t (*chored_db_read_fn)(void *buf, size_t len, void *data);

/* Writes the whole database as a SQL script, streamed (constant memory):
 *  - sqlite: schema (tables, indexes, views, triggers) and rows as INSERT statements, read
 *    in one read transaction (a consistent snapshot; writers wait in rollback-journal
 *    mode, go on in WAL mode);
 *  - postgresql: a portable dump read in one REPEATABLE READ snapshot: CREATE TABLE
 *    (column names, types, NOT NULL, PRIMARY KEY) and INSERT per row for the tables on the
 *    search_path; restorable into SQLite and PostgreSQL. Not a pg_dump replacement:
 *    defaults, sequences, indexes, constraints other than the primary key are left out;
 *  - d1: the export API (polled continually as D1 requires), then the download of the
 *    export file from its signed URL.
 * Returns 0, or -1 (chored_db_error; a write callback abort is one). */
int chored_db_dump(struct chored_db *db, chored_db_write_fn write, void *data);
/* The same into a file: written to PATH.tmp, synced and renamed, so `path` is either the
 * complete dump or absent. */
int chored_db_dump_file(struct chored_db *db, const char *path);

/* Executes a SQL script (a dump) statement by statement into `db`, split where SQLite
 * would end a statement (sqlite3_complete: quotes, comments and trigger bodies are
 * respected; PostgreSQL dollar quoting and COPY are not supported). On sqlite and
 * postgresql the whole script runs in one transaction (the script's own BEGIN, COMMIT,
 * END and ROLLBACK statements are skipped), so a failure leaves `db` unchanged; on d1
 * statements are sent in batches, not atomically. `*statements` (may be NULL) receives
 * how many ran. Returns 0, or -1 (chored_db_error names the statement's number). */
int chored_db_restore(struct chored_db *db, chored_db_read_fn read, void *data,
                      int64_t *statements);
int chored_db_restore_file(struct chored_db *db, const char *path, int64_t *statements);

#ifdef __cplusplus
}
#endif

#endif

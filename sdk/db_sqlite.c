/* The sqlite backend: a local file through the SQLite library, statements prepared and
 * bound, rows stepped one at a time. The dump is in db_sqlite_dump.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "db_impl.h"

#define CONN(db) ((sqlite3 *)(db)->priv)

int db_sqlite_dump(struct chored_db *db, struct db_out *out);

static int sq_fail(struct chored_db *db, const char *what, const char *sql)
{
	char brief[80];
	if (sql)
		return db_fail(db, "sqlite: %s: %s (in \"%s\")", db->url.path,
		               sqlite3_errmsg(CONN(db)), db_sql_brief(sql, brief, sizeof brief));
	return db_fail(db, "sqlite: %s: %s: %s", db->url.path, what ? what : "error",
	               sqlite3_errmsg(CONN(db)));
}

static int sq_open(struct chored_db *db, const struct chored_db_options *opts)
{
	struct stat st;
	if (opts->no_create && stat(db->url.path, &st) < 0)
		return db_fail(db, "sqlite: %s: %s", db->url.path, strerror(errno));
	int flags = SQLITE_OPEN_READWRITE | (opts->no_create ? 0 : SQLITE_OPEN_CREATE);
	sqlite3 *c = NULL;
	int rc = sqlite3_open_v2(db->url.path, &c, flags, NULL);
	if (rc != SQLITE_OK) {
		int e = c ? sqlite3_system_errno(c) : 0;
		db_fail(db, "sqlite: %s: %s%s%s", db->url.path,
		        c ? sqlite3_errmsg(c) : sqlite3_errstr(rc), e ? ": " : "",
		        e ? strerror(e) : "");
		sqlite3_close(c);
		return -1;
	}
	db->priv = c;
	sqlite3_busy_timeout(c, db->timeout_ms > 0x7fffffffL ? 0x7fffffff : (int)db->timeout_ms);
	sqlite3_extended_result_codes(c, 1);
	/* Reading the schema now turns "not a database" into an open error. */
	if (sqlite3_exec(c, "SELECT count(*) FROM sqlite_master", NULL, NULL, NULL) != SQLITE_OK)
		return sq_fail(db, "cannot read the schema", NULL);
	return 0;
}

static void sq_close(struct chored_db *db)
{
	sqlite3_close_v2(CONN(db));
	db->priv = NULL;
}

/* Prepares exactly one statement of `sql` and binds `n` parameters. */
static sqlite3_stmt *prepare(struct chored_db *db, const char *sql, const struct chored_db_param *p,
                             size_t n)
{
	sqlite3_stmt *st = NULL;
	const char *tail = NULL;
	char brief[80];
	if (sqlite3_prepare_v2(CONN(db), sql, -1, &st, &tail) != SQLITE_OK) {
		sq_fail(db, NULL, sql);
		return NULL;
	}
	if (!st) {
		db_fail(db, "sqlite: %s: no statement in \"%s\"", db->url.path,
		        db_sql_brief(sql, brief, sizeof brief));
		return NULL;
	}
	const char *t = tail;
	while (t && (*t == ' ' || *t == '\n' || *t == '\t' || *t == '\r' || *t == ';'))
		t++;
	if (t && *t) {
		sqlite3_finalize(st);
		db_fail(db, "sqlite: one statement per call; more SQL follows in \"%s\"",
		        db_sql_brief(sql, brief, sizeof brief));
		return NULL;
	}
	int want = sqlite3_bind_parameter_count(st);
	if ((size_t)want != n) {
		sqlite3_finalize(st);
		db_fail(db, "sqlite: \"%s\" has %d placeholders, %zu parameters given",
		        db_sql_brief(sql, brief, sizeof brief), want, n);
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		int rc, k = (int)i + 1;
		if (p[i].type == CHORED_DB_INT)
			rc = sqlite3_bind_int64(st, k, p[i].i);
		else if (p[i].type == CHORED_DB_TEXT && p[i].text)
			rc = sqlite3_bind_text(st, k, p[i].text, -1, SQLITE_TRANSIENT);
		else
			rc = sqlite3_bind_null(st, k);
		if (rc != SQLITE_OK) {
			sq_fail(db, NULL, sql);
			sqlite3_finalize(st);
			return NULL;
		}
	}
	return st;
}

static int sq_exec(struct chored_db *db, const char *sql, const struct chored_db_param *p, size_t n,
                   int64_t *changes)
{
	sqlite3_stmt *st = prepare(db, sql, p, n);
	if (!st)
		return -1;
	int rc, before = sqlite3_total_changes(CONN(db));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		;
	if (rc != SQLITE_DONE) {
		sq_fail(db, NULL, sql);
		sqlite3_finalize(st);
		return -1;
	}
	/* changes() keeps the count of the last INSERT/UPDATE/DELETE even when this statement
	 * was none of them; total_changes() also counts trigger rows: together they give this
	 * statement's own rows. */
	*changes = sqlite3_total_changes(CONN(db)) != before ? sqlite3_changes(CONN(db)) : 0;
	sqlite3_finalize(st);
	return 0;
}

static int sq_query(struct chored_db *db, struct chored_db_rows *rows, const char *sql,
                    const struct chored_db_param *p, size_t n)
{
	sqlite3_stmt *st = prepare(db, sql, p, n);
	if (!st)
		return -1;
	rows->priv = st;
	rows->ncols = sqlite3_column_count(st);
	rows->names = calloc((size_t)rows->ncols + 1, sizeof *rows->names);
	rows->vals = calloc((size_t)rows->ncols + 1, sizeof *rows->vals);
	if (!rows->names || !rows->vals)
		return db_fail(db, "sqlite: out of memory");
	for (int i = 0; i < rows->ncols; i++) {
		const char *name = sqlite3_column_name(st, i);
		if (!(rows->names[i] = strdup(name ? name : "")))
			return db_fail(db, "sqlite: out of memory");
	}
	return 0;
}

static int sq_next(struct chored_db_rows *rows)
{
	sqlite3_stmt *st = rows->priv;
	int rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW)
		return sq_fail(rows->db, NULL, sqlite3_sql(st));
	for (int i = 0; i < rows->ncols; i++) {
		if (sqlite3_column_type(st, i) == SQLITE_NULL) {
			rows->vals[i] = NULL;
			continue;
		}
		const char *v = (const char *)sqlite3_column_text(st, i);
		rows->vals[i] = v ? v : ""; /* NULL here is out of memory on an empty blob */
	}
	return 1;
}

static void sq_rows_close(struct chored_db_rows *rows)
{
	sqlite3_finalize(rows->priv);
	rows->priv = NULL;
}

static int sq_txn(struct chored_db *db, const char *verb)
{
	/* IMMEDIATE: jobs read then write in their transactions (archive: select, delete);
	 * taking the write lock up front avoids a busy error when the read is upgraded. */
	const char *sql = strcmp(verb, "BEGIN") == 0 ? "BEGIN IMMEDIATE" : verb;
	if (sqlite3_exec(CONN(db), sql, NULL, NULL, NULL) != SQLITE_OK) {
		sq_fail(db, verb, NULL);
		if (!sqlite3_get_autocommit(CONN(db)) && strcmp(verb, "BEGIN") != 0)
			sqlite3_exec(CONN(db), "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	return 0;
}

const struct db_ops db_sqlite_ops = {
    .name = "sqlite",
    .open = sq_open,
    .close = sq_close,
    .exec = sq_exec,
    .query = sq_query,
    .next = sq_next,
    .rows_close = sq_rows_close,
    .txn = sq_txn,
    .tables_sql = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE "
                  "'sqlite\\_%' ESCAPE '\\' ORDER BY name",
    .dump = db_sqlite_dump,
};

/* Dump of a SQLite database as SQL text, like the sqlite3 shell's .dump.
 *
 * Consistency comes from one read transaction rather than the online backup API: SQLite
 * gives a read transaction a fixed snapshot (WAL: writers go on; rollback journal: writers
 * wait for it, as they would for the backup API's read of the source), and streaming rows
 * from it needs neither memory nor disk for a copy of the database. */
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "db_impl.h"

#define CONN(db) ((sqlite3 *)(db)->priv)

int db_sqlite_dump(struct chored_db *db, struct db_out *out);

static int dump_fail(struct chored_db *db, const char *what)
{
	return db_fail(db, "sqlite: %s: dump: %s: %s", db->url.path, what,
	               sqlite3_errmsg(CONN(db)));
}

static int put_value(struct db_out *o, sqlite3_stmt *st, int i)
{
	switch (sqlite3_column_type(st, i)) {
	case SQLITE_INTEGER:
		return db_putf(o, "%lld", (long long)sqlite3_column_int64(st, i));
	case SQLITE_FLOAT: {
		double d = sqlite3_column_double(st, i);
		if (isnan(d))
			return db_put(o, "NULL");
		if (isinf(d))
			return db_put(o, d > 0 ? "1e999" : "-1e999");
		char buf[40];
		snprintf(buf, sizeof buf, "%.17g", d);
		/* Keep it a REAL on the way back: "2" would come back an INTEGER. */
		if (!strpbrk(buf, ".e"))
			strcat(buf, ".0");
		return db_put(o, buf);
	}
	case SQLITE_TEXT:
		return db_put_literal(o, (const char *)sqlite3_column_text(st, i),
		                      (size_t)sqlite3_column_bytes(st, i));
	case SQLITE_BLOB: {
		const unsigned char *b = sqlite3_column_blob(st, i);
		int n = sqlite3_column_bytes(st, i);
		if (db_put(o, "X'") < 0)
			return -1;
		for (int k = 0; k < n; k++)
			if (db_putf(o, "%02x", b[k]) < 0)
				return -1;
		return db_put(o, "'");
	}
	default:
		return db_put(o, "NULL");
	}
}

/* INSERT INTO "t" VALUES(...); for every row of `table`. */
static int dump_rows(struct chored_db *db, struct db_out *o, const char *table)
{
	char *q = chored_db_quote_ident(table);
	if (!q)
		return db_fail(db, "sqlite: out of memory");
	char *sql = sqlite3_mprintf("SELECT * FROM %s", q);
	sqlite3_stmt *st = NULL;
	int rc = sql ? sqlite3_prepare_v2(CONN(db), sql, -1, &st, NULL) : SQLITE_NOMEM;
	sqlite3_free(sql);
	if (rc != SQLITE_OK) {
		free(q);
		return dump_fail(db, table);
	}
	int n = sqlite3_column_count(st), ret = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (db_putf(o, "INSERT INTO %s VALUES(", q) < 0) {
			ret = -1;
			break;
		}
		for (int i = 0; i < n && ret == 0; i++)
			if ((i && db_put(o, ",") < 0) || put_value(o, st, i) < 0)
				ret = -1;
		if (ret || db_put(o, ");\n") < 0) {
			ret = -1;
			break;
		}
		if (chored_job_cancelled(db->job)) {
			ret = db_fail(db, "sqlite: dump cancelled");
			break;
		}
	}
	if (ret == 0 && rc != SQLITE_DONE)
		ret = dump_fail(db, table);
	else if (ret && o->failed)
		ret = db_fail(db, "sqlite: dump: the writer refused the data");
	sqlite3_finalize(st);
	free(q);
	return ret;
}

/* Emits each schema entry of `sql` (name, type, sql); tables get their rows after. */
static int dump_schema(struct chored_db *db, struct db_out *o, const char *sql, bool rows)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(CONN(db), sql, -1, &st, NULL) != SQLITE_OK)
		return dump_fail(db, "schema");
	int rc, ret = 0;
	while (ret == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		const char *def = (const char *)sqlite3_column_text(st, 1);
		if (!name || !def)
			continue;
		if (strncmp(def, "CREATE VIRTUAL TABLE", 20) == 0) {
			ret = db_fail(db, "sqlite: %s: dump: virtual table %s is not supported",
			              db->url.path, name);
			break;
		}
		if (db_put(o, def) < 0 || db_put(o, ";\n") < 0)
			ret = db_fail(db, "sqlite: dump: the writer refused the data");
		else if (rows)
			ret = dump_rows(db, o, name);
	}
	if (ret == 0 && rc != SQLITE_DONE)
		ret = dump_fail(db, "schema");
	sqlite3_finalize(st);
	return ret;
}

int db_sqlite_dump(struct chored_db *db, struct db_out *out)
{
	/* Inside the caller's transaction the dump reads what it sees; else in our own. */
	bool own = sqlite3_get_autocommit(CONN(db));
	if (own && sqlite3_exec(CONN(db), "BEGIN DEFERRED", NULL, NULL, NULL) != SQLITE_OK)
		return dump_fail(db, "BEGIN");
	int rc = db_put(out, "PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\n");
	if (rc < 0)
		rc = db_fail(db, "sqlite: dump: the writer refused the data");
	/* Tables in creation order, then indexes and views, then triggers (which may be on views).
	 */
	if (rc == 0)
		rc = dump_schema(db, out,
		                 "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND "
		                 "name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY rowid",
		                 true);
	if (rc == 0)
		rc = dump_schema(db, out,
		                 "SELECT name, sql FROM sqlite_master WHERE type IN ('index', "
		                 "'trigger', 'view') AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' "
		                 "AND sql IS NOT NULL ORDER BY type = 'trigger', rowid",
		                 false);
	/* AUTOINCREMENT counters: the table exists once such a table was created. */
	if (rc == 0 && sqlite3_table_column_metadata(CONN(db), NULL, "sqlite_sequence", NULL, NULL,
	                                             NULL, NULL, NULL, NULL) == SQLITE_OK) {
		rc = db_put(out, "DELETE FROM sqlite_sequence;\n") < 0
		         ? db_fail(db, "sqlite: dump: the writer refused the data")
		         : dump_rows(db, out, "sqlite_sequence");
	}
	if (rc == 0 && (db_put(out, "COMMIT;\n") < 0 || db_flush(out) < 0))
		rc = db_fail(db, "sqlite: dump: the writer refused the data");
	if (own)
		sqlite3_exec(CONN(db), "COMMIT", NULL, NULL, NULL);
	return rc;
}

/* A portable dump of a PostgreSQL database, generated from the catalog rather than by
 * pg_dump: pg_dump's output (SET, COPY, sequences, ALTER TABLE ONLY, dollar quoting) runs
 * only on PostgreSQL, while backups must also restore into a scratch SQLite database; and
 * no child process has to be given the password. The price: only tables (columns, types,
 * NOT NULL, PRIMARY KEY) and rows, read in one REPEATABLE READ snapshot like pg_dump's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "db_impl.h"

#define CONN(db) ((PGconn *)(db)->priv)

int db_pg_dump(struct chored_db *db, struct db_out *out);

/* Type OIDs (pg_type.dat) whose text form is a valid SQL literal unquoted. */
#define BOOLOID    16
#define INT8OID    20
#define INT2OID    21
#define INT4OID    23
#define OIDOID     26
#define FLOAT4OID  700
#define FLOAT8OID  701
#define NUMERICOID 1700

static int fail_res(struct chored_db *db, PGresult *res, const char *what)
{
	const char *prim = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	return db_fail(db, "postgresql: dump: %s: %s", what,
	               prim ? prim : PQerrorMessage(CONN(db)));
}

static int refused(struct chored_db *db)
{
	return db_fail(db, "postgresql: dump: the writer refused the data");
}

/* `what` run with one text parameter; the result must be tuples. */
static PGresult *catalog(struct chored_db *db, const char *sql, const char *arg, const char *what)
{
	PGresult *res = PQexecParams(CONN(db), sql, arg ? 1 : 0, NULL, &arg, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		fail_res(db, res, what);
		PQclear(res);
		return NULL;
	}
	return res;
}

/* A type name SQLite accepts too: arrays, quoted or schema-qualified names become text. */
static const char *portable_type(const char *t)
{
	return strpbrk(t, "[\".") ? "text" : t;
}

static int dump_create(struct chored_db *db, struct db_out *o, const char *oid, const char *name)
{
	PGresult *cols = catalog(db,
	                         "SELECT a.attname, pg_catalog.format_type(a.atttypid, "
	                         "a.atttypmod), a.attnotnull FROM pg_catalog.pg_attribute a WHERE "
	                         "a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped "
	                         "ORDER BY a.attnum",
	                         oid, name);
	if (!cols)
		return -1;
	PGresult *pk = catalog(db,
	                       "SELECT a.attname FROM pg_catalog.pg_index i JOIN "
	                       "pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum "
	                       "= ANY(i.indkey) WHERE i.indrelid = $1::oid AND i.indisprimary "
	                       "ORDER BY array_position(i.indkey::int2[], a.attnum)",
	                       oid, name);
	if (!pk) {
		PQclear(cols);
		return -1;
	}
	int rc = db_put(o, "CREATE TABLE ") | db_put_ident(o, name) | db_put(o, " (");
	for (int i = 0; i < PQntuples(cols) && rc == 0; i++) {
		rc = db_put(o, i ? ",\n  " : "\n  ") | db_put_ident(o, PQgetvalue(cols, i, 0)) |
		     db_put(o, " ") | db_put(o, portable_type(PQgetvalue(cols, i, 1)));
		if (rc == 0 && PQgetvalue(cols, i, 2)[0] == 't')
			rc = db_put(o, " NOT NULL");
	}
	for (int i = 0; i < PQntuples(pk) && rc == 0; i++)
		rc = db_put(o, i ? ", " : ",\n  PRIMARY KEY (") |
		     db_put_ident(o, PQgetvalue(pk, i, 0));
	if (rc == 0 && PQntuples(pk))
		rc = db_put(o, ")");
	if (rc == 0)
		rc = db_put(o, "\n);\n");
	PQclear(cols);
	PQclear(pk);
	return rc < 0 ? refused(db) : 0;
}

static int put_value(struct db_out *o, PGresult *r, int i)
{
	if (PQgetisnull(r, 0, i))
		return db_put(o, "NULL");
	const char *v = PQgetvalue(r, 0, i);
	switch (PQftype(r, i)) {
	case BOOLOID:
		return db_put(o, v[0] == 't' ? "TRUE" : "FALSE");
	case INT2OID:
	case INT4OID:
	case INT8OID:
	case OIDOID:
	case FLOAT4OID:
	case FLOAT8OID:
	case NUMERICOID:
		/* NaN and Infinity are no numeric literals: quoted, they still cast back. */
		if (strspn(v, "-+0123456789.eE") == strlen(v))
			return db_put(o, v);
		return db_put_literal(o, v, strlen(v));
	default:
		return db_put_literal(o, v, (size_t)PQgetlength(r, 0, i));
	}
}

static int dump_rows(struct chored_db *db, struct db_out *o, const char *name)
{
	char *q = chored_db_quote_ident(name);
	char *sql = q ? malloc(strlen(q) + 16) : NULL;
	if (!sql) {
		free(q);
		return db_fail(db, "postgresql: out of memory");
	}
	sprintf(sql, "SELECT * FROM %s", q);
	int ok = PQsendQuery(CONN(db), sql) && PQsetSingleRowMode(CONN(db));
	free(sql);
	if (!ok) {
		free(q);
		return fail_res(db, NULL, name);
	}
	int rc = 0;
	PGresult *r;
	while ((r = PQgetResult(CONN(db)))) {
		ExecStatusType st = PQresultStatus(r);
		if (rc == 0 && st == PGRES_SINGLE_TUPLE) {
			rc = db_put(o, "INSERT INTO ") | db_put(o, q) | db_put(o, " VALUES(");
			for (int i = 0; i < PQnfields(r) && rc == 0; i++)
				rc = (i ? db_put(o, ",") : 0) | put_value(o, r, i);
			if (rc == 0)
				rc = db_put(o, ");\n");
			if (rc < 0)
				refused(db);
			else if (chored_job_cancelled(db->job))
				rc = db_fail(db, "postgresql: dump cancelled");
		} else if (rc == 0 && st != PGRES_TUPLES_OK) {
			rc = fail_res(db, r, name);
		}
		PQclear(r); /* after an error the rest is read and dropped */
	}
	free(q);
	return rc;
}

int db_pg_dump(struct chored_db *db, struct db_out *out)
{
	bool own = !db->in_txn;
	if (own) {
		PGresult *r = PQexec(CONN(db), "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
		if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			fail_res(db, r, "BEGIN");
			PQclear(r);
			return -1;
		}
		PQclear(r);
	}
	int rc = 0;
	PGresult *tables = catalog(db,
	                           "SELECT c.oid, c.relname FROM pg_catalog.pg_class c JOIN "
	                           "pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE "
	                           "c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', "
	                           "'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%' AND "
	                           "pg_catalog.pg_table_is_visible(c.oid) ORDER BY c.relname",
	                           NULL, "listing tables");
	if (!tables)
		rc = -1;
	else if (db_put(out, "-- portable dump of a PostgreSQL database (chored)\n"
	                     "BEGIN TRANSACTION;\n") < 0)
		rc = refused(db);
	for (int i = 0; rc == 0 && i < PQntuples(tables); i++) {
		rc = dump_create(db, out, PQgetvalue(tables, i, 0), PQgetvalue(tables, i, 1));
		if (rc == 0)
			rc = dump_rows(db, out, PQgetvalue(tables, i, 1));
	}
	if (rc == 0 && db_put(out, "COMMIT;\n") < 0)
		rc = refused(db);
	PQclear(tables);
	if (own)
		PQclear(PQexec(CONN(db), rc == 0 ? "COMMIT" : "ROLLBACK"));
	return rc;
}

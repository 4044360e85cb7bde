/* The postgresql backend over libpq: statements sent with PQexecParams (parameters as
 * text, never spliced), result sets read in single-row mode (constant memory). The dump is
 * in db_pg_dump.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "db_impl.h"

#define CONN(db) ((PGconn *)(db)->priv)

int db_pg_dump(struct chored_db *db, struct db_out *out);

/* libpq's message without its trailing newline and with the secrets scrubbed (db_fail). */
static int pg_fail(struct chored_db *db, const char *msg, const char *sql)
{
	char m[400], brief[80];
	snprintf(m, sizeof m, "%s", msg && *msg ? msg : "unknown error");
	for (size_t l = strlen(m); l && (m[l - 1] == '\n' || m[l - 1] == ' '); l--)
		m[l - 1] = '\0';
	for (char *p = m; *p; p++)
		if (*p == '\n')
			*p = ' ';
	if (sql)
		return db_fail(db, "postgresql: %s (in \"%s\")", m,
		               db_sql_brief(sql, brief, sizeof brief));
	return db_fail(db, "postgresql: %s: %s", db->url.shown, m);
}

static int res_fail(struct chored_db *db, PGresult *res, const char *sql)
{
	const char *sev = PQresultErrorField(res, PG_DIAG_SEVERITY);
	const char *prim = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	char m[400];
	if (prim)
		snprintf(m, sizeof m, "%s: %s", sev ? sev : "ERROR", prim);
	else
		snprintf(m, sizeof m, "%s",
		         res ? PQresultErrorMessage(res) : PQerrorMessage(CONN(db)));
	return pg_fail(db, m, sql);
}

/* Notices (NOTICE: table "x" does not exist, skipping) go to the job's debug log, not to
 * libpq's default of stderr. */
static void notice(void *arg, const PGresult *res)
{
	struct chored_db *db = arg;
	const char *prim = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	chored_log(db->job, CHORED_LOG_DEBUG, "postgresql notice: %s", prim ? prim : "");
}

static int pg_open(struct chored_db *db, const struct chored_db_options *opts)
{
	char *perr = NULL;
	PQconninfoOption *parsed = PQconninfoParse(db->url.conninfo, &perr);
	if (!parsed) {
		db_fail(db, "bad database URL %s: %s", db->url.shown,
		        perr ? perr : "cannot be parsed");
		/* libpq ends its messages with a newline. */
		size_t l = strlen(db->err);
		if (l && db->err[l - 1] == '\n')
			db->err[l - 1] = '\0';
		PQfreemem(perr);
		return -1;
	}
	PQconninfoFree(parsed);
	char timeout[24];
	long secs = (db->timeout_ms + 999) / 1000;
	snprintf(timeout, sizeof timeout, "%ld", secs < 2 ? 2 : secs);
	/* Later entries win: the URL may set its own connect_timeout; the password option
	 * (a secret) overrides the URL's. */
	const char *kw[5] = {"connect_timeout", "application_name", "dbname", NULL, NULL};
	const char *val[5] = {timeout, "chored", db->url.conninfo, NULL, NULL};
	if (opts->password && *opts->password) {
		kw[3] = "password";
		val[3] = opts->password;
	}
	PGconn *c = PQconnectdbParams(kw, val, 1);
	if (!c)
		return db_fail(db, "postgresql: %s: out of memory", db->url.shown);
	db->priv = c;
	if (PQstatus(c) != CONNECTION_OK)
		return pg_fail(db, PQerrorMessage(c), NULL);
	PQsetNoticeReceiver(c, notice, db);
	return 0;
}

static void pg_close(struct chored_db *db)
{
	PQfinish(CONN(db));
	db->priv = NULL;
}

/* Parameters as text for libpq: `vals` gets pointers into `p` or into `ints` (n * 24). */
static void text_params(const struct chored_db_param *p, size_t n, const char **vals, char *ints)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i].type == CHORED_DB_INT) {
			snprintf(ints + 24 * i, 24, "%lld", (long long)p[i].i);
			vals[i] = ints + 24 * i;
		} else {
			vals[i] = p[i].type == CHORED_DB_TEXT ? p[i].text : NULL;
		}
	}
}

/* Sends `sql` with `n` parameters: PQexecParams when `single_row` is false, else the
 * asynchronous PQsendQueryParams in single-row mode. */
static PGresult *send(struct chored_db *db, const char *sql, const struct chored_db_param *p,
                      size_t n, bool single_row, int *sent)
{
	char *dsql = n ? db_sql_dollar(sql) : NULL;
	const char **vals = n ? calloc(n, sizeof *vals) : NULL;
	char *ints = n ? calloc(n, 24) : NULL;
	PGresult *res = NULL;
	*sent = 0;
	if (n && (!dsql || !vals || !ints)) {
		db_fail(db, "postgresql: out of memory");
	} else if (n > 65535) {
		db_fail(db, "postgresql: %zu parameters: at most 65535", n);
	} else {
		text_params(p, n, vals, ints);
		const char *q = n ? dsql : sql;
		if (!single_row) {
			res = PQexecParams(CONN(db), q, (int)n, NULL, vals, NULL, NULL, 0);
			*sent = 1;
		} else if (PQsendQueryParams(CONN(db), q, (int)n, NULL, vals, NULL, NULL, 0)) {
			PQsetSingleRowMode(CONN(db));
			*sent = 1;
		} else {
			res_fail(db, NULL, sql);
		}
	}
	free(dsql);
	free(vals);
	free(ints);
	return res;
}

static int pg_exec(struct chored_db *db, const char *sql, const struct chored_db_param *p, size_t n,
                   int64_t *changes)
{
	int sent;
	PGresult *res = send(db, sql, p, n, false, &sent);
	if (!sent)
		return -1;
	ExecStatusType st = PQresultStatus(res);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && st != PGRES_EMPTY_QUERY) {
		res_fail(db, res, sql);
		PQclear(res);
		return -1;
	}
	/* "" for statements that change no rows by nature (CREATE, SET...). */
	*changes = strtoll(PQcmdTuples(res), NULL, 10);
	PQclear(res);
	return 0;
}

struct pg_rows {
	PGresult *cur;     /* the current row's result */
	PGresult *pending; /* the first result, read by pg_query for the column names */
	bool finished;     /* every result of the query was read */
	char *sql;         /* owned copy, for messages */
};

/* Reads the remaining results of the query so the connection is free again. */
static void drain(struct chored_db *db)
{
	PGresult *r;
	while ((r = PQgetResult(CONN(db))))
		PQclear(r);
}

static int pg_query(struct chored_db *db, struct chored_db_rows *rows, const char *sql,
                    const struct chored_db_param *p, size_t n)
{
	struct pg_rows *pr = calloc(1, sizeof *pr);
	if (!pr)
		return db_fail(db, "postgresql: out of memory");
	rows->priv = pr;
	pr->sql = strdup(sql);
	int sent;
	send(db, sql, p, n, true, &sent);
	if (!sent) {
		pr->finished = true;
		return -1;
	}
	PGresult *res = PQgetResult(CONN(db));
	ExecStatusType st = PQresultStatus(res);
	if (st != PGRES_SINGLE_TUPLE && st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
		res_fail(db, res, sql);
		PQclear(res);
		drain(db);
		pr->finished = true;
		return -1;
	}
	pr->pending = res;
	rows->ncols = PQnfields(res);
	rows->names = calloc((size_t)rows->ncols + 1, sizeof *rows->names);
	rows->vals = calloc((size_t)rows->ncols + 1, sizeof *rows->vals);
	if (!rows->names || !rows->vals)
		return db_fail(db, "postgresql: out of memory");
	for (int i = 0; i < rows->ncols; i++)
		if (!(rows->names[i] = strdup(PQfname(res, i))))
			return db_fail(db, "postgresql: out of memory");
	return 0;
}

static int pg_next(struct chored_db_rows *rows)
{
	struct chored_db *db = rows->db;
	struct pg_rows *pr = rows->priv;
	PQclear(pr->cur);
	pr->cur = pr->pending ? pr->pending : PQgetResult(CONN(db));
	pr->pending = NULL;
	ExecStatusType st = PQresultStatus(pr->cur);
	if (pr->cur && st == PGRES_SINGLE_TUPLE) {
		for (int i = 0; i < rows->ncols; i++)
			rows->vals[i] =
			    PQgetisnull(pr->cur, 0, i) ? NULL : PQgetvalue(pr->cur, 0, i);
		return 1;
	}
	int rc = 0;
	if (pr->cur && st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK)
		rc = res_fail(db, pr->cur, pr->sql ? pr->sql : "query");
	PQclear(pr->cur);
	pr->cur = NULL;
	drain(db);
	pr->finished = true;
	return rc;
}

static void pg_rows_close(struct chored_db_rows *rows)
{
	struct pg_rows *pr = rows->priv;
	if (!pr)
		return;
	PQclear(pr->cur);
	PQclear(pr->pending);
	if (!pr->finished) {
		/* Unread rows: outside a transaction cancel the query (cheap); inside one a
		 * cancel would abort the transaction, so the rows are read and dropped. */
		struct chored_db *db = rows->db;
		if (!db->in_txn) {
			PGcancel *cc = PQgetCancel(CONN(db));
			char buf[256];
			if (cc) {
				PQcancel(cc, buf, sizeof buf);
				PQfreeCancel(cc);
			}
		}
		drain(db);
	}
	free(pr->sql);
	free(pr);
	rows->priv = NULL;
}

static int pg_txn(struct chored_db *db, const char *verb)
{
	PGresult *res = PQexec(CONN(db), verb);
	int rc = 0;
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		rc = res_fail(db, res, verb);
	else if (strcmp(verb, "COMMIT") == 0 && strcmp(PQcmdStatus(res), "ROLLBACK") == 0)
		/* A failed statement aborted the transaction: COMMIT answers ROLLBACK. */
		rc = db_fail(db, "postgresql: COMMIT: the transaction was rolled back (a "
		                 "statement in it failed)");
	PQclear(res);
	return rc;
}

const struct db_ops db_pg_ops = {
    .name = "postgresql",
    .open = pg_open,
    .close = pg_close,
    .exec = pg_exec,
    .query = pg_query,
    .next = pg_next,
    .rows_close = pg_rows_close,
    .txn = pg_txn,
    .tables_sql = "SELECT c.relname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace "
                  "n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p') AND n.nspname "
                  "NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE "
                  "'pg\\_toast%' AND pg_catalog.pg_table_is_visible(c.oid) ORDER BY "
                  "c.relname",
    .dump = db_pg_dump,
};

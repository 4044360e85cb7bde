/* The db service's public API: opening by URL, errors, and the calls every backend shares
 * (result sets, counts, transactions' bookkeeping). Backends: db_sqlite.c, db_pg.c,
 * db_d1.c; dump and restore helpers: db_dump.c. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db_impl.h"
#include "job_private.h"

int db_fail(struct chored_db *db, const char *fmt, ...)
{
	char raw[sizeof db->err];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof raw, fmt, ap);
	va_end(ap);
	const char *secrets[3] = {db->secrets[0], db->secrets[1], db->url.password};
	db_scrub(db->err, sizeof db->err, raw, secrets, 3);
	return -1;
}

const char *db_sql_brief(const char *sql, char *buf, size_t len)
{
	size_t o = 0;
	const size_t max = len > 64 ? 60 : len - 4;
	while (*sql == ' ' || *sql == '\n' || *sql == '\t')
		sql++;
	for (; *sql && o < max; sql++)
		buf[o++] = (*sql == '\n' || *sql == '\t' || *sql == '\r') ? ' ' : *sql;
	if (*sql) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
	return buf;
}

int db_sleep_ms(struct chored_job *job, long ms)
{
	/* Sleep in slices so that a cancelled run stops promptly. */
	while (ms > 0) {
		if (chored_job_cancelled(job))
			return -1;
		long slice = ms > 100 ? 100 : ms;
		struct timespec ts = {slice / 1000, (slice % 1000) * 1000000L};
		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
		ms -= slice;
	}
	return chored_job_cancelled(job) ? -1 : 0;
}

struct chored_db *chored_db_open(struct chored_job *job, const char *url,
                                 const struct chored_db_options *opts, char *err, size_t errlen)
{
	static const struct chored_db_options none;
	if (!opts)
		opts = &none;
	if (errlen)
		err[0] = '\0';
	if (!job) {
		if (errlen)
			snprintf(err, errlen, "chored_db_open: no job given");
		return NULL;
	}
	struct chored_db *db = calloc(1, sizeof *db);
	if (!db) {
		if (errlen)
			snprintf(err, errlen, "out of memory");
		return NULL;
	}
	db->job = job;
	if (db_url_parse(url, &db->url, err, errlen) < 0) {
		free(db);
		return NULL;
	}
	db->timeout_ms = opts->timeout_ms > 0 ? opts->timeout_ms : 30000;
	db->poll_interval_ms = opts->poll_interval_ms > 0 ? opts->poll_interval_ms : 1000;
	db->export_timeout_ms =
	    opts->export_timeout_ms > 0 ? opts->export_timeout_ms : 30L * 60 * 1000;
	if (opts->password && *opts->password)
		db->secrets[0] = strdup(opts->password);
	if (opts->token && *opts->token)
		db->secrets[1] = strdup(opts->token);
	/* Whatever the plugin logs, these values are hidden too. */
	for (int i = 0; i < 2; i++)
		if (db->secrets[i] && job)
			chored__job_add_redaction(job, db->secrets[i]);
	if (db->url.password && *db->url.password && job)
		chored__job_add_redaction(job, db->url.password);
	switch (db->url.kind) {
	case CHORED_DB_SQLITE:
		db->ops = &db_sqlite_ops;
		break;
	case CHORED_DB_POSTGRESQL:
		db->ops = &db_pg_ops;
		break;
	case CHORED_DB_D1:
		db->ops = &db_d1_ops;
		break;
	}
	if (db->ops->open(db, opts) < 0) {
		if (errlen)
			snprintf(err, errlen, "%s", db->err);
		chored_db_close(db);
		return NULL;
	}
	return db;
}

void chored_db_close(struct chored_db *db)
{
	if (!db)
		return;
	if (db->open_rows)
		chored_db_rows_free(db->open_rows);
	if (db->priv)
		db->ops->close(db);
	db_url_free(&db->url);
	free(db->secrets[0]);
	free(db->secrets[1]);
	free(db->base_url);
	free(db);
}

enum chored_db_kind chored_db_kind(const struct chored_db *db)
{
	return db->url.kind;
}

const char *chored_db_url(const struct chored_db *db)
{
	return db->url.shown;
}

const char *chored_db_error(const struct chored_db *db)
{
	return db->err;
}

/* Refuses a call while a result set is open (PostgreSQL's connection is busy with it). */
static int ready(struct chored_db *db, const char *sql)
{
	db->err[0] = '\0';
	if (db->open_rows)
		return db_fail(db,
		               "%s: a result set is still open: chored_db_rows_free it "
		               "before the next call",
		               db->ops->name);
	if (!sql)
		return db_fail(db, "%s: no SQL given", db->ops->name);
	return 0;
}

static int params_ok(struct chored_db *db, const struct chored_db_param *p, size_t n)
{
	if (n && !p)
		return db_fail(db, "%s: %zu parameters announced, none given", db->ops->name, n);
	for (size_t i = 0; i < n; i++)
		if (p[i].type != CHORED_DB_NULL && p[i].type != CHORED_DB_TEXT &&
		    p[i].type != CHORED_DB_INT)
			return db_fail(db, "%s: parameter %zu has an unknown type %d",
			               db->ops->name, i + 1, (int)p[i].type);
	return 0;
}

int chored_db_exec(struct chored_db *db, const char *sql, const struct chored_db_param *params,
                   size_t n, int64_t *changes)
{
	if (changes)
		*changes = 0;
	if (ready(db, sql) < 0 || params_ok(db, params, n) < 0)
		return -1;
	if (chored_job_cancelled(db->job))
		return db_fail(db, "%s: cancelled", db->ops->name);
	int64_t ch = 0;
	int rc = db->ops->exec(db, sql, params, n, &ch);
	if (rc == 0 && changes)
		*changes = ch;
	return rc;
}

struct chored_db_rows *chored_db_query(struct chored_db *db, const char *sql,
                                       const struct chored_db_param *params, size_t n)
{
	if (ready(db, sql) < 0 || params_ok(db, params, n) < 0)
		return NULL;
	if (chored_job_cancelled(db->job)) {
		db_fail(db, "%s: cancelled", db->ops->name);
		return NULL;
	}
	struct chored_db_rows *rows = calloc(1, sizeof *rows);
	if (!rows) {
		db_fail(db, "%s: out of memory", db->ops->name);
		return NULL;
	}
	rows->db = db;
	if (db->ops->query(db, rows, sql, params, n) < 0) {
		db->ops->rows_close(rows);
		for (int i = 0; i < rows->ncols && rows->names; i++)
			free(rows->names[i]);
		free(rows->names);
		free(rows->vals);
		free(rows);
		return NULL;
	}
	db->open_rows = rows;
	return rows;
}

int chored_db_next(struct chored_db_rows *rows)
{
	if (rows->done)
		return 0;
	if (chored_job_cancelled(rows->db->job)) {
		rows->done = true;
		return db_fail(rows->db, "%s: cancelled", rows->db->ops->name);
	}
	int rc = rows->db->ops->next(rows);
	if (rc <= 0) {
		rows->done = true;
		for (int i = 0; i < rows->ncols; i++)
			rows->vals[i] = NULL;
	}
	return rc;
}

int chored_db_columns(const struct chored_db_rows *rows)
{
	return rows->ncols;
}

const char *chored_db_column_name(const struct chored_db_rows *rows, int i)
{
	return i >= 0 && i < rows->ncols ? rows->names[i] : NULL;
}

const char *chored_db_value(const struct chored_db_rows *rows, int i)
{
	return i >= 0 && i < rows->ncols ? rows->vals[i] : NULL;
}

bool chored_db_is_null(const struct chored_db_rows *rows, int i)
{
	return chored_db_value(rows, i) == NULL;
}

void chored_db_rows_free(struct chored_db_rows *rows)
{
	if (!rows)
		return;
	rows->db->ops->rows_close(rows);
	if (rows->db->open_rows == rows)
		rows->db->open_rows = NULL;
	for (int i = 0; i < rows->ncols; i++)
		free(rows->names[i]);
	free(rows->names);
	free(rows->vals);
	free(rows);
}

int chored_db_query_int(struct chored_db *db, const char *sql, const struct chored_db_param *params,
                        size_t n, int64_t *out)
{
	struct chored_db_rows *rows = chored_db_query(db, sql, params, n);
	if (!rows)
		return -1;
	int rc = chored_db_next(rows);
	char brief[80];
	if (rc == 0) {
		chored_db_rows_free(rows);
		return db_fail(db, "%s: no row from \"%s\"", db->ops->name,
		               db_sql_brief(sql, brief, sizeof brief));
	}
	if (rc < 0) {
		chored_db_rows_free(rows);
		return -1;
	}
	const char *v = chored_db_value(rows, 0);
	char *end = NULL;
	errno = 0;
	long long x = v ? strtoll(v, &end, 10) : 0;
	if (!v || end == v || *end || errno) {
		rc = db_fail(db, "%s: \"%s\" gave %s, not an integer", db->ops->name,
		             db_sql_brief(sql, brief, sizeof brief), v ? "a text" : "NULL");
	} else {
		*out = x;
		rc = 0;
	}
	chored_db_rows_free(rows);
	return rc;
}

static int txn(struct chored_db *db, const char *verb)
{
	if (ready(db, verb) < 0)
		return -1;
	bool begin = strcmp(verb, "BEGIN") == 0;
	if (!db->ops->txn)
		return db_fail(db, "%s: transactions are not supported (%s)", db->ops->name,
		               db->url.kind == CHORED_DB_D1 ? "the D1 REST API has none"
		                                            : "backend");
	if (begin && db->in_txn)
		return db_fail(db, "%s: BEGIN: a transaction is already open", db->ops->name);
	if (!begin && !db->in_txn)
		return db_fail(db, "%s: %s: no transaction is open", db->ops->name, verb);
	int rc = db->ops->txn(db, verb);
	/* A failed COMMIT or ROLLBACK ends the transaction all the same (both backends roll
	 * back); a failed BEGIN opens none. */
	db->in_txn = begin ? rc == 0 : false;
	return rc;
}

int chored_db_begin(struct chored_db *db)
{
	return txn(db, "BEGIN");
}

int chored_db_commit(struct chored_db *db)
{
	return txn(db, "COMMIT");
}

int chored_db_rollback(struct chored_db *db)
{
	return txn(db, "ROLLBACK");
}

char *chored_db_quote_ident(const char *name)
{
	size_t n = 3;
	for (const char *p = name; *p; p++)
		n += *p == '"' ? 2 : 1;
	char *out = malloc(n), *o = out;
	if (!out)
		return NULL;
	*o++ = '"';
	for (const char *p = name; *p; p++) {
		if (*p == '"')
			*o++ = '"';
		*o++ = *p;
	}
	*o++ = '"';
	*o = '\0';
	return out;
}

int chored_db_tables(struct chored_db *db, int (*each)(const char *name, void *data), void *data)
{
	/* Names are gathered first: `each` may query the same connection. */
	struct chored_db_rows *rows = chored_db_query(db, db->ops->tables_sql, NULL, 0);
	if (!rows)
		return -1;
	char **names = NULL;
	size_t n = 0;
	int rc;
	while ((rc = chored_db_next(rows)) == 1) {
		char **nn = realloc(names, (n + 1) * sizeof *names);
		const char *v = chored_db_value(rows, 0);
		if (!nn || !(nn[n] = strdup(v ? v : ""))) {
			names = nn ? nn : names;
			rc = db_fail(db, "%s: out of memory", db->ops->name);
			break;
		}
		names = nn;
		n++;
	}
	chored_db_rows_free(rows);
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = each(names[i], data);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}

int chored_db_count(struct chored_db *db, const char *table, int64_t *count)
{
	char *q = chored_db_quote_ident(table);
	char *sql = q ? malloc(strlen(q) + 32) : NULL;
	if (!sql) {
		free(q);
		return db_fail(db, "%s: out of memory", db->ops->name);
	}
	sprintf(sql, "SELECT count(*) FROM %s", q);
	int rc = chored_db_query_int(db, sql, NULL, 0, count);
	free(sql);
	free(q);
	return rc;
}

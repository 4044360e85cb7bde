/* Identifiers and the SQL around them. Table and column names come from the configuration:
 * they must match a strict rule ([A-Za-z_][A-Za-z0-9_]*, at most 63 bytes: PostgreSQL's
 * limit) and are quoted all the same; values are always bound, never spliced. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive.h"

bool ar_ident_ok(const char *s)
{
	if (!s || !*s || strlen(s) > 63)
		return false;
	for (const char *p = s; *p; p++) {
		bool alpha = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || *p == '_';
		bool digit = *p >= '0' && *p <= '9';
		if (!alpha && !(digit && p != s))
			return false;
	}
	return true;
}

bool ar_prefix_ok(const char *p)
{
	if (!*p)
		return true;
	if (p[0] == '/' || p[strlen(p) - 1] == '/' || strstr(p, "//"))
		return false;
	for (const char *s = p; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		      (*s >= '0' && *s <= '9') || strchr("._-/", *s)))
			return false;
	for (const char *seg = p; seg;) {
		const char *e = strchr(seg, '/');
		size_t n = e ? (size_t)(e - seg) : strlen(seg);
		if ((n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.'))
			return false;
		seg = e ? e + 1 : NULL;
	}
	return true;
}

char *ar_sql_fmt(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = NULL;
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	return s;
}

/* PostgreSQL: the column's type decides how it becomes UTC seconds. */
static char *pg_epoch(struct chored_db *db, const struct ar_opts *o, const char *qcol, char *err,
                      size_t errlen)
{
	struct chored_db_param p[] = {CHORED_DB_P_TEXT(o->table), CHORED_DB_P_TEXT(o->time_column)};
	struct chored_db_rows *r = chored_db_query(
	    db,
	    "SELECT data_type FROM information_schema.columns WHERE table_name = ? AND "
	    "column_name = ? ORDER BY (table_schema = current_schema()) DESC LIMIT 1",
	    p, 2);
	if (!r) {
		snprintf(err, errlen, "%s", chored_db_error(db));
		return NULL;
	}
	char type[64] = "";
	int rc = chored_db_next(r);
	if (rc == 1 && chored_db_value(r, 0))
		snprintf(type, sizeof type, "%s", chored_db_value(r, 0));
	if (rc < 0)
		snprintf(err, errlen, "%s", chored_db_error(db));
	chored_db_rows_free(r);
	if (rc < 0)
		return NULL;
	if (!*type) {
		snprintf(err, errlen, "table %s has no column %s", o->table, o->time_column);
		return NULL;
	}
	if (strcmp(type, "integer") == 0 || strcmp(type, "bigint") == 0 ||
	    strcmp(type, "smallint") == 0 || strcmp(type, "numeric") == 0 ||
	    strcmp(type, "double precision") == 0 || strcmp(type, "real") == 0)
		return ar_sql_fmt("CAST(floor(%s) AS bigint)", qcol);
	if (strncmp(type, "timestamp", 9) == 0 || strcmp(type, "date") == 0)
		return ar_sql_fmt("CAST(floor(extract(epoch FROM %s)) AS bigint)", qcol);
	if (strcmp(type, "text") == 0 || strncmp(type, "character", 9) == 0)
		return ar_sql_fmt(
		    "CAST(floor(extract(epoch FROM CAST(%s AS timestamptz))) AS bigint)", qcol);
	snprintf(err, errlen,
	         "column %s.%s is of type %s: expected a timestamp, a date, an integer (UTC "
	         "seconds) or text (ISO 8601)",
	         o->table, o->time_column, type);
	return NULL;
}

int ar_sql_init(struct chored_db *db, const struct ar_opts *o, struct ar_sql *q, char *err,
                size_t errlen)
{
	memset(q, 0, sizeof *q);
	q->kind = chored_db_kind(db);
	q->table = chored_db_quote_ident(o->table);
	char *col = chored_db_quote_ident(o->time_column);
	if (!q->table || !col) {
		free(col);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (q->kind == CHORED_DB_POSTGRESQL) {
		q->epoch = pg_epoch(db, o, col, err, errlen);
	} else {
		/* SQLite keeps whatever was inserted: integers (and reals) are UTC seconds, text
		 * is ISO 8601 ("2026-10-03 10:00:00", "2026-10-03T10:00:00Z", with an offset or
		 * none = UTC) or digits only (seconds); text SQLite cannot read gives NULL: such
		 * rows are never archived. */
		q->epoch =
		    ar_sql_fmt("(CASE WHEN typeof(%s) IN ('integer', 'real') THEN CAST(%s AS "
		               "INTEGER) WHEN %s <> '' AND %s NOT GLOB '*[^0-9]*' THEN "
		               "CAST(%s AS INTEGER) ELSE CAST(strftime('%%s', %s) AS INTEGER) END)",
		               col, col, col, col, col, col);
		if (!q->epoch)
			snprintf(err, errlen, "out of memory");
	}
	free(col);
	if (!q->epoch) {
		ar_sql_free(q);
		return -1;
	}
	return 0;
}

void ar_sql_free(struct ar_sql *q)
{
	free(q->table);
	free(q->epoch);
	q->table = q->epoch = NULL;
}

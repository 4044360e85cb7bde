/* Object names and the re-run rule. A month's rows go to a deterministic key,
 *   PREFIX/YYYY-MM/TABLE-archive-YYYY-MM-01.json.gz        (batch 1)
 *   PREFIX/YYYY-MM/TABLE-archive-YYYY-MM-01.N.json.gz      (batch N: rows of that month
 *                                                           found after batch N-1 was done)
 * and the rows are deleted in one transaction after the upload was verified. A run killed
 * between the two leaves the newest batch in the store and every one of its rows in the
 * database (the delete is all or nothing). So the newest batch is "pending" when its first
 * row is still in the table: the next run rewrites that same key with the month's rows as
 * they are now (the same rows, plus any that arrived since) and deletes them — no duplicate,
 * no loss. When its first row is gone, the batch was completed and new rows of the month
 * get the next batch number. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "archive.h"

/* Stops a get at its first bytes: only whether the object exists is wanted. */
static int stop_at_once(const void *buf, size_t len, void *data)
{
	(void)buf;
	(void)len;
	*(bool *)data = true;
	return -1;
}

/* 1 when `key` exists, 0 when it does not, -1 on an error (err). A GET cut at its first
 * bytes rather than a listing: it costs one request per batch of the month (one, nearly
 * always), whatever else the prefix holds. */
static int exists(struct chored_store *st, const char *key, char *err, size_t errlen)
{
	bool got = false;
	int rc = chored_store_get(st, key, stop_at_once, &got, NULL);
	if (rc == CHORED_STORE_NOT_FOUND)
		return 0;
	if (rc == 0 || got)
		return 1;
	snprintf(err, errlen, "looking for %s: %s", key, chored_store_error(st));
	return -1;
}

static void make_key(const struct ar_opts *o, const char *stem, unsigned batch, bool gzip,
                     char *key, size_t len)
{
	(void)o;
	char num[16] = "";
	if (batch > 1)
		snprintf(num, sizeof num, ".%u", batch);
	snprintf(key, len, "%s%s.json%s", stem, num, gzip ? ".gz" : "");
}

/* Whether `row` (an object's first row) is still in the table within the month. */
static int row_present(struct chored_db *db, const struct ar_sql *q, const struct ar_month *m,
                       struct json_object *row, bool *present, char *err, size_t errlen)
{
	size_t n = (size_t)json_object_object_length(row);
	struct chored_db_param *p = calloc(n + 2, sizeof *p);
	size_t cap = 256 + strlen(q->table) + 2 * strlen(q->epoch), np = 0;
	char *sql = NULL;
	FILE *f = p ? open_memstream(&sql, &cap) : NULL;
	if (!f) {
		free(p);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	fprintf(f, "SELECT count(*) FROM %s WHERE %s >= ? AND %s < ?", q->table, q->epoch,
	        q->epoch);
	p[np++] = CHORED_DB_P_INT(m->from);
	p[np++] = CHORED_DB_P_INT(m->until);
	json_object_object_foreach(row, k, v)
	{
		/* The table's own column names, as the database reported them: quoted, so any
		 * name is safe here (the strict rule is for names taken from the config). */
		char *qk = chored_db_quote_ident(k);
		if (!qk) {
			fclose(f);
			free(sql);
			free(p);
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		if (!v || json_object_is_type(v, json_type_null)) {
			fprintf(f, " AND %s IS NULL", qk);
		} else if (q->kind == CHORED_DB_POSTGRESQL) {
			/* The parameter takes the column's type (text is compared as printed). */
			fprintf(f, " AND %s = ?", qk);
			p[np++] = CHORED_DB_P_TEXT(json_object_get_string(v));
		} else {
			fprintf(f, " AND CAST(%s AS TEXT) = ?", qk);
			p[np++] = CHORED_DB_P_TEXT(json_object_get_string(v));
		}
		free(qk);
	}
	fclose(f);
	int64_t c = 0;
	int rc = chored_db_query_int(db, sql, p, np, &c);
	if (rc < 0)
		snprintf(err, errlen, "looking up the first archived row: %s", chored_db_error(db));
	*present = c > 0;
	free(sql);
	free(p);
	return rc;
}

int ar_pick_key(struct chored_job *job, struct chored_db *db, struct chored_store *st,
                const struct ar_opts *o, const struct ar_sql *q, struct ar_month *m, char *err,
                size_t errlen)
{
	char stem[400];
	snprintf(stem, sizeof stem, "%s%s%04d-%02d/%s-archive-%04d-%02d-01", o->prefix,
	         *o->prefix ? "/" : "", m->year % 10000, m->month % 100, o->table, m->year % 10000,
	         m->month % 100);
	/* The newest batch: numbers are given in order, so the first missing one ends the
	 * search; either extension counts (compress may have changed since). */
	unsigned max = 0;
	bool max_gzip = o->gzip;
	for (unsigned n = 1; n <= 100000; n++) {
		char key[sizeof m->key];
		int rc = 0;
		for (int e = 0; e < 2 && rc == 0; e++) {
			bool gz = e == 0 ? o->gzip : !o->gzip;
			make_key(o, stem, n, gz, key, sizeof key);
			rc = exists(st, key, err, errlen);
			if (rc == 1)
				max_gzip = gz;
		}
		if (rc < 0)
			return -1;
		if (rc == 0)
			break;
		max = n;
	}
	m->completes = false;
	if (max == 0) {
		make_key(o, stem, 1, o->gzip, m->key, sizeof m->key);
		return 0;
	}
	char last[sizeof m->key];
	make_key(o, stem, max, max_gzip, last, sizeof last);
	struct ar_opts lo = *o;
	lo.gzip = max_gzip;
	struct json_object *row = ar_first_row(st, &lo, last, err, errlen);
	if (!row)
		return -1;
	bool present = false;
	int rc = row_present(db, q, m, row, &present, err, errlen);
	json_object_put(row);
	if (rc < 0)
		return -1;
	if (!present) {
		make_key(o, stem, max + 1, o->gzip, m->key, sizeof m->key);
		chored_log(job, CHORED_LOG_INFO,
		           "%s was completed by an earlier run: new rows of %04d-%02d go to %s",
		           last, m->year, m->month, m->key);
		return 0;
	}
	if (max_gzip != o->gzip) {
		snprintf(err, errlen,
		         "%s was uploaded by an earlier run with compress = %s and its rows are "
		         "still in the table: set compress back to finish that month",
		         last, max_gzip ? "gzip" : "none");
		return -1;
	}
	snprintf(m->key, sizeof m->key, "%s", last);
	m->completes = true;
	chored_log(job, CHORED_LOG_NOTICE,
	           "%s was uploaded by an earlier run that did not delete its rows: rewriting it "
	           "with the rows of %04d-%02d as they are now",
	           last, m->year, m->month);
	return 0;
}

void ar_month_free(struct ar_month *m)
{
	for (size_t g = 0; g < AR_MAX_GROUPS; g++)
		for (size_t i = 0; i < m->top[g].n; i++)
			free(m->top[g].value[i]);
	memset(m->top, 0, sizeof m->top);
}

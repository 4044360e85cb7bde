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

struct batches {
	const char *stem; /* "PREFIX/YYYY-MM/TABLE-archive-YYYY-MM-01" */
	size_t stem_len;
	unsigned max;  /* newest batch number, 0: none */
	bool max_gzip; /* its extension */
};

static int each_object(const struct chored_store_object *obj, void *data)
{
	struct batches *b = data;
	if (strncmp(obj->key, b->stem, b->stem_len) != 0)
		return 0;
	bool gz;
	unsigned n = ar_batch_of(obj->key + b->stem_len, &gz);
	if (n > b->max) {
		b->max = n;
		b->max_gzip = gz;
	}
	return 0;
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
	struct batches b = {.stem = stem, .stem_len = strlen(stem)};
	char dir[420];
	snprintf(dir, sizeof dir, "%.*s", (int)(strrchr(stem, '/') - stem + 1), stem);
	if (chored_store_list(st, dir, each_object, &b) < 0) {
		snprintf(err, errlen, "listing %s: %s", dir, chored_store_error(st));
		return -1;
	}
	m->completes = false;
	if (b.max == 0) {
		make_key(o, stem, 1, o->gzip, m->key, sizeof m->key);
		return 0;
	}
	char last[sizeof m->key];
	make_key(o, stem, b.max, b.max_gzip, last, sizeof last);
	struct ar_opts lo = *o;
	lo.gzip = b.max_gzip;
	struct json_object *row = ar_first_row(st, &lo, last, err, errlen);
	if (!row)
		return -1;
	bool present = false;
	int rc = row_present(db, q, m, row, &present, err, errlen);
	json_object_put(row);
	if (rc < 0)
		return -1;
	if (!present) {
		make_key(o, stem, b.max + 1, o->gzip, m->key, sizeof m->key);
		chored_log(job, CHORED_LOG_INFO,
		           "%s was completed by an earlier run: new rows of %04d-%02d go to %s",
		           last, m->year, m->month, m->key);
		return 0;
	}
	if (b.max_gzip != o->gzip) {
		snprintf(err, errlen,
		         "%s was uploaded by an earlier run with compress = %s and its rows are "
		         "still in the table: set compress back to finish that month",
		         last, b.max_gzip ? "gzip" : "none");
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

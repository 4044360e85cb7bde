/* Aggregates of a month (the most frequent values of each group column, rows per day) and
 * the run's report: one section per month, rendered by libchored for mail and Notion. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive.h"

int ar_aggregate(struct chored_db *db, const struct ar_opts *o, const struct ar_sql *q,
                 struct ar_month *m, char *err, size_t errlen)
{
	struct chored_db_param p[] = {CHORED_DB_P_INT(m->from), CHORED_DB_P_INT(m->until)};
	for (size_t g = 0; g < o->n_groups; g++) {
		struct ar_top *t = &m->top[g];
		char *col = chored_db_quote_ident(o->groups[g]);
		char *sql = col ? ar_sql_fmt("SELECT %s, count(*) FROM %s WHERE %s >= ? AND %s < ? "
		                             "GROUP BY %s ORDER BY count(*) DESC, %s LIMIT %d",
		                             col, q->table, q->epoch, q->epoch, col, col, AR_TOP_N)
		                : NULL;
		free(col);
		struct chored_db_rows *r = sql ? chored_db_query(db, sql, p, 2) : NULL;
		free(sql);
		if (!r) {
			snprintf(err, errlen, "aggregates by %s: %s", o->groups[g],
			         chored_db_error(db));
			return -1;
		}
		int rc;
		int64_t sum = 0;
		while ((rc = chored_db_next(r)) == 1 && t->n < AR_TOP_N) {
			const char *v = chored_db_value(r, 0), *c = chored_db_value(r, 1);
			t->value[t->n] = v ? strdup(v) : NULL;
			t->count[t->n] = c ? strtoll(c, NULL, 10) : 0;
			sum += t->count[t->n++];
		}
		if (rc < 0)
			snprintf(err, errlen, "aggregates by %s: %s", o->groups[g],
			         chored_db_error(db));
		chored_db_rows_free(r);
		if (rc < 0)
			return -1;
		t->others = m->expected > sum ? m->expected - sum : 0;
	}
	return 0;
}

static void fmt_count(int64_t n, char *buf, size_t len)
{
	snprintf(buf, len, "%lld", (long long)n);
}

static void month_section(struct chored_report *r, const struct ar_opts *o,
                          const struct ar_month *m)
{
	char h[80];
	snprintf(h, sizeof h, "%04d-%02d: %lld row%s", m->year % 10000, m->month % 100,
	         (long long)m->count, m->count == 1 ? "" : "s");
	chored_report_heading(r, 2, h);
	if (m->verified)
		chored_report_paragraph(r, "%s — %llu bytes, sha256 %s, read back and verified%s.",
		                        m->key, (unsigned long long)m->size, m->sha256,
		                        m->completes ? " (completes an earlier interrupted run)"
		                                     : "");
	else
		chored_report_paragraph(r, "%s — not verified.", *m->key ? m->key : "no object");
	for (size_t g = 0; g < o->n_groups; g++) {
		const struct ar_top *t = &m->top[g];
		if (!t->n)
			continue;
		snprintf(h, sizeof h, "Rows by %s", o->groups[g]);
		chored_report_heading(r, 3, h);
		const char *head[] = {o->groups[g], "rows"};
		chored_report_table_begin(r, 2, head);
		for (size_t i = 0; i < t->n; i++) {
			char c[24];
			fmt_count(t->count[i], c, sizeof c);
			const char *cells[] = {t->value[i] ? t->value[i] : "(null)", c};
			chored_report_table_row(r, cells);
		}
		if (t->others) {
			char c[24];
			fmt_count(t->others, c, sizeof c);
			const char *cells[] = {"(others)", c};
			chored_report_table_row(r, cells);
		}
		chored_report_table_end(r);
	}
	chored_report_heading(r, 3, "Activity per day");
	const char *head[] = {"day", "rows"};
	chored_report_table_begin(r, 2, head);
	for (int d = 0; d < m->days; d++) {
		if (!m->per_day[d])
			continue;
		char day[48], c[24];
		snprintf(day, sizeof day, "%04d-%02d-%02d", m->year % 10000, m->month % 100, d + 1);
		fmt_count(m->per_day[d], c, sizeof c);
		const char *cells[] = {day, c};
		chored_report_table_row(r, cells);
	}
	chored_report_table_end(r);
}

struct chored_report *ar_report(const struct ar_opts *o, const char *store_desc,
                                const struct ar_month *ms, size_t n, enum chored_status status,
                                const char *failure)
{
	int64_t rows = 0;
	uint64_t bytes = 0;
	for (size_t i = 0; i < n; i++) {
		rows += ms[i].count;
		bytes += ms[i].size;
	}
	char title[160];
	snprintf(title, sizeof title, "Archive of %s: %lld row%s in %zu month%s", o->table,
	         (long long)rows, rows == 1 ? "" : "s", n, n == 1 ? "" : "s");
	struct chored_report *r = chored_report_new(title);
	if (!r)
		return NULL;
	chored_report_set_status(r, status);
	if (failure)
		chored_report_paragraph(r, "%s", failure);
	char v[32];
	fmt_count(rows, v, sizeof v);
	chored_report_figure(r, "Rows archived", v);
	snprintf(v, sizeof v, "%llu", (unsigned long long)bytes);
	chored_report_figure(r, "Bytes stored", v);
	chored_report_paragraph(r, "Table %s, store %s. %s", o->table, store_desc,
	                        status == CHORED_FAILED
	                            ? "Nothing was deleted."
	                            : "The archived rows are deleted once this report is sent.");
	for (size_t i = 0; i < n; i++)
		month_section(r, o, &ms[i]);
	return r;
}

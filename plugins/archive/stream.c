/* The archive object of one month, streamed both ways in constant memory: rows are read one
 * at a time from the database, written as JSON lines, gzip-compressed and pulled by the
 * store's upload; the read-back inflates the object as it arrives, counts the rows and
 * hashes the stored bytes. The object is one JSON document, one row per line:
 *   {"archive":{"table":…,"month":"2026-10",…,"columns":[…]},"rows":[
 *   {"id":"1",…}
 *   ,{"id":"2",…}
 *   ],"count":2,"aggregates":{…}}
 * Values are JSON strings as the database prints them (lossless), SQL NULL is null. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include <chored/crypto.h>
#include <chored/time.h>
#include <json-c/json.h>

#include "archive.h"

#define CHUNK    (64 * 1024)
#define MAX_LINE (64u * 1024 * 1024) /* a longer row line is a corrupt object */

/* ------------------------------------------------------------------ writing */

enum phase { PH_HEADER, PH_ROWS, PH_FOOTER, PH_FINISH, PH_DONE };

struct writer {
	struct chored_job *job;      /* borrowed */
	struct chored_db *db;        /* borrowed */
	struct chored_db_rows *rows; /* owned */
	const struct ar_opts *o;
	struct ar_month *m;
	int ncols; /* the table's columns; the query's last column is the epoch */
	int64_t day_start[32];
	enum phase phase;
	z_stream z;
	bool z_init;
	char *out; /* bytes ready for the store: out[pos, len) */
	size_t len, pos, cap;
	struct chored_sha256 *sha; /* of every byte handed to the store */
	uint64_t bytes;
	char err[256];
};

static int out_reserve(struct writer *w, size_t more)
{
	if (w->pos == w->len)
		w->pos = w->len = 0;
	if (w->len + more <= w->cap)
		return 0;
	size_t cap = w->cap ? w->cap : CHUNK;
	while (cap < w->len + more)
		cap *= 2;
	char *p = realloc(w->out, cap);
	if (!p) {
		snprintf(w->err, sizeof w->err, "out of memory");
		return -1;
	}
	w->out = p;
	w->cap = cap;
	return 0;
}

/* Appends text to the output, compressed when gzip is on; finish ends the gzip stream. */
static int emit(struct writer *w, const char *text, size_t n, bool finish)
{
	if (!w->o->gzip) {
		if (out_reserve(w, n) < 0)
			return -1;
		memcpy(w->out + w->len, text, n);
		w->len += n;
		return 0;
	}
	w->z.next_in = (Bytef *)(uintptr_t)text;
	w->z.avail_in = (uInt)n;
	for (;;) {
		if (out_reserve(w, CHUNK) < 0)
			return -1;
		w->z.next_out = (Bytef *)w->out + w->len;
		w->z.avail_out = CHUNK;
		int rc = deflate(&w->z, finish ? Z_FINISH : Z_NO_FLUSH);
		w->len += CHUNK - w->z.avail_out;
		if (rc == Z_STREAM_END)
			return 0;
		if (rc != Z_OK && rc != Z_BUF_ERROR) {
			snprintf(w->err, sizeof w->err, "gzip: deflate failed (%d)", rc);
			return -1;
		}
		if (!finish && w->z.avail_in == 0 && w->z.avail_out != 0)
			return 0;
	}
}

static void iso(int64_t t, char buf[40])
{
	chored_time_iso(t, 0, 1, buf, 40);
}

static int emit_json(struct writer *w, const char *pre, struct json_object *j, const char *post)
{
	const char *s = json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN |
	                                                      JSON_C_TO_STRING_NOSLASHESCAPE);
	int rc = emit(w, pre, strlen(pre), false);
	if (rc == 0)
		rc = emit(w, s, strlen(s), false);
	if (rc == 0)
		rc = emit(w, post, strlen(post), false);
	return rc;
}

static int emit_header(struct writer *w)
{
	char from[40], until[40], month[32];
	iso(w->m->from, from);
	iso(w->m->until, until);
	snprintf(month, sizeof month, "%04d-%02d", w->m->year % 10000, w->m->month % 100);
	struct json_object *a = json_object_new_object(), *cols = json_object_new_array();
	json_object_object_add(a, "table", json_object_new_string(w->o->table));
	json_object_object_add(a, "time_column", json_object_new_string(w->o->time_column));
	json_object_object_add(a, "month", json_object_new_string(month));
	json_object_object_add(a, "timezone", json_object_new_string(w->o->zone));
	json_object_object_add(a, "from", json_object_new_string(from));
	json_object_object_add(a, "until", json_object_new_string(until));
	for (int i = 0; i < w->ncols; i++)
		json_object_array_add(cols,
		                      json_object_new_string(chored_db_column_name(w->rows, i)));
	json_object_object_add(a, "columns", cols);
	int rc = emit_json(w, "{\"archive\":", a, ",\"rows\":[\n");
	json_object_put(a);
	return rc;
}

static void count_day(struct writer *w, const char *epoch)
{
	char *end;
	long long t = epoch ? strtoll(epoch, &end, 10) : 0;
	if (!epoch)
		return;
	for (int d = 0; d < w->m->days; d++)
		if (t >= w->day_start[d] && t < w->day_start[d + 1]) {
			w->m->per_day[d]++;
			return;
		}
}

static int emit_row(struct writer *w)
{
	struct json_object *row = json_object_new_object();
	for (int i = 0; i < w->ncols; i++) {
		const char *v = chored_db_value(w->rows, i);
		json_object_object_add(row, chored_db_column_name(w->rows, i),
		                       v ? json_object_new_string(v) : NULL);
	}
	count_day(w, chored_db_value(w->rows, w->ncols));
	int rc = emit_json(w, w->m->count ? "," : "", row, "\n");
	json_object_put(row);
	w->m->count++;
	return rc;
}

static struct json_object *aggregates_json(const struct ar_opts *o, const struct ar_month *m)
{
	struct json_object *ag = json_object_new_object(), *days = json_object_new_object(),
	                   *tops = json_object_new_object();
	for (int d = 0; d < m->days; d++) {
		char day[48];
		snprintf(day, sizeof day, "%04d-%02d-%02d", m->year % 10000, m->month % 100, d + 1);
		if (m->per_day[d])
			json_object_object_add(days, day, json_object_new_int64(m->per_day[d]));
	}
	for (size_t g = 0; g < o->n_groups; g++) {
		struct json_object *arr = json_object_new_array();
		for (size_t i = 0; i < m->top[g].n; i++) {
			struct json_object *pair = json_object_new_array();
			json_object_array_add(pair, m->top[g].value[i]
			                                ? json_object_new_string(m->top[g].value[i])
			                                : NULL);
			json_object_array_add(pair, json_object_new_int64(m->top[g].count[i]));
			json_object_array_add(arr, pair);
		}
		json_object_object_add(tops, o->groups[g], arr);
	}
	json_object_object_add(ag, "per_day", days);
	json_object_object_add(ag, "top", tops);
	return ag;
}

static int emit_footer(struct writer *w)
{
	char pre[64];
	snprintf(pre, sizeof pre, "],\"count\":%lld,\"aggregates\":", (long long)w->m->count);
	struct json_object *ag = aggregates_json(w->o, w->m);
	int rc = emit_json(w, pre, ag, "}\n");
	json_object_put(ag);
	return rc;
}

/* Makes more output; -1 on an error (w->err). */
static int produce(struct writer *w)
{
	switch (w->phase) {
	case PH_HEADER:
		w->phase = PH_ROWS;
		return emit_header(w);
	case PH_ROWS: {
		int rc = chored_db_next(w->rows);
		if (rc < 0) {
			snprintf(w->err, sizeof w->err, "reading rows: %s", chored_db_error(w->db));
			return -1;
		}
		if (rc == 0) {
			w->phase = PH_FOOTER;
			return 0;
		}
		return emit_row(w);
	}
	case PH_FOOTER:
		w->phase = PH_FINISH;
		return emit_footer(w);
	case PH_FINISH:
		w->phase = PH_DONE;
		return w->o->gzip ? emit(w, "", 0, true) : 0;
	case PH_DONE:
		break;
	}
	return 0;
}

static size_t pull(void *buf, size_t len, void *data)
{
	struct writer *w = data;
	while (w->pos == w->len) {
		if (w->phase == PH_DONE)
			return 0;
		if (chored_job_cancelled(w->job)) {
			snprintf(w->err, sizeof w->err, "cancelled");
			return (size_t)-1;
		}
		if (produce(w) < 0)
			return (size_t)-1;
	}
	size_t n = w->len - w->pos < len ? w->len - w->pos : len;
	memcpy(buf, w->out + w->pos, n);
	chored_sha256_update(w->sha, buf, n);
	w->pos += n;
	w->bytes += n;
	return n;
}

int ar_upload(struct chored_job *job, struct chored_db *db, struct chored_store *st,
              const struct ar_opts *o, const struct ar_sql *q, struct ar_month *m, char *err,
              size_t errlen)
{
	struct writer w = {.job = job, .db = db, .o = o, .m = m};
	m->count = 0;
	memset(m->per_day, 0, sizeof m->per_day);
	for (int d = 0; d <= m->days; d++)
		if (chored_time_utc(o->zone, m->year, m->month, d + 1, 0, 0, 0, &w.day_start[d]) <
		    0) {
			snprintf(err, errlen, "time zone %s: cannot compute the days of %04d-%02d",
			         o->zone, m->year, m->month);
			return -1;
		}
	char *sql = ar_sql_fmt("SELECT *, %s FROM %s WHERE %s >= ? AND %s < ? ORDER BY %s",
	                       q->epoch, q->table, q->epoch, q->epoch, q->epoch);
	struct chored_db_param p[] = {CHORED_DB_P_INT(m->from), CHORED_DB_P_INT(m->until)};
	w.rows = sql ? chored_db_query(db, sql, p, 2) : NULL;
	free(sql);
	if (!w.rows) {
		snprintf(err, errlen, "%s: %s", o->table,
		         sql ? chored_db_error(db) : "out of memory");
		return -1;
	}
	w.ncols = chored_db_columns(w.rows) - 1;
	w.sha = chored_sha256_new();
	if (o->gzip) {
		/* windowBits 15 + 16: a gzip member; its header's mtime is 0, so the same rows
		 * always give the same bytes. */
		w.z_init =
		    deflateInit2(&w.z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK;
	}
	int rc = -1;
	if (!w.sha || (o->gzip && !w.z_init)) {
		snprintf(err, errlen, "out of memory");
	} else {
		struct chored_store_put_info info;
		rc = chored_store_put(st, m->key, pull, &w, &info);
		if (rc < 0) {
			snprintf(err, errlen, "%s%s%s", chored_store_error(st), *w.err ? ": " : "",
			         w.err);
		} else if (info.size != w.bytes) {
			snprintf(err, errlen, "%s: the store took %llu bytes of %llu", m->key,
			         (unsigned long long)info.size, (unsigned long long)w.bytes);
			rc = -1;
		} else {
			chored_sha256_final_hex(w.sha, m->sha256);
			m->size = w.bytes;
		}
	}
	chored_db_rows_free(w.rows);
	chored_sha256_free(w.sha);
	if (w.z_init)
		deflateEnd(&w.z);
	free(w.out);
	return rc;
}

/* ------------------------------------------------------------------ reading back */

struct reader {
	bool gzip;
	z_stream z;
	bool z_init, z_end;
	struct chored_sha256 *sha;
	uint64_t bytes;
	char *line;
	size_t len, cap;
	bool header, footer;
	int64_t rows, footer_count;
	bool first_only;
	struct json_object *first; /* owned */
	char err[256];
};

static int on_line(struct reader *r, char *line)
{
	if (!r->header) {
		if (strncmp(line, "{\"archive\":", 11) != 0) {
			snprintf(r->err, sizeof r->err, "not an archive object (no header line)");
			return -1;
		}
		r->header = true;
		return 0;
	}
	if (r->footer) {
		snprintf(r->err, sizeof r->err, "data after the closing line");
		return -1;
	}
	if (line[0] == ']') {
		r->footer = true;
		line[1] = '{'; /* "],\"count\":…}" -> "{\"count\":…}" */
		struct json_object *f = json_tokener_parse(line + 1), *c;
		bool okc = f && json_object_object_get_ex(f, "count", &c) &&
		           json_object_is_type(c, json_type_int);
		r->footer_count = okc ? json_object_get_int64(c) : -1;
		json_object_put(f);
		if (!okc) {
			snprintf(r->err, sizeof r->err, "the closing line has no count");
			return -1;
		}
		return 0;
	}
	if ((r->rows > 0) != (line[0] == ',')) {
		snprintf(r->err, sizeof r->err, "row %lld is not a row line",
		         (long long)r->rows + 1);
		return -1;
	}
	struct json_object *row = json_tokener_parse(line + (line[0] == ','));
	if (!row || !json_object_is_type(row, json_type_object)) {
		json_object_put(row);
		snprintf(r->err, sizeof r->err, "row %lld is not a JSON object",
		         (long long)r->rows + 1);
		return -1;
	}
	r->rows++;
	if (r->first_only) {
		r->first = row;
		return -1; /* enough */
	}
	json_object_put(row);
	return 0;
}

static int on_text(struct reader *r, const char *p, size_t n)
{
	while (n) {
		const char *nl = memchr(p, '\n', n);
		size_t k = nl ? (size_t)(nl - p) : n;
		if (r->len + k + 1 > MAX_LINE) {
			snprintf(r->err, sizeof r->err, "a line longer than %u bytes", MAX_LINE);
			return -1;
		}
		if (r->len + k + 1 > r->cap) {
			size_t cap = r->cap ? r->cap : 4096;
			while (cap < r->len + k + 1)
				cap *= 2;
			char *l = realloc(r->line, cap);
			if (!l) {
				snprintf(r->err, sizeof r->err, "out of memory");
				return -1;
			}
			r->line = l;
			r->cap = cap;
		}
		memcpy(r->line + r->len, p, k);
		r->len += k;
		r->line[r->len] = 0;
		if (!nl)
			return 0;
		if (on_line(r, r->line) < 0)
			return -1;
		r->len = 0;
		p += k + 1;
		n -= k + 1;
	}
	return 0;
}

static int take(const void *buf, size_t len, void *data)
{
	struct reader *r = data;
	chored_sha256_update(r->sha, buf, len);
	r->bytes += len;
	if (!r->gzip)
		return on_text(r, buf, len);
	unsigned char out[CHUNK];
	r->z.next_in = (Bytef *)(uintptr_t)buf;
	r->z.avail_in = (uInt)len;
	while (r->z.avail_in) {
		if (r->z_end) {
			snprintf(r->err, sizeof r->err, "data after the end of the gzip stream");
			return -1;
		}
		r->z.next_out = out;
		r->z.avail_out = sizeof out;
		int rc = inflate(&r->z, Z_NO_FLUSH);
		if (rc != Z_OK && rc != Z_STREAM_END) {
			snprintf(r->err, sizeof r->err, "not valid gzip data (%s)",
			         r->z.msg ? r->z.msg : "inflate failed");
			return -1;
		}
		if (on_text(r, (const char *)out, sizeof out - r->z.avail_out) < 0)
			return -1;
		if (rc == Z_STREAM_END)
			r->z_end = true;
	}
	return 0;
}

static int reader_init(struct reader *r, const struct ar_opts *o)
{
	memset(r, 0, sizeof *r);
	r->gzip = o->gzip;
	r->sha = chored_sha256_new();
	if (r->gzip)
		r->z_init = inflateInit2(&r->z, 15 + 16) == Z_OK;
	return r->sha && (!r->gzip || r->z_init) ? 0 : -1;
}

static void reader_free(struct reader *r)
{
	chored_sha256_free(r->sha);
	if (r->z_init)
		inflateEnd(&r->z);
	free(r->line);
	json_object_put(r->first);
}

int ar_verify(struct chored_job *job, struct chored_store *st, const struct ar_opts *o,
              struct ar_month *m, char *err, size_t errlen)
{
	(void)job;
	struct reader r;
	if (reader_init(&r, o) < 0) {
		reader_free(&r);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	uint64_t size = 0;
	int rc = chored_store_get(st, m->key, take, &r, &size);
	char sha[CHORED_SHA256_HEX_LEN] = "";
	if (rc == 0)
		chored_sha256_final_hex(r.sha, sha);
	if (rc == CHORED_STORE_NOT_FOUND)
		snprintf(err, errlen, "read-back of %s: the object is missing", m->key);
	else if (rc < 0)
		snprintf(err, errlen, "read-back of %s: %s", m->key,
		         *r.err ? r.err : chored_store_error(st));
	else if (r.bytes != m->size)
		snprintf(err, errlen, "read-back of %s: %llu bytes, %llu uploaded", m->key,
		         (unsigned long long)r.bytes, (unsigned long long)m->size);
	else if (strcmp(sha, m->sha256) != 0)
		snprintf(err, errlen, "read-back of %s: sha256 %s differs from the uploaded %s",
		         m->key, sha, m->sha256);
	else if ((r.gzip && !r.z_end) || !r.footer || r.len)
		snprintf(err, errlen, "read-back of %s: the object is truncated", m->key);
	else if (r.rows != m->count || r.footer_count != m->count)
		snprintf(err, errlen,
		         "read-back of %s: %lld rows (closing count %lld), %lld archived", m->key,
		         (long long)r.rows, (long long)r.footer_count, (long long)m->count);
	else {
		m->verified = true;
		reader_free(&r);
		return 0;
	}
	reader_free(&r);
	return -1;
}

struct json_object *ar_first_row(struct chored_store *st, const struct ar_opts *o, const char *key,
                                 char *err, size_t errlen)
{
	struct reader r;
	if (reader_init(&r, o) < 0) {
		reader_free(&r);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	r.first_only = true;
	int rc = chored_store_get(st, key, take, &r, NULL);
	struct json_object *row = r.first;
	r.first = NULL;
	if (!row) {
		if (rc == 0)
			snprintf(err, errlen, "%s holds no row", key);
		else
			snprintf(err, errlen, "reading %s: %s", key,
			         *r.err ? r.err : chored_store_error(st));
	}
	reader_free(&r);
	return row;
}

/* The d1 backend: Cloudflare D1 over its REST API (api-contracts §7) through the http
 * service. Statements go to /raw with their parameters in "params" (strings, or null);
 * the answer holds the whole result (no streaming over REST). No transactions. Reads are
 * retried on 429 and 5xx; writes only on 429 (the server did not act on those), since a
 * write answered 5xx may have been applied. The export is in db_d1_export.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include <chored/http.h>

#include "db_impl.h"

#define DEFAULT_BASE "https://api.cloudflare.com/client/v4"

/* Cuts query strings out of a message (a signed URL's signature, say). */
static void strip_queries(char *m)
{
	char *q;
	while ((q = strchr(m, '?'))) {
		size_t l = strcspn(q, " \t\n),;\"'");
		memmove(q, q + l, strlen(q + l) + 1);
	}
}

/* The message of a D1 error envelope, or NULL when `body` is none. Malloc'd. */
static char *envelope_error(const char *body)
{
	struct json_object *o = body ? json_tokener_parse(body) : NULL;
	struct json_object *errs = chored_json_path(o, "errors");
	char *out = NULL;
	if (errs && json_object_is_type(errs, json_type_array) &&
	    json_object_array_length(errs) > 0) {
		struct json_object *e = json_object_array_get_idx(errs, 0);
		const char *msg = json_object_get_string(chored_json_path(e, "message"));
		int code = json_object_get_int(chored_json_path(e, "code"));
		size_t n = (msg ? strlen(msg) : 0) + 32;
		if ((out = malloc(n)))
			snprintf(out, n, "%s (code %d)", msg ? msg : "error", code);
	}
	json_object_put(o);
	return out;
}

int d1_post(struct chored_db *db, const char *endpoint, struct json_object *body, bool write,
            struct json_object **result)
{
	*result = NULL;
	size_t n = strlen(db->base_url) + strlen(db->url.account) + strlen(db->url.database) +
	           strlen(endpoint) + 64;
	char *url = malloc(n);
	if (!url)
		return db_fail(db, "d1: out of memory");
	snprintf(url, n, "%s/accounts/%s/d1/database/%s/%s", db->base_url, db->url.account,
	         db->url.database, endpoint);
	struct chored_http_request req = {
	    .method = "POST",
	    .url = url,
	    .bearer = db->secrets[1],
	    .timeout_ms = db->timeout_ms,
	    .no_retry_after_send = write,
	};
	struct chored_http_response resp;
	struct json_object *out = NULL;
	int rc = chored_http_json(db->job, &req, body, &out, &resp);
	free(url);
	if (rc < 0) {
		char *why = resp.status ? envelope_error(resp.body) : NULL;
		char m[300];
		snprintf(m, sizeof m, "%s", resp.error);
		strip_queries(m);
		if (why)
			db_fail(db, "d1: %s: HTTP %ld: %s", endpoint, resp.status, why);
		else
			db_fail(db, "d1: %s: %s", endpoint, m);
		free(why);
		chored_http_response_free(&resp);
		return -1;
	}
	chored_http_response_free(&resp);
	struct json_object *ok = chored_json_path(out, "success");
	if (!out || !ok || !json_object_get_boolean(ok)) {
		char *why = NULL;
		if (out && ok) {
			why = envelope_error(json_object_to_json_string(out));
		}
		db_fail(db, "d1: %s: %s", endpoint,
		        why ? why : "malformed answer: no \"success\" member in the envelope");
		free(why);
		json_object_put(out);
		return -1;
	}
	struct json_object *res = chored_json_path(out, "result");
	if (!res) {
		json_object_put(out);
		return db_fail(db, "d1: %s: malformed answer: no \"result\"", endpoint);
	}
	*result = json_object_get(res);
	json_object_put(out);
	return 0;
}

/* {"sql": sql, "params": [...]}: integers as decimal strings (the API types params as
 * strings; CAST in SQL where the type matters), NULL as null. */
static struct json_object *query_body(const char *sql, const struct chored_db_param *p, size_t n)
{
	struct json_object *b = json_object_new_object();
	json_object_object_add(b, "sql", json_object_new_string(sql));
	struct json_object *a = json_object_new_array();
	for (size_t i = 0; i < n; i++) {
		char num[24];
		if (p[i].type == CHORED_DB_INT) {
			snprintf(num, sizeof num, "%lld", (long long)p[i].i);
			json_object_array_add(a, json_object_new_string(num));
		} else if (p[i].type == CHORED_DB_TEXT && p[i].text) {
			json_object_array_add(a, json_object_new_string(p[i].text));
		} else {
			json_object_array_add(a, NULL);
		}
	}
	json_object_object_add(b, "params", a);
	return b;
}

/* The last statement's result of a /raw answer, checked. Borrowed from `result`. */
static struct json_object *last_result(struct chored_db *db, struct json_object *result)
{
	size_t n =
	    json_object_is_type(result, json_type_array) ? json_object_array_length(result) : 0;
	struct json_object *r = n ? json_object_array_get_idx(result, n - 1) : NULL;
	struct json_object *cols = chored_json_path(r, "results.columns");
	struct json_object *rows = chored_json_path(r, "results.rows");
	if (!r || !json_object_is_type(cols, json_type_array) ||
	    !json_object_is_type(rows, json_type_array)) {
		db_fail(db, "d1: raw: malformed answer: no results.columns and results.rows");
		return NULL;
	}
	return r;
}

/* D1 runs several statements of one "sql" as a batch; the API promises one statement per
 * call on every backend, as SQLite and PostgreSQL enforce it. */
static int one_statement(struct chored_db *db, const char *sql)
{
	char brief[80];
	if (db_count_statements(sql) > 1)
		return db_fail(db, "d1: one statement per call; more SQL follows in \"%s\"",
		               db_sql_brief(sql, brief, sizeof brief));
	return 0;
}

static int d1_exec(struct chored_db *db, const char *sql, const struct chored_db_param *p, size_t n,
                   int64_t *changes)
{
	if (one_statement(db, sql) < 0)
		return -1;
	struct json_object *body = query_body(sql, p, n), *result;
	int rc = d1_post(db, "raw", body, true, &result);
	json_object_put(body);
	if (rc < 0)
		return -1;
	struct json_object *r = last_result(db, result);
	if (r)
		*changes = json_object_get_int64(chored_json_path(r, "meta.changes"));
	json_object_put(result);
	return r ? 0 : -1;
}

struct d1_rows {
	struct json_object *result; /* owned: the whole answer */
	struct json_object *rows;   /* borrowed from result */
	size_t next;
};

static int d1_query(struct chored_db *db, struct chored_db_rows *rows, const char *sql,
                    const struct chored_db_param *p, size_t n)
{
	struct d1_rows *dr = calloc(1, sizeof *dr);
	if (!dr)
		return db_fail(db, "d1: out of memory");
	rows->priv = dr;
	if (one_statement(db, sql) < 0)
		return -1;
	struct json_object *body = query_body(sql, p, n);
	int rc = d1_post(db, "raw", body, false, &dr->result);
	json_object_put(body);
	if (rc < 0)
		return -1;
	struct json_object *r = last_result(db, dr->result);
	if (!r)
		return -1;
	struct json_object *cols = chored_json_path(r, "results.columns");
	dr->rows = chored_json_path(r, "results.rows");
	rows->ncols = (int)json_object_array_length(cols);
	rows->names = calloc((size_t)rows->ncols + 1, sizeof *rows->names);
	rows->vals = calloc((size_t)rows->ncols + 1, sizeof *rows->vals);
	if (!rows->names || !rows->vals)
		return db_fail(db, "d1: out of memory");
	for (int i = 0; i < rows->ncols; i++) {
		const char *name = json_object_get_string(json_object_array_get_idx(cols, i));
		if (!(rows->names[i] = strdup(name ? name : "")))
			return db_fail(db, "d1: out of memory");
	}
	return 0;
}

static int d1_next(struct chored_db_rows *rows)
{
	struct d1_rows *dr = rows->priv;
	if (dr->next >= json_object_array_length(dr->rows))
		return 0;
	struct json_object *row = json_object_array_get_idx(dr->rows, dr->next++);
	if (!json_object_is_type(row, json_type_array) ||
	    json_object_array_length(row) != (size_t)rows->ncols)
		return db_fail(rows->db, "d1: raw: malformed answer: row %zu has not %d values",
		               dr->next, rows->ncols);
	for (int i = 0; i < rows->ncols; i++) {
		struct json_object *v = json_object_array_get_idx(row, i);
		if (json_object_is_type(v, json_type_boolean))
			rows->vals[i] = json_object_get_boolean(v) ? "1" : "0";
		else
			rows->vals[i] = v ? json_object_get_string(v) : NULL;
	}
	return 1;
}

static void d1_rows_close(struct chored_db_rows *rows)
{
	struct d1_rows *dr = rows->priv;
	if (!dr)
		return;
	json_object_put(dr->result);
	free(dr);
	rows->priv = NULL;
}

/* Restore: statements joined into one "sql" of several statements (one request). */
static int d1_batch(struct chored_db *db, const char *const *stmts, size_t n)
{
	size_t len = 1;
	for (size_t i = 0; i < n; i++)
		len += strlen(stmts[i]) + 1;
	char *sql = malloc(len), *o = sql;
	if (!sql)
		return db_fail(db, "d1: out of memory");
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(stmts[i]);
		memcpy(o, stmts[i], l);
		o += l;
		*o++ = '\n';
	}
	*o = '\0';
	struct json_object *body = json_object_new_object(), *result = NULL;
	json_object_object_add(body, "sql", json_object_new_string(sql));
	free(sql);
	int rc = d1_post(db, "query", body, true, &result);
	json_object_put(body);
	json_object_put(result);
	return rc;
}

static int d1_open(struct chored_db *db, const struct chored_db_options *opts)
{
	if (!db->secrets[1])
		return db_fail(db, "d1: %s: no API token given (a secret option)", db->url.shown);
	const char *base = opts->base_url && *opts->base_url ? opts->base_url : DEFAULT_BASE;
	size_t l = strlen(base);
	while (l && base[l - 1] == '/')
		l--;
	if (!(db->base_url = strndup(base, l)))
		return db_fail(db, "d1: out of memory");
	if (strncmp(db->base_url, "https://", 8) != 0 && strncmp(db->base_url, "http://", 7) != 0)
		return db_fail(db, "d1: base URL \"%s\" is not http(s)://", db->base_url);
	/* One cheap query checks token and database now, not at the first real statement. */
	int64_t one;
	db->priv = db; /* no connection object; non-NULL marks "open" */
	if (chored_db_query_int(db, "SELECT 1", NULL, 0, &one) < 0) {
		char why[sizeof db->err];
		snprintf(why, sizeof why, "%s",
		         strncmp(db->err, "d1: ", 4) ? db->err : db->err + 4);
		return db_fail(db, "d1: %s: %s", db->url.shown, why);
	}
	return 0;
}

static void d1_close(struct chored_db *db)
{
	db->priv = NULL;
}

const struct db_ops db_d1_ops = {
    .name = "d1",
    .open = d1_open,
    .close = d1_close,
    .exec = d1_exec,
    .query = d1_query,
    .next = d1_next,
    .rows_close = d1_rows_close,
    .txn = NULL,
    .tables_sql = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE "
                  "'sqlite\\_%' ESCAPE '\\' AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\' "
                  "ORDER BY name",
    .dump = d1_dump,
    .batch = d1_batch,
};

/* The Kit (ConvertKit) API v4 export: every subscriber (status=all, ascending id, cursor
 * pages of 1000) into kit-subscribers.json, every tag with its subscribers into
 * kit-tags.json. One page is held at a time; each item is written out as it comes.
 * Requests are paced to Kit's 120 per minute (api-contracts §2); a 429 ("Retry later", no
 * header) or a 5xx is retried with backoff by the http service. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <chored/http.h>

#include "backup.h"

#define KIT_PER_PAGE  1000
#define KIT_RATE      120
#define KIT_WINDOW_NS (60LL * 1000000000LL)

struct kit {
	struct chored_job *job;
	const struct bk_opts *o;
	char auth[600];
	int64_t sent[KIT_RATE]; /* CLOCK_MONOTONIC of the last KIT_RATE requests, a ring */
	unsigned n_sent;
	unsigned requests;
	char *err;
	size_t errlen;
};

static int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Waits until one more request keeps the last minute within KIT_RATE requests. */
static int kit_pace(struct kit *k)
{
	if (k->n_sent >= KIT_RATE) {
		int64_t oldest = k->sent[k->n_sent % KIT_RATE];
		while (mono_ns() < oldest + KIT_WINDOW_NS) {
			if (chored_job_cancelled(k->job))
				return -1;
			struct timespec ts = {0, 100 * 1000000L};
			nanosleep(&ts, NULL);
		}
	}
	k->sent[k->n_sent++ % KIT_RATE] = mono_ns();
	return 0;
}

/* GETs one page of `path` (query already set but the cursor); *out owned. */
static int kit_page(struct kit *k, const char *path, const char *cursor, struct json_object **out)
{
	char *url = NULL;
	if (asprintf(&url, "%s%s", k->o->kit_base_url, path) < 0)
		return -1;
	if (cursor)
		chored_http_url_add_query(&url, "after", cursor);
	const char *headers[] = {k->auth, NULL};
	/* Kit's 429 carries no Retry-After and its window resets within 60 s: back off from
	 * 2 s up to 60 s; a 5xx gets the same patience. */
	struct chored_http_request req = {.url = url,
	                                  .headers = headers,
	                                  .max_attempts = 6,
	                                  .backoff_base_ms = 2000,
	                                  .backoff_max_ms = 60000};
	struct chored_http_response resp;
	memset(&resp, 0, sizeof resp);
	int rc = kit_pace(k);
	if (rc == 0)
		rc = chored_http_json(k->job, &req, NULL, out, &resp);
	k->requests += resp.attempts ? resp.attempts : 1;
	if (rc < 0) {
		/* Kit's error body: {"errors":["The access token is invalid"]}. */
		struct json_object *e = resp.body ? json_tokener_parse(resp.body) : NULL;
		struct json_object *msgs = e ? json_object_object_get(e, "errors") : NULL;
		const char *m = json_object_is_type(msgs, json_type_array)
		                    ? json_object_get_string(json_object_array_get_idx(msgs, 0))
		                    : NULL;
		snprintf(k->err, k->errlen, "Kit %s: %s%s%s", path,
		         chored_job_cancelled(k->job) ? "cancelled" : resp.error, m ? ": " : "",
		         m ? m : "");
		json_object_put(e);
	}
	chored_http_response_free(&resp);
	free(url);
	return rc;
}

/* The items array and the next cursor (NULL: last page) of a page, checked. */
static int page_parts(struct kit *k, const char *path, struct json_object *page, const char *member,
                      struct json_object **items, const char **next)
{
	struct json_object *pag = json_object_object_get(page, "pagination");
	*items = json_object_object_get(page, member);
	struct json_object *more = json_object_object_get(pag, "has_next_page");
	if (!json_object_is_type(*items, json_type_array) ||
	    !json_object_is_type(more, json_type_boolean)) {
		snprintf(k->err, k->errlen,
		         "Kit %s: malformed answer: no \"%s\" array or pagination.has_next_page",
		         path, member);
		return -1;
	}
	*next = NULL;
	if (json_object_get_boolean(more)) {
		struct json_object *c = json_object_object_get(pag, "end_cursor");
		if (!json_object_is_type(c, json_type_string) || !*json_object_get_string(c)) {
			snprintf(k->err, k->errlen,
			         "Kit %s: malformed answer: has_next_page without end_cursor",
			         path);
			return -1;
		}
		*next = json_object_get_string(c);
	}
	return 0;
}

static int put_str(struct kit *k, struct bk_enc *e, const char *s)
{
	if (bk_enc_write(e, s, strlen(s)) < 0) {
		snprintf(k->err, k->errlen, "%s", bk_enc_error(e));
		return -1;
	}
	return 0;
}

/* Walks every page of `path` writing each item (JSON, one a line) to `e`; with
 * `ascending`, checks ids strictly increase. Counts items in *n. */
static int walk(struct kit *k, const char *path, const char *member, bool ascending,
                struct bk_enc *e, int64_t *n, bool *first)
{
	char *cursor = NULL;
	int64_t last_id = -1;
	int rc = 0;
	for (;;) {
		if (chored_job_cancelled(k->job)) {
			snprintf(k->err, k->errlen, "Kit export cancelled");
			rc = -1;
			break;
		}
		struct json_object *page = NULL, *items;
		const char *next;
		if (kit_page(k, path, cursor, &page) < 0 ||
		    page_parts(k, path, page, member, &items, &next) < 0) {
			json_object_put(page);
			rc = -1;
			break;
		}
		size_t len = json_object_array_length(items);
		for (size_t i = 0; i < len && rc == 0; i++) {
			struct json_object *it = json_object_array_get_idx(items, i);
			struct json_object *id = json_object_object_get(it, "id");
			if (!json_object_is_type(it, json_type_object) ||
			    !json_object_is_type(id, json_type_int)) {
				snprintf(k->err, k->errlen,
				         "Kit %s: malformed answer: an item without id", path);
				rc = -1;
				break;
			}
			int64_t v = json_object_get_int64(id);
			if (ascending && v <= last_id) {
				snprintf(k->err, k->errlen,
				         "Kit %s: id %lld after %lld: the listing is not in "
				         "ascending id "
				         "order",
				         path, (long long)v, (long long)last_id);
				rc = -1;
				break;
			}
			last_id = v;
			rc = put_str(k, e, *first ? "\n" : ",\n");
			*first = false;
			if (rc == 0)
				rc = put_str(
				    k, e,
				    json_object_to_json_string_ext(it, JSON_C_TO_STRING_PLAIN));
			(*n)++;
		}
		free(cursor);
		cursor = next && rc == 0 ? strdup(next) : NULL;
		json_object_put(page);
		if (rc < 0 || !cursor)
			break;
	}
	free(cursor);
	return rc;
}

static int finish(struct kit *k, struct bk_enc *e, struct bk_file *f)
{
	if (bk_enc_finish(e, &f->size, &f->raw, f->sha256) < 0) {
		snprintf(k->err, k->errlen, "%s: %s", f->name, bk_enc_error(e));
		return -1;
	}
	return 0;
}

static struct bk_enc *open_file(struct kit *k, enum bk_compress c, const char *dir,
                                const char *base, struct bk_file *f)
{
	snprintf(f->base, sizeof f->base, "%s", base);
	snprintf(f->name, sizeof f->name, "%s%s", base, bk_compress_suffix(c));
	snprintf(f->path, sizeof f->path, "%s/%s", dir, f->name);
	char oerr[256];
	struct bk_enc *e = bk_enc_open(c, f->path, oerr, sizeof oerr);
	if (!e)
		snprintf(k->err, k->errlen, "%s: %s", f->name, oerr);
	return e;
}

static int export_subscribers(struct kit *k, enum bk_compress c, const char *dir, struct bk_file *f)
{
	struct bk_enc *e = open_file(k, c, dir, "kit-subscribers.json", f);
	if (!e)
		return -1;
	bool first = true;
	char path[128];
	snprintf(path, sizeof path,
	         "/v4/subscribers?status=all&sort_field=id&sort_order=asc&per_page=%d",
	         KIT_PER_PAGE);
	int rc = put_str(k, e, "[");
	if (rc == 0)
		rc = walk(k, path, "subscribers", true, e, &f->records, &first);
	if (rc == 0)
		rc = put_str(k, e, "\n]\n");
	if (rc == 0)
		rc = finish(k, e, f);
	bk_enc_free(e);
	return rc;
}

/* kit-tags.json: [{"id":…,"name":…,"created_at":…,"subscribers":[{…},…]},…] */
static int export_tags(struct kit *k, enum bk_compress c, const char *dir, struct bk_file *f)
{
	struct bk_enc *e = open_file(k, c, dir, "kit-tags.json", f);
	if (!e)
		return -1;
	char *cursor = NULL;
	char tpath[64];
	snprintf(tpath, sizeof tpath, "/v4/tags?per_page=%d", KIT_PER_PAGE);
	int rc = put_str(k, e, "[");
	bool first_tag = true;
	while (rc == 0) {
		struct json_object *page = NULL, *items;
		const char *next;
		if (kit_page(k, tpath, cursor, &page) < 0 ||
		    page_parts(k, tpath, page, "tags", &items, &next) < 0) {
			json_object_put(page);
			rc = -1;
			break;
		}
		for (size_t i = 0; rc == 0 && i < json_object_array_length(items); i++) {
			struct json_object *tag = json_object_array_get_idx(items, i);
			struct json_object *id = json_object_object_get(tag, "id");
			if (!json_object_is_type(tag, json_type_object) ||
			    !json_object_is_type(id, json_type_int)) {
				snprintf(k->err, k->errlen,
				         "Kit %s: malformed answer: a tag without id", tpath);
				rc = -1;
				break;
			}
			/* The tag's members, then its subscribers as one more member. */
			const char *s = json_object_to_json_string_ext(tag, JSON_C_TO_STRING_PLAIN);
			size_t n = strlen(s);
			rc = put_str(k, e, first_tag ? "\n" : ",\n");
			first_tag = false;
			if (rc == 0 && bk_enc_write(e, s, n - 1) < 0) {
				snprintf(k->err, k->errlen, "%s", bk_enc_error(e));
				rc = -1;
			}
			if (rc == 0)
				rc = put_str(k, e,
				             n > 2 ? ",\"subscribers\":[" : "\"subscribers\":[");
			char spath[128];
			snprintf(spath, sizeof spath,
			         "/v4/tags/%lld/subscribers?status=all&per_page=%d",
			         (long long)json_object_get_int64(id), KIT_PER_PAGE);
			bool first = true;
			int64_t members = 0;
			if (rc == 0)
				rc = walk(k, spath, "subscribers", false, e, &members, &first);
			f->nested += members;
			f->records++;
			if (rc == 0)
				rc = put_str(k, e, first ? "]}" : "\n]}");
		}
		free(cursor);
		cursor = next && rc == 0 ? strdup(next) : NULL;
		json_object_put(page);
		if (!cursor)
			break;
	}
	free(cursor);
	if (rc == 0)
		rc = put_str(k, e, "\n]\n");
	if (rc == 0)
		rc = finish(k, e, f);
	bk_enc_free(e);
	return rc;
}

int bk_kit_export(struct chored_job *job, const struct bk_opts *o, enum bk_compress c,
                  const char *dir, struct bk_file *subs, struct bk_file *tags, char *err,
                  size_t errlen)
{
	struct kit *k = calloc(1, sizeof *k);
	if (!k) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	k->job = job;
	k->o = o;
	k->err = err;
	k->errlen = errlen;
	snprintf(k->auth, sizeof k->auth, "X-Kit-Api-Key: %s", o->kit_api_key);
	int rc = export_subscribers(k, c, dir, subs);
	if (rc == 0)
		rc = export_tags(k, c, dir, tags);
	char n[24];
	snprintf(n, sizeof n, "%u", k->requests);
	chored_log_kv(job, CHORED_LOG_INFO, "Kit export", "requests", n, NULL);
	explicit_bzero(k->auth, sizeof k->auth);
	free(k);
	return rc;
}

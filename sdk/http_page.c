/* chored_http_paginate: walks a listing page by page (cursor, offset or page token), one
 * parsed page in memory at a time. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_impl.h"

#define DEFAULT_MAX_PAGES 100000L

/* Where the walk stands between pages. */
struct walk {
	char *cursor; /* owned: the value of cursor_param for the next page, NULL on the first */
	long skip;    /* OFFSET */
	bool done;
};

/* The URL of the next page (owned), or NULL on allocation failure. */
static char *page_url(const struct chored_http_request *req, const struct chored_http_pager *pg,
                      const struct walk *w)
{
	char *url = strdup(req->url);
	char num[32];
	if (url && pg->size_param && pg->size > 0) {
		snprintf(num, sizeof num, "%ld", pg->size);
		if (chored_http_url_add_query(&url, pg->size_param, num) != 0)
			goto fail;
	}
	if (url && pg->kind == CHORED_PAGE_OFFSET) {
		snprintf(num, sizeof num, "%ld", w->skip);
		if (chored_http_url_add_query(&url, pg->cursor_param ? pg->cursor_param : "skip",
		                              num) != 0)
			goto fail;
	} else if (url && w->cursor &&
	           chored_http_url_add_query(&url, pg->cursor_param, w->cursor) != 0) {
		goto fail;
	}
	return url;
fail:
	free(url);
	return NULL;
}

static void fail(struct chored_http_response *resp, const char *url, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void fail(struct chored_http_response *resp, const char *url, const char *fmt, ...)
{
	char *safe = http_redact_query(url);
	char what[160];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	snprintf(resp->error, sizeof resp->error, "%s (listing %s)", what, safe ? safe : "");
	free(safe);
}

/* Reads where the next page starts from `page` into `w`; -1 with resp->error on a page
 * that does not say. */
static int advance(const struct chored_http_pager *pg, struct json_object *page, size_t n_items,
                   struct walk *w, const char *url, struct chored_http_response *resp)
{
	struct json_object *more = pg->more_path ? chored_json_path(page, pg->more_path) : NULL;
	if (pg->kind == CHORED_PAGE_OFFSET) {
		w->skip += (long)n_items;
		w->done = (long)n_items < pg->size || n_items == 0 ||
		          (more && !json_object_get_boolean(more));
		return 0;
	}
	struct json_object *next = chored_json_path(page, pg->next_path);
	const char *s =
	    json_object_is_type(next, json_type_string) ? json_object_get_string(next) : NULL;
	if (s && !*s)
		s = NULL;
	if (pg->kind == CHORED_PAGE_CURSOR && pg->more_path) {
		if (!more) {
			fail(resp, url, "the page has no \"%s\"", pg->more_path);
			return -1;
		}
		if (!json_object_get_boolean(more)) {
			w->done = true;
			return 0;
		}
		if (!s) {
			fail(resp, url, "the page says there is more but has no \"%s\"",
			     pg->next_path);
			return -1;
		}
	}
	if (!s) {
		w->done = true;
		return 0;
	}
	if (w->cursor && strcmp(w->cursor, s) == 0) {
		fail(resp, url, "the server returned the same %s twice", pg->cursor_param);
		return -1;
	}
	char *c = strdup(s);
	if (!c) {
		fail(resp, url, "%s", "out of memory");
		return -1;
	}
	free(w->cursor);
	w->cursor = c;
	return 0;
}

static int check_pager(const struct chored_http_pager *pg)
{
	if (!pg->items)
		return -1;
	if (pg->kind == CHORED_PAGE_OFFSET)
		return pg->size > 0 && pg->size_param ? 0 : -1;
	return pg->cursor_param && pg->next_path ? 0 : -1;
}

int chored_http_paginate(struct chored_job *job, const struct chored_http_request *req,
                         const struct chored_http_pager *pager,
                         int (*each)(struct json_object *item, void *data), void *data,
                         struct chored_http_response *resp)
{
	memset(resp, 0, sizeof *resp);
	if (!req->url) {
		fail(resp, "", "%s", "http: listing without a URL");
		return -1;
	}
	if (check_pager(pager) != 0) {
		fail(resp, req->url, "%s",
		     "bad pager: items, and cursor_param and next_path (CURSOR, PAGE_TOKEN) "
		     "or size_param and size > 0 (OFFSET) are required");
		return -1;
	}
	long max_pages = pager->max_pages > 0 ? pager->max_pages : DEFAULT_MAX_PAGES;
	struct walk w = {0};
	unsigned attempts = 0;
	int64_t waited = 0;
	int rc = 0;
	for (long pages = 0; rc == 0 && !w.done; pages++) {
		chored_http_response_free(resp);
		if (pages == max_pages) {
			fail(resp, req->url, "more than %ld pages", max_pages);
			rc = -1;
			break;
		}
		if (chored_job_cancelled(job)) {
			fail(resp, req->url, "%s", "cancelled");
			rc = -1;
			break;
		}
		struct chored_http_request r = *req;
		char *url = page_url(req, pager, &w);
		if (!url) {
			fail(resp, req->url, "%s", "out of memory");
			rc = -1;
			break;
		}
		r.url = url;
		struct json_object *page = NULL;
		rc = chored_http_json(job, &r, NULL, &page, resp);
		attempts += resp->attempts;
		waited += resp->waited_ms;
		struct json_object *items = rc == 0 ? chored_json_path(page, pager->items) : NULL;
		if (rc == 0 && !json_object_is_type(items, json_type_array)) {
			fail(resp, url, "the page has no array \"%s\"", pager->items);
			rc = -1;
		}
		size_t n = rc == 0 ? json_object_array_length(items) : 0;
		for (size_t i = 0; rc == 0 && i < n; i++)
			rc = each(json_object_array_get_idx(items, i), data);
		if (rc == 0)
			rc = advance(pager, page, n, &w, url, resp);
		json_object_put(page);
		free(url);
	}
	free(w.cursor);
	resp->attempts = attempts;
	resp->waited_ms = waited;
	return rc;
}

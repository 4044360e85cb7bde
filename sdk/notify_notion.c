/* The Notion sink (chored-sdk-report(3), api-contracts §3): the report's blocks as a new
 * sub-page of `parent_page` (mode subpage: POST /v1/pages with the first blocks, then
 * PATCH /v1/blocks/{page}/children with the rest) or appended to it under a heading with the
 * subject (mode append). Requests carry as many blocks as Notion's limits allow (100
 * top-level blocks, 1000 block elements, 500 KB of JSON) and go one after the other so the
 * order is kept; 429 and 5xx are retried by the http service, honouring Retry-After.
 * Uses only exported chored_* functions (the report probe links this file on its own). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chored/http.h"
#include "notify_sink.h"

#define NOTION_VERSION  "2022-06-28"
#define NOTION_BASE_URL "https://api.notion.com"

enum {
	MAX_CHILDREN = 100,     /* top-level blocks of one request */
	MAX_ELEMENTS = 1000,    /* block elements of one request, nested ones included */
	MAX_BYTES = 490 * 1000, /* request body, below the 500 KB limit */
	TITLE_UNITS = 2000,     /* one rich-text item */
};

struct notion {
	struct chored_job *job;
	const char *sink;  /* the [notify NAME] name, for messages */
	const char *token; /* never logged nor put in a message */
	char *base;        /* base_url without a trailing slash; owned */
	char page[37];     /* parent page id, dashed */
	size_t written;    /* report blocks the service has accepted so far */
	size_t total;      /* report blocks to write */
	unsigned requests;
};

static const char *key_str(const struct notify_sink *sink, const char *name)
{
	struct json_object *v;
	if (!sink->keys || !json_object_object_get_ex(sink->keys, name, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	const char *s = json_object_get_string(v);
	return s && *s ? s : NULL;
}

/* The page id in `in`: 32 hex digits, dashed or not, alone or at the end of a Notion URL
 * ("https://www.notion.so/Weekly-1f217cc1225f45808e22cd7eb8db3c5e?pvs=4"). */
static int page_id(const char *in, char out[37])
{
	size_t n = strcspn(in, "?#");
	char hex[33];
	size_t h = 0;
	/* Walk back over hex digits and dashes; the id is the last 32 hex digits. */
	while (n > 0 && h < 32) {
		char c = in[n - 1];
		if (c == '-') {
			n--;
			continue;
		}
		if (!isxdigit((unsigned char)c))
			break;
		hex[31 - h++] = (char)tolower((unsigned char)c);
		n--;
	}
	if (h != 32)
		return -1;
	/* A bare id must be only the id; in a URL it follows a '-' or '/'. */
	if (n > 0 && strncmp(in, "http", 4) != 0)
		return -1;
	hex[32] = '\0';
	snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16, hex + 20);
	return 0;
}

/* Length of the prefix of s[0..n) within `max` UTF-16 units, at a code-point boundary. */
static size_t utf16_prefix(const char *s, size_t n, size_t max)
{
	size_t i = 0, units = 0;
	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		size_t l = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
		size_t u = l == 4 ? 2 : 1;
		if (i + l > n || units + u > max)
			break;
		units += u;
		i += l;
	}
	return i ? i : (n ? 1 : 0); /* never stall on a stray byte */
}

static struct json_object *rich_text(const char *s)
{
	struct json_object *rt = json_object_new_array();
	size_t n = strlen(s);
	while (n > 0 && json_object_array_length(rt) < 100) {
		size_t k = utf16_prefix(s, n, TITLE_UNITS);
		struct json_object *item = json_object_new_object();
		struct json_object *text = json_object_new_object();
		json_object_object_add(text, "content", json_object_new_string_len(s, (int)k));
		json_object_object_add(item, "type", json_object_new_string("text"));
		json_object_object_add(item, "text", text);
		json_object_array_add(rt, item);
		s += k;
		n -= k;
	}
	return rt;
}

/* Block elements in `b`: itself and every block in nested children arrays. */
static size_t elements(struct json_object *b)
{
	size_t n = 1;
	struct json_object *type, *inner, *children;
	if (json_object_object_get_ex(b, "type", &type) &&
	    json_object_object_get_ex(b, json_object_get_string(type), &inner) &&
	    json_object_object_get_ex(inner, "children", &children) &&
	    json_object_is_type(children, json_type_array))
		for (size_t i = 0; i < json_object_array_length(children); i++)
			n += elements(json_object_array_get_idx(children, i));
	return n;
}

static size_t json_bytes(struct json_object *o)
{
	size_t n = 0;
	json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN, &n);
	return n;
}

/* The end of the request starting at `start`: as many blocks as the limits allow, given
 * the bytes the rest of the body takes (`overhead`). At least one block. */
static size_t chunk_end(struct json_object *blocks, size_t start, size_t overhead)
{
	size_t n = json_object_array_length(blocks);
	size_t end = start, elems = 0, bytes = overhead;
	while (end < n && end - start < MAX_CHILDREN) {
		struct json_object *b = json_object_array_get_idx(blocks, end);
		size_t e = elements(b), by = json_bytes(b) + 1;
		if (end > start && (elems + e > MAX_ELEMENTS || bytes + by > MAX_BYTES))
			break;
		elems += e;
		bytes += by;
		end++;
	}
	return end;
}

/* A new array sharing blocks [start, end) of `blocks`. */
static struct json_object *slice(struct json_object *blocks, size_t start, size_t end)
{
	struct json_object *a = json_object_new_array_ext((int)(end - start));
	for (size_t i = start; i < end; i++)
		json_object_array_add(a, json_object_get(json_object_array_get_idx(blocks, i)));
	return a;
}

/* Sends one request; on failure writes why into err, with Notion's error code and message
 * when the answer carries them, and how far the report got. */
static int notion_call(struct notion *nt, const char *method, const char *path,
                       struct json_object *body, struct json_object **out, char *err, size_t errlen)
{
	static const long retry_also[] = {409, 0}; /* conflict_error is retryable (§3) */
	static const char *const headers[] = {"Notion-Version: " NOTION_VERSION, NULL};
	char *url = NULL;
	if (asprintf(&url, "%s%s", nt->base, path) < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	struct chored_http_request req = {
	    .method = method,
	    .url = url,
	    .headers = headers,
	    .bearer = nt->token,
	    .retry_status = retry_also,
	};
	struct chored_http_response resp;
	nt->requests++;
	int rc = chored_http_json(nt->job, &req, body, out, &resp);
	if (rc != 0) {
		char detail[600] = "";
		struct json_object *e = resp.body ? json_tokener_parse(resp.body) : NULL;
		struct json_object *code, *msg;
		if (e && json_object_object_get_ex(e, "code", &code) &&
		    json_object_object_get_ex(e, "message", &msg))
			snprintf(detail, sizeof detail, " (%s: %s)", json_object_get_string(code),
			         json_object_get_string(msg));
		json_object_put(e);
		snprintf(err, errlen, "notion sink %s: %s%s; %zu of %zu blocks written", nt->sink,
		         resp.error, detail, nt->written, nt->total);
	}
	chored_http_response_free(&resp);
	free(url);
	return rc;
}

/* Appends blocks [start, n) of `blocks` to block `id`, in as few requests as the limits
 * allow. `counted` says whether the first block is the report's (append mode's heading is
 * not). */
static int append_all(struct notion *nt, const char *id, struct json_object *blocks, size_t start,
                      size_t not_counted, char *err, size_t errlen)
{
	size_t n = json_object_array_length(blocks);
	char path[96];
	snprintf(path, sizeof path, "/v1/blocks/%s/children", id);
	while (start < n) {
		if (chored_job_cancelled(nt->job)) {
			snprintf(err, errlen,
			         "notion sink %s: cancelled; %zu of %zu blocks written", nt->sink,
			         nt->written, nt->total);
			return -1;
		}
		size_t end = chunk_end(blocks, start, sizeof "{\"children\":[]}");
		struct json_object *body = json_object_new_object();
		json_object_object_add(body, "children", slice(blocks, start, end));
		struct json_object *out = NULL;
		int rc = notion_call(nt, "PATCH", path, body, &out, err, errlen);
		json_object_put(body);
		json_object_put(out);
		if (rc != 0)
			return -1;
		size_t skip = start < not_counted ? not_counted - start : 0;
		nt->written += end - start - skip;
		start = end;
	}
	return 0;
}

static int subpage(struct notion *nt, struct json_object *blocks, const char *subject, char *err,
                   size_t errlen)
{
	struct json_object *body = json_object_new_object();
	struct json_object *parent = json_object_new_object();
	struct json_object *props = json_object_new_object();
	struct json_object *title = json_object_new_object();
	json_object_object_add(parent, "page_id", json_object_new_string(nt->page));
	json_object_object_add(body, "parent", parent);
	json_object_object_add(title, "title", rich_text(subject));
	json_object_object_add(props, "title", title);
	json_object_object_add(body, "properties", props);
	size_t overhead = json_bytes(body) + sizeof ",\"children\":[]";
	size_t end = chunk_end(blocks, 0, overhead);
	json_object_object_add(body, "children", slice(blocks, 0, end));
	struct json_object *page = NULL;
	int rc = notion_call(nt, "POST", "/v1/pages", body, &page, err, errlen);
	json_object_put(body);
	struct json_object *id;
	if (rc == 0 && !(page && json_object_object_get_ex(page, "id", &id) &&
	                 json_object_is_type(id, json_type_string))) {
		snprintf(err, errlen, "notion sink %s: the answer to POST /v1/pages has no page id",
		         nt->sink);
		rc = -1;
	}
	if (rc != 0) {
		json_object_put(page);
		return -1;
	}
	nt->written = end;
	char pid[96];
	snprintf(pid, sizeof pid, "%s", json_object_get_string(id));
	json_object_put(page);
	if (append_all(nt, pid, blocks, end, 0, err, errlen) != 0) {
		/* Say which page holds the part already written. */
		size_t l = strlen(err);
		snprintf(err + l, errlen - l, " to page %s", pid);
		return -1;
	}
	chored_log(nt->job, CHORED_LOG_INFO,
	           "notion: page %s created with %zu blocks in %u requests", pid, nt->written,
	           nt->requests);
	return 0;
}

static int append(struct notion *nt, struct json_object *blocks, const char *subject, char *err,
                  size_t errlen)
{
	struct json_object *all = json_object_new_array();
	struct json_object *h = json_object_new_object();
	struct json_object *inner = json_object_new_object();
	json_object_object_add(h, "object", json_object_new_string("block"));
	json_object_object_add(h, "type", json_object_new_string("heading_1"));
	json_object_object_add(inner, "rich_text", rich_text(subject));
	json_object_object_add(inner, "is_toggleable", json_object_new_boolean(0));
	json_object_object_add(h, "heading_1", inner);
	json_object_array_add(all, h);
	for (size_t i = 0; i < json_object_array_length(blocks); i++)
		json_object_array_add(all, json_object_get(json_object_array_get_idx(blocks, i)));
	int rc = append_all(nt, nt->page, all, 0, 1, err, errlen);
	json_object_put(all);
	if (rc == 0)
		chored_log(nt->job, CHORED_LOG_INFO,
		           "notion: %zu blocks appended to page %s in %u requests", nt->written,
		           nt->page, nt->requests);
	return rc;
}

/* Replaces every occurrence of the token in err (the http service already keeps it out;
 * this holds whatever a server echoes back). */
static void scrub(char *err, const char *token)
{
	size_t tl = strlen(token);
	if (tl < 4)
		return;
	char *p;
	while ((p = strstr(err, token)) != NULL) {
		memcpy(p, "***", 3);
		memmove(p + 3, p + tl, strlen(p + tl) + 1);
	}
}

int notify_notion_send(struct chored_job *job, const struct notify_sink *sink,
                       const struct chored_report *r, const char *subject, char *err, size_t errlen)
{
	struct notion nt = {.job = job, .sink = sink->name ? sink->name : "notion"};
	const char *token = key_str(sink, "token");
	const char *parent = key_str(sink, "parent_page");
	const char *mode = key_str(sink, "mode");
	const char *base = key_str(sink, "base_url");
	if (!token) {
		snprintf(err, errlen, "notion sink %s: token is not set", nt.sink);
		return -1;
	}
	if (!parent || page_id(parent, nt.page) != 0) {
		snprintf(err, errlen,
		         "notion sink %s: parent_page: expected a page id (32 hex digits) or a "
		         "Notion page URL ending in one",
		         nt.sink);
		return -1;
	}
	if (!mode)
		mode = "subpage";
	if (strcmp(mode, "subpage") != 0 && strcmp(mode, "append") != 0) {
		snprintf(err, errlen,
		         "notion sink %s: mode: expected subpage or append, not \"%.40s\"", nt.sink,
		         mode);
		return -1;
	}
	if (!base)
		base = NOTION_BASE_URL;
	if (strncmp(base, "http://", 7) != 0 && strncmp(base, "https://", 8) != 0) {
		snprintf(err, errlen,
		         "notion sink %s: base_url: expected an http:// or https:// URL", nt.sink);
		return -1;
	}
	struct json_object *blocks = chored_report_notion_blocks(r);
	nt.base = strdup(base);
	if (!blocks || !nt.base) {
		json_object_put(blocks);
		free(nt.base);
		snprintf(err, errlen, "notion sink %s: out of memory rendering the report",
		         nt.sink);
		return -1;
	}
	size_t bl = strlen(nt.base);
	while (bl > 0 && nt.base[bl - 1] == '/')
		nt.base[--bl] = '\0';
	nt.token = token;
	nt.total = json_object_array_length(blocks);
	if (!subject)
		subject = chored_report_title(r);
	int rc = strcmp(mode, "append") == 0 ? append(&nt, blocks, subject, err, errlen)
	                                     : subpage(&nt, blocks, subject, err, errlen);
	if (rc != 0)
		scrub(err, token);
	json_object_put(blocks);
	free(nt.base);
	return rc;
}

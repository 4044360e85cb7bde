/* HTTP client service of libchored (chored-sdk-http(3)): requests over libcurl with
 * timeouts, User-Agent chored/VERSION, retries with exponential backoff and full jitter,
 * Retry-After and vendor rate-limit headers, JSON helpers, pagination helpers and a trace
 * with credentials redacted. Every request belongs to a job: its log receives the trace,
 * its cancellation stops retries and transfers, its clock is never consulted (backoff uses
 * CLOCK_MONOTONIC). */
#ifndef CHORED_HTTP_H
#define CHORED_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include <chored/job.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Reads up to `len` bytes of the request body into `buf`; returns the count, 0 at the end,
 * or (size_t)-1 to abort the transfer. */
typedef size_t (*chored_http_read_fn)(void *buf, size_t len, void *data);
/* Puts the body source back at its start before a retry; returns 0, or -1 when it cannot
 * (then the request is not retried). */
typedef int (*chored_http_rewind_fn)(void *data);
/* Receives `len` bytes of the response body; returns `len` to go on, anything else aborts.
 * Called only for the final attempt's 2xx answer; error bodies are always kept in memory. */
typedef size_t (*chored_http_write_fn)(const void *buf, size_t len, void *data);

struct chored_http_request {
	const char *method; /* "GET" when NULL */
	const char *url;
	const char *const *headers; /* "Name: value" strings ended by NULL; may be NULL */
	const char *bearer;         /* sent as "Authorization: Bearer …"; never traced */

	/* Body: `body`/`body_len` from memory, or `read` (with `body_size` bytes, -1 when
	 * unknown: then sent chunked) and `rewind` for retries. */
	const void *body;
	size_t body_len;
	chored_http_read_fn read;
	chored_http_rewind_fn rewind;
	int64_t body_size;
	void *read_data;

	/* Response body: kept in memory (chored_http_response.body) unless `write` is set. */
	chored_http_write_fn write;
	void *write_data;
	size_t max_body; /* bytes kept in memory, 0 = 16 MiB; more fails the request */

	/* AWS Signature V4 (libcurl CURLOPT_AWS_SIGV4): "aws:amz:REGION:s3" and
	 * "KEY_ID:SECRET" (never traced). NULL: no signing. */
	const char *aws_sigv4;
	const char *aws_credentials;

	long timeout_ms;         /* each attempt, whole transfer; 0 = 30 000 */
	long connect_timeout_ms; /* 0 = 10 000 */
	unsigned max_attempts;   /* 0 = 4; 1 = no retry */
	long backoff_base_ms;    /* first delay before jitter; 0 = 500 */
	long backoff_max_ms;     /* cap of one delay, also of Retry-After; 0 = 60 000 */
	/* Retry also on these statuses (besides 429 and 5xx), 0-terminated; may be NULL. */
	const long *retry_status;
	/* Never retry a non-idempotent request after its body was sent (POST without an
	 * idempotency key, say): connect errors are still retried. */
	bool no_retry_after_send;
};

struct chored_http_response {
	long status; /* final HTTP status; 0 when no answer came */
	char *body;  /* owned, NUL-terminated; NULL when streamed to `write` */
	size_t body_len;
	unsigned attempts; /* how many were made (1 = no retry) */
	int64_t waited_ms; /* time spent sleeping between attempts */
	char error[256];   /* why it failed (transport error, status, abort), "" when ok */
	void *priv;        /* response headers and more; owned: chored_http_response_free */
};

/* Performs `req`, retrying per its policy. Returns 0 when the final answer is 2xx, else -1
 * with resp->error set ("HTTP 404 from GET https://api.example.com/v1/x", "timeout after
 * 30000 ms", …; URLs in errors have token query parameters redacted). `resp` is always
 * filled and must be freed, whatever the result. */
int chored_http_do(struct chored_job *job, const struct chored_http_request *req,
                   struct chored_http_response *resp);
void chored_http_response_free(struct chored_http_response *resp);

/* The value of response header `name` (case-insensitive; the last one received), or NULL. */
const char *chored_http_header(const struct chored_http_response *resp, const char *name);

/* JSON convenience: sends `body` (may be NULL; then no body) with Content-Type and Accept
 * application/json, and parses a 2xx answer into *out (owned by the caller; NULL for an
 * empty body). Non-2xx or an answer that is not JSON returns -1 with resp->error set; the
 * body is still in resp->body for the caller to read the vendor's error. */
int chored_http_json(struct chored_job *job, const struct chored_http_request *req,
                     struct json_object *body, struct json_object **out,
                     struct chored_http_response *resp);

/* URL building: appends "name=value" to `url` (a malloc'd string, replaced in place),
 * percent-encoding the value. Returns 0, or -1 on allocation failure. */
int chored_http_url_add_query(char **url, const char *name, const char *value);
/* A malloc'd percent-encoded copy of `s` (RFC 3986 unreserved characters kept). */
char *chored_http_escape(const char *s);

/* Pagination. One helper walks every page of a listing and hands each item to `each`. */
enum chored_page_kind {
	CHORED_PAGE_CURSOR,     /* Kit: ?after=CURSOR, pagination.has_next_page/end_cursor */
	CHORED_PAGE_OFFSET,     /* Cal.com bookings: ?take=N&skip=K until fewer than N items */
	CHORED_PAGE_PAGE_TOKEN, /* Google: ?pageToken=T, nextPageToken until absent */
};

struct chored_http_pager {
	enum chored_page_kind kind;
	const char *items;      /* dotted path of the item array: "subscribers", "data", "items" */
	const char *size_param; /* "per_page", "take", "maxResults"; NULL: none sent */
	long size;              /* page size sent in size_param */
	/* CURSOR: cursor_param ("after"), next_path ("pagination.end_cursor"), more_path
	 * ("pagination.has_next_page"). OFFSET: cursor_param ("skip"). PAGE_TOKEN:
	 * cursor_param ("pageToken"), next_path ("nextPageToken"). */
	const char *cursor_param;
	const char *next_path;
	const char *more_path;
	long max_pages; /* safety bound, 0 = 100 000 */
};

/* Returns 0 with calls to `each` for every item (borrowed: valid during the call), or -1
 * with resp->error set. `each` returns 0 to go on, non-zero to stop early (the helper then
 * returns that value). The request's url must not already carry the pager's parameters.
 * Pages are fetched one at a time (constant memory); rate-limit answers are waited out per
 * the request's retry policy. */
int chored_http_paginate(struct chored_job *job, const struct chored_http_request *req,
                         const struct chored_http_pager *pager,
                         int (*each)(struct json_object *item, void *data), void *data,
                         struct chored_http_response *resp);

/* The value at a dotted path ("pagination.end_cursor") of `obj`, or NULL. Borrowed. */
struct json_object *chored_json_path(struct json_object *obj, const char *path);

#ifdef __cplusplus
}
#endif

#endif

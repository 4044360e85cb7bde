/* Internals of the http service of libchored, shared by sdk/http*.c. Not installed. */
#ifndef CHORED_HTTP_IMPL_H
#define CHORED_HTTP_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>

#include "chored/http.h"

/* One response header, both strings owned. */
struct http_header {
	char *name;
	char *value;
};

/* What chored_http_response.priv points to (owned by the response). */
struct http_priv {
	struct http_header *headers; /* of the last status line received */
	size_t n_headers, cap_headers;
};

/* curl_global_init, once per process (thread-safe). */
void http_global_init(void);

/* A malloc'd copy of `s` with the values of token-like query parameters (token, api_key,
 * X-Amz-Signature, …) replaced by ***. Works on a bare URL or on any text holding URLs. */
char *http_redact_query(const char *s);
/* True when header `name` (length `len`) carries a credential whose value is never traced. */
bool http_header_is_secret(const char *name, size_t len);

/* Installs the DEBUG trace on `curl` when tracing is on (CHORED_HTTP_TRACE in the
 * environment); `job` receives the records. */
void http_trace_setup(CURL *curl, struct chored_job *job);

/* Retry policy (sdk/http_retry.c). */
struct http_attempt {
	long status;       /* 0: no answer */
	CURLcode code;     /* transport result */
	bool sent;         /* the request (or part of it) reached the server */
	bool body_started; /* the read callback was called */
	bool streamed;     /* bytes went to the caller's write callback */
	bool cancelled;    /* the job was cancelled during the attempt */
	bool too_large;    /* the in-memory body limit was exceeded */
};

/* Whether the attempt's outcome may be retried at all under `req`'s policy. */
bool http_retryable(const struct chored_http_request *req, const struct http_attempt *a);
/* The server's wish of a delay in ms from Retry-After or vendor rate-limit headers of
 * `resp`, or -1 when it expressed none. */
int64_t http_server_delay_ms(const struct chored_http_response *resp);
/* The full-jitter backoff before retry number `n` (0-based): uniform in
 * [0, min(max_ms, base_ms * 2^n)]. */
int64_t http_backoff_ms(long base_ms, long max_ms, unsigned n);
/* Sleeps `ms` in slices, returning early (false) when `job` is cancelled. Adds the time
 * slept to *waited_ms. */
bool http_sleep(struct chored_job *job, int64_t ms, int64_t *waited_ms);

/* Pieces of chored_http_do other files reuse. */
struct http_priv *http_priv(const struct chored_http_response *resp);

#endif

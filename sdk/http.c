/* chored_http_do: one request over libcurl, attempted again per the request's retry policy
 * (sdk/http_retry.c), with the response headers kept for chored_http_header. */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "chored-build.h"
#include "http_impl.h"
#include "job_impl.h"
#include "job_private.h"

#define DEFAULT_MAX_BODY    ((size_t)16 << 20)
#define DEFAULT_TIMEOUT_MS  30000L
#define DEFAULT_CONNECT_MS  10000L
#define DEFAULT_ATTEMPTS    4U
#define DEFAULT_BACKOFF_MS  500L
#define DEFAULT_BACKOFF_MAX 60000L
#define USER_AGENT          "chored/" PACKAGE_VERSION

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc = CURLE_FAILED_INIT;

static void global_init_once(void)
{
	global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

void http_global_init(void)
{
	pthread_once(&global_once, global_init_once);
}

struct http_priv *http_priv(const struct chored_http_response *resp)
{
	return resp ? resp->priv : NULL;
}

/* The request's effective parameters (defaults applied) and the state of one transfer. */
struct xfer {
	struct chored_job *job;
	const struct chored_http_request *req;
	struct chored_http_response *resp;
	CURL *curl;
	const char *method;
	char *safe_url; /* owned: the URL with token query parameters redacted */
	size_t max_body;
	size_t body_cap;
	enum { SINK_UNDECIDED, SINK_MEMORY, SINK_CALLER } sink;
	struct http_attempt a;
};

static void headers_clear(struct http_priv *p)
{
	for (size_t i = 0; i < p->n_headers; i++) {
		free(p->headers[i].name);
		free(p->headers[i].value);
	}
	p->n_headers = 0;
}

static size_t on_header(char *buf, size_t size, size_t n, void *data)
{
	struct xfer *x = data;
	struct http_priv *p = x->resp->priv;
	size_t len = size * n;
	if (len >= 5 && memcmp(buf, "HTTP/", 5) == 0) {
		headers_clear(p); /* a new answer (after 100 Continue, say): forget the last one */
		return len;
	}
	const char *colon = memchr(buf, ':', len);
	if (!colon || colon == buf)
		return len; /* the blank line ending the block, or a folded line */
	const char *v = colon + 1, *end = buf + len;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t'))
		end--;
	if (p->n_headers == p->cap_headers) {
		size_t cap = p->cap_headers ? p->cap_headers * 2 : 16;
		struct http_header *h = realloc(p->headers, cap * sizeof *h);
		if (!h)
			return 0;
		p->headers = h;
		p->cap_headers = cap;
	}
	char *name = strndup(buf, (size_t)(colon - buf));
	char *value = strndup(v, (size_t)(end - v));
	if (!name || !value) {
		free(name);
		free(value);
		return 0;
	}
	p->headers[p->n_headers++] = (struct http_header){name, value};
	return len;
}

static size_t on_write(char *buf, size_t size, size_t n, void *data)
{
	struct xfer *x = data;
	struct chored_http_response *resp = x->resp;
	size_t len = size * n;
	if (x->sink == SINK_UNDECIDED) {
		long status = 0;
		curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &status);
		x->sink =
		    x->req->write && status >= 200 && status <= 299 ? SINK_CALLER : SINK_MEMORY;
	}
	if (x->sink == SINK_CALLER) {
		x->a.streamed = true;
		return x->req->write(buf, len, x->req->write_data);
	}
	if (len > x->max_body - resp->body_len) {
		x->a.too_large = true;
		return 0;
	}
	if (resp->body_len + len + 1 > x->body_cap) {
		size_t cap = x->body_cap ? x->body_cap : 4096;
		while (cap < resp->body_len + len + 1)
			cap *= 2;
		char *b = realloc(resp->body, cap);
		if (!b)
			return 0;
		resp->body = b;
		x->body_cap = cap;
	}
	memcpy(resp->body + resp->body_len, buf, len);
	resp->body_len += len;
	resp->body[resp->body_len] = '\0';
	return len;
}

static size_t on_read(char *buf, size_t size, size_t n, void *data)
{
	struct xfer *x = data;
	if (chored_job_cancelled(x->job)) {
		x->a.cancelled = true;
		return CURL_READFUNC_ABORT;
	}
	x->a.body_started = true;
	size_t r = x->req->read(buf, size * n, x->req->read_data);
	return r == (size_t)-1 ? CURL_READFUNC_ABORT : r;
}

/* libcurl rewinds the body itself when it must send it again within one attempt. */
static int on_seek(void *data, curl_off_t offset, int origin)
{
	struct xfer *x = data;
	if (offset != 0 || origin != SEEK_SET || !x->req->rewind ||
	    x->req->rewind(x->req->read_data) != 0)
		return CURL_SEEKFUNC_CANTSEEK;
	return CURL_SEEKFUNC_OK;
}

static int on_progress(void *data, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
	(void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
	struct xfer *x = data;
	if (chored_job_cancelled(x->job)) {
		x->a.cancelled = true;
		return 1;
	}
	return 0;
}

static bool has_body(const struct chored_http_request *req)
{
	return req->read || req->body;
}

/* Sets the method and body options. */
static void set_method(struct xfer *x)
{
	const struct chored_http_request *req = x->req;
	CURL *c = x->curl;
	const char *m = x->method;
	if (req->read) {
		curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(c, CURLOPT_READDATA, x);
		curl_easy_setopt(c, CURLOPT_SEEKFUNCTION, on_seek);
		curl_easy_setopt(c, CURLOPT_SEEKDATA, x);
		if (strcmp(m, "POST") == 0) {
			curl_easy_setopt(c, CURLOPT_POST, 1L);
			curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
			                 (curl_off_t)req->body_size);
		} else {
			curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
			curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)req->body_size);
			if (strcmp(m, "PUT") != 0)
				curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, m);
		}
		return;
	}
	if (req->body || strcmp(m, "POST") == 0 || strcmp(m, "PUT") == 0 ||
	    strcmp(m, "PATCH") == 0) {
		/* From memory: libcurl sends Content-Length (and SigV4 hashes the payload). */
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->body ? (const char *)req->body : "");
		if (strcmp(m, "POST") != 0)
			curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, m);
		return;
	}
	if (strcmp(m, "HEAD") == 0)
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	else if (strcmp(m, "GET") == 0)
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	else
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, m);
}

/* Builds the header list (owned by the caller); NULL with *ok false on allocation failure. */
static struct curl_slist *build_headers(const struct chored_http_request *req, bool *ok)
{
	struct curl_slist *list = NULL, *t;
	*ok = true;
	for (const char *const *h = req->headers; h && *h; h++) {
		if (!(t = curl_slist_append(list, *h)))
			goto fail;
		list = t;
	}
	if (req->bearer) {
		size_t n = strlen(req->bearer) + sizeof "Authorization: Bearer ";
		char *line = malloc(n);
		if (!line)
			goto fail;
		snprintf(line, n, "Authorization: Bearer %s", req->bearer);
		t = curl_slist_append(list, line);
		explicit_bzero(line, n);
		free(line);
		if (!t)
			goto fail;
		list = t;
	}
	return list;
fail:
	curl_slist_free_all(list);
	*ok = false;
	return NULL;
}

/* The credentials are secrets of the run whatever the plugin's schema says. */
static void register_secrets(struct chored_job *job, const struct chored_http_request *req)
{
	if (req->bearer)
		chored__job_add_redaction(job, req->bearer);
	if (req->aws_credentials) {
		chored__job_add_redaction(job, req->aws_credentials);
		const char *colon = strchr(req->aws_credentials, ':');
		if (colon && colon[1])
			chored__job_add_redaction(job, colon + 1);
	}
}

/* Writes resp->error: `what`, then the request, redacted. */
static void set_error(struct xfer *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_error(struct xfer *x, const char *fmt, ...)
{
	char msg[sizeof x->resp->error];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	char *q = http_redact_query(msg);
	char *r = chored__job_redact(x->job, q ? q : "");
	snprintf(x->resp->error, sizeof x->resp->error, "%s", r);
	free(r);
	free(q);
}

/* Describes a failed attempt in resp->error. */
static void describe_failure(struct xfer *x, const char *errbuf)
{
	const struct chored_http_request *req = x->req;
	struct http_attempt *a = &x->a;
	const char *m = x->method, *u = x->safe_url;
	const char *detail = *errbuf ? errbuf : curl_easy_strerror(a->code);
	if (a->cancelled) {
		set_error(x, "cancelled during %s %s", m, u);
	} else if (a->too_large) {
		set_error(x, "answer to %s %s larger than %zu bytes", m, u, x->max_body);
	} else if (a->code == CURLE_OPERATION_TIMEDOUT) {
		curl_off_t connect_us = 0;
		curl_easy_getinfo(x->curl, CURLINFO_CONNECT_TIME_T, &connect_us);
		if (connect_us == 0)
			set_error(x, "connect timeout after %ld ms (%s %s)",
			          req->connect_timeout_ms ? req->connect_timeout_ms
			                                  : DEFAULT_CONNECT_MS,
			          m, u);
		else
			set_error(x, "timeout after %ld ms (%s %s)",
			          req->timeout_ms ? req->timeout_ms : DEFAULT_TIMEOUT_MS, m, u);
	} else if (a->code == CURLE_COULDNT_CONNECT || a->code == CURLE_COULDNT_RESOLVE_HOST) {
		set_error(x, "cannot connect: %s (%s %s)", detail, m, u);
	} else if (a->code == CURLE_WRITE_ERROR && a->streamed) {
		set_error(x, "the write callback stopped the answer to %s %s", m, u);
	} else if (a->code == CURLE_ABORTED_BY_CALLBACK || a->code == CURLE_READ_ERROR) {
		set_error(x, "the read callback stopped the body of %s %s", m, u);
	} else if (a->code != CURLE_OK) {
		set_error(x, "%s (%s %s)", detail, m, u);
	} else {
		set_error(x, "HTTP %ld from %s %s", a->status, m, u);
	}
}

static void append_error(struct chored_http_response *resp, const char *tail)
{
	size_t n = strlen(resp->error);
	snprintf(resp->error + n, sizeof resp->error - n, "%s", tail);
}

/* Per-attempt reset: the body and headers of an earlier answer are dropped. */
static void attempt_reset(struct xfer *x)
{
	free(x->resp->body);
	x->resp->body = NULL;
	x->resp->body_len = 0;
	x->body_cap = 0;
	x->sink = SINK_UNDECIDED;
	x->a = (struct http_attempt){0};
	headers_clear(x->resp->priv);
}

/* Logs the retry about to happen. */
static void log_retry(struct xfer *x, int64_t delay_ms)
{
	char attempt[24], delay[24], status[24];
	snprintf(attempt, sizeof attempt, "%u", x->resp->attempts);
	snprintf(delay, sizeof delay, "%lld", (long long)delay_ms);
	snprintf(status, sizeof status, "%ld", x->a.status);
	chored_log_kv(x->job, CHORED_LOG_NOTICE, "http: retrying", "attempt", attempt,
	              x->a.code == CURLE_OK ? "status" : "error",
	              x->a.code == CURLE_OK ? status : x->resp->error, "delay_ms", delay, "method",
	              x->method, "url", x->safe_url, NULL);
}

/* The retry loop: returns 0 on a 2xx answer. */
static int perform(struct xfer *x)
{
	const struct chored_http_request *req = x->req;
	struct chored_http_response *resp = x->resp;
	unsigned max_attempts = req->max_attempts ? req->max_attempts : DEFAULT_ATTEMPTS;
	long base = req->backoff_base_ms > 0 ? req->backoff_base_ms : DEFAULT_BACKOFF_MS;
	long cap = req->backoff_max_ms > 0 ? req->backoff_max_ms : DEFAULT_BACKOFF_MAX;
	char errbuf[CURL_ERROR_SIZE];
	curl_easy_setopt(x->curl, CURLOPT_ERRORBUFFER, errbuf);
	for (;;) {
		attempt_reset(x);
		errbuf[0] = '\0';
		resp->error[0] = '\0';
		resp->attempts++;
		x->a.code = chored_job_cancelled(x->job) ? CURLE_ABORTED_BY_CALLBACK
		                                         : curl_easy_perform(x->curl);
		if (chored_job_cancelled(x->job))
			x->a.cancelled = true;
		curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &x->a.status);
		long req_size = 0;
		curl_easy_getinfo(x->curl, CURLINFO_REQUEST_SIZE, &req_size);
		x->a.sent = req_size > 0 || x->a.status != 0;
		resp->status = x->a.status;
		if (x->a.code == CURLE_OK && x->a.status >= 200 && x->a.status <= 299)
			return 0;
		describe_failure(x, errbuf);
		if (!http_retryable(req, &x->a))
			return -1;
		if (resp->attempts >= max_attempts) {
			char tail[48];
			snprintf(tail, sizeof tail, " after %u attempts", resp->attempts);
			append_error(resp, tail);
			return -1;
		}
		int64_t delay = http_backoff_ms(base, cap, resp->attempts - 1);
		int64_t server = x->a.code == CURLE_OK ? http_server_delay_ms(resp) : -1;
		if (server > cap) {
			char tail[128];
			snprintf(tail, sizeof tail,
			         ": the server asks to wait %lld ms, more than the %ld ms cap",
			         (long long)server, cap);
			append_error(resp, tail);
			return -1;
		}
		if (server > delay)
			delay = server;
		if (x->a.body_started && (!req->rewind || req->rewind(req->read_data) != 0)) {
			append_error(resp, " (the body cannot be rewound: not retried)");
			return -1;
		}
		log_retry(x, delay);
		if (!http_sleep(x->job, delay, &resp->waited_ms)) {
			set_error(x, "cancelled while waiting to retry %s %s", x->method,
			          x->safe_url);
			return -1;
		}
	}
}

static void set_options(struct xfer *x, struct curl_slist *headers)
{
	const struct chored_http_request *req = x->req;
	CURL *c = x->curl;
	curl_easy_setopt(c, CURLOPT_URL, req->url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	/* Resend refuses requests without a User-Agent. No Accept-Encoding: a stored object
	 * with Content-Encoding must come back as stored. Redirects are not followed (the
	 * credentials would go along). */
	curl_easy_setopt(c, CURLOPT_USERAGENT, USER_AGENT);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS,
	                 req->timeout_ms > 0 ? req->timeout_ms : DEFAULT_TIMEOUT_MS);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
	                 req->connect_timeout_ms > 0 ? req->connect_timeout_ms
	                                             : DEFAULT_CONNECT_MS);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, x);
	if (req->aws_sigv4) {
		curl_easy_setopt(c, CURLOPT_AWS_SIGV4, req->aws_sigv4);
		if (req->aws_credentials)
			curl_easy_setopt(c, CURLOPT_USERPWD, req->aws_credentials);
	}
	set_method(x);
	http_trace_setup(c, x->job);
}

/* The handle for one request: the job's own (it keeps its live connections, DNS cache and
 * TLS sessions, so consecutive requests to one host skip the connect and handshake), or a
 * fresh one when that is in use (*pooled false: the caller cleans it up). */
static CURL *job_curl(struct chored_job *job, bool *pooled)
{
	*pooled = false;
	if (!job || atomic_exchange(&job->http_busy, true))
		return curl_easy_init();
	if (!job->http_curl && !(job->http_curl = curl_easy_init())) {
		atomic_store(&job->http_busy, false);
		return NULL;
	}
	*pooled = true;
	return job->http_curl;
}

void job_http_free(struct chored_job *job)
{
	if (job->http_curl)
		curl_easy_cleanup(job->http_curl);
	job->http_curl = NULL;
}

int chored_http_do(struct chored_job *job, const struct chored_http_request *req,
                   struct chored_http_response *resp)
{
	memset(resp, 0, sizeof *resp);
	resp->priv = calloc(1, sizeof(struct http_priv));
	if (!resp->priv) {
		snprintf(resp->error, sizeof resp->error, "out of memory");
		return -1;
	}
	if (!req || !req->url || !*req->url) {
		snprintf(resp->error, sizeof resp->error, "http: request without a URL");
		return -1;
	}
	register_secrets(job, req);
	struct xfer x = {
	    .job = job,
	    .req = req,
	    .resp = resp,
	    .method = req->method     ? req->method
	              : has_body(req) ? "POST"
	                              : "GET",
	    .max_body = req->max_body ? req->max_body : DEFAULT_MAX_BODY,
	};
	x.safe_url = http_redact_query(req->url);
	if (!x.safe_url) {
		snprintf(resp->error, sizeof resp->error, "out of memory");
		return -1;
	}
	http_global_init();
	int rc = -1;
	bool ok;
	struct curl_slist *headers = build_headers(req, &ok);
	bool pooled = false;
	x.curl = global_rc == CURLE_OK ? job_curl(job, &pooled) : NULL;
	if (!x.curl || !ok) {
		set_error(&x, "cannot set up libcurl for %s %s", x.method, x.safe_url);
	} else {
		set_options(&x, headers);
		rc = perform(&x);
	}
	if (pooled) {
		/* Back to defaults: no option of this request (its buffers, callbacks, trace)
		 * outlives it in the idle handle. */
		curl_easy_reset(x.curl);
		atomic_store(&job->http_busy, false);
	} else if (x.curl)
		curl_easy_cleanup(x.curl);
	curl_slist_free_all(headers);
	free(x.safe_url);
	return rc;
}

void chored_http_response_free(struct chored_http_response *resp)
{
	if (!resp)
		return;
	free(resp->body);
	resp->body = NULL;
	resp->body_len = 0;
	struct http_priv *p = resp->priv;
	if (p) {
		headers_clear(p);
		free(p->headers);
		free(p);
	}
	resp->priv = NULL;
}

const char *chored_http_header(const struct chored_http_response *resp, const char *name)
{
	const struct http_priv *p = http_priv(resp);
	if (!p || !name)
		return NULL;
	for (size_t i = p->n_headers; i-- > 0;)
		if (strcasecmp(p->headers[i].name, name) == 0)
			return p->headers[i].value;
	return NULL;
}

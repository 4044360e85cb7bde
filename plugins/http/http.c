/* http: one HTTP request per run, with a bearer token, expected statuses and retries
 * (chored-http(7)). The seeds' Cloud Scheduler httpTarget and "trigger a worker" jobs. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "chored-build.h"
#include <chored/plugin.h>

#include "words.h"

#define MAX_BACKOFF_S   60   /* the longest wait between attempts we choose ourselves */
#define MAX_RETRY_AFTER 300  /* the longest Retry-After we honour */
#define BODY_LOG_MAX    2048 /* bytes of a response body copied into the run's log */

static const struct chored_option options[] = {
    {"url", CHORED_OPT_URL, CHORED_OPT_REQUIRED, NULL, "http:// or https:// URL to request"},
    {"method", CHORED_OPT_STRING, 0, "GET", "request method"},
    {"headers", CHORED_OPT_LIST, 0, NULL, "request headers, one quoted word each: \"Name: value\""},
    {"body", CHORED_OPT_STRING, 0, NULL,
     "request body (JSON by default when it starts with { or [)"},
    {"token", CHORED_OPT_STRING, CHORED_OPT_SECRET, NULL, "sent as Authorization: Bearer"},
    {"expect_status", CHORED_OPT_LIST, 0, "2xx", "statuses that mean success: 200 204 3xx"},
    {"timeout", CHORED_OPT_DURATION, 0, "30s", "limit for one attempt"},
    {"retries", CHORED_OPT_INT, 0, "0",
     "extra attempts after a connection error, 5xx or 429 (backoff, Retry-After)"},
    {NULL, 0, 0, NULL, NULL},
};

/* The header name of "Name: value", or false when it is not one. */
static bool valid_header(const char *h)
{
	const char *c = strchr(h, ':');
	if (!c || c == h)
		return false;
	for (const char *p = h; p < c; p++)
		if (!isalnum((unsigned char)*p) && !strchr("!#$%&'*+-.^_`|~", *p))
			return false;
	return !strpbrk(h, "\r\n");
}

static bool header_is(const char *h, const char *name)
{
	size_t n = strlen(name);
	return strncasecmp(h, name, n) == 0 && h[n] == ':';
}

/* One expect_status word matches `code`: "200" or "2xx". -1 when the word is neither. */
static int status_matches(const char *w, long code)
{
	if (strlen(w) != 3 || w[0] < '1' || w[0] > '5')
		return -1;
	if (strcmp(w + 1, "xx") == 0)
		return code / 100 == w[0] - '0';
	if (!isdigit((unsigned char)w[1]) || !isdigit((unsigned char)w[2]))
		return -1;
	return code == strtol(w, NULL, 10);
}

static bool valid_method(const char *m)
{
	if (!*m)
		return false;
	for (; *m; m++)
		if (!isupper((unsigned char)*m))
			return false;
	return true;
}

static int check(struct chored_job *job)
{
	const char *url = chored_job_opt(job, "url");
	if (!url) {
		chored_job_error(job, "url", "is required");
		return -1;
	}
	if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) {
		chored_job_error(job, "url", "'%s' is not an http:// or https:// URL", url);
		return -1;
	}
	if (!valid_method(chored_job_opt(job, "method"))) {
		chored_job_error(job, "method", "'%s' is not a method such as GET or POST",
		                 chored_job_opt(job, "method"));
		return -1;
	}
	char **w = words_split_opt(job, "headers");
	if (!w)
		return -1;
	for (char **h = w; *h; h++) {
		if (!valid_header(*h)) {
			chored_job_error(job, "headers",
			                 "'%s' is not \"Name: value\" (quote a header with spaces)",
			                 *h);
			words_free(w);
			return -1;
		}
		if (header_is(*h, "Authorization") && chored_job_opt(job, "token")) {
			chored_job_error(job, "headers", "Authorization is already set by token");
			words_free(w);
			return -1;
		}
	}
	words_free(w);
	if (!(w = words_split_opt(job, "expect_status")))
		return -1;
	for (char **s = w; *s; s++) {
		if (status_matches(*s, 0) < 0) {
			chored_job_error(job, "expect_status",
			                 "'%s' is not a status such as 200 or 2xx", *s);
			words_free(w);
			return -1;
		}
	}
	size_t n = words_count(w);
	words_free(w);
	if (n == 0) {
		chored_job_error(job, "expect_status", "is empty");
		return -1;
	}
	if (chored_job_opt_int(job, "timeout") <= 0) {
		chored_job_error(job, "timeout", "must be longer than 0s");
		return -1;
	}
	int64_t r = chored_job_opt_int(job, "retries");
	if (r < 0 || r > 100) {
		chored_job_error(job, "retries", "%lld is not between 0 and 100", (long long)r);
		return -1;
	}
	return 0;
}

/* The response: the first BODY_LOG_MAX bytes of the body and the Retry-After delay. */
struct response {
	char body[BODY_LOG_MAX + 1];
	size_t len;
	long retry_after; /* seconds, -1 when absent */
	struct chored_job *job;
};

static size_t on_body(char *data, size_t size, size_t nmemb, void *userp)
{
	struct response *r = userp;
	size_t n = size * nmemb, room = BODY_LOG_MAX - r->len;
	memcpy(r->body + r->len, data, n < room ? n : room);
	r->len += n < room ? n : room;
	r->body[r->len] = '\0';
	return n;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *userp)
{
	struct response *r = userp;
	size_t n = size * nmemb;
	if (n > 12 && strncasecmp(data, "Retry-After:", 12) == 0) {
		char v[128];
		size_t vl = n - 12 < sizeof v - 1 ? n - 12 : sizeof v - 1;
		memcpy(v, data + 12, vl);
		v[vl] = '\0';
		char *s = v + strspn(v, " \t");
		s[strcspn(s, "\r\n")] = '\0';
		char *end;
		long secs = strtol(s, &end, 10);
		if (end != s && !*end && secs >= 0) {
			r->retry_after = secs;
		} else {
			time_t when = curl_getdate(s, NULL); /* an HTTP date */
			if (when > 0) {
				int64_t d = (int64_t)when - chored_job_now(r->job);
				r->retry_after = d > 0 ? (long)d : 0;
			}
		}
	}
	return n;
}

/* Aborts the transfer once the run is cancelled. */
static int on_progress(void *userp, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
	(void)a, (void)b, (void)c, (void)d;
	return chored_job_cancelled(userp) ? 1 : 0;
}

/* Waits `secs`, in short naps so a cancel ends it; false when cancelled. */
static bool backoff(struct chored_job *job, long secs)
{
	for (long ms = 0; ms < secs * 1000; ms += 50) {
		if (chored_job_cancelled(job))
			return false;
		struct timespec ts = {0, 50 * 1000000L};
		nanosleep(&ts, NULL);
	}
	return !chored_job_cancelled(job);
}

static bool body_is_json(const char *b)
{
	b += strspn(b, " \t\r\n");
	return *b == '{' || *b == '[';
}

/* The request headers: the job's, then Authorization and a JSON Content-Type. */
static struct curl_slist *build_headers(struct chored_job *job, bool *ok)
{
	struct curl_slist *list = NULL;
	bool has_ct = false;
	char err[160];
	const char *hv = chored_job_opt(job, "headers");
	char **w = words_split(hv ? hv : "", err, sizeof err);
	*ok = w != NULL;
	for (char **h = w; w && *h; h++) {
		has_ct |= header_is(*h, "Content-Type");
		struct curl_slist *nl = curl_slist_append(list, *h);
		*ok = *ok && nl;
		list = nl ? nl : list;
	}
	words_free(w);
	const char *tok = chored_job_opt(job, "token");
	if (tok && *tok) {
		char *auth;
		if (asprintf(&auth, "Authorization: Bearer %s", tok) < 0) {
			*ok = false;
		} else {
			struct curl_slist *nl = curl_slist_append(list, auth);
			*ok = *ok && nl;
			list = nl ? nl : list;
			memset(auth, 0, strlen(auth));
			free(auth);
		}
	}
	const char *body = chored_job_opt(job, "body");
	if (body && !has_ct && body_is_json(body)) {
		struct curl_slist *nl = curl_slist_append(list, "Content-Type: application/json");
		*ok = *ok && nl;
		list = nl ? nl : list;
	}
	return list;
}

static bool status_expected(struct chored_job *job, long code)
{
	char err[160];
	const char *ev = chored_job_opt(job, "expect_status");
	char **w = words_split(ev ? ev : "2xx", err, sizeof err);
	bool hit = false;
	for (char **s = w; w && *s; s++)
		hit |= status_matches(*s, code) == 1;
	words_free(w);
	return hit;
}

/* Sets up `c` for this job's request. */
static void configure(CURL *c, struct chored_job *job, struct curl_slist *headers,
                      struct response *resp, char *errbuf)
{
	const char *method = chored_job_opt(job, "method");
	const char *body = chored_job_opt(job, "body");
	curl_easy_setopt(c, CURLOPT_URL, chored_job_opt(job, "url"));
	curl_easy_setopt(c, CURLOPT_USERAGENT, "chored-http/" PACKAGE_VERSION);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)chored_job_opt_int(job, "timeout"));
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, resp);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, resp);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, job);
	if (body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
	}
	if (strcmp(method, "HEAD") == 0)
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	else if (strcmp(method, body ? "POST" : "GET") != 0)
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
}

/* Performs the attempts. Returns the run's status; the summary is set. */
static enum chored_status request(struct chored_job *job, CURL *c, struct curl_slist *headers)
{
	int64_t retries = chored_job_opt_int(job, "retries");
	char sum[CURL_ERROR_SIZE + 64]; /* the summary of the last attempt, set once at the end */
	for (int64_t attempt = 0;; attempt++) {
		struct response resp = {.retry_after = -1, .job = job};
		char errbuf[CURL_ERROR_SIZE] = "";
		configure(c, job, headers, &resp, errbuf);
		CURLcode rc = curl_easy_perform(c);
		curl_off_t us = 0;
		curl_easy_getinfo(c, CURLINFO_TOTAL_TIME_T, &us);
		long ms = (long)(us / 1000), code = 0;
		if (rc == CURLE_ABORTED_BY_CALLBACK || chored_job_cancelled(job)) {
			chored_summary(job, "cancelled");
			return CHORED_FAILED;
		}
		bool retryable;
		if (rc != CURLE_OK) {
			chored_log(job, CHORED_LOG_WARNING, "attempt %lld: %s",
			           (long long)attempt + 1,
			           errbuf[0] ? errbuf : curl_easy_strerror(rc));
			snprintf(sum, sizeof sum, "%s after %lld attempt%s",
			         errbuf[0] ? errbuf : curl_easy_strerror(rc),
			         (long long)attempt + 1, attempt ? "s" : "");
			retryable = rc == CURLE_COULDNT_CONNECT || rc == CURLE_OPERATION_TIMEDOUT ||
			            rc == CURLE_COULDNT_RESOLVE_HOST || rc == CURLE_GOT_NOTHING ||
			            rc == CURLE_RECV_ERROR || rc == CURLE_SEND_ERROR;
		} else {
			curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
			bool good = status_expected(job, code);
			if (resp.len) {
				char num[16];
				snprintf(num, sizeof num, "%ld", code);
				chored_log_kv(job, good ? CHORED_LOG_DEBUG : CHORED_LOG_WARNING,
				              "response body", "status", num, "body", resp.body,
				              NULL);
			}
			if (good) {
				chored_summary(job, "HTTP %ld in %ld ms", code, ms);
				return CHORED_OK;
			}
			snprintf(sum, sizeof sum, "HTTP %ld in %ld ms (expected %s)", code, ms,
			         chored_job_opt(job, "expect_status"));
			retryable = code >= 500 || code == 429;
		}
		if (!retryable || attempt >= retries) {
			chored_summary(job, "%s", sum);
			return CHORED_FAILED;
		}
		long wait = attempt < 6 ? 1L << attempt : MAX_BACKOFF_S;
		if (wait > MAX_BACKOFF_S)
			wait = MAX_BACKOFF_S;
		if (resp.retry_after >= 0)
			wait =
			    resp.retry_after < MAX_RETRY_AFTER ? resp.retry_after : MAX_RETRY_AFTER;
		chored_log(job, CHORED_LOG_NOTICE, "retrying in %ld s (attempt %lld of %lld)", wait,
		           (long long)attempt + 2, (long long)retries + 1);
		if (!backoff(job, wait)) {
			chored_summary(job, "cancelled");
			return CHORED_FAILED;
		}
	}
}

static enum chored_status run(struct chored_job *job)
{
	const char *method = chored_job_opt(job, "method");
	const char *url = chored_job_opt(job, "url");
	if (chored_job_dry_run(job)) {
		chored_summary(job, "dry run: %s %s not sent", method, url);
		return CHORED_OK;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		chored_summary(job, "cannot initialise libcurl");
		return CHORED_FAILED;
	}
	CURL *c = curl_easy_init();
	bool ok = c != NULL;
	struct curl_slist *headers = ok ? build_headers(job, &ok) : NULL;
	enum chored_status st = CHORED_FAILED;
	if (!ok)
		chored_summary(job, "out of memory");
	else
		st = request(job, c, headers);
	curl_slist_free_all(headers);
	curl_easy_cleanup(c);
	curl_global_cleanup();
	return st;
}

/* The runner already set the job's cancelled flag: the progress callback polls it. */
static void cancel(struct chored_job *job)
{
	(void)job;
}

CHORED_EXPORT const struct chored_plugin chored_plugin_v1 = {
    CHORED_PLUGIN_HEADER,
    .name = "http",
    .version = PACKAGE_VERSION,
    .summary = "send one HTTP request (bearer token, expected statuses, retries)",
    .options = options,
    .check = check,
    .run = run,
    .cancel = cancel,
};

/* The pure parts of the http service, compiled in from their sources: the retry policy
 * (sdk/http_retry.c: what is retried, full-jitter backoff, Retry-After and vendor headers)
 * and the redaction of the trace and errors (sdk/http_trace.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http_impl.h"
#include "job_private.h"

/* A response holding `headers` ("Name", "value" pairs ended by NULL). */
static struct chored_http_response resp_with(long status, ...)
{
	struct chored_http_response r = {.status = status};
	struct http_priv *p = calloc(1, sizeof *p);
	p->headers = calloc(8, sizeof *p->headers);
	p->cap_headers = 8;
	va_list ap;
	va_start(ap, status);
	for (const char *n; (n = va_arg(ap, const char *));) {
		const char *v = va_arg(ap, const char *);
		p->headers[p->n_headers++] = (struct http_header){strdup(n), strdup(v)};
	}
	va_end(ap);
	r.priv = p;
	return r;
}

static void test_server_delay(void **state)
{
	(void)state;
	static const struct {
		long status;
		const char *n1, *v1, *n2, *v2;
		int64_t want;
	} cases[] = {
	    {429, "Retry-After", "2", NULL, NULL, 2000}, /* Notion */
	    {503, "retry-after", "0", NULL, NULL, 0},
	    {429, "Retry-After", "1.5", NULL, NULL, 2000}, /* rounded up */
	    {429, "Retry-After", "soon", NULL, NULL, -1},  /* junk ignored */
	    {429, "Retry-After", "-3", NULL, NULL, -1},
	    {429, NULL, NULL, NULL, NULL, -1},               /* Kit: bare 429 */
	    {429, "ratelimit-reset", "3", NULL, NULL, 3000}, /* Resend */
	    {503, "ratelimit-reset", "3", NULL, NULL, -1},   /* only on 429 */
	    {429, "X-RateLimit-Remaining-Default", "0", "X-RateLimit-Reset-Default", "7", 7000},
	    {429, "X-RateLimit-Remaining-Default", "5", "X-RateLimit-Reset-Default", "7", -1},
	    {429, "X-RateLimit-Reset-Default", "7", NULL, NULL, 7000},
	    {429, "Date", "Mon, 23 Nov 2026 10:00:00 GMT", "X-RateLimit-Reset-Default",
	     "1795428004", 4000}, /* a unix time */
	    {429, "Date", "Mon, 23 Nov 2026 10:00:00 GMT", "X-RateLimit-Reset-Default",
	     "1795428005000", 5000}, /* in ms */
	    {429, "Date", "Mon, 23 Nov 2026 10:00:00 GMT", "X-RateLimit-Reset-Default",
	     "1795427000", 0}, /* past */
	    {503, "Date", "Mon, 23 Nov 2026 10:00:00 GMT", "Retry-After",
	     "Mon, 23 Nov 2026 10:00:09 GMT", 9000}, /* HTTP-date */
	    {429, "Retry-After", "99999999999999999999", NULL, NULL, (INT64_C(1) << 40) * 1000},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct chored_http_response r =
		    resp_with(cases[i].status, cases[i].n1, cases[i].v1, cases[i].n2, cases[i].v2,
		              (const char *)NULL);
		int64_t got = http_server_delay_ms(&r);
		if (got != cases[i].want)
			fail_msg("case %zu (%s: %s): got %lld, want %lld", i, cases[i].n1,
			         cases[i].v1, (long long)got, (long long)cases[i].want);
		chored_http_response_free(&r);
	}
}

static void test_backoff_full_jitter(void **state)
{
	(void)state;
	for (unsigned n = 0; n < 8; n++) {
		int64_t cap = 100LL << n > 1000 ? 1000 : 100LL << n;
		int64_t lo = cap, hi = 0, sum = 0;
		const int samples = 4000;
		for (int i = 0; i < samples; i++) {
			int64_t d = http_backoff_ms(100, 1000, n);
			if (d < 0 || d > cap)
				fail_msg("retry %u: %lld outside [0, %lld]", n, (long long)d,
				         (long long)cap);
			lo = d < lo ? d : lo;
			hi = d > hi ? d : hi;
			sum += d;
		}
		/* uniform over the whole range, not "half fixed + half random" */
		assert_true(lo <= cap / 10);
		assert_true(hi >= cap - cap / 10);
		double mean = (double)sum / samples;
		assert_true(mean > cap * 0.42 && mean < cap * 0.58);
	}
	assert_true(http_backoff_ms(100, 1000, 4000) <= 1000); /* no overflow */
}

static void test_retryable(void **state)
{
	(void)state;
	const long extra[] = {409, 0};
	struct chored_http_request plain = {0}, once = {.no_retry_after_send = true},
	                           more = {.retry_status = extra};
	struct http_attempt a = {.code = CURLE_OK, .sent = true};
	long yes[] = {429, 500, 502, 503, 504, 599}, no[] = {400, 401, 403, 404, 409, 410, 422};
	for (size_t i = 0; i < sizeof yes / sizeof *yes; i++) {
		a.status = yes[i];
		assert_true(http_retryable(&plain, &a));
	}
	for (size_t i = 0; i < sizeof no / sizeof *no; i++) {
		a.status = no[i];
		assert_false(http_retryable(&plain, &a));
	}
	a.status = 409;
	assert_true(http_retryable(&more, &a));
	a.status = 503;
	assert_false(http_retryable(&once, &a)); /* it may have been acted on */
	a.status = 429;
	assert_true(http_retryable(&once, &a)); /* a refusal */
	a = (struct http_attempt){.code = CURLE_COULDNT_CONNECT};
	assert_true(http_retryable(&once, &a));
	a = (struct http_attempt){.code = CURLE_OPERATION_TIMEDOUT, .sent = true};
	assert_true(http_retryable(&plain, &a));
	assert_false(http_retryable(&once, &a));
	a = (struct http_attempt){.code = CURLE_URL_MALFORMAT};
	assert_false(http_retryable(&plain, &a));
	a = (struct http_attempt){.code = CURLE_OK, .status = 503, .body_started = true};
	assert_false(http_retryable(&plain, &a)); /* no rewind callback */
	a.cancelled = true;
	assert_false(http_retryable(&plain, &a));
	a = (struct http_attempt){.code = CURLE_RECV_ERROR, .streamed = true};
	assert_false(http_retryable(&plain, &a));
	a = (struct http_attempt){.code = CURLE_WRITE_ERROR, .too_large = true};
	assert_false(http_retryable(&plain, &a));
}

static void test_sleep_cancel(void **state)
{
	(void)state;
	struct chored_job *job = chored__job_new("t", NULL);
	int64_t waited = 0;
	assert_true(http_sleep(job, 60, &waited));
	assert_true(waited >= 60);
	chored__job_cancel(job);
	waited = 0;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_false(http_sleep(job, 30000, &waited));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_true(t1.tv_sec - t0.tv_sec < 2);
	chored__job_free(job);
}

static void test_redact_query(void **state)
{
	(void)state;
	static const char *const cases[][2] = {
	    {"https://h/p?token=abc&page=2", "https://h/p?token=***&page=2"},
	    {"https://h/p?page=2&access_token=ya29.x#f", "https://h/p?page=2&access_token=***#f"},
	    {"/o/oauth2?client_secret=s&code=c&refresh_token=1%2F%2F0g",
	     "/o/oauth2?client_secret=***&code=***&refresh_token=***"},
	    {"GET /b/k?X-Amz-Credential=AK%2F1&X-Amz-Signature=ff&X-Amz-Security-Token=t HTTP/1.1",
	     "GET /b/k?X-Amz-Credential=***&X-Amz-Signature=***&X-Amz-Security-Token=*** HTTP/1.1"},
	    {"x?API_KEY=1&Key=2&sig=3&signature=4", "x?API_KEY=***&Key=***&sig=***&signature=***"},
	    {"(GET http://h/x?token=t) after 3", "(GET http://h/x?token=***) after 3"},
	    {"x?tokens=1&mykey=2&key", "x?tokens=1&mykey=2&key"},
	    {"no query: token=abc", "no query: token=abc"},
	    {"x?token=", "x?token=***"},
	    {"", ""},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		char *got = http_redact_query(cases[i][0]);
		assert_string_equal(got, cases[i][1]);
		free(got);
	}
	/* worst case growth */
	char *many = http_redact_query("?key=&key=&key=&key=&key=");
	assert_string_equal(many, "?key=***&key=***&key=***&key=***&key=***");
	free(many);
}

static void test_secret_headers(void **state)
{
	(void)state;
	const char *yes[] = {"Authorization", "authorization",       "Proxy-Authorization",
	                     "Cookie",        "Set-Cookie",          "X-Kit-Api-Key",
	                     "x-api-key",     "X-Amz-Security-Token"};
	for (size_t i = 0; i < sizeof yes / sizeof *yes; i++)
		assert_true(http_header_is_secret(yes[i], strlen(yes[i])));
	const char *no[] = {"Accept", "Content-Type", "X-Amz-Date", "Authorization-Info",
	                    "Cookies"};
	for (size_t i = 0; i < sizeof no / sizeof *no; i++)
		assert_false(http_header_is_secret(no[i], strlen(no[i])));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_server_delay), cmocka_unit_test(test_backoff_full_jitter),
	    cmocka_unit_test(test_retryable),    cmocka_unit_test(test_sleep_cancel),
	    cmocka_unit_test(test_redact_query), cmocka_unit_test(test_secret_headers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

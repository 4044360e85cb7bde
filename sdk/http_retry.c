/* The retry policy of chored_http_do: what may be retried, how long to wait (full-jitter
 * exponential backoff, Retry-After, vendor rate-limit headers) and the cancellable sleep. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "http_impl.h"

#define SLEEP_SLICE_MS 50
/* Hints beyond this are treated as "very long" (no overflow in the arithmetic below). */
#define HINT_MAX_S (INT64_C(1) << 40)
/* Numbers in headers are read up to this (a unix time in ms fits). */
#define NUMBER_MAX (INT64_C(1) << 50)

static bool in_list(const long *list, long status)
{
	for (; list && *list; list++)
		if (*list == status)
			return true;
	return false;
}

bool http_retryable(const struct chored_http_request *req, const struct http_attempt *a)
{
	if (a->cancelled || a->too_large || a->streamed)
		return false;
	if (a->body_started && !req->rewind)
		return false;
	if (a->code == CURLE_OK) {
		bool transient = a->status == 429 || (a->status >= 500 && a->status <= 599) ||
		                 in_list(req->retry_status, a->status);
		/* A 429 is a refusal: the server did not act on the request. */
		return transient && (!req->no_retry_after_send || a->status == 429);
	}
	switch (a->code) {
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
		return true; /* nothing reached the server */
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return !req->no_retry_after_send || !a->sent;
	default:
		return false;
	}
}

/* A non-negative decimal integer, or -1. */
static int64_t parse_uint(const char *s)
{
	if (!s)
		return -1;
	while (*s == ' ' || *s == '\t')
		s++;
	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (*end == '.') /* "1.5": some servers send fractions; round up */
		for (end++, v++; *end >= '0' && *end <= '9'; end++)
			;
	while (*end == ' ' || *end == '\t')
		end++;
	if (*end)
		return -1;
	if (errno == ERANGE || v > (unsigned long long)NUMBER_MAX)
		return NUMBER_MAX;
	return (int64_t)v;
}

/* The server's idea of now (its Date header) when it sent one, else this host's clock.
 * The job clock is not used: `--at` moves it, and these are real instants. */
static int64_t server_now(const struct chored_http_response *resp)
{
	const char *date = chored_http_header(resp, "Date");
	time_t t = date ? curl_getdate(date, NULL) : -1;
	if (t > 0)
		return (int64_t)t;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec;
}

static int64_t seconds_to_ms(int64_t s)
{
	return s >= HINT_MAX_S ? HINT_MAX_S * 1000 : s * 1000;
}

/* Retry-After: delta-seconds or an HTTP-date. */
static int64_t retry_after_ms(const struct chored_http_response *resp)
{
	const char *v = chored_http_header(resp, "Retry-After");
	if (!v)
		return -1;
	int64_t s = parse_uint(v);
	if (s >= 0)
		return seconds_to_ms(s);
	time_t at = curl_getdate(v, NULL);
	if (at <= 0)
		return -1;
	int64_t d = (int64_t)at - server_now(resp);
	return d > 0 ? seconds_to_ms(d) : 0;
}

/* Cal.com's X-RateLimit-Reset-Default: seconds to the reset per the throttler's source, a
 * unix time per other documentation, so both are accepted (and milliseconds of either). */
static int64_t reset_ms(const struct chored_http_response *resp, const char *name)
{
	int64_t v = parse_uint(chored_http_header(resp, name));
	if (v < 0)
		return -1;
	if (v >= INT64_C(100000000000)) /* a unix time in ms */
		v /= 1000;
	if (v >= INT64_C(1000000000)) { /* a unix time in s */
		int64_t d = v - server_now(resp);
		return d > 0 ? seconds_to_ms(d) : 0;
	}
	return seconds_to_ms(v);
}

int64_t http_server_delay_ms(const struct chored_http_response *resp)
{
	int64_t ms = retry_after_ms(resp); /* Notion, Resend, RFC 9110 */
	if (ms >= 0 || resp->status != 429)
		return ms;
	if ((ms = reset_ms(resp, "ratelimit-reset")) >= 0) /* Resend, IETF draft */
		return ms;
	const char *left = chored_http_header(resp, "X-RateLimit-Remaining-Default");
	if (!left || parse_uint(left) == 0) /* Cal.com */
		if ((ms = reset_ms(resp, "X-RateLimit-Reset-Default")) >= 0)
			return ms;
	return -1; /* Kit: a bare "Retry later"; the backoff applies */
}

int64_t http_backoff_ms(long base_ms, long max_ms, unsigned n)
{
	uint64_t cap = base_ms > 0 ? (uint64_t)base_ms : 1;
	for (unsigned i = 0; i < n && cap < (uint64_t)max_ms; i++)
		cap *= 2;
	if (max_ms > 0 && cap > (uint64_t)max_ms)
		cap = (uint64_t)max_ms;
	uint64_t r;
	if (RAND_bytes((unsigned char *)&r, sizeof r) != 1)
		return (int64_t)cap; /* no randomness: the longest wait is the safe one */
	return (int64_t)(r % (cap + 1));
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool http_sleep(struct chored_job *job, int64_t ms, int64_t *waited_ms)
{
	int64_t start = mono_ms(), end = start + ms;
	bool done = true;
	for (int64_t now = start; now < end; now = mono_ms()) {
		if (chored_job_cancelled(job)) {
			done = false;
			break;
		}
		int64_t slice = end - now < SLEEP_SLICE_MS ? end - now : SLEEP_SLICE_MS;
		struct timespec ts = {slice / 1000, (long)(slice % 1000) * 1000000};
		nanosleep(&ts, NULL);
	}
	*waited_ms += mono_ms() - start;
	return done && !chored_job_cancelled(job);
}

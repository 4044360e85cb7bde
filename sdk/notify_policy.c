/* Which sinks a report goes to, its subject and its idempotency key: pure functions. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "notify_impl.h"

const char *notify_status_name(enum chored_status st)
{
	switch (st) {
	case CHORED_OK:
		return "ok";
	case CHORED_PARTIAL:
		return "partial";
	default:
		return "failed";
	}
}

bool notify_policy_wants(const char *policy, const char *status, const char *previous)
{
	if (policy && strcmp(policy, "always") == 0)
		return true;
	if (policy && strcmp(policy, "never") == 0)
		return false;
	if (policy && strcmp(policy, "on-change") == 0)
		return !previous || strcmp(previous, status) != 0; /* a first run is a change */
	return strcmp(status, "ok") != 0;                          /* on-failure, the default */
}

static char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = NULL;
	int n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		abort();
	return s;
}

char *notify_subject_word(const char *job, enum chored_status st, const char *word,
                          const char *summary)
{
	static const char *const mark[] = {"\u2705", "\u26a0\ufe0f", "\u274c"};
	unsigned i = st == CHORED_OK ? 0 : st == CHORED_PARTIAL ? 1 : 2;
	if (!word)
		word = notify_status_name(st);
	if (summary && *summary)
		return xasprintf("[chored] %s %s: %s \u2014 %s", mark[i], job, word, summary);
	return xasprintf("[chored] %s %s: %s", mark[i], job, word);
}

char *notify_subject(const char *job, enum chored_status st, const char *summary)
{
	return notify_subject_word(job, st, NULL, summary);
}

char *notify_idempotency_key(const char *job, int64_t nominal, const char *sink)
{
	time_t t = (time_t)nominal;
	struct tm tm;
	char when[32] = "";
	if (gmtime_r(&t, &tm))
		strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
	else
		snprintf(when, sizeof when, "%" PRId64, nominal);
	char *key = xasprintf("chored/%s/%s/%s", job, when, sink);
	if (strlen(key) <= 256)
		return key;
	/* Resend takes 1-256 characters: a long job or sink name is hashed, still stable. */
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	if (!EVP_Digest(key, strlen(key), md, &mdlen, EVP_sha256(), NULL))
		abort();
	char hex[2 * EVP_MAX_MD_SIZE + 1];
	for (unsigned i = 0; i < mdlen; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	free(key);
	return xasprintf("chored/%s", hex);
}

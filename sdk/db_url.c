/* Database URLs: which backend, where, and what must never be shown (the password). */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_impl.h"

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* A malloc'd percent-decoded copy of s[0..len); NULL on a bad escape, a NUL byte or no
 * memory (*bad tells which). */
static char *pct_decode(const char *s, size_t len, bool *bad)
{
	char *out = malloc(len + 1), *o = out;
	*bad = false;
	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		if (s[i] != '%') {
			*o++ = s[i];
			continue;
		}
		int hi = i + 1 < len ? hexval((unsigned char)s[i + 1]) : -1;
		int lo = i + 2 < len ? hexval((unsigned char)s[i + 2]) : -1;
		if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
			*bad = true;
			free(out);
			return NULL;
		}
		*o++ = (char)(hi * 16 + lo);
		i += 2;
	}
	*o = '\0';
	return out;
}

void db_url_free(struct db_url *u)
{
	free(u->path);
	free(u->account);
	free(u->database);
	free(u->conninfo);
	free(u->password);
	free(u->shown);
	memset(u, 0, sizeof *u);
}

static int fail(struct db_url *u, char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(struct db_url *u, char *err, size_t errlen, const char *fmt, ...)
{
	if (errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	db_url_free(u);
	return -1;
}

static int parse_sqlite(const char *url, struct db_url *u, char *err, size_t errlen)
{
	const char *rest = url + strlen("sqlite://");
	if (*rest != '/')
		return fail(u, err, errlen,
		            "bad database URL: sqlite URLs name a local file by its absolute "
		            "path: sqlite:///abs/path%s",
		            *rest ? " (no host part)" : "");
	size_t len = strcspn(rest, "?#");
	if (rest[len])
		return fail(u, err, errlen,
		            "bad database URL %s: sqlite URLs take no query or fragment", url);
	bool bad;
	u->path = pct_decode(rest, len, &bad);
	if (!u->path)
		return fail(u, err, errlen,
		            bad ? "bad database URL %s: bad percent escape in the path"
		                : "out of memory%s",
		            bad ? url : "");
	size_t plen = strlen(u->path);
	if (plen < 2 || u->path[plen - 1] == '/')
		return fail(u, err, errlen, "bad database URL %s: the path names no file", url);
	u->kind = CHORED_DB_SQLITE;
	u->shown = strdup(url);
	return u->shown ? 0 : fail(u, err, errlen, "out of memory%s", "");
}

static bool d1_id_ok(const char *s, size_t len)
{
	if (len == 0 || len > 64)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-')
			return false;
	return true;
}

static int parse_d1(const char *url, struct db_url *u, char *err, size_t errlen)
{
	const char *acc = url + strlen("d1://");
	const char *slash = strchr(acc, '/');
	if (!slash || !d1_id_ok(acc, (size_t)(slash - acc)) ||
	    !d1_id_ok(slash + 1, strlen(slash + 1)))
		return fail(u, err, errlen,
		            "bad database URL %s: expected d1://ACCOUNT_ID/DATABASE_ID (letters, "
		            "digits and '-' only)",
		            url);
	u->kind = CHORED_DB_D1;
	u->account = strndup(acc, (size_t)(slash - acc));
	u->database = strdup(slash + 1);
	u->shown = strdup(url);
	if (!u->account || !u->database || !u->shown)
		return fail(u, err, errlen, "out of memory%s", "");
	return 0;
}

/* Appends s[0..len) to the growing string *out. */
static void cat(char **o, const char *s, size_t len)
{
	memcpy(*o, s, len);
	*o += len;
}

/* postgresql://[user[:password]@][host][:port][/dbname][?param=value&...]: libpq parses it;
 * here only the password is found (userinfo or ?password=) and hidden in `shown`. */
static int parse_pg(const char *url, size_t scheme_len, struct db_url *u, char *err, size_t errlen)
{
	const char *auth = url + scheme_len;
	size_t alen = strcspn(auth, "/?#");
	const char *at = NULL;
	for (size_t i = 0; i < alen; i++)
		if (auth[i] == '@')
			at = auth + i; /* the last '@': user names may not hold one unescaped */
	char *shown = malloc(2 * strlen(url) + 16), *o = shown; /* "***" may be longer */
	if (!shown)
		return fail(u, err, errlen, "out of memory%s", "");
	u->shown = shown;
	cat(&o, url, scheme_len);
	const char *p = auth;
	if (at) {
		const char *colon = memchr(auth, ':', (size_t)(at - auth));
		if (colon) {
			bool bad;
			u->password = pct_decode(colon + 1, (size_t)(at - colon - 1), &bad);
			if (!u->password)
				return fail(u, err, errlen,
				            bad ? "bad database URL: bad percent escape in the "
				                  "password%s"
				                : "out of memory%s",
				            "");
			cat(&o, auth, (size_t)(colon - auth));
			cat(&o, ":***", 4);
			p = at;
		}
	}
	/* The rest, with any password=VALUE query parameter hidden. */
	const char *q = strchr(p, '?');
	if (!q) {
		cat(&o, p, strlen(p));
	} else {
		cat(&o, p, (size_t)(q - p) + 1);
		q++;
		while (*q) {
			size_t plen = strcspn(q, "&#");
			if (plen > 9 && strncmp(q, "password=", 9) == 0) {
				bool bad;
				free(u->password);
				u->password = pct_decode(q + 9, plen - 9, &bad);
				if (!u->password)
					return fail(u, err, errlen,
					            bad ? "bad database URL: bad percent escape in "
					                  "the password%s"
					                : "out of memory%s",
					            "");
				cat(&o, "password=***", 12);
			} else {
				cat(&o, q, plen);
			}
			q += plen;
			if (*q) {
				cat(&o, q, 1);
				q++;
			}
		}
	}
	*o = '\0';
	u->kind = CHORED_DB_POSTGRESQL;
	u->conninfo = strdup(url);
	return u->conninfo ? 0 : fail(u, err, errlen, "out of memory%s", "");
}

int db_url_parse(const char *url, struct db_url *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof *out);
	if (!url || !*url)
		return fail(out, err, errlen, "no database URL given%s", "");
	if (strncmp(url, "sqlite://", 9) == 0)
		return parse_sqlite(url, out, err, errlen);
	if (strncmp(url, "postgresql://", 13) == 0)
		return parse_pg(url, 13, out, err, errlen);
	if (strncmp(url, "postgres://", 11) == 0)
		return parse_pg(url, 11, out, err, errlen);
	if (strncmp(url, "d1://", 5) == 0)
		return parse_d1(url, out, err, errlen);
	/* Only the scheme is shown: the rest of an unknown URL may hold a password. */
	size_t slen = strcspn(url, ":");
	if (!url[slen] || slen > 20) {
		return fail(out, err, errlen,
		            "bad database URL: not a URL (expected sqlite:///abs/path, "
		            "postgresql://..., or d1://ACCOUNT_ID/DATABASE_ID)%s",
		            "");
	}
	char scheme[24];
	snprintf(scheme, sizeof scheme, "%.*s", (int)slen, url);
	return fail(out, err, errlen,
	            "bad database URL: unknown scheme \"%s\" (expected sqlite://, "
	            "postgresql://, postgres:// or d1://)",
	            scheme);
}

void db_scrub(char *out, size_t outlen, const char *in, const char *const *secrets, size_t n)
{
	if (!outlen)
		return;
	size_t o = 0;
	while (*in && o + 1 < outlen) {
		size_t hit = 0;
		for (size_t k = 0; k < n && !hit; k++) {
			size_t sl = secrets[k] ? strlen(secrets[k]) : 0;
			if (sl && strncmp(in, secrets[k], sl) == 0)
				hit = sl;
		}
		if (hit) {
			for (const char *m = "***"; *m && o + 1 < outlen; m++)
				out[o++] = *m;
			in += hit;
		} else {
			out[o++] = *in++;
		}
	}
	out[o] = '\0';
}

/* Encodings of the store service: RFC 3986 escapes, the SigV4 canonical query, Content-MD5.
 * SHA-256 comes from the crypto service (chored_sha256_hex). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "store_impl.h"

static bool unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_' || c == '.' || c == '~';
}

char *store_uri_encode(const char *s, bool keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(s);
	char *out = malloc(3 * n + 1), *p = out;
	if (!out)
		return NULL;
	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		if (unreserved(*c) || (keep_slash && *c == '/')) {
			*p++ = (char)*c;
		} else {
			*p++ = '%';
			*p++ = hex[*c >> 4];
			*p++ = hex[*c & 15];
		}
	}
	*p = '\0';
	return out;
}

char *store_uri_decode(const char *s)
{
	char *out = malloc(strlen(s) + 1), *p = out;
	if (!out)
		return NULL;
	for (; *s; s++) {
		if (*s == '%') {
			/* OpenSSL's hex digit value: -1 for anything else (the NUL included). */
			int hi = OPENSSL_hexchar2int((unsigned char)s[1]);
			int lo = hi < 0 ? -1 : OPENSSL_hexchar2int((unsigned char)s[2]);
			if (hi < 0 || lo < 0) {
				free(out);
				return NULL;
			}
			*p++ = (char)(hi * 16 + lo);
			s += 2;
		} else {
			*p++ = *s;
		}
	}
	*p = '\0';
	return out;
}

struct qpair {
	char *name, *value; /* encoded */
};

static int qpair_cmp(const void *a, const void *b)
{
	const struct qpair *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	return c ? c : strcmp(x->value, y->value);
}

char *store_canonical_query(const char *const *pairs)
{
	size_t n = 0, len = 1;
	while (pairs[2 * n])
		n++;
	struct qpair *q = calloc(n ? n : 1, sizeof *q);
	char *out = NULL;
	if (!q)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		q[i].name = store_uri_encode(pairs[2 * i], false);
		q[i].value = store_uri_encode(pairs[2 * i + 1] ? pairs[2 * i + 1] : "", false);
		if (!q[i].name || !q[i].value)
			goto done;
		len += strlen(q[i].name) + strlen(q[i].value) + 2;
	}
	qsort(q, n, sizeof *q, qpair_cmp);
	out = malloc(len);
	if (!out)
		goto done;
	char *p = out;
	for (size_t i = 0; i < n; i++)
		p += sprintf(p, "%s%s=%s", i ? "&" : "", q[i].name, q[i].value);
	*p = '\0';
done:
	for (size_t i = 0; i < n; i++) {
		free(q[i].name);
		free(q[i].value);
	}
	free(q);
	return out;
}

void store_md5_base64(const void *buf, size_t len, char out[25])
{
	unsigned char md[16];
	unsigned int mdlen = 0;
	EVP_Digest(buf, len, md, &mdlen, EVP_md5(), NULL);
	EVP_EncodeBlock((unsigned char *)out, md, 16);
}

int64_t store_parse_iso(const char *s)
{
	struct tm tm = {0};
	int n = 0;
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
	           &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6)
		return -1;
	const char *rest = s + n;
	if (*rest == '.') {
		rest++;
		while (*rest >= '0' && *rest <= '9')
			rest++;
	}
	if (strcmp(rest, "Z") != 0 && strcmp(rest, "+00:00") != 0)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (int64_t)timegm(&tm);
}

int store_buf_add(struct store_buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *p = realloc(b->s, cap);
		if (!p)
			return -1;
		b->s = p;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
	return 0;
}

int store_buf_addf(struct store_buf *b, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof tmp)
		return -1;
	return store_buf_add(b, tmp, (size_t)n);
}

int store_buf_add_xml(struct store_buf *b, const char *s)
{
	for (; *s; s++) {
		const char *e = NULL;
		switch (*s) {
		case '&':
			e = "&amp;";
			break;
		case '<':
			e = "&lt;";
			break;
		case '>':
			e = "&gt;";
			break;
		case '"':
			e = "&quot;";
			break;
		case '\'':
			e = "&apos;";
			break;
		default:
			break;
		}
		if (e ? store_buf_add(b, e, strlen(e)) : store_buf_add(b, s, 1))
			return -1;
	}
	return 0;
}

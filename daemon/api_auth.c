/* The admin listener's guard (design §10, ecosystem conventions §7): the Bearer token
 * compared in constant time, the Host allow-list against DNS rebinding, tokens refused in
 * query strings, and the per-address slow-down of bad tokens. Pure functions of struct
 * api_guard and their inputs (the clock is a parameter), so the unit tests drive them. */
#include "chored-build.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api_internal.h"

static bool sha256(const void *data, size_t len, unsigned char out[32])
{
	unsigned int n = 0;
	return EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) == 1 && n == 32;
}

void api_guard_set_token(struct api_guard *g, const char *token)
{
	g->has_token = token && *token && sha256(token, strlen(token), g->token_sha256);
	if (!g->has_token)
		OPENSSL_cleanse(g->token_sha256, sizeof g->token_sha256);
}

/* Both sides are hashed first: CRYPTO_memcmp needs equal lengths, and comparing digests
 * hides the token's length as well as its contents. */
static bool token_ok_n(const struct api_guard *g, const char *presented, size_t len)
{
	unsigned char d[32];
	if (!g->has_token || !sha256(presented, len, d))
		return false;
	bool ok = CRYPTO_memcmp(d, g->token_sha256, sizeof d) == 0;
	OPENSSL_cleanse(d, sizeof d);
	return ok;
}

bool api_guard_token_ok(const struct api_guard *g, const char *presented)
{
	return presented && token_ok_n(g, presented, strlen(presented));
}

const char *api_bearer(const char *value, size_t *len)
{
	if (!value || strncasecmp(value, "Bearer", 6) != 0 || (value[6] != ' ' && value[6] != '\t'))
		return NULL;
	const char *p = value + 6;
	while (*p == ' ' || *p == '\t')
		p++;
	size_t n = strlen(p);
	while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	if (n == 0)
		return NULL;
	*len = n;
	return p;
}

/* The host part of a Host header value ("name", "name:port", "[v6]", "[v6]:port") copied
 * to out, brackets kept; false when malformed. */
static bool host_part(const char *host, char *out, size_t outlen, bool *bracketed)
{
	const char *end;
	*bracketed = host[0] == '[';
	if (*bracketed) {
		const char *close = strchr(host, ']');
		if (!close)
			return false;
		end = close + 1;
	} else {
		end = strchr(host, ':');
		if (!end)
			end = host + strlen(host);
	}
	if (*end == ':') {
		const char *port = end + 1;
		if (!*port || strlen(port) > 5 || strspn(port, "0123456789") != strlen(port))
			return false;
	} else if (*end) {
		return false;
	}
	size_t n = (size_t)(end - host);
	if (n == 0 || n >= outlen)
		return false;
	memcpy(out, host, n);
	out[n] = '\0';
	return true;
}

/* Names compare without case and without one trailing dot ("localhost." is localhost). */
static bool name_is(const char *name, const char *want)
{
	size_t n = strlen(name), w = strlen(want);
	if (n > 0 && name[n - 1] == '.')
		n--;
	return w > 0 && n == w && strncasecmp(name, want, n) == 0;
}

bool api_guard_host_ok(const struct api_guard *g, const char *host)
{
	if (!host)
		return true; /* HTTP/1.0 without Host: no browser sends that */
	char h[256];
	bool bracketed;
	if (!host_part(host, h, sizeof h, &bracketed))
		return false;
	unsigned char addr[16];
	if (bracketed) {
		h[strlen(h) - 1] = '\0';
		return inet_pton(AF_INET6, h + 1, addr) == 1;
	}
	if (inet_pton(AF_INET, h, addr) == 1 || name_is(h, "localhost"))
		return true;
	return !g->loopback && (name_is(h, g->hostname) || name_is(h, g->listen_name));
}

/* Query keys that carry a credential in the usual APIs (compared without case). */
static const char *const credential_keys[] = {
    "token",  "access_token", "admin_token",   "auth_token", "api_token", "bearer", "api_key",
    "apikey", "auth",         "authorization", "password",   "secret",    NULL};

static bool is_credential_key(const char *k, size_t n)
{
	for (size_t i = 0; credential_keys[i]; i++)
		if (strlen(credential_keys[i]) == n && strncasecmp(k, credential_keys[i], n) == 0)
			return true;
	return false;
}

/* Decodes %XX and '+' of a query component into out (NUL-terminated, at most outlen-1). */
static size_t query_decode(const char *s, size_t n, char *out, size_t outlen)
{
	size_t o = 0;
	for (size_t i = 0; i < n && o + 1 < outlen; i++) {
		char c = s[i];
		if (c == '+') {
			c = ' ';
		} else if (c == '%' && i + 2 < n) {
			char hex[3] = {s[i + 1], s[i + 2], 0};
			char *end;
			long v = strtol(hex, &end, 16);
			if (*end == '\0' && end == hex + 2) {
				c = (char)v;
				i += 2;
			}
		}
		out[o++] = c;
	}
	out[o] = '\0';
	return o;
}

bool api_guard_query_has_token(const struct api_guard *g, const char *query)
{
	if (!query)
		return false;
	const char *p = query;
	while (*p) {
		size_t n = strcspn(p, "&;");
		const char *eq = memchr(p, '=', n);
		size_t kn = eq ? (size_t)(eq - p) : n;
		char buf[1024];
		size_t bn = query_decode(p, kn, buf, sizeof buf);
		if (is_credential_key(buf, bn))
			return true;
		if (eq) {
			bn = query_decode(eq + 1, n - kn - 1, buf, sizeof buf);
			bool hit = bn > 0 && token_ok_n(g, buf, bn);
			OPENSSL_cleanse(buf, sizeof buf);
			if (hit)
				return true;
		}
		p += n;
		if (*p)
			p++;
	}
	return false;
}

void api_guard_addr_key(const char *peer, char *out, size_t outlen)
{
	unsigned char a6[16];
	if (peer && inet_pton(AF_INET6, peer, a6) == 1) {
		/* An IPv4 client of a dual-stack listener is one host, not a /64 of them. */
		if (IN6_IS_ADDR_V4MAPPED((struct in6_addr *)a6)) {
			char v4[INET_ADDRSTRLEN];
			if (inet_ntop(AF_INET, a6 + 12, v4, sizeof v4)) {
				snprintf(out, outlen, "%s", v4);
				return;
			}
		}
		memset(a6 + 8, 0, 8);
		char txt[INET6_ADDRSTRLEN];
		if (inet_ntop(AF_INET6, a6, txt, sizeof txt)) {
			snprintf(out, outlen, "%s/64", txt);
			return;
		}
	}
	snprintf(out, outlen, "%s", peer ? peer : "?");
}

static struct api_fail *find(const struct api_guard *g, const char *addr)
{
	for (size_t i = 0; i < API_FAIL_SLOTS; i++)
		if (g->fails[i].addr[0] && strcmp(g->fails[i].addr, addr) == 0)
			return (struct api_fail *)&g->fails[i];
	return NULL;
}

int64_t api_guard_wait_ms(const struct api_guard *g, const char *addr, int64_t now_ms)
{
	const struct api_fail *f = find(g, addr);
	return f && f->locked_ms > now_ms ? f->locked_ms - now_ms : 0;
}

int64_t api_guard_failed(struct api_guard *g, const char *addr, int64_t now_ms)
{
	struct api_fail *f = find(g, addr);
	if (f && now_ms - f->last_ms > (int64_t)API_FAIL_FORGET * 1000)
		f->failures = 0;
	if (!f) {
		/* A free or forgotten slot, else the one idle longest: the table stays bounded
		 * and an address that keeps failing keeps its slot. */
		struct api_fail *victim = &g->fails[0];
		for (size_t i = 0; i < API_FAIL_SLOTS; i++) {
			struct api_fail *s = &g->fails[i];
			if (!s->addr[0] || now_ms - s->last_ms > (int64_t)API_FAIL_FORGET * 1000) {
				victim = s;
				break;
			}
			if (s->last_ms < victim->last_ms)
				victim = s;
		}
		f = victim;
		memset(f, 0, sizeof *f);
		snprintf(f->addr, sizeof f->addr, "%s", addr);
	}
	f->failures++;
	f->last_ms = now_ms;
	if (f->failures < API_FAIL_FREE)
		return 0;
	unsigned shift = f->failures - API_FAIL_FREE;
	int64_t lock_s = shift >= 6 ? API_FAIL_LOCK_MAX : (int64_t)API_FAIL_LOCK_BASE << shift;
	if (lock_s > API_FAIL_LOCK_MAX)
		lock_s = API_FAIL_LOCK_MAX;
	f->locked_ms = now_ms + lock_s * 1000;
	return lock_s * 1000;
}

void api_guard_succeeded(struct api_guard *g, const char *addr)
{
	struct api_fail *f = find(g, addr);
	if (f)
		memset(f, 0, sizeof *f);
}

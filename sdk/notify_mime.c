/* The e-mail form of a report: RFC 2047 subjects, RFC 5322 headers and a MIME
 * multipart/alternative body (text and HTML). Pure functions; outbox and smtp share them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "notify_impl.h"

/* A growable string; every append aborts on allocation failure, like the rest of libchored. */
struct buf {
	char *s;
	size_t len, cap;
};

static void buf_add(struct buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *p = realloc(b->s, cap);
		if (!p)
			abort();
		b->s = p;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void buf_str(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

/* A finished buffer: never NULL, even when nothing was added. */
static char *buf_take(struct buf *b)
{
	if (!b->s)
		buf_add(b, "", 0);
	return b->s;
}

/* Base64 of n bytes (no line breaks) appended to b. */
static void buf_base64(struct buf *b, const unsigned char *in, size_t n)
{
	char out[4 * 48 / 3 + 1];
	for (size_t off = 0; off < n; off += 48) {
		size_t chunk = n - off < 48 ? n - off : 48;
		int k = EVP_EncodeBlock((unsigned char *)out, in + off, (int)chunk);
		buf_add(b, out, (size_t)k);
	}
}

static bool header_safe(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p > 0x7e)
			return false;
	return strstr(s, "=?") == NULL;
}

/* Length of the UTF-8 sequence starting with byte c (1 for a stray byte). */
static size_t utf8_len(unsigned char c)
{
	if (c >= 0xf0 && c < 0xf8)
		return 4;
	if (c >= 0xe0)
		return c < 0xf0 ? 3 : 1;
	if (c >= 0xc0)
		return 2;
	return 1;
}

char *notify_rfc2047(const char *text, const char *eol)
{
	struct buf b = {0};
	if (!text)
		text = "";
	if (header_safe(text)) {
		buf_str(&b, text);
		return buf_take(&b);
	}
	/* "=?UTF-8?B?" + 60 base64 characters + "?=" = 72 <= 75: 45 bytes per word at most. */
	size_t len = strlen(text), off = 0;
	while (off < len) {
		size_t n = 0;
		while (off + n < len) {
			size_t c = utf8_len((unsigned char)text[off + n]);
			if (off + n + c > len)
				c = len - off - n;
			if (n + c > 45)
				break;
			n += c;
		}
		if (off)
			buf_str(&b, eol), buf_str(&b, " ");
		buf_str(&b, "=?UTF-8?B?");
		buf_base64(&b, (const unsigned char *)text + off, n);
		buf_str(&b, "?=");
		off += n;
	}
	return buf_take(&b);
}

char **notify_split_addrs(const char *list, size_t *n)
{
	size_t cap = 4, k = 0;
	char **v = malloc(cap * sizeof *v);
	if (!v)
		abort();
	const char *p = list ? list : "";
	for (;;) {
		p += strspn(p, " \t,");
		if (!*p)
			break;
		size_t w = strcspn(p, " \t,");
		if (k + 2 > cap) {
			cap *= 2;
			char **nv = realloc(v, cap * sizeof *v);
			if (!nv)
				abort();
			v = nv;
		}
		v[k] = strndup(p, w);
		if (!v[k])
			abort();
		k++;
		p += w;
	}
	v[k] = NULL;
	if (n)
		*n = k;
	return v;
}

void notify_strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

void notify_rfc5322_date(int64_t t, char *buf, size_t len)
{
	/* Day and month names are fixed English (RFC 5322), so no locale-dependent %a/%b. */
	static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	time_t tt = (time_t)t;
	struct tm tm;
	if (!gmtime_r(&tt, &tm)) {
		snprintf(buf, len, "Thu, 01 Jan 1970 00:00:00 +0000");
		return;
	}
	snprintf(buf, len, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday], tm.tm_mday,
	         months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* "Name: value" + eol; the value must already be header-safe. */
static void header(struct buf *b, const char *name, const char *value, const char *eol)
{
	buf_str(b, name);
	buf_str(b, ": ");
	buf_str(b, value);
	buf_str(b, eol);
}

/* One MIME part: its headers and `body` base64-encoded in lines of 76 characters. */
static void part(struct buf *b, const char *boundary, const char *type, const char *body,
                 const char *eol)
{
	buf_str(b, "--");
	buf_str(b, boundary);
	buf_str(b, eol);
	header(b, "Content-Type", type, eol);
	header(b, "Content-Transfer-Encoding", "base64", eol);
	buf_str(b, eol);
	struct buf enc = {0};
	buf_base64(&enc, (const unsigned char *)body, strlen(body));
	for (size_t off = 0; off < enc.len; off += 76) {
		buf_add(b, enc.s + off, enc.len - off < 76 ? enc.len - off : 76);
		buf_str(b, eol);
	}
	free(enc.s);
}

char *notify_mime_message(const struct notify_mail *m, const char *eol)
{
	struct buf b = {0};
	char date[64];
	notify_rfc5322_date(m->date, date, sizeof date);
	header(&b, "Date", date, eol);
	header(&b, "From", m->from, eol);
	header(&b, "To", m->to, eol);
	char *subject = notify_rfc2047(m->subject, eol);
	header(&b, "Subject", subject, eol);
	free(subject);
	header(&b, "Message-ID", m->message_id, eol);
	header(&b, "MIME-Version", "1.0", eol);
	header(&b, "Auto-Submitted", "auto-generated", eol); /* RFC 3834: no auto-replies */
	buf_str(&b, "Content-Type: multipart/alternative; boundary=\"");
	buf_str(&b, m->boundary);
	buf_str(&b, "\"");
	buf_str(&b, eol);
	buf_str(&b, eol);
	part(&b, m->boundary, "text/plain; charset=utf-8", m->text ? m->text : "", eol);
	part(&b, m->boundary, "text/html; charset=utf-8", m->html ? m->html : "", eol);
	buf_str(&b, "--");
	buf_str(&b, m->boundary);
	buf_str(&b, "--");
	buf_str(&b, eol);
	return buf_take(&b);
}

/* The pure parts of the notify service: policies, subjects, idempotency keys, RFC 2047
 * subjects, address lists, RFC 5322 dates and the MIME message. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "notify_impl.h"

static void test_policies(void **state)
{
	(void)state;
	static const char *const st[] = {"ok", "partial", "failed"};
	for (int i = 0; i < 3; i++) {
		assert_true(notify_policy_wants("always", st[i], NULL));
		assert_true(notify_policy_wants("always", st[i], st[i]));
		assert_false(notify_policy_wants("never", st[i], NULL));
		assert_false(notify_policy_wants("never", st[i], "failed"));
		/* on-failure (and an unknown or missing policy: the default) */
		bool fail = i != 0;
		assert_int_equal(notify_policy_wants("on-failure", st[i], "ok"), fail);
		assert_int_equal(notify_policy_wants("on-failure", st[i], st[i]), fail);
		assert_int_equal(notify_policy_wants(NULL, st[i], NULL), fail);
		assert_int_equal(notify_policy_wants("bogus", st[i], NULL), fail);
		/* on-change: a first run is a change; same status is not */
		assert_true(notify_policy_wants("on-change", st[i], NULL));
		assert_false(notify_policy_wants("on-change", st[i], st[i]));
		for (int j = 0; j < 3; j++)
			assert_int_equal(notify_policy_wants("on-change", st[i], st[j]), i != j);
	}
	/* a previous run that crashed or timed out differs from every runner status */
	assert_true(notify_policy_wants("on-change", "failed", "crashed"));
	assert_true(notify_policy_wants("on-change", "ok", "timeout"));
}

static void test_status_names(void **state)
{
	(void)state;
	assert_string_equal(notify_status_name(CHORED_OK), "ok");
	assert_string_equal(notify_status_name(CHORED_PARTIAL), "partial");
	assert_string_equal(notify_status_name(CHORED_FAILED), "failed");
	assert_string_equal(notify_status_name((enum chored_status)7), "failed");
}

static void test_subjects(void **state)
{
	(void)state;
	char *s = notify_subject("monthly-backup", CHORED_OK, "");
	assert_string_equal(s, "[chored] \xe2\x9c\x85 monthly-backup: ok");
	free(s);
	s = notify_subject("monthly-backup", CHORED_OK, NULL);
	assert_string_equal(s, "[chored] \xe2\x9c\x85 monthly-backup: ok");
	free(s);
	s = notify_subject("crawl", CHORED_PARTIAL, "12 pages, 3 dead links");
	assert_string_equal(s, "[chored] \xe2\x9a\xa0\xef\xb8\x8f crawl: partial \xe2\x80\x94 "
	                       "12 pages, 3 dead links");
	free(s);
	s = notify_subject("x", CHORED_FAILED, "exit 3");
	assert_string_equal(s, "[chored] \xe2\x9d\x8c x: failed \xe2\x80\x94 exit 3");
	free(s);
	/* chored's own reports name the run status; the mark follows the report's. */
	s = notify_subject_word("monthly-backup", CHORED_FAILED, "crashed", "killed by SIGSEGV");
	assert_string_equal(s, "[chored] \xe2\x9d\x8c monthly-backup: crashed \xe2\x80\x94 "
	                       "killed by SIGSEGV");
	free(s);
	s = notify_subject_word("x", CHORED_FAILED, "missed", NULL);
	assert_string_equal(s, "[chored] \xe2\x9d\x8c x: missed");
	free(s);
	s = notify_subject_word("x", CHORED_PARTIAL, NULL, "");
	assert_string_equal(s, "[chored] \xe2\x9a\xa0\xef\xb8\x8f x: partial");
	free(s);
}

static void test_idempotency_key(void **state)
{
	(void)state;
	char *k = notify_idempotency_key("slot-watch", 1740960000, "ops-mail");
	assert_string_equal(k, "chored/slot-watch/2025-03-03T00:00:00Z/ops-mail");
	char *again = notify_idempotency_key("slot-watch", 1740960000, "ops-mail");
	assert_string_equal(k, again); /* a restart derives the same key */
	char *other = notify_idempotency_key("slot-watch", 1740960000, "ceo-mail");
	assert_string_not_equal(k, other);
	char *later = notify_idempotency_key("slot-watch", 1740960060, "ops-mail");
	assert_string_not_equal(k, later);
	free(k), free(again), free(other), free(later);

	char name[300];
	memset(name, 'j', sizeof name - 1);
	name[sizeof name - 1] = '\0';
	k = notify_idempotency_key(name, 0, "s");
	again = notify_idempotency_key(name, 0, "s");
	other = notify_idempotency_key(name, 0, "t");
	assert_true(strlen(k) >= 1 && strlen(k) <= 256);
	assert_int_equal(strlen(k), strlen("chored/") + 64);
	assert_string_equal(k, again);
	assert_string_not_equal(k, other);
	free(k), free(again), free(other);
}

/* Decodes an RFC 2047 header value made of B words joined by eol + " " into out. */
static void decode_2047(const char *v, char *out, size_t outlen)
{
	size_t o = 0;
	const char *p = v;
	while (*p) {
		assert_int_equal(strncmp(p, "=?UTF-8?B?", 10), 0);
		const char *end = strstr(p + 10, "?=");
		assert_non_null(end);
		assert_true(end + 2 - p <= 75); /* RFC 2047 §2: at most 75 characters a word */
		unsigned char dec[128];
		int n = EVP_DecodeBlock(dec, (const unsigned char *)p + 10, (int)(end - p - 10));
		assert_true(n >= 0);
		int pad = 0;
		for (const char *q = end - 1; *q == '='; q--)
			pad++;
		n -= pad;
		/* every word holds whole characters: it does not end inside a UTF-8 sequence */
		int i = n - 1;
		while (i > 0 && (dec[i] & 0xc0) == 0x80)
			i--;
		int want = dec[i] >= 0xf0 ? 4 : dec[i] >= 0xe0 ? 3 : dec[i] >= 0xc0 ? 2 : 1;
		assert_int_equal(n - i, want);
		assert_true(o + (size_t)n < outlen);
		memcpy(out + o, dec, (size_t)n);
		o += (size_t)n;
		p = end + 2;
		if (strncmp(p, "\r\n ", 3) == 0)
			p += 3;
		else
			assert_int_equal(*p, '\0');
	}
	out[o] = '\0';
}

static void test_rfc2047(void **state)
{
	(void)state;
	char *e = notify_rfc2047("plain subject: ok", "\r\n");
	assert_string_equal(e, "plain subject: ok");
	free(e);
	char out[1024];
	/* "=?" in plain ASCII would be read as an encoded word: encoded too */
	e = notify_rfc2047("a =?b?= c", "\r\n");
	assert_int_equal(strncmp(e, "=?UTF-8?B?", 10), 0);
	decode_2047(e, out, sizeof out);
	assert_string_equal(out, "a =?b?= c");
	free(e);

	const char *subj = "[chored] \xe2\x9a\xa0\xef\xb8\x8f weekly-report: partial \xe2\x80\x94 "
	                   "\xf0\x9f\x93\x88 1 234 subscribers, 3 bounced, 2 r\xc3\xa9sum\xc3\xa9s";
	e = notify_rfc2047(subj, "\r\n");
	assert_non_null(strstr(e, "\r\n ")); /* long enough to be folded */
	decode_2047(e, out, sizeof out);
	assert_string_equal(out, subj);
	free(e);

	/* every split position of a 4-byte emoji sequence */
	for (int pre = 40; pre < 48; pre++) {
		char s[128];
		memset(s, 'x', (size_t)pre);
		strcpy(s + pre, "\xf0\x9f\x98\x80\xf0\x9f\x98\x80 end");
		s[0] = '\xc3', s[1] = '\xa9';
		e = notify_rfc2047(s, "\r\n");
		decode_2047(e, out, sizeof out);
		assert_string_equal(out, s);
		free(e);
	}
}

static void test_split_addrs(void **state)
{
	(void)state;
	size_t n;
	char **v = notify_split_addrs(" a@x.example, b@y.example  c@z.example,,", &n);
	assert_int_equal(n, 3);
	assert_string_equal(v[0], "a@x.example");
	assert_string_equal(v[1], "b@y.example");
	assert_string_equal(v[2], "c@z.example");
	assert_null(v[3]);
	notify_strv_free(v);
	v = notify_split_addrs(" ,, ", &n);
	assert_int_equal(n, 0);
	assert_null(v[0]);
	notify_strv_free(v);
}

static void test_date(void **state)
{
	(void)state;
	char d[64];
	notify_rfc5322_date(1772438400, d, sizeof d); /* 2026-03-02 08:00:00 UTC, a Monday */
	assert_string_equal(d, "Mon, 02 Mar 2026 08:00:00 +0000");
	notify_rfc5322_date(0, d, sizeof d);
	assert_string_equal(d, "Thu, 01 Jan 1970 00:00:00 +0000");
}

static char *decode_part(const char *msg, const char *ctype)
{
	const char *p = strstr(msg, ctype);
	assert_non_null(p);
	p = strstr(p, "\r\n\r\n");
	assert_non_null(p);
	p += 4;
	const char *end = strstr(p, "\r\n--");
	assert_non_null(end);
	char *joined = calloc(1, (size_t)(end - p) + 1);
	size_t j = 0;
	for (const char *q = p; q < end; q++)
		if (*q != '\r' && *q != '\n')
			joined[j++] = *q;
	unsigned char *dec = calloc(1, j + 4);
	int n = EVP_DecodeBlock(dec, (unsigned char *)joined, (int)j);
	assert_true(n >= 0);
	while (j && joined[--j] == '=')
		n--;
	dec[n] = '\0';
	free(joined);
	return (char *)dec;
}

static void test_mime_message(void **state)
{
	(void)state;
	char text[300];
	memset(text, 'a', sizeof text - 1);
	text[sizeof text - 1] = '\0';
	memcpy(text, "caf\xc3\xa9\n", 6);
	struct notify_mail m = {
	    .from = "chored@host.example",
	    .to = "a@x.example, b@y.example",
	    .subject = "[chored] \xe2\x9d\x8c nightly: failed \xe2\x80\x94 exit 3",
	    .date = 1772438400,
	    .message_id = "<chored.7.abc@host.example>",
	    .boundary = "=_chored_0123",
	    .text = text,
	    .html = "<!DOCTYPE html><p>caf\xc3\xa9</p>",
	};
	char *msg = notify_mime_message(&m, "\r\n");
	/* every line ends in CRLF, none is longer than 998 characters (RFC 5322 §2.1.1) */
	size_t col = 0;
	for (const char *p = msg; *p; p++) {
		if (*p == '\n') {
			assert_true(p > msg && p[-1] == '\r');
			col = 0;
		} else {
			assert_true(++col <= 998);
		}
	}
	assert_int_equal(strncmp(msg, "Date: Mon, 02 Mar 2026 08:00:00 +0000\r\n", 39), 0);
	assert_non_null(strstr(msg, "\r\nFrom: chored@host.example\r\n"));
	assert_non_null(strstr(msg, "\r\nTo: a@x.example, b@y.example\r\n"));
	assert_non_null(strstr(msg, "\r\nSubject: =?UTF-8?B?"));
	assert_non_null(strstr(msg, "\r\nMessage-ID: <chored.7.abc@host.example>\r\n"));
	assert_non_null(strstr(msg, "\r\nMIME-Version: 1.0\r\n"));
	assert_non_null(
	    strstr(msg, "Content-Type: multipart/alternative; boundary=\"=_chored_0123\"\r\n\r\n"));
	const char *t =
	    strstr(msg, "\r\n--=_chored_0123\r\nContent-Type: text/plain; charset=utf-8");
	const char *h =
	    strstr(msg, "\r\n--=_chored_0123\r\nContent-Type: text/html; charset=utf-8");
	assert_non_null(t);
	assert_non_null(h);
	assert_true(t < h); /* the preferred (HTML) alternative comes last */
	assert_non_null(strstr(msg, "\r\n--=_chored_0123--\r\n"));
	char *dt = decode_part(msg, "text/plain"), *dh = decode_part(msg, "text/html");
	assert_string_equal(dt, text);
	assert_string_equal(dh, m.html);
	free(dt), free(dh), free(msg);

	/* the Maildir form: LF only */
	msg = notify_mime_message(&m, "\n");
	assert_null(strchr(msg, '\r'));
	assert_non_null(strstr(msg, "\nSubject: =?UTF-8?B?"));
	free(msg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_policies), cmocka_unit_test(test_status_names),
	    cmocka_unit_test(test_subjects), cmocka_unit_test(test_idempotency_key),
	    cmocka_unit_test(test_rfc2047),  cmocka_unit_test(test_split_addrs),
	    cmocka_unit_test(test_date),     cmocka_unit_test(test_mime_message),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

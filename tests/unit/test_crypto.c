/* The crypto service of libchored (sdk/crypto.c, sdk/crypto_hash.c): known vectors for
 * AES-256-GCM (McGrew-Viega test cases 13 and 14), SHA-256 (FIPS 180-2) and HMAC-SHA256
 * (RFC 4231), the sealed format, key parsing and tamper detection. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chored/crypto.h"

static const unsigned char zero_key[32];

static void test_gcm_vectors(void **state)
{
	(void)state;
	unsigned char *pt;
	size_t n;
	char err[256] = "";
	/* Test case 14: K = 0^256, IV = 0^96, P = 0^128. */
	assert_int_equal(chored_crypto_open(zero_key,
	                                    "AAAAAAAAAAAAAAAA:zqdAPU1ga24HTsXTuvOdGA==:"
	                                    "0NHIp5mZa/AmW5i11Iq5GQ==",
	                                    &pt, &n, err, sizeof err),
	                 CHORED_CRYPTO_OK);
	assert_int_equal(n, 16);
	static const unsigned char zeros[16];
	assert_memory_equal(pt, zeros, 16);
	assert_int_equal(pt[16], 0); /* NUL kept after the data */
	chored_crypto_free_secret(pt, n);
	/* Test case 13: empty plaintext, tag only. */
	assert_int_equal(chored_crypto_open(zero_key, "AAAAAAAAAAAAAAAA::Uw+K+8dFNrmpY7TxxMtziw==",
	                                    &pt, &n, err, sizeof err),
	                 CHORED_CRYPTO_OK);
	assert_int_equal(n, 0);
	chored_crypto_free_secret(pt, n);
}

static void test_seal_round_trip(void **state)
{
	(void)state;
	unsigned char key[32];
	assert_int_equal(chored_random_bytes(key, sizeof key), CHORED_CRYPTO_OK);
	const char *msg = "refresh token 1//0g-example";
	char *a, *b, err[256] = "";
	assert_int_equal(chored_crypto_seal(key, msg, strlen(msg), &a, err, sizeof err), 0);
	assert_int_equal(chored_crypto_seal(key, msg, strlen(msg), &b, err, sizeof err), 0);
	assert_string_not_equal(a, b); /* a fresh IV each time */
	/* "{16 chars}:{base64 of 27 bytes = 36 chars}:{24 chars}" */
	assert_int_equal(strlen(a), 16 + 1 + 36 + 1 + 24);
	assert_true(a[16] == ':' && a[53] == ':');
	assert_null(strstr(a, "refresh"));
	unsigned char *pt;
	size_t n;
	assert_int_equal(chored_crypto_open(key, a, &pt, &n, err, sizeof err), CHORED_CRYPTO_OK);
	assert_int_equal(n, strlen(msg));
	assert_string_equal((char *)pt, msg);
	chored_crypto_free_secret(pt, n);
	/* empty plaintext */
	free(b);
	assert_int_equal(chored_crypto_seal(key, "", 0, &b, err, sizeof err), 0);
	assert_int_equal(chored_crypto_open(key, b, &pt, &n, err, sizeof err), 0);
	assert_int_equal(n, 0);
	chored_crypto_free_secret(pt, n);
	free(a);
	free(b);
}

/* Flips one bit of the base64 character at `pos` (staying in the alphabet). */
static void flip(char *s, size_t pos)
{
	s[pos] = s[pos] == 'A' ? 'B' : 'A';
}

static void test_open_rejects(void **state)
{
	(void)state;
	unsigned char key[32], other[32];
	chored_random_bytes(key, sizeof key);
	memcpy(other, key, sizeof key);
	other[31] ^= 1;
	char *s, err[256];
	assert_int_equal(chored_crypto_seal(key, "secret payload", 14, &s, NULL, 0), 0);
	unsigned char *pt = (unsigned char *)"untouched";
	size_t n = 99;
	/* wrong key */
	err[0] = '\0';
	assert_int_equal(chored_crypto_open(other, s, &pt, &n, err, sizeof err),
	                 CHORED_CRYPTO_EAUTH);
	assert_null(pt);
	assert_int_equal(n, 0);
	assert_non_null(strstr(err, "wrong key or tampered"));
	/* tampered IV, ciphertext and tag */
	size_t positions[] = {3, 20, strlen(s) - 5};
	for (size_t i = 0; i < 3; i++) {
		char *t = strdup(s);
		flip(t, positions[i]);
		assert_int_equal(chored_crypto_open(key, t, &pt, &n, err, sizeof err),
		                 CHORED_CRYPTO_EAUTH);
		assert_null(pt);
		free(t);
	}
	/* bad formats, each with its own reason */
	static const struct {
		const char *in, *why;
	} bad[] = {
	    {"", "missing ':'"},
	    {"AAAAAAAAAAAAAAAA:AAAA", "missing ':'"},
	    {"AAAAAAAAAAAAAAAA:AAAA:Uw+K+8dFNrmpY7TxxMtziw==:x", "more than two"},
	    {"AAAAAAAAAAAA:AAAA:Uw+K+8dFNrmpY7TxxMtziw==", "IV is 9 bytes, expected 12"},
	    {"AAAAAAAAAAAAAAAA:AAAA:Uw+K+8dFNrmp", "tag is 9 bytes, expected 16"},
	    {"AAAAAAAAAAAAAAAA:A*AA:Uw+K+8dFNrmpY7TxxMtziw==", "ciphertext is not"},
	    {"AAAAAAAAAAAAAAAA:AAA:Uw+K+8dFNrmpY7TxxMtziw==", "ciphertext is not"},
	    {"AAAAAAAAAAAAAAAA:AA=A:Uw+K+8dFNrmpY7TxxMtziw==", "ciphertext is not"},
	    {"AAAAAAAAAAAAAAAA :AAAA:Uw+K+8dFNrmpY7TxxMtziw==", "IV is not"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		err[0] = '\0';
		int rc = chored_crypto_open(key, bad[i].in, &pt, &n, err, sizeof err);
		if (rc != CHORED_CRYPTO_EFORMAT || !strstr(err, bad[i].why))
			fail_msg("'%s': got %d '%s', want EFORMAT '%s'", bad[i].in, rc, err,
			         bad[i].why);
		assert_null(pt);
	}
	assert_int_equal(chored_crypto_open(key, NULL, &pt, &n, NULL, 0), CHORED_CRYPTO_EFORMAT);
	assert_string_equal(chored_crypto_strerror(CHORED_CRYPTO_EAUTH),
	                    "wrong key or tampered data");
	assert_string_not_equal(chored_crypto_strerror(CHORED_CRYPTO_EFORMAT),
	                        chored_crypto_strerror(CHORED_CRYPTO_EAUTH));
	free(s);
}

static void test_key(void **state)
{
	(void)state;
	unsigned char key[32], want[32];
	char err[256];
	for (int i = 0; i < 32; i++)
		want[i] = (unsigned char)(i * 7 + 1);
	const char *hex = "01080f161d242b323940474e555c636a71787f868d949ba2a9b0b7bec5ccd3da";
	assert_int_equal(chored_crypto_key(hex, key, err, sizeof err), CHORED_CRYPTO_OK);
	assert_memory_equal(key, want, 32);
	memset(key, 0, sizeof key);
	assert_int_equal(
	    chored_crypto_key("01080F161D242B323940474E555C636A71787F868D949BA2A9B0B7BEC5CCD3DA\n",
	                      key, err, sizeof err),
	    CHORED_CRYPTO_OK);
	assert_memory_equal(key, want, 32);
	memset(key, 0, sizeof key);
	assert_int_equal(
	    chored_crypto_key("AQgPFh0kKzI5QEdOVVxjanF4f4aNlJuiqbC3vsXM09o=", key, err, sizeof err),
	    CHORED_CRYPTO_OK);
	assert_memory_equal(key, want, 32);
	static const struct {
		const char *in, *why;
	} bad[] = {
	    {"", "empty key"},
	    {" \n", "empty key"},
	    {"correct horse battery staple", "neither hex nor base64"},
	    {"01080f161d242b323940474e555c636a71787f868d949ba2a9b0b7bec5ccd3", "neither"},
	    {"01080f161d242b323940474e555c636a71787f868d949ba2a9b0b7bec5cc", "base64 of 45 bytes"},
	    {"01080f161d242b323940474e555c636a71787f868d949ba2a9b0b7bec5ccd3dz", "base64 of 48"},
	    {"AQgPFh0kKzI5QEdOVVxjanF4f4aNlJuiqbC3vsXM0w==", "base64 of 31 bytes"},
	    {"AQgPFh0kKzI5QEdOVVxjanF4f4aNlJuiqbC3vsXM09o", "neither hex nor base64"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		err[0] = '\0';
		int rc = chored_crypto_key(bad[i].in, key, err, sizeof err);
		if (rc != CHORED_CRYPTO_EKEY || !strstr(err, bad[i].why) ||
		    !strstr(err,
		            "expected 64 hex digits or the standard base64 of exactly 32 bytes"))
			fail_msg("'%s': got %d '%s', want EKEY '%s'", bad[i].in, rc, err,
			         bad[i].why);
	}
	assert_int_equal(chored_crypto_key(NULL, key, NULL, 0), CHORED_CRYPTO_EKEY);
}

static void test_sha256(void **state)
{
	(void)state;
	char hex[CHORED_SHA256_HEX_LEN];
	assert_int_equal(chored_sha256_hex("abc", 3, hex), 0);
	assert_string_equal(hex,
	                    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	assert_int_equal(chored_sha256_hex("", 0, hex), 0);
	assert_string_equal(hex,
	                    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	/* streaming, in uneven pieces */
	const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	struct chored_sha256 *h = chored_sha256_new();
	assert_non_null(h);
	size_t len = strlen(m), cut[] = {0, 1, 7, 30, len};
	for (size_t i = 0; i + 1 < sizeof cut / sizeof *cut; i++)
		assert_int_equal(chored_sha256_update(h, m + cut[i], cut[i + 1] - cut[i]), 0);
	assert_int_equal(chored_sha256_final_hex(h, hex), 0);
	assert_string_equal(hex,
	                    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	chored_sha256_free(h);
	chored_sha256_free(NULL);
	/* one million 'a' streamed by 1000 */
	char block[1000];
	memset(block, 'a', sizeof block);
	h = chored_sha256_new();
	for (int i = 0; i < 1000; i++)
		chored_sha256_update(h, block, sizeof block);
	chored_sha256_final_hex(h, hex);
	assert_string_equal(hex,
	                    "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	chored_sha256_free(h);
}

static void test_hmac(void **state)
{
	(void)state;
	char hex[CHORED_SHA256_HEX_LEN];
	unsigned char key[131], raw[32];
	/* RFC 4231 test case 1 */
	memset(key, 0x0b, 20);
	assert_int_equal(chored_hmac_sha256_hex(key, 20, "Hi There", 8, hex), 0);
	assert_string_equal(hex,
	                    "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
	/* test case 2 */
	const char *d2 = "what do ya want for nothing?";
	assert_int_equal(chored_hmac_sha256_hex("Jefe", 4, d2, strlen(d2), hex), 0);
	assert_string_equal(hex,
	                    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	assert_int_equal(chored_hmac_sha256("Jefe", 4, d2, strlen(d2), raw), 0);
	assert_int_equal(raw[0], 0x5b);
	assert_int_equal(raw[31], 0x43);
	/* test case 6: a key longer than the block */
	memset(key, 0xaa, 131);
	const char *d6 = "Test Using Larger Than Block-Size Key - Hash Key First";
	assert_int_equal(chored_hmac_sha256_hex(key, 131, d6, strlen(d6), hex), 0);
	assert_string_equal(hex,
	                    "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_gcm_vectors),  cmocka_unit_test(test_seal_round_trip),
	    cmocka_unit_test(test_open_rejects), cmocka_unit_test(test_key),
	    cmocka_unit_test(test_sha256),       cmocka_unit_test(test_hmac),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

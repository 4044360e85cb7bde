/* AES-256-GCM seal/open in the "{iv}:{ciphertext}:{tag}" form, the key from a secret string
 * and random bytes (chored-sdk-crypto(3)), on OpenSSL EVP. */
#include <ctype.h>
#include <limits.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "chored/crypto.h"

#define IV_LEN  12
#define TAG_LEN 16

static int fail(int status, char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(int status, char *err, size_t errlen, const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return status;
}

const char *chored_crypto_strerror(int status)
{
	switch (status) {
	case CHORED_CRYPTO_OK:
		return "success";
	case CHORED_CRYPTO_EKEY:
		return "bad key: expected 64 hex digits or base64 of 32 bytes";
	case CHORED_CRYPTO_EFORMAT:
		return "not an {iv}:{ciphertext}:{tag} sealed value";
	case CHORED_CRYPTO_EAUTH:
		return "wrong key or tampered data";
	case CHORED_CRYPTO_EINTERNAL:
		return "internal crypto failure";
	default:
		return "unknown crypto status";
	}
}

void chored_crypto_free_secret(void *p, size_t len)
{
	if (!p)
		return;
	OPENSSL_cleanse(p, len);
	free(p);
}

int chored_random_bytes(void *buf, size_t len)
{
	unsigned char *p = buf;
	while (len) {
		int n = len > INT_MAX ? INT_MAX : (int)len;
		if (RAND_bytes(p, n) != 1)
			return CHORED_CRYPTO_EINTERNAL;
		p += n;
		len -= (size_t)n;
	}
	return CHORED_CRYPTO_OK;
}

static bool is_b64(char c)
{
	return isalnum((unsigned char)c) || c == '+' || c == '/';
}

/* Decodes `len` chars of strict standard base64 (padded, no whitespace) into a new buffer
 * (owned by the caller; NULL with *out_len 0 for an empty input). -1 when not base64. */
static int b64_decode(const char *s, size_t len, unsigned char **out, size_t *out_len)
{
	*out = NULL;
	*out_len = 0;
	if (len % 4 || len > INT_MAX)
		return -1;
	size_t pad = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '=' && i >= len - 2) {
			pad++;
		} else if (!is_b64(s[i]) || pad) {
			return -1;
		}
	}
	if (!len)
		return 0;
	unsigned char *buf = malloc(len / 4 * 3 + 1);
	if (!buf)
		return -1;
	int n = EVP_DecodeBlock(buf, (const unsigned char *)s, (int)len);
	if (n < 0 || (size_t)n < pad) {
		free(buf);
		return -1;
	}
	*out = buf;
	*out_len = (size_t)n - pad; /* EVP_DecodeBlock counts the padding as zero bytes */
	return 0;
}

/* Standard base64 of `len` bytes at `p` into `out` (room for 4*ceil(len/3)+1). */
static void b64_encode(char *out, const unsigned char *p, size_t len)
{
	EVP_EncodeBlock((unsigned char *)out, p, (int)len);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int chored_crypto_key(const char *secret, unsigned char key[CHORED_AES_KEY_LEN], char *err,
                      size_t errlen)
{
	static const char expect[] =
	    "expected 64 hex digits or the standard base64 of exactly 32 bytes";
	if (!secret)
		return fail(CHORED_CRYPTO_EKEY, err, errlen, "no key: %s", expect);
	while (isspace((unsigned char)*secret))
		secret++;
	size_t len = strlen(secret);
	while (len && isspace((unsigned char)secret[len - 1]))
		len--;
	if (!len)
		return fail(CHORED_CRYPTO_EKEY, err, errlen, "empty key: %s", expect);
	bool hex = len == 2 * CHORED_AES_KEY_LEN;
	for (size_t i = 0; hex && i < len; i++)
		hex = hexval(secret[i]) >= 0;
	if (hex) {
		for (size_t i = 0; i < CHORED_AES_KEY_LEN; i++)
			key[i] =
			    (unsigned char)(hexval(secret[2 * i]) << 4 | hexval(secret[2 * i + 1]));
		return CHORED_CRYPTO_OK;
	}
	unsigned char *raw;
	size_t n;
	if (b64_decode(secret, len, &raw, &n) != 0)
		return fail(CHORED_CRYPTO_EKEY, err, errlen,
		            "bad key (%zu characters, neither hex "
		            "nor base64): %s",
		            len, expect);
	if (n != CHORED_AES_KEY_LEN) {
		chored_crypto_free_secret(raw, n);
		return fail(CHORED_CRYPTO_EKEY, err, errlen, "bad key (base64 of %zu bytes): %s", n,
		            expect);
	}
	memcpy(key, raw, CHORED_AES_KEY_LEN);
	chored_crypto_free_secret(raw, n);
	return CHORED_CRYPTO_OK;
}

int chored_crypto_seal(const unsigned char key[CHORED_AES_KEY_LEN], const void *plain, size_t len,
                       char **sealed, char *err, size_t errlen)
{
	*sealed = NULL;
	if (len > INT_MAX / 2)
		return fail(CHORED_CRYPTO_EINTERNAL, err, errlen, "seal: %zu bytes is too much",
		            len);
	unsigned char iv[IV_LEN], tag[TAG_LEN];
	unsigned char *ct = malloc(len + 1);
	size_t b64_len = 4 * ((IV_LEN + 2) / 3) + 4 * ((len + 2) / 3) + 4 * ((TAG_LEN + 2) / 3);
	char *out = malloc(b64_len + 3);
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int n = 0, fin = 0, rc = CHORED_CRYPTO_EINTERNAL;
	if (!ct || !out || !c || chored_random_bytes(iv, IV_LEN) != CHORED_CRYPTO_OK)
		goto done;
	if (EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, IV_LEN, NULL) != 1 ||
	    EVP_EncryptInit_ex(c, NULL, NULL, key, iv) != 1 ||
	    (len && EVP_EncryptUpdate(c, ct, &n, plain, (int)len) != 1) ||
	    EVP_EncryptFinal_ex(c, ct + n, &fin) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, TAG_LEN, tag) != 1)
		goto done;
	char *p = out;
	b64_encode(p, iv, IV_LEN);
	p += strlen(p);
	*p++ = ':';
	b64_encode(p, ct, (size_t)(n + fin));
	p += strlen(p);
	*p++ = ':';
	b64_encode(p, tag, TAG_LEN);
	*sealed = out;
	out = NULL;
	rc = CHORED_CRYPTO_OK;
done:
	EVP_CIPHER_CTX_free(c);
	free(ct);
	free(out);
	return rc == CHORED_CRYPTO_OK ? rc : fail(rc, err, errlen, "seal: OpenSSL failure");
}

/* Splits "a:b:c" and decodes the three parts; CHORED_CRYPTO_EFORMAT with a reason. */
static int parse_sealed(const char *s, unsigned char **iv, unsigned char **ct, size_t *ct_len,
                        unsigned char **tag, char *err, size_t errlen)
{
	static const char *const names[] = {"IV", "ciphertext", "tag"};
	unsigned char **parts[] = {iv, ct, tag};
	size_t lens[3], want[3] = {IV_LEN, 0, TAG_LEN};
	const char *p = s;
	for (int i = 0; i < 3; i++) {
		const char *colon = strchr(p, ':');
		if ((i < 2) != (colon != NULL))
			return fail(CHORED_CRYPTO_EFORMAT, err, errlen,
			            "not {iv}:{ciphertext}:{tag}: %s",
			            i < 2 ? "missing ':'" : "more than two ':'");
		size_t len = colon ? (size_t)(colon - p) : strlen(p);
		if (b64_decode(p, len, parts[i], &lens[i]) != 0)
			return fail(CHORED_CRYPTO_EFORMAT, err, errlen,
			            "the %s is not standard base64", names[i]);
		if (want[i] && lens[i] != want[i])
			return fail(CHORED_CRYPTO_EFORMAT, err, errlen,
			            "the %s is %zu bytes, expected %zu", names[i], lens[i],
			            want[i]);
		p = colon ? colon + 1 : p + len;
	}
	*ct_len = lens[1];
	return CHORED_CRYPTO_OK;
}

int chored_crypto_open(const unsigned char key[CHORED_AES_KEY_LEN], const char *sealed,
                       unsigned char **plain, size_t *plain_len, char *err, size_t errlen)
{
	*plain = NULL;
	*plain_len = 0;
	unsigned char *iv = NULL, *ct = NULL, *tag = NULL, *pt = NULL;
	size_t ct_len = 0;
	int rc = parse_sealed(sealed ? sealed : "", &iv, &ct, &ct_len, &tag, err, errlen);
	EVP_CIPHER_CTX *c = NULL;
	int n = 0, fin = 0;
	if (rc != CHORED_CRYPTO_OK)
		goto done;
	rc = CHORED_CRYPTO_EINTERNAL;
	pt = malloc(ct_len + 1);
	if (!pt || !(c = EVP_CIPHER_CTX_new()) ||
	    EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, IV_LEN, NULL) != 1 ||
	    EVP_DecryptInit_ex(c, NULL, NULL, key, iv) != 1 ||
	    (ct_len && EVP_DecryptUpdate(c, pt, &n, ct, (int)ct_len) != 1) ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, TAG_LEN, tag) != 1) {
		fail(rc, err, errlen, "open: OpenSSL failure");
		goto done;
	}
	if (EVP_DecryptFinal_ex(c, pt + n, &fin) != 1) {
		rc = fail(CHORED_CRYPTO_EAUTH, err, errlen,
		          "authentication failed: wrong key or tampered data");
		goto done;
	}
	*plain_len = (size_t)(n + fin);
	pt[*plain_len] = '\0';
	*plain = pt;
	pt = NULL;
	rc = CHORED_CRYPTO_OK;
done:
	EVP_CIPHER_CTX_free(c);
	chored_crypto_free_secret(pt, ct_len + 1);
	free(iv);
	free(ct);
	free(tag);
	return rc;
}

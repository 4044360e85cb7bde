/* SHA-256 (one-shot and streaming) and HMAC-SHA256 of the crypto service, on OpenSSL EVP. */
#include <stdlib.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "chored/crypto.h"

struct chored_sha256 {
	EVP_MD_CTX *ctx; /* owned */
};

static void to_hex(const unsigned char *p, size_t len, char *hex)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < len; i++) {
		hex[2 * i] = digits[p[i] >> 4];
		hex[2 * i + 1] = digits[p[i] & 15];
	}
	hex[2 * len] = '\0';
}

int chored_sha256_hex(const void *data, size_t len, char hex[CHORED_SHA256_HEX_LEN])
{
	unsigned char md[CHORED_SHA256_LEN];
	unsigned int n = 0;
	if (EVP_Digest(data, len, md, &n, EVP_sha256(), NULL) != 1 || n != sizeof md)
		return CHORED_CRYPTO_EINTERNAL;
	to_hex(md, sizeof md, hex);
	return CHORED_CRYPTO_OK;
}

struct chored_sha256 *chored_sha256_new(void)
{
	struct chored_sha256 *h = malloc(sizeof *h);
	if (!h)
		return NULL;
	h->ctx = EVP_MD_CTX_new();
	if (!h->ctx || EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1) {
		chored_sha256_free(h);
		return NULL;
	}
	return h;
}

int chored_sha256_update(struct chored_sha256 *h, const void *data, size_t len)
{
	return EVP_DigestUpdate(h->ctx, data, len) == 1 ? CHORED_CRYPTO_OK
	                                                : CHORED_CRYPTO_EINTERNAL;
}

int chored_sha256_final_hex(struct chored_sha256 *h, char hex[CHORED_SHA256_HEX_LEN])
{
	unsigned char md[CHORED_SHA256_LEN];
	unsigned int n = 0;
	if (EVP_DigestFinal_ex(h->ctx, md, &n) != 1 || n != sizeof md)
		return CHORED_CRYPTO_EINTERNAL;
	to_hex(md, sizeof md, hex);
	return CHORED_CRYPTO_OK;
}

void chored_sha256_free(struct chored_sha256 *h)
{
	if (!h)
		return;
	EVP_MD_CTX_free(h->ctx);
	free(h);
}

int chored_hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
                       unsigned char mac[CHORED_SHA256_LEN])
{
	size_t n = 0;
	static const unsigned char empty[1];
	if (!EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key_len ? key : empty, key_len,
	               len ? data : empty, len, mac, CHORED_SHA256_LEN, &n) ||
	    n != CHORED_SHA256_LEN)
		return CHORED_CRYPTO_EINTERNAL;
	return CHORED_CRYPTO_OK;
}

int chored_hmac_sha256_hex(const void *key, size_t key_len, const void *data, size_t len,
                           char hex[CHORED_SHA256_HEX_LEN])
{
	unsigned char mac[CHORED_SHA256_LEN];
	int rc = chored_hmac_sha256(key, key_len, data, len, mac);
	if (rc == CHORED_CRYPTO_OK)
		to_hex(mac, sizeof mac, hex);
	OPENSSL_cleanse(mac, sizeof mac);
	return rc;
}

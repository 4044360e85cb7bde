/* Crypto service of libchored (chored-sdk-crypto(3)), on OpenSSL EVP: AES-256-GCM seal/open
 * in the "{iv}:{ciphertext}:{tag}" form (standard base64 with padding; 12-byte random IV,
 * 16-byte tag), the 32-byte key from a secret string, random bytes, SHA-256 (one-shot and
 * streaming) and HMAC-SHA256.
 *
 * Ownership: strings and buffers returned through `char **`/`unsigned char **` are malloc'd
 * and owned by the caller (free(); chored_crypto_free_secret() for plaintext, which wipes it
 * first). Fixed-size outputs are written to caller-provided arrays. `err`/`errlen` may be
 * NULL/0; otherwise they receive a one-line reason that never contains key material. */
#ifndef CHORED_CRYPTO_H
#define CHORED_CRYPTO_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CHORED_AES_KEY_LEN    32 /* AES-256 */
#define CHORED_SHA256_LEN     32
#define CHORED_SHA256_HEX_LEN 65 /* 64 lower-case hex digits and a NUL */

enum chored_crypto_status {
	CHORED_CRYPTO_OK = 0,
	CHORED_CRYPTO_EKEY = -1,    /* the key secret is not 64 hex digits or base64 of 32 bytes */
	CHORED_CRYPTO_EFORMAT = -2, /* not "{iv}:{ciphertext}:{tag}" with a 12-byte IV and a
	                               16-byte tag in standard base64 */
	CHORED_CRYPTO_EAUTH = -3,   /* the tag does not match: wrong key or altered data (GCM
	                               cannot tell the two apart) */
	CHORED_CRYPTO_EINTERNAL = -4, /* OpenSSL or memory failure */
};

/* A short English description of a status ("wrong key or tampered data", …). Static. */
const char *chored_crypto_strerror(int status);

/* The AES-256 key held by `secret`: exactly 64 hex digits, or standard base64 of exactly 32
 * bytes (surrounding whitespace ignored). Returns CHORED_CRYPTO_OK or CHORED_CRYPTO_EKEY. */
int chored_crypto_key(const char *secret, unsigned char key[CHORED_AES_KEY_LEN], char *err,
                      size_t errlen);

/* Encrypts `len` bytes of `plain` under `key` with a fresh random IV into *sealed
 * ("{iv}:{ciphertext}:{tag}", owned by the caller). */
int chored_crypto_seal(const unsigned char key[CHORED_AES_KEY_LEN], const void *plain, size_t len,
                       char **sealed, char *err, size_t errlen);

/* Decrypts and authenticates `sealed` into *plain (owned by the caller: free it with
 * chored_crypto_free_secret(*plain, *plain_len); one NUL byte is kept after the data so a
 * text can be used as a string) and *plain_len. Nothing is returned unless the tag matches:
 * CHORED_CRYPTO_EFORMAT for a malformed input, CHORED_CRYPTO_EAUTH for a wrong key or
 * tampered data. */
int chored_crypto_open(const unsigned char key[CHORED_AES_KEY_LEN], const char *sealed,
                       unsigned char **plain, size_t *plain_len, char *err, size_t errlen);

/* Wipes `len` bytes at `p`, then frees it. NULL is fine. */
void chored_crypto_free_secret(void *p, size_t len);

/* `len` bytes from OpenSSL's CSPRNG (RAND_bytes). */
int chored_random_bytes(void *buf, size_t len);

/* SHA-256 of `len` bytes as lower-case hex into `hex`. */
int chored_sha256_hex(const void *data, size_t len, char hex[CHORED_SHA256_HEX_LEN]);

/* Streaming SHA-256: new, update any number of times, final_hex once, then free.
 * new returns NULL on allocation failure; free(NULL) is fine. */
struct chored_sha256;
struct chored_sha256 *chored_sha256_new(void);
int chored_sha256_update(struct chored_sha256 *h, const void *data, size_t len);
int chored_sha256_final_hex(struct chored_sha256 *h, char hex[CHORED_SHA256_HEX_LEN]);
void chored_sha256_free(struct chored_sha256 *h);

/* HMAC-SHA256 of `data` under `key`, raw (32 bytes) or lower-case hex. */
int chored_hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
                       unsigned char mac[CHORED_SHA256_LEN]);
int chored_hmac_sha256_hex(const void *key, size_t key_len, const void *data, size_t len,
                           char hex[CHORED_SHA256_HEX_LEN]);

#ifdef __cplusplus
}
#endif

#endif

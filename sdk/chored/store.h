/* Object storage service of libchored (chored-sdk-store(3)): one store opened by URL,
 *   file:///DIR                        a local directory (atomic writes: temp file, fsync,
 *                                      rename)
 *   s3://BUCKET[/PREFIX]?endpoint=https://HOST[&region=auto]
 *                                      S3-compatible storage (Cloudflare R2, AWS S3, MinIO),
 *                                      path-style, SigV4-signed, over chored-sdk-http(3)
 * Keys are relative to the URL's directory or prefix; "a/b/c.gz" is a valid key, "/a",
 * "a//b", "../a" and "a/./b" are not. Uploads stream from a callback in constant memory
 * (two part buffers: one filled while the other is sent); large objects go in a multipart
 * upload of equal-size parts, aborted on any failure. Every call fails with -1 (or
 * CHORED_STORE_NOT_FOUND) and a message in chored_store_error(); secrets never appear in it. */
#ifndef CHORED_STORE_H
#define CHORED_STORE_H

#include <stddef.h>
#include <stdint.h>

#include <chored/job.h>

#ifdef __cplusplus
extern "C" {
#endif

struct chored_store; /* opaque; owned by the caller of chored_store_open */

/* Returned by chored_store_get (and _get_file) when the key does not exist. */
#define CHORED_STORE_NOT_FOUND (-2)

struct chored_store_config {
	/* s3:// only: the credentials (an R2 API token's Access Key ID and Secret Access
	 * Key), usually from the plugin's secret options. Borrowed during open (copied). */
	const char *access_key_id;
	const char *secret_access_key;
	/* Multipart part size: every part but the last has exactly this size (R2's rule).
	 * 0 = 16 MiB; at least 5 MiB, at most 5 GiB. An upload holds two such buffers. */
	uint64_t part_size;
	/* Objects of at most this many bytes go in one PUT, larger ones multipart.
	 * 0 = part_size; at most part_size. */
	uint64_t multipart_threshold;
	/* HTTP policy of each request (see chored-sdk-http(3)); 0 = the http defaults,
	 * except timeout_ms: 0 = 300 000 (a part of 16 MiB on a slow uplink). */
	long timeout_ms;
	unsigned max_attempts;
	long backoff_base_ms;
};

/* Opens the store at `url` for `job` (borrowed; must outlive the store). `cfg` may be
 * NULL for file:// URLs. Returns 0 and *out (owned: chored_store_close), or -1 with a
 * message in `err` (NUL-terminated, at most errlen bytes) naming what is wrong with the
 * URL or configuration. Nothing is contacted: errors of the remote side show up in the
 * first operation. */
int chored_store_open(struct chored_job *job, const char *url,
                      const struct chored_store_config *cfg, struct chored_store **out, char *err,
                      size_t errlen);
void chored_store_close(struct chored_store *st);

/* The message of the last failed call on `st` ("" after a success). Borrowed: valid
 * until the next call on `st`. S3 errors name the operation, the key, the HTTP status and
 * S3's error code: "PUT backups/a.gz: HTTP 403 SignatureDoesNotMatch: …". */
const char *chored_store_error(const struct chored_store *st);

/* A readable form of the store's URL, without credentials ("s3://bucket/prefix at
 * https://host"). Borrowed. */
const char *chored_store_describe(const struct chored_store *st);

/* Fills `buf` with up to `len` bytes of the object; returns the count, 0 at the end of
 * the object, or (size_t)-1 on an error (the upload is then abandoned). */
typedef size_t (*chored_store_read_fn)(void *buf, size_t len, void *data);
/* Receives `len` bytes of an object being read; returns 0 to go on, -1 to stop. */
typedef int (*chored_store_write_fn)(const void *buf, size_t len, void *data);

/* What a put stored. */
struct chored_store_put_info {
	uint64_t size;  /* bytes stored */
	unsigned parts; /* 0: one PUT; else the number of multipart parts */
	char etag[80];  /* the object's ETag as the store reports it, quotes removed */
};

/* Stores the bytes produced by `read` (size unknown beforehand) under `key`, replacing
 * an existing object. Either the whole object is stored, or nothing is: a multipart
 * upload is aborted (AbortMultipartUpload) on any failure, a read error, and when the
 * job is cancelled; a file:// put leaves no temp file. `info` may be NULL. */
int chored_store_put(struct chored_store *st, const char *key, chored_store_read_fn read,
                     void *data, struct chored_store_put_info *info);
/* The same with the contents of the local file `path`. */
int chored_store_put_file(struct chored_store *st, const char *key, const char *path,
                          struct chored_store_put_info *info);

/* Streams the object `key` to `write`. *size (may be NULL) receives the byte count.
 * Returns 0, CHORED_STORE_NOT_FOUND, or -1. On -1 after some bytes were written the
 * receiver has a truncated copy: discard it. */
int chored_store_get(struct chored_store *st, const char *key, chored_store_write_fn write,
                     void *data, uint64_t *size);
/* Downloads `key` into the local file `path` atomically (temp file beside it, fsync,
 * rename); `path` is untouched on failure. */
int chored_store_get_file(struct chored_store *st, const char *key, const char *path);

/* One listed object. Strings are borrowed: valid during the callback only. */
struct chored_store_object {
	const char *key; /* relative to the store's URL, like the keys given to put */
	uint64_t size;
	int64_t mtime;    /* last modification, UTC seconds */
	const char *etag; /* quotes removed; "" for file:// */
};

/* Calls `each` for every object whose key starts with `prefix` ("" or NULL: all), in
 * byte order of their keys, fetching every page (ListObjectsV2 continuation tokens).
 * `each` returns 0 to go on; non-zero stops the listing and is returned. */
int chored_store_list(struct chored_store *st, const char *prefix,
                      int (*each)(const struct chored_store_object *obj, void *data), void *data);

/* Deletes `key`; deleting a missing key succeeds (as S3 does). */
int chored_store_delete(struct chored_store *st, const char *key);

/* Deletes `n` keys (DeleteObjects, 1000 keys per request). Keys that could not be deleted
 * are reported to `failed` (may be NULL) with S3's error code and message (borrowed).
 * Returns 0 when every key was deleted, the number of keys that failed, or -1 when a
 * request failed as a whole (then keys of later batches were not attempted). */
int chored_store_delete_many(struct chored_store *st, const char *const *keys, size_t n,
                             void (*failed)(const char *key, const char *code, const char *message,
                                            void *data),
                             void *data);

#ifdef __cplusplus
}
#endif

#endif

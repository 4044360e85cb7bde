/* Internals of the store service (sdk/store*.c); not installed. */
#ifndef CHORED_STORE_IMPL_H
#define CHORED_STORE_IMPL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chored/store.h"

#define STORE_MIB          (UINT64_C(1) << 20)
#define STORE_MIN_PART     (5 * STORE_MIB)
#define STORE_MAX_PART     (5120 * STORE_MIB)
#define STORE_DEFAULT_PART (16 * STORE_MIB)
#define STORE_MAX_PARTS    10000
#define STORE_MAX_KEY      1024
/* x-amz-content-sha256 of a request without a body. */
#define STORE_EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* One backend: every key it gets is the full key (the URL's prefix joined), already
 * validated. Each sets the store's error on failure. */
struct store_ops {
	int (*put)(struct chored_store *st, const char *key, chored_store_read_fn read, void *data,
	           struct chored_store_put_info *info);
	int (*get)(struct chored_store *st, const char *key, chored_store_write_fn write,
	           void *data, uint64_t *size);
	/* `strip` leading bytes of each listed key are the URL's prefix, removed for the
	 * callback. */
	int (*list)(struct chored_store *st, const char *prefix, size_t strip,
	            int (*each)(const struct chored_store_object *obj, void *data), void *data);
	int (*del)(struct chored_store *st, const char *key);
	int (*del_many)(struct chored_store *st, const char *const *keys, size_t n, size_t strip,
	                void (*failed)(const char *key, const char *code, const char *message,
	                               void *data),
	                void *data);
	void (*close)(struct chored_store *st);
};

struct chored_store {
	struct chored_job *job; /* borrowed */
	const struct store_ops *ops;
	char *base;     /* owned: prefix of every full key, "" or ending in '/' */
	char *describe; /* owned */
	char err[768];
	uint64_t part_size, threshold;
	long timeout_ms, backoff_base_ms;
	unsigned max_attempts;

	/* file:// */
	char *dir; /* owned, no trailing '/' */

	/* s3:// (all owned) */
	char *endpoint; /* scheme://host[:port], no trailing '/' */
	char *bucket;
	char *sigv4;       /* "aws:amz:REGION:s3" */
	char *credentials; /* "KEY_ID:SECRET", wiped on close */
};

/* store.c */
void store_set_error(struct chored_store *st, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* NULL when `key` is a valid key, else why not (static string). */
const char *store_key_problem(const char *key);

/* store_file.c, store_s3.c: fill in the backend fields of `st`; -1 with `err` set. */
int store_file_open(struct chored_store *st, const char *path, char *err, size_t errlen);
int store_s3_open(struct chored_store *st, const char *rest, const struct chored_store_config *cfg,
                  char *err, size_t errlen);

/* store_s3.c: one S3 request, shared by the put path (store_s3_put.c). */
struct chored_http_response;
struct store_s3_req {
	const char *method;
	const char *key;          /* full key; NULL for a bucket-level request */
	const char *const *query; /* name, value pairs ended by NULL; may be NULL */
	const void *body;
	size_t body_len;
	const char *content_type; /* required with a body */
	const char *content_md5;  /* may be NULL */
	bool unsigned_payload;    /* object data: UNSIGNED-PAYLOAD, integrity by content_md5 */
	chored_store_write_fn write;
	void *write_data;
	uint64_t *written;
};
/* Performs one request for `job` (the store's job, or the part sender's: see
 * store_s3_put.c). Returns 0 on 2xx, else -1; `resp` is filled either way (its error says
 * why) and must be freed by the caller. Touches nothing of `st` but its settings, so the
 * part sender may call it while the caller's thread reads the next part. */
int store_s3_do(const struct chored_store *st, struct chored_job *job, const struct store_s3_req *r,
                struct chored_http_response *resp);
/* Sets the store's error for a failed request: S3's code and message when the answer is
 * an S3 <Error>, else the http service's reason. */
void store_s3_fail(struct chored_store *st, const char *op, const char *key,
                   const struct chored_http_response *resp);
/* store_s3_put.c: PutObject, or a multipart upload whose parts are sent while the next
 * one is read. */
int store_s3_put(struct chored_store *st, const char *key, chored_store_read_fn read, void *data,
                 struct chored_store_put_info *info);

/* store_util.c: encodings (pure, unit-tested). */
/* RFC 3986 percent-encoding with uppercase hex; '/' kept when keep_slash. malloc'd. */
char *store_uri_encode(const char *s, bool keep_slash);
/* Percent-decoding of a URL query value; NULL on a bad escape. malloc'd. */
char *store_uri_decode(const char *s);
/* The canonical query string SigV4 expects (curl 7.88 signs the query verbatim): pairs
 * "name", "value" (value "" for valueless ones: "uploads="), sorted by encoded name then
 * value, encoded per RFC 3986. NULL-terminated pairs; returns a malloc'd string ("" for
 * none). */
char *store_canonical_query(const char *const *pairs);
/* base64 of the MD5 of buf (Content-MD5). */
void store_md5_base64(const void *buf, size_t len, char out[25]);
/* "2025-03-01T10:00:00.000Z" -> UTC seconds; -1 when malformed. */
int64_t store_parse_iso(const char *s);

/* store_xml.c: S3 answers and request bodies (pure, unit-tested). */
struct store_err_xml {
	char code[64];
	char message[256];
};
/* Parses an S3 <Error> body; returns 0 with the code and message, -1 when it is not one. */
int store_xml_error(const char *body, size_t len, struct store_err_xml *out);
/* <InitiateMultipartUploadResult><UploadId>: malloc'd, or NULL. */
char *store_xml_upload_id(const char *body, size_t len);
/* <CompleteMultipartUploadResult><ETag> into etag (quotes removed): 0, or -1 (also when
 * the 200 answer is an <Error>, which `err` then receives). */
int store_xml_complete(const char *body, size_t len, char *etag, size_t etaglen,
                       struct store_err_xml *err);

struct store_list_page {
	bool truncated;
	char *next_token; /* malloc'd or NULL */
	size_t count;
	struct store_list_item {
		char *key; /* malloc'd */
		char *etag;
		uint64_t size;
		int64_t mtime;
	} * items;
};
/* Parses a <ListBucketResult>; 0, or -1 when malformed. Free with store_list_page_free. */
int store_xml_list(const char *body, size_t len, struct store_list_page *page);
void store_list_page_free(struct store_list_page *page);

/* <DeleteResult>: calls `failed` for every <Error>; returns the number of errors, or -1
 * when malformed. */
int store_xml_delete_result(const char *body, size_t len,
                            void (*failed)(const char *key, const char *code, const char *message,
                                           void *data),
                            void *data);

/* A growable string for request bodies. */
struct store_buf {
	char *s;
	size_t len, cap;
};
int store_buf_add(struct store_buf *b, const char *s, size_t n);
int store_buf_addf(struct store_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends `s` with XML escapes (& < > " '). */
int store_buf_add_xml(struct store_buf *b, const char *s);

#endif

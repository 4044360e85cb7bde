/* s3:// backend: path-style requests signed by libcurl's CURLOPT_AWS_SIGV4 through
 * chored-sdk-http(3). libcurl 7.88 (Debian 12) signs what it is given verbatim, so every
 * request here is built the way the server canonicalizes it:
 * - x-amz-content-sha256 is always sent (7.88 does not add it): the real SHA-256 of small
 *   bodies (XML, deletes), and UNSIGNED-PAYLOAD with a signed Content-MD5 for object data
 *   (a PUT or one multipart part), as AWS SDKs upload: the server still rejects any byte
 *   changed (BadDigest), and neither side pays a SHA-256 pass over every byte uploaded.
 * - the query is canonical already: names sorted, RFC 3986 escapes with uppercase hex,
 *   valueless parameters written "uploads=" / "delete=";
 * - keys are percent-encoded in the path ('/' kept), as S3 canonicalizes them;
 * - no x-amz-date (curl adds it), no valueless "Name:" header to suppress one (7.88 would
 *   still sign it), no header twice, and a Content-Type on every body (so curl adds no
 *   form content type of its own). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chored/crypto.h"
#include "chored/http.h"
#include "store_impl.h"

#define LIST_PAGE    "1000"
#define DELETE_BATCH 1000

struct write_adapter {
	chored_store_write_fn write;
	void *data;
	uint64_t *count;
};

static size_t adapt_write(const void *buf, size_t len, void *data)
{
	struct write_adapter *a = data;
	if (a->write(buf, len, a->data) != 0)
		return 0;
	*a->count += len;
	return len;
}

/* https://host/bucket[/encoded-key][?canonical-query]: malloc'd. */
static char *s3_url(const struct chored_store *st, const char *key, const char *const *query)
{
	static const char *const none[] = {NULL};
	char *ekey = key ? store_uri_encode(key, true) : strdup("");
	char *q = store_canonical_query(query ? query : none);
	char *url = NULL;
	if (ekey && q) {
		url = malloc(strlen(st->endpoint) + strlen(st->bucket) + strlen(ekey) + strlen(q) +
		             4);
		if (url)
			sprintf(url, "%s/%s%s%s%s%s", st->endpoint, st->bucket, key ? "/" : "",
			        ekey, *q ? "?" : "", q);
	}
	free(ekey);
	free(q);
	return url;
}

void store_s3_fail(struct chored_store *st, const char *op, const char *key,
                   const struct chored_http_response *resp)
{
	struct store_err_xml x;
	const char *what = key ? key : "";
	if (resp->status && store_xml_error(resp->body, resp->body_len, &x) == 0)
		store_set_error(st, "%s s3://%s/%s: HTTP %ld %s: %s", op, st->bucket, what,
		                resp->status, x.code, x.message);
	else
		store_set_error(st, "%s s3://%s/%s: %s", op, st->bucket, what,
		                resp->error[0] ? resp->error : "failed");
}

int store_s3_do(const struct chored_store *st, struct chored_job *job, const struct store_s3_req *r,
                struct chored_http_response *resp)
{
	char sha[CHORED_SHA256_HEX_LEN], hsha[100], hmd5[64], htype[128];
	const char *headers[4];
	int nh = 0, rc;
	struct write_adapter wa = {r->write, r->write_data, r->written};

	memset(resp, 0, sizeof *resp);
	char *url = s3_url(st, r->key, r->query);
	if (!url || (!r->unsigned_payload && r->body &&
	             chored_sha256_hex(r->body, r->body_len, sha) != CHORED_CRYPTO_OK)) {
		free(url);
		snprintf(resp->error, sizeof resp->error, "out of memory");
		return -1;
	}
	if (r->unsigned_payload)
		snprintf(sha, sizeof sha, "UNSIGNED-PAYLOAD");
	snprintf(hsha, sizeof hsha, "x-amz-content-sha256: %s",
	         r->body || r->unsigned_payload ? sha : STORE_EMPTY_SHA256);
	headers[nh++] = hsha;
	if (r->content_type) {
		snprintf(htype, sizeof htype, "Content-Type: %s", r->content_type);
		headers[nh++] = htype;
	}
	if (r->content_md5) {
		snprintf(hmd5, sizeof hmd5, "Content-MD5: %s", r->content_md5);
		headers[nh++] = hmd5;
	}
	headers[nh] = NULL;

	struct chored_http_request req = {
	    .method = r->method,
	    .url = url,
	    .headers = headers,
	    .body = r->body,
	    .body_len = r->body_len,
	    .write = r->write ? adapt_write : NULL,
	    .write_data = r->write ? &wa : NULL,
	    .aws_sigv4 = st->sigv4,
	    .aws_credentials = st->credentials,
	    .timeout_ms = st->timeout_ms,
	    .max_attempts = st->max_attempts,
	    .backoff_base_ms = st->backoff_base_ms,
	};
	rc = chored_http_do(job, &req, resp);
	free(url);
	return rc;
}

/* ---- get, list, delete ---- */

static int s3_get(struct chored_store *st, const char *key, chored_store_write_fn write, void *data,
                  uint64_t *size)
{
	struct chored_http_response resp;
	struct store_s3_req r = {
	    .method = "GET", .key = key, .write = write, .write_data = data, .written = size};
	int rc = store_s3_do(st, st->job, &r, &resp);
	if (rc) {
		store_s3_fail(st, "GET", key, &resp);
		if (resp.status == 404 && strstr(st->err, "NoSuchKey"))
			rc = CHORED_STORE_NOT_FOUND;
	}
	chored_http_response_free(&resp);
	return rc;
}

static int s3_list(struct chored_store *st, const char *prefix, size_t strip,
                   int (*each)(const struct chored_store_object *obj, void *data), void *data)
{
	char *token = NULL;
	int rc = 0;
	do {
		struct chored_http_response resp;
		struct store_list_page page;
		const char *q[] = {"list-type",
		                   "2",
		                   "max-keys",
		                   LIST_PAGE,
		                   "prefix",
		                   prefix,
		                   token ? "continuation-token" : NULL,
		                   token,
		                   NULL};
		struct store_s3_req r = {.method = "GET", .query = q};
		rc = store_s3_do(st, st->job, &r, &resp);
		if (rc) {
			store_s3_fail(st, "ListObjectsV2", prefix, &resp);
		} else if (store_xml_list(resp.body, resp.body_len, &page) != 0) {
			store_set_error(st, "ListObjectsV2 s3://%s/%s: malformed answer",
			                st->bucket, prefix);
			rc = -1;
		}
		chored_http_response_free(&resp);
		free(token);
		token = NULL;
		if (rc)
			break;
		for (size_t i = 0; i < page.count && rc == 0; i++) {
			const struct store_list_item *it = &page.items[i];
			if (strlen(it->key) < strip ||
			    strncmp(it->key, prefix, strlen(prefix)) != 0)
				continue; /* not ours: a server ignoring the prefix */
			struct chored_store_object o = {it->key + strip, it->size, it->mtime,
			                                it->etag};
			rc = each(&o, data);
		}
		if (rc == 0 && page.truncated) {
			token = page.next_token;
			page.next_token = NULL;
		}
		store_list_page_free(&page);
	} while (rc == 0 && token);
	free(token);
	return rc;
}

static int s3_del(struct chored_store *st, const char *key)
{
	struct chored_http_response resp;
	struct store_s3_req r = {.method = "DELETE", .key = key};
	int rc = store_s3_do(st, st->job, &r, &resp);
	if (rc)
		store_s3_fail(st, "DELETE", key, &resp);
	chored_http_response_free(&resp);
	return rc;
}

struct del_ctx {
	void (*failed)(const char *key, const char *code, const char *message, void *data);
	void *data;
	size_t strip;
};

static void del_failed(const char *key, const char *code, const char *message, void *data)
{
	struct del_ctx *c = data;
	if (c->failed)
		c->failed(strlen(key) >= c->strip ? key + c->strip : key, code, message, c->data);
}

static int del_batch(struct chored_store *st, const char *const *keys, size_t n,
                     struct del_ctx *ctx)
{
	struct store_buf b = {0};
	struct chored_http_response resp;
	char md5[25];
	const char *q[] = {"delete", "", NULL};
	int rc = store_buf_addf(&b, "<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
	                            "<Quiet>true</Quiet>");
	for (size_t i = 0; rc == 0 && i < n; i++) {
		rc |= store_buf_addf(&b, "<Object><Key>");
		rc |= store_buf_add_xml(&b, keys[i]);
		rc |= store_buf_addf(&b, "</Key></Object>");
	}
	rc |= store_buf_addf(&b, "</Delete>");
	if (rc) {
		free(b.s);
		store_set_error(st, "out of memory");
		return -1;
	}
	store_md5_base64(b.s, b.len, md5);
	struct store_s3_req r = {.method = "POST",
	                         .query = q,
	                         .body = b.s,
	                         .body_len = b.len,
	                         .content_type = "application/xml",
	                         .content_md5 = md5};
	rc = store_s3_do(st, st->job, &r, &resp);
	if (rc) {
		store_s3_fail(st, "DeleteObjects", "", &resp);
	} else if ((rc = store_xml_delete_result(resp.body, resp.body_len, del_failed, ctx)) < 0) {
		store_set_error(st, "DeleteObjects s3://%s: malformed answer", st->bucket);
	}
	chored_http_response_free(&resp);
	free(b.s);
	return rc;
}

static int s3_del_many(struct chored_store *st, const char *const *keys, size_t n, size_t strip,
                       void (*failed)(const char *key, const char *code, const char *message,
                                      void *data),
                       void *data)
{
	struct del_ctx ctx = {failed, data, strip};
	int errors = 0;
	for (size_t i = 0; i < n; i += DELETE_BATCH) {
		int rc = del_batch(st, keys + i, n - i < DELETE_BATCH ? n - i : DELETE_BATCH, &ctx);
		if (rc < 0)
			return -1;
		errors += rc;
	}
	if (errors)
		store_set_error(st, "DeleteObjects s3://%s: %d of %zu keys could not be deleted",
		                st->bucket, errors, n);
	return errors;
}

static const struct store_ops s3_ops = {
    .put = store_s3_put,
    .get = s3_get,
    .list = s3_list,
    .del = s3_del,
    .del_many = s3_del_many,
};

/* ---- open ---- */

static bool bucket_ok(const char *b, size_t n)
{
	if (n < 3 || n > 63)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = b[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
		if (!alnum && ((c != '-' && c != '.') || i == 0 || i == n - 1))
			return false;
	}
	return true;
}

static bool region_ok(const char *r)
{
	for (; *r; r++)
		if (!((*r >= 'a' && *r <= 'z') || (*r >= '0' && *r <= '9') || *r == '-'))
			return false;
	return true;
}

/* endpoint must be http(s)://HOST[:PORT][/]: returns a malloc'd copy without the '/'. */
static char *endpoint_parse(const char *v, char *err, size_t errlen)
{
	const char *host = strncmp(v, "https://", 8) == 0  ? v + 8
	                   : strncmp(v, "http://", 7) == 0 ? v + 7
	                                                   : NULL;
	size_t n = host ? strcspn(host, "/?#") : 0;
	if (!host || n == 0 || (host[n] && strcmp(host + n, "/") != 0) || strchr(host, '@')) {
		snprintf(err, errlen,
		         "s3 store endpoint \"%s\" must be https://HOST[:PORT] with no path, "
		         "e.g. https://ACCOUNT_ID.r2.cloudflarestorage.com",
		         v);
		return NULL;
	}
	return strndup(v, (size_t)(host - v) + n);
}

int store_s3_open(struct chored_store *st, const char *rest, const struct chored_store_config *cfg,
                  char *err, size_t errlen)
{
	const char *q = strchr(rest, '?');
	size_t blen = strcspn(rest, "/?");
	char *region = NULL, *prefix = NULL, *qs = NULL;
	int rc = -1;

	if (!bucket_ok(rest, blen)) {
		snprintf(
		    err, errlen,
		    "s3 store URL: bucket \"%.*s\" is not a valid bucket name (3-63 of a-z 0-9 "
		    ". -)",
		    (int)blen, rest);
		return -1;
	}
	st->bucket = strndup(rest, blen);
	const char *p = rest + blen;
	size_t plen = q ? (size_t)(q - p) : strlen(p);
	char *raw = strndup(p + (plen && *p == '/'), plen - (plen && *p == '/'));
	prefix = raw ? store_uri_decode(raw) : NULL;
	free(raw);
	if (!prefix) {
		snprintf(err, errlen, "s3 store URL: bad %%-escape in the prefix");
		goto out;
	}
	if (*prefix) {
		size_t n = strlen(prefix);
		char *t = strdup(prefix);
		if (t && n && t[n - 1] == '/')
			t[n - 1] = '\0';
		const char *why = t ? store_key_problem(t) : "out of memory";
		free(t);
		if (why) {
			snprintf(err, errlen, "s3 store URL: prefix \"%s\" %s", prefix, why);
			goto out;
		}
	}
	st->base = malloc(strlen(prefix) + 2);
	if (!st->base)
		goto oom;
	sprintf(st->base, "%s%s", prefix, *prefix && prefix[strlen(prefix) - 1] != '/' ? "/" : "");

	qs = strdup(q ? q + 1 : "");
	if (!qs)
		goto oom;
	for (char *save = NULL, *kv = strtok_r(qs, "&", &save); kv;
	     kv = strtok_r(NULL, "&", &save)) {
		char *eq = strchr(kv, '=');
		if (eq)
			*eq = '\0';
		char *val = store_uri_decode(eq ? eq + 1 : "");
		if (!val) {
			snprintf(err, errlen, "s3 store URL: bad %%-escape in parameter %s", kv);
			goto out;
		}
		if (strcmp(kv, "endpoint") == 0 && !st->endpoint) {
			st->endpoint = endpoint_parse(val, err, errlen);
			free(val);
			if (!st->endpoint)
				goto out;
		} else if (strcmp(kv, "region") == 0 && !region) {
			region = val;
		} else {
			snprintf(err, errlen,
			         "s3 store URL: unknown or repeated parameter \"%s\" (expected "
			         "endpoint, "
			         "region)",
			         kv);
			free(val);
			goto out;
		}
	}
	if (!st->endpoint) {
		snprintf(err, errlen,
		         "s3 store URL needs endpoint=https://HOST, e.g. s3://%s?endpoint=https://"
		         "ACCOUNT_ID.r2.cloudflarestorage.com",
		         st->bucket);
		goto out;
	}
	if (region && !region_ok(region)) {
		snprintf(err, errlen,
		         "s3 store URL: region \"%s\" is not a region name (a-z 0-9 -)", region);
		goto out;
	}
	/* R2 takes "auto" (and aliases "" and us-east-1 to it); AWS wants its real region. */
	const char *reg = region && *region ? region : "auto";
	if (!cfg->access_key_id || !*cfg->access_key_id || !cfg->secret_access_key ||
	    !*cfg->secret_access_key) {
		snprintf(err, errlen,
		         "s3 store %s: the access key id and secret access key are "
		         "required",
		         st->bucket);
		goto out;
	}
	if (strchr(cfg->access_key_id, ':')) {
		snprintf(err, errlen, "s3 store %s: the access key id must not contain ':'",
		         st->bucket);
		goto out;
	}
	st->sigv4 = malloc(strlen(reg) + 16);
	st->credentials = malloc(strlen(cfg->access_key_id) + strlen(cfg->secret_access_key) + 2);
	st->describe =
	    malloc(strlen(st->bucket) + strlen(st->base) + strlen(st->endpoint) + strlen(reg) + 32);
	if (!st->sigv4 || !st->credentials || !st->describe)
		goto oom;
	sprintf(st->sigv4, "aws:amz:%s:s3", reg);
	sprintf(st->credentials, "%s:%s", cfg->access_key_id, cfg->secret_access_key);
	sprintf(st->describe, "s3://%s/%s at %s (region %s)", st->bucket, st->base, st->endpoint,
	        reg);
	st->ops = &s3_ops;
	rc = 0;
	goto out;
oom:
	snprintf(err, errlen, "out of memory");
out:
	free(region);
	free(prefix);
	free(qs);
	return rc;
}

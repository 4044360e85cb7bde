/* s3:// put: one PutObject for a small object, else a multipart upload of equal parts,
 * aborted on any failure, a read error or a cancel.
 *
 * Throughput: a part's Content-MD5 must be known before its first byte is sent, so a part
 * is read and hashed whole before it goes out. Two part buffers let the two overlap: while
 * a sender thread uploads part N, the caller's thread reads part N+1 through the read
 * callback and hashes it as it arrives (in chunks small enough to be hashed while still in
 * the cache: one pass over memory, not two). The sender goes on to part N+1 as soon as N
 * is answered and N+1 is read, without waiting for the caller's thread to take N's answer
 * (on a loaded machine every hand-over between threads costs a scheduling delay). Memory
 * stays bounded by two parts.
 *
 * Threads: the caller's read callback and every record of the run's job stay on the
 * caller's thread. The sender has a job of its own (struct chored_job is not thread-safe):
 * chored_http_do logs its trace and retries there and registers the credentials there;
 * those records are handed to the run's sink once the part is done, in order. The run's
 * cancellation is passed on to the sender's job, which stops its transfer. */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>
#include <openssl/evp.h>

#include "chored/http.h"
#include "job_impl.h"
#include "store_impl.h"

/* Bytes asked of the read callback at a time, hashed right after they arrive. */
#define READ_CHUNK ((size_t)256 << 10)
/* How often a wait for the sender looks at the run's cancellation. */
#define CANCEL_POLL_MS 50

/* ---- the object's bytes ---- */

struct src {
	chored_store_read_fn read;
	void *data;
	EVP_MD_CTX *md5; /* owned */
	bool eof, failed, has_carry;
	bool md5_failed;     /* OpenSSL could not hash (failed is set too) */
	unsigned char carry; /* one byte read ahead to learn whether a full buffer ended it */
};

/* Fills buf with up to cap bytes and writes their Content-MD5 (base64) into md5; returns
 * the count (eof set when the object ended, failed on a read error, a cancel or a hashing
 * failure). */
static size_t fill(struct chored_store *st, struct src *s, unsigned char *buf, size_t cap,
                   char md5[25])
{
	size_t pos = 0;
	if (EVP_DigestInit_ex(s->md5, EVP_md5(), NULL) != 1) {
		s->failed = s->md5_failed = true;
		return 0;
	}
	if (s->has_carry) {
		buf[pos++] = s->carry;
		s->has_carry = false;
	}
	while (pos < cap && !s->eof && !s->failed) {
		if (chored_job_cancelled(st->job)) {
			s->failed = true;
			break;
		}
		size_t want = cap - pos < READ_CHUNK ? cap - pos : READ_CHUNK;
		size_t n = s->read(buf + pos, want, s->data);
		if (n == (size_t)-1)
			s->failed = true;
		else if (n == 0)
			s->eof = true;
		else if (n > want)
			s->failed = true; /* a callback writing past what it was given */
		else
			pos += n;
	}
	if (pos == cap && !s->eof && !s->failed) {
		size_t n = s->read(&s->carry, 1, s->data);
		if (n == (size_t)-1 || n > 1)
			s->failed = true;
		else if (n == 0)
			s->eof = true;
		else
			s->has_carry = true;
	}
	unsigned char md[EVP_MAX_MD_SIZE];
	if (!s->failed &&
	    (EVP_DigestUpdate(s->md5, buf, pos) != 1 || EVP_DigestFinal_ex(s->md5, md, NULL) != 1))
		s->failed = s->md5_failed = true;
	if (!s->failed)
		EVP_EncodeBlock((unsigned char *)md5, md, 16);
	return pos;
}

static int src_failed(struct chored_store *st, const struct src *s, const char *key)
{
	store_set_error(st, "PUT s3://%s/%s: %s", st->bucket, key,
	                chored_job_cancelled(st->job) ? "cancelled"
	                : s->md5_failed               ? "cannot compute the MD5 (OpenSSL)"
	                                              : "the read callback failed");
	return -1;
}

static void etag_copy(char *dst, size_t cap, const char *etag)
{
	size_t n = etag ? strlen(etag) : 0;
	if (n >= 2 && etag[0] == '"' && etag[n - 1] == '"')
		snprintf(dst, cap, "%.*s", (int)(n - 2), etag + 1);
	else
		snprintf(dst, cap, "%s", etag ? etag : "");
}

static int put_single(struct chored_store *st, const char *key, const unsigned char *buf, size_t n,
                      const char *md5, struct chored_store_put_info *info)
{
	struct chored_http_response resp;
	struct store_s3_req r = {.method = "PUT",
	                         .key = key,
	                         .body = n ? buf : (const void *)"",
	                         .body_len = n,
	                         .content_type = "application/octet-stream",
	                         .content_md5 = md5,
	                         .unsigned_payload = true};
	int rc = store_s3_do(st, st->job, &r, &resp);
	if (rc)
		store_s3_fail(st, "PUT", key, &resp);
	else
		etag_copy(info->etag, sizeof info->etag, chored_http_header(&resp, "ETag"));
	chored_http_response_free(&resp);
	info->size = n;
	return rc;
}

/* ---- multipart requests on the caller's thread ---- */

struct mpu {
	const char *key;
	char *upload_id;
	char **etags;
	unsigned parts;
};

static void mpu_abort(struct chored_store *st, struct mpu *m)
{
	struct chored_http_response resp;
	const char *q[] = {"uploadId", m->upload_id, NULL};
	struct store_s3_req r = {.method = "DELETE", .key = m->key, .query = q};
	char saved[sizeof st->err];
	memcpy(saved, st->err, sizeof saved);
	/* A cancelled job refuses new transfers, yet the upload must still be aborted: send
	 * that one request on a detached job (its log goes nowhere; failures are logged on
	 * the run's job below). */
	struct chored_job *detached = NULL;
	if (chored_job_cancelled(st->job))
		detached = chored__job_new(chored_job_name(st->job), NULL);
	int rc = store_s3_do(st, detached ? detached : st->job, &r, &resp);
	chored__job_free(detached);
	if (rc != 0) {
		store_s3_fail(st, "AbortMultipartUpload", m->key, &resp);
		chored_log(st->job, CHORED_LOG_WARNING,
		           "store: could not abort multipart upload of %s (the bucket's lifecycle "
		           "rule removes it): %s",
		           m->key, st->err);
	}
	chored_http_response_free(&resp);
	memcpy(st->err, saved, sizeof saved);
}

static int mpu_create(struct chored_store *st, struct mpu *m)
{
	struct chored_http_response resp;
	const char *q[] = {"uploads", "", NULL};
	struct store_s3_req r = {.method = "POST",
	                         .key = m->key,
	                         .query = q,
	                         .body = "",
	                         .content_type = "application/octet-stream"};
	int rc = store_s3_do(st, st->job, &r, &resp);
	if (rc) {
		store_s3_fail(st, "CreateMultipartUpload", m->key, &resp);
	} else if (!(m->upload_id = store_xml_upload_id(resp.body, resp.body_len))) {
		store_set_error(st, "CreateMultipartUpload s3://%s/%s: no UploadId in the answer",
		                st->bucket, m->key);
		rc = -1;
	}
	chored_http_response_free(&resp);
	return rc;
}

static int mpu_complete(struct chored_store *st, struct mpu *m, struct chored_store_put_info *info)
{
	struct store_buf b = {0};
	struct chored_http_response resp;
	struct store_err_xml x;
	const char *q[] = {"uploadId", m->upload_id, NULL};
	int rc = store_buf_addf(&b, "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/"
	                            "doc/2006-03-01/\">");
	for (unsigned i = 0; rc == 0 && i < m->parts; i++) {
		rc |= store_buf_addf(&b, "<Part><PartNumber>%u</PartNumber><ETag>", i + 1);
		rc |= store_buf_add_xml(&b, m->etags[i]);
		rc |= store_buf_addf(&b, "</ETag></Part>");
	}
	rc |= store_buf_addf(&b, "</CompleteMultipartUpload>");
	if (rc) {
		free(b.s);
		store_set_error(st, "out of memory");
		return -1;
	}
	struct store_s3_req r = {.method = "POST",
	                         .key = m->key,
	                         .query = q,
	                         .body = b.s,
	                         .body_len = b.len,
	                         .content_type = "application/xml"};
	rc = store_s3_do(st, st->job, &r, &resp);
	if (rc) {
		store_s3_fail(st, "CompleteMultipartUpload", m->key, &resp);
	} else if (store_xml_complete(resp.body, resp.body_len, info->etag, sizeof info->etag,
	                              &x) != 0) {
		/* S3 may answer 200 and put an <Error> in the body. */
		store_set_error(st, "CompleteMultipartUpload s3://%s/%s: %s%s%s", st->bucket,
		                m->key, x.code[0] ? x.code : "unexpected answer",
		                x.code[0] ? ": " : "", x.message);
		rc = -1;
	}
	chored_http_response_free(&resp);
	free(b.s);
	return rc;
}

/* ---- the part sender ---- */

/* One part buffer and the part it holds. */
struct slot {
	unsigned char *buf; /* owned; allocated when first needed */
	size_t n;
	char md5[25];
	unsigned no;                                     /* part number */
	enum { SLOT_FREE, SLOT_READY, SLOT_SENT } state; /* guarded by sender.mu */
	int rc;                                          /* of the part's request, once SENT */
	struct chored_http_response resp;                /* likewise; freed by sender_result */
};

struct sender {
	const struct chored_store *st;
	const struct mpu *m;         /* its key and upload id are read by the sender thread */
	struct chored_job *job;      /* owned: the sender's job (see the top of this file) */
	struct json_object *records; /* owned, guarded by mu: records not yet handed on */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct slot slot[2]; /* parts alternate between the two */
	bool stop;           /* guarded by mu: the thread takes no further part and ends */
	bool started;        /* the thread was tried (once, for part 1 in slot 0) */
	bool threaded;       /* `thread` runs; else parts are sent inline by sender_wait */
	pthread_t thread;
};

/* The sender job's sink (on whichever thread sends): keeps each record for the caller's
 * thread to hand on. */
static void sender_collect(void *data, struct json_object *record)
{
	struct sender *snd = data;
	struct json_object *copy = NULL;
	/* A copy: json-c's reference counts are not atomic, and the sender drops its
	 * reference while the caller's thread may be handing the record on. */
	if (json_object_deep_copy(record, &copy, NULL) != 0)
		return;
	pthread_mutex_lock(&snd->mu);
	if (json_object_array_add(snd->records, copy) != 0)
		json_object_put(copy);
	pthread_mutex_unlock(&snd->mu);
}

static int sender_init(struct sender *snd, struct chored_store *st, const struct mpu *m)
{
	pthread_condattr_t ca;
	memset(snd, 0, sizeof *snd);
	snd->st = st;
	snd->m = m;
	snd->records = json_object_new_array();
	snd->job = chored__job_new(chored_job_name(st->job), NULL);
	if (!snd->records || !snd->job) {
		json_object_put(snd->records);
		chored__job_free(snd->job);
		return -1;
	}
	/* Whatever the run redacts, the sender's records redact too. */
	for (size_t i = 0; i < st->job->n_secrets; i++)
		chored__job_add_redaction(snd->job, st->job->secrets[i]);
	chored__job_set_emit(snd->job, sender_collect, snd);
	pthread_mutex_init(&snd->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&snd->cv, &ca);
	pthread_condattr_destroy(&ca);
	return 0;
}

/* Sends the part in `sl` (its state is READY; the buffer is not written meanwhile). */
static void slot_send(struct sender *snd, struct slot *sl)
{
	char num[16];
	snprintf(num, sizeof num, "%u", sl->no);
	const char *q[] = {"partNumber", num, "uploadId", snd->m->upload_id, NULL};
	struct store_s3_req r = {.method = "PUT",
	                         .key = snd->m->key,
	                         .query = q,
	                         .body = sl->buf,
	                         .body_len = sl->n,
	                         .content_type = "application/octet-stream",
	                         .content_md5 = sl->md5,
	                         .unsigned_payload = true};
	sl->rc = store_s3_do(snd->st, snd->job, &r, &sl->resp);
}

/* The sender thread: sends the slots in turn as they become READY, until stopped. */
static void *sender_run(void *data)
{
	struct sender *snd = data;
	pthread_mutex_lock(&snd->mu);
	for (unsigned i = 0;; i ^= 1) {
		struct slot *sl = &snd->slot[i];
		while (!snd->stop && sl->state != SLOT_READY)
			pthread_cond_wait(&snd->cv, &snd->mu);
		if (snd->stop)
			break;
		pthread_mutex_unlock(&snd->mu);
		slot_send(snd, sl);
		pthread_mutex_lock(&snd->mu);
		sl->state = SLOT_SENT;
		pthread_cond_broadcast(&snd->cv);
	}
	pthread_mutex_unlock(&snd->mu);
	return NULL;
}

/* Hands the part in `sl` (filled: buf, n, md5, no) to the sender. */
static void sender_queue(struct sender *snd, struct slot *sl)
{
	if (chored_job_cancelled(snd->st->job))
		chored__job_cancel(snd->job);
	pthread_mutex_lock(&snd->mu);
	sl->state = SLOT_READY;
	pthread_cond_broadcast(&snd->cv);
	pthread_mutex_unlock(&snd->mu);
	if (!snd->started) { /* the first part (slot 0) starts the thread */
		snd->started = true;
		snd->threaded = pthread_create(&snd->thread, NULL, sender_run, snd) == 0;
	}
	/* Without a thread, sender_wait sends inline: slower, not wrong. */
}

/* Hands the sender job's records to the run's sink, on the caller's thread, in order. */
static void sender_forward(struct sender *snd)
{
	struct chored_job *run = snd->st->job;
	struct json_object *fresh = json_object_new_array();
	if (!fresh)
		return; /* kept for the next call */
	pthread_mutex_lock(&snd->mu);
	struct json_object *recs = snd->records;
	snd->records = fresh;
	pthread_mutex_unlock(&snd->mu);
	size_t n = json_object_array_length(recs);
	for (size_t i = 0; i < n && run->emit; i++)
		run->emit(run->emit_data, json_object_array_get_idx(recs, i));
	json_object_put(recs);
}

/* Waits until the part in `sl` is answered, passing the run's cancellation on. */
static void sender_wait(struct sender *snd, struct slot *sl)
{
	struct chored_job *run = snd->st->job;
	if (!snd->threaded) {
		if (chored_job_cancelled(run))
			chored__job_cancel(snd->job);
		slot_send(snd, sl);
		sl->state = SLOT_SENT;
	}
	pthread_mutex_lock(&snd->mu);
	while (sl->state != SLOT_SENT) {
		if (chored_job_cancelled(run))
			chored__job_cancel(snd->job);
		struct timespec t;
		clock_gettime(CLOCK_MONOTONIC, &t);
		t.tv_nsec += CANCEL_POLL_MS * 1000000L;
		if (t.tv_nsec >= 1000000000L) {
			t.tv_sec++;
			t.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&snd->cv, &snd->mu, &t);
	}
	pthread_mutex_unlock(&snd->mu);
	sender_forward(snd);
}

/* Ends the thread: `cut` stops a part in flight (the upload is being given up). */
static void sender_stop(struct sender *snd, bool cut)
{
	if (!snd->threaded)
		return;
	pthread_mutex_lock(&snd->mu);
	snd->stop = true;
	pthread_cond_broadcast(&snd->cv);
	pthread_mutex_unlock(&snd->mu);
	if (cut)
		chored__job_cancel(snd->job);
	pthread_join(snd->thread, NULL);
	snd->threaded = false;
	for (int i = 0; i < 2; i++)
		if (snd->slot[i].state == SLOT_SENT)
			chored_http_response_free(&snd->slot[i].resp);
	sender_forward(snd);
}

static void sender_free(struct sender *snd)
{
	json_object_put(snd->records);
	chored__job_free(snd->job);
	pthread_mutex_destroy(&snd->mu);
	pthread_cond_destroy(&snd->cv);
	free(snd->slot[0].buf);
	free(snd->slot[1].buf);
}

/* Records the ETag of the part in `sl`, or sets the store's error; frees its response and
 * frees the slot for the next part. */
static int sender_result(struct chored_store *st, struct mpu *m, struct sender *snd,
                         struct slot *sl)
{
	unsigned no = sl->no;
	const char *etag = sl->rc ? NULL : chored_http_header(&sl->resp, "ETag");
	int rc = sl->rc;
	if (rc) {
		char op[48];
		snprintf(op, sizeof op, "UploadPart %u", no);
		store_s3_fail(st, op, m->key, &sl->resp);
	} else if (!etag || !*etag) {
		store_set_error(st, "UploadPart %u s3://%s/%s: no ETag in the answer", no,
		                st->bucket, m->key);
		rc = -1;
	} else {
		char **v = realloc(m->etags, no * sizeof *v);
		if (v)
			m->etags = v;
		if (!v || !(v[no - 1] = strdup(etag))) {
			store_set_error(st, "out of memory");
			rc = -1;
		} else {
			m->parts = no;
		}
	}
	chored_http_response_free(&sl->resp);
	pthread_mutex_lock(&snd->mu);
	sl->state = SLOT_FREE;
	pthread_mutex_unlock(&snd->mu);
	return rc;
}

/* ---- put ---- */

int store_s3_put(struct chored_store *st, const char *key, chored_store_read_fn read, void *data,
                 struct chored_store_put_info *info)
{
	struct src s = {.read = read, .data = data, .md5 = EVP_MD_CTX_new()};
	struct mpu m = {.key = key};
	struct sender snd;
	bool have_sender = false;
	unsigned char *first = malloc(st->part_size);
	char md5[25];
	int rc = -1;
	if (!first || !s.md5) {
		store_set_error(st, "out of memory (part buffer of %llu bytes)",
		                (unsigned long long)st->part_size);
		goto out;
	}
	size_t n = fill(st, &s, first, st->part_size, md5);
	if (s.failed) {
		rc = src_failed(st, &s, key);
		goto out;
	}
	if (s.eof && n <= st->threshold) {
		rc = put_single(st, key, first, n, md5, info);
		goto out;
	}
	if (sender_init(&snd, st, &m)) {
		store_set_error(st, "out of memory");
		goto out;
	}
	have_sender = true;
	snd.slot[0] = (struct slot){.buf = first, .n = n, .no = 1};
	memcpy(snd.slot[0].md5, md5, sizeof md5);
	first = NULL; /* the sender's now */
	if (mpu_create(st, &m))
		goto out;
	sender_queue(&snd, &snd.slot[0]);
	for (unsigned cur = 0;; cur ^= 1) {
		/* slot[cur] is queued; the other one is free: read the next part into it. */
		struct slot *sl = &snd.slot[cur], *next = &snd.slot[cur ^ 1];
		bool last = s.eof, no_memory = false, too_many = false;
		size_t got = 0;
		if (!last) {
			if (!next->buf)
				next->buf = malloc(st->part_size);
			if (next->buf)
				got = fill(st, &s, next->buf, st->part_size, next->md5);
			else
				no_memory = true;
			if (got && !s.failed && sl->no == STORE_MAX_PARTS)
				too_many = true;
			else if (got && !s.failed) {
				next->n = got;
				next->no = sl->no + 1;
				sender_queue(&snd, next);
			}
		}
		sender_wait(&snd, sl);
		if (sender_result(st, &m, &snd, sl))
			goto abort;
		info->size += sl->n;
		char part[16];
		snprintf(part, sizeof part, "%u", m.parts);
		chored_log_kv(st->job, CHORED_LOG_DEBUG, "store: part uploaded", "key", key, "part",
		              part, NULL);
		if (no_memory) {
			store_set_error(st, "out of memory (second part buffer of %llu bytes)",
			                (unsigned long long)st->part_size);
			goto abort;
		}
		if (too_many) {
			store_set_error(st,
			                "PUT s3://%s/%s: more than %d parts of %llu bytes; raise "
			                "part_size",
			                st->bucket, key, STORE_MAX_PARTS,
			                (unsigned long long)st->part_size);
			goto abort;
		}
		if (last)
			break;
		if (s.failed) {
			src_failed(st, &s, key);
			goto abort;
		}
		if (got == 0) /* the stream ended on a part boundary */
			break;
	}
	sender_stop(&snd, false);
	if (chored_job_cancelled(st->job)) {
		src_failed(st, &s, key);
		goto abort;
	}
	if (mpu_complete(st, &m, info))
		goto abort;
	info->parts = m.parts;
	rc = 0;
	goto out;
abort:
	sender_stop(&snd, true);
	mpu_abort(st, &m);
out:
	if (have_sender)
		sender_free(&snd);
	for (unsigned i = 0; i < m.parts; i++)
		free(m.etags[i]);
	free(m.etags);
	free(m.upload_id);
	free(first);
	EVP_MD_CTX_free(s.md5);
	return rc;
}

/* Streaming compression (zlib's gzip format, zstd, or none) into a local scratch file with
 * a SHA-256 of the stored bytes, and the reverse: stored bytes hashed, then decompressed
 * to a callback. Memory is one fixed buffer per stream, whatever the size of the data. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>
#include <zstd.h>

#include "backup.h"

#define BUF (256 * 1024)

struct bk_enc {
	enum bk_compress c;
	int fd;
	z_stream z;
	bool z_init;
	ZSTD_CCtx *zc;
	struct chored_sha256 *h;
	uint64_t size, raw;
	unsigned char out[BUF];
	char err[256];
};

static int enc_fail(struct bk_enc *e, const char *what, const char *why)
{
	snprintf(e->err, sizeof e->err, "%s: %s", what, why);
	return -1;
}

/* Writes `n` stored bytes to the file and the hash. */
static int enc_emit(struct bk_enc *e, const unsigned char *p, size_t n)
{
	chored_sha256_update(e->h, p, n);
	e->size += n;
	while (n) {
		ssize_t w = write(e->fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return enc_fail(e, "write", strerror(errno));
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

struct bk_enc *bk_enc_open(enum bk_compress c, const char *path, char *err, size_t errlen)
{
	struct bk_enc *e = calloc(1, sizeof *e);
	if (!e) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	e->c = c;
	e->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	e->h = chored_sha256_new();
	if (e->fd < 0 || !e->h) {
		snprintf(err, errlen, "%s: %s", path,
		         e->fd < 0 ? strerror(errno) : "out of memory");
		bk_enc_free(e);
		return NULL;
	}
	if (c == BK_GZIP) {
		/* 15 + 16: a gzip wrapper, readable by gzip(1). */
		if (deflateInit2(&e->z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
		                 Z_DEFAULT_STRATEGY) != Z_OK) {
			snprintf(err, errlen, "zlib: deflateInit2 failed");
			bk_enc_free(e);
			return NULL;
		}
		e->z_init = true;
	} else if (c == BK_ZSTD) {
		e->zc = ZSTD_createCCtx();
		if (!e->zc || ZSTD_isError(ZSTD_CCtx_setParameter(e->zc, ZSTD_c_checksumFlag, 1))) {
			snprintf(err, errlen, "zstd: cannot create a compression context");
			bk_enc_free(e);
			return NULL;
		}
	}
	return e;
}

static int enc_gzip(struct bk_enc *e, const void *buf, size_t len, int flush)
{
	e->z.next_in = (Bytef *)buf;
	e->z.avail_in = (uInt)len;
	int rc;
	do {
		e->z.next_out = e->out;
		e->z.avail_out = BUF;
		rc = deflate(&e->z, flush);
		if (rc == Z_STREAM_ERROR)
			return enc_fail(e, "zlib", "deflate failed");
		if (enc_emit(e, e->out, BUF - e->z.avail_out) < 0)
			return -1;
	} while (e->z.avail_out == 0 || (flush == Z_FINISH && rc != Z_STREAM_END));
	return 0;
}

static int enc_zstd(struct bk_enc *e, const void *buf, size_t len, ZSTD_EndDirective mode)
{
	ZSTD_inBuffer in = {buf, len, 0};
	size_t left;
	do {
		ZSTD_outBuffer out = {e->out, BUF, 0};
		left = ZSTD_compressStream2(e->zc, &out, &in, mode);
		if (ZSTD_isError(left))
			return enc_fail(e, "zstd", ZSTD_getErrorName(left));
		if (enc_emit(e, e->out, out.pos) < 0)
			return -1;
	} while (mode == ZSTD_e_end ? left != 0 : in.pos < in.size);
	return 0;
}

int bk_enc_write(struct bk_enc *e, const void *buf, size_t len)
{
	e->raw += len;
	while (len) {
		/* zlib counts in uInt: feed at most 1 GiB at a time. */
		size_t n = len > (1u << 30) ? (1u << 30) : len;
		int rc = e->c == BK_GZIP   ? enc_gzip(e, buf, n, Z_NO_FLUSH)
		         : e->c == BK_ZSTD ? enc_zstd(e, buf, n, ZSTD_e_continue)
		                           : enc_emit(e, buf, n);
		if (rc < 0)
			return -1;
		buf = (const char *)buf + n;
		len -= n;
	}
	return 0;
}

int bk_enc_finish(struct bk_enc *e, uint64_t *size, uint64_t *raw, char sha[CHORED_SHA256_HEX_LEN])
{
	int rc = e->c == BK_GZIP   ? enc_gzip(e, NULL, 0, Z_FINISH)
	         : e->c == BK_ZSTD ? enc_zstd(e, NULL, 0, ZSTD_e_end)
	                           : 0;
	if (rc < 0)
		return -1;
	if (fsync(e->fd) < 0 || close(e->fd) < 0) {
		e->fd = -1;
		return enc_fail(e, "close", strerror(errno));
	}
	e->fd = -1;
	chored_sha256_final_hex(e->h, sha);
	*size = e->size;
	*raw = e->raw;
	return 0;
}

const char *bk_enc_error(const struct bk_enc *e)
{
	return e->err;
}

void bk_enc_free(struct bk_enc *e)
{
	if (!e)
		return;
	if (e->fd >= 0)
		close(e->fd);
	if (e->z_init)
		deflateEnd(&e->z);
	ZSTD_freeCCtx(e->zc);
	chored_sha256_free(e->h);
	free(e);
}

struct bk_dec {
	enum bk_compress c;
	bk_out_fn out;
	void *data;
	z_stream z;
	bool z_init, z_end;
	ZSTD_DCtx *zd;
	size_t zstd_hint; /* 0 once a frame ended */
	bool corrupt;     /* a decoding error: the rest is only hashed */
	struct chored_sha256 *h;
	uint64_t size, raw;
	unsigned char buf[BUF];
	char err[256];
};

struct bk_dec *bk_dec_new(enum bk_compress c, bk_out_fn out, void *data)
{
	struct bk_dec *d = calloc(1, sizeof *d);
	if (!d)
		return NULL;
	d->c = c;
	d->out = out;
	d->data = data;
	d->h = chored_sha256_new();
	d->zstd_hint = 1;
	if (!d->h || (c == BK_GZIP && inflateInit2(&d->z, 15 + 16) != Z_OK) ||
	    (c == BK_ZSTD && !(d->zd = ZSTD_createDCtx()))) {
		chored_sha256_free(d->h);
		free(d);
		return NULL;
	}
	d->z_init = c == BK_GZIP;
	return d;
}

static int dec_out(struct bk_dec *d, const void *p, size_t n)
{
	d->raw += n;
	if (n && d->out && d->out(p, n, d->data) < 0) {
		snprintf(d->err, sizeof d->err, "the reader stopped");
		return -1;
	}
	return 0;
}

/* A decoding error is remembered, not returned: the caller still gets the sha256 of every
 * stored byte, which names the real problem (a changed file) better than the codec does. */
static int dec_corrupt(struct bk_dec *d)
{
	d->corrupt = true;
	return 0;
}

int bk_dec_write(struct bk_dec *d, const void *buf, size_t len)
{
	chored_sha256_update(d->h, buf, len);
	d->size += len;
	if (d->corrupt)
		return 0;
	if (d->c == BK_NONE)
		return dec_out(d, buf, len);
	if (d->c == BK_GZIP) {
		d->z.next_in = (Bytef *)buf;
		d->z.avail_in = (uInt)len;
		while (d->z.avail_in) {
			if (d->z_end) {
				snprintf(d->err, sizeof d->err,
				         "gzip: data after the end of the stream");
				return dec_corrupt(d);
			}
			d->z.next_out = d->buf;
			d->z.avail_out = BUF;
			int rc = inflate(&d->z, Z_NO_FLUSH);
			if (rc != Z_OK && rc != Z_STREAM_END) {
				snprintf(d->err, sizeof d->err, "gzip: corrupt data (%s)",
				         d->z.msg ? d->z.msg : "inflate failed");
				return dec_corrupt(d);
			}
			if (dec_out(d, d->buf, BUF - d->z.avail_out) < 0)
				return -1;
			if (rc == Z_STREAM_END)
				d->z_end = true;
		}
		return 0;
	}
	ZSTD_inBuffer in = {buf, len, 0};
	while (in.pos < in.size) {
		ZSTD_outBuffer out = {d->buf, BUF, 0};
		size_t rc = ZSTD_decompressStream(d->zd, &out, &in);
		if (ZSTD_isError(rc)) {
			snprintf(d->err, sizeof d->err, "zstd: corrupt data (%s)",
			         ZSTD_getErrorName(rc));
			return dec_corrupt(d);
		}
		d->zstd_hint = rc;
		if (dec_out(d, d->buf, out.pos) < 0)
			return -1;
	}
	return 0;
}

int bk_dec_finish(struct bk_dec *d, char sha[CHORED_SHA256_HEX_LEN], uint64_t *size, uint64_t *raw)
{
	chored_sha256_final_hex(d->h, sha);
	*size = d->size;
	*raw = d->raw;
	if (d->corrupt)
		return -1;
	if (d->c == BK_GZIP && !d->z_end) {
		snprintf(d->err, sizeof d->err, "gzip: the stream is truncated");
		return -1;
	}
	if (d->c == BK_ZSTD && d->zstd_hint != 0) {
		snprintf(d->err, sizeof d->err, "zstd: the stream is truncated");
		return -1;
	}
	return 0;
}

const char *bk_dec_error(const struct bk_dec *d)
{
	return d->err;
}

void bk_dec_free(struct bk_dec *d)
{
	if (!d)
		return;
	if (d->z_init)
		inflateEnd(&d->z);
	ZSTD_freeDCtx(d->zd);
	chored_sha256_free(d->h);
	free(d);
}

/* The store service: opening by URL, key checks, and the calls every backend shares. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store_impl.h"

void store_set_error(struct chored_store *st, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(st->err, sizeof st->err, fmt, ap);
	va_end(ap);
}

const char *store_key_problem(const char *key)
{
	if (!key || !*key)
		return "is empty";
	if (strlen(key) > STORE_MAX_KEY)
		return "is longer than 1024 bytes";
	if (key[0] == '/')
		return "starts with '/'";
	for (const unsigned char *c = (const unsigned char *)key; *c; c++)
		if (*c < 0x20 || *c == 0x7f)
			return "holds a control character";
	/* Check each '/'-separated segment: no "", ".", "..". */
	for (const char *seg = key;;) {
		const char *end = strchr(seg, '/');
		size_t n = end ? (size_t)(end - seg) : strlen(seg);
		if (n == 0)
			return end ? "holds an empty segment (\"//\")" : "ends with '/'";
		if ((n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.'))
			return "holds a \".\" or \"..\" segment";
		if (!end)
			break;
		seg = end + 1;
	}
	return NULL;
}

int chored_store_open(struct chored_job *job, const char *url,
                      const struct chored_store_config *cfg, struct chored_store **out, char *err,
                      size_t errlen)
{
	static const struct chored_store_config none = {0};
	struct chored_store *st;
	int rc;

	*out = NULL;
	if (!cfg)
		cfg = &none;
	if (!url || !*url) {
		snprintf(err, errlen,
		         "store URL is empty (expected file:///DIR or s3://BUCKET/...)");
		return -1;
	}
	uint64_t part = cfg->part_size ? cfg->part_size : STORE_DEFAULT_PART;
	if (part < STORE_MIN_PART || part > STORE_MAX_PART) {
		snprintf(err, errlen, "store part_size %llu is out of range 5 MiB - 5 GiB",
		         (unsigned long long)part);
		return -1;
	}
	if (cfg->multipart_threshold > part) {
		snprintf(err, errlen,
		         "store multipart_threshold %llu is larger than part_size %llu",
		         (unsigned long long)cfg->multipart_threshold, (unsigned long long)part);
		return -1;
	}
	st = calloc(1, sizeof *st);
	if (!st) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	st->job = job;
	st->part_size = part;
	st->threshold = cfg->multipart_threshold ? cfg->multipart_threshold : part;
	st->timeout_ms = cfg->timeout_ms ? cfg->timeout_ms : 300000;
	st->max_attempts = cfg->max_attempts;
	st->backoff_base_ms = cfg->backoff_base_ms;

	if (strncmp(url, "file://", 7) == 0) {
		rc = store_file_open(st, url + 7, err, errlen);
	} else if (strncmp(url, "s3://", 5) == 0) {
		rc = store_s3_open(st, url + 5, cfg, err, errlen);
	} else {
		const char *colon = strstr(url, "://");
		snprintf(err, errlen,
		         "store URL scheme \"%.*s\" is not supported (file:// or s3://)",
		         colon ? (int)(colon - url) : 0, url);
		rc = -1;
	}
	if (rc) {
		st->ops = NULL;
		chored_store_close(st);
		return -1;
	}
	*out = st;
	return 0;
}

void chored_store_close(struct chored_store *st)
{
	if (!st)
		return;
	if (st->ops && st->ops->close)
		st->ops->close(st);
	if (st->credentials) {
		explicit_bzero(st->credentials, strlen(st->credentials));
		free(st->credentials);
	}
	free(st->base);
	free(st->describe);
	free(st->dir);
	free(st->endpoint);
	free(st->bucket);
	free(st->sigv4);
	free(st);
}

const char *chored_store_error(const struct chored_store *st)
{
	return st ? st->err : "no store";
}

const char *chored_store_describe(const struct chored_store *st)
{
	return st->describe;
}

/* The full key (base + key) in a malloc'd string, or NULL with the error set. */
static char *full_key(struct chored_store *st, const char *key)
{
	const char *why = store_key_problem(key);
	if (why) {
		store_set_error(st, "key \"%s\" %s", key ? key : "", why);
		return NULL;
	}
	char *k = malloc(strlen(st->base) + strlen(key) + 1);
	if (!k) {
		store_set_error(st, "out of memory");
		return NULL;
	}
	strcpy(k, st->base);
	strcat(k, key);
	if (strlen(k) > STORE_MAX_KEY) {
		store_set_error(st, "key \"%s\" with the URL's prefix is longer than 1024 bytes",
		                key);
		free(k);
		return NULL;
	}
	return k;
}

int chored_store_put(struct chored_store *st, const char *key, chored_store_read_fn read,
                     void *data, struct chored_store_put_info *info)
{
	struct chored_store_put_info dummy;
	st->err[0] = '\0';
	char *k = full_key(st, key);
	if (!k)
		return -1;
	memset(info ? info : &dummy, 0, sizeof dummy);
	int rc = st->ops->put(st, k, read, data, info ? info : &dummy);
	free(k);
	return rc;
}

struct file_src {
	int fd;
	int err;
};

static size_t file_read(void *buf, size_t len, void *data)
{
	struct file_src *src = data;
	for (;;) {
		ssize_t n = read(src->fd, buf, len);
		if (n >= 0)
			return (size_t)n;
		if (errno != EINTR) {
			src->err = errno;
			return (size_t)-1;
		}
	}
}

int chored_store_put_file(struct chored_store *st, const char *key, const char *path,
                          struct chored_store_put_info *info)
{
	struct file_src src = {open(path, O_RDONLY | O_CLOEXEC), 0};
	if (src.fd < 0) {
		store_set_error(st, "%s: %s", path, strerror(errno));
		return -1;
	}
	int rc = chored_store_put(st, key, file_read, &src, info);
	if (rc && src.err)
		store_set_error(st, "%s: read: %s", path, strerror(src.err));
	close(src.fd);
	return rc;
}

int chored_store_get(struct chored_store *st, const char *key, chored_store_write_fn write,
                     void *data, uint64_t *size)
{
	uint64_t dummy;
	st->err[0] = '\0';
	char *k = full_key(st, key);
	if (!k)
		return -1;
	*(size ? size : &dummy) = 0;
	int rc = st->ops->get(st, k, write, data, size ? size : &dummy);
	free(k);
	return rc;
}

struct file_dst {
	int fd;
	int err;
};

static int file_write(const void *buf, size_t len, void *data)
{
	struct file_dst *dst = data;
	const char *p = buf;
	while (len) {
		ssize_t n = write(dst->fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			dst->err = errno;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int chored_store_get_file(struct chored_store *st, const char *key, const char *path)
{
	char *tmp = malloc(strlen(path) + sizeof ".chored-tmp.XXXXXX");
	if (!tmp) {
		store_set_error(st, "out of memory");
		return -1;
	}
	sprintf(tmp, "%s.chored-tmp.XXXXXX", path);
	struct file_dst dst = {mkostemp(tmp, O_CLOEXEC), 0};
	if (dst.fd < 0) {
		store_set_error(st, "%s: %s", tmp, strerror(errno));
		free(tmp);
		return -1;
	}
	int rc = chored_store_get(st, key, file_write, &dst, NULL);
	if (rc == 0 && fsync(dst.fd) != 0)
		dst.err = errno, rc = -1;
	if (close(dst.fd) != 0 && rc == 0)
		dst.err = errno, rc = -1;
	if (rc == 0 && rename(tmp, path) != 0)
		dst.err = errno, rc = -1;
	if (rc) {
		if (dst.err)
			store_set_error(st, "%s: %s", path, strerror(dst.err));
		unlink(tmp);
	}
	free(tmp);
	return rc;
}

int chored_store_list(struct chored_store *st, const char *prefix,
                      int (*each)(const struct chored_store_object *obj, void *data), void *data)
{
	st->err[0] = '\0';
	if (!prefix)
		prefix = "";
	if (prefix[0] == '/') {
		store_set_error(st, "list prefix \"%s\" starts with '/'", prefix);
		return -1;
	}
	char *p = malloc(strlen(st->base) + strlen(prefix) + 1);
	if (!p) {
		store_set_error(st, "out of memory");
		return -1;
	}
	strcpy(p, st->base);
	strcat(p, prefix);
	int rc = st->ops->list(st, p, strlen(st->base), each, data);
	free(p);
	return rc;
}

int chored_store_delete(struct chored_store *st, const char *key)
{
	st->err[0] = '\0';
	char *k = full_key(st, key);
	if (!k)
		return -1;
	int rc = st->ops->del(st, k);
	free(k);
	return rc;
}

int chored_store_delete_many(struct chored_store *st, const char *const *keys, size_t n,
                             void (*failed)(const char *key, const char *code, const char *message,
                                            void *data),
                             void *data)
{
	st->err[0] = '\0';
	char **full = calloc(n ? n : 1, sizeof *full);
	int rc = -1;
	if (!full) {
		store_set_error(st, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if (!(full[i] = full_key(st, keys[i])))
			goto out;
	rc = st->ops->del_many(st, (const char *const *)full, n, strlen(st->base), failed, data);
out:
	for (size_t i = 0; i < n; i++)
		free(full[i]);
	free(full);
	return rc;
}

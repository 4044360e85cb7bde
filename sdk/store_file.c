/* file:///DIR backend: an object is the file DIR/KEY. A put writes a temp file in the
 * object's own directory, fsyncs it, renames it over the key and fsyncs the directory:
 * readers see the old object or the new one, never a part, even across a crash. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store_impl.h"

#define TMP_PREFIX ".chored-tmp."
#define IO_CHUNK   (256 * 1024)

static char *path_of(struct chored_store *st, const char *key)
{
	char *p = malloc(strlen(st->dir) + strlen(key) + 2);
	if (p)
		sprintf(p, "%s/%s", st->dir, key);
	else
		store_set_error(st, "out of memory");
	return p;
}

/* mkdir -p of the directories of `path` below the store's directory. */
static int make_parents(struct chored_store *st, char *path)
{
	for (char *s = path + strlen(st->dir) + 1; (s = strchr(s, '/')); s++) {
		*s = '\0';
		int rc = mkdir(path, 0777);
		int e = errno;
		*s = '/';
		if (rc != 0 && e != EEXIST) {
			*s = '\0';
			store_set_error(st, "%s: mkdir: %s", path, strerror(e));
			*s = '/';
			return -1;
		}
	}
	return 0;
}

static int fsync_dir_of(const char *path)
{
	char *d = strdup(path);
	if (!d)
		return -1;
	*strrchr(d, '/') = '\0';
	int fd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(d);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	close(fd);
	return rc;
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int file_put(struct chored_store *st, const char *key, chored_store_read_fn read, void *data,
                    struct chored_store_put_info *info)
{
	char *path = path_of(st, key), *tmp = NULL, *buf = NULL;
	int fd = -1, rc = -1;
	if (!path || make_parents(st, path))
		goto out;
	tmp = malloc(strlen(path) + sizeof TMP_PREFIX + 8);
	buf = malloc(IO_CHUNK);
	if (!tmp || !buf) {
		store_set_error(st, "out of memory");
		goto out;
	}
	const char *slash = strrchr(path, '/');
	sprintf(tmp, "%.*s/" TMP_PREFIX "%s.XXXXXX", (int)(slash - path), path, slash + 1);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		store_set_error(st, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	for (;;) {
		if (chored_job_cancelled(st->job)) {
			store_set_error(st, "PUT %s: cancelled", key);
			goto out;
		}
		size_t n = read(buf, IO_CHUNK, data);
		if (n == (size_t)-1) {
			store_set_error(st, "PUT %s: the read callback failed", key);
			goto out;
		}
		if (n == 0)
			break;
		if (write_all(fd, buf, n)) {
			store_set_error(st, "%s: write: %s", tmp, strerror(errno));
			goto out;
		}
		info->size += n;
	}
	if (fsync(fd) != 0 || close(fd) != 0) {
		store_set_error(st, "%s: fsync: %s", tmp, strerror(errno));
		fd = -1;
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) != 0) {
		store_set_error(st, "%s: rename: %s", path, strerror(errno));
		goto out;
	}
	free(tmp);
	tmp = NULL;
	if (fsync_dir_of(path) != 0) {
		store_set_error(st, "%s: fsync of its directory: %s", path, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	if (tmp)
		unlink(tmp);
	free(tmp);
	free(buf);
	free(path);
	return rc;
}

static int file_get(struct chored_store *st, const char *key, chored_store_write_fn write,
                    void *data, uint64_t *size)
{
	char *path = path_of(st, key), *buf = malloc(IO_CHUNK);
	int fd = -1, rc = -1;
	struct stat sb;
	if (!path || !buf)
		goto out;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		if (fd < 0 && errno != ENOENT && errno != ENOTDIR) {
			store_set_error(st, "%s: %s", path, strerror(errno));
		} else {
			store_set_error(st, "GET %s: no such key", key);
			rc = CHORED_STORE_NOT_FOUND;
		}
		goto out;
	}
	for (;;) {
		ssize_t n = read(fd, buf, IO_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			store_set_error(st, "%s: read: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		if (write(buf, (size_t)n, data) != 0) {
			store_set_error(st, "GET %s: the write callback stopped", key);
			goto out;
		}
		*size += (uint64_t)n;
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	free(path);
	return rc;
}

struct walk {
	struct chored_store *st;
	const char *prefix; /* full prefix */
	struct entry {
		char *key;
		uint64_t size;
		int64_t mtime;
	} * v;
	size_t n, cap;
};

static int walk_add(struct walk *w, const char *key, const struct stat *sb)
{
	if (w->n == w->cap) {
		size_t cap = w->cap ? 2 * w->cap : 64;
		struct entry *v = realloc(w->v, cap * sizeof *v);
		if (!v)
			return -1;
		w->v = v;
		w->cap = cap;
	}
	if (!(w->v[w->n].key = strdup(key)))
		return -1;
	w->v[w->n].size = (uint64_t)sb->st_size;
	w->v[w->n].mtime = (int64_t)sb->st_mtim.tv_sec;
	w->n++;
	return 0;
}

/* Walks directory `rel` ("" = the store's directory), keeping files whose key starts
 * with the prefix and descending only into directories that can hold such keys. */
static int walk_dir(struct walk *w, const char *rel)
{
	char *path = malloc(strlen(w->st->dir) + strlen(rel) + 2);
	if (!path)
		return -1;
	sprintf(path, "%s%s%s", w->st->dir, *rel ? "/" : "", rel);
	DIR *d = opendir(path);
	int rc = 0;
	if (!d) {
		if (errno != ENOENT && errno != ENOTDIR) {
			store_set_error(w->st, "%s: %s", path, strerror(errno));
			rc = -1;
		}
		free(path);
		return rc;
	}
	size_t plen = strlen(w->prefix);
	struct dirent *e;
	while (rc == 0 && (e = readdir(d))) {
		if (e->d_name[0] == '.' && (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
		                            !strncmp(e->d_name, TMP_PREFIX, strlen(TMP_PREFIX))))
			continue;
		struct stat sb;
		if (fstatat(dirfd(d), e->d_name, &sb, AT_SYMLINK_NOFOLLOW) != 0)
			continue; /* removed meanwhile */
		char *key = malloc(strlen(rel) + strlen(e->d_name) + 2);
		if (!key) {
			rc = -1;
			break;
		}
		sprintf(key, "%s%s%s", rel, *rel ? "/" : "", e->d_name);
		size_t klen = strlen(key);
		if (S_ISDIR(sb.st_mode)) {
			/* Keys below it start with key + "/": they can match the prefix when
			 * both agree on their common length. */
			size_t m = klen < plen ? klen : plen;
			if (strncmp(key, w->prefix, m) == 0 &&
			    (plen <= klen || w->prefix[klen] == '/'))
				rc = walk_dir(w, key);
		} else if (S_ISREG(sb.st_mode) && strncmp(key, w->prefix, plen) == 0) {
			if (walk_add(w, key, &sb))
				rc = -1;
		}
		free(key);
	}
	closedir(d);
	free(path);
	if (rc && !w->st->err[0])
		store_set_error(w->st, "out of memory");
	return rc;
}

static int entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->key, ((const struct entry *)b)->key);
}

static int file_list(struct chored_store *st, const char *prefix, size_t strip,
                     int (*each)(const struct chored_store_object *obj, void *data), void *data)
{
	struct walk w = {.st = st, .prefix = prefix};
	int rc = walk_dir(&w, "");
	if (rc == 0) {
		if (w.n) /* qsort(NULL, 0, …) is undefined (UBSan stops the run) */
			qsort(w.v, w.n, sizeof *w.v, entry_cmp);
		for (size_t i = 0; i < w.n && rc == 0; i++) {
			struct chored_store_object o = {w.v[i].key + strip, w.v[i].size,
			                                w.v[i].mtime, ""};
			rc = each(&o, data);
		}
	}
	for (size_t i = 0; i < w.n; i++)
		free(w.v[i].key);
	free(w.v);
	return rc;
}

static int file_del(struct chored_store *st, const char *key)
{
	char *path = path_of(st, key);
	int rc = -1;
	if (!path)
		return -1;
	if (unlink(path) == 0 || errno == ENOENT || errno == ENOTDIR)
		rc = 0;
	else
		store_set_error(st, "%s: unlink: %s", path, strerror(errno));
	free(path);
	return rc;
}

static int file_del_many(struct chored_store *st, const char *const *keys, size_t n, size_t strip,
                         void (*failed)(const char *key, const char *code, const char *message,
                                        void *data),
                         void *data)
{
	int errors = 0;
	for (size_t i = 0; i < n; i++) {
		char *path = path_of(st, keys[i]);
		if (!path)
			return -1;
		if (unlink(path) != 0 && errno != ENOENT && errno != ENOTDIR) {
			errors++;
			if (failed)
				failed(keys[i] + strip,
				       errno == EACCES || errno == EPERM ? "AccessDenied"
				                                         : "InternalError",
				       strerror(errno), data);
		}
		free(path);
	}
	if (errors)
		store_set_error(st, "%d of %zu keys could not be deleted", errors, n);
	return errors;
}

static const struct store_ops file_ops = {
    .put = file_put,
    .get = file_get,
    .list = file_list,
    .del = file_del,
    .del_many = file_del_many,
};

int store_file_open(struct chored_store *st, const char *rest, char *err, size_t errlen)
{
	if (rest[0] != '/') {
		snprintf(err, errlen,
		         "file store URL needs an absolute path (file:///DIR), got \"file://%s\"",
		         rest);
		return -1;
	}
	if (strchr(rest, '?') || strchr(rest, '#')) {
		snprintf(err, errlen, "file store URL takes no query or fragment: \"file://%s\"",
		         rest);
		return -1;
	}
	char *dir = store_uri_decode(rest);
	if (!dir) {
		snprintf(err, errlen, "file store URL has a bad %%-escape: \"file://%s\"", rest);
		return -1;
	}
	size_t n = strlen(dir);
	while (n > 1 && dir[n - 1] == '/')
		dir[--n] = '\0';
	struct stat sb;
	const char *why = stat(dir, &sb) != 0    ? strerror(errno)
	                  : !S_ISDIR(sb.st_mode) ? "not a directory"
	                                         : NULL;
	if (why) {
		snprintf(err, errlen, "file store directory %s: %s", dir, why);
		free(dir);
		return -1;
	}
	if (strcmp(dir, "/") == 0)
		dir[0] = '\0'; /* keys are joined as DIR "/" KEY */
	st->dir = dir;
	st->base = strdup("");
	st->describe = malloc(strlen(dir) + 16);
	if (!st->base || !st->describe) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	sprintf(st->describe, "file://%s", *dir ? dir : "/");
	st->ops = &file_ops;
	return 0;
}

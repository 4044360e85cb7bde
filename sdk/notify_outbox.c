/* The outbox sink: each report as one message in a Maildir (key `path`, default
 * STATE_DIR/outbox), delivered the Maildir way: written and fsync'ed under tmp/ with a
 * unique name, then renamed into new/, so a reader never sees half a message. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "job_impl.h"
#include "notify_impl.h"

/* mkdir -p with mode 0700 for what it creates. */
static int mkdirs(const char *path, char *err, size_t errlen)
{
	char *p = strdup(path);
	if (!p)
		abort();
	for (char *s = p + 1;; s++) {
		bool end = *s == '\0';
		if (*s == '/' || end) {
			*s = '\0';
			if (mkdir(p, 0700) < 0 && errno != EEXIST) {
				snprintf(err, errlen, "cannot create %s: %s", p, strerror(errno));
				free(p);
				return -1;
			}
			if (end)
				break;
			*s = '/';
		}
	}
	free(p);
	struct stat sb;
	if (stat(path, &sb) < 0 || !S_ISDIR(sb.st_mode)) {
		snprintf(err, errlen, "%s is not a directory", path);
		return -1;
	}
	return 0;
}

static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	close(fd);
	return rc;
}

/* Maildir file names must not hold '/' or ':' (the info separator): the host name's are
 * replaced by their octal escapes, as qmail does. */
static void safe_host(char *out, size_t len)
{
	char host[256];
	notify_hostname(host, sizeof host);
	size_t o = 0;
	for (const char *h = host; *h && o + 5 < len; h++) {
		if (*h == '/')
			o += (size_t)snprintf(out + o, len - o, "\\057");
		else if (*h == ':')
			o += (size_t)snprintf(out + o, len - o, "\\072");
		else
			out[o++] = *h;
	}
	out[o] = '\0';
}

static int write_all(int fd, const char *s, size_t n)
{
	while (n) {
		ssize_t k = write(fd, s, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		s += k;
		n -= (size_t)k;
	}
	return 0;
}

int notify_outbox_send(struct chored_job *job, const struct notify_sink *sink,
                       const struct chored_report *r, const char *subject, char *err, size_t errlen)
{
	const char *base = notify_key(sink, "path");
	char *dflt = NULL;
	if (!base || !*base) {
		const struct job_notify *n = job->notify;
		if (asprintf(&dflt, "%s/outbox", n && n->state_dir ? n->state_dir : ".") < 0)
			abort();
		base = dflt;
	}
	char *tmpd = NULL, *newd = NULL, *curd = NULL, *tmpf = NULL, *newf = NULL;
	int rc = -1, fd = -1;
	bool created = false;
	if (asprintf(&tmpd, "%s/tmp", base) < 0 || asprintf(&newd, "%s/new", base) < 0 ||
	    asprintf(&curd, "%s/cur", base) < 0)
		abort();
	if (mkdirs(tmpd, err, errlen) < 0 || mkdirs(newd, err, errlen) < 0 ||
	    mkdirs(curd, err, errlen) < 0)
		goto out;
	char *msg = notify_build_mail(job, r, subject, NULL, NULL, "\n", err, errlen);
	if (!msg)
		goto out;
	char host[256], rnd[17];
	safe_host(host, sizeof host);
	notify_random_hex(rnd, 8);
	if (asprintf(&tmpf, "%s/%" PRId64 ".P%ldR%s.%s", tmpd, chored_job_now(job), (long)getpid(),
	             rnd, host) < 0 ||
	    asprintf(&newf, "%s/%s", newd, strrchr(tmpf, '/') + 1) < 0)
		abort();
	fd = open(tmpf, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	created = fd >= 0;
	if (fd < 0) {
		snprintf(err, errlen, "cannot create %s: %s", tmpf, strerror(errno));
	} else if (write_all(fd, msg, strlen(msg)) < 0 || fsync(fd) < 0) {
		snprintf(err, errlen, "cannot write %s: %s", tmpf, strerror(errno));
	} else if (close(fd) < 0) {
		fd = -1;
		snprintf(err, errlen, "cannot write %s: %s", tmpf, strerror(errno));
	} else if (fd = -1, rename(tmpf, newf) < 0) {
		snprintf(err, errlen, "cannot move %s into new/: %s", tmpf, strerror(errno));
	} else {
		fsync_dir(newd); /* the rename itself survives a crash */
		rc = 0;
	}
	free(msg);
	if (fd >= 0)
		close(fd);
	if (rc < 0 && created)
		unlink(tmpf); /* nothing half-written is left behind */
out:
	free(dflt);
	free(tmpd);
	free(newd);
	free(curd);
	free(tmpf);
	free(newf);
	return rc;
}

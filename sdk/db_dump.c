/* Dump and restore, whatever the backend: the buffered dump sink, the file variants, and
 * restore (a script split into statements, run in one transaction where there are any). */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "db_impl.h"

int db_flush(struct db_out *o)
{
	if (o->failed)
		return -1;
	if (o->len && o->write(o->buf, o->len, o->data) != 0)
		o->failed = true;
	o->len = 0;
	return o->failed ? -1 : 0;
}

int db_putn(struct db_out *o, const char *s, size_t len)
{
	while (len && !o->failed) {
		if (o->len == sizeof o->buf && db_flush(o) < 0)
			break;
		size_t take = sizeof o->buf - o->len;
		if (take > len)
			take = len;
		memcpy(o->buf + o->len, s, take);
		o->len += take;
		s += take;
		len -= take;
	}
	return o->failed ? -1 : 0;
}

int db_put(struct db_out *o, const char *s)
{
	return db_putn(o, s, strlen(s));
}

int db_putf(struct db_out *o, const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof buf) {
		o->failed = true; /* only short numbers and names are formatted */
		return -1;
	}
	return db_putn(o, buf, (size_t)n);
}

/* `s` between `q` quotes, each `q` inside doubled. */
static int put_quoted(struct db_out *o, const char *s, size_t len, char q)
{
	if (db_putn(o, &q, 1) < 0)
		return -1;
	const char *end = s + len;
	while (s < end) {
		const char *hit = memchr(s, q, (size_t)(end - s));
		size_t run = hit ? (size_t)(hit - s) + 1 : (size_t)(end - s);
		if (db_putn(o, s, run) < 0 || (hit && db_putn(o, &q, 1) < 0))
			return -1;
		s += run;
	}
	return db_putn(o, &q, 1);
}

int db_put_literal(struct db_out *o, const char *s, size_t len)
{
	return put_quoted(o, s, len, '\'');
}

int db_put_ident(struct db_out *o, const char *s)
{
	return put_quoted(o, s, strlen(s), '"');
}

int chored_db_dump(struct chored_db *db, chored_db_write_fn write, void *data)
{
	db->err[0] = '\0';
	if (db->open_rows)
		return db_fail(db,
		               "%s: a result set is still open: chored_db_rows_free it "
		               "before the next call",
		               db->ops->name);
	struct db_out *o = calloc(1, sizeof *o);
	if (!o)
		return db_fail(db, "%s: out of memory", db->ops->name);
	o->write = write;
	o->data = data;
	int rc = db->ops->dump(db, o);
	if (rc == 0 && db_flush(o) < 0)
		rc = db_fail(db, "%s: dump: the writer refused the data", db->ops->name);
	free(o);
	return rc;
}

struct file_sink {
	FILE *f;
	int err;
};

static int file_write(const void *buf, size_t len, void *data)
{
	struct file_sink *s = data;
	if (fwrite(buf, 1, len, s->f) != len) {
		s->err = errno ? errno : EIO;
		return -1;
	}
	return 0;
}

int chored_db_dump_file(struct chored_db *db, const char *path)
{
	size_t plen = strlen(path);
	char *tmp = malloc(plen + 5);
	if (!tmp)
		return db_fail(db, "%s: out of memory", db->ops->name);
	memcpy(tmp, path, plen);
	memcpy(tmp + plen, ".tmp", 5);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	struct file_sink s = {fd >= 0 ? fdopen(fd, "w") : NULL, 0};
	if (!s.f) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		free(tmp);
		return db_fail(db, "%s: dump: %s.tmp: %s", db->ops->name, path, strerror(e));
	}
	int rc = chored_db_dump(db, file_write, &s);
	if (rc < 0 && s.err)
		db_fail(db, "%s: dump: %s.tmp: %s", db->ops->name, path, strerror(s.err));
	if (rc == 0 && (fflush(s.f) != 0 || fsync(fileno(s.f)) < 0))
		rc = db_fail(db, "%s: dump: %s.tmp: %s", db->ops->name, path, strerror(errno));
	if (fclose(s.f) != 0 && rc == 0)
		rc = db_fail(db, "%s: dump: %s.tmp: %s", db->ops->name, path, strerror(errno));
	if (rc == 0 && rename(tmp, path) < 0)
		rc = db_fail(db, "%s: dump: %s: %s", db->ops->name, path, strerror(errno));
	if (rc < 0)
		unlink(tmp);
	free(tmp);
	return rc;
}

/* Statements of a restore: run one by one, or gathered into batches (d1). */
struct restore {
	struct chored_db *db;
	bool skip_txn; /* the script's own transaction statements are left out */
	int64_t done;  /* statements run so far */
	int64_t seen;  /* statements read so far */
	char **batch;  /* owned statements waiting for ops->batch */
	size_t nbatch, batch_bytes;
};

static int flush_batch(struct restore *r)
{
	if (!r->nbatch)
		return 0;
	int rc = r->db->ops->batch(r->db, (const char *const *)r->batch, r->nbatch);
	if (rc == 0)
		r->done += (int64_t)r->nbatch;
	for (size_t i = 0; i < r->nbatch; i++)
		free(r->batch[i]);
	r->nbatch = r->batch_bytes = 0;
	return rc;
}

/* Bytes of SQL gathered into one D1 request (the API takes up to 100 KB). */
#define BATCH_BYTES (90 * 1024)

static int restore_stmt(const char *stmt, void *data)
{
	struct restore *r = data;
	struct chored_db *db = r->db;
	r->seen++;
	if (r->skip_txn && db_is_txn_control(stmt))
		return 0;
	/* SQLite and D1 dumps start with PRAGMAs PostgreSQL does not know. */
	if (db->url.kind == CHORED_DB_POSTGRESQL && strncasecmp(stmt, "PRAGMA", 6) == 0)
		return 0;
	if (chored_job_cancelled(db->job))
		return db_fail(db, "%s: restore cancelled", db->ops->name);
	if (!db->ops->batch) {
		int64_t ch;
		char brief[80];
		if (db->ops->exec(db, stmt, NULL, 0, &ch) < 0) {
			char why[sizeof db->err];
			snprintf(why, sizeof why, "%s", db->err);
			return db_fail(db, "restore: statement %lld (\"%s\"): %s",
			               (long long)r->seen, db_sql_brief(stmt, brief, sizeof brief),
			               why);
		}
		r->done++;
		return 0;
	}
	size_t len = strlen(stmt);
	if (r->batch_bytes + len > BATCH_BYTES && flush_batch(r) < 0)
		return -1;
	char **nb = realloc(r->batch, (r->nbatch + 1) * sizeof *nb);
	if (!nb)
		return db_fail(db, "%s: out of memory", db->ops->name);
	r->batch = nb;
	if (!(nb[r->nbatch] = strdup(stmt)))
		return db_fail(db, "%s: out of memory", db->ops->name);
	r->nbatch++;
	r->batch_bytes += len + 1;
	return 0;
}

int chored_db_restore(struct chored_db *db, chored_db_read_fn read, void *data, int64_t *statements)
{
	if (statements)
		*statements = 0;
	db->err[0] = '\0';
	if (db->open_rows)
		return db_fail(db,
		               "%s: a result set is still open: chored_db_rows_free it "
		               "before the next call",
		               db->ops->name);
	bool own_txn = db->ops->txn && !db->in_txn;
	struct restore r = {.db = db, .skip_txn = own_txn || !db->ops->txn};
	if (own_txn && chored_db_begin(db) < 0)
		return -1;
	struct db_split sp = {0};
	char *buf = malloc(65536);
	int rc = buf ? 0 : db_fail(db, "%s: out of memory", db->ops->name);
	while (rc == 0) {
		size_t n = read(buf, 65536, data);
		if (n == (size_t)-1) {
			rc = db_fail(db, "restore: reading the script failed after %lld statements",
			             (long long)r.seen);
			break;
		}
		if (n == 0)
			break;
		rc = db_split_feed(&sp, buf, n, restore_stmt, &r);
		if (rc == -2)
			rc = db_fail(db, "%s: out of memory", db->ops->name);
		else if (rc == -3)
			rc = db_fail(db, "restore: a NUL byte in statement %lld of the script",
			             (long long)r.seen + 1);
		else if (rc)
			rc = -1;
	}
	const char *rest = rc == 0 ? db_split_rest(&sp) : NULL;
	if (rest) {
		char brief[80];
		rc = db_fail(db, "restore: statement %lld (\"%s\") is not terminated by ';'",
		             (long long)r.seen + 1, db_sql_brief(rest, brief, sizeof brief));
	}
	if (rc == 0)
		rc = flush_batch(&r);
	for (size_t i = 0; i < r.nbatch; i++)
		free(r.batch[i]);
	free(r.batch);
	free(buf);
	db_split_free(&sp);
	if (own_txn) {
		if (rc == 0) {
			rc = chored_db_commit(db);
		} else {
			char why[sizeof db->err];
			snprintf(why, sizeof why, "%s", db->err);
			chored_db_rollback(db);
			db_fail(db, "%s", why); /* the cause, not the rollback's outcome */
		}
	}
	if (statements) /* d1 is not atomic: what ran before a failure stays */
		*statements = rc == 0 || !own_txn ? r.done : 0;
	return rc;
}

static size_t file_read(void *buf, size_t len, void *data)
{
	size_t n = fread(buf, 1, len, data);
	return n == 0 && ferror((FILE *)data) ? (size_t)-1 : n;
}

int chored_db_restore_file(struct chored_db *db, const char *path, int64_t *statements)
{
	if (statements)
		*statements = 0;
	FILE *f = fopen(path, "re");
	if (!f)
		return db_fail(db, "%s: restore: %s: %s", db->ops->name, path, strerror(errno));
	int rc = chored_db_restore(db, file_read, f, statements);
	fclose(f);
	return rc;
}

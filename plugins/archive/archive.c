/* archive.so: the monthly mover (the business's CRON5). Rows of a table older than the start
 * of the current month (in the job's zone, by the SDK clock) are written month by month as
 * JSON to object storage, read back and checked (row count, sha256), reported (mail recap,
 * Notion page), and only then deleted — exactly those rows, bounded the same way, in one
 * transaction whose deleted count must equal the archived count. A store or verification
 * failure deletes nothing and fails the run; a report that did not reach every sink makes
 * it partial. chored-archive(7). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <chored/notify.h>
#include <chored/plugin.h>
#include <chored/time.h>

#include "archive.h"

static const struct chored_option options[] = {
    {"database", CHORED_OPT_URL, CHORED_OPT_REQUIRED, NULL,
     "the source database: sqlite:///PATH or postgresql://USER@HOST/DB"},
    {"table", CHORED_OPT_STRING, 0, "events", "the table whose old rows are archived"},
    {"time_column", CHORED_OPT_STRING, 0, "created_at",
     "the row's time: UTC seconds, ISO 8601 text or a timestamp"},
    {"group_columns", CHORED_OPT_LIST, 0, "event_type path",
     "columns whose most frequent values are reported"},
    {"store", CHORED_OPT_URL, CHORED_OPT_REQUIRED, NULL,
     "where archives go: file:///DIR or s3://BUCKET[/PREFIX]?endpoint=https://HOST"},
    {"store_key_id", CHORED_OPT_STRING, CHORED_OPT_SECRET, NULL, "s3: access key id"},
    {"store_secret", CHORED_OPT_STRING, CHORED_OPT_SECRET, NULL, "s3: secret access key"},
    {"prefix", CHORED_OPT_STRING, 0, "archive", "key prefix of the archive objects"},
    {"compress", CHORED_OPT_STRING, 0, "gzip", "gzip or none"},
    {"timezone", CHORED_OPT_STRING, 0, "UTC",
     "the zone whose months are archived (the job's timezone, given by chored)"},
    {NULL, 0, 0, NULL, NULL},
};

static int load_opts(struct chored_job *job, struct ar_opts *o, const char **key, char *err,
                     size_t errlen)
{
	memset(o, 0, sizeof *o);
	o->database = chored_job_opt(job, "database");
	o->store = chored_job_opt(job, "store");
	o->key_id = chored_job_opt(job, "store_key_id");
	o->secret = chored_job_opt(job, "store_secret");
	o->table = chored_job_opt(job, "table");
	o->time_column = chored_job_opt(job, "time_column");
	o->prefix = chored_job_opt(job, "prefix");
	o->zone = chored_job_opt(job, "timezone");
	const char *c = chored_job_opt(job, "compress");
	*key = "database";
	if (!o->database || (strncmp(o->database, "sqlite://", 9) != 0 &&
	                     strncmp(o->database, "postgresql://", 13) != 0 &&
	                     strncmp(o->database, "postgres://", 11) != 0)) {
		snprintf(err, errlen, "expected sqlite:///PATH or postgresql://…");
		return -1;
	}
	*key = "store";
	if (!o->store ||
	    (strncmp(o->store, "file://", 7) != 0 && strncmp(o->store, "s3://", 5) != 0)) {
		snprintf(err, errlen, "expected file:///DIR or s3://BUCKET[/PREFIX]?endpoint=…");
		return -1;
	}
	if (strncmp(o->store, "s3://", 5) == 0 && (!o->key_id || !o->secret)) {
		*key = o->key_id ? "store_secret" : "store_key_id";
		snprintf(err, errlen, "an s3:// store needs store_key_id and store_secret");
		return -1;
	}
	*key = "table";
	if (!ar_ident_ok(o->table)) {
		snprintf(err, errlen,
		         "'%.80s' is not an identifier ([A-Za-z_][A-Za-z0-9_]*, at most 63)",
		         o->table ? o->table : "");
		return -1;
	}
	*key = "time_column";
	if (!ar_ident_ok(o->time_column)) {
		snprintf(err, errlen,
		         "'%.80s' is not an identifier ([A-Za-z_][A-Za-z0-9_]*, at most 63)",
		         o->time_column ? o->time_column : "");
		return -1;
	}
	*key = "group_columns";
	const char *g = chored_job_opt(job, "group_columns");
	snprintf(o->group_buf, sizeof o->group_buf, "%s", g ? g : "");
	for (char *save = NULL, *w = strtok_r(o->group_buf, " \t", &save); w;
	     w = strtok_r(NULL, " \t", &save)) {
		if (!ar_ident_ok(w)) {
			snprintf(err, errlen,
			         "'%.80s' is not an identifier ([A-Za-z_][A-Za-z0-9_]*)", w);
			return -1;
		}
		if (o->n_groups == AR_MAX_GROUPS) {
			snprintf(err, errlen, "at most %d columns", AR_MAX_GROUPS);
			return -1;
		}
		o->groups[o->n_groups++] = w;
	}
	*key = "prefix";
	if (!o->prefix || !ar_prefix_ok(o->prefix)) {
		snprintf(err, errlen,
		         "'%.80s' is not a key prefix (letters, digits, . _ - and / between "
		         "segments; no . or .. segment)",
		         o->prefix ? o->prefix : "");
		return -1;
	}
	*key = "compress";
	if (!c || (strcmp(c, "gzip") != 0 && strcmp(c, "none") != 0)) {
		snprintf(err, errlen, "expected gzip or none, not '%.40s'", c ? c : "");
		return -1;
	}
	o->gzip = strcmp(c, "gzip") == 0;
	*key = "timezone";
	if (chored_time_zone_check(o->zone, err, errlen) < 0)
		return -1;
	*key = NULL;
	return 0;
}

static int check(struct chored_job *job)
{
	struct ar_opts o;
	const char *key;
	char err[256];
	if (load_opts(job, &o, &key, err, sizeof err) < 0) {
		chored_job_error(job, key, "%s", err);
		return -1;
	}
	return 0;
}

/* One run's resources (owned) and months found. */
struct run {
	struct chored_job *job;
	struct ar_opts o;
	struct chored_db *db;
	struct chored_store *st;
	struct ar_sql q;
	struct ar_month *ms;
	size_t n, cap;
	size_t tried; /* months whose archiving began: the ones a failure report shows */
	char err[1024];
};

/* The smallest time value in [after, before): 1 found, 0 none, -1 error. */
static int min_time(struct run *r, int64_t after, int64_t before, int64_t *out)
{
	char *sql = ar_sql_fmt("SELECT min(%s) FROM %s WHERE %s >= ? AND %s < ?", r->q.epoch,
	                       r->q.table, r->q.epoch, r->q.epoch);
	struct chored_db_param p[] = {CHORED_DB_P_INT(after), CHORED_DB_P_INT(before)};
	struct chored_db_rows *rows = sql ? chored_db_query(r->db, sql, p, 2) : NULL;
	free(sql);
	int rc = rows ? chored_db_next(rows) : -1;
	if (rc == 1) {
		const char *v = chored_db_value(rows, 0);
		rc = v ? 1 : 0;
		if (v)
			*out = strtoll(v, NULL, 10);
	}
	if (rc < 0)
		snprintf(r->err, sizeof r->err, "%s: %s", r->o.table, chored_db_error(r->db));
	chored_db_rows_free(rows);
	return rc;
}

static struct ar_month *add_month(struct run *r, int64_t t)
{
	if (r->n == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 4;
		struct ar_month *v = realloc(r->ms, cap * sizeof *v);
		if (!v)
			return NULL;
		r->ms = v;
		r->cap = cap;
	}
	struct ar_month *m = &r->ms[r->n];
	memset(m, 0, sizeof *m);
	struct chored_tm tm;
	if (chored_time_local(r->o.zone, t, &tm) < 0)
		return NULL;
	m->year = tm.year;
	m->month = tm.month;
	m->days = chored_days_in_month(tm.year, tm.month);
	int ny = tm.month == 12 ? tm.year + 1 : tm.year, nm = tm.month == 12 ? 1 : tm.month + 1;
	if (chored_time_utc(r->o.zone, tm.year, tm.month, 1, 0, 0, 0, &m->from) < 0 ||
	    chored_time_utc(r->o.zone, ny, nm, 1, 0, 0, 0, &m->until) < 0)
		return NULL;
	r->n++;
	return m;
}

/* Finds the months that have rows before `cutoff` and counts their rows. */
static int find_months(struct run *r, int64_t cutoff)
{
	int64_t after = INT64_MIN, t;
	int rc;
	while ((rc = min_time(r, after, cutoff, &t)) == 1) {
		struct ar_month *m = add_month(r, t);
		if (!m) {
			snprintf(r->err, sizeof r->err, "cannot place %lld in a month of %s",
			         (long long)t, r->o.zone);
			return -1;
		}
		if (m->until > cutoff)
			m->until = cutoff; /* cannot happen with month bounds; kept as a guard */
		char *sql = ar_sql_fmt("SELECT count(*) FROM %s WHERE %s >= ? AND %s < ?",
		                       r->q.table, r->q.epoch, r->q.epoch);
		struct chored_db_param p[] = {CHORED_DB_P_INT(m->from), CHORED_DB_P_INT(m->until)};
		int qrc = sql ? chored_db_query_int(r->db, sql, p, 2, &m->expected) : -1;
		free(sql);
		if (qrc < 0) {
			snprintf(r->err, sizeof r->err, "%s: %s", r->o.table,
			         chored_db_error(r->db));
			return -1;
		}
		after = m->until;
	}
	return rc;
}

/* Uploads and verifies every month; -1 at the first failure (r->err). */
static int archive_months(struct run *r)
{
	struct chored_job *job = r->job;
	for (size_t i = 0; i < r->n; i++) {
		struct ar_month *m = &r->ms[i];
		r->tried = i + 1;
		char e[768];
		if (ar_pick_key(job, r->db, r->st, &r->o, &r->q, m, e, sizeof e) < 0 ||
		    ar_aggregate(r->db, &r->o, &r->q, m, e, sizeof e) < 0 ||
		    ar_upload(job, r->db, r->st, &r->o, &r->q, m, e, sizeof e) < 0) {
			snprintf(r->err, sizeof r->err, "%04d-%02d: %s", m->year, m->month, e);
			return -1;
		}
		char sz[24], cnt[24];
		snprintf(sz, sizeof sz, "%llu", (unsigned long long)m->size);
		snprintf(cnt, sizeof cnt, "%lld", (long long)m->count);
		chored_log_kv(job, CHORED_LOG_INFO, "uploaded", "key", m->key, "rows", cnt, "bytes",
		              sz, "sha256", m->sha256, NULL);
		if (ar_verify(job, r->st, &r->o, m, e, sizeof e) < 0) {
			snprintf(r->err, sizeof r->err, "%04d-%02d: %s", m->year, m->month, e);
			/* Every row of a key that fails its check is still in the table: the
			 * object is worth nothing, and a next run must not stumble on it. */
			if (chored_store_delete(r->st, m->key) < 0)
				chored_log(job, CHORED_LOG_WARNING, "removing %s: %s", m->key,
				           chored_store_error(r->st));
			return -1;
		}
		chored_log_kv(job, CHORED_LOG_INFO, "verified", "key", m->key, "rows", cnt, NULL);
		chored_counter_add(job, "rows_archived", m->count);
		chored_counter_add(job, "bytes_stored", (int64_t)m->size);
		chored_counter_add(job, "months", 1);
		chored_progress(job, i + 1, r->n);
	}
	return 0;
}

/* Deletes the archived rows of every month in one transaction; any count that differs from
 * what was archived rolls everything back. */
static int delete_rows(struct run *r, int64_t *deleted)
{
	*deleted = 0;
	if (chored_db_begin(r->db) < 0) {
		snprintf(r->err, sizeof r->err, "delete: %s", chored_db_error(r->db));
		return -1;
	}
	char *sql = ar_sql_fmt("DELETE FROM %s WHERE %s >= ? AND %s < ?", r->q.table, r->q.epoch,
	                       r->q.epoch);
	for (size_t i = 0; sql && i < r->n; i++) {
		struct ar_month *m = &r->ms[i];
		struct chored_db_param p[] = {CHORED_DB_P_INT(m->from), CHORED_DB_P_INT(m->until)};
		int64_t changes = 0;
		if (chored_db_exec(r->db, sql, p, 2, &changes) < 0) {
			snprintf(r->err, sizeof r->err, "delete %04d-%02d: %s; rolled back",
			         m->year, m->month, chored_db_error(r->db));
			goto fail;
		}
		if (changes != m->count) {
			snprintf(r->err, sizeof r->err,
			         "delete %04d-%02d: %lld rows matched, %lld archived; rolled back "
			         "(rows changed during the run: the next run archives them again)",
			         m->year, m->month, (long long)changes, (long long)m->count);
			goto fail;
		}
		*deleted += changes;
	}
	if (!sql) {
		snprintf(r->err, sizeof r->err, "out of memory");
		goto fail;
	}
	free(sql);
	if (chored_db_commit(r->db) < 0) {
		snprintf(r->err, sizeof r->err, "delete: commit: %s", chored_db_error(r->db));
		*deleted = 0;
		return -1;
	}
	return 0;
fail:
	free(sql);
	chored_db_rollback(r->db);
	*deleted = 0;
	return -1;
}

static void month_list(const struct run *r, char *buf, size_t len)
{
	size_t off = 0;
	buf[0] = 0;
	for (size_t i = 0; i < r->n && off + 12 < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%04d-%02d", i ? ", " : "",
		                        r->ms[i].year % 10000, r->ms[i].month % 100);
}

static enum chored_status fail_report(struct run *r)
{
	chored_log(r->job, CHORED_LOG_ERR, "%s", r->err);
	struct chored_report *rep =
	    ar_report(&r->o, r->st ? chored_store_describe(r->st) : r->o.store, r->ms, r->tried,
	              CHORED_FAILED, r->err);
	chored_notify(r->job, rep);
	chored_report_free(rep);
	chored_summary(r->job, "%s; nothing deleted", r->err);
	return CHORED_FAILED;
}

static enum chored_status dry_run(struct run *r)
{
	int64_t rows = 0;
	for (size_t i = 0; i < r->n; i++) {
		struct ar_month *m = &r->ms[i];
		char e[768];
		if (ar_pick_key(r->job, r->db, r->st, &r->o, &r->q, m, e, sizeof e) < 0) {
			snprintf(r->err, sizeof r->err, "%04d-%02d: %s", m->year, m->month, e);
			chored_log(r->job, CHORED_LOG_ERR, "%s", r->err);
			chored_summary(r->job, "dry run: %s", r->err);
			chored_notify(r->job, NULL);
			return CHORED_FAILED;
		}
		chored_log(
		    r->job, CHORED_LOG_NOTICE,
		    "dry run: would archive %lld row%s of %04d-%02d to %s%s and then delete them",
		    (long long)m->expected, m->expected == 1 ? "" : "s", m->year, m->month, m->key,
		    m->completes ? " (rewriting an earlier run's upload)" : "");
		rows += m->expected;
	}
	char months[256];
	month_list(r, months, sizeof months);
	chored_notify(r->job, NULL); /* a dry run sends nothing */
	if (r->n)
		chored_summary(r->job, "dry run: would archive and delete %lld row%s of %s",
		               (long long)rows, rows == 1 ? "" : "s", months);
	else
		chored_summary(r->job, "dry run: nothing to archive");
	return CHORED_OK;
}

static enum chored_status run_job(struct run *r)
{
	struct chored_job *job = r->job;
	const char *key;
	char e[512];
	if (load_opts(job, &r->o, &key, e, sizeof e) < 0) {
		snprintf(r->err, sizeof r->err, "%s: %s", key, e);
		return fail_report(r);
	}
	struct chored_db_options dbo = {.no_create = true}; /* a missing file is an error */
	r->db = chored_db_open(job, r->o.database, &dbo, e, sizeof e);
	if (!r->db) {
		snprintf(r->err, sizeof r->err, "database: %s", e);
		return fail_report(r);
	}
	struct chored_store_config sc = {.access_key_id = r->o.key_id,
	                                 .secret_access_key = r->o.secret};
	if (ar_sql_init(r->db, &r->o, &r->q, e, sizeof e) < 0) {
		snprintf(r->err, sizeof r->err, "database: %s", e);
		return fail_report(r);
	}
	if (chored_store_open(job, r->o.store, &sc, &r->st, e, sizeof e) < 0) {
		r->st = NULL;
		snprintf(r->err, sizeof r->err, "store: %s", e);
		return fail_report(r);
	}
	/* The start of the current month in the job's zone: rows from there on are never
	 * touched. */
	struct chored_tm now;
	int64_t cutoff;
	if (chored_time_local(r->o.zone, chored_job_now(job), &now) < 0 ||
	    chored_time_utc(r->o.zone, now.year, now.month, 1, 0, 0, 0, &cutoff) < 0) {
		snprintf(r->err, sizeof r->err, "time zone %s: cannot compute the month",
		         r->o.zone);
		return fail_report(r);
	}
	if (find_months(r, cutoff) < 0)
		return fail_report(r);
	char since[40];
	chored_time_iso(cutoff, now.offset, 1, since, sizeof since);
	if (chored_job_dry_run(job))
		return dry_run(r);
	if (r->n == 0) {
		chored_notify(job, NULL);
		chored_summary(job, "nothing to archive before %s", since);
		return CHORED_OK;
	}
	if (archive_months(r) < 0)
		return fail_report(r);

	struct chored_report *rep =
	    ar_report(&r->o, chored_store_describe(r->st), r->ms, r->n, CHORED_OK, NULL);
	int notify_failed = chored_notify(job, rep);
	chored_report_free(rep);

	int64_t deleted;
	if (delete_rows(r, &deleted) < 0) {
		chored_log(job, CHORED_LOG_ERR, "%s", r->err);
		struct chored_report *f = ar_report(&r->o, chored_store_describe(r->st), r->ms,
		                                    r->n, CHORED_FAILED, r->err);
		chored_notify(job, f);
		chored_report_free(f);
		chored_summary(job, "%s; the archives are stored, the rows kept", r->err);
		return CHORED_FAILED;
	}
	chored_counter_add(job, "rows_deleted", deleted);
	char months[256];
	month_list(r, months, sizeof months);
	if (notify_failed) {
		chored_summary(job,
		               "archived and deleted %lld row%s of %s; report: %d sink%s failed",
		               (long long)deleted, deleted == 1 ? "" : "s", months, notify_failed,
		               notify_failed == 1 ? "" : "s");
		return CHORED_PARTIAL;
	}
	chored_summary(job, "archived and deleted %lld row%s of %s", (long long)deleted,
	               deleted == 1 ? "" : "s", months);
	return CHORED_OK;
}

static enum chored_status run(struct chored_job *job)
{
	struct run r = {.job = job};
	enum chored_status st = run_job(&r);
	for (size_t i = 0; i < r.n; i++)
		ar_month_free(&r.ms[i]);
	free(r.ms);
	ar_sql_free(&r.q);
	chored_store_close(r.st);
	chored_db_close(r.db);
	return st;
}

CHORED_EXPORT const struct chored_plugin chored_plugin_v1 = {
    CHORED_PLUGIN_HEADER,
    .name = "archive",
    .version = "1.0",
    .summary = "monthly archive of old table rows to object storage, then delete",
    .options = options,
    .check = check,
    .run = run,
};

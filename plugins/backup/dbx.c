/* The database export: the db service's dump (SQLite, PostgreSQL, D1), streamed through
 * the row counter and the compressor into a scratch file. */
#include <stdio.h>
#include <string.h>

#include <chored/db.h>

#include "backup.h"

struct chored_db *bk_db_open(struct chored_job *job, const struct bk_opts *o, const char *url,
                             bool no_create, char *err, size_t errlen)
{
	struct chored_db_options dopts = {
	    .token = o->d1_token, .base_url = o->d1_base_url, .no_create = no_create};
	return chored_db_open(job, url, &dopts, err, errlen);
}

struct dump_sink {
	struct bk_enc *enc;
	struct bk_sql_scan scan;
	struct chored_job *job;
	uint64_t next_log;
};

static int dump_write(const void *buf, size_t len, void *data)
{
	struct dump_sink *d = data;
	bk_sql_scan_feed(&d->scan, buf, len);
	if (bk_enc_write(d->enc, buf, len) < 0)
		return -1;
	if (d->scan.rows >= (int64_t)d->next_log) {
		chored_progress(d->job, (uint64_t)d->scan.rows, 0);
		d->next_log += 100000;
	}
	return 0;
}

static void source_version(struct chored_db *db, struct bk_db_info *info)
{
	const char *sql = NULL;
	switch (chored_db_kind(db)) {
	case CHORED_DB_SQLITE:
		snprintf(info->kind, sizeof info->kind, "sqlite");
		sql = "SELECT sqlite_version()";
		break;
	case CHORED_DB_POSTGRESQL:
		snprintf(info->kind, sizeof info->kind, "postgresql");
		sql = "SHOW server_version";
		break;
	case CHORED_DB_D1:
		snprintf(info->kind, sizeof info->kind, "d1");
		snprintf(info->version, sizeof info->version, "d1 export API");
		return;
	}
	struct chored_db_rows *rows = chored_db_query(db, sql, NULL, 0);
	if (rows && chored_db_next(rows) == 1 && chored_db_value(rows, 0))
		snprintf(info->version, sizeof info->version, "%s", chored_db_value(rows, 0));
	else
		snprintf(info->version, sizeof info->version, "unknown");
	chored_db_rows_free(rows);
}

int bk_db_export(struct chored_job *job, const struct bk_opts *o, enum bk_compress c,
                 const char *dir, struct bk_file *out, struct bk_db_info *info, char *err,
                 size_t errlen)
{
	memset(info, 0, sizeof *info);
	snprintf(out->base, sizeof out->base, "db.sql");
	snprintf(out->name, sizeof out->name, "db.sql%s", bk_compress_suffix(c));
	snprintf(out->path, sizeof out->path, "%s/%s", dir, out->name);
	char oerr[512];
	struct chored_db *db = bk_db_open(job, o, o->database, true, oerr, sizeof oerr);
	if (!db) {
		snprintf(err, errlen, "database: %s", oerr);
		return -1;
	}
	snprintf(info->url, sizeof info->url, "%s", chored_db_url(db));
	source_version(db, info);
	struct dump_sink d = {.job = job, .next_log = 100000};
	bk_sql_scan_init(&d.scan);
	d.enc = bk_enc_open(c, out->path, oerr, sizeof oerr);
	int rc = -1;
	if (!d.enc) {
		snprintf(err, errlen, "db.sql: %s", oerr);
	} else if (chored_db_dump(db, dump_write, &d) < 0) {
		snprintf(err, errlen, "database dump: %s%s%s", chored_db_error(db),
		         *bk_enc_error(d.enc) ? ": " : "", bk_enc_error(d.enc));
	} else if (bk_enc_finish(d.enc, &out->size, &out->raw, out->sha256) < 0) {
		snprintf(err, errlen, "db.sql: %s", bk_enc_error(d.enc));
	} else {
		out->records = d.scan.rows;
		out->tables = d.scan.tables;
		out->n_tables = d.scan.n_tables;
		d.scan.tables = NULL;
		d.scan.n_tables = 0;
		rc = 0;
	}
	bk_enc_free(d.enc);
	bk_sql_scan_free(&d.scan);
	chored_db_close(db);
	return rc;
}

/* backup.so: the monthly backup (the business's CRON1). Exports the Kit subscribers and
 * tags and the site database into compressed files with a manifest, stores them under
 * PREFIX/YYYY-MM/ (manifest last: a set is complete exactly when its manifest exists),
 * applies the retention, runs the restore test on the configured months and sends a recap.
 * chored-backup(7). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <chored/notify.h>
#include <chored/plugin.h>
#include <chored/report.h>
#include <chored/time.h>

#include "backup.h"
#include "commands.h"

static const struct chored_option options[] = {
    {"database", CHORED_OPT_URL, 0, NULL,
     "database to dump: sqlite:///PATH, postgresql://…, d1://ACCOUNT/DB"},
    {"d1_token", CHORED_OPT_STRING, CHORED_OPT_SECRET, NULL, "Cloudflare API token (d1://)"},
    {"d1_base_url", CHORED_OPT_URL, 0, "https://api.cloudflare.com/client/v4",
     "Cloudflare API base URL (d1://)"},
    {"kit_api_key", CHORED_OPT_STRING, CHORED_OPT_SECRET, NULL,
     "Kit API v4 key; without it the Kit export is skipped"},
    {"kit_base_url", CHORED_OPT_URL, 0, "https://api.kit.com", "Kit API base URL"},
    {"store", CHORED_OPT_URL, 0, NULL,
     "where sets go: file:///DIR or s3://BUCKET/PREFIX?endpoint=… (default: "
     "file://STATE_DIR/backups, STATE_DIR being the daemon's state directory)"},
    {"store_key_id", CHORED_OPT_STRING, CHORED_OPT_SECRET, NULL, "s3:// access key id"},
    {"store_secret", CHORED_OPT_STRING, CHORED_OPT_SECRET, NULL, "s3:// secret access key"},
    {"prefix", CHORED_OPT_STRING, 0, NULL, "key prefix of the sets (default: the job name)"},
    {"compress", CHORED_OPT_STRING, 0, "gzip", "gzip, zstd or none"},
    {"retention", CHORED_OPT_INT, 0, "12", "months of sets kept"},
    {"restore_test_months", CHORED_OPT_LIST, 0, "1 4 7 10",
     "months whose 1st runs the restore test"},
    {"restore_target", CHORED_OPT_URL, 0, NULL,
     "scratch database of the restore test (default: "
     "sqlite://STATE_DIR/backup-restore-test.db)"},
    {"force", CHORED_OPT_BOOL, 0, "no", "redo a month whose set is already complete"},
    {NULL, 0, 0, NULL, NULL},
};

static int check(struct chored_job *job)
{
	struct bk_opts o;
	const char *key;
	char err[512];
	if (bk_opts_load(job, &o, &key, err, sizeof err) < 0) {
		chored_job_error(job, key, "%s", err);
		return -1;
	}
	return 0;
}

/* What one run did, for the recap. */
struct outcome {
	struct bk_file files[3];
	size_t n_files;
	struct bk_db_info dbi;
	bool have_db;
	char export_err[1024];
	bool stored, skipped;
	int deleted, retention_failed;
	char retention_err[512];
	char retention_list[2048];
	bool restore_ran, restore_ok;
	char restore_month[8];
	struct bk_verify ver;
};

static struct json_object *manifest_json(struct chored_job *job, const struct bk_opts *o,
                                         const char *month, const struct outcome *out)
{
	struct json_object *m = json_object_new_object(), *files = json_object_new_array();
	char iso[40];
	json_object_object_add(m, "format", json_object_new_string(BK_FORMAT));
	json_object_object_add(m, "job", json_object_new_string(chored_job_name(job)));
	json_object_object_add(m, "set", json_object_new_string(month));
	chored_time_iso(chored_job_nominal_time(job), 0, 1, iso, sizeof iso);
	json_object_object_add(m, "nominal", json_object_new_string(iso));
	chored_time_iso(chored_job_now(job), 0, 1, iso, sizeof iso);
	json_object_object_add(m, "created", json_object_new_string(iso));
	json_object_object_add(m, "compress",
	                       json_object_new_string(bk_compress_name(o->compress)));
	struct json_object *src = json_object_new_object(), *s;
	s = json_object_new_object();
	json_object_object_add(s, "plugin", json_object_new_string("backup " BK_VERSION));
	json_object_object_add(s, "libchored", json_object_new_string(chored_version()));
	json_object_object_add(src, "chored", s);
	if (out->have_db) {
		s = json_object_new_object();
		json_object_object_add(s, "kind", json_object_new_string(out->dbi.kind));
		json_object_object_add(s, "version", json_object_new_string(out->dbi.version));
		json_object_object_add(s, "url", json_object_new_string(out->dbi.url));
		json_object_object_add(src, "database", s);
	}
	if (o->kit_api_key) {
		s = json_object_new_object();
		json_object_object_add(s, "api", json_object_new_string("v4"));
		json_object_object_add(s, "base_url", json_object_new_string(o->kit_base_url));
		json_object_object_add(src, "kit", s);
	}
	json_object_object_add(m, "sources", src);
	for (size_t i = 0; i < out->n_files; i++) {
		const struct bk_file *f = &out->files[i];
		struct json_object *e = json_object_new_object();
		json_object_object_add(e, "name", json_object_new_string(f->name));
		json_object_object_add(e, "content", json_object_new_string(f->base));
		json_object_object_add(e, "size", json_object_new_int64((int64_t)f->size));
		json_object_object_add(e, "raw_size", json_object_new_int64((int64_t)f->raw));
		json_object_object_add(e, "records", json_object_new_int64(f->records));
		json_object_object_add(e, "sha256", json_object_new_string(f->sha256));
		if (strcmp(f->base, "kit-tags.json") == 0)
			json_object_object_add(e, "tagged", json_object_new_int64(f->nested));
		if (strcmp(f->base, "db.sql") == 0) {
			struct json_object *t = json_object_new_object();
			for (size_t k = 0; k < f->n_tables; k++)
				json_object_object_add(t, f->tables[k].name,
				                       json_object_new_int64(f->tables[k].rows));
			json_object_object_add(e, "tables", t);
		}
		json_object_array_add(files, e);
	}
	json_object_object_add(m, "files", files);
	return m;
}

/* Exports every configured source into scratch files. */
static int export_all(struct chored_job *job, const struct bk_opts *o, const char *dir,
                      struct outcome *out)
{
	if (o->kit_api_key) {
		if (bk_kit_export(job, o, o->compress, dir, &out->files[0], &out->files[1],
		                  out->export_err, sizeof out->export_err) < 0)
			return -1;
		out->n_files = 2;
		chored_counter_add(job, "subscribers", out->files[0].records);
		chored_counter_add(job, "tags", out->files[1].records);
	}
	if (o->database) {
		struct bk_file *f = &out->files[out->n_files];
		if (bk_db_export(job, o, o->compress, dir, f, &out->dbi, out->export_err,
		                 sizeof out->export_err) < 0)
			return -1;
		out->have_db = true;
		out->n_files++;
		chored_counter_add(job, "rows", f->records);
	}
	return 0;
}

/* Uploads the files, removes objects of an earlier attempt that are no longer part of the
 * set, and stores the manifest last. */
static int store_set(struct chored_job *job, struct chored_store *st, const struct bk_opts *o,
                     const char *month, struct outcome *out, bool replace)
{
	char *man = bk_key(o->prefix, month, BK_MANIFEST);
	int rc = 0;
	if (replace && chored_store_delete(st, man) < 0) { /* force: the old set is void now */
		snprintf(out->export_err, sizeof out->export_err, "%s", chored_store_error(st));
		free(man);
		return -1;
	}
	for (size_t i = 0; rc == 0 && i < out->n_files; i++) {
		struct bk_file *f = &out->files[i];
		char *key = bk_key(o->prefix, month, f->name);
		struct chored_store_put_info info;
		if (chored_store_put_file(st, key, f->path, &info) < 0) {
			snprintf(out->export_err, sizeof out->export_err, "store %s: %s", f->name,
			         chored_store_error(st));
			rc = -1;
		} else if (info.size != f->size) {
			snprintf(out->export_err, sizeof out->export_err,
			         "store %s: %llu bytes stored of %llu", f->name,
			         (unsigned long long)info.size, (unsigned long long)f->size);
			rc = -1;
		} else {
			chored_counter_add(job, "bytes_stored", (int64_t)f->size);
		}
		free(key);
	}
	char **keys = NULL;
	size_t n = 0;
	char err[512];
	if (rc == 0 && bk_set_keys(st, o->prefix, month, &keys, &n, err, sizeof err) < 0) {
		snprintf(out->export_err, sizeof out->export_err, "%s", err);
		rc = -1;
	}
	for (size_t i = 0; rc == 0 && i < n; i++) {
		const char *base = strrchr(keys[i], '/') + 1;
		bool ours = strcmp(base, BK_MANIFEST) == 0;
		for (size_t k = 0; !ours && k < out->n_files; k++)
			ours = strcmp(base, out->files[k].name) == 0;
		if (!ours && chored_store_delete(st, keys[i]) < 0) {
			snprintf(out->export_err, sizeof out->export_err, "%s",
			         chored_store_error(st));
			rc = -1;
		}
	}
	bk_keys_free(keys, n);
	if (rc == 0) {
		struct json_object *m = manifest_json(job, o, month, out);
		const char *text = json_object_to_json_string_ext(m, JSON_C_TO_STRING_PRETTY |
		                                                         JSON_C_TO_STRING_SPACED);
		char path[4200];
		snprintf(path, sizeof path, "%s", out->files[0].path);
		char *slash = strrchr(path, '/');
		snprintf(slash + 1, sizeof path - (size_t)(slash + 1 - path), "%s", BK_MANIFEST);
		FILE *fp = fopen(path, "we");
		if (!fp || fputs(text, fp) < 0 || fputc('\n', fp) < 0 || fclose(fp) != 0) {
			snprintf(out->export_err, sizeof out->export_err,
			         "cannot write the manifest in the scratch directory: %s",
			         strerror(errno));
			rc = -1;
		} else if (chored_store_put_file(st, man, path, NULL) < 0) {
			snprintf(out->export_err, sizeof out->export_err, "store %s: %s",
			         BK_MANIFEST, chored_store_error(st));
			rc = -1;
		}
		json_object_put(m);
	}
	free(man);
	return rc;
}

static void recap(struct chored_report *r, const struct bk_opts *o, const char *month,
                  const struct outcome *out, const char *where)
{
	if (out->skipped)
		chored_report_paragraph(r,
		                        "Set %s is already complete in %s: nothing changed "
		                        "(force = yes redoes it).",
		                        month, where);
	if (out->export_err[0]) {
		chored_report_heading(r, 2, "Backup failed");
		chored_report_paragraph(r, "%s", out->export_err);
		chored_report_paragraph(
		    r, "No manifest was written for %s and nothing was deleted.", month);
	}
	if (out->n_files) {
		chored_report_heading(r, 2, out->stored ? "Files stored" : "Files exported");
		static const char *const head[] = {"File", "Size", "Records", "sha256"};
		chored_report_table_begin(r, 4, head);
		for (size_t i = 0; i < out->n_files; i++) {
			const struct bk_file *f = &out->files[i];
			char sz[32], rec[48], sha[20];
			bk_human_size(f->size, sz, sizeof sz);
			if (strcmp(f->base, "kit-tags.json") == 0)
				snprintf(rec, sizeof rec, "%lld (%lld tagged)",
				         (long long)f->records, (long long)f->nested);
			else
				snprintf(rec, sizeof rec, "%lld", (long long)f->records);
			snprintf(sha, sizeof sha, "%.12s…", f->sha256);
			const char *cells[] = {f->name, sz, rec, sha};
			chored_report_table_row(r, cells);
		}
		chored_report_table_end(r);
		if (out->stored)
			chored_report_paragraph(r, "Stored under %s/%s/ in %s (compression %s).",
			                        o->prefix, month, where,
			                        bk_compress_name(o->compress));
	}
	if (out->stored) {
		chored_report_heading(r, 2, "Retention");
		if (out->retention_failed < 0)
			chored_report_paragraph(r, "Not applied: %s", out->retention_err);
		else if (!out->retention_list[0])
			chored_report_paragraph(r, "No set older than %d months to delete.",
			                        o->retention);
		else {
			chored_report_paragraph(r,
			                        "Sets older than %d months (the newest %d complete "
			                        "sets are always kept):",
			                        o->retention, o->retention);
			chored_report_list_begin(r, false);
			for (const char *p = out->retention_list; *p;) {
				size_t n = strcspn(p, "\n");
				chored_report_list_item(r, "%.*s", (int)n, p);
				p += n + (p[n] == '\n');
			}
			chored_report_list_end(r);
		}
	}
	if (out->restore_ran) {
		chored_report_heading(r, 2, "Restore test");
		chored_report_paragraph(r, "%s: %s", out->restore_month,
		                        out->restore_ok ? "passed" : out->ver.problems);
	}
}

static enum chored_status run(struct chored_job *job)
{
	struct bk_opts o;
	const char *key;
	char err[1024];
	if (bk_opts_load(job, &o, &key, err, sizeof err) < 0) {
		chored_summary(job, "%s: %s", key ? key : "options", err);
		return CHORED_FAILED;
	}
	char month[8];
	int64_t nominal = chored_job_nominal_time(job);
	bk_month_of(nominal, month);
	struct chored_store *st = bk_store_open(job, &o, err, sizeof err);
	if (!st) {
		chored_summary(job, "store: %s", err);
		return CHORED_FAILED;
	}
	struct outcome *out = calloc(1, sizeof *out);
	if (!out) {
		chored_store_close(st);
		return CHORED_FAILED;
	}
	char title[128];
	snprintf(title, sizeof title, "Backup %s", month);
	struct chored_report *r = chored_report_new(title);
	enum chored_status status = CHORED_OK;
	char *dir = NULL;
	bool missing = false, complete = false;
	struct json_object *prev = bk_manifest_get(st, o.prefix, month, &missing, err, sizeof err);
	complete = prev != NULL;
	json_object_put(prev);
	if (!complete && !missing) {
		/* The store cannot tell: doing anything could destroy a good set. */
		snprintf(out->export_err, sizeof out->export_err, "%s", err);
		status = CHORED_FAILED;
	} else if (complete && !o.force) {
		out->skipped = true;
		chored_log(job, CHORED_LOG_NOTICE, "set %s is already complete: nothing to do",
		           month);
	} else if (chored_job_dry_run(job)) {
		chored_summary(job, "dry run: would back up %s%s%s into %s/%s/",
		               o.kit_api_key ? "Kit" : "",
		               o.kit_api_key && o.database ? " and " : "",
		               o.database ? "the database" : "", o.prefix, month);
		chored_report_free(r);
		chored_store_close(st);
		free(out);
		return CHORED_OK;
	} else if (!(dir = bk_scratch_dir(out->export_err, sizeof out->export_err)) ||
	           export_all(job, &o, dir, out) < 0 ||
	           store_set(job, st, &o, month, out, complete) < 0) {
		chored_log(job, CHORED_LOG_ERR, "backup %s failed: %s", month, out->export_err);
		status = CHORED_FAILED;
	} else {
		out->stored = true;
		chored_log(job, CHORED_LOG_NOTICE, "set %s complete: %zu files", month,
		           out->n_files);
		out->retention_failed = bk_retention(job, st, &o, month, out->retention_list,
		                                     sizeof out->retention_list, &out->deleted,
		                                     out->retention_err, sizeof out->retention_err);
		if (out->retention_failed)
			status = CHORED_PARTIAL;
	}
	/* The restore test on the configured months' 1st, on the newest complete set. */
	int y, mo, d;
	chored_civil_from_days(nominal / 86400, &y, &mo, &d);
	if (status != CHORED_FAILED && d == 1 && o.restore_month[mo]) {
		out->restore_ran = true;
		if (bk_newest_complete(st, &o, out->restore_month, err, sizeof err) < 0) {
			snprintf(out->ver.problems, sizeof out->ver.problems, "%s", err);
		} else {
			out->restore_ok = bk_verify_set(job, st, &o, out->restore_month, true, NULL,
			                                &out->ver) == 0;
		}
		chored_log(job, out->restore_ok ? CHORED_LOG_NOTICE : CHORED_LOG_ERR,
		           "restore test of %s: %s", out->restore_month,
		           out->restore_ok ? "passed" : out->ver.problems);
		if (!out->restore_ok)
			status = CHORED_FAILED;
	}
	char rt[600] = "";
	if (out->restore_ran)
		snprintf(rt, sizeof rt, "; restore test of %s %s%.500s", out->restore_month,
		         out->restore_ok ? "passed" : "FAILED: ",
		         out->restore_ok ? "" : out->ver.problems);
	if (out->skipped) {
		chored_summary(job, "set %s already complete: nothing changed%s", month, rt);
	} else {
		char files[256] = "";
		size_t n = 0;
		for (size_t i = 0; i < out->n_files; i++) {
			char sz[32];
			bk_human_size(out->files[i].size, sz, sizeof sz);
			n += (size_t)snprintf(files + n, n < sizeof files ? sizeof files - n : 0,
			                      "%s%s %lld records %s", i ? ", " : "",
			                      out->files[i].base, (long long)out->files[i].records,
			                      sz);
			if (n >= sizeof files)
				n = sizeof files - 1;
		}
		if (out->stored)
			chored_summary(job, "set %s stored: %s; %d expired set%s deleted%s", month,
			               files, out->deleted, out->deleted == 1 ? "" : "s", rt);
		else
			chored_summary(job, "set %s not stored: %s", month, out->export_err);
	}
	chored_report_set_status(r, status);
	recap(r, &o, month, out, chored_store_describe(st));
	chored_notify(job, r);
	chored_report_free(r);
	for (size_t i = 0; i < out->n_files; i++)
		bk_file_free(&out->files[i]);
	bk_scratch_free(dir);
	free(out);
	chored_store_close(st);
	return status;
}

/* The host has already marked the job cancelled: the export loops, the dump and the store
 * stop at their next check, and run() removes its scratch files before returning. */
static void cancel(struct chored_job *job)
{
	(void)job;
}

CHORED_EXPORT const struct chored_plugin chored_plugin_v1 = {
    CHORED_PLUGIN_HEADER,
    .name = "backup",
    .version = BK_VERSION,
    .summary = "monthly backup of Kit and a database, with retention and restore test",
    .options = options,
    .commands = bk_commands,
    .check = check,
    .run = run,
    .cancel = cancel,
};

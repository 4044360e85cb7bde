/* Options of a backup job, their checks, and small helpers shared by the plugin's files. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chored/time.h>

#include "backup.h"

const char *bk_compress_name(enum bk_compress c)
{
	return c == BK_GZIP ? "gzip" : c == BK_ZSTD ? "zstd" : "none";
}

const char *bk_compress_suffix(enum bk_compress c)
{
	return c == BK_GZIP ? ".gz" : c == BK_ZSTD ? ".zst" : "";
}

int bk_compress_parse(const char *s, enum bk_compress *c)
{
	if (!s || strcmp(s, "gzip") == 0)
		*c = BK_GZIP;
	else if (strcmp(s, "zstd") == 0)
		*c = BK_ZSTD;
	else if (strcmp(s, "none") == 0)
		*c = BK_NONE;
	else
		return -1;
	return 0;
}

void bk_month_of(int64_t utc, char buf[8])
{
	int y, m, d;
	int64_t days = utc >= 0 ? utc / 86400 : -((-utc + 86399) / 86400);
	chored_civil_from_days(days, &y, &m, &d);
	y = y < 0 ? 0 : y % 10000;
	m = m < 1 || m > 12 ? 1 : m;
	snprintf(buf, 8, "%04d-%02d", y, m);
}

int bk_month_index(const char *s)
{
	if (!s || strlen(s) != 7 || s[4] != '-')
		return -1;
	for (int i = 0; i < 7; i++)
		if (i != 4 && (s[i] < '0' || s[i] > '9'))
			return -1;
	int y = atoi(s), m = atoi(s + 5);
	if (m < 1 || m > 12)
		return -1;
	return y * 12 + m - 1;
}

static bool scheme_is(const char *url, const char *scheme)
{
	size_t n = strlen(scheme);
	return strncmp(url, scheme, n) == 0 && strncmp(url + n, "://", 3) == 0;
}

/* A prefix is a store key fragment: [A-Za-z0-9._-] words separated by single slashes. */
static bool prefix_ok(const char *p)
{
	if (!*p || *p == '/' || p[strlen(p) - 1] == '/')
		return false;
	for (const char *s = p; *s; s++) {
		if (*s == '/' && s[1] == '/')
			return false;
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-/",
		            *s))
			return false;
	}
	return !strstr(p, "..") && strncmp(p, "./", 2) != 0;
}

#define FAIL(k, ...)                                                                               \
	do {                                                                                       \
		*key = (k);                                                                        \
		snprintf(err, errlen, __VA_ARGS__);                                                \
		return -1;                                                                         \
	} while (0)

int bk_opts_load(struct chored_job *job, struct bk_opts *o, const char **key, char *err,
                 size_t errlen)
{
	memset(o, 0, sizeof *o);
	*key = NULL;
	o->database = chored_job_opt(job, "database");
	o->d1_token = chored_job_opt(job, "d1_token");
	o->d1_base_url = chored_job_opt(job, "d1_base_url");
	o->kit_api_key = chored_job_opt(job, "kit_api_key");
	o->kit_base_url = chored_job_opt(job, "kit_base_url");
	o->store = chored_job_opt(job, "store");
	o->store_key_id = chored_job_opt(job, "store_key_id");
	o->store_secret = chored_job_opt(job, "store_secret");
	o->prefix = chored_job_opt(job, "prefix");
	o->restore_target = chored_job_opt(job, "restore_target");
	o->force = chored_job_opt_bool(job, "force");
	if (!o->store || !*o->store) {
		snprintf(o->dflt_store, sizeof o->dflt_store, "file://%s/backups",
		         chored_job_state_dir(job));
		o->store = o->dflt_store;
	}
	if (!o->restore_target || !*o->restore_target) {
		snprintf(o->dflt_target, sizeof o->dflt_target,
		         "sqlite://%s/backup-restore-test.db", chored_job_state_dir(job));
		o->restore_target = o->dflt_target;
	}
	if (o->database && !*o->database)
		o->database = NULL;
	if (o->kit_api_key && !*o->kit_api_key)
		o->kit_api_key = NULL;
	if (!o->prefix || !*o->prefix)
		o->prefix = chored_job_name(job);
	if (!o->database && !o->kit_api_key)
		FAIL("database", "nothing to back up: set database, kit_api_key or both");
	if (o->database) {
		if (scheme_is(o->database, "d1")) {
			if (!o->d1_token)
				FAIL("d1_token", "a d1:// database needs d1_token");
		} else if (!scheme_is(o->database, "sqlite") &&
		           !scheme_is(o->database, "postgresql") &&
		           !scheme_is(o->database, "postgres")) {
			FAIL("database",
			     "expected sqlite:///PATH, postgresql://… or d1://ACCOUNT/DB");
		}
	}
	if (!o->kit_base_url || !*o->kit_base_url)
		o->kit_base_url = "https://api.kit.com";
	else if (strncmp(o->kit_base_url, "http://", 7) && strncmp(o->kit_base_url, "https://", 8))
		FAIL("kit_base_url", "expected an http:// or https:// URL");
	if (!o->store || (!scheme_is(o->store, "file") && !scheme_is(o->store, "s3")))
		FAIL("store", "expected file:///DIR or s3://BUCKET[/PREFIX]?endpoint=…");
	if (scheme_is(o->store, "s3") && (!o->store_key_id || !o->store_secret))
		FAIL(o->store_key_id ? "store_secret" : "store_key_id",
		     "an s3:// store needs store_key_id and store_secret");
	if (!prefix_ok(o->prefix))
		FAIL("prefix",
		     "'%s' is not a key prefix: letters, digits, '.', '_', '-' and single '/' "
		     "between words",
		     o->prefix);
	if (bk_compress_parse(chored_job_opt(job, "compress"), &o->compress) < 0)
		FAIL("compress", "'%s' is not one of gzip, zstd, none",
		     chored_job_opt(job, "compress"));
	int64_t ret = chored_job_opt_int(job, "retention");
	if (ret < 1 || ret > 1200)
		FAIL("retention", "%lld months is out of range 1-1200", (long long)ret);
	o->retention = (int)ret;
	const char *months = chored_job_opt(job, "restore_test_months");
	for (const char *p = months ? months : ""; *p;) {
		p += strspn(p, " \t,");
		if (!*p)
			break;
		char *end;
		long m = strtol(p, &end, 10);
		if (end == p || m < 1 || m > 12 || (*end && !strchr(" \t,", *end))) {
			size_t n = strcspn(p, " \t,");
			FAIL("restore_test_months", "'%.*s' is not a month number 1-12", (int)n, p);
		}
		o->restore_month[m] = true;
		p = end;
	}
	if (!o->restore_target || (!scheme_is(o->restore_target, "sqlite") &&
	                           !scheme_is(o->restore_target, "postgresql") &&
	                           !scheme_is(o->restore_target, "postgres")))
		FAIL("restore_target", "expected sqlite:///PATH or postgresql://…");
	if (o->database && strcmp(o->database, o->restore_target) == 0)
		FAIL("restore_target", "must not be the database being backed up");
	return 0;
}

char *bk_scratch_dir(char *err, size_t errlen)
{
	/* /var/tmp rather than /tmp: a dump of a big database must not land in a tmpfs. */
	const char *base = getenv("TMPDIR");
	char *dir;
	if (asprintf(&dir, "%s/chored-backup.XXXXXX", base && *base ? base : "/var/tmp") < 0)
		return NULL;
	if (!mkdtemp(dir)) {
		snprintf(err, errlen, "scratch directory %s: %s", dir, strerror(errno));
		free(dir);
		return NULL;
	}
	return dir;
}

void bk_scratch_free(char *dir)
{
	if (!dir)
		return;
	DIR *d = opendir(dir);
	if (d) {
		for (struct dirent *e; (e = readdir(d));) {
			if (e->d_name[0] == '.')
				continue;
			char path[4096];
			snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
			unlink(path);
		}
		closedir(d);
	}
	rmdir(dir);
	free(dir);
}

void bk_file_free(struct bk_file *f)
{
	for (size_t i = 0; i < f->n_tables; i++)
		free(f->tables[i].name);
	free(f->tables);
	f->tables = NULL;
	f->n_tables = 0;
}

void bk_human_size(uint64_t n, char *buf, size_t len)
{
	if (n < 1024)
		snprintf(buf, len, "%llu B", (unsigned long long)n);
	else if (n < 1024 * 1024)
		snprintf(buf, len, "%.1f KiB", n / 1024.0);
	else if (n < 1024ull * 1024 * 1024)
		snprintf(buf, len, "%.1f MiB", n / 1048576.0);
	else
		snprintf(buf, len, "%.2f GiB", n / 1073741824.0);
}

struct chored_store *bk_store_open(struct chored_job *job, const struct bk_opts *o, char *err,
                                   size_t errlen)
{
	struct chored_store_config cfg = {.access_key_id = o->store_key_id,
	                                  .secret_access_key = o->store_secret};
	struct chored_store *st = NULL;
	/* The default folder under the state directory is ours to create (owner only: the sets
	 * hold the database and the subscriber list). */
	if (o->store == o->dflt_store && mkdir(o->dflt_store + strlen("file://"), 0700) < 0 &&
	    errno != EEXIST) {
		snprintf(err, errlen, "store: cannot create %s: %s",
		         o->dflt_store + strlen("file://"), strerror(errno));
		return NULL;
	}
	if (chored_store_open(job, o->store, &cfg, &st, err, errlen) < 0)
		return NULL;
	return st;
}

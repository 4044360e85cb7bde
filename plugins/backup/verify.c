/* Verification and restore test of a stored set: every manifest entry's object is read
 * back (streamed), its size and sha256 compared, decompressed and its records counted; with
 * a restore, db.sql goes into the scratch restore target, whose integrity check and row
 * counts must match the manifest. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <chored/db.h>

#include "backup.h"

static void problem(struct bk_verify *v, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void problem(struct bk_verify *v, const char *fmt, ...)
{
	size_t n = strlen(v->problems);
	if (n && n + 2 < sizeof v->problems) {
		memcpy(v->problems + n, "; ", 3);
		n += 2;
	}
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(v->problems + n, sizeof v->problems - n, fmt, ap);
	va_end(ap);
}

struct reader {
	struct bk_dec *dec;
	bool json;
	struct bk_json_scan js;
	struct bk_sql_scan ss;
	FILE *raw; /* db.sql decompressed, for the restore; may be NULL */
};

static int reader_out(const void *buf, size_t len, void *data)
{
	struct reader *rd = data;
	if (rd->json)
		bk_json_scan_feed(&rd->js, buf, len);
	else
		bk_sql_scan_feed(&rd->ss, buf, len);
	if (rd->raw && fwrite(buf, 1, len, rd->raw) != len)
		return -1;
	return 0;
}

static int store_in(const void *buf, size_t len, void *data)
{
	struct reader *rd = data;
	return bk_dec_write(rd->dec, buf, len);
}

static int64_t jint(struct json_object *o, const char *k)
{
	struct json_object *v = json_object_object_get(o, k);
	return json_object_is_type(v, json_type_int) ? json_object_get_int64(v) : -1;
}

static const char *jstr(struct json_object *o, const char *k)
{
	struct json_object *v = json_object_object_get(o, k);
	return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

/* Compares the manifest's rows per table with `actual(name)`. */
static void compare_tables(struct bk_verify *v, const char *what, struct json_object *tables,
                           const struct bk_sql_scan *ss)
{
	json_object_object_foreach(tables, name, val)
	{
		int64_t want = json_object_get_int64(val), got = bk_sql_scan_rows(ss, name);
		if (want != got)
			problem(v, "%s: table %s has %lld rows, the manifest says %lld", what, name,
			        (long long)got, (long long)want);
	}
	for (size_t i = 0; i < ss->n_tables; i++)
		if (!json_object_object_get_ex(tables, ss->tables[i].name, NULL))
			problem(v, "%s: table %s is not in the manifest", what, ss->tables[i].name);
}

/* Checks one manifest entry; `raw_path` (may be NULL) receives db.sql decompressed. */
static bool check_file(struct chored_store *st, const struct bk_opts *o, const char *month,
                       enum bk_compress c, struct json_object *f, const char *raw_path,
                       struct bk_verify *v, uint64_t *size_out)
{
	const char *name = jstr(f, "name"), *sha = jstr(f, "sha256");
	int64_t size = jint(f, "size"), records = jint(f, "records");
	if (!name || !sha || size < 0 || records < 0 || strchr(name, '/')) {
		problem(v, "a manifest entry lacks name, size, sha256 or records");
		return false;
	}
	bool json = strstr(name, ".json") != NULL;
	struct reader rd = {.json = json};
	bk_json_scan_init(&rd.js);
	bk_sql_scan_init(&rd.ss);
	rd.dec = bk_dec_new(c, reader_out, &rd);
	if (raw_path && !json)
		rd.raw = fopen(raw_path, "we");
	char *key = bk_key(o->prefix, month, name);
	bool good = false;
	uint64_t got_size = 0, raw = 0;
	char got_sha[CHORED_SHA256_HEX_LEN] = "";
	int rc = rd.dec && key ? chored_store_get(st, key, store_in, &rd, NULL) : -1;
	if (rc == CHORED_STORE_NOT_FOUND) {
		problem(v, "%s: missing from the store", name);
	} else if (rc < 0) {
		problem(v, "%s: %s", name,
		        rd.dec && *bk_dec_error(rd.dec) ? bk_dec_error(rd.dec)
		                                        : chored_store_error(st));
	} else {
		int end = bk_dec_finish(rd.dec, got_sha, &got_size, &raw);
		if (strcmp(got_sha, sha) != 0)
			problem(v, "%s: sha256 %s does not match the manifest's %s", name, got_sha,
			        sha);
		else if ((int64_t)got_size != size)
			problem(v, "%s: %llu bytes, the manifest says %lld", name,
			        (unsigned long long)got_size, (long long)size);
		else if (end < 0)
			problem(v, "%s: %s", name, bk_dec_error(rd.dec));
		else if (json && bk_json_scan_end(&rd.js) < 0)
			problem(v, "%s: not a complete JSON array", name);
		else if (json && rd.js.records != records)
			problem(v, "%s: %lld records, the manifest says %lld", name,
			        (long long)rd.js.records, (long long)records);
		else if (!json && rd.ss.rows != records)
			problem(v, "%s: %lld rows, the manifest says %lld", name,
			        (long long)rd.ss.rows, (long long)records);
		else
			good = true;
		if (good && !json) {
			size_t before = strlen(v->problems);
			compare_tables(v, name, json_object_object_get(f, "tables"), &rd.ss);
			good = strlen(v->problems) == before;
		}
	}
	if (rd.raw && fclose(rd.raw) != 0 && good) {
		problem(v, "%s: cannot write the scratch copy", name);
		good = false;
	}
	*size_out = got_size;
	bk_dec_free(rd.dec);
	bk_sql_scan_free(&rd.ss);
	free(key);
	return good;
}

/* The path of a sqlite:/// URL, or NULL. */
static const char *sqlite_path(const char *url)
{
	return strncmp(url, "sqlite://", 9) == 0 ? url + 9 : NULL;
}

static void remove_sqlite(const char *path)
{
	static const char *const sfx[] = {"", "-wal", "-shm", "-journal"};
	for (size_t i = 0; i < 4; i++) {
		char p[4096];
		snprintf(p, sizeof p, "%s%s", path, sfx[i]);
		unlink(p);
	}
}

struct table_list {
	char **v;
	size_t n;
};

static int add_table(const char *name, void *data)
{
	struct table_list *t = data;
	char **v = realloc(t->v, (t->n + 1) * sizeof *v);
	if (!v)
		return 1;
	t->v = v;
	if (!(v[t->n] = strdup(name)))
		return 1;
	t->n++;
	return 0;
}

/* Restores `raw_path` into the restore target and compares it with the manifest. */
static void restore_db(struct chored_job *job, const struct bk_opts *o, struct json_object *f,
                       const char *raw_path, struct bk_verify *v)
{
	const char *spath = sqlite_path(o->restore_target);
	if (spath)
		remove_sqlite(spath); /* a scratch file: every test starts from nothing */
	char err[512];
	struct chored_db *db = bk_db_open(job, o, o->restore_target, false, err, sizeof err);
	if (!db) {
		problem(v, "restore target: %s", err);
		return;
	}
	struct table_list t = {0};
	if (chored_db_tables(db, add_table, &t) != 0) {
		problem(v, "restore target: %s", chored_db_error(db));
		goto out;
	}
	if (t.n) {
		/* Never restore over tables of a database we did not create. */
		problem(v, "restore target %s is not empty (table %s): give an empty database",
		        chored_db_url(db), t.v[0]);
		goto out;
	}
	if (chored_db_restore_file(db, raw_path, &v->statements) < 0) {
		problem(v, "restore: %s", chored_db_error(db));
		goto out;
	}
	if (chored_db_kind(db) == CHORED_DB_SQLITE) {
		struct chored_db_rows *rows =
		    chored_db_query(db, "PRAGMA integrity_check", NULL, 0);
		const char *res =
		    rows && chored_db_next(rows) == 1 ? chored_db_value(rows, 0) : NULL;
		if (!res || strcmp(res, "ok") != 0)
			problem(v, "restored database: integrity check: %s",
			        res ? res : chored_db_error(db));
		chored_db_rows_free(rows);
	}
	if (chored_db_tables(db, add_table, &t) != 0) {
		problem(v, "restored database: %s", chored_db_error(db));
		goto out;
	}
	struct json_object *tables = json_object_object_get(f, "tables");
	for (size_t i = 0; i < t.n; i++) {
		int64_t n = -1;
		struct json_object *want = NULL;
		json_object_object_get_ex(tables, t.v[i], &want);
		int64_t w = want ? json_object_get_int64(want) : 0;
		if (chored_db_count(db, t.v[i], &n) < 0)
			problem(v, "restored table %s: %s", t.v[i], chored_db_error(db));
		else if (n != w)
			problem(v, "restored table %s has %lld rows, the manifest says %lld",
			        t.v[i], (long long)n, (long long)w);
	}
	json_object_object_foreach(tables, name, val)
	{
		(void)val;
		bool found = false;
		for (size_t i = 0; i < t.n && !found; i++)
			found = strcmp(t.v[i], name) == 0;
		if (!found)
			problem(v, "table %s of the manifest is missing after the restore", name);
	}
	v->restored = true;
	if (!spath) /* leave the PostgreSQL target as empty as it was given */
		for (size_t i = 0; i < t.n; i++) {
			char *q = chored_db_quote_ident(t.v[i]), *sql = NULL;
			if (q && asprintf(&sql, "DROP TABLE IF EXISTS %s CASCADE", q) >= 0)
				chored_db_exec(db, sql, NULL, 0, NULL);
			free(sql);
			free(q);
		}
out:
	for (size_t i = 0; i < t.n; i++)
		free(t.v[i]);
	free(t.v);
	chored_db_close(db);
	if (spath)
		remove_sqlite(spath);
}

int bk_verify_set(struct chored_job *job, struct chored_store *st, const struct bk_opts *o,
                  const char *month, bool restore, struct chored_report *r, struct bk_verify *v)
{
	memset(v, 0, sizeof *v);
	char err[512];
	bool missing;
	struct json_object *man = bk_manifest_get(st, o->prefix, month, &missing, err, sizeof err);
	if (!man) {
		problem(v, "%s", err);
		return -1;
	}
	enum bk_compress c;
	if (bk_compress_parse(jstr(man, "compress"), &c) < 0) {
		problem(v, "manifest: unknown compression '%s'", jstr(man, "compress"));
		json_object_put(man);
		return -1;
	}
	char **keys = NULL;
	size_t nkeys = 0;
	if (bk_set_keys(st, o->prefix, month, &keys, &nkeys, err, sizeof err) < 0) {
		problem(v, "%s", err);
		json_object_put(man);
		return -1;
	}
	char *dir = bk_scratch_dir(err, sizeof err);
	if (!dir)
		problem(v, "%s", err);
	struct json_object *files = json_object_object_get(man, "files"), *dbf = NULL;
	char raw_path[4200] = "";
	if (dir)
		snprintf(raw_path, sizeof raw_path, "%s/db.sql", dir);
	static const char *const head[] = {"File", "Size", "Records", "Check"};
	if (r)
		chored_report_table_begin(r, 4, head);
	for (size_t i = 0; dir && i < json_object_array_length(files); i++) {
		struct json_object *f = json_object_array_get_idx(files, i);
		const char *name = jstr(f, "name");
		uint64_t got = 0;
		size_t before = strlen(v->problems);
		bool db = name && strncmp(name, "db.sql", 6) == 0;
		bool good =
		    check_file(st, o, month, c, f, db && restore ? raw_path : NULL, v, &got);
		if (good && db)
			dbf = f;
		good ? v->files_ok++ : v->files_bad++;
		if (r) {
			char sz[32], rec[32];
			bk_human_size(got, sz, sizeof sz);
			snprintf(rec, sizeof rec, "%lld", (long long)jint(f, "records"));
			const char *cells[] = {name ? name : "?", sz, rec,
			                       good ? "sha256 and count ok"
			                            : v->problems + before + (before ? 2 : 0)};
			chored_report_table_row(r, cells);
		}
	}
	if (r)
		chored_report_table_end(r);
	/* Every object of the set must be the manifest or one of its files. */
	for (size_t i = 0; i < nkeys; i++) {
		const char *base = strrchr(keys[i], '/') + 1;
		bool known = strcmp(base, BK_MANIFEST) == 0;
		for (size_t k = 0; !known && k < json_object_array_length(files); k++) {
			const char *n = jstr(json_object_array_get_idx(files, k), "name");
			known = n && strcmp(n, base) == 0;
		}
		if (!known)
			problem(v, "%s: in the set but not in the manifest", base);
	}
	if (restore && dbf && !v->problems[0])
		restore_db(job, o, dbf, raw_path, v);
	bk_scratch_free(dir);
	bk_keys_free(keys, nkeys);
	json_object_put(man);
	return v->problems[0] ? -1 : 0;
}

int bk_newest_complete(struct chored_store *st, const struct bk_opts *o, char month[8], char *err,
                       size_t errlen)
{
	struct bk_sets s;
	if (bk_sets_list(st, o->prefix, &s, err, errlen) < 0)
		return -1;
	int rc = -1;
	for (size_t i = s.n; i-- > 0;)
		if (s.v[i].complete) {
			memcpy(month, s.v[i].month, 8);
			rc = 0;
			break;
		}
	if (rc < 0)
		snprintf(err, errlen, "no complete set under %s/", o->prefix);
	bk_sets_free(&s);
	return rc;
}

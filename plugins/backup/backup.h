/* Shared declarations of backup.so (chored-backup(7)): options, the compressed file writer,
 * the stream scanners that count records, the exports, the set store and the verifier. */
#ifndef BACKUP_H
#define BACKUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include <chored/crypto.h>
#include <chored/job.h>
#include <chored/report.h>
#include <chored/store.h>

#define BK_VERSION  "1.0"
#define BK_FORMAT   "chored-backup/1"
#define BK_MANIFEST "manifest.json"

enum bk_compress { BK_NONE = 0, BK_GZIP = 1, BK_ZSTD = 2 };

/* The job's options, checked. Strings are borrowed from the job. */
struct bk_opts {
	const char *database; /* NULL: no database export */
	const char *d1_token;
	const char *d1_base_url;
	const char *kit_api_key; /* NULL: no Kit export */
	const char *kit_base_url;
	const char *store;
	const char *store_key_id;
	const char *store_secret;
	const char *prefix;
	enum bk_compress compress;
	int retention;          /* months, >= 1 */
	bool restore_month[13]; /* [1..12]: restore test on that month's 1st */
	const char *restore_target;
	bool force;
	/* The defaults of store and restore_target, under the daemon's state directory. */
	char dflt_store[4200], dflt_target[4200];
};

/* Loads and checks the options. On error returns -1 with the key at fault in *key. */
int bk_opts_load(struct chored_job *job, struct bk_opts *o, const char **key, char *err,
                 size_t errlen);
const char *bk_compress_name(enum bk_compress c);
const char *bk_compress_suffix(enum bk_compress c); /* "", ".gz", ".zst" */
/* "gzip" | "zstd" | "none" -> 0, else -1. */
int bk_compress_parse(const char *s, enum bk_compress *c);
/* YYYY-MM of an instant (UTC) into buf (8 bytes). */
void bk_month_of(int64_t utc, char buf[8]);
/* Month index (year * 12 + month - 1) of "YYYY-MM", or -1 when it is not one. */
int bk_month_index(const char *s);
/* A scratch directory for temporary files (malloc'd), or NULL with err. */
char *bk_scratch_dir(char *err, size_t errlen);
/* Removes a scratch directory and the files in it. */
void bk_scratch_free(char *dir);

/* --- codec.c: compressing writer into a local file; decompressing reader. --- */
struct bk_enc; /* owned: bk_enc_free */
/* A writer that compresses into a new file `path` (mode 0600) and hashes what it writes. */
struct bk_enc *bk_enc_open(enum bk_compress c, const char *path, char *err, size_t errlen);
int bk_enc_write(struct bk_enc *e, const void *buf, size_t len);
/* Flushes and closes the file: *size (stored bytes), *raw (bytes given), sha256 of the
 * stored bytes. 0 or -1 (bk_enc_error). */
int bk_enc_finish(struct bk_enc *e, uint64_t *size, uint64_t *raw, char sha[CHORED_SHA256_HEX_LEN]);
const char *bk_enc_error(const struct bk_enc *e);
void bk_enc_free(struct bk_enc *e);

/* Pushes stored bytes through: hashed as they are, then decompressed to `out`. */
typedef int (*bk_out_fn)(const void *buf, size_t len, void *data);
struct bk_dec; /* owned: bk_dec_free */
struct bk_dec *bk_dec_new(enum bk_compress c, bk_out_fn out, void *data);
int bk_dec_write(struct bk_dec *d, const void *buf, size_t len);
/* Checks the compressed stream ended; sha256 and size of the bytes pushed, raw bytes out. */
int bk_dec_finish(struct bk_dec *d, char sha[CHORED_SHA256_HEX_LEN], uint64_t *size, uint64_t *raw);
const char *bk_dec_error(const struct bk_dec *d);
void bk_dec_free(struct bk_dec *d);

/* --- scan.c: record counters over streamed text (pure). --- */
struct bk_table_count {
	char *name; /* owned */
	int64_t rows;
};
/* Counts the INSERT statements of a SQL dump per table, across chunk boundaries. */
struct bk_sql_scan {
	int state;
	char prev;
	char head[256];
	size_t head_len;
	struct bk_table_count *tables; /* owned */
	size_t n_tables;
	int64_t statements;
	int64_t rows;
};
void bk_sql_scan_init(struct bk_sql_scan *s);
void bk_sql_scan_feed(struct bk_sql_scan *s, const char *buf, size_t len);
void bk_sql_scan_free(struct bk_sql_scan *s);
/* Rows of `name`, 0 when it had none. */
int64_t bk_sql_scan_rows(const struct bk_sql_scan *s, const char *name);

/* Checks a JSON array's structure and counts its objects at depth 1 (records) and 3 (the
 * subscribers of each tag). */
struct bk_json_scan {
	int depth;
	bool in_str, esc, seen, bad, closed;
	int64_t records;
	int64_t nested;
};
void bk_json_scan_init(struct bk_json_scan *s);
void bk_json_scan_feed(struct bk_json_scan *s, const char *buf, size_t len);
/* 0 when the text was one complete JSON array, else -1. */
int bk_json_scan_end(const struct bk_json_scan *s);

/* --- one exported file --- */
struct bk_file {
	char name[64];   /* stored name: "db.sql.gz" */
	char base[64];   /* logical name: "db.sql" */
	char path[4096]; /* local scratch file */
	uint64_t size, raw;
	int64_t records;
	int64_t nested; /* kit-tags.json: tag memberships */
	char sha256[CHORED_SHA256_HEX_LEN];
	struct bk_table_count *tables; /* db.sql: rows per table, owned */
	size_t n_tables;
};
void bk_file_free(struct bk_file *f);

/* --- kit.c --- */
/* Writes kit-subscribers.json and kit-tags.json into `subs` and `tags` (scratch files of
 * `dir`). 0 or -1 with err (the HTTP answer at fault). */
int bk_kit_export(struct chored_job *job, const struct bk_opts *o, enum bk_compress c,
                  const char *dir, struct bk_file *subs, struct bk_file *tags, char *err,
                  size_t errlen);

/* --- dbx.c --- */
struct bk_db_info {
	char kind[16];
	char version[64];
	char url[512]; /* password replaced by *** */
};
int bk_db_export(struct chored_job *job, const struct bk_opts *o, enum bk_compress c,
                 const char *dir, struct bk_file *out, struct bk_db_info *info, char *err,
                 size_t errlen);
/* Opens `url` (the source or a restore target) with the job's D1 token. */
struct chored_db *bk_db_open(struct chored_job *job, const struct bk_opts *o, const char *url,
                             bool no_create, char *err, size_t errlen);

/* --- sets.c: sets in the store --- */
struct bk_set {
	char month[8];
	bool complete;
	uint64_t bytes;
	unsigned objects;
};
struct bk_sets {
	struct bk_set *v; /* owned, ascending months */
	size_t n;
};
int bk_sets_list(struct chored_store *st, const char *prefix, struct bk_sets *out, char *err,
                 size_t errlen);
void bk_sets_free(struct bk_sets *s);
/* "PREFIX/MONTH/NAME" (malloc'd). */
char *bk_key(const char *prefix, const char *month, const char *name);
/* The manifest of a set, parsed (owned) or NULL: *missing tells an absent manifest. */
struct json_object *bk_manifest_get(struct chored_store *st, const char *prefix, const char *month,
                                    bool *missing, char *err, size_t errlen);
/* Keys of every object of a set (owned array of owned strings). */
int bk_set_keys(struct chored_store *st, const char *prefix, const char *month, char ***keys,
                size_t *n, char *err, size_t errlen);
void bk_keys_free(char **keys, size_t n);
/* Deletes the sets older than `retention` months before `month`, never one of the
 * newest `retention` complete sets; manifest first. Lists each deletion, one a line, in
 * `list`.
 * Returns the number of sets that failed to go, or -1 when the listing failed. */
int bk_retention(struct chored_job *job, struct chored_store *st, const struct bk_opts *o,
                 const char *month, char *list, size_t listlen, int *deleted, char *err,
                 size_t errlen);

/* --- verify.c --- */
struct bk_verify {
	int files_ok, files_bad;
	bool restored;       /* the database was restored and counted */
	int64_t statements;  /* of the restore */
	char problems[2048]; /* "; "-separated */
};
/* Checks set `month`: every manifest entry's object exists with its size and sha256, its
 * records count, no object outside the manifest; with `restore`, also restores db.sql into
 * the restore target, runs its integrity check and compares the row counts. Writes one row
 * per file into `r` (may be NULL). Returns 0 when everything matched, else -1 (problems). */
int bk_verify_set(struct chored_job *job, struct chored_store *st, const struct bk_opts *o,
                  const char *month, bool restore, struct chored_report *r, struct bk_verify *v);
/* The newest complete set's month into buf, 0; -1 when none (err). */
int bk_newest_complete(struct chored_store *st, const struct bk_opts *o, char month[8], char *err,
                       size_t errlen);
/* Opens the job's store. */
struct chored_store *bk_store_open(struct chored_job *job, const struct bk_opts *o, char *err,
                                   size_t errlen);

/* --- human figures --- */
void bk_human_size(uint64_t n, char *buf, size_t len);

#endif

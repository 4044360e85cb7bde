/* The state store: opening (URL, file mode, WAL, schema, crash recovery), the statement
 * cache, transactions and error messages. Runs are written in state_runs.c and read in
 * state_query.c. */
#include "state.h"
#include "state_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

/* PRAGMA user_version of the schema below; a newer file is refused, never downgraded. */
#define SCHEMA_VERSION 1
/* PRAGMA application_id: tells a chored store from some other SQLite file ("chrd"). */
#define APPLICATION_ID 0x63687264
/* How long a call waits for another process holding the write lock. */
#define BUSY_TIMEOUT_MS 5000
/* See configure() for why. */
#ifndef STATE_SYNC
#define STATE_SYNC "NORMAL"
#endif

static const char *const status_names[] = {
    [RUN_RUNNING] = "running",         [RUN_OK] = "ok",
    [RUN_PARTIAL] = "partial",         [RUN_FAILED] = "failed",
    [RUN_CRASHED] = "crashed",         [RUN_TIMEOUT] = "timeout",
    [RUN_SKIPPED] = "skipped",         [RUN_CANCELLED] = "cancelled",
    [RUN_INTERRUPTED] = "interrupted",
};

static const char *const trigger_names[] = {
    [TRIG_SCHEDULE] = "schedule", [TRIG_CATCHUP] = "catchup", [TRIG_REBOOT] = "reboot",
    [TRIG_RETRY] = "retry",       [TRIG_MANUAL] = "manual",
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

const char *run_status_name(enum run_status s)
{
	return (unsigned)s < COUNT(status_names) ? status_names[s] : "unknown";
}

int run_status_parse(const char *text, enum run_status *out)
{
	for (size_t i = 0; text && i < COUNT(status_names); i++)
		if (strcmp(text, status_names[i]) == 0) {
			*out = (enum run_status)i;
			return 0;
		}
	return -1;
}

const char *run_trigger_name(enum run_trigger t)
{
	return (unsigned)t < COUNT(trigger_names) ? trigger_names[t] : "unknown";
}

int run_trigger_parse(const char *text, enum run_trigger *out)
{
	for (size_t i = 0; text && i < COUNT(trigger_names); i++)
		if (strcmp(text, trigger_names[i]) == 0) {
			*out = (enum run_trigger)i;
			return 0;
		}
	return -1;
}

bool run_status_final(enum run_status s)
{
	return s != RUN_RUNNING;
}

/* The SQL of every cached statement, indexed by enum state_stmt. The literal 'running'
 * is run_status_name(RUN_RUNNING); the partial index runs_done serves every query that
 * says status <> 'running'. */
static const char *const stmt_sql[SS__COUNT] = {
    [SS_BEGIN] = "BEGIN",
    [SS_BEGIN_WRITE] = "BEGIN IMMEDIATE",
    [SS_COMMIT] = "COMMIT",
    [SS_ROLLBACK] = "ROLLBACK",
    [SS_RECOVER] = "UPDATE runs SET status = 'interrupted', summary = ?1, ended_ms = ?2 "
                   "WHERE status = 'running' RETURNING id, job, nominal, \"trigger\", dry_run",
    [SS_RUN_INSERT] = "INSERT INTO runs (job, nominal, attempt, \"trigger\", status, signal, "
                      "dry_run, started_ms, ended_ms, summary, idem) "
                      "VALUES (?1, ?2, ?3, ?4, ?5, 0, ?6, ?7, ?8, ?9, ?10) "
                      "ON CONFLICT (idem) DO NOTHING",
    [SS_STAMP_RAISE] = "INSERT INTO stamps (job, nominal) VALUES (?1, ?2) "
                       "ON CONFLICT (job) DO UPDATE SET nominal = excluded.nominal "
                       "WHERE excluded.nominal > stamps.nominal",
    [SS_STAMP_GET] = "SELECT nominal FROM stamps WHERE job = ?1",
    [SS_RUN_HEAD] = "SELECT job, status FROM runs WHERE id = ?1",
    [SS_RUN_FINISH] = "UPDATE runs SET status = ?2, signal = ?3, ended_ms = ?4, summary = ?5, "
                      "counters = ?6 WHERE id = ?1",
    [SS_LOG_INSERT] = "INSERT INTO run_log (run_id, seq, ts_ms, stream, level, text, fields) "
                      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [SS_KV_SET] = "INSERT INTO kv (job, key, value) VALUES (?1, ?2, ?3) "
                  "ON CONFLICT (job, key) DO UPDATE SET value = excluded.value",
    [SS_KV_DEL] = "DELETE FROM kv WHERE job = ?1 AND key = ?2",
    /* Everything finished older than the keep-th newest finished run; running ones stay. */
    [SS_TRIM] = "DELETE FROM runs WHERE job = ?1 AND status <> 'running' AND id < "
                "(SELECT id FROM runs WHERE job = ?1 AND status <> 'running' "
                "ORDER BY id DESC LIMIT 1 OFFSET ?2)",
    [SS_RUN_GET] = "SELECT " STATE_RUN_COLS " FROM runs WHERE id = ?1",
    [SS_RUNS_LIST] = "SELECT " STATE_RUN_COLS " FROM runs WHERE job = ?1 AND id < ?2 "
                     "ORDER BY id DESC LIMIT ?3",
    [SS_LAST_ANY] = "SELECT " STATE_RUN_COLS " FROM runs WHERE job = ?1 AND "
                    "status <> 'running' ORDER BY id DESC LIMIT 1",
    [SS_LAST_OK] = "SELECT " STATE_RUN_COLS " FROM runs WHERE job = ?1 AND "
                   "status <> 'running' AND status IN ('ok', 'partial') "
                   "ORDER BY id DESC LIMIT 1",
    [SS_LOG_GET] = "SELECT ts_ms, stream, level, text, fields FROM run_log WHERE run_id = ?1 "
                   "ORDER BY seq",
    [SS_KV_GET] = "SELECT key, value FROM kv WHERE job = ?1 ORDER BY key",
    [SS_META_GET] = "SELECT value FROM meta WHERE key = ?1",
    [SS_META_SET] = "INSERT INTO meta (key, value) VALUES (?1, ?2) "
                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
};

/* Version 1. idem is "job\nnominal\nattempt" for keyed runs and NULL for manual ones
 * (NULLs never collide in a UNIQUE column). Logs go with their run (ON DELETE CASCADE). */
static const char schema_sql[] =
    "CREATE TABLE runs ("
    " id INTEGER PRIMARY KEY,"
    " job TEXT NOT NULL,"
    " nominal INTEGER NOT NULL,"
    " attempt INTEGER NOT NULL,"
    " \"trigger\" TEXT NOT NULL,"
    " status TEXT NOT NULL,"
    " signal INTEGER NOT NULL DEFAULT 0,"
    " dry_run INTEGER NOT NULL,"
    " started_ms INTEGER NOT NULL,"
    " ended_ms INTEGER,"
    " summary TEXT,"
    " counters TEXT,"
    " idem TEXT UNIQUE);"
    "CREATE INDEX runs_job ON runs (job, id DESC);"
    "CREATE INDEX runs_done ON runs (job, id DESC) WHERE status <> 'running';"
    "CREATE INDEX runs_running ON runs (status) WHERE status = 'running';"
    "CREATE TABLE run_log ("
    " run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,"
    " seq INTEGER NOT NULL,"
    " ts_ms INTEGER NOT NULL,"
    " stream TEXT NOT NULL,"
    " level INTEGER NOT NULL,"
    " text TEXT NOT NULL,"
    " fields TEXT,"
    " PRIMARY KEY (run_id, seq));"
    "CREATE TABLE stamps (job TEXT PRIMARY KEY, nominal INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE kv (job TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,"
    " PRIMARY KEY (job, key)) WITHOUT ROWID;"
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;";

static void set_msg(struct state *st, char *err, size_t errlen, const char *msg)
{
	if (st->errmsg != msg)
		snprintf(st->errmsg, sizeof st->errmsg, "%s", msg);
	if (err && errlen)
		snprintf(err, errlen, "%s", st->errmsg);
}

static void rollback(struct state *st)
{
	for (int i = 0; i < SS__COUNT; i++)
		if (st->stmts[i])
			sqlite3_reset(st->stmts[i]);
	if (sqlite3_get_autocommit(st->db))
		return;
	/* A failed ROLLBACK leaves nothing to do: SQLite has rolled back on its own. */
	if (state_exec(st, SS_ROLLBACK) != SQLITE_DONE)
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
}

int state_fail(struct state *st, const char *what, char *err, size_t errlen)
{
	char msg[sizeof st->errmsg];
	snprintf(msg, sizeof msg, "state %s: %s: %s", st->path, what, sqlite3_errmsg(st->db));
	rollback(st);
	set_msg(st, err, errlen, msg);
	return -1;
}

int state_failf(struct state *st, char *err, size_t errlen, const char *fmt, ...)
{
	char what[384], msg[sizeof st->errmsg];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	snprintf(msg, sizeof msg, "state %s: %s", st->path, what);
	rollback(st);
	set_msg(st, err, errlen, msg);
	return -1;
}

const char *state_errmsg(const struct state *st)
{
	return st->errmsg;
}

sqlite3_stmt *state_stmt(struct state *st, enum state_stmt which)
{
	sqlite3_stmt *s = st->stmts[which];
	if (s) {
		sqlite3_reset(s);
		return s;
	}
	if (sqlite3_prepare_v3(st->db, stmt_sql[which], -1, SQLITE_PREPARE_PERSISTENT, &s, NULL) !=
	    SQLITE_OK)
		return NULL; /* sqlite3_errmsg says why; the caller's state_fail reports it */
	st->stmts[which] = s;
	return s;
}

int state_exec(struct state *st, enum state_stmt which)
{
	sqlite3_stmt *s = state_stmt(st, which);
	if (!s)
		return SQLITE_ERROR;
	int rc = sqlite3_step(s);
	sqlite3_reset(s);
	return rc;
}

int state_tx_begin(struct state *st, bool write, char *err, size_t errlen)
{
	if (state_exec(st, write ? SS_BEGIN_WRITE : SS_BEGIN) != SQLITE_DONE)
		return state_fail(st, "cannot begin a transaction", err, errlen);
	return 0;
}

int state_tx_commit(struct state *st, char *err, size_t errlen)
{
	if (state_exec(st, SS_COMMIT) != SQLITE_DONE)
		return state_fail(st, "cannot commit", err, errlen);
	return 0;
}

static char *col_strdup(sqlite3_stmt *s, int col)
{
	const unsigned char *t = sqlite3_column_text(s, col);
	if (!t)
		return NULL;
	char *d = strdup((const char *)t);
	if (!d)
		abort(); /* out of memory: the daemon cannot go on without its store */
	return d;
}

int state_read_run(struct state *st, sqlite3_stmt *s, struct state_run *out)
{
	memset(out, 0, sizeof *out);
	out->id = sqlite3_column_int64(s, 0);
	const char *trig = (const char *)sqlite3_column_text(s, 4);
	const char *status = (const char *)sqlite3_column_text(s, 5);
	if (run_trigger_parse(trig, &out->trigger) < 0 ||
	    run_status_parse(status, &out->status) < 0) {
		return state_failf(
		    st, NULL, 0, "run %lld has an unknown trigger or status (%s, %s)",
		    (long long)out->id, trig ? trig : "NULL", status ? status : "NULL");
	}
	out->job = col_strdup(s, 1);
	out->nominal = sqlite3_column_int64(s, 2);
	out->attempt = (unsigned)sqlite3_column_int64(s, 3);
	out->signal = sqlite3_column_int(s, 6);
	out->dry_run = sqlite3_column_int(s, 7) != 0;
	out->started_ms = sqlite3_column_int64(s, 8);
	out->ended_ms = sqlite3_column_int64(s, 9); /* NULL reads as 0: still running */
	out->summary = col_strdup(s, 10);
	out->counters = col_strdup(s, 11);
	return 0;
}

void state_run_clear(struct state_run *r)
{
	if (!r)
		return;
	free(r->job);
	free(r->summary);
	free(r->counters);
	memset(r, 0, sizeof *r);
}

/* "sqlite:///abs/path" or "/abs/path" → the path (borrowed from url), or NULL. */
static const char *url_path(const char *url, char *err, size_t errlen)
{
	const char *p = url;
	if (!url || !*url) {
		snprintf(err, errlen, "state: empty store URL");
		return NULL;
	}
	if (strncmp(url, "sqlite://", 9) == 0)
		p = url + 9;
	else if (strstr(url, "://")) {
		snprintf(err, errlen, "state %s: unsupported store URL (use sqlite:///ABS/PATH)",
		         url);
		return NULL;
	}
	if (p[0] != '/') {
		snprintf(err, errlen, "state %s: the store path must be absolute", url);
		return NULL;
	}
	if (p[strlen(p) - 1] == '/') {
		snprintf(err, errlen, "state %s: the store path names a directory", url);
		return NULL;
	}
	return p;
}

/* Creates the file as mode 0600 when absent, so SQLite (which gives -wal and -shm the
 * main file's mode) never makes a world-readable store. */
static int create_file(const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd >= 0) {
		/* open() honoured the umask; 0600 is what we want regardless of it. */
		int rc = fchmod(fd, 0600);
		int e = errno;
		close(fd);
		if (rc == 0)
			return 0;
		snprintf(err, errlen, "state %s: cannot set mode 0600: %s", path, strerror(e));
		unlink(path);
		return -1;
	}
	int e = errno;
	struct stat sb;
	if (e == EEXIST && stat(path, &sb) == 0 && !S_ISREG(sb.st_mode)) {
		snprintf(err, errlen, "state %s: not a regular file%s", path,
		         S_ISDIR(sb.st_mode) ? " (a directory)" : "");
		return -1;
	}
	if (e == EEXIST)
		return 0;
	snprintf(err, errlen, "state %s: cannot create: %s%s", path, strerror(e),
	         e == ENOENT ? " (the parent directory must exist)" : "");
	return -1;
}

static int pragma_int(struct state *st, const char *sql, int64_t *out)
{
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return -1;
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return rc == SQLITE_ROW ? 0 : -1;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Connection settings. WAL lets readers go on during a write and makes a commit one
 * append. */
static int configure(struct state *st, char *err, size_t errlen)
{
	sqlite3_extended_result_codes(st->db, 1);
	sqlite3_busy_timeout(st->db, BUSY_TIMEOUT_MS);
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(st->db, "PRAGMA journal_mode = WAL", -1, &s, NULL) != SQLITE_OK)
		return state_fail(st, "cannot switch to WAL mode", err, errlen);
	int rc = sqlite3_step(s);
	const char *mode = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(s, 0) : NULL;
	bool wal = mode && strcmp(mode, "wal") == 0;
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW)
		return state_fail(st, "cannot switch to WAL mode", err, errlen);
	if (!wal)
		return state_failf(st, err, errlen,
		                   "cannot switch to WAL mode (the file system "
		                   "may not support shared memory)");
	/* synchronous = NORMAL: in WAL mode a commit is then written (not fsync'ed) to the WAL,
	 * which survives the crash this store is built for — chored killed (-9) at any point —
	 * because the data is in the kernel's page cache; only a power loss or kernel panic
	 * could lose the last commits (never corrupt the file). FULL would fsync each commit:
	 * measured on this machine (ext4 on virtio) at ~2.7 ms per transaction, far over the
	 * 0.3 ms it may cost and the 1 ms per-run budget of the whole daemon; with NORMAL a
	 * begin + finish costs ~0.25 ms (bench/bench_state.c). */
	if (sqlite3_exec(st->db,
	                 "PRAGMA synchronous = " STATE_SYNC "; PRAGMA foreign_keys = ON;"
	                 "PRAGMA journal_size_limit = 16777216;",
	                 NULL, NULL, NULL) != SQLITE_OK)
		return state_fail(st, "cannot configure the connection", err, errlen);
	return 0;
}

/* Creates or checks the schema, then marks runs a dead process left "running" as
 * interrupted: one write transaction, so two daemons opening at once agree. */
/* Keeps the row of SS_RECOVER that s is on. 0, or -1 out of memory. */
static int add_interrupted(struct state *st, sqlite3_stmt *s)
{
	struct state_interrupted *grown =
	    realloc(st->interrupted, (st->n_interrupted + 1) * sizeof *grown);
	if (!grown)
		return -1;
	st->interrupted = grown;
	const char *job = (const char *)sqlite3_column_text(s, 1);
	const char *trig = (const char *)sqlite3_column_text(s, 3);
	struct state_interrupted *r = &grown[st->n_interrupted];
	*r = (struct state_interrupted){
	    .id = sqlite3_column_int64(s, 0),
	    .nominal = sqlite3_column_int64(s, 2),
	    .job = strdup(job ? job : ""),
	    .trigger = TRIG_SCHEDULE,
	    .dry_run = sqlite3_column_int(s, 4) != 0,
	};
	if (!r->job)
		return -1;
	if (!trig || run_trigger_parse(trig, &r->trigger) < 0)
		r->trigger = TRIG_MANUAL; /* unknown: claim nothing about a slot */
	st->n_interrupted++;
	return 0;
}

static int by_id(const void *a, const void *b)
{
	int64_t x = ((const struct state_interrupted *)a)->id;
	int64_t y = ((const struct state_interrupted *)b)->id;
	return (x > y) - (x < y);
}

static int schema_and_recover(struct state *st, char *err, size_t errlen)
{
	if (state_tx_begin(st, true, err, errlen) < 0)
		return -1;
	int64_t version, app, tables;
	if (pragma_int(st, "PRAGMA user_version", &version) < 0 ||
	    pragma_int(st, "PRAGMA application_id", &app) < 0 ||
	    pragma_int(st, "SELECT count(*) FROM sqlite_master", &tables) < 0)
		return state_fail(st, "cannot read the schema", err, errlen);
	if (app != APPLICATION_ID && (app != 0 || tables > 0))
		return state_failf(st, err, errlen,
		                   "not a chored state store (application_id "
		                   "%lld, %lld tables)",
		                   (long long)app, (long long)tables);
	if (version > SCHEMA_VERSION)
		return state_failf(st, err, errlen,
		                   "schema version %lld is newer than this chored supports (%d); "
		                   "upgrade chored or point [daemon] state at another file",
		                   (long long)version, SCHEMA_VERSION);
	if (version < 1) {
		char sql[sizeof schema_sql + 128];
		snprintf(sql, sizeof sql, "%sPRAGMA user_version = %d; PRAGMA application_id = %d;",
		         schema_sql, SCHEMA_VERSION, APPLICATION_ID);
		if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK)
			return state_fail(st, "cannot create the schema", err, errlen);
	}
	sqlite3_stmt *s = state_stmt(st, SS_RECOVER);
	if (!s)
		return state_fail(st, "cannot mark interrupted runs", err, errlen);
	sqlite3_bind_text(s, 1, "daemon stopped while the run was in progress", -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, now_ms());
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		if (add_interrupted(st, s) < 0) {
			sqlite3_reset(s);
			return state_failf(st, err, errlen, "out of memory");
		}
	if (rc != SQLITE_DONE)
		return state_fail(st, "cannot mark interrupted runs", err, errlen);
	sqlite3_reset(s);
	/* RETURNING gives no order. (qsort must not see the NULL of an empty list.) */
	if (st->n_interrupted > 1)
		qsort(st->interrupted, st->n_interrupted, sizeof *st->interrupted, by_id);
	return state_tx_commit(st, err, errlen);
}

const struct state_interrupted *state_interrupted(const struct state *st, size_t *n)
{
	*n = st->n_interrupted;
	return st->interrupted;
}

int state_open(const char *url, struct state **out, char *err, size_t errlen)
{
	*out = NULL;
	const char *path = url_path(url, err, errlen);
	if (!path || create_file(path, err, errlen) < 0)
		return -1;
	struct state *st = calloc(1, sizeof *st);
	if (!st || !(st->path = strdup(path))) {
		free(st);
		snprintf(err, errlen, "state %s: out of memory", path);
		return -1;
	}
	int rc = sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		if (st->db)
			state_fail(st, "cannot open", err, errlen);
		else
			snprintf(err, errlen, "state %s: cannot open: %s", path,
			         sqlite3_errstr(rc));
		state_close(st);
		return -1;
	}
	if (configure(st, err, errlen) < 0 || schema_and_recover(st, err, errlen) < 0) {
		state_close(st);
		return -1;
	}
	state_ckpt_start(st);
	*out = st;
	return 0;
}

void state_close(struct state *st)
{
	if (!st)
		return;
	state_ckpt_stop(st);
	for (size_t i = 0; i < st->n_interrupted; i++)
		free(st->interrupted[i].job);
	free(st->interrupted);
	for (int i = 0; i < SS__COUNT; i++)
		sqlite3_finalize(st->stmts[i]);
	sqlite3_close(st->db);
	free(st->path);
	free(st);
}

int state_stamp_get(struct state *st, const char *job, int64_t *nominal)
{
	if (state_tx_begin(st, false, NULL, 0) < 0)
		return -1;
	sqlite3_stmt *s = state_stmt(st, SS_STAMP_GET);
	if (!s)
		return state_fail(st, "reading a stamp", NULL, 0);
	sqlite3_bind_text(s, 1, job, -1, SQLITE_STATIC);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*nominal = sqlite3_column_int64(s, 0);
	else if (rc != SQLITE_DONE)
		return state_fail(st, "reading a stamp", NULL, 0);
	sqlite3_reset(s);
	if (state_tx_commit(st, NULL, 0) < 0)
		return -1;
	return rc == SQLITE_ROW ? 0 : 1;
}

int state_stamp_set(struct state *st, const char *job, int64_t nominal)
{
	if (state_tx_begin(st, true, NULL, 0) < 0)
		return -1;
	sqlite3_stmt *s = state_stmt(st, SS_STAMP_RAISE);
	if (!s)
		return state_fail(st, "setting a stamp", NULL, 0);
	sqlite3_bind_text(s, 1, job, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, nominal);
	if (sqlite3_step(s) != SQLITE_DONE)
		return state_fail(st, "setting a stamp", NULL, 0);
	sqlite3_reset(s);
	return state_tx_commit(st, NULL, 0);
}

char *state_meta_get(struct state *st, const char *key)
{
	if (state_tx_begin(st, false, NULL, 0) < 0)
		return NULL;
	sqlite3_stmt *s = state_stmt(st, SS_META_GET);
	if (!s) {
		state_fail(st, "reading a daemon fact", NULL, 0);
		return NULL;
	}
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	int rc = sqlite3_step(s);
	char *value = rc == SQLITE_ROW ? col_strdup(s, 0) : NULL;
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		state_fail(st, "reading a daemon fact", NULL, 0);
		return NULL;
	}
	sqlite3_reset(s);
	if (state_tx_commit(st, NULL, 0) < 0) {
		free(value);
		return NULL;
	}
	return value;
}

int state_meta_set(struct state *st, const char *key, const char *value)
{
	if (!key || !value)
		return state_failf(st, NULL, 0, "a daemon fact needs a key and a value");
	if (state_tx_begin(st, true, NULL, 0) < 0)
		return -1;
	sqlite3_stmt *s = state_stmt(st, SS_META_SET);
	if (!s)
		return state_fail(st, "setting a daemon fact", NULL, 0);
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, value, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE)
		return state_fail(st, "setting a daemon fact", NULL, 0);
	sqlite3_reset(s);
	return state_tx_commit(st, NULL, 0);
}

/* Private to daemon/state*.c: the store handle, its cached statements and the transaction
 * and error helpers every public call goes through. */
#ifndef CHORED_STATE_INTERNAL_H
#define CHORED_STATE_INTERNAL_H

#include "state.h"

#include <sqlite3.h>

/* Every statement the store runs, prepared once on first use and kept on the handle. */
enum state_stmt {
	SS_BEGIN,
	SS_BEGIN_WRITE,
	SS_COMMIT,
	SS_ROLLBACK,
	SS_RECOVER,
	SS_RUN_INSERT,
	SS_STAMP_RAISE,
	SS_STAMP_GET,
	SS_RUN_HEAD,
	SS_RUN_FINISH,
	SS_LOG_INSERT,
	SS_KV_SET,
	SS_KV_DEL,
	SS_TRIM,
	SS_RUN_GET,
	SS_RUNS_LIST,
	SS_LAST_ANY,
	SS_LAST_OK,
	SS_LOG_GET,
	SS_KV_GET,
	SS_META_GET,
	SS_META_SET,
	SS__COUNT
};

struct state {
	sqlite3 *db;
	char *path; /* owned: the file path, named in every error message */
	sqlite3_stmt *stmts[SS__COUNT];
	char errmsg[512];        /* the last failure, for the calls that have no err buffer */
	struct state_ckpt *ckpt; /* owned: the checkpoint thread, NULL when it could not start */
	struct state_interrupted *interrupted; /* owned: what state_open marked interrupted */
	size_t n_interrupted;
};

/* Starts checkpointing in a thread (state_ckpt.c); without one SQLite's automatic
 * checkpoints stay in place. state_ckpt_stop joins it; both are no-ops when absent. */
void state_ckpt_start(struct state *st);
void state_ckpt_stop(struct state *st);

/* The cached statement `which`, reset and ready to bind; NULL when it cannot be prepared
 * (sqlite3_errmsg says why: report it with state_fail). */
sqlite3_stmt *state_stmt(struct state *st, enum state_stmt which);
/* Runs a cached statement that returns no rows (BEGIN, COMMIT, …). SQLITE_DONE or an error. */
int state_exec(struct state *st, enum state_stmt which);

/* BEGIN (read) or BEGIN IMMEDIATE (write: takes the write lock up front, so the busy
 * timeout applies and no upgrade can fail half-way). 0 or -1. */
int state_tx_begin(struct state *st, bool write, char *err, size_t errlen);
int state_tx_commit(struct state *st, char *err, size_t errlen);

/* Records "state PATH: WHAT: <SQLite's message>" in st->errmsg and err (when not NULL),
 * rolls back an open transaction and returns -1. */
int state_fail(struct state *st, const char *what, char *err, size_t errlen);
/* The same for a failure that is not SQLite's: "state PATH: MSG". */
int state_failf(struct state *st, char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The columns state_read_run expects, in order. */
#define STATE_RUN_COLS                                                                             \
	"id, job, nominal, attempt, \"trigger\", status, signal, dry_run, started_ms, "            \
	"ended_ms, summary, counters"
/* The index of ended_ms among them. */
#define STATE_COL_ENDED_MS 9
/* Fills *out from the current row of a statement selecting STATE_RUN_COLS. 0 or -1 (a
 * status or trigger this version does not know: reported with state_failf). */
int state_read_run(struct state *st, sqlite3_stmt *s, struct state_run *out);

#endif

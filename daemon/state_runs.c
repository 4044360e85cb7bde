/* Writing runs: claiming a slot (begin, skip) and finishing a run with its log, plugin
 * state and history trim — each one write transaction. */
#include "state.h"
#include "state_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

/* The idempotency key of a non-manual run: "job\nnominal\nattempt" (a job name never holds
 * a newline, so keys of different jobs cannot collide). */
static void idem_key(char *buf, size_t len, const char *job, int64_t nominal, unsigned attempt)
{
	snprintf(buf, len, "%s\n%" PRId64 "\n%u", job, nominal, attempt);
}

/* Inserts the run and raises the stamp inside the caller's transaction. 0, 1 (key taken),
 * -1 (rolled back, message set). */
static int claim(struct state *st, const char *job, int64_t nominal, unsigned attempt,
                 enum run_trigger trigger, enum run_status status, bool dry_run, int64_t now_ms,
                 const char *summary, int64_t *id, char *err, size_t errlen)
{
	char key[512];
	bool keyed = trigger != TRIG_MANUAL;
	if (keyed) {
		if (strlen(job) > sizeof key - 48)
			return state_failf(st, err, errlen, "job name too long (%zu bytes)",
			                   strlen(job));
		idem_key(key, sizeof key, job, nominal, attempt);
	}
	sqlite3_stmt *s = state_stmt(st, SS_RUN_INSERT);
	if (!s)
		return state_fail(st, "cannot record the run", err, errlen);
	sqlite3_bind_text(s, 1, job, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, nominal);
	sqlite3_bind_int64(s, 3, attempt);
	sqlite3_bind_text(s, 4, run_trigger_name(trigger), -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, run_status_name(status), -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 6, dry_run);
	sqlite3_bind_int64(s, 7, now_ms);
	if (run_status_final(status))
		sqlite3_bind_int64(s, 8, now_ms);
	else
		sqlite3_bind_null(s, 8);
	if (summary)
		sqlite3_bind_text(s, 9, summary, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, 9);
	if (keyed)
		sqlite3_bind_text(s, 10, key, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, 10);
	if (sqlite3_step(s) != SQLITE_DONE)
		return state_fail(st, "cannot record the run", err, errlen);
	sqlite3_reset(s);
	if (sqlite3_changes(st->db) == 0)
		return 1; /* ON CONFLICT (idem) DO NOTHING: someone began this slot attempt */
	*id = sqlite3_last_insert_rowid(st->db);
	if (!keyed)
		return 0;
	if (!(s = state_stmt(st, SS_STAMP_RAISE)))
		return state_fail(st, "cannot raise the stamp", err, errlen);
	sqlite3_bind_text(s, 1, job, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, nominal);
	if (sqlite3_step(s) != SQLITE_DONE)
		return state_fail(st, "cannot raise the stamp", err, errlen);
	sqlite3_reset(s);
	return 0;
}

/* The job's plugin state inside the caller's transaction: a new object, or NULL (rolled
 * back, message set). */
static struct json_object *kv_read(struct state *st, const char *job)
{
	sqlite3_stmt *s = state_stmt(st, SS_KV_GET);
	if (!s) {
		state_fail(st, "reading plugin state", NULL, 0);
		return NULL;
	}
	sqlite3_bind_text(s, 1, job, -1, SQLITE_STATIC);
	struct json_object *obj = json_object_new_object();
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		json_object_object_add(
		    obj, (const char *)sqlite3_column_text(s, 0),
		    json_object_new_string((const char *)sqlite3_column_text(s, 1)));
	if (rc != SQLITE_DONE) {
		state_fail(st, "reading plugin state", NULL, 0);
		json_object_put(obj);
		return NULL;
	}
	sqlite3_reset(s);
	return obj;
}

struct json_object *state_kv_json(struct state *st, const char *job)
{
	if (state_tx_begin(st, false, NULL, 0) < 0)
		return NULL;
	struct json_object *obj = kv_read(st, job);
	if (obj && state_tx_commit(st, NULL, 0) < 0) {
		json_object_put(obj);
		return NULL;
	}
	return obj;
}

/* Claims the slot in one write transaction; with kv, reads the job's plugin state in it
 * too (*kv set only when the claim succeeds). */
static int claim_tx(struct state *st, const char *job, int64_t nominal, unsigned attempt,
                    enum run_trigger trigger, enum run_status status, bool dry_run, int64_t now_ms,
                    const char *summary, int64_t *id, struct json_object **kv, char *err,
                    size_t errlen)
{
	if (kv)
		*kv = NULL;
	if (!job || !*job)
		return state_failf(st, err, errlen, "a run needs a job name");
	if ((unsigned)trigger > TRIG_MANUAL)
		return state_failf(st, err, errlen, "unknown trigger %d", (int)trigger);
	if (state_tx_begin(st, true, err, errlen) < 0)
		return -1;
	int64_t new_id = 0;
	int rc = claim(st, job, nominal, attempt, trigger, status, dry_run, now_ms, summary,
	               &new_id, err, errlen);
	if (rc < 0)
		return -1;
	if (rc == 1) {
		/* Nothing written: end the transaction so the write lock goes at once. */
		if (state_tx_commit(st, err, errlen) < 0)
			return -1;
		return 1;
	}
	struct json_object *state = NULL;
	if (kv && !(state = kv_read(st, job))) {
		snprintf(err, errlen, "%s", state_errmsg(st));
		return -1;
	}
	if (state_tx_commit(st, err, errlen) < 0) {
		json_object_put(state);
		return -1;
	}
	*id = new_id;
	if (kv)
		*kv = state;
	return 0;
}

int state_run_begin(struct state *st, const char *job, int64_t nominal, unsigned attempt,
                    enum run_trigger trigger, bool dry_run, int64_t now_ms, int64_t *id, char *err,
                    size_t errlen)
{
	return claim_tx(st, job, nominal, attempt, trigger, RUN_RUNNING, dry_run, now_ms, NULL, id,
	                NULL, err, errlen);
}

int state_run_begin_kv(struct state *st, const char *job, int64_t nominal, unsigned attempt,
                       enum run_trigger trigger, bool dry_run, int64_t now_ms, int64_t *id,
                       struct json_object **kv, char *err, size_t errlen)
{
	return claim_tx(st, job, nominal, attempt, trigger, RUN_RUNNING, dry_run, now_ms, NULL, id,
	                kv, err, errlen);
}

int state_run_skip(struct state *st, const char *job, int64_t nominal, enum run_trigger trigger,
                   const char *summary, int64_t now_ms, int64_t *id, char *err, size_t errlen)
{
	return claim_tx(st, job, nominal, 1, trigger, RUN_SKIPPED, false, now_ms, summary, id, NULL,
	                err, errlen);
}

static void bind_opt_text(sqlite3_stmt *s, int col, const char *text)
{
	if (text)
		sqlite3_bind_text(s, col, text, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, col);
}

static int insert_line(struct state *st, sqlite3_stmt *s, int64_t id, int64_t seq,
                       const struct state_log_line *l, char *err, size_t errlen)
{
	sqlite3_reset(s);
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, seq);
	sqlite3_bind_int64(s, 3, l->ts_ms);
	sqlite3_bind_text(s, 4, l->stream ? l->stream : "log", -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 5, l->level);
	sqlite3_bind_text(s, 6, l->text ? l->text : "", -1, SQLITE_STATIC);
	bind_opt_text(s, 7, l->fields_json);
	if (sqlite3_step(s) != SQLITE_DONE)
		return state_fail(st, "cannot store the run's log", err, errlen);
	return 0;
}

static size_t line_bytes(const struct state_log_line *l)
{
	return (l->text ? strlen(l->text) : 0) + (l->fields_json ? strlen(l->fields_json) : 0);
}

/* Stores lines until STATE_LOG_MAX_BYTES (text and fields) would be passed, then one
 * truncation line for the rest. */
static int store_log(struct state *st, int64_t id, const struct state_log_line *lines,
                     size_t n_lines, int64_t now_ms, char *err, size_t errlen)
{
	sqlite3_stmt *s = n_lines ? state_stmt(st, SS_LOG_INSERT) : NULL;
	if (n_lines && !s)
		return state_fail(st, "cannot store the run's log", err, errlen);
	size_t used = 0, i = 0;
	for (; i < n_lines; i++) {
		size_t b = line_bytes(&lines[i]);
		if (b > STATE_LOG_MAX_BYTES - used)
			break;
		used += b;
		if (insert_line(st, s, id, (int64_t)i + 1, &lines[i], err, errlen) < 0)
			return -1;
	}
	if (i < n_lines) {
		size_t more = 0;
		for (size_t j = i; j < n_lines; j++)
			more += line_bytes(&lines[j]);
		char text[128];
		snprintf(text, sizeof text, "[log truncated: %zu more lines, %zu bytes]",
		         n_lines - i, more);
		struct state_log_line mark = {
		    .ts_ms = lines[i].ts_ms ? lines[i].ts_ms : now_ms,
		    .stream = "log",
		    .level = 4, /* LOG_WARNING */
		    .text = text,
		};
		if (insert_line(st, s, id, (int64_t)i + 1, &mark, err, errlen) < 0)
			return -1;
	}
	if (s)
		sqlite3_reset(s);
	return 0;
}

static int apply_kv(struct state *st, const char *job, const struct state_kv_change *changes,
                    size_t n_changes, char *err, size_t errlen)
{
	for (size_t i = 0; i < n_changes; i++) {
		const struct state_kv_change *c = &changes[i];
		if (!c->key || !*c->key)
			return state_failf(st, err, errlen, "plugin state change %zu has no key",
			                   i);
		sqlite3_stmt *s = state_stmt(st, c->value ? SS_KV_SET : SS_KV_DEL);
		if (!s)
			return state_fail(st, "cannot store plugin state", err, errlen);
		sqlite3_bind_text(s, 1, job, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, c->key, -1, SQLITE_STATIC);
		if (c->value)
			sqlite3_bind_text(s, 3, c->value, -1, SQLITE_STATIC);
		if (sqlite3_step(s) != SQLITE_DONE)
			return state_fail(st, "cannot store plugin state", err, errlen);
		sqlite3_reset(s);
	}
	return 0;
}

static int trim(struct state *st, const char *job, unsigned keep_runs, char *err, size_t errlen)
{
	if (keep_runs == 0)
		return 0;
	sqlite3_stmt *s = state_stmt(st, SS_TRIM);
	if (!s)
		return state_fail(st, "cannot trim the history", err, errlen);
	sqlite3_bind_text(s, 1, job, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, (int64_t)keep_runs - 1);
	if (sqlite3_step(s) != SQLITE_DONE)
		return state_fail(st, "cannot trim the history", err, errlen);
	sqlite3_reset(s);
	return 0;
}

/* Reads the run's job (into job, len bytes) and checks it may be finished: running, or
 * marked interrupted by a process that opened the store while this one was still at it
 * (the real result then wins over the guess). 0 or -1. */
static int run_head(struct state *st, int64_t id, char *job, size_t len, char *err, size_t errlen)
{
	sqlite3_stmt *s = state_stmt(st, SS_RUN_HEAD);
	if (!s)
		return state_fail(st, "cannot read the run", err, errlen);
	sqlite3_bind_int64(s, 1, id);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_DONE)
		return state_failf(st, err, errlen, "no run %" PRId64 " to finish", id);
	if (rc != SQLITE_ROW)
		return state_fail(st, "cannot read the run", err, errlen);
	const char *status = (const char *)sqlite3_column_text(s, 1);
	if (!status || (strcmp(status, run_status_name(RUN_RUNNING)) != 0 &&
	                strcmp(status, run_status_name(RUN_INTERRUPTED)) != 0))
		return state_failf(st, err, errlen, "run %" PRId64 " is already finished (%s)", id,
		                   status ? status : "NULL");
	int n = snprintf(job, len, "%s", (const char *)sqlite3_column_text(s, 0));
	sqlite3_reset(s);
	if (n < 0 || (size_t)n >= len)
		return state_failf(st, err, errlen, "run %" PRId64 ": job name too long", id);
	return 0;
}

int state_run_finish(struct state *st, int64_t id, enum run_status status, int signal,
                     const char *summary, const char *counters_json,
                     const struct state_log_line *lines, size_t n_lines,
                     const struct state_kv_change *changes, size_t n_changes, int64_t now_ms,
                     unsigned keep_runs, char *err, size_t errlen)
{
	if (!run_status_final(status) || (unsigned)status > RUN_INTERRUPTED)
		return state_failf(st, err, errlen, "run %" PRId64 ": cannot finish as %s", id,
		                   run_status_name(status));
	if (state_tx_begin(st, true, err, errlen) < 0)
		return -1;
	char job[512];
	if (run_head(st, id, job, sizeof job, err, errlen) < 0)
		return -1;
	sqlite3_stmt *s = state_stmt(st, SS_RUN_FINISH);
	if (!s)
		return state_fail(st, "cannot finish the run", err, errlen);
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_text(s, 2, run_status_name(status), -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 3, signal);
	sqlite3_bind_int64(s, 4, now_ms);
	bind_opt_text(s, 5, summary);
	bind_opt_text(s, 6, counters_json);
	if (sqlite3_step(s) != SQLITE_DONE)
		return state_fail(st, "cannot finish the run", err, errlen);
	sqlite3_reset(s);
	if (store_log(st, id, lines, n_lines, now_ms, err, errlen) < 0 ||
	    apply_kv(st, job, changes, n_changes, err, errlen) < 0 ||
	    trim(st, job, keep_runs, err, errlen) < 0)
		return -1;
	return state_tx_commit(st, err, errlen);
}

/* Reading runs: one run, a job's history page, the last result, a run's log, and the JSON
 * form the API serves. */
#include "state.h"
#include "state_internal.h"

#include "civil.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

/* Steps a statement expected to give at most one run. 0 (filled), 1 (no row), -1. */
static int one_run(struct state *st, sqlite3_stmt *s, struct state_run *out)
{
	int rc = sqlite3_step(s);
	if (rc == SQLITE_DONE) {
		sqlite3_reset(s);
		return state_tx_commit(st, NULL, 0) < 0 ? -1 : 1;
	}
	if (rc != SQLITE_ROW)
		return state_fail(st, "cannot read a run", NULL, 0);
	if (state_read_run(st, s, out) < 0)
		return -1;
	sqlite3_reset(s);
	if (state_tx_commit(st, NULL, 0) < 0) {
		state_run_clear(out);
		return -1;
	}
	return 0;
}

int state_run_get(struct state *st, int64_t id, struct state_run *out)
{
	if (state_tx_begin(st, false, NULL, 0) < 0)
		return -1;
	sqlite3_stmt *s = state_stmt(st, SS_RUN_GET);
	if (!s)
		return state_fail(st, "cannot read a run", NULL, 0);
	sqlite3_bind_int64(s, 1, id);
	return one_run(st, s, out);
}

int state_last_run(struct state *st, const char *job, bool success_only, struct state_run *out)
{
	if (state_tx_begin(st, false, NULL, 0) < 0)
		return -1;
	sqlite3_stmt *s = state_stmt(st, success_only ? SS_LAST_OK : SS_LAST_ANY);
	if (!s)
		return state_fail(st, "cannot read a run", NULL, 0);
	sqlite3_bind_text(s, 1, job, -1, SQLITE_STATIC);
	return one_run(st, s, out);
}

int state_last_each(struct state *st, const char *const *jobs, size_t n,
                    void (*cb)(void *ctx, size_t i, bool success, int64_t ended_ms), void *ctx)
{
	if (state_tx_begin(st, false, NULL, 0) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		for (int k = 0; k < 2; k++) {
			sqlite3_stmt *s = state_stmt(st, k ? SS_LAST_OK : SS_LAST_ANY);
			if (!s)
				return state_fail(st, "cannot read the last runs", NULL, 0);
			sqlite3_bind_text(s, 1, jobs[i], -1, SQLITE_STATIC);
			int rc = sqlite3_step(s);
			if (rc == SQLITE_ROW)
				cb(ctx, i, k == 1, sqlite3_column_int64(s, STATE_COL_ENDED_MS));
			sqlite3_reset(s);
			if (rc != SQLITE_ROW && rc != SQLITE_DONE)
				return state_fail(st, "cannot read the last runs", NULL, 0);
		}
	return state_tx_commit(st, NULL, 0);
}

ssize_t state_runs_list(struct state *st, const char *job, size_t limit, int64_t before_id,
                        struct state_run **out)
{
	*out = NULL;
	if (limit == 0)
		return 0;
	if (state_tx_begin(st, false, NULL, 0) < 0)
		return -1;
	sqlite3_stmt *s = state_stmt(st, SS_RUNS_LIST);
	if (!s)
		return state_fail(st, "cannot list runs", NULL, 0);
	sqlite3_bind_text(s, 1, job, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, before_id > 0 ? before_id : INT64_MAX);
	sqlite3_bind_int64(s, 3, limit > INT64_MAX ? INT64_MAX : (int64_t)limit);
	struct state_run *runs = NULL;
	size_t n = 0, cap = 0;
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			struct state_run *p = realloc(runs, cap * sizeof *runs);
			if (!p)
				abort(); /* out of memory */
			runs = p;
		}
		if (state_read_run(st, s, &runs[n]) < 0) {
			state_runs_free(runs, n);
			return -1;
		}
		n++;
	}
	if (rc != SQLITE_DONE) {
		state_fail(st, "cannot list runs", NULL, 0);
		state_runs_free(runs, n);
		return -1;
	}
	sqlite3_reset(s);
	if (state_tx_commit(st, NULL, 0) < 0) {
		state_runs_free(runs, n);
		return -1;
	}
	*out = runs;
	return (ssize_t)n;
}

void state_runs_free(struct state_run *runs, size_t n)
{
	for (size_t i = 0; runs && i < n; i++)
		state_run_clear(&runs[i]);
	free(runs);
}

/* A JSON object from stored text, or NULL when it is absent or not an object. */
static struct json_object *object_from(const char *text)
{
	if (!text)
		return NULL;
	struct json_object *o = json_tokener_parse(text);
	if (o && !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

struct json_object *state_run_log_json(struct state *st, int64_t id)
{
	if (state_tx_begin(st, false, NULL, 0) < 0)
		return NULL;
	sqlite3_stmt *s = state_stmt(st, SS_LOG_GET);
	if (!s) {
		state_fail(st, "cannot read the run's log", NULL, 0);
		return NULL;
	}
	sqlite3_bind_int64(s, 1, id);
	struct json_object *arr = json_object_new_array();
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct json_object *line = json_object_new_object();
		json_object_object_add(line, "ts",
		                       json_object_new_int64(sqlite3_column_int64(s, 0)));
		json_object_object_add(
		    line, "stream",
		    json_object_new_string((const char *)sqlite3_column_text(s, 1)));
		json_object_object_add(line, "level",
		                       json_object_new_int(sqlite3_column_int(s, 2)));
		json_object_object_add(
		    line, "text", json_object_new_string((const char *)sqlite3_column_text(s, 3)));
		struct json_object *fields = object_from((const char *)sqlite3_column_text(s, 4));
		if (fields)
			json_object_object_add(line, "fields", fields);
		json_object_array_add(arr, line);
	}
	if (rc != SQLITE_DONE) {
		state_fail(st, "cannot read the run's log", NULL, 0);
		json_object_put(arr);
		return NULL;
	}
	sqlite3_reset(s);
	if (state_tx_commit(st, NULL, 0) < 0) {
		json_object_put(arr);
		return NULL;
	}
	return arr;
}

static struct json_object *iso(int64_t secs)
{
	char buf[40];
	return json_object_new_string(civil_format_iso(secs, 0, buf, sizeof buf));
}

/* "SIGSEGV", or "signal N" for a number without a name (real-time signals). */
static struct json_object *signal_name(int sig)
{
	char buf[32];
	const char *abbrev = sigabbrev_np(sig);
	if (abbrev)
		snprintf(buf, sizeof buf, "SIG%s", abbrev);
	else
		snprintf(buf, sizeof buf, "signal %d", sig);
	return json_object_new_string(buf);
}

struct json_object *state_run_json(const struct state_run *r)
{
	struct json_object *o = json_object_new_object();
	bool ended = run_status_final(r->status) && r->ended_ms > 0;
	json_object_object_add(o, "id", json_object_new_int64(r->id));
	json_object_object_add(o, "job", json_object_new_string(r->job ? r->job : ""));
	json_object_object_add(o, "nominal", iso(r->nominal));
	json_object_object_add(o, "attempt", json_object_new_int64(r->attempt));
	json_object_object_add(o, "trigger", json_object_new_string(run_trigger_name(r->trigger)));
	json_object_object_add(o, "status", json_object_new_string(run_status_name(r->status)));
	json_object_object_add(o, "signal", r->signal > 0 ? signal_name(r->signal) : NULL);
	json_object_object_add(o, "dry_run", json_object_new_boolean(r->dry_run));
	json_object_object_add(o, "started", iso(civil_floordiv(r->started_ms, 1000)));
	json_object_object_add(o, "ended", ended ? iso(civil_floordiv(r->ended_ms, 1000)) : NULL);
	json_object_object_add(o, "duration_ms",
	                       ended ? json_object_new_int64(r->ended_ms - r->started_ms) : NULL);
	json_object_object_add(o, "summary",
	                       r->summary ? json_object_new_string(r->summary) : NULL);
	json_object_object_add(o, "counters", object_from(r->counters));
	return o;
}

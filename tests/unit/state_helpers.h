/* Shared by the state store tests: a temp directory per test and a raw SQLite look at the
 * file, to check what the store wrote without going through it. */
#ifndef CHORED_TEST_STATE_HELPERS_H
#define CHORED_TEST_STATE_HELPERS_H

#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "state.h"

struct tdir {
	char dir[64];
	char db[128]; /* DIR/state.db */
};

static inline void tdir_make(struct tdir *t)
{
	snprintf(t->dir, sizeof t->dir, "/tmp/chored-state-XXXXXX");
	if (!mkdtemp(t->dir)) {
		perror("mkdtemp");
		abort();
	}
	snprintf(t->db, sizeof t->db, "%s/state.db", t->dir);
}

static inline int tdir_rm_one(const char *p, const struct stat *sb, int flag, struct FTW *f)
{
	(void)sb;
	(void)flag;
	(void)f;
	return remove(p);
}

static inline void tdir_remove(struct tdir *t)
{
	nftw(t->dir, tdir_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* The first column of the first row of `sql` on a separate connection, or INT64_MIN. */
static inline int64_t raw_int(const char *db, const char *sql)
{
	sqlite3 *h;
	sqlite3_stmt *s;
	int64_t v = INT64_MIN;
	if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
		sqlite3_close(h);
		return v;
	}
	sqlite3_busy_timeout(h, 5000);
	if (sqlite3_prepare_v2(h, sql, -1, &s, NULL) == SQLITE_OK) {
		if (sqlite3_step(s) == SQLITE_ROW)
			v = sqlite3_column_int64(s, 0);
		sqlite3_finalize(s);
	}
	sqlite3_close(h);
	return v;
}

/* Runs `sql` (no rows) on a separate connection; SQLite's result code. */
static inline int raw_exec(const char *db, const char *sql)
{
	sqlite3 *h;
	if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
	    SQLITE_OK) {
		sqlite3_close(h);
		return SQLITE_CANTOPEN;
	}
	sqlite3_busy_timeout(h, 5000);
	int rc = sqlite3_exec(h, sql, NULL, NULL, NULL);
	sqlite3_close(h);
	return rc;
}

/* The single text value of `sql` into buf ("" when none). */
static inline const char *raw_text(const char *db, const char *sql, char *buf, size_t len)
{
	sqlite3 *h;
	sqlite3_stmt *s;
	buf[0] = '\0';
	if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(h, sql, -1, &s, NULL) == SQLITE_OK) {
		if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
			snprintf(buf, len, "%s", (const char *)sqlite3_column_text(s, 0));
		sqlite3_finalize(s);
	}
	sqlite3_close(h);
	return buf;
}

#endif

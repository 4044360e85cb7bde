/* SQL text handling (sdk/db_split.c): statement splitting for restore, transaction
 * statements, `?` numbering for PostgreSQL. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "db_impl.h"

struct got {
	char *s[16];
	int n;
	int stop_at; /* return 7 on this statement (1-based), 0: never */
};

static int collect(const char *stmt, void *data)
{
	struct got *g = data;
	assert_true(g->n < 16);
	g->s[g->n++] = strdup(stmt);
	return g->n == g->stop_at ? 7 : 0;
}

static void got_free(struct got *g)
{
	for (int i = 0; i < g->n; i++)
		free(g->s[i]);
}

static const char script[] =
    "-- a dump\nPRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\n"
    "CREATE TABLE t (a TEXT, b TEXT);\n"
    "INSERT INTO t VALUES('x; y','it''s ; fine');\n"
    "INSERT INTO t VALUES('multi\nline;\n', \"q;\");\n"
    "/* c; */ ;\n"
    "CREATE TRIGGER tr AFTER INSERT ON t BEGIN UPDATE t SET a = 'z;'; DELETE FROM t; END;\n"
    "COMMIT;\n-- trailing comment";

static const char *const want[] = {
    "PRAGMA foreign_keys=OFF;",
    "BEGIN TRANSACTION;",
    "CREATE TABLE t (a TEXT, b TEXT);",
    "INSERT INTO t VALUES('x; y','it''s ; fine');",
    "INSERT INTO t VALUES('multi\nline;\n', \"q;\");",
    "CREATE TRIGGER tr AFTER INSERT ON t BEGIN UPDATE t SET a = 'z;'; DELETE FROM t; END;",
    "COMMIT;",
};

static void check_split(size_t chunk)
{
	struct db_split sp = {0};
	struct got g = {0};
	size_t len = strlen(script);
	for (size_t off = 0; off < len; off += chunk) {
		size_t n = len - off < chunk ? len - off : chunk;
		assert_int_equal(db_split_feed(&sp, script + off, n, collect, &g), 0);
	}
	assert_int_equal(g.n, 7);
	for (int i = 0; i < 7; i++) {
		/* Leading comments are kept only when inside the statement. */
		const char *s = g.s[i];
		if (i == 0)
			s = strstr(s, "PRAGMA");
		assert_string_equal(s, want[i]);
	}
	assert_null(db_split_rest(&sp)); /* only a comment is left */
	got_free(&g);
	db_split_free(&sp);
}

static void split_whole(void **state)
{
	(void)state;
	check_split(sizeof script);
}

static void split_byte_by_byte(void **state)
{
	(void)state;
	check_split(1);
	check_split(5);
}

static void split_rest_and_stop(void **state)
{
	(void)state;
	struct db_split sp = {0};
	struct got g = {.stop_at = 2};
	const char *s = "SELECT 1; SELECT 2; SELECT 3; INSERT INTO t VALUES('open";
	assert_int_equal(db_split_feed(&sp, s, strlen(s), collect, &g), 7);
	assert_int_equal(g.n, 2);
	got_free(&g);
	db_split_free(&sp);

	struct got h = {0};
	assert_int_equal(db_split_feed(&sp, s, strlen(s), collect, &h), 0);
	assert_int_equal(h.n, 3);
	assert_string_equal(db_split_rest(&sp), "INSERT INTO t VALUES('open");
	/* A NUL byte inside a script is refused. */
	assert_int_equal(db_split_feed(&sp, "x\0y;", 4, collect, &h), -3);
	got_free(&h);
	db_split_free(&sp);
}

static void txn_control(void **state)
{
	(void)state;
	const char *yes[] = {"BEGIN;",         "begin transaction;", "  BEGIN IMMEDIATE;",
	                     "COMMIT;",        "END TRANSACTION;",   "ROLLBACK;",
	                     "rollback work;", "START TRANSACTION;", "-- c\nCOMMIT;"};
	const char *no[] = {"ROLLBACK TO sp1;",
	                    "ROLLBACK TRANSACTION TO SAVEPOINT a;",
	                    "BEGINNING;",
	                    "CREATE TRIGGER x AFTER INSERT ON t BEGIN SELECT 1; END;",
	                    "SAVEPOINT a;",
	                    "START;",
	                    "INSERT INTO t VALUES('BEGIN');",
	                    "COMMITTED;"};
	for (size_t i = 0; i < sizeof yes / sizeof *yes; i++)
		assert_true(db_is_txn_control(yes[i]));
	for (size_t i = 0; i < sizeof no / sizeof *no; i++)
		assert_false(db_is_txn_control(no[i]));
}

static void dollar(void **state)
{
	(void)state;
	struct {
		const char *in, *out;
	} cases[] = {
	    {"SELECT ? , ?", "SELECT $1 , $2"},
	    {"INSERT INTO t VALUES (?, 'is it?', \"col?\", ?)",
	     "INSERT INTO t VALUES ($1, 'is it?', \"col?\", $2)"},
	    {"SELECT 'it''s ?' || ?", "SELECT 'it''s ?' || $1"},
	    {"SELECT E'a\\'?' , ?", "SELECT E'a\\'?' , $1"},
	    {"SELECT ? -- what?\n, ? /* and ? */", "SELECT $1 -- what?\n, $2 /* and ? */"},
	    {"SELECT $$ ? $$, $tag$ ?$ $tag$, ?", "SELECT $$ ? $$, $tag$ ?$ $tag$, $1"},
	    {"SELECT $1, $2", "SELECT $1, $2"},
	    {"SELECT 'unterminated ?", "SELECT 'unterminated ?"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		char *o = db_sql_dollar(cases[i].in);
		assert_string_equal(o, cases[i].out);
		free(o);
	}
}

static void count(void **state)
{
	(void)state;
	assert_int_equal(db_count_statements("SELECT 1"), 1);
	assert_int_equal(db_count_statements("SELECT 1;"), 1);
	assert_int_equal(db_count_statements("SELECT 1; -- done\n"), 1);
	assert_int_equal(db_count_statements("SELECT 'a;b'; "), 1);
	assert_int_equal(db_count_statements("SELECT 1; SELECT 2"), 2);
	assert_int_equal(db_count_statements("INSERT INTO t VALUES('x'); DROP TABLE t;--')"), 2);
	assert_int_equal(db_count_statements(""), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(split_whole),
	    cmocka_unit_test(split_byte_by_byte),
	    cmocka_unit_test(split_rest_and_stop),
	    cmocka_unit_test(txn_control),
	    cmocka_unit_test(dollar),
	    cmocka_unit_test(count),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

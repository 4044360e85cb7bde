/* Database URLs (sdk/db_url.c): the backend and its parts, clear errors, and passwords
 * never shown. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "db_impl.h"

static void sqlite_path(void **state)
{
	(void)state;
	struct db_url u;
	char err[256];
	assert_int_equal(db_url_parse("sqlite:///var/lib/x/my%20db.sqlite", &u, err, sizeof err),
	                 0);
	assert_int_equal(u.kind, CHORED_DB_SQLITE);
	assert_string_equal(u.path, "/var/lib/x/my db.sqlite");
	assert_string_equal(u.shown, "sqlite:///var/lib/x/my%20db.sqlite");
	assert_null(u.password);
	db_url_free(&u);
}

static void sqlite_errors(void **state)
{
	(void)state;
	struct db_url u;
	char err[256];
	assert_int_equal(db_url_parse("sqlite://host/x.db", &u, err, sizeof err), -1);
	assert_non_null(strstr(err, "absolute path: sqlite:///abs/path (no host part)"));
	assert_int_equal(db_url_parse("sqlite://", &u, err, sizeof err), -1);
	assert_non_null(strstr(err, "sqlite:///abs/path"));
	assert_int_equal(db_url_parse("sqlite:///x.db?mode=ro", &u, err, sizeof err), -1);
	assert_non_null(strstr(err, "no query"));
	assert_int_equal(db_url_parse("sqlite:///dir/", &u, err, sizeof err), -1);
	assert_non_null(strstr(err, "names no file"));
	assert_int_equal(db_url_parse("sqlite:///a%2", &u, err, sizeof err), -1);
	assert_non_null(strstr(err, "bad percent escape"));
	assert_int_equal(db_url_parse("sqlite:///a%00b", &u, err, sizeof err), -1);
	assert_non_null(strstr(err, "bad percent escape"));
}

static void postgres_password_hidden(void **state)
{
	(void)state;
	struct db_url u;
	char err[256];
	assert_int_equal(
	    db_url_parse("postgresql://bob:s%40cret@db.example:5433/app?sslmode=require", &u, err,
	                 sizeof err),
	    0);
	assert_int_equal(u.kind, CHORED_DB_POSTGRESQL);
	assert_string_equal(u.password, "s@cret");
	assert_string_equal(u.shown, "postgresql://bob:***@db.example:5433/app?sslmode=require");
	assert_string_equal(u.conninfo,
	                    "postgresql://bob:s%40cret@db.example:5433/app?sslmode=require");
	db_url_free(&u);

	assert_int_equal(
	    db_url_parse("postgres://h/app?user=bob&password=pw1&x=y", &u, err, sizeof err), 0);
	assert_string_equal(u.password, "pw1");
	assert_string_equal(u.shown, "postgres://h/app?user=bob&password=***&x=y");
	db_url_free(&u);

	/* No password: nothing hidden; a short one still leaves no trace. */
	assert_int_equal(db_url_parse("postgresql://bob@h/app", &u, err, sizeof err), 0);
	assert_null(u.password);
	assert_string_equal(u.shown, "postgresql://bob@h/app");
	db_url_free(&u);
	assert_int_equal(db_url_parse("postgresql://a:b@h", &u, err, sizeof err), 0);
	assert_string_equal(u.shown, "postgresql://a:***@h");
	db_url_free(&u);
}

static void d1(void **state)
{
	(void)state;
	struct db_url u;
	char err[256];
	assert_int_equal(
	    db_url_parse("d1://0123abcd/4d3c2b1a-0000-4000-8000-000000000001", &u, err, sizeof err),
	    0);
	assert_int_equal(u.kind, CHORED_DB_D1);
	assert_string_equal(u.account, "0123abcd");
	assert_string_equal(u.database, "4d3c2b1a-0000-4000-8000-000000000001");
	db_url_free(&u);
	const char *bad[] = {"d1://acc",      "d1://acc/",   "d1:///db",
	                     "d1://acc/db/x", "d1://a c/db", "d1://acc/db?x=1"};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		assert_int_equal(db_url_parse(bad[i], &u, err, sizeof err), -1);
		assert_non_null(strstr(err, "expected d1://ACCOUNT_ID/DATABASE_ID"));
	}
}

static void unknown_scheme_hides_the_rest(void **state)
{
	(void)state;
	struct db_url u;
	char err[256];
	assert_int_equal(db_url_parse("mysql://root:hunter2@h/db", &u, err, sizeof err), -1);
	assert_string_equal(err, "bad database URL: unknown scheme \"mysql\" (expected sqlite://, "
	                         "postgresql://, postgres:// or d1://)");
	assert_int_equal(db_url_parse("/var/lib/x.db", &u, err, sizeof err), -1);
	assert_non_null(strstr(err, "not a URL"));
	assert_int_equal(db_url_parse("", &u, err, sizeof err), -1);
	assert_string_equal(err, "no database URL given");
	assert_int_equal(db_url_parse(NULL, &u, err, 0), -1); /* no buffer: no write */
}

static void scrub(void **state)
{
	(void)state;
	char out[64];
	const char *s[] = {"hunter2", NULL, "tok"};
	db_scrub(out, sizeof out, "pw hunter2 and tok, tok!", s, 3);
	assert_string_equal(out, "pw *** and ***, ***!");
	db_scrub(out, 6, "hunter2 long", s, 3);
	assert_string_equal(out, "*** l");
	db_scrub(out, sizeof out, "nothing", s, 0);
	assert_string_equal(out, "nothing");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(sqlite_path),
	    cmocka_unit_test(sqlite_errors),
	    cmocka_unit_test(postgres_password_hidden),
	    cmocka_unit_test(d1),
	    cmocka_unit_test(unknown_scheme_hides_the_rest),
	    cmocka_unit_test(scrub),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

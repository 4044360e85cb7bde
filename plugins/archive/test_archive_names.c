/* The archive plugin's name rules (plugins/archive/ident.c): the identifier rule that keeps
 * configured table and column names out of SQL injection, and key prefixes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "archive.h"

static void test_ident(void **state)
{
	(void)state;
	const char *good[] = {
	    "events", "created_at",
	    "_x",     "A1",
	    "t_2026", "a23456789012345678901234567890123456789012345678901234567890123"};
	for (size_t i = 0; i < sizeof good / sizeof *good; i++)
		assert_true(ar_ident_ok(good[i]));
	const char *bad[] = {
	    "",       "1abc", "a b",
	    "a-b",    "a.b",  "\"a\"",
	    "a;drop", "a'",   "événement",
	    "a\tb",   "a--",  "a234567890123456789012345678901234567890123456789012345678901234"};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		assert_false(ar_ident_ok(bad[i]));
	assert_false(ar_ident_ok(NULL));
}

static void test_prefix(void **state)
{
	(void)state;
	assert_true(ar_prefix_ok(""));
	assert_true(ar_prefix_ok("archive"));
	assert_true(ar_prefix_ok("site/archive.v2/ev-1"));
	assert_true(ar_prefix_ok("a..b"));
	const char *bad[] = {"/abs", "a/", "a//b", "..", "a/../b", ".", "a/./b", "a b", "a?b", "é"};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		assert_false(ar_prefix_ok(bad[i]));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ident),
	    cmocka_unit_test(test_prefix),
	};
	return cmocka_run_group_tests_name("archive names", tests, NULL, NULL);
}

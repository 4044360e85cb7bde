/* Calendar arithmetic and ISO 8601 formatting/parsing (daemon/civil.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "civil.h"

/* Walks day by day across a range, checking that civil_from_days counts the calendar the
 * slow way (month lengths and leap years) and that civil_days_from inverts it. */
static void walk_days(int64_t y0, int64_t years)
{
	int64_t days = civil_days_from(y0, 1, 1);
	int64_t y = y0;
	int m = 1, d = 1;
	int wd = civil_weekday(days);
	for (int64_t n = 0; y < y0 + years; n++) {
		int64_t gy;
		int gm, gd;
		civil_from_days(days, &gy, &gm, &gd);
		if (gy != y || gm != m || gd != d)
			fail_msg("day %" PRId64 ": got %" PRId64 "-%d-%d, want %" PRId64 "-%d-%d",
			         days, gy, gm, gd, y, m, d);
		assert_true(civil_days_from(y, m, d) == days);
		assert_int_equal(civil_weekday(days), wd);
		wd = (wd + 1) % 7;
		days++;
		if (++d > civil_days_in_month(y, m)) {
			d = 1;
			if (++m > 12) {
				m = 1;
				y++;
			}
		}
	}
}

static void test_days_round_trip(void **state)
{
	(void)state;
	assert_true(civil_days_from(1970, 1, 1) == 0);
	assert_true(civil_days_from(2000, 3, 1) == 11017);
	assert_true(civil_days_from(1969, 12, 31) == -1);
	assert_true(civil_days_from(0, 3, 1) == -719468);
	walk_days(-1200, 1000); /* negative years, year 0 */
	walk_days(1600, 900);   /* 1700/1800/1900 are not leap, 2000 is */
	walk_days(2390, 420);   /* year 2400 and past */
	walk_days(9990, 20);
	/* Far out, a sparse round trip: the arithmetic is on int64 years. */
	for (int64_t y = -5000000; y <= 5000000; y += 99991) {
		for (int m = 1; m <= 12; m++) {
			int64_t days = civil_days_from(y, m, 17), gy;
			int gm, gd;
			civil_from_days(days, &gy, &gm, &gd);
			assert_true(gy == y);
			assert_int_equal(gm, m);
			assert_int_equal(gd, 17);
		}
	}
	/* A 400-year cycle is exactly 146097 days, matching CIVIL_SECS_PER_400Y. */
	assert_true(civil_days_from(2400, 5, 6) - civil_days_from(2000, 5, 6) == 146097);
	assert_true(civil_days_from(-400, 1, 1) - civil_days_from(-800, 1, 1) == 146097);
	assert_true((int64_t)146097 * CIVIL_SECS_PER_DAY == CIVIL_SECS_PER_400Y);
	/* Days past the end of a month carry into the next. */
	assert_true(civil_days_from(2026, 1, 32) == civil_days_from(2026, 2, 1));
	assert_true(civil_days_from(2024, 2, 30) == civil_days_from(2024, 3, 1));
	assert_true(civil_days_from(2026, 12, 32) == civil_days_from(2027, 1, 1));
}

static void test_weekday_and_leap(void **state)
{
	(void)state;
	assert_int_equal(civil_weekday(0), 4);                            /* 1970-01-01 Thursday */
	assert_int_equal(civil_weekday(-1), 3);                           /* Wednesday */
	assert_int_equal(civil_weekday(civil_days_from(2026, 3, 29)), 0); /* a Sunday */
	assert_int_equal(civil_weekday(civil_days_from(2000, 1, 1)), 6);  /* Saturday */
	assert_int_equal(civil_weekday(civil_days_from(1, 1, 1)), 1);     /* Monday */
	assert_int_equal(civil_weekday(civil_days_from(2400, 2, 29)), 2); /* Tuesday */
	assert_int_equal(civil_weekday(civil_days_from(-1, 12, 31)), 5);  /* Friday */
	assert_true(civil_is_leap(2000));
	assert_true(civil_is_leap(2024));
	assert_true(civil_is_leap(2400));
	assert_true(civil_is_leap(0));
	assert_true(civil_is_leap(-4));
	assert_true(civil_is_leap(-400));
	assert_false(civil_is_leap(1900));
	assert_false(civil_is_leap(2100));
	assert_false(civil_is_leap(2026));
	assert_false(civil_is_leap(-1));
	assert_false(civil_is_leap(-100));
	const int dim[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	for (int m = 1; m <= 12; m++) {
		assert_int_equal(civil_days_in_month(2026, m), dim[m - 1]);
		assert_int_equal(civil_days_in_month(2024, m), m == 2 ? 29 : dim[m - 1]);
	}
	assert_int_equal(civil_days_in_month(1900, 2), 28);
	assert_int_equal(civil_days_in_month(2000, 2), 29);
	assert_int_equal(civil_days_in_month(-4, 2), 29);
}

/* Against glibc's gmtime_r, which handles the proleptic calendar for 64-bit time_t. */
static void test_secs_vs_gmtime(void **state)
{
	(void)state;
	uint64_t x = 0x2545f4914f6cdd1du;
	for (int i = 0; i < 200000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		/* years about -9000 to 11000 */
		int64_t t = (int64_t)(x % UINT64_C(631152000000)) - INT64_C(346000000000);
		if (i < 4)
			t = (int64_t[]){0, -1, 951782400, -62135596800}[i];
		time_t tt = (time_t)t;
		struct tm tm;
		assert_non_null(gmtime_r(&tt, &tm));
		struct civil c;
		civil_from_secs(t, &c);
		if (c.year != tm.tm_year + 1900LL || c.month != tm.tm_mon + 1 ||
		    c.day != tm.tm_mday || c.hour != tm.tm_hour || c.minute != tm.tm_min ||
		    c.second != tm.tm_sec)
			fail_msg("%" PRId64 ": %" PRId64 "-%d-%d %d:%d:%d", t, c.year, c.month,
			         c.day, c.hour, c.minute, c.second);
		assert_true(civil_to_secs(&c) == t);
		assert_int_equal(civil_weekday(civil_floordiv(t, CIVIL_SECS_PER_DAY)), tm.tm_wday);
	}
}

static void test_floordiv(void **state)
{
	(void)state;
	assert_true(civil_floordiv(7, 2) == 3);
	assert_true(civil_floordiv(-7, 2) == -4);
	assert_true(civil_floordiv(-8, 2) == -4);
	assert_true(civil_floordiv(7, -2) == -4);
	assert_true(civil_floordiv(-1, 86400) == -1);
	assert_true(civil_floordiv(0, 86400) == 0);
}

static void expect_format(int64_t utc, int32_t off, const char *want)
{
	char buf[64];
	assert_string_equal(civil_format_iso(utc, off, buf, sizeof buf), want);
}

static void test_format(void **state)
{
	(void)state;
	const int64_t t = civil_days_from(2026, 3, 29) * CIVIL_SECS_PER_DAY + 3600; /* 01:00Z */
	expect_format(t, 7200, "2026-03-29T03:00:00+02:00");
	expect_format(t, 0, "2026-03-29T01:00:00+00:00");
	expect_format(t, 5 * 3600 + 45 * 60, "2026-03-29T06:45:00+05:45");
	expect_format(t, -3 * 3600, "2026-03-28T22:00:00-03:00");
	expect_format(t, -(9 * 3600 + 30 * 60), "2026-03-28T15:30:00-09:30");
	expect_format(t, -1800, "2026-03-29T00:30:00-00:30");
	/* Local mean time offsets carry seconds: Amsterdam's +00:19:32 until 1937. */
	expect_format(t, 19 * 60 + 32, "2026-03-29T01:19:32+00:19:32");
	expect_format(t, -(4 * 3600 + 56 * 60 + 2), "2026-03-28T20:03:58-04:56:02");
	expect_format(t + 59, 0, "2026-03-29T01:00:59+00:00");
	expect_format(-1, 0, "1969-12-31T23:59:59+00:00");
	expect_format(civil_days_from(2400, 2, 29) * CIVIL_SECS_PER_DAY, 14 * 3600,
	              "2400-02-29T14:00:00+14:00");
	/* Exactly the documented minimum buffer. */
	char small[32];
	civil_format_iso(t, -(4 * 3600 + 56 * 60 + 2), small, sizeof small);
	assert_string_equal(small, "2026-03-28T20:03:58-04:56:02");
}

static void expect_parse(const char *text, int64_t want)
{
	int64_t got = -42;
	char err[256] = "";
	if (civil_parse_iso(text, &got, err, sizeof err) != 0)
		fail_msg("'%s': %s", text, err);
	if (got != want)
		fail_msg("'%s': got %" PRId64 ", want %" PRId64, text, got, want);
}

static void expect_reject(const char *text, const char *needle)
{
	int64_t got = -42;
	char err[256] = "";
	if (civil_parse_iso(text, &got, err, sizeof err) == 0)
		fail_msg("'%s' was accepted as %" PRId64, text, got);
	assert_true(got == -42);
	if (!strstr(err, needle) || !strstr(err, text))
		fail_msg("'%s': message '%s' lacks '%s' or the input", text, err, needle);
}

static void test_parse(void **state)
{
	(void)state;
	const int64_t t = civil_days_from(2026, 3, 29) * CIVIL_SECS_PER_DAY + 3600; /* 01:00Z */
	expect_parse("2026-03-29T01:00:00Z", t);
	expect_parse("2026-03-29T01:00Z", t);
	expect_parse("2026-03-29t01:00:00z", t);
	expect_parse("2026-03-29 01:00:00Z", t);
	expect_parse("2026-03-29T03:00:00+02:00", t);
	expect_parse("2026-03-29T03:00:00+0200", t);
	expect_parse("2026-03-29T03:00:00+02", t);
	expect_parse("2026-03-29T06:45:00+05:45", t);
	expect_parse("2026-03-29T06:45+0545", t);
	expect_parse("2026-03-28T22:00:00-03:00", t);
	expect_parse("2026-03-28T22:00:00-03", t);
	expect_parse("2026-03-29T01:00:00+00:00", t);
	expect_parse("2026-03-29T01:00:00-00:00", t);
	expect_parse("2026-03-29T01:00:59Z", t + 59);
	expect_parse("1970-01-01T00:00:00Z", 0);
	expect_parse("1969-12-31T23:59:59Z", -1);
	expect_parse("2024-02-29T12:00:00Z",
	             civil_days_from(2024, 2, 29) * CIVIL_SECS_PER_DAY + 12 * 3600);
	expect_parse("0001-01-01T00:00:00Z", -62135596800);
	/* Round trip through the formatter, seconds-free offsets. */
	const int32_t offs[] = {0, 3600, -10800, 20700, -34200, 50400, -43200};
	for (size_t i = 0; i < sizeof offs / sizeof *offs; i++) {
		char buf[64];
		int64_t u = t + (int64_t)i * 1234567;
		expect_parse(civil_format_iso(u, offs[i], buf, sizeof buf), u);
	}

	expect_reject("2026-03-29T01:00:00", "no zone");
	expect_reject("2026-03-29T01:00", "no zone");
	expect_reject("2026-02-30T00:00:00Z", "not a valid date");
	expect_reject("2026-02-29T00:00:00Z", "not a valid date");
	expect_reject("2100-02-29T00:00:00Z", "not a valid date");
	expect_reject("2026-04-31T00:00:00Z", "not a valid date");
	expect_reject("2026-13-01T00:00:00Z", "not a valid date");
	expect_reject("2026-00-01T00:00:00Z", "not a valid date");
	expect_reject("2026-01-00T00:00:00Z", "not a valid date");
	expect_reject("2026-03-29T24:00:00Z", "not a valid date");
	expect_reject("2026-03-29T23:60:00Z", "not a valid date");
	expect_reject("2026-03-29T23:59:60Z", "not a valid date");
	const char *malformed[] = {
	    "",
	    "2026",
	    "2026-03-29",
	    "2026-03-29T",
	    "2026-03-29T1:00Z",
	    "2026-3-29T01:00Z",
	    "26-03-29T01:00Z",
	    "2026/03/29T01:00Z",
	    "2026-03-29X01:00Z",
	    "2026-03-29T01:00:00ZZ",
	    "2026-03-29T01:00:00Z ",
	    "2026-03-29T01:00:0Z",
	    "2026-03-29T01:00:00+2",
	    "2026-03-29T01:00:00+02:",
	    "2026-03-29T01:00:00+02:0",
	    "2026-03-29T01:00:00+020",
	    "2026-03-29T01:00:00+02:000",
	    "2026-03-29T01:00:00+24:00",
	    "2026-03-29T01:00:00+02:60",
	    "2026-03-29T01:00:00+",
	    "2026-03-29T01:00:00+02:00:00",
	    "2026-03-29T01:00:00 +02:00",
	    "-2026-03-29T01:00:00Z",
	    "2026-03-29T01:00:00.5Z",
	};
	for (size_t i = 0; i < sizeof malformed / sizeof *malformed; i++) {
		int64_t got = -42;
		char err[256] = "";
		if (civil_parse_iso(malformed[i], &got, err, sizeof err) == 0)
			fail_msg("'%s' was accepted as %" PRId64, malformed[i], got);
		if (!strstr(err, malformed[i]))
			fail_msg("'%s': message '%s' does not quote the input", malformed[i], err);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_days_round_trip), cmocka_unit_test(test_weekday_and_leap),
	    cmocka_unit_test(test_secs_vs_gmtime),  cmocka_unit_test(test_floordiv),
	    cmocka_unit_test(test_format),          cmocka_unit_test(test_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

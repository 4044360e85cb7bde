/* chored/time.h: wall clocks of IANA zones for plugins, through libchored's public API. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <chored/time.h>

/* 2026-03-29 in Europe/Paris: 02:00 CET → 03:00 CEST at 01:00Z.
 * 2026-10-25: 03:00 CEST → 02:00 CET at 01:00Z. */
#define SPRING_JUMP INT64_C(1774746000) /* 2026-03-29T01:00:00Z */
#define AUTUMN_JUMP INT64_C(1792890000) /* 2026-10-25T01:00:00Z */

static void test_local(void **state)
{
	(void)state;
	struct chored_tm tm;
	assert_int_equal(chored_time_local("Europe/Paris", SPRING_JUMP - 1, &tm), 0);
	assert_int_equal(tm.hour, 1);
	assert_int_equal(tm.minute, 59);
	assert_int_equal(tm.offset, 3600);
	assert_int_equal(tm.weekday, 0); /* a Sunday */
	assert_int_equal(chored_time_local("Europe/Paris", SPRING_JUMP, &tm), 0);
	assert_int_equal(tm.hour, 3);
	assert_int_equal(tm.offset, 7200);
	/* Across midnight: 23:30Z on Saturday is Sunday 00:30 in Paris. */
	assert_int_equal(chored_time_local("Europe/Paris", SPRING_JUMP - 90 * 60, &tm), 0);
	assert_int_equal(tm.day, 29);
	assert_int_equal(tm.hour, 0);
	assert_int_equal(tm.weekday, 0);
	assert_int_equal(chored_time_local("UTC", SPRING_JUMP - 90 * 60, &tm), 0);
	assert_int_equal(tm.day, 28);
	assert_int_equal(tm.weekday, 6);
	assert_int_equal(chored_time_local("Mars/Olympus", 0, &tm), -1);
}

static void test_utc(void **state)
{
	(void)state;
	int64_t u;
	assert_int_equal(chored_time_utc("Europe/Paris", 2026, 3, 29, 1, 30, 0, &u), 0);
	assert_int_equal(u, SPRING_JUMP - 30 * 60);
	/* 02:30 does not exist that day: the instant of the jump. */
	assert_int_equal(chored_time_utc("Europe/Paris", 2026, 3, 29, 2, 30, 0, &u), 0);
	assert_int_equal(u, SPRING_JUMP);
	assert_int_equal(chored_time_utc("Europe/Paris", 2026, 3, 29, 3, 0, 0, &u), 0);
	assert_int_equal(u, SPRING_JUMP);
	/* 02:30 happens twice in October: the first occurrence (CEST). */
	assert_int_equal(chored_time_utc("Europe/Paris", 2026, 10, 25, 2, 30, 0, &u), 0);
	assert_int_equal(u, AUTUMN_JUMP - 30 * 60);
	/* Fields carry: month 13 day 32 is 2028-02-01. */
	assert_int_equal(chored_time_utc("UTC", 2027, 13, 32, 0, 0, 0, &u), 0);
	assert_int_equal(u, chored_days_from_civil(2028, 2, 1) * 86400);
	assert_int_equal(chored_time_utc("UTC", 2027, 0, 1, 0, 0, 0, &u), 0);
	assert_int_equal(u, chored_days_from_civil(2026, 12, 1) * 86400);
	assert_int_equal(chored_time_utc("Nowhere/Zone", 2026, 1, 1, 0, 0, 0, &u), -1);
	/* Round trip over a year of hours in a zone with a half-hour offset and DST. */
	for (int64_t t = SPRING_JUMP; t < SPRING_JUMP + 366 * 86400; t += 3600) {
		struct chored_tm tm;
		assert_int_equal(chored_time_local("Australia/Adelaide", t, &tm), 0);
		int64_t back;
		assert_int_equal(chored_time_utc("Australia/Adelaide", tm.year, tm.month, tm.day,
		                                 tm.hour, tm.minute, tm.second, &back),
		                 0);
		/* Equal, except for the second pass of a repeated hour (first occurrence wins). */
		if (back != t)
			assert_int_equal(back, t - 3600);
	}
}

static void test_days(void **state)
{
	(void)state;
	assert_int_equal(chored_days_from_civil(1970, 1, 1), 0);
	int y, m, d;
	chored_civil_from_days(chored_days_from_civil(2028, 2, 29), &y, &m, &d);
	assert_int_equal(y, 2028);
	assert_int_equal(m, 2);
	assert_int_equal(d, 29);
	assert_int_equal(chored_weekday(chored_days_from_civil(2026, 11, 23)), 1); /* Monday */
	assert_int_equal(chored_days_in_month(2026, 2), 28);
	assert_int_equal(chored_days_in_month(2028, 2), 29);
}

static void test_iso(void **state)
{
	(void)state;
	char buf[40];
	assert_string_equal(chored_time_iso(SPRING_JUMP, 7200, 0, buf, sizeof buf),
	                    "2026-03-29T03:00:00+02:00");
	assert_string_equal(chored_time_iso(SPRING_JUMP, 0, 1, buf, sizeof buf),
	                    "2026-03-29T01:00:00Z");
	int64_t u;
	assert_int_equal(chored_time_parse_iso("2026-03-29T03:00:00.000+02:00", &u), 0);
	assert_int_equal(u, SPRING_JUMP);
	assert_int_equal(chored_time_parse_iso("2026-03-29T01:00:00Z", &u), 0);
	assert_int_equal(u, SPRING_JUMP);
	assert_int_equal(chored_time_parse_iso("2026-03-29T01:00:00.Z", &u), -1);
	assert_int_equal(chored_time_parse_iso("2026-03-29", &u), -1);
	assert_int_equal(chored_time_parse_iso("2026-02-30T00:00:00Z", &u), -1);
	char err[256] = "";
	assert_int_equal(chored_time_zone_check("Europe/Paris", err, sizeof err), 0);
	assert_int_equal(chored_time_zone_check("Europe/Pariss", err, sizeof err), -1);
	assert_non_null(strstr(err, "Europe/Pariss"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_local),
	    cmocka_unit_test(test_utc),
	    cmocka_unit_test(test_days),
	    cmocka_unit_test(test_iso),
	};
	return cmocka_run_group_tests_name("sdk_time", tests, NULL, NULL);
}

/* cron_next in UTC and fixed zones: every day-matching feature, steps, macros and calendar
 * edges. Expected values come from the calendar (weekdays checked by hand), not from the code. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "cron_helpers.h"

static void test_last_day(void **state)
{
	(void)state;
	assert_next(
	    "0 0 L * *", "UTC", "2028-01-15T00:00:00Z", 3,
	    "2028-01-31T00:00:00+00:00 2028-02-29T00:00:00+00:00 2028-03-31T00:00:00+00:00");
	assert_next(
	    "0 0 L-3 * *", "UTC", "2027-02-01T00:00:00Z", 3,
	    "2027-02-25T00:00:00+00:00 2027-03-28T00:00:00+00:00 2027-04-27T00:00:00+00:00");
	/* L-30 is day 1 of 31-day months only. */
	assert_next(
	    "0 0 L-30 * *", "UTC", "2026-02-01T00:00:00Z", 3,
	    "2026-03-01T00:00:00+00:00 2026-05-01T00:00:00+00:00 2026-07-01T00:00:00+00:00");
	assert_next(
	    "0 0 1,L * *", "UTC", "2026-02-01T00:00:00Z", 3,
	    "2026-02-28T00:00:00+00:00 2026-03-01T00:00:00+00:00 2026-03-31T00:00:00+00:00");
}

static void test_nearest_weekday(void **state)
{
	(void)state;
	/* 2026-08-01 is a Saturday: 1W moves forward to Monday the 3rd, never into July;
	 * 2026-11-01 is a Sunday: Monday the 2nd. */
	assert_next("0 12 1W * *", "UTC", "2026-07-15T00:00:00Z", 4,
	            "2026-08-03T12:00:00+00:00 2026-09-01T12:00:00+00:00 2026-10-01T12:00:00+00:00 "
	            "2026-11-02T12:00:00+00:00");
	/* 31W: no firing in 30-day months; 2026-05-31 is a Sunday -> Friday 29th (not June 1st);
	 * 2026-10-31 is a Saturday -> Friday 30th. */
	assert_next("0 12 31W * *", "UTC", "2026-04-01T00:00:00Z", 4,
	            "2026-05-29T12:00:00+00:00 2026-07-31T12:00:00+00:00 2026-08-31T12:00:00+00:00 "
	            "2026-10-30T12:00:00+00:00");
	assert_next(
	    "0 0 LW * *", "UTC", "2026-05-01T00:00:00Z", 3,
	    "2026-05-29T00:00:00+00:00 2026-06-30T00:00:00+00:00 2026-07-31T00:00:00+00:00");
}

static void test_weekday_specials(void **state)
{
	(void)state;
	assert_next(
	    "0 0 * * 0L", "UTC", "2026-01-01T00:00:00Z", 3,
	    "2026-01-25T00:00:00+00:00 2026-02-22T00:00:00+00:00 2026-03-29T00:00:00+00:00");
	assert_next("0 0 * * FRIL", "UTC", "2026-01-01T00:00:00Z", 2,
	            "2026-01-30T00:00:00+00:00 2026-02-27T00:00:00+00:00");
	/* Months of 2026 with a fifth Friday: January, May, July, October. */
	assert_next("0 0 * * 5#5", "UTC", "2026-01-01T00:00:00Z", 4,
	            "2026-01-30T00:00:00+00:00 2026-05-29T00:00:00+00:00 2026-07-31T00:00:00+00:00 "
	            "2026-10-30T00:00:00+00:00");
	assert_next("0 9 * * 1#1,1#3", "UTC", "2026-01-01T00:00:00Z", 4,
	            "2026-01-05T09:00:00+00:00 2026-01-19T09:00:00+00:00 2026-02-02T09:00:00+00:00 "
	            "2026-02-16T09:00:00+00:00");
	assert_next(
	    "0 0 * * 1#1,5L", "UTC", "2026-01-01T00:00:00Z", 3,
	    "2026-01-05T00:00:00+00:00 2026-01-30T00:00:00+00:00 2026-02-02T00:00:00+00:00");
}

static void test_or_and_rule(void **state)
{
	(void)state;
	/* Both restricted: the 13th OR any Friday. */
	assert_next(
	    "0 0 13 * 5", "UTC", "2026-03-19T12:00:00Z", 6,
	    "2026-03-20T00:00:00+00:00 2026-03-27T00:00:00+00:00 2026-04-03T00:00:00+00:00 "
	    "2026-04-10T00:00:00+00:00 2026-04-13T00:00:00+00:00 2026-04-17T00:00:00+00:00");
	/* dom starts with '*': AND, so Mondays on odd days. */
	assert_next(
	    "0 0 */2 * 1", "UTC", "2026-01-01T00:00:00Z", 3,
	    "2026-01-05T00:00:00+00:00 2026-01-19T00:00:00+00:00 2026-02-09T00:00:00+00:00");
	/* dow starts with '*': AND, so the first Sunday of each month. */
	assert_next(
	    "0 0 1-7 * */7", "UTC", "2026-01-01T00:00:00Z", 3,
	    "2026-01-04T00:00:00+00:00 2026-02-01T00:00:00+00:00 2026-03-01T00:00:00+00:00");
	/* '?' counts as unrestricted. */
	assert_next("0 0 ? * 1", "UTC", "2026-01-01T00:00:00Z", 2,
	            "2026-01-05T00:00:00+00:00 2026-01-12T00:00:00+00:00");
	/* OR makes an impossible day-of-month fire on the weekday. */
	assert_next("0 0 30 2 5", "UTC", "2026-01-01T00:00:00Z", 2,
	            "2026-02-06T00:00:00+00:00 2026-02-13T00:00:00+00:00");
	assert_next(
	    "0 0 * * 5-7", "UTC", "2026-01-01T00:00:00Z", 3,
	    "2026-01-02T00:00:00+00:00 2026-01-03T00:00:00+00:00 2026-01-04T00:00:00+00:00");
	assert_next("0 0 * * 7", "UTC", "2026-01-01T00:00:00Z", 1, "2026-01-04T00:00:00+00:00");
}

static void test_steps(void **state)
{
	(void)state;
	assert_next("5/20 * * * *", "UTC", "2026-01-01T10:50:00Z", 4,
	            "2026-01-01T11:05:00+00:00 2026-01-01T11:25:00+00:00 2026-01-01T11:45:00+00:00 "
	            "2026-01-01T12:05:00+00:00");
	/* a/n never carries into the next unit. */
	assert_next("0 22/5 * * *", "UTC", "2026-01-01T00:00:00Z", 2,
	            "2026-01-01T22:00:00+00:00 2026-01-02T22:00:00+00:00");
	assert_next("0 0 1 7/6 *", "UTC", "2026-01-01T00:00:00Z", 2,
	            "2026-07-01T00:00:00+00:00 2027-07-01T00:00:00+00:00");
	assert_next("0 0 30/5 * *", "UTC", "2026-01-01T00:00:00Z", 2,
	            "2026-01-30T00:00:00+00:00 2026-03-30T00:00:00+00:00");
	assert_next("0 0 1 JAN-MAR/2 *", "UTC", "2026-01-02T00:00:00Z", 2,
	            "2026-03-01T00:00:00+00:00 2027-01-01T00:00:00+00:00");
	assert_next(
	    "0 9-17/4 * * *", "UTC", "2026-01-01T10:00:00Z", 3,
	    "2026-01-01T13:00:00+00:00 2026-01-01T17:00:00+00:00 2026-01-02T09:00:00+00:00");
}

static void test_seconds(void **state)
{
	(void)state;
	assert_next(
	    "*/20 * * * * *", "UTC", "2026-01-01T00:00:50Z", 3,
	    "2026-01-01T00:01:00+00:00 2026-01-01T00:01:20+00:00 2026-01-01T00:01:40+00:00");
	assert_next("30 0 0 1 1 *", "UTC", "2026-06-01T00:00:00Z", 2,
	            "2027-01-01T00:00:30+00:00 2028-01-01T00:00:30+00:00");
	assert_next(
	    "15,45 30 * * * *", "UTC", "2026-01-01T00:30:45Z", 3,
	    "2026-01-01T01:30:15+00:00 2026-01-01T01:30:45+00:00 2026-01-01T02:30:15+00:00");
	/* 5-field schedules fire on second 0 even when `after` has seconds. */
	assert_next("* * * * *", "UTC", "2026-01-01T00:00:01Z", 2,
	            "2026-01-01T00:01:00+00:00 2026-01-01T00:02:00+00:00");
}

static void test_macros(void **state)
{
	(void)state;
	assert_next("@yearly", "UTC", "2026-11-22T12:00:00Z", 2,
	            "2027-01-01T00:00:00+00:00 2028-01-01T00:00:00+00:00");
	assert_next("@annually", "UTC", "2026-01-01T00:00:00Z", 1, "2027-01-01T00:00:00+00:00");
	assert_next("@monthly", "UTC", "2026-01-31T00:00:00Z", 2,
	            "2026-02-01T00:00:00+00:00 2026-03-01T00:00:00+00:00");
	assert_next("@weekly", "UTC", "2026-01-01T00:00:00Z", 2,
	            "2026-01-04T00:00:00+00:00 2026-01-11T00:00:00+00:00");
	assert_next("@daily", "UTC", "2026-02-28T00:00:00Z", 2,
	            "2026-03-01T00:00:00+00:00 2026-03-02T00:00:00+00:00");
	assert_next("@midnight", "UTC", "2026-02-28T00:00:00Z", 1, "2026-03-01T00:00:00+00:00");
	assert_next("@hourly", "UTC", "2026-12-31T23:00:00Z", 2,
	            "2027-01-01T00:00:00+00:00 2027-01-01T01:00:00+00:00");
	assert_next("@reboot", "UTC", "2026-01-01T00:00:00Z", 1, "NONE");
	assert_next("manual", "UTC", "2026-01-01T00:00:00Z", 1, "NONE");
}

static void test_calendar_edges(void **state)
{
	(void)state;
	assert_next("0 0 29 2 *", "UTC", "2026-01-01T00:00:00Z", 2,
	            "2028-02-29T00:00:00+00:00 2032-02-29T00:00:00+00:00");
	/* 2100 is not a leap year: 2096 -> 2104. */
	assert_next("0 0 29 2 *", "UTC", "2096-03-01T00:00:00Z", 1, "2104-02-29T00:00:00+00:00");
	assert_next("0 0 L 2 *", "UTC", "2099-03-01T00:00:00Z", 2,
	            "2100-02-28T00:00:00+00:00 2101-02-28T00:00:00+00:00");
	assert_next("0 0 29 2 *", "UTC", "1896-03-01T00:00:00Z", 1, "1904-02-29T00:00:00+00:00");
	assert_next("0 0 1 1 *", "UTC", "1969-06-01T00:00:00Z", 1, "1970-01-01T00:00:00+00:00");
	assert_next("59 23 31 12 *", "UTC", "2026-12-31T23:59:00Z", 1, "2027-12-31T23:59:00+00:00");
	/* Strictly after. */
	assert_next("0 0 * * *", "UTC", "2026-01-01T00:00:00Z", 1, "2026-01-02T00:00:00+00:00");
	assert_next("0 0 * * *", "UTC", "2025-12-31T23:59:59Z", 1, "2026-01-01T00:00:00+00:00");
}

static void test_never(void **state)
{
	(void)state;
	assert_next("0 0 30 2 *", "UTC", "2026-01-01T00:00:00Z", 1, "NONE");
	assert_next("0 0 31 4 *", "UTC", "2026-01-01T00:00:00Z", 1, "NONE");
	assert_next("0 0 31 4,6,9,11 *", "UTC", "2026-01-01T00:00:00Z", 1, "NONE");
	assert_next("0 0 L-30 2,4,6,9,11 *", "UTC", "2026-01-01T00:00:00Z", 1, "NONE");
	assert_next("0 0 31W 2 *", "UTC", "2026-01-01T00:00:00Z", 1, "NONE");
}

static void test_fixed_zones(void **state)
{
	(void)state;
	/* Etc/GMT+5 is UTC-05:00 (POSIX sign). */
	assert_next("0 9 * * *", "Etc/GMT+5", "2026-01-01T00:00:00Z", 2,
	            "2026-01-01T09:00:00-05:00 2026-01-02T09:00:00-05:00");
	assert_next("0 9 * * *", "Asia/Kathmandu", "2026-11-22T00:00:00Z", 2,
	            "2026-11-22T09:00:00+05:45 2026-11-23T09:00:00+05:45");
}

/* Every vector of the shared cron-next.tsv, called directly (chorectl is tested elsewhere). */
static void test_conformance_vectors(void **state)
{
	(void)state;
	char path[4096];
	FILE *f =
	    cron_conformance_path("cron-next.tsv", path, sizeof path) ? fopen(path, "r") : NULL;
	if (!f) {
		skip();
		return;
	}
	char line[8192];
	int cases = 0;
	while (fgets(line, sizeof line, f)) {
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		char *save = NULL;
		char *expr = strtok_r(line, "\t", &save), *zone = strtok_r(NULL, "\t", &save);
		char *from = strtok_r(NULL, "\t", &save), *count = strtok_r(NULL, "\t", &save);
		char *expected = strtok_r(NULL, "\t", &save);
		assert_non_null(expected);
		assert_next(expr, zone, from, atoi(count), expected);
		cases++;
	}
	fclose(f);
	assert_true(cases >= 30);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_last_day),
	    cmocka_unit_test(test_nearest_weekday),
	    cmocka_unit_test(test_weekday_specials),
	    cmocka_unit_test(test_or_and_rule),
	    cmocka_unit_test(test_steps),
	    cmocka_unit_test(test_seconds),
	    cmocka_unit_test(test_macros),
	    cmocka_unit_test(test_calendar_edges),
	    cmocka_unit_test(test_never),
	    cmocka_unit_test(test_fixed_zones),
	    cmocka_unit_test(test_conformance_vectors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

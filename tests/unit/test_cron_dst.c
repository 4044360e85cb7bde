/* The DST rule of design §5 across zones: wall-clock schedules (minute or hour starting with
 * '*') follow local time (repeated times fire twice, skipped ones never); fixed-time schedules
 * fire a repeated time once at its first occurrence and skipped times once at the jump.
 * Transition instants were read from `zdump -v` of the system zone data. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "cron_helpers.h"

/* Paris 2026: 03-29 01:00Z 02:00+01 -> 03:00+02; 10-25 01:00Z 03:00+02 -> 02:00+01. */
static void test_paris_spring(void **state)
{
	(void)state;
	assert_next("30 2 * * *", "Europe/Paris", "2026-03-27T00:00:00Z", 4,
	            "2026-03-27T02:30:00+01:00 2026-03-28T02:30:00+01:00 2026-03-29T03:00:00+02:00 "
	            "2026-03-30T02:30:00+02:00");
	/* Several matches in one gap fire once. */
	assert_next(
	    "0,15,30,45 2 * * *", "Europe/Paris", "2026-03-28T12:00:00Z", 3,
	    "2026-03-29T03:00:00+02:00 2026-03-30T02:00:00+02:00 2026-03-30T02:15:00+02:00");
	/* 02:00 (skipped) and 03:00 fall on the same instant: once. */
	assert_next(
	    "0 2,3 * * *", "Europe/Paris", "2026-03-28T12:00:00Z", 3,
	    "2026-03-29T03:00:00+02:00 2026-03-30T02:00:00+02:00 2026-03-30T03:00:00+02:00");
	/* Wall-clock: the skipped hour never fires. */
	assert_next(
	    "*/15 * * * *", "Europe/Paris", "2026-03-29T00:40:00Z", 3,
	    "2026-03-29T01:45:00+01:00 2026-03-29T03:00:00+02:00 2026-03-29T03:15:00+02:00");
	assert_next("0 */2 * * *", "Europe/Paris", "2026-03-28T22:30:00Z", 2,
	            "2026-03-29T00:00:00+01:00 2026-03-29T04:00:00+02:00");
	assert_next("30 * * * *", "Europe/Paris", "2026-03-29T00:00:00Z", 2,
	            "2026-03-29T01:30:00+01:00 2026-03-29T03:30:00+02:00");
	/* Seconds starting with '*' do not make a schedule wall-clock. */
	assert_next(
	    "*/20 30 2 * * *", "Europe/Paris", "2026-03-28T12:00:00Z", 3,
	    "2026-03-29T03:00:00+02:00 2026-03-30T02:30:00+02:00 2026-03-30T02:30:20+02:00");
	/* Strictly after the jump instant: the gap's firing is already past. */
	assert_next("30 2 * * *", "Europe/Paris", "2026-03-29T01:00:00Z", 1,
	            "2026-03-30T02:30:00+02:00");
	assert_next("30 2 * * *", "Europe/Paris", "2026-03-29T00:59:59Z", 1,
	            "2026-03-29T03:00:00+02:00");
}

static void test_paris_fall(void **state)
{
	(void)state;
	assert_next("*/30 * * * *", "Europe/Paris", "2026-10-24T23:00:00Z", 5,
	            "2026-10-25T01:30:00+02:00 2026-10-25T02:00:00+02:00 2026-10-25T02:30:00+02:00 "
	            "2026-10-25T02:00:00+01:00 2026-10-25T02:30:00+01:00");
	assert_next("0,30 2 * * *", "Europe/Paris", "2026-10-24T12:00:00Z", 4,
	            "2026-10-25T02:00:00+02:00 2026-10-25T02:30:00+02:00 2026-10-26T02:00:00+01:00 "
	            "2026-10-26T02:30:00+01:00");
	assert_next("0 */2 * * *", "Europe/Paris", "2026-10-24T21:00:00Z", 4,
	            "2026-10-25T00:00:00+02:00 2026-10-25T02:00:00+02:00 2026-10-25T02:00:00+01:00 "
	            "2026-10-25T04:00:00+01:00");
	assert_next("0 3 * * *", "Europe/Paris", "2026-10-24T12:00:00Z", 2,
	            "2026-10-25T03:00:00+01:00 2026-10-26T03:00:00+01:00");
	/* Between the two occurrences of 02:30: the fixed schedule already fired at the first. */
	assert_next("30 2 * * *", "Europe/Paris", "2026-10-25T00:45:00Z", 1,
	            "2026-10-26T02:30:00+01:00");
	assert_next("30 * * * *", "Europe/Paris", "2026-10-25T00:45:00Z", 2,
	            "2026-10-25T02:30:00+01:00 2026-10-25T03:30:00+01:00");
}

/* New York 2026: 03-08 07:00Z 02:00-05 -> 03:00-04; 11-01 06:00Z 02:00-04 -> 01:00-05. */
static void test_new_york(void **state)
{
	(void)state;
	assert_next(
	    "30 2 * * *", "America/New_York", "2026-03-06T12:00:00Z", 3,
	    "2026-03-07T02:30:00-05:00 2026-03-08T03:00:00-04:00 2026-03-09T02:30:00-04:00");
	assert_next(
	    "30 1 * * *", "America/New_York", "2026-10-31T12:00:00Z", 3,
	    "2026-11-01T01:30:00-04:00 2026-11-02T01:30:00-05:00 2026-11-03T01:30:00-05:00");
	assert_next("0 * * * *", "America/New_York", "2026-11-01T04:30:00Z", 4,
	            "2026-11-01T01:00:00-04:00 2026-11-01T01:00:00-05:00 2026-11-01T02:00:00-05:00 "
	            "2026-11-01T03:00:00-05:00");
}

/* Lord Howe 2026: 04-04 15:00Z 02:00+11 -> 01:30+10:30; 10-03 15:30Z 02:00+10:30 -> 02:30+11. */
static void test_lord_howe(void **state)
{
	(void)state;
	assert_next(
	    "15 2 * * *", "Australia/Lord_Howe", "2026-10-02T12:00:00Z", 3,
	    "2026-10-03T02:15:00+10:30 2026-10-04T02:30:00+11:00 2026-10-05T02:15:00+11:00");
	assert_next(
	    "30 2 * * *", "Australia/Lord_Howe", "2026-10-02T12:00:00Z", 3,
	    "2026-10-03T02:30:00+10:30 2026-10-04T02:30:00+11:00 2026-10-05T02:30:00+11:00");
	assert_next("*/15 * * * *", "Australia/Lord_Howe", "2026-10-03T15:10:00Z", 4,
	            "2026-10-04T01:45:00+10:30 2026-10-04T02:30:00+11:00 2026-10-04T02:45:00+11:00 "
	            "2026-10-04T03:00:00+11:00");
	assert_next("*/15 * * * *", "Australia/Lord_Howe", "2026-04-04T14:40:00Z", 5,
	            "2026-04-05T01:45:00+11:00 2026-04-05T01:30:00+10:30 2026-04-05T01:45:00+10:30 "
	            "2026-04-05T02:00:00+10:30 2026-04-05T02:15:00+10:30");
	assert_next("45 1 * * *", "Australia/Lord_Howe", "2026-04-04T00:00:00Z", 2,
	            "2026-04-05T01:45:00+11:00 2026-04-06T01:45:00+10:30");
	assert_next("30 2 * * *", "Australia/Lord_Howe", "2026-04-04T00:00:00Z", 2,
	            "2026-04-05T02:30:00+10:30 2026-04-06T02:30:00+10:30");
}

/* Santiago 2026: 04-05 03:00Z 00:00-03 -> 23:00-04 (04-04); 09-06 04:00Z 00:00-04 -> 01:00-03. */
static void test_santiago(void **state)
{
	(void)state;
	assert_next("0 0 * * *", "America/Santiago", "2026-09-03T12:00:00Z", 4,
	            "2026-09-04T00:00:00-04:00 2026-09-05T00:00:00-04:00 2026-09-06T01:00:00-03:00 "
	            "2026-09-07T00:00:00-03:00");
	/* The skipped midnight keeps its day: Sept 6 fires at the jump. */
	assert_next("0 0 6 9 *", "America/Santiago", "2026-01-01T00:00:00Z", 1,
	            "2026-09-06T01:00:00-03:00");
	assert_next(
	    "30 23 * * *", "America/Santiago", "2026-04-03T12:00:00Z", 3,
	    "2026-04-03T23:30:00-03:00 2026-04-04T23:30:00-03:00 2026-04-05T23:30:00-04:00");
	assert_next("0 0 * * *", "America/Santiago", "2026-04-04T12:00:00Z", 1,
	            "2026-04-05T00:00:00-04:00");
	assert_next("0 * * * *", "America/Santiago", "2026-04-05T01:30:00Z", 4,
	            "2026-04-04T23:00:00-03:00 2026-04-04T23:00:00-04:00 2026-04-05T00:00:00-04:00 "
	            "2026-04-05T01:00:00-04:00");
}

/* Havana: 2026-03-08 05:00Z 00:00-05 -> 01:00-04; tzdata 2026f keeps DST until
 * 2027-11-07 05:00Z 01:00-04 -> 00:00-05. */
static void test_havana(void **state)
{
	(void)state;
	assert_next(
	    "0 0 * * *", "America/Havana", "2026-03-06T12:00:00Z", 3,
	    "2026-03-07T00:00:00-05:00 2026-03-08T01:00:00-04:00 2026-03-09T00:00:00-04:00");
	assert_next("0 0 8 3 *", "America/Havana", "2026-01-01T00:00:00Z", 1,
	            "2026-03-08T01:00:00-04:00");
	assert_next("*/30 * * * *", "America/Havana", "2026-03-08T04:45:00Z", 2,
	            "2026-03-08T01:00:00-04:00 2026-03-08T01:30:00-04:00");
	assert_next("0 0 * * *", "America/Havana", "2027-11-06T12:00:00Z", 2,
	            "2027-11-07T00:00:00-04:00 2027-11-08T00:00:00-05:00");
	assert_next("*/30 * * * *", "America/Havana", "2027-11-07T03:45:00Z", 5,
	            "2027-11-07T00:00:00-04:00 2027-11-07T00:30:00-04:00 2027-11-07T00:00:00-05:00 "
	            "2027-11-07T00:30:00-05:00 2027-11-07T01:00:00-05:00");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_paris_spring), cmocka_unit_test(test_paris_fall),
	    cmocka_unit_test(test_new_york),     cmocka_unit_test(test_lord_howe),
	    cmocka_unit_test(test_santiago),     cmocka_unit_test(test_havana),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

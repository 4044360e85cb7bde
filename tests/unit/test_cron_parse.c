/* cron_parse: bit sets of valid forms and the exact wording of errors (field, token, allowed). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cron.h"

static struct cron parse_ok(const char *expr)
{
	struct cron c;
	char err[256] = "";
	if (cron_parse(expr, &c, err, sizeof err) != 0)
		fail_msg("'%s' rejected: %s", expr, err);
	return c;
}

/* Bits from a -1-terminated list of values. */
static uint64_t bits(int first, ...)
{
	uint64_t b = 0;
	va_list ap;
	va_start(ap, first);
	for (int v = first; v >= 0; v = va_arg(ap, int))
		b |= UINT64_C(1) << v;
	va_end(ap);
	return b;
}

static uint64_t range_bits(int lo, int hi, int step)
{
	uint64_t b = 0;
	for (int v = lo; v <= hi; v += step)
		b |= UINT64_C(1) << v;
	return b;
}

static void test_plain_fields(void **state)
{
	(void)state;
	struct cron c = parse_ok("0 3 1 * *");
	assert_int_equal(c.kind, CRON_CALENDAR);
	assert_false(c.has_seconds);
	assert_true(c.sec == 1);
	assert_true(c.min == bits(0, -1));
	assert_true(c.hour == bits(3, -1));
	assert_true(c.dom == bits(1, -1));
	assert_true(c.month == range_bits(1, 12, 1));
	assert_true(c.dow == 0x7f);
	assert_false(c.wallclock);
	assert_false(c.dom_star);
	assert_true(c.dow_star);

	c = parse_ok("*/15 9-17/2 1,15,31 JAN-MAR/2,jul 1-5");
	assert_true(c.min == bits(0, 15, 30, 45, -1));
	assert_true(c.hour == bits(9, 11, 13, 15, 17, -1));
	assert_true(c.dom == bits(1, 15, 31, -1));
	assert_true(c.month == bits(1, 3, 7, -1));
	assert_true(c.dow == range_bits(1, 5, 1));
	assert_true(c.wallclock);
	assert_false(c.dom_star);
	assert_false(c.dow_star);
}

static void test_steps_and_quartz_start(void **state)
{
	(void)state;
	/* a/n = a-max/n and never wraps. */
	assert_true(parse_ok("5/20 * * * *").min == bits(5, 25, 45, -1));
	assert_true(parse_ok("0/30 * * * *").min == bits(0, 30, -1));
	assert_true(parse_ok("0 22/5 * * *").hour == bits(22, -1));
	assert_true(parse_ok("0 0 1 7/6 *").month == bits(7, -1));
	assert_true(parse_ok("*/7 * * * *").min == range_bits(0, 59, 7));
	assert_true(parse_ok("0 0 */2 * *").dom == range_bits(1, 31, 2));
	assert_true(parse_ok("0 0 ? * 1").dom == range_bits(1, 31, 1));
	assert_true(parse_ok("*/60 * * * *").min == bits(0, -1));
}

static void test_day_of_week_numbering(void **state)
{
	(void)state;
	assert_true(parse_ok("0 0 * * 7").dow == bits(0, -1));
	assert_true(parse_ok("0 0 * * 0").dow == bits(0, -1));
	assert_true(parse_ok("0 0 * * 5-7").dow == bits(0, 5, 6, -1));
	assert_true(parse_ok("0 0 * * sun,Sat").dow == bits(0, 6, -1));
	assert_true(parse_ok("0 0 * * MON-SUN").dow == 0x7f);
	assert_true(parse_ok("0 0 * * MON-FRI/2").dow == bits(1, 3, 5, -1));
	assert_true(parse_ok("0 0 * * */2").dow == bits(0, 2, 4, 6, -1));
}

static void test_specials(void **state)
{
	(void)state;
	struct cron c = parse_ok("59 23 LW * *");
	assert_true(c.dom_last_wd);
	assert_true(c.dom == 0);
	c = parse_ok("0 0 L,L-3,L-30,15W,1W * *");
	assert_true(c.dom_last_minus == bits(0, 3, 30, -1));
	assert_true(c.dom_nearest_wd == bits(1, 15, -1));
	assert_false(c.dom_last_wd);
	c = parse_ok("0 0 1,L * *");
	assert_true(c.dom == bits(1, -1));
	assert_true(c.dom_last_minus == 1);

	c = parse_ok("0 17 * * 5L,FRIL,0L");
	assert_true(c.dow_last == bits(0, 5, -1));
	assert_true(c.dow == 0);
	assert_false(c.dow_star);
	c = parse_ok("0 9 * * 1#1,1#3,7#5,fri#2");
	assert_true(c.dow_nth[1] == bits(1, 3, -1));
	assert_true(c.dow_nth[0] == bits(5, -1));
	assert_true(c.dow_nth[5] == bits(2, -1));
	assert_true(c.dow == 0);
}

static void test_seconds_and_wallclock(void **state)
{
	(void)state;
	struct cron c = parse_ok("*/10 0 3 * * *");
	assert_true(c.has_seconds);
	assert_true(c.sec == range_bits(0, 59, 10));
	assert_true(c.min == bits(0, -1));
	assert_false(c.wallclock); /* only minute and hour decide */
	assert_true(parse_ok("0 * * * *").wallclock);
	assert_true(parse_ok("? 3 * * *").wallclock);
	assert_true(parse_ok("0 */2 * * *").wallclock);
	assert_false(parse_ok("0 0-23 * * *").wallclock);
	assert_true(parse_ok("0 0 */2 * 1").dom_star);
	assert_false(parse_ok("0 0 */2 * 1").dow_star);
}

static void test_macros_and_blanks(void **state)
{
	(void)state;
	struct cron a = parse_ok("@yearly"), b = parse_ok("0 0 1 1 *");
	assert_memory_equal(&a, &b, sizeof a);
	a = parse_ok("@annually");
	assert_memory_equal(&a, &b, sizeof a);
	a = parse_ok("@weekly"), b = parse_ok("0 0 * * 0");
	assert_memory_equal(&a, &b, sizeof a);
	a = parse_ok("@daily"), b = parse_ok("@midnight");
	assert_memory_equal(&a, &b, sizeof a);
	a = parse_ok("@monthly"), b = parse_ok("0 0 1 * *");
	assert_memory_equal(&a, &b, sizeof a);
	a = parse_ok("@hourly");
	assert_true(a.wallclock);
	assert_true(a.hour == range_bits(0, 23, 1));
	assert_int_equal(parse_ok("@reboot").kind, CRON_REBOOT);
	assert_int_equal(parse_ok("manual").kind, CRON_MANUAL);
	assert_int_equal(parse_ok("  @daily \t").kind, CRON_CALENDAR);
	a = parse_ok(" \t0   3\t\t1 *  * ");
	b = parse_ok("0 3 1 * *");
	assert_memory_equal(&a, &b, sizeof a);
}

/* Asserts rejection with a message containing every given fragment. */
static void check_error(const char *expr, const char *want1, const char *want2)
{
	struct cron c;
	char err[512] = "";
	if (cron_parse(expr, &c, err, sizeof err) == 0)
		fail_msg("'%s' was accepted", expr);
	if (!strstr(err, want1) || (want2 && !strstr(err, want2)))
		fail_msg("'%s': message '%s' lacks '%s'%s%s", expr, err, want1, want2 ? " / " : "",
		         want2 ? want2 : "");
}

static void test_error_messages(void **state)
{
	(void)state;
	check_error("0 3 32 * *", "day-of-month 32 is out of range 1-31", NULL);
	check_error("60 * * * *", "minute 60 is out of range 0-59", NULL);
	check_error("0 24 * * *", "hour 24 is out of range 0-23", NULL);
	check_error("0 0 0 * *", "day-of-month 0 is out of range 1-31", NULL);
	check_error("0 0 * 13 *", "month 13 is out of range 1-12", NULL);
	check_error("0 0 * * 8", "day-of-week 8 is out of range 0-7", NULL);
	check_error("60 0 0 * * *", "second 60 is out of range 0-59", NULL);
	check_error("*/0 * * * *", "minute: step 0 in '*/0' must be at least 1", NULL);
	check_error("0 0 1-5/0 * *", "day-of-month: step 0 in '1-5/0' must be at least 1", NULL);
	check_error("*/61 * * * *", "minute: step 61 in '*/61'", "1-60");
	check_error("5-2 * * * *", "minute: range 5-2 must ascend (no wrap-around)", NULL);
	check_error("0 0 * * FRI-MON", "day-of-week: range FRI-MON must ascend", NULL);
	check_error("0 0 * * 5-0", "day-of-week: range 5-0 must ascend", NULL);
	check_error("0 0 * * 5#6", "day-of-week: 5#6: occurrence 6 is out of range 1-5", NULL);
	check_error("0 0 * * 5#0", "day-of-week: 5#0: occurrence 0 is out of range 1-5", NULL);
	check_error("0 0 L-31 * *", "day-of-month: L-31: offset 31 is out of range 0-30", NULL);
	check_error("0 0 32W * *", "day-of-month 32 is out of range 1-31", "32W");
	check_error("0 0 * FOO *", "month: 'FOO' is not a month (1-12 or JAN-DEC)", NULL);
	check_error("0 0 * * MON-FOO", "day-of-week: 'FOO' is not a day of the week", "SUN-SAT");
	check_error("* * * *", "expected 5 or 6 fields, got 4", NULL);
	check_error("* * * * * * *", "expected 5 or 6 fields, got 7", NULL);
	check_error("@fortnightly",
	            "unknown macro '@fortnightly' (allowed: @yearly, @annually, @monthly, @weekly, "
	            "@daily, @midnight, @hourly, @reboot, manual)",
	            NULL);
	check_error("0 0 1-5W * *", "day-of-month: W takes a single day, not '1-5W'", NULL);
	check_error("1,,2 * * * *", "minute: empty item in '1,,2'", NULL);
	check_error("1, * * * *", "minute: empty item in '1,'", NULL);
	check_error("a b c d e", "minute: 'a' is not a number (0-59)", NULL);
	check_error("5x * * * *", "minute", "'5x'");
	check_error("0 0 1 1 1x", "day-of-week", "'1x'");
	check_error("99999999999 * * * *", "minute 99999999999 is out of range 0-59", NULL);
	check_error("0 0 * * */99999999999", "day-of-week: step 99999999999", NULL);
	check_error("0 0 * * L", "day-of-week: 'L' alone is ambiguous", NULL);
	check_error("0 0 * * 1-5L", "day-of-week", "'1-5L'");
	check_error("0 0 * * 1#", "day-of-week", "'1#'");
	check_error("0 0 L-x * *", "day-of-month", "'L-x'");
	check_error("0 0 W * *", "day-of-month", "'W'");
	check_error("-1 * * * *", "minute", "'-1'");
	check_error("1- * * * *", "minute", "'1-'");
	check_error("*/5/2 * * * *", "minute", "'*/5/2'");
	check_error("0 0 5L * *", "day-of-month", "'5L'");
	check_error("0 0 1#2 * *", "day-of-month", "'1#2'");
	check_error("0 0 1 1 1W", "day-of-week", "'1W'");
	check_error("0 L * * *", "hour", "'L'");
	check_error("@daily 0", "@daily takes no fields", NULL);
	check_error("", "empty schedule", NULL);
	check_error("   ", "empty schedule", NULL);
}

/* Every line of the shared cron-invalid.txt is rejected and the message names a field (or
 * the field count, or the macro). */
static void test_conformance_invalid(void **state)
{
	(void)state;
	char path[4096];
	const char *shared = getenv("CHORED_SHARED_DIR"), *top = getenv("top_srcdir");
	if (shared && *shared)
		snprintf(path, sizeof path, "%s/conformance/cron-invalid.txt", shared);
	else if (top && *top)
		snprintf(path, sizeof path, "%s/../shared/conformance/cron-invalid.txt", top);
	else
		path[0] = '\0';
	FILE *f = path[0] ? fopen(path, "r") : NULL;
	if (!f) {
		skip();
		return;
	}
	static const char *const names[] = {"second", "minute",      "hour",   "day-of-month",
	                                    "month",  "day-of-week", "fields", "macro"};
	char line[1024];
	int n = 0;
	while (fgets(line, sizeof line, f)) {
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		struct cron c;
		char err[512] = "";
		if (cron_parse(line, &c, err, sizeof err) == 0)
			fail_msg("cron-invalid.txt: '%s' was accepted", line);
		bool named = false;
		for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
			named = named || strstr(err, names[i]);
		if (!named)
			fail_msg("cron-invalid.txt: '%s': message '%s' names no field", line, err);
		n++;
	}
	fclose(f);
	assert_true(n >= 20);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_plain_fields),
	    cmocka_unit_test(test_steps_and_quartz_start),
	    cmocka_unit_test(test_day_of_week_numbering),
	    cmocka_unit_test(test_specials),
	    cmocka_unit_test(test_seconds_and_wallclock),
	    cmocka_unit_test(test_macros_and_blanks),
	    cmocka_unit_test(test_error_messages),
	    cmocka_unit_test(test_conformance_invalid),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

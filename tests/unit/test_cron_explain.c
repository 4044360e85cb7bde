/* cron_explain and cron_lint: exact wording, since chorectl explain prints it verbatim and
 * operators copy it onto their "Crons" pages. Schedules go through cron_parse. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "cron.h"
#include "strbuf.h"

struct vec {
	const char *expr;
	const char *want;
};

static struct cron parse_ok(const char *expr)
{
	struct cron c;
	char err[256] = "";
	if (cron_parse(expr, &c, err, sizeof err) != 0) {
		print_error("cron_parse('%s') failed: %s\n", expr, err);
		fail();
	}
	return c;
}

static void check_explain(const char *expr, const char *zone, const char *want)
{
	struct cron c = parse_ok(expr);
	struct strbuf sb = STRBUF_INIT;
	cron_explain(&c, expr, zone, &sb);
	if (strcmp(strbuf_str(&sb), want) != 0) {
		print_error("explain '%s'\n  got:  %s\n  want: %s\n", expr, strbuf_str(&sb), want);
		strbuf_free(&sb);
		fail();
	}
	strbuf_free(&sb);
}

static void check_table(const struct vec *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		check_explain(v[i].expr, "UTC", v[i].want);
}

/* The lint output must be exactly `want` (lines ending in '\n') and the count its lines. */
static void check_lint(const char *expr, const char *want)
{
	struct cron c = parse_ok(expr);
	struct strbuf sb = STRBUF_INIT;
	int n = cron_lint(&c, expr, &sb);
	int lines = 0;
	for (const char *p = want; *p; p++)
		lines += *p == '\n';
	if (strcmp(strbuf_str(&sb), want) != 0 || n != lines) {
		print_error("lint '%s' (%d warnings, want %d)\n  got:  %s\n  want: %s\n", expr, n,
		            lines, strbuf_str(&sb), want);
		strbuf_free(&sb);
		fail();
	}
	strbuf_free(&sb);
}

static void test_fixed_times(void **state)
{
	(void)state;
	static const struct vec v[] = {
	    {"0 8 * * 1", "at 08:00 on Monday (UTC)"},
	    {"0 21 * * SUN", "at 21:00 on Sunday (UTC)"},
	    {"30 4 * * 7", "at 04:30 on Sunday (UTC)"},
	    {"0 3 * * *", "at 03:00 every day (UTC)"},
	    {"0 12 * * ?", "at 12:00 every day (UTC)"},
	    {"0 9,17 * * *", "at 09:00 and 17:00 every day (UTC)"},
	    {"0,30 9 * * *", "at 09:00 and 09:30 every day (UTC)"},
	    {"0 0 * * SAT,SUN", "at 00:00 on Saturday and Sunday (UTC)"},
	    {"0 0 * * FRI-SUN", "at 00:00 on Friday through Sunday (UTC)"},
	    {"0 0 * * */2", "at 00:00 on Sunday, Tuesday, Thursday and Saturday (UTC)"},
	};
	check_table(v, sizeof v / sizeof v[0]);
}

static void test_intervals(void **state)
{
	(void)state;
	static const struct vec v[] = {
	    {"* * * * *", "every minute (UTC)"},
	    {"*/15 * * * *", "every 15 minutes (UTC)"},
	    {"0/30 * * * *", "every 30 minutes (UTC)"},
	    {"5/15 * * * *", "every 15 minutes from minute 5 (UTC)"},
	    {"0-30/10 * * * *", "every 10 minutes from minute 0 through 30 (UTC)"},
	    {"0 * * * *", "every hour at minute 0 (UTC)"},
	    {"0,30 * * * *", "every hour at minutes 0 and 30 (UTC)"},
	    {"0-29 * * * *", "every hour at minutes 0 through 29 (UTC)"},
	    {"0,5,10,15,20,25,30,35,40,45,50,55 * * * *",
	     "every hour at minutes 0, 5, 10, …, 55 (12 times an hour) (UTC)"},
	    {"0 9-17/2 * * MON-FRI",
	     "every 2 hours from 09:00 through 17:00 on Monday through Friday (UTC)"},
	    {"0 */2 * * *", "every 2 hours from 00:00 through 22:00 (UTC)"},
	    {"*/15 9-17 * * *", "every 15 minutes during hours 09 through 17 (UTC)"},
	    {"* 9 * * *", "every minute during hour 09 (UTC)"},
	    {"0,30 9-17 * * *", "at minutes 0 and 30 past hours 09 through 17 (UTC)"},
	    {"0 0-5,12 * * *", "at minute 0 past hours 00 through 05 and 12 (UTC)"},
	    {"*/15 */2 * * *", "every 15 minutes during hours 00, 02, 04, …, 22 (12 hours) (UTC)"},
	};
	check_table(v, sizeof v / sizeof v[0]);
}

static void test_seconds(void **state)
{
	(void)state;
	static const struct vec v[] = {
	    {"*/10 * * * * *", "every 10 seconds (UTC)"},
	    {"* * * * * *", "every second (UTC)"},
	    {"30 0 8 * * *", "at 08:00:30 every day (UTC)"},
	    {"0 0 12 * * ?", "at 12:00:00 every day (UTC)"},
	    {"0 */5 * * * *", "every 5 minutes (UTC)"},
	    {"30 */5 * * * *", "every 5 minutes, at second 30 (UTC)"},
	    {"*/10 0 9 * * *", "every 10 seconds during minute 09:00 (UTC)"},
	    {"0,30 * 9 * * *", "at seconds 0 and 30 during hour 09 (UTC)"},
	    {"*/20 0-4 * * * *", "every 20 seconds during minutes 0 through 4 of every hour (UTC)"},
	    {"0 0 0/6 * * ?", "every 6 hours from 00:00:00 through 18:00:00 (UTC)"},
	};
	check_table(v, sizeof v / sizeof v[0]);
}

static void test_days(void **state)
{
	(void)state;
	static const struct vec v[] = {
	    {"0 3 1 * *", "at 03:00 on day 1 of the month (UTC)"},
	    {"0 5 1 1,7 *", "at 05:00 on day 1 of the month in January and July (UTC)"},
	    {"0 0 1 */3 *",
	     "at 00:00 on day 1 of the month in January, April, July and October (UTC)"},
	    {"0 0 * 1-3 *", "at 00:00 every day in January through March (UTC)"},
	    {"59 23 LW * *", "at 23:59 on the last weekday of the month (UTC)"},
	    {"0 17 * * 5L", "at 17:00 on the last Friday of the month (UTC)"},
	    {"0 9 * * 1#1,1#3", "at 09:00 on the first and third Monday of the month (UTC)"},
	    {"0 9 * * MON#2", "at 09:00 on the second Monday of the month (UTC)"},
	    {"0 9 * * 1#1,5L",
	     "at 09:00 on the first Monday of the month and the last Friday of the month (UTC)"},
	    {"0 12 15W * *", "at 12:00 on the weekday nearest day 15 of the month (UTC)"},
	    {"0 0 L * *", "at 00:00 on the last day of the month (UTC)"},
	    {"0 0 L-2 * *", "at 00:00 on the last day of the month minus 2 days (UTC)"},
	    {"0 0 L-1 * *", "at 00:00 on the last day of the month minus 1 day (UTC)"},
	    {"0 0 1,L * *", "at 00:00 on day 1 of the month and the last day of the month (UTC)"},
	    {"0 0 1-7 * *", "at 00:00 on days 1 through 7 of the month (UTC)"},
	    {"0 0 1,15 * 5", "at 00:00 on days 1 and 15 of the month, or on Friday (UTC)"},
	    {"0 0 1,15 7 5", "at 00:00 on days 1 and 15 of the month, or on Friday, in July (UTC)"},
	    {"0 0 */2 * 1",
	     "at 00:00 on days 1, 3, 5, …, 31 of the month, but only on Monday (UTC)"},
	};
	check_table(v, sizeof v / sizeof v[0]);
}

static void test_macros(void **state)
{
	(void)state;
	static const struct vec v[] = {
	    {"@hourly", "every hour at minute 0 (UTC)"},
	    {"@daily", "at 00:00 every day (UTC)"},
	    {"@midnight", "at 00:00 every day (UTC)"},
	    {"@weekly", "at 00:00 on Sunday (UTC)"},
	    {"@monthly", "at 00:00 on day 1 of the month (UTC)"},
	    {"@yearly", "at 00:00 on day 1 of the month in January (UTC)"},
	    {"@annually", "at 00:00 on day 1 of the month in January (UTC)"},
	    /* The zone cannot matter for these, so it is left out. */
	    {"@reboot", "when the daemon starts after a reboot"},
	    {"manual", "only when started by hand"},
	};
	check_table(v, sizeof v / sizeof v[0]);
}

static void test_zone_and_append(void **state)
{
	(void)state;
	check_explain("0 21 * * SUN", "Europe/Paris", "at 21:00 on Sunday (Europe/Paris)");
	check_explain("0 21 * * SUN", NULL, "at 21:00 on Sunday (UTC)");

	/* Appends: what the caller already wrote stays. */
	struct cron c = parse_ok("0 8 * * 1");
	struct strbuf sb = STRBUF_INIT;
	strbuf_append(&sb, "backup: ");
	cron_explain(&c, "0 8 * * 1", "UTC", &sb);
	assert_string_equal(strbuf_str(&sb), "backup: at 08:00 on Monday (UTC)");
	strbuf_free(&sb);

	/* Without the text (or with text that is not fields) the bit sets still explain. */
	c = parse_ok("*/15 * * * *");
	cron_explain(&c, NULL, "UTC", &sb);
	assert_string_equal(strbuf_str(&sb), "every hour at minutes 0, 15, 30 and 45 (UTC)");
	strbuf_free(&sb);
}

#define OR_RULE                                                                                    \
	"day-of-month and day-of-week are both restricted: the job runs when EITHER matches "      \
	"(vixie cron OR rule); use '*' in one of them to require a single rule\n"
#define NUMERIC_DOW                                                                                \
	"day-of-week uses numbers: here 0 and 7 are Sunday and 1 is Monday, but Quartz and "       \
	"Cloudflare number Sunday as 1 — if this schedule came from there, the job runs a day "  \
	"late; names (SUN-SAT) avoid the doubt\n"

static void test_lint_clean(void **state)
{
	(void)state;
	check_lint("0 3 * * *", "");
	check_lint("0 21 * * SUN", "");
	check_lint("*/15 * * * *", "");
	check_lint("0 9 * * MON#1", "");
	check_lint("0 9 * * MON-FRI", "");
	check_lint("59 23 LW * *", "");
	check_lint("0 0 25-31 * *", ""); /* ranges reach the month's end on purpose */
	check_lint("0 0 */2 * *", "");
	check_lint("0-30/10 * * * *", ""); /* a window, not a wrapping step */
	check_lint("@weekly", "");         /* the expansion's numeric 0 is not the user's */
	check_lint("@monthly", "");
	check_lint("@reboot", "");
	check_lint("manual", "");
}

static void test_lint_or_rule(void **state)
{
	(void)state;
	check_lint("0 0 1,15 * FRI", OR_RULE);
	check_lint("0 0 1,15 * 5", OR_RULE NUMERIC_DOW);
	check_lint("0 0 */2 * MON", ""); /* a '*'-prefixed field turns the OR off */
	check_lint("0 0 1 * ?", "");
}

static void test_lint_bare_step(void **state)
{
	(void)state;
	check_lint("0/30 * * * *", "'0/30' in the minute field is Quartz syntax for 0-59/30; vixie "
	                           "cron rejects it — write '*/30' or '0-59/30' for portability\n");
	check_lint("0 0 0/6 * * ?", "'0/6' in the hour field is Quartz syntax for 0-23/6; vixie "
	                            "cron rejects it — write '*/6' or '0-23/6' for portability\n");
	check_lint("0 0 1/2 * *", "'1/2' in the day-of-month field is Quartz syntax for 1-31/2; "
	                          "vixie cron rejects it — write '1-31/2' for portability\n");
	check_lint("0 0 * * MON/2",
	           "'MON/2' in the day-of-week field is Quartz syntax for MON-SAT/2; vixie cron "
	           "rejects it — write 'MON-SAT/2' for portability\n");
	check_lint("5/15 * * * *",
	           "'5/15' in the minute field is Quartz syntax for 5-59/15; vixie cron rejects "
	           "it — write '5-59/15' for portability\n");
	check_lint("0,10/20 * * * *",
	           "'10/20' in the minute field is Quartz syntax for 10-59/20; vixie cron rejects "
	           "it — write '10-59/20' for portability\n");
}

static void test_lint_numeric_dow(void **state)
{
	(void)state;
	check_lint("0 8 * * 1", NUMERIC_DOW);
	check_lint("30 4 * * 7", NUMERIC_DOW);
	check_lint("0 17 * * 5L", NUMERIC_DOW);
	check_lint("0 9 * * 1#1,1#3", NUMERIC_DOW);
	check_lint("0 9 * * MON#3", ""); /* #k counts weeks, not days */
	check_lint("0 9 * * MON-FRI/2", "");
}

static void test_lint_uneven_step(void **state)
{
	(void)state;
	check_lint("*/7 * * * *", "'*/7' in the minute field steps 0, 7, …, 56 then wraps to 0: "
	                          "gaps are uneven (7 minutes, then 4)\n");
	check_lint("0 */5 * * *", "'*/5' in the hour field steps 0, 5, …, 20 then wraps to 0: "
	                          "gaps are uneven (5 hours, then 4)\n");
	check_lint("*/40 * * * * *", "'*/40' in the second field steps 0, 40 then wraps to 0: "
	                             "gaps are uneven (40 seconds, then 20)\n");
	check_lint("0 0 1 */5 *", "'*/5' in the month field steps 1, 6, 11 then wraps to 1: "
	                          "gaps are uneven (5 months, then 2)\n");
	check_lint("*/20 * * * *", "");
	check_lint("0 */6 * * *", "");
}

static void test_lint_short_months(void **state)
{
	(void)state;
	check_lint("0 0 31 * *",
	           "day 31 of the month does not exist in February, April, June, September and "
	           "November: no run on that day in those months (use 'L' for the last day of the "
	           "month)\n");
	check_lint("0 0 30 1-4 *", "day 30 of the month does not exist in February: no run on "
	                           "that day in that month\n");
	check_lint("0 0 29 2 *", "day 29 of the month exists in February only in leap years: no "
	                         "run on that day in other years\n");
	check_lint("0 0 30 2 *", "day 30 of the month never occurs in February: the job never "
	                         "runs\n");
	check_lint("0 0 30,31 2 *", "days 30 and 31 of the month never occur in February: the "
	                            "job never runs\n");
	check_lint("0 0 31 1,3 *", "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fixed_times),      cmocka_unit_test(test_intervals),
	    cmocka_unit_test(test_seconds),          cmocka_unit_test(test_days),
	    cmocka_unit_test(test_macros),           cmocka_unit_test(test_zone_and_append),
	    cmocka_unit_test(test_lint_clean),       cmocka_unit_test(test_lint_or_rule),
	    cmocka_unit_test(test_lint_bare_step),   cmocka_unit_test(test_lint_numeric_dow),
	    cmocka_unit_test(test_lint_uneven_step), cmocka_unit_test(test_lint_short_months),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Wording of the missed-run records: see missed.h. */
#include "missed.h"

#include <inttypes.h>
#include <stdio.h>

#include "civil.h"

/* "2026-11-23 02:00" or "…:05" with seconds, or only the time of day with !date. */
static void when(char *buf, size_t len, int64_t t, bool date, bool secs)
{
	struct civil c;
	civil_from_secs(t, &c);
	int n = 0;
	if (date)
		n = snprintf(buf, len, "%04" PRId64 "-%02d-%02d ", c.year, c.month, c.day);
	if (n < 0 || (size_t)n >= len)
		return;
	if (secs)
		snprintf(buf + n, len - (size_t)n, "%02d:%02d:%02d", c.hour, c.minute, c.second);
	else
		snprintf(buf + n, len - (size_t)n, "%02d:%02d", c.hour, c.minute);
}

char *missed_summary(char *buf, size_t len, const char *cause, uint64_t n, bool at_least,
                     int64_t first, int64_t last)
{
	if (!len)
		return buf;
	char a[40], b[40], range[96];
	bool secs = first % 60 || last % 60;
	if (n <= 1 || first == last) {
		when(a, sizeof a, last, true, secs);
		snprintf(range, sizeof range, "%s UTC", a);
	} else {
		bool same_day = civil_floordiv(first, CIVIL_SECS_PER_DAY) ==
		                civil_floordiv(last, CIVIL_SECS_PER_DAY);
		when(a, sizeof a, first, true, secs);
		when(b, sizeof b, last, !same_day, secs);
		snprintf(range, sizeof range, same_day ? "%s\u2013%s UTC" : "%s \u2013 %s UTC", a,
		         b);
	}
	snprintf(buf, len, "missed: %s (%s%" PRIu64 " slot%s, %s)", cause,
	         at_least ? "at least " : "", n, n == 1 ? "" : "s", range);
	return buf;
}

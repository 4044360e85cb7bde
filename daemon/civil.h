/* Proleptic Gregorian calendar arithmetic on int64 seconds, no libc time zone state.
 * Algorithms after H. Hinnant, "chrono-Compatible Low-Level Date Algorithms". */
#ifndef CHORED_CIVIL_H
#define CHORED_CIVIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct civil {
	int64_t year;
	int month;  /* 1-12 */
	int day;    /* 1-31 */
	int hour;   /* 0-23 */
	int minute; /* 0-59 */
	int second; /* 0-59 */
};

#define CIVIL_SECS_PER_DAY 86400
/* Seconds in 400 Gregorian years: the calendar and every POSIX TZ rule repeat with this period. */
#define CIVIL_SECS_PER_400Y INT64_C(12622780800)

/* Days since 1970-01-01 of year/month/day (month 1-12, day may exceed the month: it carries). */
int64_t civil_days_from(int64_t year, int month, int day);
/* Inverse of civil_days_from. */
void civil_from_days(int64_t days, int64_t *year, int *month, int *day);
/* 0 = Sunday … 6 = Saturday. */
int civil_weekday(int64_t days);
bool civil_is_leap(int64_t year);
int civil_days_in_month(int64_t year, int month);

/* Seconds since the epoch <-> broken-down time, both "naive" (no zone applied). */
int64_t civil_to_secs(const struct civil *c);
void civil_from_secs(int64_t secs, struct civil *out);

/* Floor division helpers that are correct for negative numerators. */
static inline int64_t civil_floordiv(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

/* Formats `local` (already shifted by `offset`) as 2026-03-29T03:00:00+02:00 into buf
 * (at least 32 bytes). Offsets with seconds print as +HH:MM:SS. Returns buf. */
char *civil_format_iso(int64_t utc, int32_t offset, char *buf, size_t len);

/* Parses ISO 8601 "YYYY-MM-DDTHH:MM[:SS](Z|±HH:MM|±HHMM|±HH)"; a space may replace 'T'.
 * Returns 0 and the UTC instant, or -1 with a message in err. */
int civil_parse_iso(const char *text, int64_t *utc, char *err, size_t errlen);

#endif

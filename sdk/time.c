/* Calendar and time zones for plugins (chored/time.h), on the daemon's own zone reader
 * (daemon/tz.c) and calendar arithmetic (daemon/civil.c), compiled into libchored. */
#include "chored/time.h"

#include <stdio.h>
#include <string.h>

#include "civil.h"
#include "tz.h"

/* Years whose day numbers and seconds stay far inside int64 arithmetic. */
#define YEAR_MIN (-100000)
#define YEAR_MAX 100000

int chored_time_zone_check(const char *zone, char *err, size_t errlen)
{
	char why[256];
	if (zone && tz_get(zone, why, sizeof why))
		return 0;
	snprintf(err, errlen, "%s", zone ? why : "no time zone given");
	return -1;
}

int chored_time_local(const char *zone, int64_t utc, struct chored_tm *out)
{
	char err[256];
	const struct tz *z = zone ? tz_get(zone, err, sizeof err) : NULL;
	if (!z)
		return -1;
	int32_t off = tz_offset_at(z, utc);
	struct civil c;
	civil_from_secs(utc + off, &c);
	*out = (struct chored_tm){
	    .year = (int)c.year,
	    .month = c.month,
	    .day = c.day,
	    .hour = c.hour,
	    .minute = c.minute,
	    .second = c.second,
	    .weekday = civil_weekday(civil_floordiv(utc + off, CIVIL_SECS_PER_DAY)),
	    .offset = off,
	};
	return 0;
}

int chored_time_utc(const char *zone, int year, int month, int day, int hour, int minute,
                    int second, int64_t *utc)
{
	char err[256];
	const struct tz *z = zone ? tz_get(zone, err, sizeof err) : NULL;
	if (!z || year < YEAR_MIN || year > YEAR_MAX)
		return -1;
	/* Normalise the month so that civil_days_from sees 1-12; days, hours… carry. */
	int64_t y = year, m = (int64_t)month - 1;
	y += civil_floordiv(m, 12);
	m -= civil_floordiv(m, 12) * 12;
	int64_t local = civil_days_from(y, (int)m + 1, 1) * CIVIL_SECS_PER_DAY +
	                ((int64_t)day - 1) * CIVIL_SECS_PER_DAY + (int64_t)hour * 3600 +
	                (int64_t)minute * 60 + second;
	/* The offsets in force a day either side cover any transition near `local`. */
	int32_t o1 = tz_offset_at(z, local - CIVIL_SECS_PER_DAY);
	int32_t o2 = tz_offset_at(z, local + CIVIL_SECS_PER_DAY);
	int64_t u1 = local - o1, u2 = local - o2;
	bool ok1 = tz_offset_at(z, u1) == o1, ok2 = tz_offset_at(z, u2) == o2;
	if (ok1 && ok2)
		*utc = u1 < u2 ? u1 : u2; /* repeated wall time: the first occurrence */
	else if (ok1 || ok2)
		*utc = ok1 ? u1 : u2;
	else {
		/* Skipped by a forward jump: the instant of the jump, where the new period starts.
		 */
		struct tz_period p;
		tz_period_at(z, u1, &p);
		*utc = p.start;
	}
	return 0;
}

int64_t chored_days_from_civil(int year, int month, int day)
{
	return civil_days_from(year, month, day);
}

void chored_civil_from_days(int64_t days, int *year, int *month, int *day)
{
	int64_t y;
	civil_from_days(days, &y, month, day);
	*year = (int)y;
}

int chored_weekday(int64_t days)
{
	return civil_weekday(days);
}

int chored_days_in_month(int year, int month)
{
	return civil_days_in_month(year, month);
}

char *chored_time_iso(int64_t utc, int32_t offset, int zulu, char *buf, size_t len)
{
	if (zulu && offset == 0) {
		struct civil c;
		civil_from_secs(utc, &c);
		snprintf(buf, len, "%04lld-%02d-%02dT%02d:%02d:%02dZ", (long long)c.year, c.month,
		         c.day, c.hour, c.minute, c.second);
		return buf;
	}
	return civil_format_iso(utc, offset, buf, len);
}

int chored_time_parse_iso(const char *text, int64_t *utc)
{
	/* civil_parse_iso takes whole seconds: drop a fraction ("…:00.000+01:00"). */
	char copy[64], err[128];
	size_t n = strlen(text);
	if (n >= sizeof copy)
		return -1;
	memcpy(copy, text, n + 1);
	char *dot = strchr(copy, '.');
	if (dot) {
		char *end = dot + 1;
		while (*end >= '0' && *end <= '9')
			end++;
		if (end == dot + 1)
			return -1;
		memmove(dot, end, strlen(end) + 1);
	}
	return civil_parse_iso(copy, utc, err, sizeof err) < 0 ? -1 : 0;
}

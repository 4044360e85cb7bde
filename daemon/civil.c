#include "civil.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

int64_t civil_days_from(int64_t y, int m, int d)
{
	y -= m <= 2;
	const int64_t era = civil_floordiv(y, 400);
	const int64_t yoe = y - era * 400;
	const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void civil_from_days(int64_t z, int64_t *year, int *month, int *day)
{
	z += 719468;
	const int64_t era = civil_floordiv(z, 146097);
	const int64_t doe = z - era * 146097;
	const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	const int64_t mp = (5 * doy + 2) / 153;
	const int d = (int)(doy - (153 * mp + 2) / 5 + 1);
	const int m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*year = yoe + era * 400 + (m <= 2);
	*month = m;
	*day = d;
}

int civil_weekday(int64_t days)
{
	int64_t w = (days + 4) % 7; /* 1970-01-01 was a Thursday */
	return (int)(w < 0 ? w + 7 : w);
}

bool civil_is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int civil_days_in_month(int64_t y, int m)
{
	static const int dim[13] = {0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	return m == 2 && civil_is_leap(y) ? 29 : dim[m];
}

int64_t civil_to_secs(const struct civil *c)
{
	return civil_days_from(c->year, c->month, c->day) * CIVIL_SECS_PER_DAY + c->hour * 3600 +
	       c->minute * 60 + c->second;
}

void civil_from_secs(int64_t secs, struct civil *out)
{
	int64_t days = civil_floordiv(secs, CIVIL_SECS_PER_DAY);
	int64_t rem = secs - days * CIVIL_SECS_PER_DAY;
	civil_from_days(days, &out->year, &out->month, &out->day);
	out->hour = (int)(rem / 3600);
	out->minute = (int)(rem / 60 % 60);
	out->second = (int)(rem % 60);
}

char *civil_format_iso(int64_t utc, int32_t offset, char *buf, size_t len)
{
	struct civil c;
	civil_from_secs(utc + offset, &c);
	char sign = offset < 0 ? '-' : '+';
	int32_t a = offset < 0 ? -offset : offset;
	int n = snprintf(buf, len, "%04lld-%02d-%02dT%02d:%02d:%02d%c%02d:%02d", (long long)c.year,
	                 c.month, c.day, c.hour, c.minute, c.second, sign, a / 3600, a / 60 % 60);
	if (a % 60 && n > 0 && (size_t)n < len)
		snprintf(buf + n, len - (size_t)n, ":%02d", a % 60);
	return buf;
}

/* Reads exactly `width` digits. */
static bool digits(const char **p, int width, int *out)
{
	int v = 0;
	for (int i = 0; i < width; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return false;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += width;
	*out = v;
	return true;
}

int civil_parse_iso(const char *text, int64_t *utc, char *err, size_t errlen)
{
	const char *p = text;
	struct civil c = {0};
	int y;
	if (!digits(&p, 4, &y) || *p++ != '-' || !digits(&p, 2, &c.month) || *p++ != '-' ||
	    !digits(&p, 2, &c.day) || (*p != 'T' && *p != 't' && *p != ' '))
		goto bad;
	p++;
	if (!digits(&p, 2, &c.hour) || *p++ != ':' || !digits(&p, 2, &c.minute))
		goto bad;
	if (*p == ':') {
		p++;
		if (!digits(&p, 2, &c.second))
			goto bad;
	}
	c.year = y;
	if (c.month < 1 || c.month > 12 || c.day < 1 || c.day > civil_days_in_month(y, c.month) ||
	    c.hour > 23 || c.minute > 59 || c.second > 59) {
		snprintf(err, errlen, "'%s' is not a valid date and time", text);
		return -1;
	}
	int32_t off = 0;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p++ == '-' ? -1 : 1, hh, mm = 0;
		if (!digits(&p, 2, &hh))
			goto bad;
		/* A colon must be followed by minutes: "+02:" is malformed. */
		bool colon = *p == ':';
		if (colon)
			p++;
		if ((colon || *p) && !digits(&p, 2, &mm))
			goto bad;
		if (hh > 23 || mm > 59)
			goto bad;
		off = sign * (hh * 3600 + mm * 60);
	} else {
		snprintf(err, errlen, "'%s' has no zone: add Z or an offset such as +02:00", text);
		return -1;
	}
	if (*p)
		goto bad;
	*utc = civil_to_secs(&c) - off;
	return 0;
bad:
	snprintf(err, errlen,
	         "'%s' is not an ISO 8601 time (expected YYYY-MM-DDTHH:MM[:SS] with Z or an offset "
	         "such as +02:00)",
	         text);
	return -1;
}

#include "units.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int units_parse_duration(const char *text, int64_t *secs, char *err, size_t errlen)
{
	static const struct {
		char unit;
		int64_t secs;
	} units[] = {{'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}, {'w', 604800}};
	const char *p = text;
	int64_t total = 0;
	int last = -1; /* units must descend, each at most once: "1h30m", not "30m1h" */
	if (!*p)
		goto bad;
	while (*p) {
		if (!isdigit((unsigned char)*p))
			goto bad;
		errno = 0;
		char *end;
		unsigned long long v = strtoull(p, &end, 10);
		if (errno || end == p)
			goto bad;
		int u = -1;
		for (int i = 0; i < 5; i++)
			if (*end == units[i].unit)
				u = i;
		if (u < 0 || (last >= 0 && u >= last))
			goto bad;
		last = u;
		if (v > (unsigned long long)(INT64_MAX / units[u].secs) ||
		    total > INT64_MAX - (int64_t)v * units[u].secs) {
			snprintf(err, errlen, "duration '%s' is too large", text);
			return -1;
		}
		total += (int64_t)v * units[u].secs;
		p = end + 1;
	}
	*secs = total;
	return 0;
bad:
	snprintf(err, errlen,
	         "'%s' is not a duration (expected a number and a unit: 90s, 15m, 2h, 3d, 2w)",
	         text);
	return -1;
}

int units_parse_size(const char *text, uint64_t *bytes, char *err, size_t errlen)
{
	if (!isdigit((unsigned char)*text))
		goto bad;
	errno = 0;
	char *end;
	unsigned long long v = strtoull(text, &end, 10);
	if (errno)
		goto bad;
	unsigned shift = 0;
	switch (*end) {
	case '\0':
		break;
	case 'K':
	case 'k':
		shift = 10;
		break;
	case 'M':
		shift = 20;
		break;
	case 'G':
		shift = 30;
		break;
	case 'T':
		shift = 40;
		break;
	default:
		goto bad;
	}
	if (*end && end[1] != '\0')
		goto bad;
	if (shift && v > (UINT64_MAX >> shift)) {
		snprintf(err, errlen, "size '%s' is too large", text);
		return -1;
	}
	*bytes = (uint64_t)v << shift;
	return 0;
bad:
	snprintf(err, errlen,
	         "'%s' is not a size (expected bytes or a number with K, M, G or T: 512K, 64M, 1G)",
	         text);
	return -1;
}

char *units_format_duration(int64_t secs, char *buf, size_t len)
{
	static const struct {
		char unit;
		int64_t secs;
	} units[] = {{'w', 604800}, {'d', 86400}, {'h', 3600}, {'m', 60}, {'s', 1}};
	size_t n = 0;
	buf[0] = '\0';
	if (secs == 0) {
		snprintf(buf, len, "0s");
		return buf;
	}
	for (int i = 0; i < 5 && n < len; i++) {
		int64_t q = secs / units[i].secs;
		if (!q)
			continue;
		secs -= q * units[i].secs;
		int w = snprintf(buf + n, len - n, "%lld%c", (long long)q, units[i].unit);
		if (w < 0)
			break;
		n += (size_t)w;
	}
	return buf;
}

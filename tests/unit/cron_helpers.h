/* Shared helpers for the cron unit tests: "the next N fire times as ISO strings" and the
 * location of the shared conformance vectors. Include after <cmocka.h>. */
#ifndef CHORED_TESTS_CRON_HELPERS_H
#define CHORED_TESTS_CRON_HELPERS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "civil.h"
#include "cron.h"
#include "tz.h"

/* Writes the next `count` fire times of `expr` in `zone` strictly after `from` (ISO 8601),
 * space-separated, into buf. A schedule that stops firing ends the list with "NONE"; a parse
 * or zone error yields "ERROR: <message>". Returns buf (caller-owned, `len` bytes). */
static inline char *cron_next_iso(const char *expr, const char *zone, const char *from, int count,
                                  char *buf, size_t len)
{
	char err[256];
	struct cron c;
	int64_t t;
	buf[0] = '\0';
	if (cron_parse(expr, &c, err, sizeof err) != 0 ||
	    civil_parse_iso(from, &t, err, sizeof err) != 0) {
		snprintf(buf, len, "ERROR: %s", err);
		return buf;
	}
	const struct tz *z = tz_get(zone, err, sizeof err);
	if (!z) {
		snprintf(buf, len, "ERROR: %s", err);
		return buf;
	}
	size_t used = 0;
	for (int i = 0; i < count; i++) {
		char one[48];
		int64_t next;
		if (!cron_next(&c, z, t, &next))
			snprintf(one, sizeof one, "NONE");
		else
			civil_format_iso(next, tz_offset_at(z, next), one, sizeof one);
		int n = snprintf(buf + used, len - used, "%s%s", i ? " " : "", one);
		if (n < 0 || (size_t)n >= len - used)
			fail_msg("cron_next_iso: buffer of %zu bytes too small for %d times", len,
			         count);
		used += (size_t)n;
		if (strcmp(one, "NONE") == 0)
			break;
		t = next;
	}
	return buf;
}

/* Asserts the next fire times, printing the case on mismatch. */
#define assert_next(expr, zone, from, count, expected)                                             \
	do {                                                                                       \
		char got_[2048];                                                                   \
		cron_next_iso((expr), (zone), (from), (count), got_, sizeof got_);                 \
		if (strcmp(got_, (expected)) != 0)                                                 \
			fail_msg("'%s' in %s after %s:\n  got      %s\n  expected %s", (expr),     \
			         (zone), (from), got_, (expected));                                \
	} while (0)

/* Path of a file in the shared conformance directory ($CHORED_SHARED_DIR/conformance, else
 * $top_srcdir/../shared/conformance) into buf; false when neither variable is set. */
static inline bool cron_conformance_path(const char *file, char *buf, size_t len)
{
	const char *shared = getenv("CHORED_SHARED_DIR");
	const char *top = getenv("top_srcdir");
	int n;
	if (shared && *shared)
		n = snprintf(buf, len, "%s/conformance/%s", shared, file);
	else if (top && *top)
		n = snprintf(buf, len, "%s/../shared/conformance/%s", top, file);
	else
		return false;
	return n > 0 && (size_t)n < len;
}

#endif

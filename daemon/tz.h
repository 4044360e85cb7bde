/* Per-zone UTC offsets from compiled zone data (TZif v1-v4 plus the POSIX TZ footer),
 * without setenv("TZ")/tzset: glibc offers no per-zone conversion otherwise.
 * A zone is loaded once and is immutable afterwards; lookups are a binary search. */
#ifndef CHORED_TZ_H
#define CHORED_TZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tz;

/* One stretch of constant UTC offset: [start, end) in UTC seconds.
 * start is INT64_MIN before the first transition, end is INT64_MAX after the last. */
struct tz_period {
	int64_t start;
	int64_t end;
	int32_t offset;      /* seconds east of UTC in this period */
	int32_t prev_offset; /* offset just before `start` (== offset when start is INT64_MIN) */
};

/* Loads zone `name` ("UTC", "Europe/Paris", …) from $TZDIR or /usr/share/zoneinfo.
 * Names must be relative, without "..", made of [A-Za-z0-9/_+-]. "UTC" works without data.
 * Returns a new zone the caller frees with tz_free, or NULL with a message in err. */
struct tz *tz_load(const char *name, char *err, size_t errlen);
void tz_free(struct tz *z);

/* Process-wide cache: each name is loaded once. The pointer lives until tz_cache_clear().
 * Not thread-safe (chored is single-threaded). Returns NULL with a message in err. */
const struct tz *tz_get(const char *name, char *err, size_t errlen);
void tz_cache_clear(void);

/* The built-in UTC zone (never NULL, never freed). */
const struct tz *tz_utc(void);

const char *tz_name(const struct tz *z);
/* True when the zone has a single offset at all times (UTC, Etc/GMT+5, …). */
bool tz_is_fixed(const struct tz *z);

int32_t tz_offset_at(const struct tz *z, int64_t utc);
void tz_period_at(const struct tz *z, int64_t utc, struct tz_period *out);

#endif

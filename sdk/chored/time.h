/* Calendar and time zones for plugins (chored-sdk(3)): the wall clock of any IANA zone from
 * the system's zone data, without touching the process's TZ. Instants are UTC seconds
 * (as chored_job_now() and chored_job_nominal_time() return them). */
#ifndef CHORED_TIME_H
#define CHORED_TIME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A wall-clock time in some zone. */
struct chored_tm {
	int year;
	int month;      /* 1-12 */
	int day;        /* 1-31 */
	int hour;       /* 0-23 */
	int minute;     /* 0-59 */
	int second;     /* 0-59 */
	int weekday;    /* 0 = Sunday … 6 = Saturday */
	int32_t offset; /* seconds east of UTC in effect */
};

/* Checks that `zone` ("UTC", "Europe/Paris", …) exists. Returns 0, or -1 with a message
 * naming the zone in err (for a plugin's check callback). */
int chored_time_zone_check(const char *zone, char *err, size_t errlen);

/* The wall clock in `zone` at `utc`. Returns 0, or -1 for an unknown zone. */
int chored_time_local(const char *zone, int64_t utc, struct chored_tm *out);

/* The instant at which the wall clock of `zone` reads year-month-day hour:minute:second
 * (fields may overflow: day 32 is the 1st of the next month). A wall time that occurs twice
 * (clocks set back) gives its first occurrence; one skipped by clocks set forward gives the
 * instant of the jump. Returns 0, or -1 for an unknown zone or an out-of-range year. */
int chored_time_utc(const char *zone, int year, int month, int day, int hour, int minute,
                    int second, int64_t *utc);

/* Day numbers: days since 1970-01-01 (proleptic Gregorian), and back. */
int64_t chored_days_from_civil(int year, int month, int day);
void chored_civil_from_days(int64_t days, int *year, int *month, int *day);
int chored_weekday(int64_t days); /* 0 = Sunday … 6 = Saturday */
int chored_days_in_month(int year, int month);

/* "2026-03-29T03:00:00+02:00" (or "…Z" when offset is 0 and zulu is non-zero) into buf of
 * at least 32 bytes; returns buf. */
char *chored_time_iso(int64_t utc, int32_t offset, int zulu, char *buf, size_t len);
/* Parses ISO 8601 with "Z" or an offset ("2026-03-29T03:00:00+02:00", fraction allowed and
 * ignored). Returns 0, or -1 when the text is not such a time. */
int chored_time_parse_iso(const char *text, int64_t *utc);

#ifdef __cplusplus
}
#endif

#endif

/* Cron expressions (design §5): parse once into field bit sets, then compute next fire
 * times by jumping over non-matching months, days, hours, minutes and seconds. */
#ifndef CHORED_CRON_H
#define CHORED_CRON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tz.h"

struct strbuf;

enum cron_kind {
	CRON_CALENDAR, /* fields or a calendar macro */
	CRON_REBOOT,   /* @reboot: once when the daemon starts on a fresh boot */
	CRON_MANUAL,   /* manual: only on demand */
};

/* Plain data, no pointers: copy freely. */
struct cron {
	enum cron_kind kind;
	bool has_seconds; /* 6-field form */
	bool wallclock;   /* minute or hour field starts with '*' (or '?'): DST wall-clock rule */
	bool dom_star; /* day-of-month starts with '*' or is '?' (unrestricted for the OR rule) */
	bool dow_star;
	uint64_t sec;   /* bits 0-59 */
	uint64_t min;   /* bits 0-59 */
	uint32_t hour;  /* bits 0-23 */
	uint32_t dom;   /* bits 1-31: plain days */
	uint16_t month; /* bits 1-12 */
	uint8_t dow;    /* bits 0-6, 0 = Sunday */
	/* Special day items (Quartz meanings, cron numbering). */
	uint32_t dom_last_minus; /* bit n: L-n (L = L-0), n 0-30 */
	uint32_t dom_nearest_wd; /* bit n: nW, n 1-31 */
	bool dom_last_wd;        /* LW */
	uint8_t dow_last;        /* bit d: dL, last d-day of the month */
	uint8_t dow_nth[7];      /* dow_nth[d] bit k: d#k, k 1-5 */
};

/* Parses `expr` (5 or 6 fields, or a macro). On error returns -1 and writes a message
 * naming the field, the token and what is allowed, e.g.
 * "day-of-month 32 is out of range 1-31". */
int cron_parse(const char *expr, struct cron *out, char *err, size_t errlen);

/* The first fire time strictly after `after` (UTC seconds) in zone z, with the DST rule of
 * design §5. Returns false when the schedule is not a calendar one or never fires again
 * within 400 years (e.g. "0 0 30 2 *"). */
bool cron_next(const struct cron *c, const struct tz *z, int64_t after, int64_t *next);

/* Appends the schedule in words to out, e.g. "at 08:00 on Monday (UTC)".
 * `expr` is the text that was parsed (for step and list wording). */
void cron_explain(const struct cron *c, const char *expr, const char *zone, struct strbuf *out);

/* Appends lint warnings, one per line (each ending in '\n'); returns how many. */
int cron_lint(const struct cron *c, const char *expr, struct strbuf *out);

#endif

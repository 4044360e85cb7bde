/* Cron expressions: parsing into bit sets (design §5) and next-fire-time search.
 *
 * The search runs on "naive" local seconds (civil arithmetic, no zone), jumping month by
 * month, then to the next matching day, hour, minute and second with bit tricks. Zones are
 * handled outside that search, one constant-offset period at a time, which is where the DST
 * rule (wall-clock vs fixed-time) lives. */
#include "cron.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "civil.h"

enum field_id { F_SEC, F_MIN, F_HOUR, F_DOM, F_MONTH, F_DOW, F_COUNT };

struct field_spec {
	const char *name;
	int min, max;     /* values accepted as written */
	int star_max;     /* upper end of '*' and 'a/n' (day-of-week: 6, since 7 repeats Sunday) */
	int max_step;     /* a step beyond the field's span could only ever select its start */
	const char *noun; /* for "is not a ..." messages; NULL when names are not allowed */
	const char *const *names; /* 3-letter names for min..; NULL when none */
};

static const char *const month_names[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                          "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
static const char *const dow_names[] = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};

static const struct field_spec specs[F_COUNT] = {
    [F_SEC] = {"second", 0, 59, 59, 60, NULL, NULL},
    [F_MIN] = {"minute", 0, 59, 59, 60, NULL, NULL},
    [F_HOUR] = {"hour", 0, 23, 23, 24, NULL, NULL},
    [F_DOM] = {"day-of-month", 1, 31, 31, 31, NULL, NULL},
    [F_MONTH] = {"month", 1, 12, 12, 12, "a month (1-12 or JAN-DEC)", month_names},
    [F_DOW] = {"day-of-week", 0, 7, 6, 7, "a day of the week (0-7 or SUN-SAT)", dow_names},
};

/* A slice of the expression being parsed; never NUL-terminated on its own. */
struct slice {
	const char *p;
	size_t n;
};

/* Parse state for one item; `item` is kept for error messages. */
struct item_ctx {
	const struct field_spec *f;
	struct slice field; /* the whole field, for "empty item" */
	struct slice item;
	const char *cur; /* cursor inside item */
	const char *end;
	char *err;
	size_t errlen;
};

static int fail(struct item_ctx *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(struct item_ctx *x, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(x->err, x->errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* Reads a number or (for month and day-of-week) a name at the cursor. `tok` receives the
 * text as written, for messages. */
static int read_value(struct item_ctx *x, int *out, struct slice *tok)
{
	const struct field_spec *f = x->f;
	const char *s = x->cur;
	tok->p = s;
	if (s < x->end && isdigit((unsigned char)*s)) {
		long long v = 0;
		while (s < x->end && isdigit((unsigned char)*s)) {
			if (v < 1000000000)
				v = v * 10 +
				    (*s - '0'); /* saturate: only the range check sees it */
			s++;
		}
		tok->n = (size_t)(s - tok->p);
		x->cur = s;
		if (v < f->min || v > f->max) {
			int n = snprintf(x->err, x->errlen, "%s %.*s is out of range %d-%d",
			                 f->name, (int)tok->n, tok->p, f->min, f->max);
			if (x->item.n != tok->n && n > 0 && (size_t)n < x->errlen)
				snprintf(x->err + n, x->errlen - (size_t)n, " in '%.*s'",
				         (int)x->item.n, x->item.p);
			return -1;
		}
		*out = (int)v;
		return 0;
	}
	if (s < x->end && isalpha((unsigned char)*s)) {
		while (s < x->end && isalpha((unsigned char)*s))
			s++;
		size_t n = (size_t)(s - tok->p);
		/* "FRIL" = last Friday: the name is the first three letters. */
		if (f->names == dow_names && n == 4 && (tok->p[3] == 'L' || tok->p[3] == 'l')) {
			n = 3;
			s--;
		}
		tok->n = n;
		if (f->names && n == 3) {
			int count = f->max - f->min + 1 - (f->names == dow_names);
			for (int i = 0; i < count; i++) {
				if (strncasecmp(tok->p, f->names[i], 3) == 0) {
					*out = f->min + i;
					x->cur = s;
					return 0;
				}
			}
		}
		if (f->names)
			return fail(x, "%s: '%.*s' is not %s", f->name, (int)n, tok->p, f->noun);
		return fail(x, "%s: '%.*s' is not a number (%d-%d)", f->name, (int)n, tok->p,
		            f->min, f->max);
	}
	if (s < x->end)
		return fail(x, "%s: unexpected '%c' in '%.*s' (expected a number %d-%d)", f->name,
		            *s, (int)x->item.n, x->item.p, f->min, f->max);
	return fail(x, "%s: '%.*s' ends where a number %d-%d is expected", f->name, (int)x->item.n,
	            x->item.p, f->min, f->max);
}

/* Reads a plain decimal number (steps, L-n offsets, #k), saturating on overflow. */
static bool read_number(struct item_ctx *x, long long *out, struct slice *tok)
{
	const char *s = x->cur;
	tok->p = s;
	long long v = 0;
	while (s < x->end && isdigit((unsigned char)*s)) {
		if (v < 1000000000)
			v = v * 10 + (*s - '0');
		s++;
	}
	tok->n = (size_t)(s - tok->p);
	x->cur = s;
	*out = v;
	return tok->n > 0;
}

static int trailing(struct item_ctx *x)
{
	if (x->cur == x->end)
		return 0;
	return fail(x, "%s: unexpected '%.*s' in '%.*s'", x->f->name, (int)(x->end - x->cur),
	            x->cur, (int)x->item.n, x->item.p);
}

static void set_bits(struct cron *c, enum field_id id, int lo, int hi, int step)
{
	for (int v = lo; v <= hi; v += step) {
		switch (id) {
		case F_SEC:
			c->sec |= UINT64_C(1) << v;
			break;
		case F_MIN:
			c->min |= UINT64_C(1) << v;
			break;
		case F_HOUR:
			c->hour |= UINT32_C(1) << v;
			break;
		case F_DOM:
			c->dom |= UINT32_C(1) << v;
			break;
		case F_MONTH:
			c->month |= (uint16_t)(1u << v);
			break;
		case F_DOW:
			c->dow |= (uint8_t)(1u << (v % 7));
			break;
		default:
			break;
		}
	}
}

/* dom specials: L, L-n, LW. The cursor is on 'L'. */
static int parse_dom_last(struct item_ctx *x, struct cron *c)
{
	x->cur++;
	if (x->cur == x->end) {
		c->dom_last_minus |= 1u;
		return 0;
	}
	if ((*x->cur == 'W' || *x->cur == 'w') && x->cur + 1 == x->end) {
		c->dom_last_wd = true;
		return 0;
	}
	if (*x->cur == '-') {
		x->cur++;
		long long n;
		struct slice tok;
		if (!read_number(x, &n, &tok))
			return fail(x, "%s: '%.*s' needs an offset 0-30 after 'L-'", x->f->name,
			            (int)x->item.n, x->item.p);
		if (n > 30)
			return fail(x, "%s: %.*s: offset %.*s is out of range 0-30", x->f->name,
			            (int)x->item.n, x->item.p, (int)tok.n, tok.p);
		if (trailing(x))
			return -1;
		c->dom_last_minus |= UINT32_C(1) << n;
		return 0;
	}
	return fail(x, "%s: '%.*s' is not L, L-n or LW", x->f->name, (int)x->item.n, x->item.p);
}

static int parse_item(struct item_ctx *x, enum field_id id, struct cron *c)
{
	const struct field_spec *f = x->f;
	int lo, hi;
	bool single = false;
	struct slice lo_tok = {0}, hi_tok = {0};

	if (*x->cur == '*' || *x->cur == '?') {
		lo = f->min;
		hi = f->star_max;
		x->cur++;
	} else if (id == F_DOM && (*x->cur == 'L' || *x->cur == 'l')) {
		return parse_dom_last(x, c);
	} else if (id == F_DOW && (*x->cur == 'L' || *x->cur == 'l') && x->cur + 1 == x->end) {
		return fail(x,
		            "%s: 'L' alone is ambiguous (Quartz reads it as Saturday): write 6 or "
		            "SAT, or nL for the last n-day of the month (5L = last Friday)",
		            f->name);
	} else {
		if (read_value(x, &lo, &lo_tok))
			return -1;
		hi = lo;
		single = true;
		if (x->cur < x->end && *x->cur == '-') {
			x->cur++;
			if (read_value(x, &hi, &hi_tok))
				return -1;
			single = false;
			/* MON-SUN: a named Sunday closes the week (numeric 5-0 stays an error). */
			if (id == F_DOW && hi == 0 && lo > 0 && isalpha((unsigned char)*hi_tok.p))
				hi = 7;
			if (hi < lo)
				return fail(x, "%s: range %.*s-%.*s must ascend (no wrap-around)",
				            f->name, (int)lo_tok.n, lo_tok.p, (int)hi_tok.n,
				            hi_tok.p);
		}
		if (x->cur < x->end && (*x->cur == 'W' || *x->cur == 'w') && id == F_DOM) {
			if (!single)
				return fail(x, "%s: W takes a single day, not '%.*s'", f->name,
				            (int)x->item.n, x->item.p);
			x->cur++;
			if (trailing(x))
				return -1;
			c->dom_nearest_wd |= UINT32_C(1) << lo;
			return 0;
		}
		if (x->cur < x->end && id == F_DOW &&
		    (*x->cur == 'L' || *x->cur == 'l' || *x->cur == '#')) {
			if (!single)
				return fail(x, "%s: '%c' takes a single day, not '%.*s'", f->name,
				            *x->cur, (int)x->item.n, x->item.p);
			if (*x->cur++ != '#') {
				if (trailing(x))
					return -1;
				c->dow_last |= (uint8_t)(1u << (lo % 7));
				return 0;
			}
			long long k;
			struct slice tok;
			if (!read_number(x, &k, &tok))
				return fail(x, "%s: '%.*s' needs an occurrence 1-5 after '#'",
				            f->name, (int)x->item.n, x->item.p);
			if (k < 1 || k > 5)
				return fail(x, "%s: %.*s: occurrence %.*s is out of range 1-5",
				            f->name, (int)x->item.n, x->item.p, (int)tok.n, tok.p);
			if (trailing(x))
				return -1;
			c->dow_nth[lo % 7] |= (uint8_t)(1u << k);
			return 0;
		}
	}
	int step = 1;
	if (x->cur < x->end && *x->cur == '/') {
		x->cur++;
		long long n;
		struct slice tok;
		if (!read_number(x, &n, &tok))
			return fail(x, "%s: '%.*s' needs a number after '/'", f->name,
			            (int)x->item.n, x->item.p);
		if (n < 1)
			return fail(x, "%s: step %.*s in '%.*s' must be at least 1", f->name,
			            (int)tok.n, tok.p, (int)x->item.n, x->item.p);
		if (n > f->max_step)
			return fail(x, "%s: step %.*s in '%.*s' is out of range 1-%d", f->name,
			            (int)tok.n, tok.p, (int)x->item.n, x->item.p, f->max_step);
		step = (int)n;
		if (single) /* a/n = a-max/n (Quartz); it never wraps into the next unit */
			hi = f->star_max < lo ? lo : f->star_max;
	}
	if (trailing(x))
		return -1;
	set_bits(c, id, lo, hi, step);
	return 0;
}

static int parse_field(struct slice field, enum field_id id, struct cron *c, char *err,
                       size_t errlen)
{
	struct item_ctx x = {.f = &specs[id], .field = field, .err = err, .errlen = errlen};
	const char *p = field.p, *end = field.p + field.n;
	for (;;) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		const char *ie = comma ? comma : end;
		if (ie == p)
			return fail(&x, "%s: empty item in '%.*s'", x.f->name, (int)field.n,
			            field.p);
		x.item = (struct slice){p, (size_t)(ie - p)};
		x.cur = p;
		x.end = ie;
		if (parse_item(&x, id, c))
			return -1;
		if (!comma)
			return 0;
		p = comma + 1;
	}
}

static bool is_blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

static const struct {
	const char *name;
	const char *expansion; /* NULL: not a calendar schedule */
	enum cron_kind kind;
} macros[] = {
    {"@yearly", "0 0 1 1 *", CRON_CALENDAR},
    {"@annually", "0 0 1 1 *", CRON_CALENDAR},
    {"@monthly", "0 0 1 * *", CRON_CALENDAR},
    {"@weekly", "0 0 * * 0", CRON_CALENDAR},
    {"@daily", "0 0 * * *", CRON_CALENDAR},
    {"@midnight", "0 0 * * *", CRON_CALENDAR},
    {"@hourly", "0 * * * *", CRON_CALENDAR},
    {"@reboot", NULL, CRON_REBOOT},
    {"manual", NULL, CRON_MANUAL},
};

static int parse_fields(const char *p, const char *end, struct cron *out, char *err, size_t errlen)
{
	struct slice f[7];
	int n = 0;
	while (p < end) {
		while (p < end && is_blank(*p))
			p++;
		if (p == end)
			break;
		const char *s = p;
		while (p < end && !is_blank(*p))
			p++;
		if (n < 7)
			f[n] = (struct slice){s, (size_t)(p - s)};
		n++;
	}
	if (n != 5 && n != 6) {
		snprintf(err, errlen, "expected 5 or 6 fields, got %d", n);
		return -1;
	}
	struct cron c = {.kind = CRON_CALENDAR, .has_seconds = n == 6};
	const struct slice *fs = f;
	if (c.has_seconds) {
		if (parse_field(fs[0], F_SEC, &c, err, errlen))
			return -1;
		fs++;
	} else {
		c.sec = 1; /* second 0 */
	}
	for (int i = 0; i < 5; i++)
		if (parse_field(fs[i], (enum field_id)(F_MIN + i), &c, err, errlen))
			return -1;
	c.wallclock =
	    fs[0].p[0] == '*' || fs[0].p[0] == '?' || fs[1].p[0] == '*' || fs[1].p[0] == '?';
	c.dom_star = fs[2].p[0] == '*' || fs[2].p[0] == '?';
	c.dow_star = fs[4].p[0] == '*' || fs[4].p[0] == '?';
	*out = c;
	return 0;
}

int cron_parse(const char *expr, struct cron *out, char *err, size_t errlen)
{
	const char *p = expr, *end = expr + strlen(expr);
	while (p < end && (is_blank(*p) || *p == '\n' || *p == '\r'))
		p++;
	while (end > p && (is_blank(end[-1]) || end[-1] == '\n' || end[-1] == '\r'))
		end--;
	if (p == end) {
		snprintf(err, errlen,
		         "empty schedule (expected 5 or 6 fields, or a macro such as "
		         "@daily)");
		return -1;
	}
	size_t wl = 0;
	while (p + wl < end && !is_blank(p[wl]))
		wl++;
	bool is_macro = *p == '@' || (wl == 6 && strncasecmp(p, "manual", 6) == 0);
	if (!is_macro)
		return parse_fields(p, end, out, err, errlen);
	for (size_t i = 0; i < sizeof macros / sizeof macros[0]; i++) {
		if (strlen(macros[i].name) != wl || strncasecmp(p, macros[i].name, wl) != 0)
			continue;
		if (p + wl != end) {
			snprintf(err, errlen, "%s takes no fields, got '%.*s'", macros[i].name,
			         (int)(end - p), p);
			return -1;
		}
		if (!macros[i].expansion) {
			*out = (struct cron){.kind = macros[i].kind};
			return 0;
		}
		const char *x = macros[i].expansion;
		return parse_fields(x, x + strlen(x), out, err, errlen);
	}
	snprintf(err, errlen,
	         "unknown macro '%.*s' (allowed: @yearly, @annually, @monthly, @weekly, @daily, "
	         "@midnight, @hourly, @reboot, manual)",
	         (int)wl, p);
	return -1;
}

/* ---- next fire time ---- */

/* Bit d (1..31) set when day d of the month matches, days beyond the month cleared. */
static uint32_t day_mask(const struct cron *c, int64_t y, int m)
{
	int nd = civil_days_in_month(y, m);
	int w1 = civil_weekday(civil_days_from(y, m, 1)); /* weekday of the 1st */
	uint32_t valid = (uint32_t)((UINT64_C(2) << nd) - 2);

	uint32_t dm = c->dom;
	if (c->dom_last_minus) {
		/* L-n is day nd-n, so it depends on the month length. */
		uint32_t lm = c->dom_last_minus;
		while (lm) {
			int n = __builtin_ctz(lm);
			lm &= lm - 1;
			if (nd - n >= 1)
				dm |= UINT32_C(1) << (nd - n);
		}
	}
	if (c->dom_nearest_wd) {
		uint32_t wm = c->dom_nearest_wd;
		while (wm) {
			int n = __builtin_ctz(wm);
			wm &= wm - 1;
			if (n > nd)
				continue; /* never crosses into the next month */
			int w = (w1 + n - 1) % 7, d = n;
			if (w == 6)
				d = n == 1 ? 3 : n - 1;
			else if (w == 0)
				d = n == nd ? n - 2 : n + 1;
			dm |= UINT32_C(1) << d;
		}
	}
	if (c->dom_last_wd) {
		int w = (w1 + nd - 1) % 7;
		dm |= UINT32_C(1) << (w == 6 ? nd - 1 : w == 0 ? nd - 2 : nd);
	}

	/* Plain weekdays: rotate the 7-bit set so bit j = weekday of day j+1, then tile it. */
	uint64_t r = ((uint64_t)(c->dow >> w1) | ((uint64_t)c->dow << (7 - w1))) & 0x7f;
	uint32_t wd = (uint32_t)((r | r << 7 | r << 14 | r << 21 | r << 28) << 1);
	if (c->dow_last) {
		int wl = (w1 + nd - 1) % 7;
		for (int d = 0; d < 7; d++)
			if (c->dow_last >> d & 1)
				wd |= UINT32_C(1) << (nd - (wl - d + 7) % 7);
	}
	for (int d = 0; d < 7; d++) {
		if (!c->dow_nth[d])
			continue;
		int first = 1 + (d - w1 + 7) % 7;
		for (int k = 1; k <= 5; k++) {
			int day = first + 7 * (k - 1);
			if (c->dow_nth[d] >> k & 1 && day <= nd)
				wd |= UINT32_C(1) << day;
		}
	}
	/* vixie: OR when both fields are restricted, AND otherwise. */
	uint32_t mask = (!c->dom_star && !c->dow_star) ? (dm | wd) : (dm & wd);
	return mask & valid;
}

/* Smallest naive local second >= from matching the fields, within 400 years. */
static bool next_local(const struct cron *c, int64_t from, int64_t *out)
{
	struct civil t;
	civil_from_secs(from, &t);
	int64_t y = t.year, ylimit = t.year + 401;
	int mo = t.month, d = t.day, h = t.hour, mi = t.minute, s = t.second;
	int64_t mask_y = INT64_MIN;
	int mask_m = 0;
	uint32_t mask = 0;

	for (;;) {
		uint32_t mm = mo <= 12 ? c->month & (~0u << mo) : 0;
		if (!mm) {
			if (++y > ylimit)
				return false;
			mo = 1, d = 1, h = 0, mi = 0, s = 0;
			continue;
		}
		int nm = __builtin_ctz(mm);
		if (nm != mo)
			mo = nm, d = 1, h = 0, mi = 0, s = 0;
		if (y != mask_y || mo != mask_m) {
			mask = day_mask(c, y, mo);
			mask_y = y;
			mask_m = mo;
		}
		uint32_t dm = d <= 31 ? mask & (~0u << d) : 0;
		if (!dm) {
			mo++, d = 1, h = 0, mi = 0, s = 0;
			continue;
		}
		int nd = __builtin_ctz(dm);
		if (nd != d)
			d = nd, h = 0, mi = 0, s = 0;
		uint32_t hm = h < 24 ? c->hour & (~0u << h) : 0;
		if (!hm) {
			d++, h = 0, mi = 0, s = 0;
			continue;
		}
		int nh = __builtin_ctz(hm);
		if (nh != h)
			h = nh, mi = 0, s = 0;
		uint64_t mim = mi < 60 ? c->min & (~UINT64_C(0) << mi) : 0;
		if (!mim) {
			h++, mi = 0, s = 0;
			continue;
		}
		int nmi = __builtin_ctzll(mim);
		if (nmi != mi)
			mi = nmi, s = 0;
		uint64_t sm = s < 60 ? c->sec & (~UINT64_C(0) << s) : 0;
		if (!sm) {
			mi++, s = 0;
			continue;
		}
		s = __builtin_ctzll(sm);
		*out = civil_days_from(y, mo, d) * CIVIL_SECS_PER_DAY + h * 3600 + mi * 60 + s;
		return true;
	}
}

/* Keeps every intermediate (local = utc + offset, 400-year bound) far from overflow. */
#define CRON_TIME_LIMIT (INT64_C(1) << 55)

bool cron_next(const struct cron *c, const struct tz *z, int64_t after, int64_t *next)
{
	if (c->kind != CRON_CALENDAR || after >= CRON_TIME_LIMIT || after <= -CRON_TIME_LIMIT)
		return false;
	int64_t from = after + 1, limit = after + 401 * (CIVIL_SECS_PER_400Y / 400), l;

	if (tz_is_fixed(z)) {
		int32_t off = tz_offset_at(z, from);
		if (!next_local(c, from + off, &l))
			return false;
		*next = l - off;
		return true;
	}

	struct tz_period p;
	tz_period_at(z, from, &p);
	/* No local time in [known_lo, known_l) matches and known_l does: a search starting in
	 * that interval needs no work (the common case when a match lies past a period end). */
	int64_t known_lo = INT64_MAX, known_l = INT64_MIN;
	for (;;) {
		int64_t start = p.start > from ? p.start : from;
		int64_t lfrom = start + p.offset;
		bool at_jump = p.start > after && p.offset > p.prev_offset;
		/* Fixed-time: wall times repeated after a fall-back already fired in the period
		 * before; wall times skipped by a jump fire at the jump. */
		if (!c->wallclock && p.prev_offset > p.offset && p.start != INT64_MIN &&
		    p.start + p.prev_offset > lfrom)
			lfrom = p.start + p.prev_offset;
		if (!c->wallclock && at_jump)
			lfrom = p.start + p.prev_offset;
		if (lfrom >= known_lo && lfrom <= known_l) {
			l = known_l;
		} else {
			if (!next_local(c, lfrom, &l))
				return false;
			known_lo = lfrom;
			known_l = l;
		}
		if (!c->wallclock && at_jump && l < p.start + p.offset) {
			*next = p.start;
			return true;
		}
		if (l - p.offset < p.end) {
			*next = l - p.offset;
			return true;
		}
		if (p.end >= limit)
			return false;
		tz_period_at(z, p.end, &p);
	}
}

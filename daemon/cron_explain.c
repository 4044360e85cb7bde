/* Cron schedules in words (chorectl explain) and portability lints.
 *
 * The bit sets in struct cron say exactly when a schedule fires, but they lose how it was
 * written: "*" + "/15" and "0,15,30,45" parse alike, and only the text shows an "a/n" step or a
 * numeric day of week. So both functions also read the expression text, field by field, and
 * fall back to the bit sets alone when the text is a macro or does not split into fields. */
#include "cron.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "strbuf.h"

enum field { F_SEC, F_MIN, F_HOUR, F_DOM, F_MON, F_DOW, F_COUNT };

static const char *const field_name[F_COUNT] = {
    "second", "minute", "hour", "day-of-month", "month", "day-of-week",
};

static const char *const month_name[13] = {
    "",     "January", "February",  "March",   "April",    "May",      "June",
    "July", "August",  "September", "October", "November", "December",
};
static const char *const month_abbr[13] = {
    "", "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
};
static const char *const dow_name[7] = {
    "Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday",
};
static const char *const dow_abbr[7] = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};
static const char *const ordinal[6] = {"", "first", "second", "third", "fourth", "fifth"};

/* Longest fixed month lengths; February counts 29 because leap years have it. */
static const int month_max_days[13] = {0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

#define ALL_SEC   ((UINT64_C(1) << 60) - 1)
#define ALL_HOUR  ((UINT32_C(1) << 24) - 1)
#define ALL_DOM   (((UINT32_C(1) << 31) - 1) << 1)
#define ALL_MONTH ((uint16_t)(((1u << 12) - 1) << 1))
#define ALL_DOW   ((uint8_t)0x7f)

/* Lists longer than this are shortened to "a, b, c, …, z": a "Crons" page wants the
 * shape of a schedule, not sixty numbers. */
#define LIST_CAP 6

/* ---- the expression text, split into fields ---- */

struct fields {
	char *copy;             /* owned: the expression with NULs between fields */
	const char *f[F_COUNT]; /* point into copy; all NULL when the text is not fields */
};

static void fields_split(struct fields *fs, const struct cron *c, const char *expr)
{
	memset(fs, 0, sizeof(*fs));
	if (!expr || c->kind != CRON_CALENDAR)
		return;
	fs->copy = strdup(expr);
	if (!fs->copy)
		abort();
	char *tok[7];
	int n = 0;
	for (char *p = fs->copy; *p;) {
		while (isspace((unsigned char)*p))
			*p++ = '\0';
		if (!*p)
			break;
		if (n == 7)
			return; /* not a field list: describe from the bit sets only */
		tok[n++] = p;
		while (*p && !isspace((unsigned char)*p))
			p++;
	}
	if (n != (c->has_seconds ? 6 : 5))
		return; /* a macro such as @daily */
	int first = c->has_seconds ? F_SEC : F_MIN;
	for (int i = 0; i < n; i++)
		fs->f[first + i] = tok[i];
}

static void fields_free(struct fields *fs)
{
	free(fs->copy);
	fs->copy = NULL;
}

/* Step size n when the field is the single item "x/n", else 0. */
static int field_step(const char *text)
{
	if (!text || strchr(text, ','))
		return 0;
	const char *slash = strchr(text, '/');
	if (!slash)
		return 0;
	return atoi(slash + 1);
}

/* ---- bit helpers ---- */

static int popcount64(uint64_t v)
{
	return __builtin_popcountll(v);
}

static int first_bit(uint64_t v)
{
	return v ? __builtin_ctzll(v) : -1;
}

static int last_bit(uint64_t v)
{
	return v ? 63 - __builtin_clzll(v) : -1;
}

static bool has_bit(uint64_t v, int i)
{
	return (v >> i) & 1;
}

/* ---- word lists joined as "a, b and c" ---- */

#define WORD_MAX 96 /* items are generated text (numbers and names), never user input */

struct words {
	char (*item)[WORD_MAX]; /* owned */
	size_t n, cap;
	bool capped; /* shortened to LIST_CAP items around an ellipsis */
};

static void words_addf(struct words *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void words_addf(struct words *w, const char *fmt, ...)
{
	if (w->n == w->cap) {
		w->cap = w->cap ? 2 * w->cap : 16;
		w->item = realloc(w->item, w->cap * sizeof(*w->item));
		if (!w->item)
			abort();
	}
	va_list ap;
	va_start(ap, fmt);
	int len = vsnprintf(w->item[w->n], WORD_MAX, fmt, ap);
	va_end(ap);
	if (len < 0 || len >= WORD_MAX)
		abort(); /* a programming error: items are short generated phrases */
	w->n++;
}

static void words_free(struct words *w)
{
	free(w->item);
	memset(w, 0, sizeof(*w));
}

/* "a", "a and b", "a, b and c"; when capped "a, b, c, …, z". */
static void words_join(const struct words *w, struct strbuf *out)
{
	if (w->n > LIST_CAP) {
		for (size_t i = 0; i < 3; i++)
			strbuf_appendf(out, "%s, ", w->item[i]);
		strbuf_appendf(out, "…, %s", w->item[w->n - 1]);
		return;
	}
	for (size_t i = 0; i < w->n; i++) {
		if (i > 0)
			strbuf_append(out, i + 1 == w->n ? " and " : ", ");
		strbuf_append(out, w->item[i]);
	}
}

enum vfmt { V_NUM, V_HOUR, V_MONTH, V_DOW };

static void add_value(struct words *w, enum vfmt fmt, int v)
{
	switch (fmt) {
	case V_NUM:
		words_addf(w, "%d", v);
		break;
	case V_HOUR:
		words_addf(w, "%02d", v);
		break;
	case V_MONTH:
		words_addf(w, "%s", month_name[v]);
		break;
	case V_DOW:
		words_addf(w, "%s", dow_name[v % 7]);
		break;
	}
}

/* Values in order[0..n) whose bit is set; runs of three or more become "a through b". */
static void add_runs(struct words *w, uint64_t bits, const int *order, int n, enum vfmt fmt)
{
	for (int i = 0; i < n;) {
		if (!has_bit(bits, order[i])) {
			i++;
			continue;
		}
		int j = i;
		while (j + 1 < n && has_bit(bits, order[j + 1]))
			j++;
		if (j - i >= 2) {
			struct words a = {0}, b = {0};
			add_value(&a, fmt, order[i]);
			add_value(&b, fmt, order[j]);
			words_addf(w, "%s through %s", a.item[0], b.item[0]);
			words_free(&a);
			words_free(&b);
		} else {
			for (int k = i; k <= j; k++)
				add_value(w, fmt, order[k]);
		}
		i = j + 1;
	}
}

static void add_range(struct words *w, uint64_t bits, int lo, int hi, enum vfmt fmt)
{
	int order[64];
	int n = 0;
	for (int v = lo; v <= hi; v++)
		order[n++] = v;
	add_runs(w, bits, order, n, fmt);
}

/* "minute 5", "minutes 0 through 29 and 45", "minutes 0, 5, 10, …, 55". */
static void append_set(struct strbuf *out, const char *unit, uint64_t bits, int lo, int hi,
                       enum vfmt fmt)
{
	struct words w = {0};
	add_range(&w, bits, lo, hi, fmt);
	strbuf_appendf(out, "%s%s ", unit, popcount64(bits) == 1 ? "" : "s");
	words_join(&w, out);
	words_free(&w);
}

static bool set_is_long(uint64_t bits, int lo, int hi)
{
	struct words w = {0};
	add_range(&w, bits, lo, hi, V_NUM);
	bool capped = w.n > LIST_CAP;
	words_free(&w);
	return capped;
}

/* ---- time of day ---- */

struct timeview {
	const struct cron *c;
	const struct fields *fs;
	uint64_t sec, min, hour;
	int n_sec, n_min, n_hour;
};

/* "every 15 minutes", "every 15 minutes from minute 5", "… from minute 0 through 30". */
static void append_step(struct strbuf *out, const char *unit, uint64_t bits, int step, int max)
{
	int first = first_bit(bits), last = last_bit(bits);
	strbuf_appendf(out, "every %d %ss", step, unit);
	if (last + step > max) {
		if (first != 0)
			strbuf_appendf(out, " from %s %d", unit, first);
	} else {
		strbuf_appendf(out, " from %s %d through %d", unit, first, last);
	}
}

/* Seconds or minutes as a phrase of their own: "every minute", "every 10 seconds",
 * "at minute 5", "at minutes 0 and 30", "at minutes 0, 5, 10, …, 55 (12 times an hour)". */
static void append_sub(struct strbuf *out, const char *unit, const char *per, uint64_t bits,
                       const char *text)
{
	int step = field_step(text);
	int n = popcount64(bits);
	if (bits == ALL_SEC) {
		strbuf_appendf(out, "every %s", unit);
	} else if (step > 0 && n >= 2) {
		append_step(out, unit, bits, step, 59);
	} else {
		strbuf_append(out, "at ");
		append_set(out, unit, bits, 0, 59, V_NUM);
		if (set_is_long(bits, 0, 59))
			strbuf_appendf(out, " (%d times %s)", n, per);
	}
}

/* "hour 09", "hours 09 through 17", "hours 00, 02, 04, …, 22 (12 hours)". */
static void append_hours(struct strbuf *out, uint64_t hours)
{
	append_set(out, "hour", hours, 0, 23, V_HOUR);
	if (set_is_long(hours, 0, 23))
		strbuf_appendf(out, " (%d hours)", popcount64(hours));
}

static void append_clock(struct strbuf *out, const struct cron *c, int h, int m, int s)
{
	strbuf_appendf(out, "%02d:%02d", h, m);
	if (c->has_seconds)
		strbuf_appendf(out, ":%02d", s);
}

/* Seconds restricted to several values: the seconds lead, the minutes and hours say when. */
static void append_time_multisec(struct strbuf *out, const struct timeview *t)
{
	append_sub(out, "second", "a minute", t->sec, t->fs->f[F_SEC]);
	if (t->min == ALL_SEC && t->hour == ALL_HOUR)
		return;
	strbuf_append(out, " during ");
	if (t->min == ALL_SEC) {
		append_hours(out, t->hour);
	} else if (t->n_min == 1 && t->n_hour == 1) {
		strbuf_append(out, "minute ");
		strbuf_appendf(out, "%02d:%02d", first_bit(t->hour), first_bit(t->min));
	} else {
		append_set(out, "minute", t->min, 0, 59, V_NUM);
		if (set_is_long(t->min, 0, 59))
			strbuf_appendf(out, " (%d minutes)", t->n_min);
		strbuf_append(out, " of ");
		if (t->hour == ALL_HOUR)
			strbuf_append(out, "every hour");
		else
			append_hours(out, t->hour);
	}
}

/* Appends the time-of-day phrase; returns true when it is a list of clock times
 * ("at 08:00"), which reads naturally followed by "every day". */
static bool append_time(struct strbuf *out, const struct cron *c, const struct fields *fs)
{
	struct timeview t = {
	    .c = c,
	    .fs = fs,
	    .sec = c->has_seconds ? c->sec : 1,
	    .min = c->min,
	    .hour = c->hour,
	};
	t.n_sec = popcount64(t.sec);
	t.n_min = popcount64(t.min);
	t.n_hour = popcount64(t.hour);
	if (t.n_sec > 1) {
		append_time_multisec(out, &t);
		return false;
	}
	int s = first_bit(t.sec);
	int min_step = field_step(fs->f[F_MIN]);
	int hour_step = field_step(fs->f[F_HOUR]);
	bool min_stepped = min_step > 0 && t.n_min >= 2 && t.min != ALL_SEC;
	bool fixed = false;

	if (t.hour == ALL_HOUR) {
		if (t.min == ALL_SEC) {
			strbuf_append(out, "every minute");
		} else if (min_stepped) {
			append_step(out, "minute", t.min, min_step, 59);
		} else {
			strbuf_append(out, "every hour ");
			append_sub(out, "minute", "an hour", t.min, NULL);
		}
	} else if (hour_step > 0 && t.n_hour >= 2 && t.n_min == 1) {
		int m = first_bit(t.min);
		strbuf_appendf(out, "every %d hours from ", hour_step);
		append_clock(out, c, first_bit(t.hour), m, s);
		strbuf_append(out, " through ");
		append_clock(out, c, last_bit(t.hour), m, s);
	} else if (t.min != ALL_SEC && !min_stepped && t.n_hour * t.n_min <= LIST_CAP) {
		struct words w = {0};
		for (int h = 0; h < 24; h++) {
			if (!has_bit(t.hour, h))
				continue;
			for (int m = 0; m < 60; m++) {
				if (!has_bit(t.min, m))
					continue;
				if (c->has_seconds)
					words_addf(&w, "%02d:%02d:%02d", h, m, s);
				else
					words_addf(&w, "%02d:%02d", h, m);
			}
		}
		strbuf_append(out, "at ");
		words_join(&w, out);
		words_free(&w);
		fixed = true;
	} else {
		if (t.min == ALL_SEC)
			strbuf_append(out, "every minute during ");
		else if (min_stepped) {
			append_step(out, "minute", t.min, min_step, 59);
			strbuf_append(out, " during ");
		} else {
			append_sub(out, "minute", "an hour", t.min, NULL);
			strbuf_append(out, " past ");
		}
		append_hours(out, t.hour);
	}
	if (!fixed && c->has_seconds && s != 0)
		strbuf_appendf(out, ", at second %d", s);
	return fixed;
}

/* ---- days ---- */

/* "L-2" is "the last day of the month minus 2 days": ordinals such as "third-to-last" are
 * read both as L-2 and as L-3 (Quartz's own Javadoc calls L-3 "third-to-last"). */
static void add_last_minus(struct words *w, int n)
{
	if (n == 0)
		words_addf(w, "the last day of the month");
	else
		words_addf(w, "the last day of the month minus %d day%s", n, n == 1 ? "" : "s");
}

/* Day-of-month items: "day 1 of the month", "the last weekday of the month", … */
static void dom_words(const struct cron *c, struct words *w)
{
	uint32_t plain = c->dom & ALL_DOM;
	if (plain) {
		struct words days = {0};
		struct strbuf sb = STRBUF_INIT;
		add_range(&days, plain, 1, 31, V_NUM);
		strbuf_appendf(&sb, "day%s ", popcount64(plain) == 1 ? "" : "s");
		words_join(&days, &sb);
		words_addf(w, "%s of the month", strbuf_str(&sb));
		strbuf_free(&sb);
		words_free(&days);
	}
	for (int n = 0; n <= 30; n++)
		if (has_bit(c->dom_last_minus, n))
			add_last_minus(w, n);
	for (int d = 1; d <= 31; d++)
		if (has_bit(c->dom_nearest_wd, d))
			words_addf(w, "the weekday nearest day %d of the month", d);
	if (c->dom_last_wd)
		words_addf(w, "the last weekday of the month");
}

/* Day-of-week items: "Monday through Friday", "the first and third Monday of the month". */
static void dow_words(const struct cron *c, struct words *w)
{
	uint8_t plain = c->dow & ALL_DOW;
	if (plain) {
		/* A set that holds Saturday reads Monday-first so SAT,SUN is "Saturday and Sunday".
		 */
		static const int sun_first[7] = {0, 1, 2, 3, 4, 5, 6};
		static const int mon_first[7] = {1, 2, 3, 4, 5, 6, 0};
		struct words a = {0}, b = {0};
		add_runs(&a, plain, sun_first, 7, V_DOW);
		add_runs(&b, plain, mon_first, 7, V_DOW);
		bool weekend = plain == ((1u << 0) | (1u << 6));
		add_runs(w, plain, b.n < a.n || weekend ? mon_first : sun_first, 7, V_DOW);
		words_free(&a);
		words_free(&b);
	}
	for (int d = 0; d < 7; d++) {
		int nth = c->dow_nth[d] & 0x3e;
		if (!nth)
			continue;
		struct words ks = {0};
		struct strbuf sb = STRBUF_INIT;
		for (int k = 1; k <= 5; k++)
			if (has_bit((uint64_t)nth, k))
				words_addf(&ks, "%s", ordinal[k]);
		words_join(&ks, &sb);
		words_addf(w, "the %s %s of the month", strbuf_str(&sb), dow_name[d]);
		strbuf_free(&sb);
		words_free(&ks);
	}
	for (int d = 0; d < 7; d++)
		if (has_bit(c->dow_last, d))
			words_addf(w, "the last %s of the month", dow_name[d]);
}

static bool dom_restricted(const struct cron *c)
{
	return (c->dom & ALL_DOM) != ALL_DOM || c->dom_last_minus || c->dom_nearest_wd ||
	       c->dom_last_wd;
}

static bool dow_restricted(const struct cron *c)
{
	bool nth = false;
	for (int d = 0; d < 7; d++)
		nth |= c->dow_nth[d] != 0;
	return (c->dow & ALL_DOW) != ALL_DOW || c->dow_last || nth;
}

/* vixie cron: a day matches either field only when neither starts with '*' (or is '?'). */
static bool or_rule(const struct cron *c)
{
	return !c->dom_star && !c->dow_star;
}

static void append_words(struct strbuf *out, void (*fill)(const struct cron *, struct words *),
                         const struct cron *c)
{
	struct words w = {0};
	fill(c, &w);
	words_join(&w, out);
	words_free(&w);
}

static void append_days(struct strbuf *out, const struct cron *c, bool fixed_time)
{
	bool dom = dom_restricted(c), dow = dow_restricted(c);
	if (dom) {
		strbuf_append(out, " on ");
		append_words(out, dom_words, c);
		if (dow) {
			strbuf_append(out, or_rule(c) ? ", or on " : ", but only on ");
			append_words(out, dow_words, c);
		}
	} else if (dow) {
		strbuf_append(out, " on ");
		append_words(out, dow_words, c);
	} else if (fixed_time) {
		strbuf_append(out, " every day");
	}
	uint16_t months = c->month & ALL_MONTH;
	if (months != ALL_MONTH) {
		struct words w = {0};
		add_range(&w, months, 1, 12, V_MONTH);
		/* The comma keeps "or on Friday, in July" from reading as Fridays of July only. */
		strbuf_append(out, dom && dow ? ", in " : " in ");
		words_join(&w, out);
		words_free(&w);
	}
}

void cron_explain(const struct cron *c, const char *expr, const char *zone, struct strbuf *out)
{
	/* The zone is left out where it cannot matter. */
	if (c->kind == CRON_REBOOT) {
		strbuf_append(out, "when the daemon starts after a reboot");
		return;
	}
	if (c->kind == CRON_MANUAL) {
		strbuf_append(out, "only when started by hand");
		return;
	}
	struct fields fs;
	fields_split(&fs, c, expr);
	bool fixed = append_time(out, c, &fs);
	append_days(out, c, fixed);
	strbuf_appendf(out, " (%s)", zone && *zone ? zone : "UTC");
	fields_free(&fs);
}

/* ---- lints ---- */

struct field_range {
	int lo, hi;               /* values an "a/n" step runs through */
	int cycle;                /* values before the field wraps, 0 when wrapping is irregular */
	const char *const *names; /* upper-case names, or NULL */
};

static const struct field_range ranges[F_COUNT] = {
    [F_SEC] = {0, 59, 60, NULL}, [F_MIN] = {0, 59, 60, NULL},       [F_HOUR] = {0, 23, 24, NULL},
    [F_DOM] = {1, 31, 0, NULL},  [F_MON] = {1, 12, 12, month_abbr}, [F_DOW] = {0, 6, 0, dow_abbr},
};

static bool item_is_bare_start(const char *item, size_t len)
{
	return len > 0 && !(len == 1 && (item[0] == '*' || item[0] == '?')) &&
	       !memchr(item, '-', len);
}

/* Value of a bare start ("5", "JAN", "mon"); -1 if unknown. */
static int start_value(const char *s, size_t len, const char *const *names, int count)
{
	if (isdigit((unsigned char)s[0]))
		return atoi(s);
	if (names && len == 3)
		for (int i = 0; i < count; i++)
			if (names[i][0] && strncasecmp(s, names[i], 3) == 0)
				return i;
	return -1;
}

/* "a/n" items: Quartz and robfig read them as a-max/n, vixie cron rejects them. */
static int lint_bare_steps(enum field f, const char *text, struct strbuf *out)
{
	int count = 0;
	const struct field_range *r = &ranges[f];
	for (const char *item = text; *item;) {
		size_t len = strcspn(item, ",");
		const char *slash = memchr(item, '/', len);
		if (slash && item_is_bare_start(item, (size_t)(slash - item))) {
			size_t start_len = (size_t)(slash - item);
			int start = start_value(item, start_len, r->names, f == F_MON ? 13 : 7);
			bool named = !isdigit((unsigned char)item[0]);
			struct strbuf hi = STRBUF_INIT;
			if (named && r->names)
				strbuf_append(&hi, r->names[r->hi]);
			else
				strbuf_appendf(&hi, "%d", r->hi);
			strbuf_appendf(out,
			               "'%.*s' in the %s field is Quartz syntax for %.*s-%s%.*s; ",
			               (int)len, item, field_name[f], (int)start_len, item,
			               strbuf_str(&hi), (int)(len - start_len), slash);
			strbuf_append(out, "vixie cron rejects it — write ");
			/* '*' would also turn the day-of-month/day-of-week OR rule off. */
			if (start == r->lo && f != F_DOM && f != F_DOW)
				strbuf_appendf(out, "'*%.*s' or ", (int)(len - start_len), slash);
			strbuf_appendf(out, "'%.*s-%s%.*s' for portability\n", (int)start_len, item,
			               strbuf_str(&hi), (int)(len - start_len), slash);
			strbuf_free(&hi);
			count++;
		}
		item += len;
		if (*item == ',')
			item++;
	}
	return count;
}

/* Digits that number a day ("1", "5L", "1#3"), not a "#k" ordinal or a "/n" step. */
static bool dow_has_numbers(const char *text)
{
	bool skip = false;
	for (const char *p = text; *p; p++) {
		if (*p == ',')
			skip = false;
		else if (*p == '#' || *p == '/')
			skip = true;
		else if (!skip && isdigit((unsigned char)*p))
			return true;
	}
	return false;
}

static uint64_t field_bits(const struct cron *c, enum field f)
{
	switch (f) {
	case F_SEC:
		return c->sec;
	case F_MIN:
		return c->min;
	case F_HOUR:
		return c->hour;
	case F_DOM:
		return c->dom;
	case F_MON:
		return c->month;
	case F_DOW:
		return c->dow;
	default:
		return 0;
	}
}

/* A step that runs to the end of a cyclic field and wraps with a shorter gap (every 7th
 * minute: 56 then 0). Steps that stop early ("0-30/10") are a chosen window. */
static int lint_uneven_step(const struct cron *c, enum field f, const char *text,
                            struct strbuf *out)
{
	const struct field_range *r = &ranges[f];
	int step = field_step(text);
	if (step <= 0 || r->cycle == 0)
		return 0;
	uint64_t bits = field_bits(c, f);
	int n = popcount64(bits), first = first_bit(bits), last = last_bit(bits);
	if (n < 2 || last + step <= r->hi)
		return 0;
	int wrap_gap = r->cycle - last + first;
	if (wrap_gap == step)
		return 0;
	strbuf_appendf(out, "'%s' in the %s field steps ", text, field_name[f]);
	int second = first + step;
	if (n == 2)
		strbuf_appendf(out, "%d, %d", first, last);
	else if (n == 3)
		strbuf_appendf(out, "%d, %d, %d", first, second, last);
	else
		strbuf_appendf(out, "%d, %d, …, %d", first, second, last);
	strbuf_appendf(out, " then wraps to %d: gaps are uneven (%d %ss, then %d)\n", first, step,
	               field_name[f], wrap_gap);
	return 1;
}

static bool day_fits_some_month(uint32_t days, uint16_t months)
{
	for (int m = 1; m <= 12; m++)
		for (int d = 1; d <= 31; d++)
			if (has_bit(months, m) && has_bit(days, d) && d <= month_max_days[m])
				return true;
	return false;
}

/* Days written as single numbers ("31", "1,31"): ranges and steps (25-31, every 2nd day)
 * reach the month's end on purpose, and warning about them would be noise. */
static uint32_t single_days(const struct cron *c, const char *text)
{
	if (c->dom_star)
		return 0;
	if (!text) /* a macro: only @monthly and @yearly restrict days, to day 1 */
		return c->dom & ALL_DOM;
	uint32_t days = 0;
	for (const char *item = text; *item;) {
		size_t len = strcspn(item, ",");
		if (strspn(item, "0123456789") == len) {
			int d = atoi(item);
			if (d >= 1 && d <= 31)
				days |= UINT32_C(1) << d;
		}
		item += len;
		if (*item == ',')
			item++;
	}
	return days;
}

/* Days 29-31 that some selected month lacks. */
static int lint_short_months(const struct cron *c, const char *dom_text, struct strbuf *out)
{
	uint32_t days = single_days(c, dom_text);
	uint16_t months = c->month & ALL_MONTH;
	if (!(days >> 29))
		return 0;
	bool others = (c->dom & ALL_DOM) != days || c->dom_last_minus || c->dom_nearest_wd ||
	              c->dom_last_wd || (or_rule(c) && dow_restricted(c));
	if (!others && !day_fits_some_month(days, months)) {
		struct words ds = {0}, ms = {0};
		add_range(&ds, days, 1, 31, V_NUM);
		add_range(&ms, months, 1, 12, V_MONTH);
		strbuf_appendf(out, "day%s ", popcount64(days) == 1 ? "" : "s");
		words_join(&ds, out);
		strbuf_appendf(out, " of the month never occur%s in ",
		               popcount64(days) == 1 ? "s" : "");
		words_join(&ms, out);
		strbuf_append(out, ": the job never runs\n");
		words_free(&ds);
		words_free(&ms);
		return 1;
	}
	int count = 0;
	for (int d = 29; d <= 31; d++) {
		if (!has_bit(days, d))
			continue;
		if (d == 29 && has_bit(months, 2)) {
			strbuf_append(out, "day 29 of the month exists in February only in leap "
			                   "years: no run on that day in other years\n");
			count++;
			continue;
		}
		uint16_t lacking = 0;
		for (int m = 1; m <= 12; m++)
			if (has_bit(months, m) && month_max_days[m] < d)
				lacking |= (uint16_t)(1u << m);
		if (!lacking)
			continue;
		struct words ms = {0};
		add_range(&ms, lacking, 1, 12, V_MONTH);
		strbuf_appendf(out, "day %d of the month does not exist in ", d);
		words_join(&ms, out);
		strbuf_appendf(out, ": no run on that day in %s",
		               popcount64(lacking) == 1 ? "that month" : "those months");
		strbuf_append(out, d == 31 ? " (use 'L' for the last day of the month)\n" : "\n");
		words_free(&ms);
		count++;
	}
	return count;
}

int cron_lint(const struct cron *c, const char *expr, struct strbuf *out)
{
	if (c->kind != CRON_CALENDAR)
		return 0;
	int count = 0;
	struct fields fs;
	fields_split(&fs, c, expr);
	if (or_rule(c)) {
		strbuf_append(out, "day-of-month and day-of-week are both restricted: the job runs "
		                   "when EITHER matches (vixie cron OR rule); use '*' in one of "
		                   "them to require a single rule\n");
		count++;
	}
	for (int f = 0; f < F_COUNT; f++)
		if (fs.f[f])
			count += lint_bare_steps((enum field)f, fs.f[f], out);
	if (fs.f[F_DOW] && dow_has_numbers(fs.f[F_DOW])) {
		strbuf_append(out,
		              "day-of-week uses numbers: here 0 and 7 are Sunday and 1 is Monday, "
		              "but Quartz and Cloudflare number Sunday as 1 — if this schedule "
		              "came from there, the job runs a day late; names (SUN-SAT) avoid "
		              "the doubt\n");
		count++;
	}
	for (int f = 0; f < F_COUNT; f++)
		if (fs.f[f])
			count += lint_uneven_step(c, (enum field)f, fs.f[f], out);
	count += lint_short_months(c, fs.f[F_DOM], out);
	fields_free(&fs);
	return count;
}

/* TZif (RFC 8536) reader and POSIX TZ rule evaluator.
 *
 * A zone is flattened at load time into one sorted table of (start, offset) stretches: the
 * file's transitions, then the footer rule expanded for a bit more than one 400-year cycle.
 * Instants past that cycle (or, for a zone governed by its footer alone, before it) are
 * shifted by whole cycles into the table, since the Gregorian calendar, and so every POSIX
 * rule, repeats every 400 years. A lookup is then one branch-free binary search. */
#include "tz.h"

#include "civil.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TZ_DEFAULT_DIR "/usr/share/zoneinfo"
#define TZ_MAX_FILE    (1 << 20) /* real zone files are under 4 KiB */
#define TZ_MAX_NAME    255
/* Transitions beyond ±2^60 s (±36 billion years) cannot come from zic: refusing them keeps
 * every later year and second computation far from int64 overflow. */
#define TZ_MAX_ABS_TIME (INT64_C(1) << 60)
/* RFC 8536 §3.2: utoff SHOULD lie in [-89999, 93599]. */
#define TZ_MIN_UTOFF (-89999)
#define TZ_MAX_UTOFF 93599

struct tz {
	char *name;   /* owned, except for the built-in UTC zone */
	size_t n;     /* entries in at/off, >= 1 */
	int64_t *at;  /* owned; at[0] == INT64_MIN, strictly ascending */
	int32_t *off; /* owned; off[i] holds on [at[i], at[i+1]); off[i] != off[i+1] */
	/* Cycle mapping (only when `cyclic`): at[cyc_i] == cyc_lo, at[n-1] == cyc_lo + 400 years.
	 * Instants >= cyc_hi or < map_lo are moved into [cyc_lo, cyc_hi) by whole cycles. */
	bool cyclic;
	size_t cyc_i;
	int64_t cyc_lo, cyc_hi, map_lo;
};

static int64_t utc_at[1] = {INT64_MIN};
static int32_t utc_off[1] = {0};
static struct tz utc_zone = {.name = (char *)"UTC", .n = 1, .at = utc_at, .off = utc_off};

const struct tz *tz_utc(void)
{
	return &utc_zone;
}

const char *tz_name(const struct tz *z)
{
	return z->name;
}

bool tz_is_fixed(const struct tz *z)
{
	return z->n == 1;
}

/* Branch-free upper bound: the last index whose start is <= t (at[0] is INT64_MIN). */
static size_t find(const int64_t *at, size_t n, int64_t t)
{
	const int64_t *base = at;
	while (n > 1) {
		size_t half = n / 2;
		base = base[half] <= t ? base + half : base;
		n -= half;
	}
	return (size_t)(base - at);
}

/* a + b and a - b for b >= 0, clamped to the int64 range. */
static int64_t add_sat(int64_t a, int64_t b)
{
	int64_t r;
	return __builtin_add_overflow(a, b, &r) ? INT64_MAX : r;
}

static int64_t sub_sat(int64_t a, int64_t b)
{
	int64_t r;
	return __builtin_sub_overflow(a, b, &r) ? INT64_MIN : r;
}

void tz_period_at(const struct tz *z, int64_t utc, struct tz_period *out)
{
	if (!z->cyclic || (utc < z->cyc_hi && utc >= z->map_lo)) {
		size_t i = find(z->at, z->n, utc);
		out->start = z->at[i];
		out->end = i + 1 < z->n ? z->at[i + 1] : INT64_MAX;
		out->offset = z->off[i];
		out->prev_offset = i > 0 ? z->off[i - 1] : z->off[i];
		return;
	}
	/* t is utc moved into [cyc_lo, cyc_hi) by whole cycles; remainders avoid the overflow
	 * that utc - cyc_lo could hit near the ends of the int64 range. */
	int64_t d = utc % CIVIL_SECS_PER_400Y - z->cyc_lo % CIVIL_SECS_PER_400Y;
	d %= CIVIL_SECS_PER_400Y;
	if (d < 0)
		d += CIVIL_SECS_PER_400Y;
	int64_t t = z->cyc_lo + d;
	size_t i = find(z->at + z->cyc_i, z->n - z->cyc_i, t) + z->cyc_i;
	out->start = sub_sat(utc, t - z->at[i]);
	out->end = add_sat(utc, z->at[i + 1] - t); /* i < n-1: at[n-1] == cyc_hi > t */
	out->offset = z->off[i];
	/* The stretch before a copy of cyc_lo is the copy of the one before cyc_hi. */
	out->prev_offset = i > z->cyc_i ? z->off[i - 1] : z->off[z->n - 2];
	if (out->start == INT64_MIN)
		out->prev_offset = out->offset;
}

int32_t tz_offset_at(const struct tz *z, int64_t utc)
{
	if (!z->cyclic || (utc < z->cyc_hi && utc >= z->map_lo))
		return z->off[find(z->at, z->n, utc)];
	struct tz_period p;
	tz_period_at(z, utc, &p);
	return p.offset;
}

/* ---- POSIX TZ strings (the TZif footer) ---- */

struct rule {
	char kind; /* 'J' (1-365, no Feb 29), 'N' (0-365, counts Feb 29), 'M' (month.week.day) */
	int mon, week, wday, yday;
	int32_t secs; /* local time of day of the change, -167h..167h */
};

struct posix {
	int32_t std_off, dst_off; /* seconds east of UTC */
	bool has_dst;
	struct rule start, end; /* dst begins at `start` (std wall clock), ends at `end` (dst) */
};

static bool num(const char **p, int maxdigits, int *out)
{
	int v = 0, k = 0;
	while (k < maxdigits && **p >= '0' && **p <= '9') {
		v = v * 10 + (**p - '0');
		(*p)++;
		k++;
	}
	*out = v;
	return k > 0;
}

static bool posix_name(const char **p)
{
	const char *s = *p;
	if (*s == '<') {
		const char *q = ++s;
		while ((*q >= 'A' && *q <= 'Z') || (*q >= 'a' && *q <= 'z') ||
		       (*q >= '0' && *q <= '9') || *q == '+' || *q == '-')
			q++;
		if (*q != '>' || q == s)
			return false;
		*p = q + 1;
		return true;
	}
	const char *q = s;
	while ((*q >= 'A' && *q <= 'Z') || (*q >= 'a' && *q <= 'z'))
		q++;
	if (q - s < 3)
		return false;
	*p = q;
	return true;
}

/* [+-]hh[:mm[:ss]] with hh <= maxh; returns seconds in the string's own sign convention. */
static bool posix_time(const char **p, int maxh, int32_t *out)
{
	int sign = 1, h, m = 0, s = 0;
	if (**p == '+' || **p == '-')
		sign = *(*p)++ == '-' ? -1 : 1;
	if (!num(p, 3, &h) || h > maxh)
		return false;
	if (**p == ':') {
		(*p)++;
		if (!num(p, 2, &m) || m > 59)
			return false;
		if (**p == ':') {
			(*p)++;
			if (!num(p, 2, &s) || s > 59)
				return false;
		}
	}
	*out = sign * (h * 3600 + m * 60 + s);
	return true;
}

static bool posix_rule(const char **p, struct rule *r)
{
	r->secs = 7200;
	if (**p == 'M') {
		(*p)++;
		r->kind = 'M';
		if (!num(p, 2, &r->mon) || r->mon < 1 || r->mon > 12 || *(*p)++ != '.' ||
		    !num(p, 1, &r->week) || r->week < 1 || r->week > 5 || *(*p)++ != '.' ||
		    !num(p, 1, &r->wday) || r->wday > 6)
			return false;
	} else if (**p == 'J') {
		(*p)++;
		r->kind = 'J';
		if (!num(p, 3, &r->yday) || r->yday < 1 || r->yday > 365)
			return false;
	} else {
		r->kind = 'N';
		if (!num(p, 3, &r->yday) || r->yday > 365)
			return false;
	}
	if (**p == '/') {
		(*p)++;
		/* RFC 8536 §3.3.1 allows -167..167 hours. */
		if (!posix_time(p, 167, &r->secs))
			return false;
	}
	return true;
}

static bool posix_parse(const char *s, struct posix *out)
{
	const char *p = s;
	int32_t v;
	memset(out, 0, sizeof *out);
	if (!posix_name(&p) || !posix_time(&p, 24, &v))
		return false;
	out->std_off = -v; /* POSIX counts west of Greenwich as positive */
	if (!*p)
		return true;
	if (!posix_name(&p))
		return false;
	out->has_dst = true;
	out->dst_off = out->std_off + 3600;
	if (*p && *p != ',') {
		if (!posix_time(&p, 24, &v))
			return false;
		out->dst_off = -v;
	}
	if (!*p) {
		/* No rule given: POSIX leaves it to the implementation; tzcode and glibc use the
		 * US rules, so do the same. */
		p = ",M3.2.0,M11.1.0";
	}
	if (*p++ != ',' || !posix_rule(&p, &out->start) || *p++ != ',' ||
	    !posix_rule(&p, &out->end) || *p)
		return false;
	if (out->dst_off == out->std_off)
		out->has_dst = false; /* a "change" that changes nothing */
	return true;
}

/* Days since the epoch of the local date on which rule r fires in `year`. */
static int64_t rule_day(const struct rule *r, int64_t year)
{
	int64_t jan1 = civil_days_from(year, 1, 1);
	switch (r->kind) {
	case 'J':
		return jan1 + r->yday - 1 + (civil_is_leap(year) && r->yday >= 60);
	case 'N':
		return jan1 + r->yday;
	default: {
		int64_t first = civil_days_from(year, r->mon, 1);
		int d = 1 + (r->wday - civil_weekday(first) + 7) % 7 + (r->week - 1) * 7;
		int dim = civil_days_in_month(year, r->mon);
		while (d > dim)
			d -= 7;
		return first + d - 1;
	}
	}
}

/* ---- table building ---- */

struct entry {
	int64_t at;
	int32_t off;
	uint32_t seq; /* generation order: breaks ties so later rules win */
};

struct table {
	struct entry *v;
	size_t n, cap;
};

static bool push(struct table *t, int64_t at, int32_t off)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		struct entry *v = realloc(t->v, cap * sizeof *v);
		if (!v)
			return false;
		t->v = v;
		t->cap = cap;
	}
	t->v[t->n] = (struct entry){at, off, (uint32_t)t->n};
	t->n++;
	return true;
}

static int cmp_entry(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	if (x->at != y->at)
		return x->at < y->at ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int64_t year_of(int64_t t)
{
	struct civil c;
	civil_from_secs(t, &c);
	return c.year;
}

/* Appends the rule's changes in (after, before), in time order. A year's changes can spill a
 * week into its neighbours (day 365 at 167:00), so one year more is computed on each side. */
static bool expand_rule(struct table *t, const struct posix *r, int64_t after, int64_t before)
{
	size_t first = t->n;
	int64_t y0 = after == INT64_MIN ? year_of(before) - 410 : year_of(after) - 1;
	int64_t y1 = year_of(before) + 1;
	for (int64_t y = y0; y <= y1; y++) {
		int64_t on =
		    rule_day(&r->start, y) * CIVIL_SECS_PER_DAY + r->start.secs - r->std_off;
		int64_t off = rule_day(&r->end, y) * CIVIL_SECS_PER_DAY + r->end.secs - r->dst_off;
		if (on > after && on < before && !push(t, on, r->dst_off))
			return false;
		if (off > after && off < before && !push(t, off, r->std_off))
			return false;
	}
	/* Southern-hemisphere rules end DST before they start it within a year. */
	qsort(t->v + first, t->n - first, sizeof *t->v, cmp_entry);
	return true;
}

/* Collapses equal instants (the later entry wins) and equal neighbouring offsets. */
static void merge(struct table *t)
{
	size_t o = 0;
	for (size_t i = 0; i < t->n; i++) {
		struct entry e = t->v[i];
		if (o > 0 && t->v[o - 1].at == e.at) {
			t->v[o - 1].off = e.off;
			if (o > 1 && t->v[o - 2].off == e.off)
				o--;
		} else if (o == 0 || t->v[o - 1].off != e.off) {
			t->v[o++] = e;
		}
	}
	t->n = o;
}

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	if (!err || !errlen)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* ---- TZif decoding ---- */

struct tzif {
	const unsigned char *p; /* the file, not owned */
	size_t len;
};

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p)
{
	return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

struct counts {
	uint32_t isut, isstd, leap, time, type, chr;
};

#define HDR_LEN 44

/* Decodes the header at `pos`; returns the data block length for time size `tsz`, or 0 with
 * a message in `why`. */
static uint64_t header(const struct tzif *f, size_t pos, int tsz, struct counts *c, char *ver,
                       const char **why)
{
	const unsigned char *h = f->p + pos;
	if (memcmp(h, "TZif", f->len - pos < 4 ? f->len - pos : 4) != 0) {
		*why = "not a TZif file (bad magic)";
		return 0;
	}
	if (f->len - pos < HDR_LEN) {
		*why = "truncated header";
		return 0;
	}
	*ver = (char)h[4];
	if (*ver != 0 && (*ver < '2' || *ver > '9')) {
		*why = "unknown TZif version";
		return 0;
	}
	c->isut = be32(h + 20);
	c->isstd = be32(h + 24);
	c->leap = be32(h + 28);
	c->time = be32(h + 32);
	c->type = be32(h + 36);
	c->chr = be32(h + 40);
	if (c->type == 0 || c->type > 256) {
		*why = "type count must be 1..256";
		return 0;
	}
	if (c->chr == 0) {
		*why = "designation count must not be zero";
		return 0;
	}
	if ((c->isstd != 0 && c->isstd != c->type) || (c->isut != 0 && c->isut != c->type)) {
		*why = "standard/UT indicator counts differ from the type count";
		return 0;
	}
	uint64_t need = (uint64_t)c->time * (uint64_t)(tsz + 1) + (uint64_t)c->type * 6 + c->chr +
	                (uint64_t)c->leap * (uint64_t)(tsz + 4) + c->isstd + c->isut;
	if (need > f->len - pos - HDR_LEN) {
		*why = "truncated data block (counts exceed the file size)";
		return 0;
	}
	return need;
}

/* Fills `t` from the file; returns NULL or a description of what is wrong. */
static const char *decode(const struct tzif *f, struct table *t, int64_t *last, bool *has_last)
{
	struct counts c;
	char ver;
	const char *why = NULL;
	uint64_t len = header(f, 0, 4, &c, &ver, &why);
	if (!len)
		return why;
	size_t pos = HDR_LEN;
	int tsz = 4;
	if (ver != 0) {
		pos += (size_t)len;
		char ver2;
		len = header(f, pos, 8, &c, &ver2, &why);
		if (!len)
			return why;
		pos += HDR_LEN;
		tsz = 8;
	}
	if (c.leap)
		return "leap-second records (a 'right/' zone) are not supported";
	const unsigned char *times = f->p + pos;
	const unsigned char *idx = times + (size_t)c.time * tsz;
	const unsigned char *types = idx + c.time;
	int32_t utoff[256];
	for (uint32_t i = 0; i < c.type; i++) {
		const unsigned char *ty = types + 6 * i;
		int64_t u = (int32_t)be32(ty);
		if (u < TZ_MIN_UTOFF || u > TZ_MAX_UTOFF)
			return "UTC offset of a local time type out of range";
		if (ty[4] > 1)
			return "isdst flag of a local time type is not 0 or 1";
		if (ty[5] >= c.chr)
			return "designation index out of range";
		utoff[i] = (int32_t)u;
	}
	pos += (size_t)len;

	struct posix rule = {0};
	bool have_rule = false;
	if (ver != 0) {
		if (pos >= f->len || f->p[pos] != '\n')
			return "missing footer";
		const unsigned char *s = f->p + pos + 1;
		const unsigned char *nl = memchr(s, '\n', f->len - pos - 1);
		if (!nl)
			return "truncated footer";
		if (nl + 1 != f->p + f->len)
			return "trailing bytes after the footer";
		size_t slen = (size_t)(nl - s);
		if (slen) {
			char buf[256];
			if (slen >= sizeof buf || memchr(s, '\0', slen))
				return "malformed TZ string in the footer";
			memcpy(buf, s, slen);
			buf[slen] = '\0';
			if (!posix_parse(buf, &rule))
				return "malformed TZ string in the footer";
			have_rule = true;
		}
	} else if (pos != f->len) {
		return "trailing bytes after the data block";
	}

	/* RFC 8536 §3.2: before the first transition, type 0 applies; with no transitions at
	 * all, a non-empty footer governs every instant. */
	int32_t initial = utoff[0];
	if (c.time == 0 && have_rule)
		initial = rule.std_off;
	if (!push(t, INT64_MIN, initial))
		return "out of memory";
	int64_t prev = 0;
	for (uint32_t i = 0; i < c.time; i++) {
		int64_t at = tsz == 8 ? be64(times + 8 * (size_t)i) : (int32_t)be32(times + 4 * i);
		if (at < -TZ_MAX_ABS_TIME || at > TZ_MAX_ABS_TIME)
			return "transition time out of range";
		if (i > 0 && at <= prev)
			return "transition times not in ascending order";
		if (idx[i] >= c.type)
			return "transition type index out of range";
		if (!push(t, at, utoff[idx[i]]))
			return "out of memory";
		prev = at;
	}
	*has_last = c.time > 0;
	*last = prev;
	if (have_rule && !rule.has_dst && c.time > 0 && rule.std_off != utoff[idx[c.time - 1]]) {
		if (!push(t, prev + 1, rule.std_off))
			return "out of memory";
	}
	if (have_rule && rule.has_dst) {
		/* The cycle starts at the first change at least a year after the last transition,
		 * so the whole cycle, and the year before it, follow the rule alone. */
		int64_t y0 = c.time > 0 ? year_of(prev) + 2 : 1970;
		int64_t before = civil_days_from(y0 + 402, 1, 1) * CIVIL_SECS_PER_DAY;
		if (!expand_rule(t, &rule, c.time > 0 ? prev : INT64_MIN, before))
			return "out of memory";
	}
	return NULL;
}

/* Sets up the 400-year mapping once the table is merged. */
static const char *find_cycle(struct tz *z, int64_t last, bool has_last)
{
	int64_t y0 = has_last ? year_of(last) + 2 : 1970;
	int64_t lo = civil_days_from(y0, 1, 1) * CIVIL_SECS_PER_DAY;
	size_t i = find(z->at, z->n, lo);
	if (z->at[i] < lo)
		i++;
	if (i >= z->n) {
		/* The rule never changes the offset, so its last stretch lasts forever; a zone
		 * that is all rule has that offset at every instant. */
		if (!has_last) {
			z->off[0] = z->off[z->n - 1];
			z->n = 1;
		}
		return NULL;
	}
	int64_t hi = z->at[i] + CIVIL_SECS_PER_400Y;
	size_t j = find(z->at, z->n, hi);
	if (z->at[j] != hi)
		return "footer TZ string does not repeat over 400 years"; /* cannot happen */
	z->cyclic = true;
	z->cyc_i = i;
	z->cyc_lo = z->at[i];
	z->cyc_hi = hi;
	z->map_lo = has_last ? INT64_MIN : z->at[i];
	z->n = j + 1;
	return NULL;
}

static bool valid_name(const char *name, char *err, size_t errlen)
{
	size_t len = strlen(name);
	if (len == 0) {
		set_err(err, errlen, "empty time zone name");
		return false;
	}
	if (len > TZ_MAX_NAME) {
		set_err(err, errlen, "time zone name '%.40s…' is longer than %d bytes", name,
		        TZ_MAX_NAME);
		return false;
	}
	if (name[0] == '/') {
		set_err(err, errlen,
		        "invalid time zone name '%s': must be relative, like Europe/Paris", name);
		return false;
	}
	if (strstr(name, "..")) {
		set_err(err, errlen, "invalid time zone name '%s': '..' is not allowed", name);
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)name[i];
		if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		      (ch >= '0' && ch <= '9') || ch == '/' || ch == '_' || ch == '+' ||
		      ch == '-')) {
			set_err(err, errlen,
			        "invalid time zone name: byte 0x%02x at position %zu is not one of "
			        "A-Z a-z 0-9 / _ + -",
			        ch, i + 1);
			return false;
		}
	}
	return true;
}

/* Reads the whole file into a new buffer (caller frees); NULL with a message in err. */
static unsigned char *read_zone(const char *name, const char *path, size_t *len, char *err,
                                size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			set_err(err, errlen, "unknown time zone '%s' (no file %s)", name, path);
		else
			set_err(err, errlen, "time zone '%s': cannot open %s: %s", name, path,
			        strerror(errno));
		return NULL;
	}
	struct stat st;
	unsigned char *buf = NULL;
	if (fstat(fd, &st) != 0) {
		set_err(err, errlen, "time zone '%s': cannot stat %s: %s", name, path,
		        strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		set_err(err, errlen, "unknown time zone '%s' (%s is not a zone file)", name, path);
		goto fail;
	}
	if (st.st_size > TZ_MAX_FILE) {
		set_err(err, errlen, "time zone '%s': %s is larger than %d bytes", name, path,
		        TZ_MAX_FILE);
		goto fail;
	}
	/* One spare byte detects a file that grew since fstat. */
	size_t cap = (size_t)st.st_size + 1, got = 0;
	buf = malloc(cap);
	if (!buf) {
		set_err(err, errlen, "time zone '%s': out of memory", name);
		goto fail;
	}
	while (got < cap) {
		ssize_t r = read(fd, buf + got, cap - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			set_err(err, errlen, "time zone '%s': cannot read %s: %s", name, path,
			        strerror(errno));
			goto fail;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	if (got == cap) {
		set_err(err, errlen, "time zone '%s': %s changed while being read", name, path);
		goto fail;
	}
	close(fd);
	*len = got;
	return buf;
fail:
	free(buf);
	close(fd);
	return NULL;
}

static struct tz *new_utc(void)
{
	struct tz *z = calloc(1, sizeof *z);
	if (!z)
		return NULL;
	z->name = strdup("UTC");
	z->at = malloc(sizeof *z->at);
	z->off = malloc(sizeof *z->off);
	if (!z->name || !z->at || !z->off) {
		tz_free(z);
		return NULL;
	}
	z->n = 1;
	z->at[0] = INT64_MIN;
	z->off[0] = 0;
	return z;
}

struct tz *tz_load(const char *name, char *err, size_t errlen)
{
	if (!name) {
		set_err(err, errlen, "empty time zone name");
		return NULL;
	}
	if (!valid_name(name, err, errlen))
		return NULL;
	if (strcmp(name, "UTC") == 0) {
		struct tz *z = new_utc();
		if (!z)
			set_err(err, errlen, "time zone 'UTC': out of memory");
		return z;
	}
	const char *dir = getenv("TZDIR");
	if (!dir || !*dir)
		dir = TZ_DEFAULT_DIR;
	char *path = NULL;
	if (asprintf(&path, "%s/%s", dir, name) < 0) {
		set_err(err, errlen, "time zone '%s': out of memory", name);
		return NULL;
	}
	size_t len;
	unsigned char *data = read_zone(name, path, &len, err, errlen);
	if (!data) {
		free(path);
		return NULL;
	}
	struct table t = {0};
	struct tz *z = NULL;
	int64_t last = 0;
	bool has_last = false;
	const char *why = decode(&(struct tzif){data, len}, &t, &last, &has_last);
	free(data);
	if (!why) {
		merge(&t);
		z = calloc(1, sizeof *z);
		if (z) {
			z->name = strdup(name);
			z->n = t.n;
			z->at = malloc(t.n * sizeof *z->at);
			z->off = malloc(t.n * sizeof *z->off);
		}
		if (!z || !z->name || !z->at || !z->off) {
			why = "out of memory";
		} else {
			for (size_t i = 0; i < t.n; i++) {
				z->at[i] = t.v[i].at;
				z->off[i] = t.v[i].off;
			}
			why = find_cycle(z, last, has_last);
		}
	}
	free(t.v);
	if (why) {
		set_err(err, errlen, "time zone '%s': %s: %s", name, path, why);
		tz_free(z);
		z = NULL;
	}
	free(path);
	return z;
}

void tz_free(struct tz *z)
{
	if (!z || z == &utc_zone)
		return;
	free(z->name);
	free(z->at);
	free(z->off);
	free(z);
}

/* ---- cache ---- */

static struct tz **cache; /* owned, each entry owned */
static size_t cache_n, cache_cap;

const struct tz *tz_get(const char *name, char *err, size_t errlen)
{
	if (!name)
		return tz_load(name, err, errlen);
	if (strcmp(name, "UTC") == 0)
		return &utc_zone;
	for (size_t i = 0; i < cache_n; i++)
		if (strcmp(cache[i]->name, name) == 0)
			return cache[i];
	struct tz *z = tz_load(name, err, errlen);
	if (!z)
		return NULL;
	if (cache_n == cache_cap) {
		size_t cap = cache_cap ? cache_cap * 2 : 8;
		struct tz **c = realloc(cache, cap * sizeof *c);
		if (!c) {
			tz_free(z);
			set_err(err, errlen, "time zone '%s': out of memory", name);
			return NULL;
		}
		cache = c;
		cache_cap = cap;
	}
	cache[cache_n++] = z;
	return z;
}

void tz_cache_clear(void)
{
	for (size_t i = 0; i < cache_n; i++)
		tz_free(cache[i]);
	free(cache);
	cache = NULL;
	cache_n = cache_cap = 0;
}

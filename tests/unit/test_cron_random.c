/* Randomised cross-check of cron_next against an independent brute force.
 *
 * The reference walks UTC time minute by minute (second by second for 6-field schedules),
 * asks glibc (setenv TZ + localtime_r) for the local time, and applies the DST rule in its own
 * way: a fixed-time schedule fires at instant t when some matching local time lies in
 * (highest local time seen so far, local(t)] — which yields "first occurrence only" after a
 * fall-back and "once, at the jump" for a gap; a wall-clock schedule fires whenever local(t)
 * matches. Day matching (L, L-n, nW, LW, nL, n#k, OR/AND) is re-derived from struct tm; only
 * the plain field bit sets come from cron_parse. Seed: fixed, printed, overridable with
 * CRON_RANDOM_SEED. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cron_helpers.h"

#define N_EXPRS         4800
#define MAX_FIRES       5
#define WINDOW_5        (2 * 86400) /* reference window after the start, 5-field */
#define WINDOW_6        (3 * 3600)  /* 6-field: second by second, so shorter */
#define HISTORY         (6 * 3600)  /* walked before the start to know the local times seen */
#define SCAN_FROM       INT64_C(1767225600) /* 2026-01-01T00:00:00Z */
#define SCAN_TO         INT64_C(1924992000) /* 2031-01-01T00:00:00Z */
#define MAX_TRANSITIONS 64

static const char *const zone_names[] = {
    "UTC",
    "Europe/Paris",
    "America/New_York",
    "Australia/Lord_Howe",
    "America/Santiago",
    "America/Havana",
    "Asia/Kathmandu",
    "Pacific/Chatham",
    "America/St_Johns",
    "Africa/Casablanca",
    "Europe/London",
    "Australia/Sydney",
};
#define N_ZONES (sizeof zone_names / sizeof zone_names[0])

static int64_t transitions[N_ZONES][MAX_TRANSITIONS];
static int n_transitions[N_ZONES];

static uint64_t rng_state;

static uint64_t rnd(void)
{
	/* splitmix64: tiny, deterministic across platforms. */
	uint64_t z = (rng_state += UINT64_C(0x9E3779B97F4A7C15));
	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

static int rnd_int(int lo, int hi) /* inclusive */
{
	return lo + (int)(rnd() % (uint64_t)(hi - lo + 1));
}

static bool chance(int percent)
{
	return rnd_int(1, 100) <= percent;
}

static void use_zone(const char *name)
{
	setenv("TZ", name, 1);
	tzset();
}

static long gmtoff_at(int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	localtime_r(&tt, &tm);
	return tm.tm_gmtoff;
}

/* Transitions of each zone in 2026-2030 from glibc: hourly scan, then bisection. */
static void find_transitions(void)
{
	for (size_t z = 0; z < N_ZONES; z++) {
		use_zone(zone_names[z]);
		long prev = gmtoff_at(SCAN_FROM);
		for (int64_t t = SCAN_FROM + 3600; t < SCAN_TO; t += 3600) {
			long off = gmtoff_at(t);
			if (off == prev)
				continue;
			int64_t lo = t - 3600, hi = t; /* offset changes in (lo, hi] */
			while (hi - lo > 1) {
				int64_t mid = lo + (hi - lo) / 2;
				if (gmtoff_at(mid) == prev)
					lo = mid;
				else
					hi = mid;
			}
			if (n_transitions[z] < MAX_TRANSITIONS)
				transitions[z][n_transitions[z]++] = hi;
			prev = off;
		}
	}
}

/* ---- expression generator ---- */

struct gen {
	char text[256];
	size_t len;
};

static void put(struct gen *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct gen *g, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(g->text + g->len, sizeof g->text - g->len, fmt, ap);
	va_end(ap);
	assert_true(n > 0 && (size_t)n < sizeof g->text - g->len);
	g->len += (size_t)n;
}

/* A plain numeric field item within [lo, hi]; `pick` draws a likely value. */
static void gen_plain(struct gen *g, int lo, int hi, int (*pick)(void), const int *steps,
                      int nsteps)
{
	int kind = rnd_int(0, 9);
	int a = pick(), b = pick();
	if (a > b) {
		int t = a;
		a = b;
		b = t;
	}
	switch (kind) {
	case 0:
	case 1:
		put(g, "*");
		break;
	case 2:
		put(g, "*/%d", steps[rnd_int(0, nsteps - 1)]);
		break;
	case 3:
		put(g, "%d", a);
		break;
	case 4: {
		int n = rnd_int(2, 4);
		for (int i = 0; i < n; i++)
			put(g, "%s%d", i ? "," : "", pick());
		break;
	}
	case 5:
		put(g, "%d-%d", a, b);
		break;
	case 6:
		put(g, "%d-%d/%d", a, b, steps[rnd_int(0, nsteps - 1)]);
		break;
	case 7:
		put(g, "%d/%d", a, steps[rnd_int(0, nsteps - 1)]);
		break;
	case 8:
		put(g, "%d,%d-%d", pick(), a, b);
		break;
	default:
		put(g, "%d", rnd_int(lo, hi));
		break;
	}
}

static int pick_sec(void)
{
	return rnd_int(0, 59);
}
static int pick_min(void)
{
	return chance(50) ? rnd_int(0, 3) * 15 : rnd_int(0, 59);
}
/* DST transitions happen around midnight to 03:00 local: favour those hours. */
static int pick_hour(void)
{
	return chance(60) ? rnd_int(0, 3) : rnd_int(0, 23);
}
static int pick_month(void)
{
	return rnd_int(1, 12);
}

static const int sec_steps[] = {5, 10, 15, 20, 30, 45};
static const int min_steps[] = {2, 5, 10, 15, 20, 30, 45};
static const int hour_steps[] = {2, 3, 4, 6, 7};
static const int month_steps[] = {2, 3, 5};

static void gen_dom(struct gen *g)
{
	if (chance(55)) {
		put(g, chance(80) ? "*" : "?");
		return;
	}
	int n = chance(70) ? 1 : 2;
	for (int i = 0; i < n; i++) {
		if (i)
			put(g, ",");
		switch (rnd_int(0, 7)) {
		case 0:
			put(g, "L");
			break;
		case 1:
			put(g, "L-%d", chance(70) ? rnd_int(0, 5) : rnd_int(0, 30));
			break;
		case 2:
			put(g, "%dW",
			    chance(30) ? (chance(50) ? 1 : rnd_int(28, 31)) : rnd_int(1, 31));
			break;
		case 3:
			put(g, "LW");
			break;
		case 4:
			put(g, "*/%d", rnd_int(2, 3));
			break;
		case 5: {
			int a = rnd_int(1, 31), b = rnd_int(1, 31);
			put(g, "%d-%d", a < b ? a : b, a < b ? b : a);
			break;
		}
		default:
			put(g, "%d", rnd_int(1, 31));
			break;
		}
	}
}

static void gen_dow(struct gen *g)
{
	static const char *const names[] = {"SUN", "mon", "Tue", "WED", "thu", "FRI", "sat"};
	if (chance(55)) {
		put(g, chance(85) ? "*" : "?");
		return;
	}
	int n = chance(70) ? 1 : 2;
	for (int i = 0; i < n; i++) {
		if (i)
			put(g, ",");
		int d = rnd_int(0, 7);
		switch (rnd_int(0, 7)) {
		case 0:
			put(g, "%dL", d);
			break;
		case 1:
			put(g, "%d#%d", d, rnd_int(1, 5));
			break;
		case 2:
			put(g, "%s", names[d % 7]);
			break;
		case 3: {
			int a = rnd_int(0, 6), b = rnd_int(a, 7);
			put(g, "%d-%d", a, b);
			break;
		}
		case 4:
			put(g, "%s-%s", names[rnd_int(1, 3)], names[rnd_int(4, 6)]);
			break;
		case 5:
			put(g, "*/%d", rnd_int(2, 3));
			break;
		default:
			put(g, "%d", d);
			break;
		}
	}
}

static void gen_expr(struct gen *g, bool six)
{
	g->len = 0;
	g->text[0] = '\0';
	if (six) {
		gen_plain(g, 0, 59, pick_sec, sec_steps, 6);
		put(g, " ");
	}
	gen_plain(g, 0, 59, pick_min, min_steps, 7);
	put(g, " ");
	gen_plain(g, 0, 23, pick_hour, hour_steps, 5);
	put(g, " ");
	gen_dom(g);
	put(g, " ");
	if (chance(80))
		put(g, "*");
	else
		gen_plain(g, 1, 12, pick_month, month_steps, 3);
	put(g, " ");
	gen_dow(g);
}

/* ---- the reference ---- */

struct ref_fields {
	bool wallclock, dom_star, dow_star;
};

/* Field text from the expression (the k-th blank-separated field starts with '*' or '?'). */
static bool field_starred(const char *expr, int k)
{
	const char *p = expr;
	for (int i = 0; i < k; i++) {
		p = strchr(p, ' ');
		assert_non_null(p);
		p++;
	}
	return *p == '*' || *p == '?';
}

static int days_in_month_ref(int year, int mon0)
{
	struct tm tm = {.tm_year = year - 1900, .tm_mon = mon0 + 1, .tm_mday = 0, .tm_hour = 12};
	time_t t = timegm(&tm); /* day 0 of the next month = last day of this one */
	struct tm out;
	gmtime_r(&t, &out);
	return out.tm_mday;
}

/* Weekday (0 = Sunday) of day `mday` given the weekday `wd` of day `ref`. */
static int weekday_of(int mday, int ref, int wd)
{
	return ((wd + mday - ref) % 7 + 7) % 7;
}

static bool is_workday(int wday)
{
	return wday >= 1 && wday <= 5;
}

/* nW: the workday of the month at minimum distance from n (there are never ties). */
static bool nearest_workday_is(int n, int mday, int ndays, int wday)
{
	if (n > ndays || !is_workday(wday))
		return false;
	int best = 99;
	for (int d = 1; d <= ndays; d++)
		if (is_workday(weekday_of(d, mday, wday)) && abs(d - n) < best)
			best = abs(d - n);
	return abs(mday - n) == best;
}

static bool local_matches(const struct cron *c, const struct ref_fields *rf, int64_t local)
{
	time_t t = (time_t)local;
	struct tm tm;
	gmtime_r(&t, &tm); /* local is a naive time: decompose it without any zone */
	if (!(c->sec >> tm.tm_sec & 1) || !(c->min >> tm.tm_min & 1) ||
	    !(c->hour >> tm.tm_hour & 1) || !(c->month >> (tm.tm_mon + 1) & 1))
		return false;
	int year = tm.tm_year + 1900, mday = tm.tm_mday, wday = tm.tm_wday;
	int ndays = days_in_month_ref(year, tm.tm_mon);

	bool dom = c->dom >> mday & 1;
	for (int n = 0; n <= 30; n++)
		dom = dom || ((c->dom_last_minus >> n & 1) && mday == ndays - n);
	for (int n = 1; n <= 31; n++)
		dom = dom ||
		      ((c->dom_nearest_wd >> n & 1) && nearest_workday_is(n, mday, ndays, wday));
	dom = dom || (c->dom_last_wd && nearest_workday_is(ndays, mday, ndays, wday));

	bool dow = c->dow >> wday & 1;
	dow = dow || ((c->dow_last >> wday & 1) && mday + 7 > ndays);
	dow = dow || (c->dow_nth[wday] >> ((mday - 1) / 7 + 1) & 1);

	return (!rf->dom_star && !rf->dow_star) ? (dom || dow) : (dom && dow);
}

/* Fire times in (start, start + window], at most MAX_FIRES; TZ must already be set. */
static int reference_fires(const struct cron *c, const struct ref_fields *rf, int64_t start,
                           int64_t window, int step, int64_t *out)
{
	int64_t t = start - HISTORY;
	t -= ((t % step) + step) % step;
	int64_t hwm = t + gmtoff_at(t) - step; /* highest local time seen */
	int n = 0;
	for (; t <= start + window && n < MAX_FIRES; t += step) {
		int64_t local = t + gmtoff_at(t);
		bool fire = false;
		if (rf->wallclock) {
			fire = local_matches(c, rf, local);
		} else {
			for (int64_t x = hwm + step; x <= local && !fire; x += step)
				fire = local_matches(c, rf, x);
		}
		if (local > hwm)
			hwm = local;
		if (fire && t > start)
			out[n++] = t;
	}
	return n;
}

static void format_list(const int64_t *v, int n, char *buf, size_t len)
{
	size_t used = 0;
	buf[0] = '\0';
	for (int i = 0; i < n && used < len; i++) {
		char iso[48];
		time_t t = (time_t)v[i];
		struct tm tm;
		localtime_r(&t, &tm);
		civil_format_iso(v[i], (int32_t)tm.tm_gmtoff, iso, sizeof iso);
		int k = snprintf(buf + used, len - used, "%s%s", i ? " " : "", iso);
		if (k < 0)
			break;
		used += (size_t)k;
	}
}

static void test_random_against_reference(void **state)
{
	(void)state;
	uint64_t seed = UINT64_C(20260329);
	const char *env = getenv("CRON_RANDOM_SEED");
	if (env && *env)
		seed = strtoull(env, NULL, 0);
	rng_state = seed;
	printf("# test_cron_random: seed %" PRIu64 " (set CRON_RANDOM_SEED to change)\n", seed);

	find_transitions();
	const struct tz *zones[N_ZONES];
	for (size_t z = 0; z < N_ZONES; z++) {
		char err[256];
		zones[z] = tz_get(zone_names[z], err, sizeof err);
		if (!zones[z])
			fail_msg("zone %s: %s", zone_names[z], err);
	}

	int failures = 0, compared = 0, fires_total = 0, near_transition = 0;
	/* Group by zone so TZ is switched once per zone. */
	for (size_t z = 0; z < N_ZONES; z++) {
		use_zone(zone_names[z]);
		for (int i = 0; i < N_EXPRS / (int)N_ZONES; i++) {
			bool six = chance(12);
			struct gen g;
			gen_expr(&g, six);
			struct cron c;
			char err[256];
			if (cron_parse(g.text, &c, err, sizeof err) != 0)
				fail_msg("generated '%s' rejected: %s", g.text, err);
			struct ref_fields rf = {
			    .wallclock = field_starred(g.text, six ? 1 : 0) ||
			                 field_starred(g.text, six ? 2 : 1),
			    .dom_star = field_starred(g.text, six ? 3 : 2),
			    .dow_star = field_starred(g.text, six ? 5 : 4),
			};
			int64_t window = six ? WINDOW_6 : WINDOW_5;
			int64_t start;
			if (n_transitions[z] && chance(75)) {
				int64_t tr = transitions[z][rnd_int(0, n_transitions[z] - 1)];
				/* Now and then right at the jump, where off-by-ones hide. */
				start = chance(10)
				            ? tr - rnd_int(-1, 1) * (six ? 1 : 60) - rnd_int(0, 1)
				            : tr - rnd_int(1, (int)window - 60);
				near_transition++;
			} else {
				start =
				    SCAN_FROM + (int64_t)(rnd() % (uint64_t)(SCAN_TO - SCAN_FROM));
			}
			if (chance(50))
				start -= start % 60; /* exactly on a minute as often as not */

			int64_t want[MAX_FIRES], got[MAX_FIRES];
			int nw = reference_fires(&c, &rf, start, window, six ? 1 : 60, want);
			int ng = 0;
			int64_t t = start, next;
			while (ng < MAX_FIRES && cron_next(&c, zones[z], t, &next) &&
			       next <= start + window) {
				got[ng++] = next;
				t = next;
			}
			compared++;
			fires_total += nw;
			if (nw == ng && memcmp(want, got, sizeof want[0] * (size_t)nw) == 0)
				continue;
			if (failures++ < 10) {
				char a[512], b[512];
				format_list(want, nw, a, sizeof a);
				format_list(got, ng, b, sizeof b);
				printf("# MISMATCH '%s' %s after %" PRId64
				       " (%s):\n#   reference %s\n"
				       "#   cron_next %s\n",
				       g.text, zone_names[z], start,
				       rf.wallclock ? "wall-clock" : "fixed", a, b);
			}
		}
	}
	printf("# test_cron_random: %d expressions, %d near a transition, %d reference fires, "
	       "%d mismatches\n",
	       compared, near_transition, fires_total, failures);
	assert_int_equal(failures, 0);
	assert_true(fires_total > compared); /* the generator must produce firing schedules */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_random_against_reference),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

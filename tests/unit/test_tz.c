/* Zone loading and lookups, checked against glibc's localtime_r as the oracle. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "civil.h"
#include "tz.h"

#define ZONEINFO "/usr/share/zoneinfo"

static const char *const oracle_zones[] = {
    "Europe/Paris",
    "America/New_York",
    "Australia/Lord_Howe",
    "America/Santiago",
    "America/Havana",
    "Europe/Dublin",
    "Asia/Kathmandu",
    "Pacific/Chatham",
    "America/St_Johns",
    "Africa/Casablanca",
    "Asia/Tehran",
    "Pacific/Apia",
    "UTC",
    "Etc/GMT+5",
    "America/Nuuk",
    "Antarctica/Troll",
};

static int64_t ts(int64_t y, int mo, int d, int h, int mi, int s)
{
	return civil_days_from(y, mo, d) * CIVIL_SECS_PER_DAY + h * 3600 + mi * 60 + s;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15u;
static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* `tzvalue` is a TZ environment value: ":Europe/Paris", ":/abs/path" or a POSIX string. */
static void oracle_set(const char *tzvalue)
{
	setenv("TZ", tzvalue, 1);
	tzset();
}

static int32_t oracle(int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	assert_non_null(localtime_r(&tt, &tm));
	return (int32_t)tm.tm_gmtoff;
}

static const struct tz *load_system(const char *name)
{
	char err[512] = "";
	unsetenv("TZDIR");
	const struct tz *z = tz_get(name, err, sizeof err);
	if (!z)
		fail_msg("%s", err);
	return z;
}

/* Checks that p is a maximal stretch containing t, consistent with the other entry points. */
static void check_period_shape(const struct tz *z, int64_t t)
{
	struct tz_period p, q;
	tz_period_at(z, t, &p);
	assert_true(p.start <= t);
	assert_true(t < p.end || p.end == INT64_MAX);
	assert_int_equal(p.offset, tz_offset_at(z, t));
	if (p.start == INT64_MIN) {
		assert_int_equal(p.prev_offset, p.offset);
	} else {
		assert_int_not_equal(p.prev_offset, p.offset);
		tz_period_at(z, p.start - 1, &q);
		assert_int_equal(q.offset, p.prev_offset);
		assert_true(q.end == p.start);
		tz_period_at(z, p.start, &q);
		assert_true(q.start == p.start && q.end == p.end);
	}
	if (p.end != INT64_MAX) {
		tz_period_at(z, p.end, &q);
		assert_true(q.start == p.end);
		assert_int_equal(q.prev_offset, p.offset);
		assert_int_not_equal(q.offset, p.offset);
		tz_period_at(z, p.end - 1, &q);
		assert_true(q.start == p.start && q.end == p.end);
	}
}

/* Hourly comparison 1900-2100; every change the oracle shows is located to the second and must
 * be a period boundary of ours, and every boundary of ours must be a change of the oracle. */
static void test_oracle_hourly(void **state)
{
	(void)state;
	const int64_t from = ts(1900, 1, 1, 0, 0, 0), to = ts(2100, 1, 1, 0, 0, 0);
	for (size_t zi = 0; zi < sizeof oracle_zones / sizeof *oracle_zones; zi++) {
		const char *name = oracle_zones[zi];
		const struct tz *z = load_system(name);
		char tzv[300];
		snprintf(tzv, sizeof tzv, ":%s", name);
		oracle_set(tzv);
		int32_t prev = oracle(from);
		size_t changes = 0, boundaries = 0;
		for (int64_t t = from; t <= to; t += 3600) {
			int32_t want = oracle(t);
			if (tz_offset_at(z, t) != want)
				fail_msg("%s at %" PRId64 ": ours %d, glibc %d", name, t,
				         tz_offset_at(z, t), want);
			if (want != prev) {
				/* Bisect the oracle for the exact second of the change. */
				int64_t lo = t - 3600, hi = t;
				while (hi - lo > 1) {
					int64_t mid = lo + (hi - lo) / 2;
					if (oracle(mid) == want)
						hi = mid;
					else
						lo = mid;
				}
				struct tz_period p;
				tz_period_at(z, hi, &p);
				if (p.start != hi || p.prev_offset != oracle(hi - 1))
					fail_msg("%s: glibc changes at %" PRId64
					         ", our period starts at %" PRId64,
					         name, hi, p.start);
				changes++;
			}
			prev = want;
		}
		struct tz_period p;
		for (tz_period_at(z, from, &p); p.end <= to; tz_period_at(z, p.end, &p)) {
			int64_t b = p.end;
			assert_int_equal(oracle(b - 1), p.offset);
			assert_int_equal(oracle(b), tz_offset_at(z, b));
			assert_int_equal(oracle(b + 1), tz_offset_at(z, b + 1));
			check_period_shape(z, b);
			boundaries++;
		}
		print_message("# %-20s %zu changes seen by glibc, %zu boundaries of ours\n", name,
		              changes, boundaries);
		if (strcmp(name, "UTC") && strcmp(name, "Etc/GMT+5"))
			assert_true(boundaries > 0);
	}
}

/* Random instants over years 1-9999, where the footer rule and the 400-year mapping apply. */
static void test_oracle_random_years(void **state)
{
	(void)state;
	const int64_t lo = ts(1, 1, 1, 0, 0, 0), hi = ts(9999, 12, 31, 23, 59, 59);
	for (size_t zi = 0; zi < sizeof oracle_zones / sizeof *oracle_zones; zi++) {
		const char *name = oracle_zones[zi];
		const struct tz *z = load_system(name);
		char tzv[300];
		snprintf(tzv, sizeof tzv, ":%s", name);
		oracle_set(tzv);
		for (int i = 0; i < 100000; i++) {
			int64_t t = lo + (int64_t)(rnd() % (uint64_t)(hi - lo));
			if (tz_offset_at(z, t) != oracle(t))
				fail_msg("%s at %" PRId64 ": ours %d, glibc %d", name, t,
				         tz_offset_at(z, t), oracle(t));
			if (i % 16 == 0)
				check_period_shape(z, t);
		}
	}
}

/* Every zone on the system loads and agrees with glibc at a few thousand instants. */
static void test_all_system_zones(void **state)
{
	(void)state;
	char cmd[] = "cd " ZONEINFO " 2>/dev/null && find . -type f | sed 's|^\\./||' | "
	             "grep -Ev '^(posix|right)/|[.]|^(leapseconds|leap-seconds|SECURITY)' | sort";
	FILE *f = popen(cmd, "r");
	assert_non_null(f);
	char line[512];
	size_t n = 0;
	while (fgets(line, sizeof line, f)) {
		line[strcspn(line, "\n")] = '\0';
		char err[512];
		unsetenv("TZDIR");
		struct tz *z = tz_load(line, err, sizeof err);
		if (!z)
			fail_msg("%s", err);
		char tzv[600];
		snprintf(tzv, sizeof tzv, ":%s", line);
		oracle_set(tzv);
		for (int i = 0; i < 2000; i++) {
			int64_t t = ts(1850, 1, 1, 0, 0, 0) +
			            (int64_t)(rnd() % (uint64_t)(ts(2600, 1, 1, 0, 0, 0) -
			                                         ts(1850, 1, 1, 0, 0, 0)));
			if (tz_offset_at(z, t) != oracle(t))
				fail_msg("%s at %" PRId64 ": ours %d, glibc %d", line, t,
				         tz_offset_at(z, t), oracle(t));
		}
		tz_free(z);
		n++;
	}
	pclose(f);
	print_message("# %zu zones compared\n", n);
	assert_true(n > 300);
}

/* Day of the month of the n-th (n < 0: last) Sunday of y-m. */
static int sunday(int64_t y, int m, int n)
{
	int first = 1 + (7 - civil_weekday(civil_days_from(y, m, 1))) % 7;
	if (n > 0)
		return first + (n - 1) * 7;
	int d = first;
	while (d + 7 <= civil_days_in_month(y, m))
		d += 7;
	return d;
}

static void expect_period(const char *zone, int64_t t, int64_t start, int64_t end, int32_t off,
                          int32_t prev)
{
	struct tz_period p;
	tz_period_at(load_system(zone), t, &p);
	if (p.start != start || p.end != end || p.offset != off || p.prev_offset != prev)
		fail_msg("%s at %" PRId64 ": got [%" PRId64 ", %" PRId64
		         ") %d prev %d, want [%" PRId64 ", %" PRId64 ") %d prev %d",
		         zone, t, p.start, p.end, p.offset, p.prev_offset, start, end, off, prev);
}

static void test_known_periods(void **state)
{
	(void)state;
	const int64_t paris_on = ts(2026, 3, 29, 1, 0, 0), paris_off = ts(2026, 10, 25, 1, 0, 0);
	expect_period("Europe/Paris", paris_on, paris_on, paris_off, 7200, 3600);
	expect_period("Europe/Paris", paris_off - 1, paris_on, paris_off, 7200, 3600);
	expect_period("Europe/Paris", paris_on - 1, ts(2025, 10, 26, 1, 0, 0), paris_on, 3600,
	              7200);
	expect_period("Europe/Paris", paris_off, paris_off, ts(2027, 3, 28, 1, 0, 0), 3600, 7200);
	/* Past the file's last transition (2037): the footer rule, then the 400-year mapping. */
	expect_period("Europe/Paris", ts(2300, 7, 1, 0, 0, 0),
	              ts(2300, 3, sunday(2300, 3, -1), 1, 0, 0),
	              ts(2300, 10, sunday(2300, 10, -1), 1, 0, 0), 7200, 3600);
	expect_period("Europe/Paris", ts(2800, 1, 1, 0, 0, 0),
	              ts(2799, 10, sunday(2799, 10, -1), 1, 0, 0),
	              ts(2800, 3, sunday(2800, 3, -1), 1, 0, 0), 3600, 7200);
	expect_period("Europe/Paris", ts(2800, 3, sunday(2800, 3, -1), 1, 0, 0),
	              ts(2800, 3, sunday(2800, 3, -1), 1, 0, 0),
	              ts(2800, 10, sunday(2800, 10, -1), 1, 0, 0), 7200, 3600);
	expect_period("Europe/Paris", ts(9999, 12, 31, 0, 0, 0),
	              ts(9999, 10, sunday(9999, 10, -1), 1, 0, 0),
	              ts(10000, 3, sunday(10000, 3, -1), 1, 0, 0), 3600, 7200);
	/* Lord Howe: a 30-minute shift, DST across the new year. */
	expect_period("Australia/Lord_Howe", ts(2026, 1, 1, 0, 0, 0), ts(2025, 10, 4, 15, 30, 0),
	              ts(2026, 4, 4, 15, 0, 0), 39600, 37800);
	expect_period("Australia/Lord_Howe", ts(2026, 4, 4, 15, 0, 0), ts(2026, 4, 4, 15, 0, 0),
	              ts(2026, 10, 3, 15, 30, 0), 37800, 39600);
	expect_period("Australia/Lord_Howe", ts(2500, 1, 1, 0, 0, 0),
	              ts(2499, 10, sunday(2499, 10, 1) - 1, 15, 30, 0),
	              ts(2500, 4, sunday(2500, 4, 1) - 1, 15, 0, 0), 39600, 37800);
	/* Santiago: changes at 24:00 on Saturday. */
	expect_period("America/Santiago", ts(2026, 6, 1, 0, 0, 0), ts(2026, 4, 5, 3, 0, 0),
	              ts(2026, 9, 6, 4, 0, 0), -14400, -10800);
	/* Dublin: negative DST in the TZif data (winter is the "daylight" type). */
	expect_period("Europe/Dublin", ts(2026, 7, 1, 0, 0, 0), ts(2026, 3, 29, 1, 0, 0),
	              ts(2026, 10, 25, 1, 0, 0), 3600, 0);
	expect_period("Europe/Dublin", ts(2600, 1, 1, 0, 0, 0),
	              ts(2599, 10, sunday(2599, 10, -1), 1, 0, 0),
	              ts(2600, 3, sunday(2600, 3, -1), 1, 0, 0), 0, 3600);
	/* Kathmandu: +05:45 since 1986, a fixed footer. */
	expect_period("Asia/Kathmandu", ts(2026, 1, 1, 0, 0, 0), ts(1985, 12, 31, 18, 30, 0),
	              INT64_MAX, 20700, 19800);
	expect_period("Asia/Kathmandu", INT64_MAX, ts(1985, 12, 31, 18, 30, 0), INT64_MAX, 20700,
	              19800);
}

/* Havana changes at midnight; only the start is asserted since Cuba's end dates keep moving. */
static void test_known_periods_havana(void **state)
{
	(void)state;
	struct tz_period p;
	tz_period_at(load_system("America/Havana"), ts(2026, 3, 8, 5, 0, 0), &p);
	assert_true(p.start == ts(2026, 3, 8, 5, 0, 0));
	assert_int_equal(p.offset, -14400);
	assert_int_equal(p.prev_offset, -18000);
}

static void expect_error(const char *name, const char *needle)
{
	char err[512] = "";
	struct tz *z = tz_load(name, err, sizeof err);
	if (z)
		fail_msg("'%s' loaded", name ? name : "(null)");
	tz_cache_clear(); /* so that tz_get looks again, e.g. under another TZDIR */
	if (!strstr(err, needle))
		fail_msg("'%s': message '%s' lacks '%s'", name ? name : "(null)", err, needle);
	assert_null(tz_get(name, err, sizeof err));
}

static void test_bad_names(void **state)
{
	(void)state;
	unsetenv("TZDIR");
	expect_error("Europe/Pariss",
	             "unknown time zone 'Europe/Pariss' (no file " ZONEINFO "/Europe/Pariss)");
	expect_error("../etc/passwd", "'..'");
	expect_error("Europe/../../etc/passwd", "'..'");
	expect_error("/etc/localtime", "relative");
	expect_error("", "empty");
	expect_error(NULL, "empty");
	expect_error("Europe/Paris ", "0x20");
	expect_error("Europe/Par.is", "0x2e");
	expect_error("Europe", "not a zone file");
	expect_error("Europe/Paris/x", "unknown time zone");
	char longname[300];
	memset(longname, 'A', sizeof longname - 1);
	longname[sizeof longname - 1] = '\0';
	expect_error(longname, "longer than 255");
	/* Names at the limit are accepted as names (and then looked up). */
	longname[255] = '\0';
	expect_error(longname, "unknown time zone");
}

static void test_utc_and_fixed(void **state)
{
	(void)state;
	const struct tz *u = tz_utc();
	assert_non_null(u);
	assert_string_equal(tz_name(u), "UTC");
	assert_true(tz_is_fixed(u));
	struct tz_period p;
	tz_period_at(u, 1234567890, &p);
	assert_true(p.start == INT64_MIN && p.end == INT64_MAX);
	assert_int_equal(p.offset, 0);
	assert_int_equal(p.prev_offset, 0);

	/* UTC needs no zone data at all. */
	setenv("TZDIR", "/nonexistent-tzdir", 1);
	char err[512];
	struct tz *z = tz_load("UTC", err, sizeof err);
	assert_non_null(z);
	assert_true(tz_is_fixed(z));
	assert_int_equal(tz_offset_at(z, INT64_MAX), 0);
	tz_free(z);
	assert_ptr_equal(tz_get("UTC", err, sizeof err), tz_utc());
	expect_error("Europe/Paris", "/nonexistent-tzdir/Europe/Paris");
	unsetenv("TZDIR");

	assert_true(tz_is_fixed(load_system("Etc/GMT-14")));
	assert_int_equal(tz_offset_at(load_system("Etc/GMT-14"), 0), 14 * 3600);
	assert_true(tz_is_fixed(load_system("Etc/GMT+5")));
	assert_int_equal(tz_offset_at(load_system("Etc/GMT+5"), ts(2026, 7, 1, 0, 0, 0)),
	                 -5 * 3600);
	assert_false(tz_is_fixed(load_system("Europe/Paris")));
	assert_false(tz_is_fixed(load_system("Asia/Kathmandu")));
	assert_string_equal(tz_name(load_system("Europe/Paris")), "Europe/Paris");
}

static void test_cache(void **state)
{
	(void)state;
	tz_cache_clear();
	char err[512];
	unsetenv("TZDIR");
	const char *names[] = {"Europe/Paris", "America/New_York", "Asia/Tokyo"};
	const struct tz *first[3];
	for (int i = 0; i < 3; i++)
		first[i] = tz_get(names[i], err, sizeof err);
	for (int job = 0; job < 10000; job++)
		assert_ptr_equal(tz_get(names[job % 3], err, sizeof err), first[job % 3]);
	assert_ptr_not_equal(first[0], first[1]);
	/* A failure is not cached: the zone appears once its file does. */
	assert_null(tz_get("Nope/Zone", err, sizeof err));
	assert_non_null(strstr(err, "unknown time zone 'Nope/Zone'"));
	tz_cache_clear();
	const struct tz *again = tz_get("Europe/Paris", err, sizeof err);
	assert_non_null(again);
	assert_int_equal(tz_offset_at(again, ts(2026, 7, 1, 0, 0, 0)), 7200);
}

/* ---- hand-made zone files in a private TZDIR ---- */

static char tmpdir[64];

static int setup_tmpdir(void **state)
{
	(void)state;
	strcpy(tmpdir, "/tmp/test_tz.XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	return 0;
}

static int teardown_tmpdir(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	unsetenv("TZDIR");
	return system(cmd) == 0 ? 0 : -1;
}

static void write_file(const char *name, const void *data, size_t len)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	FILE *f = fopen(path, "wb");
	if (!f)
		fail_msg("%s: %s", path, strerror(errno));
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static unsigned char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		fail_msg("%s: %s", path, strerror(errno));
	static unsigned char buf[1 << 16];
	*len = fread(buf, 1, sizeof buf, f);
	fclose(f);
	unsigned char *copy = malloc(*len);
	assert_non_null(copy);
	memcpy(copy, buf, *len);
	return copy;
}

struct ttype {
	int32_t off;
	uint8_t isdst;
};

static unsigned char *put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
	return p + 4;
}

static unsigned char *block(unsigned char *p, char version, int tsz, const int64_t *at,
                            const uint8_t *idx, size_t nt, const struct ttype *ty, size_t ntypes)
{
	memcpy(p, "TZif", 4);
	p[4] = (unsigned char)version;
	memset(p + 5, 0, 15);
	p += 20;
	p = put32(p, 0);                /* isutcnt */
	p = put32(p, 0);                /* isstdcnt */
	p = put32(p, 0);                /* leapcnt */
	p = put32(p, (uint32_t)nt);     /* timecnt */
	p = put32(p, (uint32_t)ntypes); /* typecnt */
	p = put32(p, 4);                /* charcnt */
	for (size_t i = 0; i < nt; i++) {
		if (tsz == 8)
			p = put32(p, (uint32_t)((uint64_t)at[i] >> 32));
		p = put32(p, (uint32_t)at[i]);
	}
	if (nt)
		memcpy(p, idx, nt);
	p += nt;
	for (size_t i = 0; i < ntypes; i++) {
		p = put32(p, (uint32_t)ty[i].off);
		*p++ = ty[i].isdst;
		*p++ = 0;
	}
	memcpy(p, "ZZZ", 4);
	return p + 4;
}

/* A TZif file: version 0 (v1 only) or '2'..'4' with a 64-bit block and `footer`. */
static size_t build_tzif(unsigned char *buf, char version, const int64_t *at, const uint8_t *idx,
                         size_t nt, const struct ttype *ty, size_t ntypes, const char *footer)
{
	unsigned char *p = block(buf, version, 4, at, idx, nt, ty, ntypes);
	if (version) {
		p = block(p, version, 8, at, idx, nt, ty, ntypes);
		*p++ = '\n';
		memcpy(p, footer, strlen(footer));
		p += strlen(footer);
		*p++ = '\n';
	}
	return (size_t)(p - buf);
}

static struct tz *load_tmp(const char *name, char *err, size_t errlen)
{
	setenv("TZDIR", tmpdir, 1);
	struct tz *z = tz_load(name, err, errlen);
	unsetenv("TZDIR");
	return z;
}

static void test_tzdir_copy(void **state)
{
	(void)state;
	char dir[512];
	snprintf(dir, sizeof dir, "%s/My", tmpdir);
	assert_int_equal(mkdir(dir, 0755), 0);
	size_t len;
	unsigned char *data = slurp(ZONEINFO "/Europe/Paris", &len);
	write_file("My/Zone", data, len);
	free(data);
	char err[512];
	struct tz *z = load_tmp("My/Zone", err, sizeof err);
	if (!z)
		fail_msg("%s", err);
	assert_string_equal(tz_name(z), "My/Zone");
	const struct tz *ref = load_system("Europe/Paris");
	for (int i = 0; i < 100000; i++) {
		int64_t t =
		    (int64_t)(rnd() % (uint64_t)ts(3000, 1, 1, 0, 0, 0)) - ts(1970, 1, 1, 0, 0, 0);
		assert_int_equal(tz_offset_at(z, t), tz_offset_at(ref, t));
	}
	tz_free(z);
	/* With TZDIR set, system names are not found elsewhere. */
	setenv("TZDIR", tmpdir, 1);
	char want[600];
	snprintf(want, sizeof want, "unknown time zone 'Europe/Paris' (no file %s/Europe/Paris)",
	         tmpdir);
	expect_error("Europe/Paris", want);
	unsetenv("TZDIR");
}

static void test_truncated_and_garbage(void **state)
{
	(void)state;
	char err[512];
	size_t len;
	unsigned char *data = slurp(ZONEINFO "/Europe/Paris", &len);
	for (size_t cut = 0; cut < len; cut++) {
		write_file("Trunc", data, cut);
		err[0] = '\0';
		struct tz *z = load_tmp("Trunc", err, sizeof err);
		if (z)
			fail_msg("a copy of Europe/Paris cut to %zu of %zu bytes loaded", cut, len);
		if (!strstr(err, "'Trunc'") || !strstr(err, tmpdir))
			fail_msg("cut %zu: message '%s' names neither zone nor file", cut, err);
	}
	/* A trailing byte is corruption too. */
	unsigned char *longer = malloc(len + 1);
	assert_non_null(longer);
	memcpy(longer, data, len);
	longer[len] = 'x';
	write_file("Long", longer, len + 1);
	assert_null(load_tmp("Long", err, sizeof err));
	assert_non_null(strstr(err, "trailing"));
	free(longer);

	unsigned char junk[4096];
	for (int i = 0; i < 300; i++) {
		size_t n = rnd() % sizeof junk;
		for (size_t k = 0; k < n; k++)
			junk[k] = (unsigned char)rnd();
		if (i % 2 && n >= 5)
			memcpy(junk, i % 4 == 1 ? "TZif2" : "TZif\0", 5);
		write_file("Garbage", junk, n);
		err[0] = '\0';
		assert_null(load_tmp("Garbage", err, sizeof err));
		assert_non_null(strstr(err, "'Garbage'"));
	}
	write_file("Text", "Europe/Paris\n", 13);
	assert_null(load_tmp("Text", err, sizeof err));
	assert_non_null(strstr(err, "bad magic"));

	/* A header claiming 2^32-1 transitions must not be trusted. */
	unsigned char huge[64] = "TZif2";
	memset(huge + 32, 0xff, 12);
	write_file("Huge", huge, sizeof huge);
	assert_null(load_tmp("Huge", err, sizeof err));

	/* Random corruption of a real file: loads or fails, but never misbehaves. */
	size_t loaded = 0;
	for (int i = 0; i < 3000; i++) {
		unsigned char *mut = malloc(len);
		assert_non_null(mut);
		memcpy(mut, data, len);
		for (int k = 0, nk = 1 + (int)(rnd() % 4); k < nk; k++)
			mut[rnd() % len] = (unsigned char)rnd();
		write_file("Mutant", mut, len);
		free(mut);
		struct tz *z = load_tmp("Mutant", err, sizeof err);
		if (!z)
			continue;
		loaded++;
		const int64_t probes[] = {INT64_MIN,
		                          INT64_MIN + 1,
		                          -1,
		                          0,
		                          ts(2026, 3, 29, 1, 0, 0),
		                          ts(2500, 1, 1, 0, 0, 0),
		                          INT64_MAX - 1,
		                          INT64_MAX};
		for (size_t k = 0; k < sizeof probes / sizeof *probes; k++)
			check_period_shape(z, probes[k]);
		for (int k = 0; k < 20; k++)
			check_period_shape(z, (int64_t)rnd());
		tz_free(z);
	}
	print_message("# %zu of 3000 randomly corrupted copies still loaded\n", loaded);
	free(data);
}

static void test_crafted_files(void **state)
{
	(void)state;
	char err[512], tzv[600];
	unsigned char buf[4096];
	const struct ttype est_edt[] = {{-18000, 0}, {-14400, 1}};
	const int64_t at[] = {1000000000, 1010000000, 1020000000};
	const uint8_t idx[] = {1, 0, 1};

	/* Version 1: 32-bit data only, no footer, so the last type lasts forever. */
	size_t n = build_tzif(buf, 0, at, idx, 3, est_edt, 2, "");
	write_file("V1", buf, n);
	struct tz *z = load_tmp("V1", err, sizeof err);
	if (!z)
		fail_msg("%s", err);
	snprintf(tzv, sizeof tzv, ":%s/V1", tmpdir);
	oracle_set(tzv);
	for (size_t i = 0; i < 3; i++)
		for (int64_t d = -1; d <= 1; d++)
			assert_int_equal(tz_offset_at(z, at[i] + d), oracle(at[i] + d));
	assert_int_equal(tz_offset_at(z, INT64_MIN), -18000);
	assert_int_equal(tz_offset_at(z, INT64_MAX), -14400);
	tz_free(z);
	for (size_t cut = 0; cut < n; cut++) {
		write_file("V1cut", buf, cut);
		assert_null(load_tmp("V1cut", err, sizeof err));
	}

	/* Zones governed by the footer alone, compared with glibc's own POSIX TZ parser over
	 * years 1-9999: negative and 167-hour times, J and zero-based day rules, a southern
	 * hemisphere rule and a 30-minute DST. */
	const char *rules[] = {
	    "<-02>2<-01>,M3.5.0/-1,M10.5.0/0", "<+1030>-10:30<+11>-11,M10.1.0,M4.1.0",
	    "EST5EDT,M3.2.0/-167,M11.1.0/167", "XXX3YYY,J60/25,300/-2:30:15",
	    "AAA-5:45:30BBB-7,59,J59/0",       "<-04>4<-03>,M9.1.6/24,M4.1.6/24",
	};
	const struct ttype one[] = {{0, 0}};
	for (size_t r = 0; r < sizeof rules / sizeof *rules; r++) {
		for (char version = '2'; version <= '4'; version++) {
			n = build_tzif(buf, version, NULL, NULL, 0, one, 1, rules[r]);
			write_file("Rule", buf, n);
			z = load_tmp("Rule", err, sizeof err);
			if (!z)
				fail_msg("%s: %s", rules[r], err);
			oracle_set(rules[r]);
			for (int i = 0; i < 20000; i++) {
				int64_t t = ts(1, 1, 1, 0, 0, 0) +
				            (int64_t)(rnd() % (uint64_t)(ts(9999, 1, 1, 0, 0, 0) -
				                                         ts(1, 1, 1, 0, 0, 0)));
				/* glibc evaluates TZ rules from 1971 on only (it takes any
				 * earlier year as 1970); rules repeat every 400 years. */
				int64_t t_glibc = t;
				while (t_glibc < ts(1972, 1, 1, 0, 0, 0))
					t_glibc += CIVIL_SECS_PER_400Y;
				if (tz_offset_at(z, t) != oracle(t_glibc))
					fail_msg("%s at %" PRId64 ": ours %d, glibc %d", rules[r],
					         t, tz_offset_at(z, t), oracle(t_glibc));
				if (i % 8 == 0)
					check_period_shape(z, t);
			}
			check_period_shape(z, INT64_MIN);
			check_period_shape(z, INT64_MAX);
			tz_free(z);
		}
	}

	/* DST without rules: the US rules, as in tzcode and glibc (glibc itself cannot serve as
	 * the oracle here: it would use the posixrules file, i.e. New York's history). */
	n = build_tzif(buf, '2', NULL, NULL, 0, one, 1, "XYZ6ABC");
	write_file("NoRules", buf, n);
	z = load_tmp("NoRules", err, sizeof err);
	if (!z)
		fail_msg("%s", err);
	struct tz_period p;
	tz_period_at(z, ts(2026, 7, 1, 0, 0, 0), &p);
	assert_true(p.start == ts(2026, 3, 8, 8, 0, 0) && p.end == ts(2026, 11, 1, 7, 0, 0));
	assert_int_equal(p.offset, -18000);
	assert_int_equal(p.prev_offset, -21600);
	tz_free(z);

	/* The footer takes over after the file's last transition. */
	n = build_tzif(buf, '2', at, idx, 3, est_edt, 2, "EST5EDT,M3.2.0,M11.1.0");
	write_file("Mixed", buf, n);
	z = load_tmp("Mixed", err, sizeof err);
	if (!z)
		fail_msg("%s", err);
	assert_int_equal(tz_offset_at(z, at[2]), -14400);
	assert_int_equal(tz_offset_at(z, ts(2003, 1, 1, 0, 0, 0)), -18000);
	assert_int_equal(tz_offset_at(z, ts(2500, 7, 1, 0, 0, 0)), -14400);
	check_period_shape(z, ts(2500, 7, 1, 0, 0, 0));
	tz_free(z);

	/* Permanent DST spelled as a rule (RFC 8536 §3.3.1): one offset forever. */
	n = build_tzif(buf, '3', NULL, NULL, 0, one, 1, "EST5EDT,0/0,J365/25");
	write_file("Perm", buf, n);
	z = load_tmp("Perm", err, sizeof err);
	if (!z)
		fail_msg("%s", err);
	assert_true(tz_is_fixed(z));
	assert_int_equal(tz_offset_at(z, ts(1900, 6, 1, 0, 0, 0)), -14400);
	assert_int_equal(tz_offset_at(z, ts(2026, 12, 31, 23, 0, 0)), -14400);
	tz_free(z);

	/* Malformed footers and inconsistent counts are rejected with a reason. */
	const char *bad_footers[] = {"EST5EDT,M13.1.0,M11.1.0",    "EST",   "EST5EDT,M3.2.0", "<>5",
	                             "EST5EDT,M3.2.0/168,M11.1.0", "EST25", "EST5EDT,J0,J365"};
	for (size_t i = 0; i < sizeof bad_footers / sizeof *bad_footers; i++) {
		n = build_tzif(buf, '2', NULL, NULL, 0, one, 1, bad_footers[i]);
		write_file("BadFooter", buf, n);
		assert_null(load_tmp("BadFooter", err, sizeof err));
		if (!strstr(err, "footer"))
			fail_msg("footer '%s': message '%s'", bad_footers[i], err);
	}
	const uint8_t bad_idx[] = {1, 0, 2};
	n = build_tzif(buf, '2', at, bad_idx, 3, est_edt, 2, "");
	write_file("BadIdx", buf, n);
	assert_null(load_tmp("BadIdx", err, sizeof err));
	assert_non_null(strstr(err, "type index"));
	const int64_t unsorted[] = {1000000000, 1000000000, 1020000000};
	n = build_tzif(buf, '2', unsorted, idx, 3, est_edt, 2, "");
	write_file("Unsorted", buf, n);
	assert_null(load_tmp("Unsorted", err, sizeof err));
	assert_non_null(strstr(err, "ascending"));
	const struct ttype bad_off[] = {{INT32_MIN, 0}};
	n = build_tzif(buf, '2', NULL, NULL, 0, bad_off, 1, "");
	write_file("BadOff", buf, n);
	assert_null(load_tmp("BadOff", err, sizeof err));
}

/* Shape invariants over the whole int64 range, including the ends. */
static void test_extremes(void **state)
{
	(void)state;
	for (size_t zi = 0; zi < sizeof oracle_zones / sizeof *oracle_zones; zi++) {
		const struct tz *z = load_system(oracle_zones[zi]);
		const int64_t probes[] = {INT64_MIN,
		                          INT64_MIN + 1,
		                          INT64_MAX - 1,
		                          INT64_MAX,
		                          0,
		                          -ts(400000, 1, 1, 0, 0, 0),
		                          ts(400000, 1, 1, 0, 0, 0)};
		for (size_t k = 0; k < sizeof probes / sizeof *probes; k++)
			check_period_shape(z, probes[k]);
		for (int i = 0; i < 20000; i++)
			check_period_shape(z, (int64_t)rnd());
	}
	/* Far from the data, the rule still gives the summer offset. */
	const struct tz *paris = load_system("Europe/Paris");
	assert_int_equal(tz_offset_at(paris, ts(1000000, 7, 1, 0, 0, 0)), 7200);
	assert_int_equal(tz_offset_at(paris, ts(1000000, 1, 1, 0, 0, 0)), 3600);
}

static void test_lookup_speed(void **state)
{
	(void)state;
	const struct tz *z = load_system("Europe/Paris");
	const int64_t base = ts(2020, 1, 1, 0, 0, 0);
	struct timespec a, b;
	int64_t sink = 0;
	struct tz_period p;
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (int64_t i = 0; i < 10000000; i++) {
		tz_period_at(z, base + (i * 7919) % (INT64_C(10) * 365 * 86400), &p);
		sink += p.offset;
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	double ns = ((double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec)) / 1e7;
	print_message("# tz_period_at, Europe/Paris 2020-2030: %.1f ns per call\n", ns);
	const int64_t far = ts(3000, 1, 1, 0, 0, 0);
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (int64_t i = 0; i < 10000000; i++) {
		tz_period_at(z, far + (i * 7919) % (INT64_C(10) * 365 * 86400), &p);
		sink += p.offset;
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	ns = ((double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec)) / 1e7;
	print_message("# tz_period_at, Europe/Paris 3000-3010 (cycle mapping): %.1f ns per call\n",
	              ns);
	assert_true(sink != 0);
}

static int teardown_all(void **state)
{
	tz_cache_clear();
	return teardown_tmpdir(state);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_known_periods),
	    cmocka_unit_test(test_known_periods_havana),
	    cmocka_unit_test(test_bad_names),
	    cmocka_unit_test(test_utc_and_fixed),
	    cmocka_unit_test(test_cache),
	    cmocka_unit_test(test_tzdir_copy),
	    cmocka_unit_test(test_truncated_and_garbage),
	    cmocka_unit_test(test_crafted_files),
	    cmocka_unit_test(test_extremes),
	    cmocka_unit_test(test_oracle_hourly),
	    cmocka_unit_test(test_oracle_random_years),
	    cmocka_unit_test(test_all_system_zones),
	    cmocka_unit_test(test_lookup_speed),
	};
	return cmocka_run_group_tests(tests, setup_tmpdir, teardown_all);
}

/* The randomizer's plan (plugins/randomizer/plan.c): window parsing, bounds, and the rules
 * every plan must keep, checked over many seeds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <chored/time.h>
#include "plan.h"

static const char *const brands[] = {"byCaliber", "Forja", "EO"};

static struct plan_params business(void)
{
	struct plan_params p = {.brands = brands,
	                        .n_brands = 3,
	                        .granularity = 15,
	                        .slots_per_day = 3,
	                        .slot_length = 30,
	                        .weeks = 4};
	char err[256];
	assert_int_equal(plan_parse_windows(&p, "mon 13:00-16:00 wed 10:00-11:00 fri 18:30-19:00",
	                                    err, sizeof err),
	                 0);
	return p;
}

static void expect_parse_error(const char *text, const char *needle)
{
	struct plan_params p = {0};
	char err[256] = "";
	assert_int_equal(plan_parse_windows(&p, text, err, sizeof err), -1);
	if (!strstr(err, needle))
		fail_msg("'%s': error '%s' lacks '%s'", text, err, needle);
}

static void test_parse(void **state)
{
	(void)state;
	struct plan_params p = business();
	assert_int_equal(p.n_windows, 3);
	/* Sorted by weekday: mon (1), wed (3), fri (5). */
	assert_int_equal(p.windows[0].weekday, 1);
	assert_int_equal(p.windows[0].start, 13 * 60);
	assert_int_equal(p.windows[0].end, 16 * 60);
	assert_int_equal(p.windows[2].weekday, 5);
	assert_int_equal(p.windows[2].start, 18 * 60 + 30);
	char err[256];
	assert_int_equal(plan_check(&p, err, sizeof err), 0);

	expect_parse_error("xyz 10:00-11:00", "'xyz' is not a weekday");
	expect_parse_error("mon", "needs a time range");
	expect_parse_error("mon 11:00-10:00", "'11:00-10:00' is not a time range");
	expect_parse_error("mon 10:00-25:00", "is not a time range");
	expect_parse_error("mon 9:00-10:00", "is not a time range");
	expect_parse_error("mon 10:00-11:00 MON 10:30-12:00", "overlap");
	expect_parse_error("  ", "no window");
}

static void expect_check_error(struct plan_params p, const char *windows, const char *needle)
{
	char err[256] = "";
	assert_int_equal(plan_parse_windows(&p, windows, err, sizeof err), 0);
	assert_int_equal(plan_check(&p, err, sizeof err), -1);
	if (!strstr(err, needle))
		fail_msg("'%s': error '%s' lacks '%s'", windows, err, needle);
}

static void test_check(void **state)
{
	(void)state;
	struct plan_params p = business();
	expect_check_error(p, "fri 18:30-18:40", "shorter than the 15-minute granularity");
	expect_check_error(p, "sun 23:00-23:30", "must end by 24:00");
	expect_check_error(p, "mon 10:00-10:30 mon 11:00-12:00", "too close");
	p.slots_per_day = 4;
	expect_check_error(p, "mon 10:00-11:00", "slots_per_day: expected 1 to 3");
	p = business();
	p.weeks = 0;
	expect_check_error(p, "mon 10:00-11:00", "weeks");
}

/* Asserts every rule of plan.h on `pl` (and against `prev`, which may be NULL). */
static void assert_rules(const struct plan_params *p, int64_t first, const struct plan *pl,
                         const struct plan *prev)
{
	size_t S = (size_t)p->slots_per_day, days = 0;
	for (int64_t d = first; d < first + 7 * p->weeks; d++)
		for (size_t w = 0; w < p->n_windows; w++)
			days += p->windows[w].weekday == chored_weekday(d);
	assert_int_equal(pl->n, days * S);
	int last_off = -1;
	if (prev && prev->n) {
		const struct plan_slot *l = &prev->slots[prev->n - 1];
		last_off = (int)((l->brand + p->n_brands - (size_t)l->pos) % p->n_brands);
	}
	for (size_t i = 0; i < pl->n; i += S) {
		const struct plan_slot *b = &pl->slots[i];
		const struct plan_window *win = NULL;
		for (size_t w = 0; w < p->n_windows; w++)
			if (p->windows[w].weekday == chored_weekday(b->day))
				win = &p->windows[w];
		assert_non_null(win);
		/* The first slot starts inside the window, on the granularity. */
		assert_true(b->start >= win->start && b->start <= win->end);
		assert_int_equal((b->start - win->start) % p->granularity, 0);
		int off = (int)b->brand;
		/* The position of every brand changed since the previous block. */
		assert_int_not_equal(off, last_off);
		last_off = off;
		for (size_t k = 0; k < S; k++) {
			const struct plan_slot *s = &pl->slots[i + k];
			assert_int_equal(s->day, b->day);
			assert_int_equal(s->start, b->start + (int)k * p->slot_length);
			assert_int_equal(s->pos, (int)k);
			assert_int_equal(s->brand, ((size_t)off + k) % p->n_brands);
			/* No brand gets the time it had a week earlier on the same weekday. */
			for (size_t j = 0; j < pl->n; j++)
				if (pl->slots[j].day == s->day - 7 &&
				    pl->slots[j].brand == s->brand)
					assert_int_not_equal(pl->slots[j].start, s->start);
			for (size_t j = 0; prev && j < prev->n; j++)
				if (prev->slots[j].day == s->day - 7 &&
				    prev->slots[j].brand == s->brand)
					assert_int_not_equal(prev->slots[j].start, s->start);
		}
	}
}

static void test_rules_many_seeds(void **state)
{
	(void)state;
	struct plan_params p = business();
	int64_t first = chored_days_from_civil(2026, 11, 30); /* a Monday */
	char err[256];
	for (uint64_t seed = 1; seed <= 300; seed++) {
		struct plan_seeded g;
		plan_seeded_init(&g, seed);
		struct plan a, b;
		assert_int_equal(
		    plan_make(&p, first, NULL, plan_seeded_rand, &g, &a, err, sizeof err), 0);
		assert_rules(&p, first, &a, NULL);
		/* The next horizon, chained on the first: week 1 is checked against it. */
		assert_int_equal(
		    plan_make(&p, first + 28, &a, plan_seeded_rand, &g, &b, err, sizeof err), 0);
		assert_rules(&p, first + 28, &b, &a);
		plan_free(&a);
		plan_free(&b);
	}
}

static void test_seed_reproducible(void **state)
{
	(void)state;
	struct plan_params p = business();
	int64_t first = chored_days_from_civil(2026, 11, 30);
	char err[256];
	struct plan_seeded g1, g2, g3;
	plan_seeded_init(&g1, 42);
	plan_seeded_init(&g2, 42);
	plan_seeded_init(&g3, 43);
	struct plan a, b, c;
	assert_int_equal(plan_make(&p, first, NULL, plan_seeded_rand, &g1, &a, err, sizeof err), 0);
	assert_int_equal(plan_make(&p, first, NULL, plan_seeded_rand, &g2, &b, err, sizeof err), 0);
	assert_int_equal(plan_make(&p, first, NULL, plan_seeded_rand, &g3, &c, err, sizeof err), 0);
	assert_int_equal(a.n, b.n);
	assert_memory_equal(a.slots, b.slots, a.n * sizeof a.slots[0]);
	assert_int_equal(a.n, c.n);
	assert_true(memcmp(a.slots, c.slots, a.n * sizeof a.slots[0]) != 0);
	plan_free(&a);
	plan_free(&b);
	plan_free(&c);
}

/* The OS generator gives plans that keep the rules, and not always the same one. */
static void test_os_random(void **state)
{
	(void)state;
	struct plan_params p = business();
	int64_t first =
	    chored_days_from_civil(2026, 12, 2); /* a Wednesday: the horizon starts mid-week */
	char err[256];
	struct plan a, b;
	assert_int_equal(plan_make(&p, first, NULL, plan_os_rand, NULL, &a, err, sizeof err), 0);
	assert_rules(&p, first, &a, NULL);
	int differ = 0;
	for (int i = 0; i < 5 && !differ; i++) {
		assert_int_equal(
		    plan_make(&p, first, NULL, plan_os_rand, NULL, &b, err, sizeof err), 0);
		differ = memcmp(a.slots, b.slots, a.n * sizeof a.slots[0]) != 0;
		plan_free(&b);
	}
	assert_true(differ);
	plan_free(&a);
}

/* Uniformity: every valid Monday start is drawn, roughly equally often. */
static void test_uniform_starts(void **state)
{
	(void)state;
	struct plan_params p = business();
	p.weeks = 1;
	int64_t first = chored_days_from_civil(2026, 11, 30);
	char err[256];
	int seen[13] = {0}; /* 13:00 … 16:00 by 15 min */
	struct plan_seeded g;
	plan_seeded_init(&g, 7);
	for (int i = 0; i < 900; i++) {
		struct plan a;
		assert_int_equal(
		    plan_make(&p, first, NULL, plan_seeded_rand, &g, &a, err, sizeof err), 0);
		int k = (a.slots[0].start - 13 * 60) / 15;
		assert_true(k >= 0 && k < 13);
		seen[k]++;
		plan_free(&a);
	}
	for (int k = 0; k < 13; k++) /* about 69 each */
		if (seen[k] < 35 || seen[k] > 110)
			fail_msg("start %d drawn %d times of 900", k, seen[k]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse),
	    cmocka_unit_test(test_check),
	    cmocka_unit_test(test_rules_many_seeds),
	    cmocka_unit_test(test_seed_reproducible),
	    cmocka_unit_test(test_os_random),
	    cmocka_unit_test(test_uniform_starts),
	};
	return cmocka_run_group_tests_name("randomizer_plan", tests, NULL, NULL);
}

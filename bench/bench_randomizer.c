/* The randomizer's plan (issue 6): a 4-week plan of the business's windows, brands and
 * slots, chained on the previous week's plan, with the OS generator. Target: < 10 ms. */
#include <stdio.h>

#include "bench_util.h"
#include "plan.h"

#include <chored/time.h>

int main(void)
{
	static const char *const brands[] = {"byCaliber", "Forja", "EO"};
	struct plan_params p = {.brands = brands,
	                        .n_brands = 3,
	                        .granularity = 15,
	                        .slots_per_day = 3,
	                        .slot_length = 30,
	                        .weeks = 4};
	char err[256];
	if (plan_parse_windows(&p, "mon 13:00-16:00 wed 10:00-11:00 fri 18:30-19:00", err,
	                       sizeof err) < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	int64_t first = chored_days_from_civil(2026, 11, 30);
	struct plan prev;
	if (plan_make(&p, first - 7, NULL, plan_os_rand, NULL, &prev, err, sizeof err) < 0)
		return 1;
	enum { RUNS = 2001 };
	static double ms[RUNS];
	for (int i = 0; i < RUNS; i++) {
		struct plan pl;
		int64_t t0 = bench_now_ns();
		if (plan_make(&p, first, &prev, plan_os_rand, NULL, &pl, err, sizeof err) < 0) {
			fprintf(stderr, "%s\n", err);
			return 1;
		}
		ms[i] = (double)(bench_now_ns() - t0) / 1e6;
		bench_sink((int64_t)pl.n);
		plan_free(&pl);
	}
	plan_free(&prev);
	double med = bench_median(ms, RUNS), max = ms[RUNS - 1];
	printf("randomizer plan, 4 weeks x 3 windows x 3 slots (%d runs): median %.3f ms, "
	       "max %.3f ms; target < 10 ms: ratio %.4f\n",
	       RUNS, med, max, med / 10.0);
	return 0;
}

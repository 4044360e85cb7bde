/* Shared timing helpers for the benchmarks (header-only: each bench is one program). */
#ifndef CHORED_BENCH_UTIL_H
#define CHORED_BENCH_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

/* Monotonic clock in nanoseconds: immune to wall-clock steps during a run. */
static inline int64_t bench_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline int bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Median of v[0..n-1]; sorts v in place. Returns 0 for n == 0. */
static inline double bench_median(double *v, size_t n)
{
	if (n == 0)
		return 0;
	qsort(v, n, sizeof *v, bench_cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Keeps the compiler from discarding a computed value (results fed into nothing else). */
static inline void bench_sink(int64_t v)
{
	__asm__ volatile("" : : "r"(v) : "memory");
}

#endif

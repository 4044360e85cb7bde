/* Firing lag and daemon-side cost per run (issue 7), with the real daemon: one job on a
 * 6-field every-second schedule running testplug (mode=ok), for CHORED_BENCH_FIRINGS
 * firings (default 200, about 205 s). chored's JSON log gives, for each run start,
 * spawn_lag_us (scheduled instant → runner released: chored spawns it ~100 ms ahead, and
 * it waits with the plugin loaded) and start_lag_us (scheduled instant → plugin run()
 * entered). Targets: scheduling lag median <= 1 ms, p99 <= 5 ms; start lag
 * median <= 10 ms, p99 <= 20 ms; daemon CPU (every thread, user + system, from
 * /proc/PID/task/(*)/schedstat) per run <= 1 ms, counted from the first firing to the last,
 * so start-up (config, plugins, state) is left out. The CPU figure is also given per batch
 * of consecutive runs, with the median of the batches (one burst of load on the machine
 * spoils one batch, not the figure), and the daemon's context switches per run (its
 * wake-ups: on a paravirtualised kernel each costs tens of microseconds). Last, the
 * machine's floor under that CPU figure (firing_floor.c, CHORED_BENCH_FLOOR_CYCLES cycles,
 * default 30): a timer wake-up, a posix_spawn of chored-run and its exit seen on a pidfd,
 * nothing else; the daemon's figure is given against it. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <json-c/json.h>

#include "bench_harness.h"
#include "bench_util.h"
#include "firing_floor.h"

#define SCHED_MEDIAN_MS 1.0
#define SCHED_P99_MS    5.0
#define START_MEDIAN_MS 10.0
#define START_P99_MS    20.0
#define CPU_PER_RUN_MS  1.0
/* Batches the CPU figure is split into (fewer when there are too few runs). */
#define CPU_BATCHES 5
#define BATCH_MIN   8

/* The lag figures of one job, one per slot (a slot logged twice is counted once). */
struct series {
	double *ms;
	int64_t *nominal;
	size_t n, cap;
};

static bool seen(const struct series *s, int64_t nominal)
{
	for (size_t i = s->n > 32 ? s->n - 32 : 0; i < s->n; i++)
		if (s->nominal[i] == nominal)
			return true;
	return false;
}

static void push(struct series *s, int64_t nominal, double ms)
{
	if (seen(s, nominal))
		return;
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 256;
		s->ms = realloc(s->ms, s->cap * sizeof *s->ms);
		s->nominal = realloc(s->nominal, s->cap * sizeof *s->nominal);
		if (!s->ms || !s->nominal) {
			fprintf(stderr, "bench_firing: out of memory\n");
			exit(1);
		}
	}
	s->ms[s->n] = ms;
	s->nominal[s->n++] = nominal;
}

/* A field at the top level of a log object or inside its "fields" member. */
static json_object *field(json_object *o, const char *key)
{
	json_object *v, *f;
	if (json_object_object_get_ex(o, key, &v))
		return v;
	if (json_object_object_get_ex(o, "fields", &f) && json_object_object_get_ex(f, key, &v))
		return v;
	return NULL;
}

/* The slot's nominal time (seconds). A line without a numeric one cannot be matched to a
 * slot: it gets a key of its own, so it is counted (and shows up as a gap). */
static int64_t nominal_of(json_object *o)
{
	static int64_t unmatched = INT64_MIN / 2;
	json_object *v = field(o, "nominal");
	if (!v || !json_object_is_type(v, json_type_int))
		return unmatched++;
	return json_object_get_int64(v);
}

/* Slots in `s` that are not one second after the previous one (by nominal). */
static size_t gaps(const struct series *s)
{
	size_t g = 0;
	for (size_t i = 1; i < s->n; i++)
		g += s->nominal[i] != s->nominal[i - 1] + 1;
	return g;
}

static void report_lag(const char *what, const struct series *s, double med_target,
                       double p99_target)
{
	double *v = malloc(s->n * sizeof *v);
	if (!v)
		exit(1);
	memcpy(v, s->ms, s->n * sizeof *v); /* sorted copy: the series keeps its slot order */
	bh_sort(v, s->n);
	double med = bench_median(v, s->n), p99 = bh_percentile(v, s->n, 99);
	printf("  %s: median %.3f ms (%.2fx the %.0f ms target%s), p99 %.3f ms (%.2fx the %.0f "
	       "ms target%s), max %.3f ms, n=%zu\n",
	       what, med, med / med_target, med_target, bh_missed(med, med_target), p99,
	       p99 / p99_target, p99_target, bh_missed(p99, p99_target), v[s->n - 1], s->n);
	free(v);
}

/* Per slot, start lag minus scheduling lag: what the runner took from posix_spawn to run()
 * (with the daemon's writing of the input document), to compare with bench_spawn's floor. */
static void report_runner_share(const struct series *spawn, const struct series *start)
{
	double *d = malloc((start->n + 1) * sizeof *d);
	size_t n = 0;
	if (!d)
		return;
	for (size_t i = 0; i < start->n; i++)
		for (size_t j = 0; j < spawn->n; j++)
			if (spawn->nominal[j] == start->nominal[i]) {
				d[n++] = start->ms[i] - spawn->ms[j];
				break;
			}
	if (n) {
		bh_sort(d, n);
		printf(
		    "  runner share (start lag - scheduling lag, same slot): median %.3f ms, p99 "
		    "%.3f ms, n=%zu\n",
		    bench_median(d, n), bh_percentile(d, n, 99), n);
	}
	free(d);
}

/* One sample of the daemon's counters, taken when a run's spawn_lag_us line is read. */
struct cpu_mark {
	int64_t cpu_ns, tick_ns, ctxt;
};

/* CPU per run (ms) of each batch of consecutive runs between marks[0] and marks[n-1], and
 * their median; context switches per run over the whole span. */
static double report_batches(const struct cpu_mark *m, size_t n)
{
	size_t runs = n - 1;
	size_t batches = runs / BATCH_MIN < CPU_BATCHES ? runs / BATCH_MIN : CPU_BATCHES;
	if (batches < 2 || m[0].cpu_ns < 0 || m[n - 1].cpu_ns < 0)
		return -1;
	double per[CPU_BATCHES];
	printf("  daemon CPU per run by batch of %zu runs:", runs / batches);
	for (size_t b = 0; b < batches; b++) {
		size_t i0 = b * (runs / batches), i1 = (b + 1) * (runs / batches);
		per[b] = (double)(m[i1].cpu_ns - m[i0].cpu_ns) / 1e6 / (double)(i1 - i0);
		printf(" %.3f", per[b]);
	}
	double med = bench_median(per, batches);
	printf(" ms; median %.3f ms (%.2fx the %.0f ms target%s)\n", med, med / CPU_PER_RUN_MS,
	       CPU_PER_RUN_MS, bh_missed(med, CPU_PER_RUN_MS));
	if (m[0].ctxt >= 0 && m[n - 1].ctxt >= 0)
		printf("  daemon context switches per run (its wake-ups): %.1f\n",
		       (double)(m[n - 1].ctxt - m[0].ctxt) / (double)runs);
	return med;
}

/* The floor (firing_floor.c) and the daemon's median batch against it. */
static void report_floor(long cycles, double daemon_ms)
{
	double floor_ms;
	fflush(stdout);
	if (firing_floor(cycles, &floor_ms) != 0) {
		printf("machine floor: MISSED (could not be measured)\n");
		return;
	}
	printf("machine floor (1 s timer wake-up + posix_spawn of chored-run + its exit on a "
	       "pidfd, nothing else): median %.3f ms CPU per cycle over %ld cycles\n",
	       floor_ms, cycles);
	if (daemon_ms > 0)
		printf("  daemon CPU per run (median batch) = %.2fx the floor, %.3f ms above it; "
		       "the floor is %.0f%% of the %.0f ms target\n",
		       daemon_ms / floor_ms, daemon_ms - floor_ms, 100 * floor_ms / CPU_PER_RUN_MS,
		       CPU_PER_RUN_MS);
}

int main(void)
{
	long firings = bh_env_long("CHORED_BENCH_FIRINGS", 200, 2);
	long floor_cycles = bh_env_long("CHORED_BENCH_FLOOR_CYCLES", 30, 3);
	char *dir = bh_tmpdir("firing");
	bh_write_main_conf(dir, "[job tick]\n"
	                        "plugin = testplug\n"
	                        "schedule = * * * * * *\n"
	                        "mode = ok\n");
	printf("firing bench: one job on '* * * * * *' (testplug mode=ok), %ld firings, about "
	       "%ld s (CHORED_BENCH_FIRINGS to change), then %ld s for the floor\n",
	       firings, firings + 5, floor_cycles);
	fflush(stdout);

	bh_print_machine();
	fflush(stdout);
	struct bh_daemon d;
	bh_start(&d, dir);
	double ready_s = bh_wait_ready(&d, 30);

	struct series spawn = {0}, start = {0};
	struct cpu_mark *marks = calloc((size_t)firings + 1, sizeof *marks);
	size_t n_marks = 0;
	if (!marks)
		return 1;
	int64_t deadline = bench_now_ns() + (firings + 60) * INT64_C(1000000000);
	const char *line;
	while ((spawn.n < (size_t)firings || start.n < (size_t)firings) &&
	       (line = bh_read_line(&d, deadline, NULL)) != NULL) {
		json_object *o = json_tokener_parse(line), *job, *v;
		if (!o)
			continue;
		if ((job = field(o, "job")) && strcmp(json_object_get_string(job), "tick") == 0) {
			int64_t nominal = nominal_of(o);
			if ((v = field(o, "spawn_lag_us")) != NULL) {
				size_t before = spawn.n;
				push(&spawn, nominal, json_object_get_double(v) / 1000.0);
				if (spawn.n > before && n_marks <= (size_t)firings)
					marks[n_marks++] = (struct cpu_mark){
					    bh_cpu_ns(d.pid), bh_cpu_ticks_ns(d.pid),
					    bh_ctxt_switches(d.pid, NULL)};
			}
			if ((v = field(o, "start_lag_us")) != NULL)
				push(&start, nominal, json_object_get_double(v) / 1000.0);
		}
		json_object_put(o);
	}
	int64_t total_cpu = bh_cpu_ns(d.pid);
	long rss = bh_status_kb(d.pid, "VmRSS:");
	int status = bh_stop(&d);

	printf("firing lag, chored ready after %.2f s, %zu firings logged with spawn_lag_us, "
	       "%zu with start_lag_us, %zu nominal gaps:\n",
	       ready_s, spawn.n, start.n, gaps(&spawn));
	if (spawn.n == 0 || start.n == 0) {
		printf("  MISSED: the log carried no %s field for job tick (is the runtime "
		       "built?)\n",
		       spawn.n == 0 ? "spawn_lag_us" : "start_lag_us");
		bh_rmtree(dir);
		free(dir);
		return 0;
	}
	if (spawn.n < (size_t)firings || start.n < (size_t)firings)
		printf("  MISSED: fewer firings than the %ld asked for within %ld s\n", firings,
		       firings + 60);
	report_lag("scheduling lag (slot -> runner released)  ", &spawn, SCHED_MEDIAN_MS,
	           SCHED_P99_MS);
	report_lag("start lag (slot -> plugin run() entered) ", &start, START_MEDIAN_MS,
	           START_P99_MS);
	report_runner_share(&spawn, &start);
	/* From the first firing to the last one logged (fewer than asked for when the machine
	 * was too slow to start every slot: overlapping slots are skipped). */
	const struct cpu_mark *m0 = &marks[0], *m1 = &marks[n_marks ? n_marks - 1 : 0];
	double batch_median = -1;
	if (n_marks >= 2 && m0->cpu_ns >= 0 && m1->cpu_ns >= 0) {
		size_t runs = n_marks - 1;
		double per = (double)(m1->cpu_ns - m0->cpu_ns) / 1e6 / (double)runs;
		double per_ticks = (double)(m1->tick_ns - m0->tick_ns) / 1e6 / (double)runs;
		printf("daemon CPU per run: %.3f ms over %zu runs (%.2fx the %.0f ms target%s); "
		       "from /proc stat ticks %.3f ms; whole life %.1f ms CPU; VmRSS %ld KiB\n",
		       per, runs, per / CPU_PER_RUN_MS, CPU_PER_RUN_MS,
		       bh_missed(per, CPU_PER_RUN_MS), per_ticks, (double)total_cpu / 1e6, rss);
		batch_median = report_batches(marks, n_marks);
	} else {
		printf("daemon CPU per run: MISSED (could not read /proc/%d)\n", (int)d.pid);
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		printf("note: chored did not exit 0 on SIGTERM (wait status %#x)\n", status);
	bh_rmtree(dir);
	report_floor(floor_cycles, batch_median);
	bh_print_machine(); /* the load during the run, next to the figures */
	free(spawn.ms), free(spawn.nominal), free(start.ms), free(start.nominal);
	free(marks);
	free(dir);
	return 0;
}

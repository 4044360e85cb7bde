/* Loading and validating 10,000 jobs (design §4 target: median <= 100 ms), in two layouts:
 * one conf.d file holding every job, and 100 drop-ins of 100 jobs each. Each job has
 * plugin, schedule, timezone and two plugin keys, as a real deployment would. */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench_util.h"
#include "config.h"

#define N_JOBS    10000
#define RUNS      11
#define TARGET_MS 100.0

static const char *const zones[] = {"UTC", "Europe/Paris", "America/New_York", "Asia/Tokyo",
                                    "Australia/Sydney"};
static const char *const schedules[] = {"0 3 * * *",  "*/15 * * * *", "0 8 * * MON-FRI",
                                        "30 2 1 * *", "0 0 L * *",    "@hourly",
                                        "0 9 * * 1#1"};

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st, (void)flag, (void)f;
	return remove(p);
}

static FILE *open_file(const char *dir, const char *rel)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", dir, rel);
	FILE *f = fopen(path, "w");
	if (!f) {
		perror(path);
		exit(1);
	}
	return f;
}

static void write_job(FILE *f, int i)
{
	fprintf(f,
	        "[job job-%05d]\n"
	        "plugin = exec\n"
	        "schedule = %s\n"
	        "timezone = %s\n"
	        "command = /usr/local/bin/task-%d --quiet\n"
	        "workdir = /srv/jobs/%d\n\n",
	        i, schedules[i % 7], zones[i % 5], i, i);
}

/* files = 1: all jobs in conf.d/50-jobs.conf; files = 100: conf.d/NNN-jobs.conf. */
static char *generate(int files)
{
	char *dir = strdup("/tmp/chored-bench-config.XXXXXX");
	if (!dir || !mkdtemp(dir)) {
		perror("mkdtemp");
		exit(1);
	}
	FILE *f = open_file(dir, "chored.conf");
	fprintf(f, "[daemon]\ntimezone = UTC\nhistory = 100\n");
	fclose(f);
	char sub[4096];
	snprintf(sub, sizeof sub, "%s/conf.d", dir);
	mkdir(sub, 0755);
	int per = N_JOBS / files;
	for (int k = 0; k < files; k++) {
		char rel[64];
		snprintf(rel, sizeof rel, "conf.d/%03d-jobs.conf", k);
		f = open_file(dir, rel);
		for (int i = k * per; i < (k + 1) * per; i++)
			write_job(f, i);
		fclose(f);
	}
	return dir;
}

static double run(int files)
{
	char *dir = generate(files);
	char path[4096];
	snprintf(path, sizeof path, "%s/chored.conf", dir);
	double ms[RUNS];
	for (int r = 0; r < RUNS; r++) {
		struct cfg *cfg;
		struct cfg_diag diag;
		int64_t t0 = bench_now_ns();
		int rc = cfg_load(path, &cfg, &diag);
		int64_t t1 = bench_now_ns();
		if (rc != 0 || cfg->n_jobs != N_JOBS) {
			fprintf(stderr, "bench_config: load failed (%zu errors)\n", diag.n_errors);
			for (size_t i = 0; i < diag.n_errors && i < 5; i++)
				fprintf(stderr, "  %s\n", diag.errors[i]);
			exit(1);
		}
		bench_sink((int64_t)cfg_find_job(cfg, "job-04242")->schedule.min);
		cfg_free(cfg);
		cfg_diag_free(&diag);
		ms[r] = (double)(t1 - t0) / 1e6;
	}
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(dir);
	return bench_median(ms, RUNS);
}

int main(void)
{
	static const int layouts[] = {1, 100};
	int worst = 0;
	for (size_t i = 0; i < 2; i++) {
		double med = run(layouts[i]);
		printf("config load, %d jobs in %3d file%s: median %.1f ms over %d runs (%.2fx "
		       "the %.0f ms target)\n",
		       N_JOBS, layouts[i], layouts[i] == 1 ? " " : "s", med, RUNS, med / TARGET_MS,
		       TARGET_MS);
		if (med > TARGET_MS)
			worst = 1;
	}
	(void)worst; /* a benchmark reports; it does not fail the build */
	return 0;
}

/* The daemon's Prometheus metrics (metrics.h): per-job counters, last run/success stamps
 * and duration histograms in a hash table keyed by job name, the firing lag histogram and
 * the reload counters, rendered in text format 0.0.4. */
#include "chored-build.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "metrics.h"
#include "strbuf.h"
#include "xalloc.h"

#define N_STATUS (RUN_INTERRUPTED + 1)

/* Upper bounds (le) of the histogram buckets, +Inf implied. Durations span a quick check
 * to a nightly backup; the firing lag should stay far below a second. */
static const double dur_le[] = {0.1, 0.5, 1, 5, 15, 60, 300, 900, 1800, 3600, 7200, 21600};
static const double lag_le[] = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30};
#define N_DUR (sizeof dur_le / sizeof dur_le[0])
#define N_LAG (sizeof lag_le / sizeof lag_le[0])

struct hist {
	uint64_t *bucket; /* per bucket, not cumulative; [n] counts the +Inf rest */
	uint64_t count;
	double sum;
};

struct mjob {
	char *name;
	uint64_t runs[N_STATUS];
	uint64_t missed;
	int64_t last_run_ms, last_success_ms; /* ended, UTC ms; 0 = none */
	bool seeded;
	uint64_t dur_bucket[N_DUR + 1];
	struct hist dur;
};

static struct {
	struct mjob **slot; /* open addressing, linear probing; size a power of two */
	size_t cap, n;
	uint64_t lag_bucket[N_LAG + 1];
	struct hist lag;
	uint64_t reloads_ok, reloads_failed;
	bool reload_failed_last;
} M;

static uint64_t hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static struct mjob *lookup(const char *name)
{
	if (!M.cap)
		return NULL;
	for (size_t i = hash(name) & (M.cap - 1);; i = (i + 1) & (M.cap - 1)) {
		if (!M.slot[i])
			return NULL;
		if (strcmp(M.slot[i]->name, name) == 0)
			return M.slot[i];
	}
}

static void put(struct mjob *j)
{
	size_t i = hash(j->name) & (M.cap - 1);
	while (M.slot[i])
		i = (i + 1) & (M.cap - 1);
	M.slot[i] = j;
}

static struct mjob *get(const char *name)
{
	struct mjob *j = lookup(name);
	if (j)
		return j;
	if (2 * (M.n + 1) > M.cap) {
		struct mjob **old = M.slot;
		size_t old_cap = M.cap;
		M.cap = M.cap ? 2 * M.cap : 64;
		M.slot = xcalloc(M.cap, sizeof *M.slot);
		for (size_t i = 0; i < old_cap; i++)
			if (old[i])
				put(old[i]);
		free(old);
	}
	j = xcalloc(1, sizeof *j);
	j->name = xstrdup(name);
	j->dur.bucket = j->dur_bucket;
	put(j);
	M.n++;
	return j;
}

static int64_t real_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void observe(struct hist *h, const double *le, size_t n, double v)
{
	size_t i = 0;
	while (i < n && v > le[i])
		i++;
	h->bucket[i]++;
	h->count++;
	h->sum += v;
}

void metrics_run_ended(const char *job, enum run_status status, double duration_s, double lag_s)
{
	struct mjob *j = get(job);
	if ((unsigned)status < N_STATUS)
		j->runs[status]++;
	int64_t now = real_ms();
	j->last_run_ms = now;
	if (status == RUN_OK || status == RUN_PARTIAL)
		j->last_success_ms = now;
	/* A skipped slot did not run: it has no duration. */
	if (status != RUN_SKIPPED)
		observe(&j->dur, dur_le, N_DUR, duration_s < 0 ? 0 : duration_s);
	if (lag_s >= 0) {
		M.lag.bucket = M.lag_bucket;
		observe(&M.lag, lag_le, N_LAG, lag_s);
	}
}

void metrics_missed(const char *job, unsigned n)
{
	get(job)->missed += n;
}

void metrics_reload(bool ok)
{
	if (ok)
		M.reloads_ok++;
	else
		M.reloads_failed++;
	M.reload_failed_last = !ok;
}

bool metrics_need_seed(const char *job)
{
	const struct mjob *j = lookup(job);
	return !j || !j->seeded;
}

void metrics_seed(const char *job, int64_t last_run_ms, int64_t last_success_ms)
{
	struct mjob *j = get(job);
	if (last_run_ms > j->last_run_ms)
		j->last_run_ms = last_run_ms;
	if (last_success_ms > j->last_success_ms)
		j->last_success_ms = last_success_ms;
	j->seeded = true;
}

void metrics_free(void)
{
	for (size_t i = 0; i < M.cap; i++)
		if (M.slot[i]) {
			free(M.slot[i]->name);
			free(M.slot[i]);
		}
	free(M.slot);
	memset(&M, 0, sizeof M);
}

/* ---- rendering ---- */

static void family(struct strbuf *out, const char *name, const char *type, const char *help)
{
	strbuf_appendf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value with \\, \" and \n escaped (exposition format). */
static void label_value(struct strbuf *out, const char *v)
{
	for (const char *p = v; *p; p++) {
		size_t n = strcspn(p, "\\\"\n");
		strbuf_appendn(out, p, n);
		p += n;
		if (!*p)
			break;
		strbuf_append(out, *p == '\\' ? "\\\\" : *p == '"' ? "\\\"" : "\\n");
	}
}

static void job_label(struct strbuf *out, const char *metric, const char *job)
{
	strbuf_appendf(out, "%s{job=\"", metric);
	label_value(out, job);
	strbuf_append(out, "\"");
}

static void seconds(struct strbuf *out, int64_t ms)
{
	strbuf_appendf(out, "%lld.%03d", (long long)(ms / 1000), (int)(ms % 1000));
}

/* One job's timestamp sample in seconds; nothing when ms is 0 (never happened). */
static void time_sample(struct strbuf *out, const char *metric, const char *job, int64_t ms)
{
	if (!ms)
		return;
	job_label(out, metric, job);
	strbuf_append(out, "} ");
	seconds(out, ms);
	strbuf_append(out, "\n");
}

/* The _bucket (cumulative), _sum and _count lines of one histogram; `job` NULL = unlabelled. */
static void hist_lines(struct strbuf *out, const char *name, const char *job, const struct hist *h,
                       const double *le, size_t n)
{
	uint64_t cum = 0;
	for (size_t i = 0; i <= n; i++) {
		cum += h->bucket ? h->bucket[i] : 0;
		strbuf_appendf(out, "%s_bucket{", name);
		if (job) {
			strbuf_append(out, "job=\"");
			label_value(out, job);
			strbuf_append(out, "\",");
		}
		if (i < n)
			strbuf_appendf(out, "le=\"%g\"} %llu\n", le[i], (unsigned long long)cum);
		else
			strbuf_appendf(out, "le=\"+Inf\"} %llu\n", (unsigned long long)cum);
	}
	for (int k = 0; k < 2; k++) {
		strbuf_appendf(out, "%s_%s", name, k ? "count" : "sum");
		if (job) {
			strbuf_append(out, "{job=\"");
			label_value(out, job);
			strbuf_append(out, "\"}");
		}
		if (k)
			strbuf_appendf(out, " %llu\n", (unsigned long long)h->count);
		else
			strbuf_appendf(out, " %.9g\n", h->sum);
	}
}

void metrics_render(struct strbuf *out, const struct metrics_job *jobs, size_t n)
{
	/* Each job's record, found once: every family below walks them in the same order. */
	struct mjob **mj = xcalloc(n ? n : 1, sizeof *mj);
	for (size_t i = 0; i < n; i++)
		mj[i] = get(jobs[i].name);

	family(out, "chored_build_info", "gauge", "Version of the running chored.");
	strbuf_append(out, "chored_build_info{version=\"");
	label_value(out, PACKAGE_VERSION);
	strbuf_append(out, "\"} 1\n");

	family(out, "chored_job_runs_total", "counter",
	       "Runs recorded since chored started, by final status (skipped slots included).");
	for (size_t i = 0; i < n; i++)
		for (unsigned s = RUN_OK; s < N_STATUS; s++) {
			/* ok and failed always, so rate() and alerts see a series from the start.
			 */
			if (!mj[i]->runs[s] && s != RUN_OK && s != RUN_FAILED)
				continue;
			job_label(out, "chored_job_runs_total", jobs[i].name);
			strbuf_appendf(out, ",status=\"%s\"} %llu\n", run_status_name(s),
			               (unsigned long long)mj[i]->runs[s]);
		}

	family(out, "chored_job_last_run_timestamp_seconds", "gauge",
	       "When the job's latest run ended (Unix time); absent when it never ran.");
	for (size_t i = 0; i < n; i++)
		time_sample(out, "chored_job_last_run_timestamp_seconds", jobs[i].name,
		            mj[i]->last_run_ms);

	family(out, "chored_job_last_success_timestamp_seconds", "gauge",
	       "When the job's latest ok or partial run ended (Unix time); absent when none did.");
	for (size_t i = 0; i < n; i++)
		time_sample(out, "chored_job_last_success_timestamp_seconds", jobs[i].name,
		            mj[i]->last_success_ms);

	family(out, "chored_job_next_run_timestamp_seconds", "gauge",
	       "The job's next scheduled slot (Unix time); absent when it has none.");
	for (size_t i = 0; i < n; i++)
		if (jobs[i].next) {
			job_label(out, "chored_job_next_run_timestamp_seconds", jobs[i].name);
			strbuf_appendf(out, "} %lld\n", (long long)jobs[i].next);
		}

	family(out, "chored_job_running", "gauge", "1 while a run of the job is in flight.");
	for (size_t i = 0; i < n; i++) {
		job_label(out, "chored_job_running", jobs[i].name);
		strbuf_appendf(out, "} %d\n", jobs[i].running ? 1 : 0);
	}

	family(out, "chored_job_duration_seconds", "histogram",
	       "Duration of the job's runs since chored started; jobs without a run are left out.");
	for (size_t i = 0; i < n; i++)
		if (mj[i]->dur.count)
			hist_lines(out, "chored_job_duration_seconds", jobs[i].name, &mj[i]->dur,
			           dur_le, N_DUR);

	family(out, "chored_firing_lag_seconds", "histogram",
	       "Delay from a scheduled slot's instant to its run being let go.");
	hist_lines(out, "chored_firing_lag_seconds", NULL, &M.lag, lag_le, N_LAG);

	family(out, "chored_job_missed_total", "counter",
	       "Scheduled slots of the job that passed without a run since chored started.");
	for (size_t i = 0; i < n; i++) {
		job_label(out, "chored_job_missed_total", jobs[i].name);
		strbuf_appendf(out, "} %llu\n", (unsigned long long)mj[i]->missed);
	}

	family(out, "chored_reloads_total", "counter",
	       "Configuration reloads since chored started, by result.");
	strbuf_appendf(out, "chored_reloads_total{result=\"ok\"} %llu\n",
	               (unsigned long long)M.reloads_ok);
	strbuf_appendf(out, "chored_reloads_total{result=\"failed\"} %llu\n",
	               (unsigned long long)M.reloads_failed);

	family(out, "chored_config_last_reload_successful", "gauge",
	       "1 when the latest configuration load (start or reload) was accepted.");
	strbuf_appendf(out, "chored_config_last_reload_successful %d\n",
	               M.reload_failed_last ? 0 : 1);
	free(mj);
}

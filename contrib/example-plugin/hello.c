/* hello: the smallest useful chored plugin, built out of tree with pkg-config only.
 *
 *   make && sudo make install
 *
 * and a job:
 *
 *   [job greet]
 *   plugin = hello
 *   schedule = @daily
 *   who = team
 */
#include <chored/plugin.h>

static const struct chored_option options[] = {
    {"who", CHORED_OPT_STRING, 0, "world", "whom to greet"},
    {"times", CHORED_OPT_INT, 0, "1", "how many greetings, 1 to 10"},
    {0},
};

/* Validates one job's options: no I/O, just values. */
static int check(struct chored_job *job)
{
	long long n = (long long)chored_job_opt_int(job, "times");
	if (n < 1 || n > 10) {
		chored_job_error(job, "times", "%lld is not between 1 and 10", n);
		return -1;
	}
	return 0;
}

static enum chored_status run(struct chored_job *job)
{
	const char *who = chored_job_opt(job, "who");
	long long n = (long long)chored_job_opt_int(job, "times");
	for (long long i = 1; i <= n && !chored_job_cancelled(job); i++) {
		chored_log_kv(job, CHORED_LOG_INFO, "hello", "who", who, NULL);
		chored_progress(job, (uint64_t)i, (uint64_t)n);
	}
	chored_counter_add(job, "greetings", n);
	chored_summary(job, "greeted %s %lld time%s", who, n, n == 1 ? "" : "s");
	return CHORED_OK;
}

CHORED_EXPORT const struct chored_plugin chored_plugin_v1 = {
    CHORED_PLUGIN_HEADER, .name = "hello",
    .version = "1.0",     .summary = "greets someone (example plugin)",
    .options = options,   .check = check,
    .run = run,
};

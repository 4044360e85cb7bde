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
 *
 * `chorectl hello greeting [JOB]` prints what a job's runs say, from its configuration.
 */
#include <stdio.h>

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

/* chorectl hello greeting [JOB]: a subcommand reads a configured job, no daemon needed. */
static int cmd_greeting(int argc, char **argv)
{
	char err[256];
	if (argc > 2 || (argc == 2 && argv[1][0] == '-')) {
		fprintf(stderr, "usage: chorectl hello greeting [JOB]\n");
		return 64; /* EX_USAGE */
	}
	struct chored_job *job = chored_command_job(argc == 2 ? argv[1] : NULL, err, sizeof err);
	if (!job) {
		fprintf(stderr, "chorectl hello greeting: %s\n", err);
		return 65; /* EX_DATAERR */
	}
	long long n = (long long)chored_job_opt_int(job, "times");
	printf("hello, %s (%lld time%s)\n", chored_job_opt(job, "who"), n, n == 1 ? "" : "s");
	return 0;
}

static const struct chored_command commands[] = {
    {"greeting", "[JOB]", "print what the job's runs say", cmd_greeting},
    {0},
};

CHORED_EXPORT const struct chored_plugin chored_plugin_v1 = {
    CHORED_PLUGIN_HEADER, .name = "hello",
    .version = "1.0",     .summary = "greets someone (example plugin)",
    .options = options,   .commands = commands,
    .check = check,       .run = run,
};

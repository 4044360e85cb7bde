/* ABI fixture plugins for tests/unit/test_plugins.c and tests/integration/chorectl_plugins.sh.
 * One source, built once per variant with -D flags:
 *   FIX_NAME="x"      the descriptor's name (default "good")
 *   FIX_ABI_MAJOR / FIX_ABI_MINOR / FIX_SIZE   override the three version fields
 *   FIX_NO_SYMBOL     export no chored_plugin_v1
 *   FIX_NO_RUN        leave run unset
 *   FIX_BAD_DEFAULT   a duration option whose default does not parse
 *   FIX_DUP_KEY       two options with the same key
 * "good" has one option of every type, a check() that refuses count > 100 or retries > 5
 * (and one that quotes the secret token, which the host must redact) and two subcommands. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <chored/plugin.h>

#ifndef FIX_NAME
#define FIX_NAME "good"
#endif
#ifndef FIX_ABI_MAJOR
#define FIX_ABI_MAJOR CHORED_ABI_MAJOR
#endif
#ifndef FIX_ABI_MINOR
#define FIX_ABI_MINOR CHORED_ABI_MINOR
#endif
#ifndef FIX_SIZE
#define FIX_SIZE sizeof(struct chored_plugin)
#endif

static const struct chored_option options[] = {
    {"greeting", CHORED_OPT_STRING, 0, "hello", "what to say"},
    {"count", CHORED_OPT_INT, 0, "3", "how many times, at most 100"},
    {"verbose", CHORED_OPT_BOOL, 0, "no", "say more"},
    {"interval", CHORED_OPT_DURATION, 0, "15m", "how often"},
    {"max_size", CHORED_OPT_SIZE, 0, "64M", "largest reply"},
    {"endpoint", CHORED_OPT_URL, CHORED_OPT_REQUIRED, NULL, "where to send it"},
    {"root", CHORED_OPT_PATH, 0, NULL, "working directory"},
    {"tags", CHORED_OPT_LIST, 0, NULL, "labels"},
    {"token", CHORED_OPT_STRING, CHORED_OPT_SECRET, NULL, "API token"},
    /* Also chored's own job keys: the job's values are forwarded. */
    {"timeout", CHORED_OPT_DURATION, 0, "30s", "limit for one attempt"},
    {"retries", CHORED_OPT_INT, 0, "0", "attempts after the first, at most 5"},
#ifdef FIX_BAD_DEFAULT
    {"pause", CHORED_OPT_DURATION, 0, "soon", "a default that is no duration"},
#endif
#ifdef FIX_DUP_KEY
    {"count", CHORED_OPT_INT, 0, NULL, "the same key twice"},
#endif
    {NULL, 0, 0, NULL, NULL},
};

static int check(struct chored_job *job)
{
	if (chored_job_opt_int(job, "count") > 100) {
		chored_job_error(job, "count", "at most 100, got %lld",
		                 (long long)chored_job_opt_int(job, "count"));
		return -1;
	}
	if (chored_job_opt_int(job, "retries") > 5) {
		chored_job_error(job, "retries", "at most 5, got %lld",
		                 (long long)chored_job_opt_int(job, "retries"));
		return -1;
	}
	const char *tags = chored_job_opt(job, "tags");
	if (tags && strstr(tags, "leak")) {
		const char *token = chored_job_opt(job, "token");
		chored_job_error(job, "tags", "token %s rejected", token ? token : "(none)");
		return -1;
	}
	if (tags && strstr(tags, "nokey")) {
		chored_job_error(job, NULL, "tags and greeting do not go together");
		return -1;
	}
	return 0;
}

__attribute__((unused)) /* not referenced by the FIX_NO_RUN variant */
static enum chored_status
run(struct chored_job *job)
{
	chored_summary(job, "%s", chored_job_opt(job, "greeting"));
	return CHORED_OK;
}

static int cmd_hello(int argc, char **argv)
{
	printf("hello from %s:%s", FIX_NAME, argv[0]);
	for (int i = 1; i < argc; i++)
		printf(" %s", argv[i]);
	putchar('\n');
	return 0;
}

/* Exits with the status given as its argument. */
static int cmd_status(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s N\n", argv[0]);
		return 64;
	}
	return atoi(argv[1]);
}

/* A configured job as chored_command_job gives it: name, an option, a state key; the
 * token is logged so that the test sees chorectl redact it. */
static int cmd_job(int argc, char **argv)
{
	char err[256];
	struct chored_job *job = chored_command_job(argc > 1 ? argv[1] : NULL, err, sizeof err);
	if (!job) {
		fprintf(stderr, "good job: %s\n", err);
		return 65;
	}
	const char *tok = chored_job_opt(job, "token"), *k = chored_state_get(job, "k");
	if (tok)
		chored_log(job, CHORED_LOG_INFO, "token is %s", tok);
	printf("%s greeting=%s k=%s\n", chored_job_name(job), chored_job_opt(job, "greeting"),
	       k ? k : "-");
	return 0;
}

static const struct chored_command commands[] = {
    {"hello", "[WORDS…]", "print a greeting with the arguments", cmd_hello},
    {"status", "N", "exit with status N", cmd_status},
    {"job", "[JOB]", "print a configured job as its runs see it", cmd_job},
    {NULL, NULL, NULL, NULL},
};

#ifndef FIX_NO_SYMBOL
CHORED_EXPORT const struct chored_plugin chored_plugin_v1 = {
    /* What CHORED_PLUGIN_HEADER sets, overridable per variant. */
    .abi_major = FIX_ABI_MAJOR,
    .abi_minor = FIX_ABI_MINOR,
    .size = (uint32_t)(FIX_SIZE),
    .name = FIX_NAME,
    .version = "1.2.3",
    .summary = "ABI fixture plugin",
    .options = options,
    .commands = commands,
    .check = check,
#ifndef FIX_NO_RUN
    .run = run,
#endif
};
#else
/* Something exported, so the file is a valid shared object without the descriptor. */
CHORED_EXPORT const struct chored_plugin *chored_plugin_v2_not_this(void);
CHORED_EXPORT const struct chored_plugin *chored_plugin_v2_not_this(void)
{
	(void)options;
	(void)commands;
	(void)check;
	(void)run;
	return NULL;
}
#endif

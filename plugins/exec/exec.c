/* exec: runs one command per run, without a shell unless `shell = yes` (chored-exec(7)).
 * The child's stdout and stderr are the runner's, so the daemon logs them; its environment
 * is built from scratch and never holds a secret. */
#include <ctype.h>
#include <errno.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "chored-build.h"
#include <chored/plugin.h>

#include "words.h"

#define DEFAULT_PATH "/usr/local/bin:/usr/bin:/bin"

static const struct chored_option options[] = {
    {"command", CHORED_OPT_STRING, CHORED_OPT_REQUIRED, NULL,
     "the command line: words split like sh does, run without a shell"},
    {"shell", CHORED_OPT_BOOL, 0, "no", "run command with /bin/sh -c instead"},
    {"env", CHORED_OPT_LIST, 0, NULL, "NAME=value words added to the environment"},
    {"cwd", CHORED_OPT_PATH, 0, NULL, "working directory (default /)"},
    {"partial_exit_codes", CHORED_OPT_LIST, 0, NULL, "exit statuses that mean partial success"},
    {NULL, 0, 0, NULL, NULL},
};

/* The running child, for cancel (called from the runner's signal handler). */
static volatile pid_t child_pid;

static bool valid_env_name(const char *s, size_t len)
{
	if (len == 0 || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
		return false;
	for (size_t i = 1; i < len; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '_'))
			return false;
	return true;
}

/* Parses one exit status 0..255; -1 when it is not one. */
static int parse_code(const char *s)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 0 || v > 255)
		return -1;
	return (int)v;
}

static int check(struct chored_job *job)
{
	const char *cmd = chored_job_opt(job, "command");
	if (!cmd) {
		chored_job_error(job, "command", "is required");
		return -1;
	}
	char **w = words_split_opt(job, "command");
	if (!w)
		return -1;
	size_t n = words_count(w);
	words_free(w);
	if (n == 0) {
		chored_job_error(job, "command", "is empty");
		return -1;
	}
	if (!(w = words_split_opt(job, "env")))
		return -1;
	for (char **e = w; *e; e++) {
		const char *eq = strchr(*e, '=');
		if (!eq || !valid_env_name(*e, (size_t)(eq - *e))) {
			chored_job_error(job, "env", "'%s' is not NAME=value", *e);
			words_free(w);
			return -1;
		}
	}
	words_free(w);
	if (!(w = words_split_opt(job, "partial_exit_codes")))
		return -1;
	for (char **c = w; *c; c++) {
		if (parse_code(*c) <= 0) {
			chored_job_error(job, "partial_exit_codes",
			                 "'%s' is not an exit status from 1 to 255", *c);
			words_free(w);
			return -1;
		}
	}
	words_free(w);
	return 0;
}

/* Appends "NAME=value" (new string) to env; false when out of memory. */
static bool env_add(char ***env, size_t *n, const char *name, const char *value)
{
	char *s;
	if (asprintf(&s, "%s=%s", name, value) < 0)
		return false;
	/* A later entry for the same name replaces the earlier one. */
	size_t nl = strlen(name) + 1;
	for (size_t i = 0; i < *n; i++) {
		if (strncmp((*env)[i], s, nl) == 0) {
			free((*env)[i]);
			(*env)[i] = s;
			return true;
		}
	}
	char **ne = realloc(*env, (*n + 2) * sizeof **env);
	if (!ne) {
		free(s);
		return false;
	}
	ne[(*n)++] = s;
	ne[*n] = NULL;
	*env = ne;
	return true;
}

/* The child's environment: a minimal base, the run's identity, then the job's `env`.
 * New array of new strings (free with words_free), or NULL. */
static char **build_env(struct chored_job *job)
{
	size_t n = 0;
	char **env = calloc(1, sizeof *env);
	if (!env)
		return NULL;
	const char *path = getenv("PATH");
	bool ok = env_add(&env, &n, "PATH", path && *path ? path : DEFAULT_PATH);
	struct passwd *pw = getpwuid(geteuid());
	if (pw) {
		ok = ok && env_add(&env, &n, "HOME", pw->pw_dir) &&
		     env_add(&env, &n, "USER", pw->pw_name) &&
		     env_add(&env, &n, "LOGNAME", pw->pw_name);
	}
	static const char *const pass[] = {"LANG", "LC_ALL", "TZ"};
	for (size_t i = 0; i < sizeof pass / sizeof *pass; i++)
		if (getenv(pass[i]))
			ok = ok && env_add(&env, &n, pass[i], getenv(pass[i]));
	char num[32];
	snprintf(num, sizeof num, "%lld", (long long)chored_job_nominal_time(job));
	ok = ok && env_add(&env, &n, "CHORED_JOB", chored_job_name(job)) &&
	     env_add(&env, &n, "CHORED_RUN_ID", chored_job_run_id(job)) &&
	     env_add(&env, &n, "CHORED_NOMINAL_TIME", num);
	char err[160];
	const char *ev = chored_job_opt(job, "env");
	char **extra = words_split(ev ? ev : "", err, sizeof err);
	for (char **e = extra; ok && e && *e; e++) {
		char *eq = strchr(*e, '=');
		if (!eq)
			continue; /* check() refused it already */
		*eq = '\0';
		ok = env_add(&env, &n, *e, eq + 1);
	}
	words_free(extra);
	if (!ok) {
		words_free(env);
		return NULL;
	}
	return env;
}

/* The outcome of a child's wait status: its status and summary. */
static enum chored_status report(struct chored_job *job, int st)
{
	if (WIFSIGNALED(st)) {
		const char *abbrev = sigabbrev_np(WTERMSIG(st));
		if (abbrev)
			chored_summary(job, "killed by SIG%s", abbrev);
		else
			chored_summary(job, "killed by signal %d", WTERMSIG(st));
		return CHORED_FAILED;
	}
	int code = WEXITSTATUS(st);
	chored_summary(job, "exited with status %d", code);
	if (code == 0)
		return CHORED_OK;
	char err[160];
	const char *pc = chored_job_opt(job, "partial_exit_codes");
	char **codes = words_split(pc ? pc : "", err, sizeof err);
	bool partial = false;
	for (char **c = codes; c && *c; c++)
		if (parse_code(*c) == code)
			partial = true;
	words_free(codes);
	return partial ? CHORED_PARTIAL : CHORED_FAILED;
}

static enum chored_status run(struct chored_job *job)
{
	char **argv;
	if (chored_job_opt_bool(job, "shell")) {
		argv = calloc(4, sizeof *argv);
		if (argv && (!(argv[0] = strdup("/bin/sh")) || !(argv[1] = strdup("-c")) ||
		             !(argv[2] = strdup(chored_job_opt(job, "command"))))) {
			words_free(argv);
			argv = NULL;
		}
	} else {
		char err[160];
		argv = words_split(chored_job_opt(job, "command"), err, sizeof err);
		if (!argv) {
			chored_summary(job, "command: %s", err);
			return CHORED_FAILED;
		}
	}
	if (!argv || !argv[0]) {
		words_free(argv);
		chored_summary(job, "command: empty or out of memory");
		return CHORED_FAILED;
	}
	if (chored_job_dry_run(job)) {
		chored_log(job, CHORED_LOG_NOTICE, "dry run: would run %s", argv[0]);
		chored_summary(job, "dry run: %s not started", argv[0]);
		words_free(argv);
		return CHORED_OK;
	}
	char **env = build_env(job);
	/* posix_spawnp searches the caller's PATH: make it the child's (this process serves
	 * one run only). */
	for (char **e = env; e && *e; e++)
		if (strncmp(*e, "PATH=", 5) == 0)
			setenv("PATH", *e + 5, 1);
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	const char *cwd = chored_job_opt(job, "cwd");
	posix_spawn_file_actions_addchdir_np(&fa, cwd ? cwd : "/");
	pid_t pid = 0;
	int err = env ? posix_spawnp(&pid, argv[0], &fa, NULL, argv, env) : ENOMEM;
	posix_spawn_file_actions_destroy(&fa);
	words_free(env);
	if (err) {
		if (cwd)
			chored_summary(job, "cannot run %s in %s: %s", argv[0], cwd, strerror(err));
		else
			chored_summary(job, "cannot run %s: %s", argv[0], strerror(err));
		words_free(argv);
		return CHORED_FAILED;
	}
	child_pid = pid;
	chored_log(job, CHORED_LOG_INFO, "started %s (pid %ld)", argv[0], (long)pid);
	words_free(argv);
	int st;
	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR) {
			chored_summary(job, "waitpid: %s", strerror(errno));
			return CHORED_FAILED;
		}
	}
	child_pid = 0;
	return report(job, st);
}

/* Signal context: only kill(2). chored also signals the whole process group. */
static void cancel(struct chored_job *job)
{
	(void)job;
	pid_t pid = child_pid;
	if (pid > 0)
		kill(pid, SIGTERM);
}

CHORED_EXPORT const struct chored_plugin chored_plugin_v1 = {
    CHORED_PLUGIN_HEADER,
    .name = "exec",
    .version = PACKAGE_VERSION,
    .summary = "run a command, without a shell unless asked",
    .options = options,
    .check = check,
    .run = run,
    .cancel = cancel,
};

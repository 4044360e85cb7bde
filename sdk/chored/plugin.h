/* chored plugin ABI, version 1 (chored-plugin(7)).
 *
 * A plugin is a shared object named NAME.so in the plugin directory that exports one data
 * symbol, `chored_plugin_v1`, a `const struct chored_plugin`. Its first three fields are
 * checked before anything else is read: the host refuses a plugin whose abi_major differs
 * from CHORED_ABI_MAJOR or whose abi_minor is greater than the host's.
 *
 * Compatibility: within one major, members are only ever appended to the end of
 * struct chored_plugin (the host reads `size` to know which exist) and new functions are
 * only added to libchored. Changelog: 1.0 — first version. */
#ifndef CHORED_PLUGIN_H
#define CHORED_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#include <chored/job.h>
#include <chored/version.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CHORED_EXPORT __attribute__((visibility("default")))

/* Option value types; the host validates values before a plugin sees them. */
enum chored_opt_type {
	CHORED_OPT_STRING,   /* any text */
	CHORED_OPT_INT,      /* decimal integer (int64) */
	CHORED_OPT_BOOL,     /* yes/no, true/false, on/off, 1/0 */
	CHORED_OPT_DURATION, /* 90s, 15m, 2h, 3d, 2w (seconds) */
	CHORED_OPT_SIZE,     /* 512K, 64M, 1G (bytes) */
	CHORED_OPT_URL,      /* scheme://… */
	CHORED_OPT_PATH,     /* absolute path */
	CHORED_OPT_LIST,     /* blank-separated words */
};

#define CHORED_OPT_REQUIRED 0x1u /* the job must set it */
#define CHORED_OPT_SECRET                                                                          \
	0x2u /* only a ${secret:}/${file:}/${credential:} reference; never logged */
#define CHORED_OPT_JOB                                                                             \
	0x4u /* names another job whose state this job may read (chored_state_peer) */

/* One key of the plugin's option schema (Fluent Bit's config_map: validation and help). */
struct chored_option {
	const char *key;
	enum chored_opt_type type;
	unsigned flags;   /* CHORED_OPT_* */
	const char *def;  /* default as it would be written in the config, or NULL */
	const char *help; /* one line */
};

/* A `chorectl PLUGIN NAME ARGS…` subcommand, run in the chorectl process (no daemon
 * needed). argv[0] is NAME. Returns a sysexits.h status. */
struct chored_command {
	const char *name;
	const char *usage; /* e.g. "[--json] JOB" */
	const char *help;  /* one line */
	int (*fn)(int argc, char **argv);
};

/* In a subcommand: job `name` of the configuration chorectl read (NULL: the only job that
 * uses this plugin) as its runs see it — options with defaults and secrets resolved, the
 * state its runs persisted (read from the daemon's store; empty before the first run), the
 * real clock, not a dry run. Its log records go to stderr. Owned by chorectl: valid until
 * the subcommand returns. NULL with the reason in err (no such job, a job of another
 * plugin, several candidates when name is NULL, an unreadable store). */
struct chored_job *chored_command_job(const char *name, char *err, size_t errlen);

struct chored_plugin {
	/* Checked first, before any other member is touched. */
	uint32_t abi_major;
	uint32_t abi_minor;
	uint32_t size; /* sizeof(struct chored_plugin) when the plugin was built */

	const char *name;                      /* must equal the file's basename without ".so" */
	const char *version;                   /* the plugin's own version */
	const char *summary;                   /* one line for `chorectl plugins` */
	const struct chored_option *options;   /* terminated by an entry with key == NULL */
	const struct chored_command *commands; /* terminated by name == NULL; may be NULL */

	/* Validates one job's options beyond the schema types (ranges, combinations).
	 * No side effects: no I/O, no network. On error, returns -1 and sets a message with
	 * chored_job_error(). Called by chored on load and reload; may be NULL. */
	int (*check)(struct chored_job *job);
	/* Performs one run; may block. Returns the run's status. Called once per process. */
	enum chored_status (*run)(struct chored_job *job);
	/* Asks a run in progress to stop soon (timeout or shutdown). Called from a signal-safe
	 * context in the runner: only set a flag. May be NULL: the runner is then ended. */
	void (*cancel)(struct chored_job *job);
	/* ABI 1.1+: append new members here only. */
};

/* Fills the three version fields: `CHORED_PLUGIN_HEADER, .name = "exec", …`. */
#define CHORED_PLUGIN_HEADER                                                                       \
	.abi_major = CHORED_ABI_MAJOR, .abi_minor = CHORED_ABI_MINOR,                              \
	.size = (uint32_t)sizeof(struct chored_plugin)

#ifdef __cplusplus
}
#endif

#endif

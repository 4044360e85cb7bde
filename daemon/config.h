/* Configuration (design §4): chored.conf, then conf.d/NAME.conf in byte order; INI sections
 * [daemon], [job NAME], [notify NAME], [secrets]; later files override earlier ones key by
 * key. cfg_load either returns a complete, validated configuration or changes nothing and
 * reports every error as "FILE:LINE: [SECTION] KEY: what was expected". */
#ifndef CHORED_CONFIG_H
#define CHORED_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cron.h"
#include "tz.h"

/* Where a value was set. `file` points into cfg->files (or the diag's), never freed alone. */
struct cfg_origin {
	const char *file;
	unsigned line;
};

/* A resolved key = value as written (references expanded). */
struct cfg_kv {
	char *key;
	char *value;         /* owned; may hold a secret */
	bool from_reference; /* value came (at least partly) from
	                        ${secret:}/${file:}/${env:}/${credential:} */
	bool secret;         /* value includes a ${secret:}, ${file:} or ${credential:} expansion */
	bool only_reference; /* the raw value is exactly one ${secret:}, ${file:} or
	                      * ${credential:} reference: what a key marked secret requires */
	char **secret_parts; /* owned: each secret text expanded into `value`, so that a run can
	                      * redact the secret itself, not only the whole value */
	size_t n_secret_parts;
	struct cfg_origin origin;
};

enum cfg_overlap { CFG_OVERLAP_SKIP, CFG_OVERLAP_QUEUE, CFG_OVERLAP_REPLACE };
enum cfg_catchup { CFG_CATCHUP_NONE, CFG_CATCHUP_LATEST, CFG_CATCHUP_ALL };
enum cfg_policy {
	CFG_POLICY_ALWAYS,
	CFG_POLICY_ON_FAILURE,
	CFG_POLICY_ON_CHANGE,
	CFG_POLICY_NEVER
};
enum cfg_sink_type {
	CFG_SINK_OUTBOX,
	CFG_SINK_SMTP,
	CFG_SINK_RESEND,
	CFG_SINK_WEBHOOK,
	CFG_SINK_NOTION,
};

struct cfg_notify_ref {
	char *sink; /* name of a [notify NAME] section */
	enum cfg_policy policy;
};

struct cfg_sink {
	char *name;
	enum cfg_sink_type type;
	struct cfg_kv *keys; /* every key but `type`, checked against the type's key set */
	size_t n_keys;
	struct cfg_origin origin;
};

struct cfg_daemon {
	char *state;      /* URL, default sqlite://LOCALSTATEDIR/lib/chored/state.db */
	char *plugin_dir; /* default PKGLIBDIR */
	char *timezone;   /* default "UTC" */
	const struct tz *tz;
	char *listen;      /* "" = off; default 127.0.0.1:8470 */
	char *socket;      /* default RUNSTATEDIR/chored/chored.sock */
	char *admin_token; /* secret; NULL when unset */
	struct cfg_notify_ref *notify;
	size_t n_notify;
	unsigned history;       /* runs kept per job, default 100 */
	char *display_timezone; /* NULL when unset */
	const struct tz *display_tz;
};

struct cfg_job {
	char *name;
	struct cfg_origin origin; /* where [job NAME] first appeared */
	char *plugin;
	struct cfg_origin plugin_origin; /* where `plugin` was set (last file wins) */
	char *schedule_text;
	struct cron schedule;
	char *timezone; /* job's own or the daemon's */
	const struct tz *tz;
	bool enabled;
	int64_t timeout; /* seconds, 0 = none */
	enum cfg_overlap overlap;
	enum cfg_catchup catchup;
	unsigned catchup_max;   /* 0 = unlimited */
	int64_t catchup_within; /* seconds, 0 = unlimited */
	int64_t jitter;         /* seconds */
	unsigned retries;
	int64_t retry_delay;           /* seconds */
	uint64_t memory_limit;         /* bytes, 0 = none */
	int64_t cpu_limit;             /* seconds, 0 = none */
	char *user;                    /* NULL = the daemon's user */
	struct cfg_notify_ref *notify; /* job's own list, or a copy of [daemon] notify */
	size_t n_notify;
	char *description;
	struct cfg_kv *options; /* plugin keys, checked later against the plugin's schema */
	size_t n_options;
};

struct cfg {
	char *main_path;
	char **files; /* every file read, in order (main first) */
	size_t n_files;
	struct cfg_daemon daemon;
	struct cfg_job *jobs; /* in order of first appearance */
	size_t n_jobs;
	struct cfg_sink *sinks;
	size_t n_sinks;
	struct cfg_kv *secrets;
	size_t n_secrets;
	void *index; /* private: job name lookup */
};

/* Outcome of a load: the files read (also on failure) and every error message. */
struct cfg_diag {
	char **files;
	size_t n_files;
	char **errors; /* "FILE:LINE: [SECTION] KEY: message" */
	size_t n_errors;
};

/* The compiled-in main config path (SYSCONFDIR/chored/chored.conf). */
const char *cfg_default_path(void);

/* The state directory of a [daemon] state URL: the directory of a sqlite:// file, else
 * LOCALSTATEDIR/lib/chored. New string (free it). */
char *cfg_state_dir(const char *state_url);

/* Loads main_path (NULL = default) and its conf.d/. Returns 0 and a new cfg, or -1 with
 * every error in diag. diag is always filled; free it with cfg_diag_free. */
int cfg_load(const char *main_path, struct cfg **out, struct cfg_diag *diag);
void cfg_free(struct cfg *cfg);
void cfg_diag_free(struct cfg_diag *diag);

const struct cfg_job *cfg_find_job(const struct cfg *cfg, const char *name);
/* A plugin name: a-z 0-9 _ - (also the plugin file's basename). */
bool cfg_plugin_name_valid(const char *name);

/* Secret value by name, or NULL. */
const char *cfg_secret(const struct cfg *cfg, const char *name);

#endif

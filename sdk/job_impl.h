/* The inside of struct chored_job, shared by the libchored sources (sdk/job.c: identity,
 * options, state; sdk/job_log.c: records and redaction). Not installed. */
#ifndef CHORED_JOB_IMPL_H
#define CHORED_JOB_IMPL_H

#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>

#include "job_private.h"

/* One owned key and value (value may be NULL in the state map: deleted). */
struct job_kv {
	char *key;
	char *value;
};

/* A growable array of owned strings or pairs. */
struct job_kvs {
	struct job_kv *v;
	size_t n, cap;
};

struct chored_job {
	char *name;                         /* owned */
	const struct chored_plugin *plugin; /* borrowed: outlives the job */
	struct job_kvs opts;                /* options as set by the host */
	char **secrets;                     /* owned, longest first */
	size_t n_secrets;
	struct job_kvs state;
	char **retired; /* owned strings already handed out, freed with the job */
	size_t n_retired;
	char *run_id; /* owned, "" during check */
	int64_t nominal;
	int64_t at;
	bool has_at;
	bool dry_run;
	chored__emit_fn emit; /* NULL: records are dropped (check time) */
	void *emit_data;
	volatile sig_atomic_t cancelled;
	char *err_msg;             /* owned, redacted */
	char *err_key;             /* owned */
	char *summary;             /* owned, redacted */
	struct job_notify *notify; /* owned by sdk/notify_host.c: this run's sinks (NULL: none) */
	struct json_object *peers; /* owned: {"job": {"key": "value"}} of CHORED_OPT_JOB options */
	char *state_dir;           /* owned; NULL: LOCALSTATEDIR/lib/chored */
	/* sdk/http.c: one libcurl easy handle (CURL *, owned) reused by the job's requests, so
	 * they share its connections (keep-alive), DNS cache and TLS sessions; http_busy while a
	 * request uses it (a request on another thread, or nested in a callback, gets a handle
	 * of its own). */
	void *http_curl;
	atomic_bool http_busy;
};

struct json_object;

/* Frees the run's notification context (sdk/notify_host.c); NULL is fine. */
struct job_notify;
void job_notify_free(struct job_notify *n);

/* Closes the job's reused libcurl handle and its connections (sdk/http.c). */
void job_http_free(struct chored_job *job);

/* Keeps `s` (owned) alive until the job is freed. */
void job_retire(struct chored_job *job, char *s);

#endif

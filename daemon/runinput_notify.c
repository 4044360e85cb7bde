/* The notification part of a runner's input (runproto.h): the job's sinks with resolved
 * keys, the previous run's status for on-change, and the state directory for the outbox
 * default. Sink secrets join the input's "redact" list, so the runner and the daemon
 * redact them from every log line of the run. */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "runinput_notify.h"
#include "xalloc.h"

#ifndef LOCALSTATEDIR
#define LOCALSTATEDIR "/var"
#endif

/* Runs looked at, newest first, for the previous result (skipped and dry runs are not). */
#define PREVIOUS_LOOKBACK 50

static const char *policy_name(enum cfg_policy p)
{
	switch (p) {
	case CFG_POLICY_ALWAYS:
		return "always";
	case CFG_POLICY_ON_CHANGE:
		return "on-change";
	case CFG_POLICY_NEVER:
		return "never";
	default:
		return "on-failure";
	}
}

static const char *type_name(enum cfg_sink_type t)
{
	switch (t) {
	case CFG_SINK_OUTBOX:
		return "outbox";
	case CFG_SINK_SMTP:
		return "smtp";
	case CFG_SINK_RESEND:
		return "resend";
	case CFG_SINK_WEBHOOK:
		return "webhook";
	default:
		return "notion";
	}
}

static const struct cfg_sink *find_sink(const struct cfg *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->n_sinks; i++)
		if (strcmp(cfg->sinks[i].name, name) == 0)
			return &cfg->sinks[i];
	return NULL;
}

static bool secret_key(const char *k)
{
	return strcmp(k, "password") == 0 || strcmp(k, "api_key") == 0 || strcmp(k, "token") == 0;
}

/* The redact array of `in`, created when absent. Borrowed. */
static struct json_object *redact_list(struct json_object *in)
{
	struct json_object *red;
	if (json_object_object_get_ex(in, "redact", &red) &&
	    json_object_is_type(red, json_type_array))
		return red;
	red = json_object_new_array();
	json_object_object_add(in, "redact", red);
	return red;
}

/* The status of the newest run of `job` before `run_id` that really ran and ended, or NULL. */
static struct json_object *previous_status(struct state *st, const char *job, int64_t run_id)
{
	struct state_run *runs;
	ssize_t n = state_runs_list(st, job, PREVIOUS_LOOKBACK, run_id, &runs);
	struct json_object *out = NULL;
	for (ssize_t i = 0; i < n && !out; i++)
		if (run_status_final(runs[i].status) && runs[i].status != RUN_SKIPPED &&
		    !runs[i].dry_run)
			out = json_object_new_string(run_status_name(runs[i].status));
	if (n > 0)
		state_runs_free(runs, (size_t)n);
	return out;
}

void runinput_add_notify(struct json_object *in, const struct cfg *cfg, const struct cfg_job *job,
                         struct state *st, int64_t run_id)
{
	struct json_object *arr = json_object_new_array();
	bool on_change = false;
	for (size_t i = 0; i < job->n_notify; i++) {
		const struct cfg_notify_ref *ref = &job->notify[i];
		const struct cfg_sink *s = find_sink(cfg, ref->sink);
		if (!s)
			continue; /* cfg_load refuses an undefined sink: never happens */
		on_change |= ref->policy == CFG_POLICY_ON_CHANGE;
		struct json_object *e = json_object_new_object(), *keys = json_object_new_object();
		json_object_object_add(e, "name", json_object_new_string(s->name));
		json_object_object_add(e, "type", json_object_new_string(type_name(s->type)));
		json_object_object_add(e, "policy",
		                       json_object_new_string(policy_name(ref->policy)));
		for (size_t k = 0; k < s->n_keys; k++) {
			const struct cfg_kv *kv = &s->keys[k];
			json_object_object_add(keys, kv->key, json_object_new_string(kv->value));
			if (secret_key(kv->key) && *kv->value)
				json_object_array_add(redact_list(in),
				                      json_object_new_string(kv->value));
			for (size_t p = 0; p < kv->n_secret_parts; p++)
				json_object_array_add(redact_list(in),
				                      json_object_new_string(kv->secret_parts[p]));
		}
		json_object_object_add(e, "keys", keys);
		json_object_array_add(arr, e);
	}
	json_object_object_add(in, "notify", arr);
	/* Only on-change needs the previous result: no store query for the other jobs. */
	json_object_object_add(in, "previous_status",
	                       on_change && st ? previous_status(st, job->name, run_id) : NULL);
	char *dir = cfg_state_dir(cfg->daemon.state);
	json_object_object_add(in, "state_dir", json_object_new_string(dir));
	free(dir);
}

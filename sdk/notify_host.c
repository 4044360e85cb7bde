/* Runner-side notification: the run's sinks from the input document
 * (runproto.h), a bounded copy of the run's warning and error lines, and the
 * default report delivered after run() when the plugin sent none itself. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "chored/notify.h"
#include "job_impl.h"
#include "notify_impl.h"

#ifndef LOCALSTATEDIR
#define LOCALSTATEDIR "/var"
#endif

void job_notify_free(struct job_notify *n)
{
	if (!n)
		return;
	json_object_put(n->doc_notify);
	free(n->sinks);
	free(n->previous_status);
	free(n->status_word);
	free(n->state_dir);
	free(n->log);
	free(n);
}

/* Keeps "level: message" of warning and error records (already redacted by
 * job_log.c), at most NOTIFY_LOG_MAX_LINES lines and NOTIFY_LOG_MAX_BYTES
 * bytes, then hands the record on. */
static void capture(void *data, struct json_object *rec)
{
	struct job_notify *n = data;
	struct json_object *t, *lv, *msg;
	if (json_object_object_get_ex(rec, "t", &t) &&
	    strcmp(json_object_get_string(t), "log") == 0 &&
	    json_object_object_get_ex(rec, "level", &lv) && json_object_get_int(lv) <= 4 &&
	    json_object_object_get_ex(rec, "msg", &msg)) {
		const char *m = json_object_get_string(msg);
		const char *lvl = json_object_get_int(lv) <= 3 ? "error" : "warning";
		size_t need = strlen(lvl) + 2 + strlen(m) + 1;
		if (n->log_lines >= NOTIFY_LOG_MAX_LINES ||
		    n->log_len + need > NOTIFY_LOG_MAX_BYTES) {
			n->log_dropped++;
		} else {
			if (!n->log) {
				n->log = malloc(NOTIFY_LOG_MAX_BYTES + 1);
				if (!n->log)
					abort();
			}
			n->log_len += (size_t)snprintf(n->log + n->log_len,
			                               NOTIFY_LOG_MAX_BYTES + 1 - n->log_len,
			                               "%s: %s\n", lvl, m);
			n->log_lines++;
		}
	}
	if (n->inner_emit)
		n->inner_emit(n->inner_data, rec);
}

static const char *str_member(struct json_object *o, const char *key)
{
	struct json_object *v;
	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static bool known_policy(const char *p)
{
	return strcmp(p, "always") == 0 || strcmp(p, "on-failure") == 0 ||
	       strcmp(p, "on-change") == 0 || strcmp(p, "never") == 0;
}

/* Sink credentials are redacted in every record of the run, whoever writes
 * them. */
static void redact_secrets(struct chored_job *job, struct json_object *keys)
{
	static const char *const secret_keys[] = {"password", "api_key", "token"};
	for (size_t i = 0; i < sizeof secret_keys / sizeof *secret_keys; i++) {
		const char *v = str_member(keys, secret_keys[i]);
		if (v && *v)
			chored__job_add_redaction(job, v);
	}
}

void chored__notify_setup(struct chored_job *job, struct json_object *doc)
{
	struct job_notify *old = job->notify;
	if (old) { /* set up again: unwrap the emit function before dropping its data */
		chored__job_set_emit(job, old->inner_emit, old->inner_data);
		job_notify_free(old);
		job->notify = NULL;
	}
	struct json_object *arr;
	if (!doc || !json_object_object_get_ex(doc, "notify", &arr) ||
	    !json_object_is_type(arr, json_type_array) || json_object_array_length(arr) == 0)
		return; /* no sinks: nothing to keep, no log capture */
	size_t len = json_object_array_length(arr);
	struct job_notify *n = calloc(1, sizeof *n);
	if (!n || !(n->sinks = calloc(len, sizeof *n->sinks)))
		abort();
	n->doc_notify = json_object_get(arr);
	job->notify = n;
	for (size_t i = 0; i < len; i++) {
		struct json_object *e = json_object_array_get_idx(arr, i), *keys = NULL;
		const char *name = str_member(e, "name"), *type = str_member(e, "type"),
		           *policy = str_member(e, "policy");
		if (e && json_object_object_get_ex(e, "keys", &keys) &&
		    !json_object_is_type(keys, json_type_object))
			keys = NULL;
		if (!name || !type) {
			chored_log(job, CHORED_LOG_WARNING,
			           "notify: input entry %zu has no name or type; ignored", i);
			continue;
		}
		if (!policy || !known_policy(policy)) {
			chored_log(
			    job, CHORED_LOG_WARNING,
			    "notify %s: policy \"%s\" is not always, on-failure, on-change or "
			    "never; on-failure applies",
			    name, policy ? policy : "");
			policy = "on-failure";
		}
		if (keys)
			redact_secrets(job, keys);
		n->sinks[n->n_sinks++] = (struct notify_sink){name, type, policy, keys};
	}
	const char *prev = str_member(doc, "previous_status");
	const char *dir = str_member(doc, "state_dir");
	n->previous_status = prev ? strdup(prev) : NULL;
	n->state_dir = strdup(dir && *dir ? dir : LOCALSTATEDIR "/lib/chored");
	if ((prev && !n->previous_status) || !n->state_dir)
		abort();
	n->inner_emit = job->emit;
	n->inner_data = job->emit_data;
	chored__job_set_emit(job, capture, n);
}

void chored__notify_set_status_word(struct chored_job *job, const char *word)
{
	struct job_notify *n = job->notify;
	if (!n)
		return;
	free(n->status_word);
	n->status_word = word ? strdup(word) : NULL;
	if (word && !n->status_word)
		abort();
}

void chored__notify_after_run(struct chored_job *job, enum chored_status status)
{
	struct job_notify *n = job->notify;
	if (!n || n->notified)
		return;
	const char *st = notify_status_name(status);
	bool wanted = false;
	for (size_t i = 0; i < n->n_sinks && !wanted; i++)
		wanted = notify_policy_wants(n->sinks[i].policy, st, n->previous_status);
	if (!wanted)
		return; /* no report is built for nobody */
	char *title = NULL;
	if (asprintf(&title, "%s: %s", chored_job_name(job), st) < 0)
		abort();
	struct chored_report *r = chored_report_new(title);
	free(title);
	chored_report_set_status(r, status);
	const char *summary = chored__job_summary(job);
	if (*summary)
		chored_report_paragraph(r, "%s", summary);
	if (n->log_len) {
		chored_report_heading(r, 2, "Warnings and errors");
		chored_report_code(r, NULL, n->log);
		if (n->log_dropped)
			chored_report_paragraph(r, "%u more in the run's log.", n->log_dropped);
	}
	chored_notify(job, r);
	chored_report_free(r);
}

/* Loading a job from a runner input document (daemon/runproto.h): shared by chored-run
 * (a run) and chorectl (a plugin subcommand's chored_command_job). */
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "job_impl.h"
#include "job_private.h"

static const char *get_str(struct json_object *doc, const char *key)
{
	struct json_object *v;
	if (!json_object_object_get_ex(doc, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

void chored__job_load_redactions(struct chored_job *job, struct json_object *doc)
{
	struct json_object *arr;
	if (!json_object_object_get_ex(doc, "redact", &arr) ||
	    !json_object_is_type(arr, json_type_array))
		return;
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		struct json_object *s = json_object_array_get_idx(arr, i);
		if (json_object_is_type(s, json_type_string))
			chored__job_add_redaction(job, json_object_get_string(s));
	}
}

void chored__job_load_input(struct chored_job *job, struct json_object *doc)
{
	chored__job_load_redactions(job, doc);
	struct json_object *o, *v;
	if (json_object_object_get_ex(doc, "options", &o) &&
	    json_object_is_type(o, json_type_object)) {
		json_object_object_foreach(o, key, val) chored__job_set_opt(
		    job, key,
		    json_object_is_type(val, json_type_null) ? "" : json_object_get_string(val));
	}
	if (json_object_object_get_ex(doc, "state", &o) &&
	    json_object_is_type(o, json_type_object)) {
		json_object_object_foreach(o, key, val) chored__job_set_state(
		    job, key,
		    json_object_is_type(val, json_type_null) ? NULL : json_object_get_string(val));
	}
	int64_t nominal =
	    json_object_object_get_ex(doc, "nominal", &v) ? json_object_get_int64(v) : 0;
	bool dry_run = json_object_object_get_ex(doc, "dry_run", &v) && json_object_get_boolean(v);
	bool has_at =
	    json_object_object_get_ex(doc, "at", &v) && !json_object_is_type(v, json_type_null);
	int64_t at = has_at ? json_object_get_int64(v) : 0;
	const char *run_id = get_str(doc, "run_id");
	chored__job_set_run(job, run_id ? run_id : "", nominal, dry_run, has_at, at);
	chored__notify_setup(job, doc);
	const char *dir = get_str(doc, "state_dir");
	if (dir && *dir) {
		free(job->state_dir);
		if (!(job->state_dir = strdup(dir)))
			abort();
	}
	if (json_object_object_get_ex(doc, "peers", &o) &&
	    json_object_is_type(o, json_type_object)) {
		json_object_put(job->peers);
		job->peers = json_object_get(o);
	}
}

const char *chored_state_peer(struct chored_job *job, const char *peer, const char *key)
{
	struct json_object *st, *v;
	if (!job->peers || !peer || !key || !json_object_object_get_ex(job->peers, peer, &st) ||
	    !json_object_object_get_ex(st, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

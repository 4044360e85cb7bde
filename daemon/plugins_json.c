/* JSON views of the registry: the per-job input document for chored-run and the
 * description of a plugin for chorectl and the API. */
#include "plugins.h"

#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "plugins_value.h"

static struct json_object *str_or_null(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

static void add_redaction(struct json_object *arr, const char *value)
{
	if (!*value)
		return;
	for (size_t i = 0; i < json_object_array_length(arr); i++)
		if (strcmp(json_object_get_string(json_object_array_get_idx(arr, i)), value) == 0)
			return;
	json_object_array_add(arr, json_object_new_string(value));
}

struct json_object *plugin_job_input(const struct plugin_set *set, const struct cfg_job *job)
{
	const struct plugin *p = job->plugin ? plugin_find(set, job->plugin) : NULL;
	if (!p)
		return NULL;
	const struct chored_plugin *d = p->desc;
	struct json_object *opts = json_object_new_object(), *redact = json_object_new_array();
	for (size_t i = 0; i < job->n_options; i++) {
		const struct cfg_kv *kv = &job->options[i];
		const struct chored_option *o = plugin_option(d, kv->key);
		bool secret_key = o && (o->flags & CHORED_OPT_SECRET);
		if (secret_key && !*kv->value)
			continue; /* empty = unset */
		json_object_object_add(opts, kv->key, json_object_new_string(kv->value));
		if (secret_key || kv->secret)
			add_redaction(redact, kv->value);
		/* The secret inside a longer value ("X-Key: ${secret:k}"), on its own too. */
		for (size_t k = 0; k < kv->n_secret_parts; k++)
			add_redaction(redact, kv->secret_parts[k]);
	}
	struct plugin_forward fw[PLUGIN_FORWARD_MAX];
	size_t n_fw = plugin_forwarded(job, d, fw);
	for (size_t i = 0; i < n_fw; i++)
		json_object_object_add(opts, fw[i].key, json_object_new_string(fw[i].value));
	for (const struct chored_option *o = d->options; o && o->key; o++)
		if (o->def && !json_object_object_get_ex(opts, o->key, NULL))
			json_object_object_add(opts, o->key, json_object_new_string(o->def));
	struct json_object *j = json_object_new_object();
	json_object_object_add(j, "plugin", json_object_new_string(p->path));
	json_object_object_add(j, "job", json_object_new_string(job->name));
	json_object_object_add(j, "options", opts);
	json_object_object_add(j, "redact", redact);
	return j;
}

struct json_object *plugin_json(const struct plugin *p)
{
	const struct chored_plugin *d = p->desc;
	struct json_object *j = json_object_new_object();
	json_object_object_add(j, "name", json_object_new_string(p->name));
	json_object_object_add(j, "version", str_or_null(d ? d->version : NULL));
	json_object_object_add(j, "summary", str_or_null(d ? d->summary : NULL));
	json_object_object_add(j, "path", json_object_new_string(p->path));
	if (d) {
		char abi[32];
		snprintf(abi, sizeof abi, "%u.%u", (unsigned)d->abi_major, (unsigned)d->abi_minor);
		json_object_object_add(j, "abi", json_object_new_string(abi));
	} else {
		json_object_object_add(j, "abi", NULL);
		json_object_object_add(j, "error", json_object_new_string(p->error));
	}
	struct json_object *opts = json_object_new_array(), *cmds = json_object_new_array();
	for (const struct chored_option *o = d ? d->options : NULL; o && o->key; o++) {
		struct json_object *x = json_object_new_object();
		json_object_object_add(x, "key", json_object_new_string(o->key));
		json_object_object_add(x, "type",
		                       json_object_new_string(plugin_opt_type_name(o->type)));
		json_object_object_add(x, "required",
		                       json_object_new_boolean(o->flags & CHORED_OPT_REQUIRED));
		json_object_object_add(x, "secret",
		                       json_object_new_boolean(o->flags & CHORED_OPT_SECRET));
		json_object_object_add(x, "default", str_or_null(o->def));
		json_object_object_add(x, "help", str_or_null(o->help));
		json_object_array_add(opts, x);
	}
	for (const struct chored_command *c = d ? d->commands : NULL; c && c->name; c++) {
		struct json_object *x = json_object_new_object();
		json_object_object_add(x, "name", json_object_new_string(c->name));
		json_object_object_add(x, "usage",
		                       json_object_new_string(c->usage ? c->usage : ""));
		json_object_object_add(x, "help", str_or_null(c->help));
		json_object_array_add(cmds, x);
	}
	json_object_object_add(j, "options", opts);
	json_object_object_add(j, "commands", cmds);
	return j;
}

/* Job options against their plugin (design §4, §7): the schema first (known key, type,
 * required, secrets only by reference), then the plugin's own check(). Errors use the
 * config format and never quote a value that is, or came from, a secret. */
#include "plugins.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "job_private.h"
#include "plugins_value.h"
#include "strbuf.h"
#include "xalloc.h"

struct perr {
	char *text;
	size_t file; /* index in cfg->files, for the order of the report */
	unsigned line;
	size_t seq;
};

struct perrs {
	const struct cfg *cfg;
	struct perr *v;
	size_t n;
};

static size_t file_index(const struct cfg *cfg, const char *file)
{
	for (size_t i = 0; i < cfg->n_files; i++)
		if (cfg->files[i] == file || strcmp(cfg->files[i], file) == 0)
			return i;
	return cfg->n_files;
}

/* Adds "FILE:LINE: [job NAME] KEY: message" (no " KEY" when key is NULL). */
static void job_error(struct perrs *E, const struct cfg_job *job, const struct cfg_origin *at,
                      const char *key, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void job_error(struct perrs *E, const struct cfg_job *job, const struct cfg_origin *at,
                      const char *key, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_append(&sb, at->file ? at->file : "?");
	if (at->line)
		strbuf_appendf(&sb, ":%u", at->line);
	strbuf_appendf(&sb, ": [job %s]", job->name);
	if (key)
		strbuf_appendf(&sb, " %s", key);
	strbuf_append(&sb, ": ");
	va_list ap;
	va_start(ap, fmt);
	strbuf_vappendf(&sb, fmt, ap);
	va_end(ap);
	E->v = xrealloc(E->v, (E->n + 1) * sizeof *E->v);
	E->v[E->n] = (struct perr){strbuf_detach(&sb), at->file ? file_index(E->cfg, at->file) : 0,
	                           at->line, E->n};
	E->n++;
}

/* Levenshtein distance, capped: enough to suggest a key for a typo. */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 64 || lb > 64)
		return 99;
	size_t row[65];
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t best = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

static void unknown_key(struct perrs *E, const struct cfg_job *job, const struct cfg_kv *kv,
                        const struct chored_plugin *d)
{
	const char *best = NULL;
	size_t best_d = 3;
	struct strbuf keys = STRBUF_INIT;
	for (const struct chored_option *o = d->options; o && o->key; o++) {
		size_t dist = edit_distance(kv->key, o->key);
		if (dist < best_d && dist < strlen(o->key)) {
			best = o->key;
			best_d = dist;
		}
		strbuf_appendf(&keys, "%s%s", keys.len ? ", " : "", o->key);
	}
	if (!keys.len)
		job_error(E, job, &kv->origin, kv->key, "unknown key: plugin '%s' takes no options",
		          d->name);
	else if (best)
		job_error(E, job, &kv->origin, kv->key,
		          "unknown key for plugin '%s'; did you mean '%s'?", d->name, best);
	else
		job_error(E, job, &kv->origin, kv->key,
		          "unknown key for plugin '%s'; valid keys: %s", d->name,
		          strbuf_str(&keys));
	strbuf_free(&keys);
}

/* A SECRET key left empty counts as unset, as for chored's own secret keys. */
static bool unset_secret(const struct chored_option *o, const struct cfg_kv *kv)
{
	return (o->flags & CHORED_OPT_SECRET) && !*kv->value;
}

/* Schema checks of one job; true when clean. */
static bool check_schema(struct perrs *E, const struct cfg_job *job, const struct chored_plugin *d)
{
	size_t before = E->n;
	for (size_t i = 0; i < job->n_options; i++) {
		const struct cfg_kv *kv = &job->options[i];
		const struct chored_option *o = plugin_option(d, kv->key);
		if (!o) {
			unknown_key(E, job, kv, d);
			continue;
		}
		if (unset_secret(o, kv))
			continue;
		if ((o->flags & CHORED_OPT_SECRET) && !kv->only_reference) {
			if (!kv->from_reference)
				job_error(
				    E, job, &kv->origin, kv->key,
				    "must be a reference such as ${secret:NAME}, never a literal");
			else if (!kv->secret)
				job_error(
				    E, job, &kv->origin, kv->key,
				    "must be a ${secret:}, ${file:} or ${credential:} reference; "
				    "${env:} is not for secrets");
			else
				job_error(
				    E, job, &kv->origin, kv->key,
				    "must be exactly one ${secret:}, ${file:} or ${credential:} "
				    "reference, with no text around it");
			continue;
		}
		if ((o->flags & CHORED_OPT_REQUIRED) && !*kv->value) {
			job_error(E, job, &kv->origin, kv->key,
			          "must not be empty (required by plugin '%s')", d->name);
			continue;
		}
		const char *expected;
		if (plugin_value_valid(o->type, kv->value, &expected))
			continue;
		if (kv->secret || kv->from_reference || (o->flags & CHORED_OPT_SECRET))
			job_error(
			    E, job, &kv->origin, kv->key,
			    "the value (from a reference, not shown) is not valid; expected %s",
			    expected);
		else if (strlen(kv->value) > 80)
			job_error(E, job, &kv->origin, kv->key,
			          "'%.80s…' is not valid; expected %s", kv->value, expected);
		else
			job_error(E, job, &kv->origin, kv->key, "'%s' is not valid; expected %s",
			          kv->value, expected);
	}
	struct plugin_forward fw[PLUGIN_FORWARD_MAX];
	size_t n_fw = plugin_forwarded(job, d, fw);
	for (size_t i = 0; i < n_fw; i++) {
		const char *expected;
		if (!plugin_value_valid(plugin_option(d, fw[i].key)->type, fw[i].value, &expected))
			job_error(E, job, &job->origin, fw[i].key,
			          "'%s' is not valid for plugin '%s'; expected %s", fw[i].value,
			          d->name, expected);
	}
	for (const struct chored_option *o = d->options; o && o->key; o++) {
		if (!(o->flags & CHORED_OPT_REQUIRED))
			continue;
		bool set = false;
		for (size_t i = 0; i < job->n_options && !set; i++)
			set = strcmp(job->options[i].key, o->key) == 0 &&
			      !unset_secret(o, &job->options[i]);
		for (size_t i = 0; i < n_fw && !set; i++)
			set = strcmp(fw[i].key, o->key) == 0;
		if (!set)
			job_error(E, job, &job->origin, o->key, "required by plugin '%s' (%s)",
			          d->name, plugin_opt_type_name(o->type));
	}
	return E->n == before;
}

/* The plugin's own check(), with the options it would run with. */
static void check_plugin(struct perrs *E, const struct cfg_job *job, const struct chored_plugin *d)
{
	if (!d->check)
		return;
	struct chored_job *cj = chored__job_new(job->name, d);
	for (size_t i = 0; i < job->n_options; i++) {
		const struct cfg_kv *kv = &job->options[i];
		const struct chored_option *o = plugin_option(d, kv->key);
		if (unset_secret(o, kv))
			continue;
		chored__job_set_opt(cj, kv->key, kv->value);
		if (kv->secret || (o->flags & CHORED_OPT_SECRET))
			chored__job_add_redaction(cj, kv->value);
		for (size_t k = 0; k < kv->n_secret_parts; k++)
			chored__job_add_redaction(cj, kv->secret_parts[k]);
	}
	struct plugin_forward fw[PLUGIN_FORWARD_MAX];
	size_t n_fw = plugin_forwarded(job, d, fw);
	for (size_t i = 0; i < n_fw; i++)
		chored__job_set_opt(cj, fw[i].key, fw[i].value);
	if (d->check(cj) != 0) {
		const char *msg = chored__job_error_message(cj), *key = chored__job_error_key(cj);
		const struct cfg_origin *at = &job->origin;
		for (size_t i = 0; key && i < job->n_options; i++)
			if (strcmp(job->options[i].key, key) == 0)
				at = &job->options[i].origin;
		char *safe = msg ? chored__job_redact(cj, msg) : NULL;
		job_error(E, job, at, key, "%s",
		          safe ? safe : "refused by the plugin's check (no reason given)");
		free(safe);
	}
	chored__job_free(cj);
}

static int perr_order(const void *a, const void *b)
{
	const struct perr *x = a, *y = b;
	if (x->file != y->file)
		return x->file < y->file ? -1 : 1;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return (x->seq > y->seq) - (x->seq < y->seq);
}

/* Options flagged CHORED_OPT_JOB must name a job of the configuration; true when clean. */
static bool check_job_refs(struct perrs *E, const struct cfg *cfg, const struct cfg_job *job,
                           const struct chored_plugin *d)
{
	size_t before = E->n;
	for (size_t i = 0; i < job->n_options; i++) {
		const struct cfg_kv *kv = &job->options[i];
		const struct chored_option *o = plugin_option(d, kv->key);
		if (o && (o->flags & CHORED_OPT_JOB) && *kv->value && !cfg_find_job(cfg, kv->value))
			job_error(E, job, &kv->origin, kv->key, "no job '%s' in the configuration",
			          kv->value);
	}
	return E->n == before;
}

size_t plugin_validate_config(const struct plugin_set *set, const struct cfg *cfg,
                              struct cfg_diag *diag)
{
	struct perrs E = {.cfg = cfg};
	for (size_t j = 0; j < cfg->n_jobs; j++) {
		const struct cfg_job *job = &cfg->jobs[j];
		if (!job->enabled || !job->plugin)
			continue;
		const struct plugin *p = plugin_lookup(set, job->plugin);
		/* cfg_job keeps no origin for its plugin key: the [job NAME] line stands in. */
		if (!p)
			job_error(&E, job, &job->plugin_origin, "plugin", "no plugin '%s' in %s",
			          job->plugin, set && set->dir ? set->dir : "the plugin directory");
		else if (!p->desc)
			job_error(&E, job, &job->plugin_origin, "plugin",
			          "plugin '%s' was refused: %s", job->plugin, p->error);
		else if (check_schema(&E, job, p->desc) && check_job_refs(&E, cfg, job, p->desc))
			check_plugin(&E, job, p->desc);
	}
	if (E.n)
		qsort(E.v, E.n, sizeof *E.v, perr_order);
	diag->errors = xrealloc(diag->errors, (diag->n_errors + E.n + 1) * sizeof *diag->errors);
	for (size_t i = 0; i < E.n; i++)
		diag->errors[diag->n_errors++] = E.v[i].text;
	free(E.v);
	return E.n;
}

size_t plugin_check_config(const struct cfg *cfg, struct cfg_diag *diag, bool quiet)
{
	const char *dir = cfg->daemon.plugin_dir;
	struct stat st;
	if (stat(dir, &st) != 0 && errno == ENOENT) {
		if (!quiet)
			fprintf(stderr, "plugins not checked: %s does not exist\n", dir);
		return 0;
	}
	struct plugin_set *set;
	char err[512];
	if (plugin_set_load(dir, &set, err, sizeof err) != 0) {
		diag->errors = xrealloc(diag->errors, (diag->n_errors + 1) * sizeof *diag->errors);
		diag->errors[diag->n_errors++] = xstrdup(err);
		return 1;
	}
	size_t n = plugin_validate_config(set, cfg, diag);
	plugin_set_free(set);
	return n;
}

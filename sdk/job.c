/* libchored job object: identity, options with schema defaults and typed getters, state,
 * cancellation and check errors. Records and redaction are in sdk/job_log.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "job_impl.h"
#include "units.h"

static void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		abort(); /* out of memory in a one-run process: nothing sensible left to do */
	return q;
}

static char *xstrdup(const char *s)
{
	char *d = strdup(s);
	if (!d)
		abort();
	return d;
}

static struct job_kv *kvs_find(const struct job_kvs *kvs, const char *key)
{
	for (size_t i = 0; i < kvs->n; i++)
		if (strcmp(kvs->v[i].key, key) == 0)
			return &kvs->v[i];
	return NULL;
}

static struct job_kv *kvs_add(struct job_kvs *kvs, const char *key)
{
	if (kvs->n == kvs->cap) {
		kvs->cap = kvs->cap ? 2 * kvs->cap : 8;
		kvs->v = xrealloc(kvs->v, kvs->cap * sizeof *kvs->v);
	}
	struct job_kv *kv = &kvs->v[kvs->n++];
	kv->key = xstrdup(key);
	kv->value = NULL;
	return kv;
}

static void kvs_free(struct job_kvs *kvs)
{
	for (size_t i = 0; i < kvs->n; i++) {
		free(kvs->v[i].key);
		free(kvs->v[i].value);
	}
	free(kvs->v);
}

void job_retire(struct chored_job *job, char *s)
{
	if (!s)
		return;
	job->retired = xrealloc(job->retired, (job->n_retired + 1) * sizeof *job->retired);
	job->retired[job->n_retired++] = s;
}

struct chored_job *chored__job_new(const char *name, const struct chored_plugin *plugin)
{
	struct chored_job *job = calloc(1, sizeof *job);
	if (!job)
		abort();
	job->name = xstrdup(name ? name : "");
	job->plugin = plugin;
	job->run_id = xstrdup("");
	return job;
}

void chored__job_free(struct chored_job *job)
{
	if (!job)
		return;
	job_http_free(job);
	free(job->name);
	kvs_free(&job->opts);
	kvs_free(&job->state);
	for (size_t i = 0; i < job->n_secrets; i++)
		free(job->secrets[i]);
	free(job->secrets);
	for (size_t i = 0; i < job->n_retired; i++)
		free(job->retired[i]);
	free(job->retired);
	free(job->run_id);
	free(job->err_msg);
	free(job->err_key);
	free(job->summary);
	job_notify_free(job->notify);
	json_object_put(job->peers);
	free(job->state_dir);
	free(job);
}

/* The schema entry for `key`, or NULL (unknown key or no schema). */
static const struct chored_option *schema_find(const struct chored_job *job, const char *key)
{
	if (!job->plugin || !job->plugin->options)
		return NULL;
	for (const struct chored_option *o = job->plugin->options; o->key; o++)
		if (strcmp(o->key, key) == 0)
			return o;
	return NULL;
}

void chored__job_set_opt(struct chored_job *job, const char *key, const char *value)
{
	struct job_kv *kv = kvs_find(&job->opts, key);
	if (!kv)
		kv = kvs_add(&job->opts, key);
	job_retire(job, kv->value); /* a getter may have handed it out */
	kv->value = xstrdup(value ? value : "");
	const struct chored_option *o = schema_find(job, key);
	if (o && (o->flags & CHORED_OPT_SECRET))
		chored__job_add_redaction(job, kv->value);
}

void chored__job_add_redaction(struct chored_job *job, const char *secret_value)
{
	if (!secret_value || !*secret_value)
		return; /* an empty secret would match everywhere */
	size_t len = strlen(secret_value);
	for (size_t i = 0; i < job->n_secrets; i++)
		if (strcmp(job->secrets[i], secret_value) == 0)
			return;
	job->secrets = xrealloc(job->secrets, (job->n_secrets + 1) * sizeof *job->secrets);
	/* Keep longest first so a secret that contains another is matched whole. */
	size_t at = 0;
	while (at < job->n_secrets && strlen(job->secrets[at]) >= len)
		at++;
	memmove(job->secrets + at + 1, job->secrets + at,
	        (job->n_secrets - at) * sizeof *job->secrets);
	job->secrets[at] = xstrdup(secret_value);
	job->n_secrets++;
}

void chored__job_set_run(struct chored_job *job, const char *run_id, int64_t nominal, bool dry_run,
                         bool has_at, int64_t at)
{
	free(job->run_id);
	job->run_id = xstrdup(run_id ? run_id : "");
	job->nominal = nominal;
	job->dry_run = dry_run;
	job->has_at = has_at;
	job->at = at;
}

void chored__job_set_state(struct chored_job *job, const char *key, const char *value)
{
	struct job_kv *kv = kvs_find(&job->state, key);
	if (!kv)
		kv = kvs_add(&job->state, key);
	job_retire(job, kv->value);
	kv->value = value ? xstrdup(value) : NULL;
}

void chored__job_cancel(struct chored_job *job)
{
	job->cancelled = 1;
}

const char *chored__job_error_message(const struct chored_job *job)
{
	return job->err_msg;
}

const char *chored__job_error_key(const struct chored_job *job)
{
	return job->err_key;
}

const char *chored__job_summary(const struct chored_job *job)
{
	return job->summary ? job->summary : "";
}

const char *chored_job_name(const struct chored_job *job)
{
	return job->name;
}

const char *chored_job_run_id(const struct chored_job *job)
{
	return job->run_id;
}

int64_t chored_job_nominal_time(const struct chored_job *job)
{
	return job->nominal;
}

int64_t chored_job_now(const struct chored_job *job)
{
	if (job->has_at)
		return job->at;
	/* The one clock read of the SDK: plugins call this instead of time(). */
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec;
}

const char *chored_job_state_dir(const struct chored_job *job)
{
	return job->state_dir ? job->state_dir : LOCALSTATEDIR "/lib/chored";
}

bool chored_job_dry_run(const struct chored_job *job)
{
	return job->dry_run;
}

bool chored_job_cancelled(const struct chored_job *job)
{
	return job->cancelled != 0;
}

const char *chored_job_opt(const struct chored_job *job, const char *key)
{
	const struct job_kv *kv = kvs_find(&job->opts, key);
	if (kv)
		return kv->value;
	const struct chored_option *o = schema_find(job, key);
	return o ? o->def : NULL;
}

/* Plain decimal integer, optionally signed; false on anything else or overflow. */
static bool parse_int(const char *s, int64_t *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || end == s || *end)
		return false;
	*out = v;
	return true;
}

int64_t chored_job_opt_int(const struct chored_job *job, const char *key)
{
	const char *v = chored_job_opt(job, key);
	if (!v)
		return 0;
	int64_t n = 0;
	const struct chored_option *o = schema_find(job, key);
	if (parse_int(v, &n))
		return n; /* INT, or a DURATION written as bare seconds ("0") */
	if (!o || o->type == CHORED_OPT_DURATION) {
		char err[160];
		if (units_parse_duration(v, &n, err, sizeof err) == 0)
			return n;
	}
	return 0;
}

uint64_t chored_job_opt_size(const struct chored_job *job, const char *key)
{
	const char *v = chored_job_opt(job, key);
	uint64_t n = 0;
	char err[160];
	if (!v || units_parse_size(v, &n, err, sizeof err) < 0)
		return 0;
	return n;
}

bool chored_job_opt_bool(const struct chored_job *job, const char *key)
{
	static const char *const yes[] = {"yes", "true", "on", "1"};
	const char *v = chored_job_opt(job, key);
	if (!v)
		return false;
	for (size_t i = 0; i < sizeof yes / sizeof *yes; i++)
		if (strcmp(v, yes[i]) == 0)
			return true;
	return false;
}

const char *chored_state_get(struct chored_job *job, const char *key)
{
	const struct job_kv *kv = kvs_find(&job->state, key);
	return kv ? kv->value : NULL;
}

/* libchored records: log, progress, counters, summary and state changes, each handed to the
 * host's emit callback as one JSON object (daemon/runproto.h); and secret redaction. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "job_impl.h"

#define REDACTED "***"

char *chored__job_redact(const struct chored_job *job, const char *text)
{
	if (!text)
		text = "";
	size_t len = strlen(text);
	/* Mark every byte any secret covers, then print each run of marked bytes as one ***:
	 * overlapping or adjacent secrets leave no fragment of either behind. */
	unsigned char *hit = job->n_secrets && len ? calloc(len, 1) : NULL;
	bool any = false;
	for (size_t i = 0; hit && i < job->n_secrets; i++) {
		size_t sl = strlen(job->secrets[i]);
		for (const char *p = strstr(text, job->secrets[i]); p;
		     p = strstr(p + 1, job->secrets[i])) {
			memset(hit + (p - text), 1, sl);
			any = true;
		}
	}
	if (!any) {
		free(hit);
		char *copy = strdup(text);
		if (!copy)
			abort();
		return copy;
	}
	char *out = malloc(len * (sizeof REDACTED - 1) + 1); /* worst case: every byte a run */
	if (!out)
		abort();
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		if (!hit[i]) {
			out[o++] = text[i];
		} else if (i == 0 || !hit[i - 1]) {
			memcpy(out + o, REDACTED, sizeof REDACTED - 1);
			o += sizeof REDACTED - 1;
		}
	}
	out[o] = '\0';
	free(hit);
	return out;
}

/* printf into a new string; NULL only when the format itself fails. */
static char *vformat(const char *fmt, va_list ap)
{
	va_list ap2;
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return NULL;
	char *s = malloc((size_t)n + 1);
	if (!s)
		abort();
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	return s;
}

/* A JSON string holding `text` redacted. */
static struct json_object *redacted_string(const struct chored_job *job, const char *text)
{
	char *r = chored__job_redact(job, text);
	struct json_object *s = json_object_new_string(r);
	free(r);
	return s;
}

/* Starts a record of type `t`. */
static struct json_object *record(const char *t)
{
	struct json_object *rec = json_object_new_object();
	json_object_object_add(rec, "t", json_object_new_string(t));
	return rec;
}

/* Hands `rec` to the sink and drops it. */
static void emit(struct chored_job *job, struct json_object *rec)
{
	if (job->emit)
		job->emit(job->emit_data, rec);
	json_object_put(rec);
}

void chored__job_set_emit(struct chored_job *job, chored__emit_fn fn, void *data)
{
	job->emit = fn;
	job->emit_data = data;
}

static int clamp_level(enum chored_level level)
{
	if ((int)level < CHORED_LOG_ERR)
		return CHORED_LOG_ERR;
	if ((int)level > CHORED_LOG_DEBUG)
		return CHORED_LOG_DEBUG;
	return (int)level;
}

/* A log record whose message is `msg` (redacted here); `fields` (owned) may be NULL. */
static void emit_log(struct chored_job *job, enum chored_level level, const char *msg,
                     struct json_object *fields)
{
	struct json_object *rec = record("log");
	json_object_object_add(rec, "level", json_object_new_int(clamp_level(level)));
	json_object_object_add(rec, "msg", redacted_string(job, msg));
	if (fields)
		json_object_object_add(rec, "fields", fields);
	emit(job, rec);
}

void chored_vlog(struct chored_job *job, enum chored_level level, const char *fmt, va_list ap)
{
	char *msg = vformat(fmt, ap);
	emit_log(job, level, msg ? msg : fmt, NULL);
	free(msg);
}

void chored_log(struct chored_job *job, enum chored_level level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	chored_vlog(job, level, fmt, ap);
	va_end(ap);
}

void chored_log_kv(struct chored_job *job, enum chored_level level, const char *msg, ...)
{
	struct json_object *fields = NULL;
	va_list ap;
	va_start(ap, msg);
	for (;;) {
		const char *k = va_arg(ap, const char *);
		if (!k)
			break;
		const char *v = va_arg(ap, const char *);
		if (!v)
			break; /* a key without a value ends the list: never read past the sentinel
			        */
		if (!fields)
			fields = json_object_new_object();
		char *rk = chored__job_redact(job, k);
		json_object_object_add(fields, rk, redacted_string(job, v));
		free(rk);
	}
	va_end(ap);
	emit_log(job, level, msg ? msg : "", fields);
}

void chored_progress(struct chored_job *job, uint64_t done, uint64_t total)
{
	struct json_object *rec = record("progress");
	json_object_object_add(rec, "done", json_object_new_uint64(done));
	json_object_object_add(rec, "total", json_object_new_uint64(total));
	emit(job, rec);
}

void chored_counter_add(struct chored_job *job, const char *name, int64_t delta)
{
	struct json_object *rec = record("counter");
	json_object_object_add(rec, "name", redacted_string(job, name ? name : ""));
	json_object_object_add(rec, "delta", json_object_new_int64(delta));
	emit(job, rec);
}

void chored_summary(struct chored_job *job, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *text = vformat(fmt, ap);
	va_end(ap);
	char *r = chored__job_redact(job, text ? text : fmt);
	free(text);
	job_retire(job, job->summary); /* chored__job_summary may have handed it out */
	job->summary = r;
	struct json_object *rec = record("summary");
	json_object_object_add(rec, "text", json_object_new_string(r));
	emit(job, rec);
}

void chored_state_set(struct chored_job *job, const char *key, const char *value)
{
	chored__job_set_state(job, key, value);
	struct json_object *rec = record("state");
	json_object_object_add(rec, "key", json_object_new_string(key));
	json_object_object_add(rec, "value", value ? json_object_new_string(value) : NULL);
	emit(job, rec);
}

void chored_job_error(struct chored_job *job, const char *key, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *text = vformat(fmt, ap);
	va_end(ap);
	free(job->err_msg);
	free(job->err_key);
	job->err_msg = chored__job_redact(job, text ? text : fmt);
	job->err_key = key ? strdup(key) : NULL;
	free(text);
}

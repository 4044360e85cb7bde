/* Backup sets in the store: PREFIX/YYYY-MM/ holds a set's files, and its manifest.json,
 * written last, makes it complete. Listing, manifests, and retention. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backup.h"

char *bk_key(const char *prefix, const char *month, const char *name)
{
	char *k = NULL;
	if (asprintf(&k, "%s/%s/%s", prefix, month, name) < 0)
		return NULL;
	return k;
}

struct list_ctx {
	size_t plen;
	struct bk_sets *s;
	bool oom;
};

static int list_each(const struct chored_store_object *obj, void *data)
{
	struct list_ctx *c = data;
	const char *rest = obj->key + c->plen; /* "YYYY-MM/name" */
	char month[8];
	if (strlen(rest) < 9 || rest[7] != '/' || strchr(rest + 8, '/'))
		return 0;
	memcpy(month, rest, 7);
	month[7] = 0;
	if (bk_month_index(month) < 0)
		return 0;
	struct bk_sets *s = c->s;
	/* Keys come in byte order: a set's objects are consecutive. */
	if (!s->n || strcmp(s->v[s->n - 1].month, month) != 0) {
		struct bk_set *v = realloc(s->v, (s->n + 1) * sizeof *v);
		if (!v) {
			c->oom = true;
			return 1;
		}
		s->v = v;
		memset(&v[s->n], 0, sizeof v[s->n]);
		memcpy(v[s->n].month, month, 8);
		s->n++;
	}
	struct bk_set *set = &s->v[s->n - 1];
	set->objects++;
	set->bytes += obj->size;
	if (strcmp(rest + 8, BK_MANIFEST) == 0)
		set->complete = true;
	return 0;
}

int bk_sets_list(struct chored_store *st, const char *prefix, struct bk_sets *out, char *err,
                 size_t errlen)
{
	memset(out, 0, sizeof *out);
	char *p = NULL;
	if (asprintf(&p, "%s/", prefix) < 0)
		return -1;
	struct list_ctx c = {.plen = strlen(p), .s = out};
	int rc = chored_store_list(st, p, list_each, &c);
	free(p);
	if (rc != 0 || c.oom) {
		snprintf(err, errlen, "listing %s/: %s", prefix,
		         c.oom ? "out of memory" : chored_store_error(st));
		bk_sets_free(out);
		return -1;
	}
	return 0;
}

void bk_sets_free(struct bk_sets *s)
{
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

struct membuf {
	char *p;
	size_t n, cap;
};

static int mem_write(const void *buf, size_t len, void *data)
{
	struct membuf *m = data;
	if (m->n + len + 1 > 4 * 1024 * 1024) /* a manifest is a few KiB */
		return -1;
	if (m->n + len + 1 > m->cap) {
		size_t cap = (m->n + len + 1) * 2;
		char *p = realloc(m->p, cap);
		if (!p)
			return -1;
		m->p = p;
		m->cap = cap;
	}
	memcpy(m->p + m->n, buf, len);
	m->n += len;
	m->p[m->n] = 0;
	return 0;
}

struct json_object *bk_manifest_get(struct chored_store *st, const char *prefix, const char *month,
                                    bool *missing, char *err, size_t errlen)
{
	*missing = false;
	char *key = bk_key(prefix, month, BK_MANIFEST);
	struct membuf m = {0};
	int rc = key ? chored_store_get(st, key, mem_write, &m, NULL) : -1;
	struct json_object *j = NULL;
	if (rc == CHORED_STORE_NOT_FOUND) {
		*missing = true;
		snprintf(err, errlen, "set %s has no %s: it is incomplete or absent", month,
		         BK_MANIFEST);
	} else if (rc < 0) {
		snprintf(err, errlen, "%s: %s", key ? key : month,
		         *chored_store_error(st) ? chored_store_error(st) : "too large");
	} else {
		j = m.p ? json_tokener_parse(m.p) : NULL;
		struct json_object *f = json_object_object_get(j, "files");
		if (!json_object_is_type(j, json_type_object) ||
		    !json_object_is_type(f, json_type_array)) {
			snprintf(err, errlen, "%s: not a backup manifest (no \"files\" array)",
			         key);
			json_object_put(j);
			j = NULL;
		}
	}
	free(m.p);
	free(key);
	return j;
}

struct keys_ctx {
	char **v;
	size_t n;
	bool oom;
};

static int keys_each(const struct chored_store_object *obj, void *data)
{
	struct keys_ctx *c = data;
	char **v = realloc(c->v, (c->n + 1) * sizeof *v);
	if (!v || !(v[c->n] = strdup(obj->key))) {
		if (v)
			c->v = v;
		c->oom = true;
		return 1;
	}
	c->v = v;
	c->n++;
	return 0;
}

int bk_set_keys(struct chored_store *st, const char *prefix, const char *month, char ***keys,
                size_t *n, char *err, size_t errlen)
{
	char *p = NULL;
	if (asprintf(&p, "%s/%s/", prefix, month) < 0)
		return -1;
	struct keys_ctx c = {0};
	int rc = chored_store_list(st, p, keys_each, &c);
	free(p);
	if (rc != 0 || c.oom) {
		snprintf(err, errlen, "listing %s/%s/: %s", prefix, month,
		         c.oom ? "out of memory" : chored_store_error(st));
		bk_keys_free(c.v, c.n);
		return -1;
	}
	*keys = c.v;
	*n = c.n;
	return 0;
}

void bk_keys_free(char **keys, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(keys[i]);
	free(keys);
}

/* Deletes one set: the manifest first, so a set half deleted reads as incomplete. */
static int delete_set(struct chored_store *st, const char *prefix, const char *month, char *err,
                      size_t errlen)
{
	char **keys;
	size_t n;
	if (bk_set_keys(st, prefix, month, &keys, &n, err, errlen) < 0)
		return -1;
	char *man = bk_key(prefix, month, BK_MANIFEST);
	int rc = man && chored_store_delete(st, man) == 0 ? 0 : -1;
	if (rc < 0) {
		snprintf(err, errlen, "%s", chored_store_error(st));
	} else {
		const char **rest = calloc(n + 1, sizeof *rest);
		size_t m = 0;
		for (size_t i = 0; rest && i < n; i++)
			if (strcmp(keys[i], man) != 0)
				rest[m++] = keys[i];
		if (!rest)
			rc = -1;
		else if (m && chored_store_delete_many(st, rest, m, NULL, NULL) != 0) {
			snprintf(err, errlen, "%s", chored_store_error(st));
			rc = -1;
		}
		free(rest);
	}
	free(man);
	bk_keys_free(keys, n);
	return rc;
}

static void add_line(char *list, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void add_line(char *list, size_t len, const char *fmt, ...)
{
	size_t n = strlen(list);
	if (n + 2 >= len)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(list + n, len - n - 1, fmt, ap);
	va_end(ap);
	n = strlen(list);
	list[n] = '\n';
	list[n + 1] = 0;
}

int bk_retention(struct chored_job *job, struct chored_store *st, const struct bk_opts *o,
                 const char *month, char *list, size_t listlen, int *deleted, char *err,
                 size_t errlen)
{
	*deleted = 0;
	if (listlen)
		list[0] = 0;
	struct bk_sets s;
	if (bk_sets_list(st, o->prefix, &s, err, errlen) < 0)
		return -1;
	int cur = bk_month_index(month), failed = 0;
	/* The newest `retention` complete sets stay, whatever the clock says. */
	size_t keep_from = s.n;
	int complete = 0;
	while (keep_from > 0 && complete < o->retention)
		if (s.v[--keep_from].complete)
			complete++;
	for (size_t i = 0; i < s.n; i++) {
		const struct bk_set *set = &s.v[i];
		bool protected = set->complete && i >= keep_from;
		if (bk_month_index(set->month) > cur - o->retention || protected)
			continue;
		char why[512] = "";
		if (chored_job_dry_run(job)) {
			chored_log(job, CHORED_LOG_NOTICE, "dry run: would delete set %s",
			           set->month);
			continue;
		}
		if (delete_set(st, o->prefix, set->month, why, sizeof why) < 0) {
			chored_log(job, CHORED_LOG_ERR, "retention: set %s not deleted: %s",
			           set->month, why);
			add_line(list, listlen, "%s: NOT deleted: %s", set->month, why);
			failed++;
			continue;
		}
		char sz[32];
		bk_human_size(set->bytes, sz, sizeof sz);
		chored_log(job, CHORED_LOG_NOTICE, "retention: deleted set %s (%u objects, %s%s)",
		           set->month, set->objects, sz, set->complete ? "" : ", incomplete");
		add_line(list, listlen, "%s deleted (%u objects, %s%s)", set->month, set->objects,
		         sz, set->complete ? "" : ", incomplete");
		chored_counter_add(job, "sets_deleted", 1);
		(*deleted)++;
	}
	bk_sets_free(&s);
	return failed;
}

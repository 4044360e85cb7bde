/* Test driver of the store service: one job (host API of sdk/job_private.h) whose log
 * records go to stderr as JSON lines, one store, one command.
 *
 * usage: store_probe [options] URL COMMAND [ARGS]
 *   options: --key-id ID (the secret comes from $STORE_PROBE_SECRET, never argv)
 *            --part-size BYTES --threshold BYTES --attempts N --backoff MS --timeout MS
 *   put KEY FILE             put_file; prints "size S parts P etag E"
 *   put-gen KEY BYTES        put of a generated stream (byte i = (i * 7 + i / 65536) % 251)
 *   put-fail KEY BYTES AT    the same, the read callback fails at byte AT
 *   put-cancel KEY BYTES AT  the same, the job is cancelled at byte AT
 *   put-many PREFIX N        N objects PREFIX00000 ... of a few bytes each
 *   get KEY FILE             get_file
 *   get-check KEY BYTES      get, comparing with the generated stream; prints "ok S"
 *   list [PREFIX]            one line per object: "KEY SIZE MTIME ETAG"; then "count N"
 *   delete KEY
 *   delete-many KEY...       prints "failed KEY CODE" per key, then "failed N"
 *   delete-prefix PREFIX     lists then deletes every key under PREFIX (delete_many)
 * Exit status: 0, 1 on a store error (message on stderr), 2 on usage, 3 when get finds
 * no such key. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "chored/store.h"
#include "job_private.h"

static void emit(void *data, struct json_object *record)
{
	(void)data;
	fprintf(stderr, "%s\n", json_object_to_json_string_ext(record, JSON_C_TO_STRING_PLAIN));
}

static unsigned char gen_byte(uint64_t i)
{
	return (unsigned char)((i * 7 + i / 65536) % 251);
}

struct gen {
	uint64_t pos, size, fail_at, cancel_at;
	struct chored_job *job;
};

static size_t gen_read(void *buf, size_t len, void *data)
{
	struct gen *g = data;
	unsigned char *p = buf;
	if (g->pos >= g->fail_at)
		return (size_t)-1;
	if (g->pos >= g->cancel_at)
		chored__job_cancel(g->job);
	size_t n = 0;
	while (n < len && g->pos < g->size && g->pos < g->fail_at)
		p[n++] = gen_byte(g->pos++);
	return n;
}

struct check {
	uint64_t pos;
	int bad;
};

static int check_write(const void *buf, size_t len, void *data)
{
	struct check *c = data;
	const unsigned char *p = buf;
	for (size_t i = 0; i < len; i++)
		if (p[i] != gen_byte(c->pos + i))
			c->bad = 1;
	c->pos += len;
	return 0;
}

static int print_obj(const struct chored_store_object *o, void *data)
{
	(*(size_t *)data)++;
	printf("%s %" PRIu64 " %" PRId64 " %s\n", o->key, o->size, o->mtime,
	       *o->etag ? o->etag : "-");
	return 0;
}

struct keys {
	char **v;
	size_t n;
};

static int collect(const struct chored_store_object *o, void *data)
{
	struct keys *k = data;
	char **v = realloc(k->v, (k->n + 1) * sizeof *v);
	if (!v)
		return -1;
	k->v = v;
	k->v[k->n++] = strdup(o->key);
	return 0;
}

static void on_failed(const char *key, const char *code, const char *message, void *data)
{
	(void)data;
	printf("failed %s %s %s\n", key, code, message);
}

static void print_put(const struct chored_store_put_info *info)
{
	printf("size %" PRIu64 " parts %u etag %s\n", info->size, info->parts,
	       *info->etag ? info->etag : "-");
}

static int usage(void)
{
	fprintf(stderr, "usage: store_probe [options] URL COMMAND [ARGS] (see the source)\n");
	return 2;
}

static int run(struct chored_store *st, struct chored_job *job, int argc, char **argv)
{
	const char *cmd = argv[0];
	struct chored_store_put_info info;
	if (!strcmp(cmd, "put") && argc == 3) {
		if (chored_store_put_file(st, argv[1], argv[2], &info))
			return -1;
		print_put(&info);
	} else if (!strncmp(cmd, "put-", 4) && strcmp(cmd, "put-many") && argc >= 3) {
		struct gen g = {0, strtoull(argv[2], NULL, 10), UINT64_MAX, UINT64_MAX, job};
		if (!strcmp(cmd, "put-fail") && argc == 4)
			g.fail_at = strtoull(argv[3], NULL, 10);
		else if (!strcmp(cmd, "put-cancel") && argc == 4)
			g.cancel_at = strtoull(argv[3], NULL, 10);
		else if (strcmp(cmd, "put-gen") || argc != 3)
			return usage();
		if (chored_store_put(st, argv[1], gen_read, &g, &info))
			return -1;
		print_put(&info);
	} else if (!strcmp(cmd, "put-many") && argc == 3) {
		long n = strtol(argv[2], NULL, 10);
		for (long i = 0; i < n; i++) {
			char key[1100];
			snprintf(key, sizeof key, "%s%05ld", argv[1], i);
			struct gen g = {0, 3 + (uint64_t)i % 5, UINT64_MAX, UINT64_MAX, job};
			if (chored_store_put(st, key, gen_read, &g, NULL))
				return -1;
		}
		printf("put %ld\n", n);
	} else if (!strcmp(cmd, "get") && argc == 3) {
		int rc = chored_store_get_file(st, argv[1], argv[2]);
		if (rc)
			return rc;
	} else if (!strcmp(cmd, "get-check") && argc == 3) {
		struct check c = {0, 0};
		uint64_t size = 0;
		int rc = chored_store_get(st, argv[1], check_write, &c, &size);
		if (rc)
			return rc;
		if (c.bad || size != strtoull(argv[2], NULL, 10)) {
			printf("mismatch size %" PRIu64 "\n", size);
			return 4;
		}
		printf("ok %" PRIu64 "\n", size);
	} else if (!strcmp(cmd, "list") && argc <= 2) {
		size_t n = 0;
		if (chored_store_list(st, argc == 2 ? argv[1] : NULL, print_obj, &n))
			return -1;
		printf("count %zu\n", n);
	} else if (!strcmp(cmd, "delete") && argc == 2) {
		return chored_store_delete(st, argv[1]);
	} else if (!strcmp(cmd, "delete-many") && argc >= 2) {
		int rc = chored_store_delete_many(st, (const char *const *)argv + 1,
		                                  (size_t)argc - 1, on_failed, NULL);
		if (rc < 0)
			return -1;
		printf("failed %d\n", rc);
	} else if (!strcmp(cmd, "delete-prefix") && argc == 2) {
		struct keys k = {0};
		int rc = chored_store_list(st, argv[1], collect, &k);
		if (rc == 0) {
			rc = chored_store_delete_many(st, (const char *const *)k.v, k.n, on_failed,
			                              NULL);
			if (rc >= 0)
				printf("deleted %zu failed %d\n", k.n - (size_t)rc, rc);
		}
		for (size_t i = 0; i < k.n; i++)
			free(k.v[i]);
		free(k.v);
		return rc < 0 ? -1 : 0;
	} else {
		return usage();
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct chored_store_config cfg = {0};
	const char *secret = getenv("STORE_PROBE_SECRET");
	int i = 1;
	for (; i + 1 < argc && !strncmp(argv[i], "--", 2); i += 2) {
		const char *o = argv[i] + 2, *v = argv[i + 1];
		if (!strcmp(o, "key-id"))
			cfg.access_key_id = v;
		else if (!strcmp(o, "part-size"))
			cfg.part_size = strtoull(v, NULL, 10);
		else if (!strcmp(o, "threshold"))
			cfg.multipart_threshold = strtoull(v, NULL, 10);
		else if (!strcmp(o, "attempts"))
			cfg.max_attempts = (unsigned)strtoul(v, NULL, 10);
		else if (!strcmp(o, "backoff"))
			cfg.backoff_base_ms = strtol(v, NULL, 10);
		else if (!strcmp(o, "timeout"))
			cfg.timeout_ms = strtol(v, NULL, 10);
		else
			return usage();
	}
	if (argc - i < 2)
		return usage();
	cfg.secret_access_key = secret;

	struct chored_job *job = chored__job_new("store-probe", NULL);
	chored__job_set_emit(job, emit, NULL);
	if (secret && *secret)
		chored__job_add_redaction(job, secret);

	struct chored_store *st = NULL;
	char err[512];
	int rc;
	if (chored_store_open(job, argv[i], &cfg, &st, err, sizeof err)) {
		fprintf(stderr, "store_probe: open: %s\n", err);
		rc = 1;
	} else {
		rc = run(st, job, argc - i - 1, argv + i + 1);
		if (rc == CHORED_STORE_NOT_FOUND || rc == -1)
			fprintf(stderr, "store_probe: error: %s\n", chored_store_error(st));
		rc = rc == CHORED_STORE_NOT_FOUND ? 3 : rc == -1 ? 1 : rc;
	}
	fflush(stdout);
	chored_store_close(st);
	chored__job_free(job);
	return rc;
}

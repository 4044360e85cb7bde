/* chorectl backup list | verify MONTH | restore-test [MONTH] | fetch MONTH FILE [-o PATH]:
 * run in chorectl on the job's store, as its runs see it. Exit statuses are sysexits. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backup.h"
#include "commands.h"

#define EX_OK_          0
#define EX_USAGE_       64
#define EX_DATAERR_     65
#define EX_UNAVAILABLE_ 69
#define EX_CANTCREAT_   73

struct cmd {
	const char *name;
	struct chored_job *job;
	struct bk_opts o;
	struct chored_store *st;
	int argc; /* positional arguments after the options */
	char **argv;
};

/* Parses [-j JOB] and opens the job's store. Returns 0 or an exit status. */
static int cmd_open(struct cmd *c, const char *name, int argc, char **argv, const char *extra,
                    const char **opt_o)
{
	static const struct option longopts[] = {{"job", required_argument, NULL, 'j'},
	                                         {"output", required_argument, NULL, 'o'},
	                                         {NULL, 0, NULL, 0}};
	memset(c, 0, sizeof *c);
	c->name = name;
	const char *jobname = NULL;
	char shortopts[8] = "j:";
	if (extra)
		strcat(shortopts, extra);
	for (int ch; (ch = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1;) {
		if (ch == 'j')
			jobname = optarg;
		else if (ch == 'o' && opt_o)
			*opt_o = optarg;
		else
			return EX_USAGE_;
	}
	c->argc = argc - optind;
	c->argv = argv + optind;
	char err[512];
	const char *key;
	c->job = chored_command_job(jobname, err, sizeof err);
	if (!c->job) {
		fprintf(stderr, "chorectl backup %s: %s\n", name, err);
		return EX_DATAERR_;
	}
	if (bk_opts_load(c->job, &c->o, &key, err, sizeof err) < 0) {
		fprintf(stderr, "chorectl backup %s: [job %s] %s: %s\n", name,
		        chored_job_name(c->job), key ? key : "options", err);
		return EX_DATAERR_;
	}
	c->st = bk_store_open(c->job, &c->o, err, sizeof err);
	if (!c->st) {
		fprintf(stderr, "chorectl backup %s: store: %s\n", name, err);
		return EX_DATAERR_;
	}
	return EX_OK_;
}

static void cmd_close(struct cmd *c)
{
	chored_store_close(c->st);
}

static int month_arg(struct cmd *c, const char *s)
{
	if (bk_month_index(s) < 0) {
		fprintf(stderr, "chorectl backup %s: '%s' is not a month (YYYY-MM)\n", c->name, s);
		return -1;
	}
	return 0;
}

static int cmd_list(int argc, char **argv)
{
	struct cmd c;
	int rc = cmd_open(&c, "list", argc, argv, NULL, NULL);
	if (rc)
		return rc;
	struct bk_sets s;
	char err[512];
	if (bk_sets_list(c.st, c.o.prefix, &s, err, sizeof err) < 0) {
		fprintf(stderr, "chorectl backup list: %s\n", err);
		cmd_close(&c);
		return EX_UNAVAILABLE_;
	}
	printf("%-8s %-10s %7s %12s\n", "SET", "STATE", "OBJECTS", "SIZE");
	for (size_t i = s.n; i-- > 0;) {
		char sz[32];
		bk_human_size(s.v[i].bytes, sz, sizeof sz);
		printf("%-8s %-10s %7u %12s\n", s.v[i].month,
		       s.v[i].complete ? "complete" : "INCOMPLETE", s.v[i].objects, sz);
	}
	printf("(%zu sets under %s/ in %s)\n", s.n, c.o.prefix, chored_store_describe(c.st));
	bk_sets_free(&s);
	cmd_close(&c);
	return EX_OK_;
}

static int verify_common(const char *name, int argc, char **argv, bool restore)
{
	struct cmd c;
	int rc = cmd_open(&c, name, argc, argv, NULL, NULL);
	if (rc)
		return rc;
	char month[8], err[512];
	if (c.argc > 1 || (!restore && c.argc != 1)) {
		fprintf(stderr, "usage: chorectl backup %s [-j JOB] %s\n", name,
		        restore ? "[MONTH]" : "MONTH");
		cmd_close(&c);
		return EX_USAGE_;
	}
	if (c.argc == 1) {
		if (month_arg(&c, c.argv[0]) < 0) {
			cmd_close(&c);
			return EX_USAGE_;
		}
		snprintf(month, sizeof month, "%s", c.argv[0]);
	} else if (bk_newest_complete(c.st, &c.o, month, err, sizeof err) < 0) {
		fprintf(stderr, "chorectl backup %s: %s\n", name, err);
		cmd_close(&c);
		return EX_DATAERR_;
	}
	struct bk_verify v;
	rc = bk_verify_set(c.job, c.st, &c.o, month, restore, NULL, &v);
	if (rc == 0) {
		printf("%s: %d files ok (size, sha256, records)", month, v.files_ok);
		if (restore)
			printf("; restored into %s: %lld statements, integrity and row counts ok",
			       c.o.restore_target, (long long)v.statements);
		printf("\n");
	} else {
		fprintf(stderr, "chorectl backup %s: %s: FAILED: %s\n", name, month, v.problems);
	}
	cmd_close(&c);
	return rc == 0 ? EX_OK_ : EX_DATAERR_;
}

static int cmd_verify(int argc, char **argv)
{
	return verify_common("verify", argc, argv, false);
}

static int cmd_restore_test(int argc, char **argv)
{
	return verify_common("restore-test", argc, argv, true);
}

struct fetch_out {
	int fd;
	struct bk_dec *dec; /* NULL: write as stored */
};

static int fd_write(const void *buf, size_t len, void *data)
{
	const struct fetch_out *f = data;
	const char *p = buf;
	while (len) {
		ssize_t w = write(f->fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

static int fetch_in(const void *buf, size_t len, void *data)
{
	struct fetch_out *f = data;
	return bk_dec_write(f->dec, buf, len);
}

/* fetch MONTH FILE [-o PATH]: FILE as stored ("db.sql.gz") is written as is, its content
 * name ("db.sql") decompressed; either way its sha256 must match the manifest. */
static int cmd_fetch(int argc, char **argv)
{
	struct cmd c;
	const char *path = NULL;
	int rc = cmd_open(&c, "fetch", argc, argv, "o:", &path);
	if (rc)
		return rc;
	if (c.argc != 2) {
		fprintf(stderr, "usage: chorectl backup fetch [-j JOB] MONTH FILE [-o PATH]\n");
		cmd_close(&c);
		return EX_USAGE_;
	}
	if (month_arg(&c, c.argv[0]) < 0) {
		cmd_close(&c);
		return EX_USAGE_;
	}
	const char *month = c.argv[0], *want = c.argv[1];
	char err[512];
	bool missing;
	struct json_object *man =
	    bk_manifest_get(c.st, c.o.prefix, month, &missing, err, sizeof err);
	if (!man) {
		fprintf(stderr, "chorectl backup fetch: %s\n", err);
		cmd_close(&c);
		return EX_DATAERR_;
	}
	struct json_object *files = json_object_object_get(man, "files"), *entry = NULL;
	bool raw = true;
	for (size_t i = 0; !entry && i < json_object_array_length(files); i++) {
		struct json_object *f = json_object_array_get_idx(files, i);
		const char *n = json_object_get_string(json_object_object_get(f, "name"));
		const char *b = json_object_get_string(json_object_object_get(f, "content"));
		if (n && strcmp(n, want) == 0)
			entry = f;
		else if (b && strcmp(b, want) == 0) {
			entry = f;
			raw = false;
		}
	}
	enum bk_compress comp = BK_GZIP;
	bk_compress_parse(json_object_get_string(json_object_object_get(man, "compress")), &comp);
	if (!entry) {
		fprintf(stderr, "chorectl backup fetch: set %s has no file %s in its manifest\n",
		        month, want);
		json_object_put(man);
		cmd_close(&c);
		return EX_DATAERR_;
	}
	const char *name = json_object_get_string(json_object_object_get(entry, "name"));
	const char *sha = json_object_get_string(json_object_object_get(entry, "sha256"));
	if (!path)
		path = want;
	char tmp[4200];
	snprintf(tmp, sizeof tmp, "%s.part", path);
	struct fetch_out fo = {.fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)};
	struct bk_dec *dec = bk_dec_new(raw ? BK_NONE : comp, fd_write, &fo);
	fo.dec = dec;
	char *key = bk_key(c.o.prefix, month, name);
	char got[CHORED_SHA256_HEX_LEN];
	uint64_t size = 0, rawn = 0;
	rc = EX_OK_;
	if (fo.fd < 0) {
		fprintf(stderr, "chorectl backup fetch: %s: %s\n", tmp, strerror(errno));
		rc = EX_CANTCREAT_;
	} else if (!dec || !key || chored_store_get(c.st, key, fetch_in, &fo, NULL) != 0) {
		fprintf(stderr, "chorectl backup fetch: %s: %s\n", name,
		        dec && *bk_dec_error(dec) ? bk_dec_error(dec) : chored_store_error(c.st));
		rc = EX_UNAVAILABLE_;
	} else if (bk_dec_finish(dec, got, &size, &rawn) < 0 || strcmp(got, sha) != 0) {
		fprintf(stderr, "chorectl backup fetch: %s: %s\n", name,
		        strcmp(got, sha) ? "sha256 does not match the manifest: not written"
		                         : bk_dec_error(dec));
		rc = EX_DATAERR_;
	} else if (fsync(fo.fd) < 0 || close(fo.fd) < 0 || rename(tmp, path) < 0) {
		fo.fd = -1;
		fprintf(stderr, "chorectl backup fetch: %s: %s\n", path, strerror(errno));
		rc = EX_CANTCREAT_;
	} else {
		fo.fd = -1;
		printf("%s: %llu bytes (sha256 ok)\n", path,
		       (unsigned long long)(raw ? size : rawn));
	}
	if (fo.fd >= 0)
		close(fo.fd);
	if (rc != EX_OK_)
		unlink(tmp);
	free(key);
	bk_dec_free(dec);
	json_object_put(man);
	cmd_close(&c);
	return rc;
}

const struct chored_command bk_commands[] = {
    {"list", "[-j JOB]", "list the stored sets with their size and completeness", cmd_list},
    {"verify", "[-j JOB] MONTH",
     "check a set's files against its manifest (size, sha256, "
     "records)",
     cmd_verify},
    {"restore-test", "[-j JOB] [MONTH]",
     "verify a set (default: the newest complete) and restore it into restore_target",
     cmd_restore_test},
    {"fetch", "[-j JOB] MONTH FILE [-o PATH]",
     "download a file of a set, checked against its sha256 (decompressed when FILE is its "
     "content name, db.sql)",
     cmd_fetch},
    {NULL, NULL, NULL, NULL},
};

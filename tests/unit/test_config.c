/* The configuration loader (design §4): files and precedence, syntax, permissions,
 * references and secrets, typed keys, and one test per error message class. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "strbuf.h"

/* ---- helpers ---- */

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st, (void)flag, (void)f;
	return remove(p);
}

static void rm_rf(const char *dir)
{
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* A fresh directory; the caller frees and removes it with done(). */
static char *new_dir(void)
{
	char *d = strdup("/tmp/chored-cfg-test.XXXXXX");
	assert_non_null(d);
	assert_non_null(mkdtemp(d));
	return d;
}

static void done(char *dir)
{
	rm_rf(dir);
	free(dir);
}

/* Writes dir/rel with exactly `mode` (umask does not apply); creates conf.d as needed. */
static void put_n(const char *dir, const char *rel, mode_t mode, const char *text, size_t len)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/conf.d", dir);
	if (strncmp(rel, "conf.d/", 7) == 0)
		mkdir(path, 0755);
	snprintf(path, sizeof path, "%s/%s", dir, rel);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static void put(const char *dir, const char *rel, mode_t mode, const char *text)
{
	put_n(dir, rel, mode, text, strlen(text));
}

static char *main_path(const char *dir)
{
	static char p[4096];
	snprintf(p, sizeof p, "%s/chored.conf", dir);
	return p;
}

static int load(const char *dir, struct cfg **cfg, struct cfg_diag *diag)
{
	return cfg_load(main_path(dir), cfg, diag);
}

static void dump(const struct cfg_diag *d)
{
	for (size_t i = 0; i < d->n_errors; i++)
		print_message("# error: %s\n", d->errors[i]);
}

/* Asserts an error starting with DIR/prefix and containing fragment. */
static void expect_error(const struct cfg_diag *d, const char *dir, const char *prefix,
                         const char *fragment)
{
	char want[8192];
	snprintf(want, sizeof want, "%s/%s", dir, prefix);
	for (size_t i = 0; i < d->n_errors; i++)
		if (strncmp(d->errors[i], want, strlen(want)) == 0 &&
		    strstr(d->errors[i] + strlen(want), fragment))
			return;
	dump(d);
	fail_msg("no error '%s…%s'", want, fragment);
}

/* Loads and expects failure with nothing returned, the files listed and the error. */
static void expect_fail(const char *dir, const char *prefix, const char *fragment)
{
	struct cfg *cfg = (struct cfg *)1;
	struct cfg_diag d;
	assert_int_equal(load(dir, &cfg, &d), -1);
	assert_null(cfg);
	assert_true(d.n_files >= 1);
	assert_string_equal(d.files[0], main_path(dir));
	expect_error(&d, dir, prefix, fragment);
	cfg_diag_free(&d);
}

static struct cfg *expect_ok(const char *dir)
{
	struct cfg *cfg = NULL;
	struct cfg_diag d;
	int rc = load(dir, &cfg, &d);
	if (rc != 0)
		dump(&d);
	assert_int_equal(rc, 0);
	assert_non_null(cfg);
	assert_int_equal(d.n_errors, 0);
	cfg_diag_free(&d);
	return cfg;
}

static const struct cfg_kv *option(const struct cfg_job *j, const char *key)
{
	for (size_t i = 0; i < j->n_options; i++)
		if (strcmp(j->options[i].key, key) == 0)
			return &j->options[i];
	return NULL;
}

#define JOB "plugin = exec\nschedule = 0 3 * * *\n"

/* ---- files, precedence, defaults ---- */

static void test_defaults(void **state)
{
	(void)state;
	char *dir = new_dir();
	put(dir, "chored.conf", 0644, "# main\n[daemon]\n\n[job a]\n" JOB);
	struct cfg *c = expect_ok(dir);
	assert_string_equal(c->main_path, main_path(dir));
	assert_int_equal(c->n_files, 1);
	assert_string_equal(c->daemon.state, "sqlite://" LOCALSTATEDIR "/lib/chored/state.db");
	assert_string_equal(c->daemon.plugin_dir, PKGLIBDIR);
	assert_string_equal(c->daemon.timezone, "UTC");
	assert_non_null(c->daemon.tz);
	assert_string_equal(c->daemon.listen, "127.0.0.1:8470");
	assert_string_equal(c->daemon.socket, RUNSTATEDIR "/chored/chored.sock");
	assert_null(c->daemon.admin_token);
	assert_int_equal(c->daemon.n_notify, 0);
	assert_int_equal(c->daemon.history, 100);
	assert_null(c->daemon.display_timezone);
	assert_int_equal(c->n_jobs, 1);
	const struct cfg_job *j = cfg_find_job(c, "a");
	assert_ptr_equal(j, &c->jobs[0]);
	assert_null(cfg_find_job(c, "b"));
	assert_string_equal(j->plugin, "exec");
	assert_string_equal(j->schedule_text, "0 3 * * *");
	assert_string_equal(j->timezone, "UTC");
	assert_ptr_equal(j->tz, c->daemon.tz);
	assert_true(j->enabled);
	assert_int_equal(j->timeout, 0);
	assert_int_equal(j->overlap, CFG_OVERLAP_SKIP);
	assert_int_equal(j->catchup, CFG_CATCHUP_LATEST);
	assert_int_equal(j->catchup_max, 0);
	assert_int_equal(j->retries, 0);
	assert_int_equal(j->retry_delay, 30);
	assert_int_equal(j->memory_limit, 0);
	assert_null(j->user);
	assert_int_equal(j->n_notify, 0);
	assert_int_equal(j->n_options, 0);
	assert_string_equal(j->origin.file, main_path(dir));
	assert_int_equal(j->origin.line, 4);
	cfg_free(c);
	done(dir);
}

static void test_all_keys(void **state)
{
	(void)state;
	char *dir = new_dir();
	put(dir, "chored.conf", 0644,
	    "[daemon]\n"
	    "state = postgresql://chored@db/chored\n"
	    "plugin_dir = /opt/chored/plugins\n"
	    "timezone = Europe/Paris\n"
	    "listen = [::1]:9000\n"
	    "socket = /run/x.sock\n"
	    "notify = ops, hook:always\n"
	    "history = 1000000\n"
	    "display_timezone = America/New_York\n"
	    "[notify ops]\ntype = outbox\npath = /var/lib/chored/outbox\n"
	    "[notify hook]\ntype = webhook\nurl = https://example.com/h\n"
	    "[job a]\n" JOB "timezone = Asia/Tokyo\nenabled = off\ntimeout = 1h30m\n"
	    "overlap = replace\ncatchup = all\ncatchup_max = 5\ncatchup_within = 2d\n"
	    "jitter = 90s\nretries = 100\nretry_delay = 0\nmemory_limit = 64M\ncpu_limit = 15m\n"
	    "user = root\nnotify = hook:never ops:on-change\ndescription = a # ; b\n"
	    "destination = file:///x\n"
	    "[job b]\n" JOB "notify =\n"
	    "[job c]\n" JOB);
	struct cfg *c = expect_ok(dir);
	assert_string_equal(c->daemon.state, "postgresql://chored@db/chored");
	assert_string_equal(c->daemon.timezone, "Europe/Paris");
	assert_string_equal(c->daemon.listen, "[::1]:9000");
	assert_int_equal(c->daemon.history, 1000000);
	assert_non_null(c->daemon.display_tz);
	assert_int_equal(c->daemon.n_notify, 2);
	assert_string_equal(c->daemon.notify[0].sink, "ops");
	assert_int_equal(c->daemon.notify[0].policy, CFG_POLICY_ON_FAILURE);
	assert_string_equal(c->daemon.notify[1].sink, "hook");
	assert_int_equal(c->daemon.notify[1].policy, CFG_POLICY_ALWAYS);
	assert_int_equal(c->n_sinks, 2);
	assert_int_equal(c->sinks[1].type, CFG_SINK_WEBHOOK);
	assert_int_equal(c->sinks[1].n_keys, 1);
	const struct cfg_job *a = cfg_find_job(c, "a");
	assert_string_equal(a->timezone, "Asia/Tokyo");
	assert_ptr_not_equal(a->tz, c->daemon.tz);
	assert_false(a->enabled);
	assert_int_equal(a->timeout, 5400);
	assert_int_equal(a->overlap, CFG_OVERLAP_REPLACE);
	assert_int_equal(a->catchup, CFG_CATCHUP_ALL);
	assert_int_equal(a->catchup_max, 5);
	assert_int_equal(a->catchup_within, 2 * 86400);
	assert_int_equal(a->jitter, 90);
	assert_int_equal(a->retries, 100);
	assert_int_equal(a->retry_delay, 0);
	assert_int_equal(a->memory_limit, 64u << 20);
	assert_int_equal(a->cpu_limit, 900);
	assert_string_equal(a->user, "root");
	assert_int_equal(a->n_notify, 2);
	assert_int_equal(a->notify[0].policy, CFG_POLICY_NEVER);
	assert_int_equal(a->notify[1].policy, CFG_POLICY_ON_CHANGE);
	assert_string_equal(a->description, "a # ; b");
	assert_int_equal(a->n_options, 1);
	assert_string_equal(a->options[0].key, "destination");
	assert_false(a->options[0].from_reference);
	/* empty notify = none; absent notify = the daemon's */
	assert_int_equal(cfg_find_job(c, "b")->n_notify, 0);
	assert_int_equal(cfg_find_job(c, "c")->n_notify, 2);
	assert_string_equal(cfg_find_job(c, "c")->timezone, "Europe/Paris");
	cfg_free(c);
	done(dir);
}

static void test_precedence_and_order(void **state)
{
	(void)state;
	char *dir = new_dir();
	put(dir, "chored.conf", 0644,
	    "[daemon]\nhistory = 1\n[job a]\n" JOB "description = main\ncolor = main\n");
	put(dir, "conf.d/10-a.conf", 0644, "[daemon]\nhistory = 2\n[job a]\ndescription = ten\n");
	put(dir, "conf.d/9-b.conf", 0644, "[daemon]\nhistory = 3\n[job a]\n\ncolor = nine\n");
	put(dir, "conf.d/Z.conf", 0644, "[daemon]\nhistory = 4\n[job z]\n" JOB);
	put(dir, "conf.d/a.conf", 0644, "[job a]\nschedule = 0 4 * * *\n[daemon]\nhistory = 5\n");
	struct cfg *c = expect_ok(dir);
	static const char *const order[] = {"conf.d/10-a.conf", "conf.d/9-b.conf", "conf.d/Z.conf",
	                                    "conf.d/a.conf"};
	assert_int_equal(c->n_files, 5);
	assert_string_equal(c->files[0], main_path(dir));
	for (int i = 0; i < 4; i++) {
		char want[4096];
		snprintf(want, sizeof want, "%s/%s", dir, order[i]);
		assert_string_equal(c->files[i + 1], want);
	}
	assert_int_equal(c->daemon.history, 5);
	const struct cfg_job *a = cfg_find_job(c, "a");
	assert_string_equal(a->description, "ten");         /* drop-in over main */
	assert_string_equal(a->schedule_text, "0 4 * * *"); /* later drop-in over main */
	assert_string_equal(a->plugin, "exec");             /* untouched key stays */
	const struct cfg_kv *color = option(a, "color");
	assert_non_null(color);
	assert_string_equal(color->value, "nine");
	assert_ptr_equal(color->origin.file, c->files[2]);
	assert_int_equal(color->origin.line, 5);
	assert_string_equal(a->origin.file, main_path(dir)); /* first appearance */
	assert_int_equal(c->n_jobs, 2);
	assert_string_equal(c->jobs[1].name, "z");
	cfg_free(c);
	done(dir);
}

static void test_ignored_names(void **state)
{
	(void)state;
	char *dir = new_dir();
	put(dir, "chored.conf", 0644, "[job a]\n" JOB);
	static const char *const junk[] = {
	    "conf.d/x.conf.example", "conf.d/.hidden.conf", "conf.d/x.conf~", "conf.d/x.dpkg-old",
	    "conf.d/.#x.conf",       "conf.d/a b.conf",     "conf.d/.conf"};
	for (size_t i = 0; i < sizeof junk / sizeof *junk; i++)
		put(dir, junk[i], 0666, "this is not a config\n");
	struct cfg *c = expect_ok(dir);
	assert_int_equal(c->n_files, 1);
	cfg_free(c);
	done(dir);
}

static void test_relative_main_path(void **state)
{
	(void)state;
	char *dir = new_dir();
	put(dir, "chored.conf", 0644, "[job a]\n" JOB);
	put(dir, "conf.d/1.conf", 0644, "[job a]\nretries = x\n");
	char cwd[4096];
	assert_non_null(getcwd(cwd, sizeof cwd));
	assert_int_equal(chdir(dir), 0);
	struct cfg *c = NULL;
	struct cfg_diag d;
	assert_int_equal(cfg_load("./chored.conf", &c, &d), -1);
	assert_int_equal(d.n_files, 2);
	assert_string_equal(d.files[0], "chored.conf");
	assert_string_equal(d.files[1], "conf.d/1.conf");
	assert_int_equal(d.n_errors, 1);
	assert_string_equal(d.errors[0], "conf.d/1.conf:2: [job a] retries: 'x' is not valid; "
	                                 "expected a whole number from 0 to 100");
	cfg_diag_free(&d);
	assert_int_equal(chdir(cwd), 0);
	done(dir);
}

static void test_missing_confd_and_symlinks(void **state)
{
	(void)state;
	char *dir = new_dir();
	char p[4096], t[4096];
	put(dir, "chored.conf", 0644, "[job a]\n" JOB);
	struct cfg *c = expect_ok(dir); /* no conf.d at all */
	assert_int_equal(c->n_files, 1);
	cfg_free(c);
	/* symlinks are followed; /dev/null masks */
	put(dir, "real.conf", 0644, "[job b]\n" JOB);
	put(dir, "conf.d/10-dummy.conf", 0644, "");
	snprintf(p, sizeof p, "%s/conf.d/20-link.conf", dir);
	snprintf(t, sizeof t, "%s/real.conf", dir);
	assert_int_equal(symlink(t, p), 0);
	snprintf(p, sizeof p, "%s/conf.d/30-null.conf", dir);
	assert_int_equal(symlink("/dev/null", p), 0);
	c = expect_ok(dir);
	assert_int_equal(c->n_files, 4);
	assert_non_null(cfg_find_job(c, "b"));
	cfg_free(c);
	/* a symlink to a directory is refused */
	snprintf(p, sizeof p, "%s/conf.d/40-dir.conf", dir);
	assert_int_equal(symlink("/tmp", p), 0);
	expect_fail(dir, "conf.d/40-dir.conf: ", "is not a regular file");
	done(dir);
}

/* ---- permissions ---- */

static void test_permissions(void **state)
{
	(void)state;
	char *dir = new_dir();
	put(dir, "chored.conf", 0644, "[job a]\n" JOB);
	put(dir, "conf.d/50-x.conf", 0664, "[job b]\n" JOB);
	expect_fail(dir, "conf.d/50-x.conf: ", "is group- or world-writable (mode 0664)");
	put(dir, "conf.d/50-x.conf", 0646, "[job b]\n" JOB);
	expect_fail(dir, "conf.d/50-x.conf: ", "is group- or world-writable (mode 0646)");
	put(dir, "conf.d/50-x.conf", 0644, "[job b]\n" JOB);
	put(dir, "conf.d/90-secrets.conf", 0644, "[secrets]\npw = hunter2\n");
	expect_fail(dir, "conf.d/90-secrets.conf: ",
	            "holds [secrets] but has mode 0644; use 0600 (or 0640 owned by root)");
	put(dir, "conf.d/90-secrets.conf", 0600, "[secrets]\npw = hunter2\n");
	struct cfg *c = expect_ok(dir);
	assert_string_equal(cfg_secret(c, "pw"), "hunter2");
	assert_null(cfg_secret(c, "nope"));
	cfg_free(c);
	char p[4096];
	snprintf(p, sizeof p, "%s/conf.d/90-secrets.conf", dir);
	if (geteuid() == 0) {
		put(dir, "conf.d/90-secrets.conf", 0640, "[secrets]\npw = hunter2\n");
		cfg_free(expect_ok(dir)); /* 0640 owned by root is fine */
		assert_int_equal(chown(p, 65534, 0), 0);
		expect_fail(dir, "conf.d/90-secrets.conf: ", "is owned by uid 65534");
		expect_fail(dir, "conf.d/90-secrets.conf: ", "holds [secrets] but has mode 0640");
	} else {
		put(dir, "conf.d/90-secrets.conf", 0640, "[secrets]\npw = hunter2\n");
		expect_fail(dir, "conf.d/90-secrets.conf: ", "holds [secrets] but has mode 0640");
	}
	done(dir);
}

/* ---- references and secrets ---- */

static void test_references(void **state)
{
	(void)state;
	char *dir = new_dir();
	char text[8192], p[4096];
	put(dir, "token.txt", 0600, "from-a-file\n");
	mkdir(strcat(strcpy(p, dir), "/creds"), 0700);
	put(dir, "creds/api", 0600, "cred-value\n\n");
	setenv("CHORED_TEST_ENV", "env-value", 1);
	snprintf(p, sizeof p, "%s/creds", dir);
	setenv("CREDENTIALS_DIRECTORY", p, 1);
	snprintf(text, sizeof text,
	         "[daemon]\nstate = postgresql://u:${secret:pw}@db/x\n"
	         "admin_token = ${secret:admin}\n"
	         "[job a]\n" JOB "e = ${env:CHORED_TEST_ENV}\n"
	         "f = <${file:%s/token.txt}>\n"
	         "c = ${credential:api}\n"
	         "lit = a$${b} $x $$ ${env:CHORED_TEST_ENV}${env:CHORED_TEST_ENV}\n"
	         "plain = no refs\n",
	         dir);
	put(dir, "chored.conf", 0644, text);
	put(dir, "conf.d/90-secrets.conf", 0600,
	    "[secrets]\npw = p@ss\nadmin = ${env:CHORED_TEST_ENV}-tok\n");
	struct cfg *c = expect_ok(dir);
	assert_string_equal(c->daemon.state, "postgresql://u:p@ss@db/x");
	assert_string_equal(c->daemon.admin_token, "env-value-tok");
	assert_string_equal(cfg_secret(c, "admin"), "env-value-tok");
	assert_true(c->secrets[1].secret);
	const struct cfg_job *j = cfg_find_job(c, "a");
	const struct cfg_kv *kv = option(j, "e");
	assert_string_equal(kv->value, "env-value");
	assert_true(kv->from_reference);
	assert_false(kv->secret);
	assert_false(kv->only_reference); /* ${env:} is not a secret reference */
	kv = option(j, "f");
	assert_string_equal(kv->value, "<from-a-file>");
	assert_true(kv->secret);
	assert_false(kv->only_reference);        /* literal text around the reference */
	assert_int_equal(kv->n_secret_parts, 1); /* the secret itself, for redaction */
	assert_string_equal(kv->secret_parts[0], "from-a-file");
	kv = option(j, "c");
	assert_string_equal(kv->value, "cred-value\n"); /* only one trailing newline goes */
	assert_true(kv->secret);
	assert_true(kv->only_reference);
	kv = option(j, "lit");
	assert_int_equal(kv->n_secret_parts, 0); /* ${env:} is not a secret */
	assert_string_equal(kv->value, "a${b} $x $$ env-valueenv-value");
	assert_false(kv->only_reference);
	kv = option(j, "plain");
	assert_false(kv->from_reference);
	assert_false(kv->secret);
	assert_false(kv->only_reference);
	cfg_free(c);
	unsetenv("CREDENTIALS_DIRECTORY");
	done(dir);
}

static void test_reference_errors(void **state)
{
	(void)state;
	char *dir = new_dir();
	unsetenv("CHORED_TEST_UNSET");
	setenv("CREDENTIALS_DIRECTORY", dir, 1);
	put(dir, "chored.conf", 0644,
	    "[job a]\n" JOB                      /* lines 1-3 */
	    "k1 = ${secret:nope}\n"              /* 4 */
	    "k2 = x${env:CHORED_TEST_UNSET}\n"   /* 5 */
	    "k3 = ${file:/nonexistent/chored}\n" /* 6 */
	    "k4 = ${file:relative/path}\n"       /* 7 */
	    "k5 = ${credential:missing}\n"       /* 8 */
	    "k6 = ${vault:x}\n"                  /* 9 */
	    "k7 = abc ${env:HOME\n"              /* 10 */
	    "k8 = ${env}\n"                      /* 11 */
	    "[secrets]\n"                        /* 12 */
	    "s1 = ${secret:s2}\n"                /* 13 */
	    "s2 = ok\n");
	chmod(main_path(dir), 0600);
	struct cfg *c = (struct cfg *)1;
	struct cfg_diag d;
	assert_int_equal(load(dir, &c, &d), -1);
	assert_null(c);
	expect_error(&d, dir,
	             "chored.conf:4: [job a] k1: ", "${secret:nope} is not defined in [secrets]");
	expect_error(&d, dir, "chored.conf:5: [job a] k2: ",
	             "${env:CHORED_TEST_UNSET}: environment variable CHORED_TEST_UNSET is not set");
	expect_error(&d, dir, "chored.conf:6: [job a] k3: ",
	             "${file:/nonexistent/chored}: cannot read: No such file or directory");
	expect_error(&d, dir, "chored.conf:7: [job a] k4: ", "${file:…} needs an absolute path");
	expect_error(&d, dir, "chored.conf:8: [job a] k5: ",
	             "${credential:missing}: cannot read $CREDENTIALS_DIRECTORY/missing");
	expect_error(&d, dir, "chored.conf:9: [job a] k6: ", "unknown reference kind");
	expect_error(&d, dir, "chored.conf:10: [job a] k7: ", "unterminated reference");
	expect_error(&d, dir, "chored.conf:11: [job a] k8: ", "unknown reference kind");
	expect_error(&d, dir, "chored.conf:13: [secrets] s1: ",
	             "${secret:s2} cannot be used inside [secrets]");
	assert_int_equal(d.n_errors, 9);
	cfg_diag_free(&d);

	unsetenv("CREDENTIALS_DIRECTORY");
	put(dir, "chored.conf", 0644, "[job a]\n" JOB "k = ${credential:x}\n");
	expect_fail(dir, "chored.conf:4: [job a] k: ",
	            "${credential:x}: $CREDENTIALS_DIRECTORY is not set");

	/* the 1 MiB cap on referenced files */
	char *big = malloc((1u << 20) + 2);
	memset(big, 'x', (1u << 20) + 1);
	put_n(dir, "big", 0600, big, (1u << 20) + 1);
	char text[4096];
	snprintf(text, sizeof text, "[job a]\n" JOB "k = ${file:%s/big}\n", dir);
	put(dir, "chored.conf", 0644, text);
	expect_fail(dir, "chored.conf:4: [job a] k: ", "larger than 1 MiB");
	/* exactly 1 MiB plus the stripped newline is fine */
	big[1u << 20] = '\n';
	put_n(dir, "big", 0600, big, (1u << 20) + 1);
	struct cfg *ok = expect_ok(dir);
	assert_int_equal(strlen(option(&ok->jobs[0], "k")->value), 1u << 20);
	cfg_free(ok);
	free(big);
	done(dir);
}

static void test_secret_literal_refused(void **state)
{
	(void)state;
	char *dir = new_dir();
	put(dir, "chored.conf", 0644,
	    "[daemon]\nadmin_token = hunter2-literal\n"
	    "[notify m]\ntype = smtp\nurl = smtps://mail\nfrom = a@b\nto = c@d\n"
	    "password = pre-${secret:pw}\n"
	    "[notify n]\ntype = notion\ntoken = $${secret:pw}\nparent_page = p\n"
	    "[job a]\n" JOB);
	put(dir, "conf.d/s.conf", 0600, "[secrets]\npw = hunter3\n");
	const char *msg = "must be a reference such as ${secret:NAME}; literal secrets are refused";
	expect_fail(dir, "chored.conf:2: [daemon] admin_token: ", msg);
	expect_fail(dir, "chored.conf:8: [notify m] password: ", msg);
	expect_fail(dir, "chored.conf:11: [notify n] token: ", msg);
	/* references only: accepted */
	put(dir, "chored.conf", 0644,
	    "[daemon]\nadmin_token = ${secret:pw}\n"
	    "[notify n]\ntype = notion\ntoken = ${secret:pw}\nparent_page = p\n");
	struct cfg *c = expect_ok(dir);
	assert_string_equal(c->daemon.admin_token, "hunter3");
	assert_true(c->sinks[0].keys[0].secret);
	cfg_free(c);
	done(dir);
}

static void test_secret_never_in_errors(void **state)
{
	(void)state;
	char *dir = new_dir();
	char text[4096];
	put(dir, "tok", 0600, "FILE-SECRET-456\n");
	setenv("CHORED_TEST_TOKEN", "ENV-SECRET-789", 1);
	snprintf(text, sizeof text,
	         "[daemon]\n"
	         "state = mysql://u:${secret:pw}@db\n"
	         "admin_token = TOPSECRET-LITERAL\n"
	         "listen = ${secret:pw}\n"
	         "[job a]\nplugin = exec\n"
	         "retries = ${secret:pw}\n"
	         "timeout = ${file:%s/tok}\n"
	         "overlap = ${env:CHORED_TEST_TOKEN}\n"
	         "schedule = ${secret:pw}\n"
	         "timezone = ${secret:pw}\n"
	         "notify = ${secret:pw}\n"
	         "user = ${secret:pw}\n"
	         "[notify x]\ntype = webhook\nurl = ${secret:pw}\ntoken = TOPSECRET-LITERAL\n"
	         "[secrets]\nxx = TOPSECRET-LITERAL ${bad:x}\nyy = TOPSECRET${\n",
	         dir);
	put(dir, "chored.conf", 0600, text);
	put(dir, "conf.d/s.conf", 0600, "[secrets]\npw = TOPSECRET-123\n");
	struct cfg *c = NULL;
	struct cfg_diag d;
	assert_int_equal(load(dir, &c, &d), -1);
	assert_true(d.n_errors >= 12);
	for (size_t i = 0; i < d.n_errors; i++) {
		assert_null(strstr(d.errors[i], "TOPSECRET"));
		assert_null(strstr(d.errors[i], "SECRET-456"));
		assert_null(strstr(d.errors[i], "SECRET-789"));
	}
	expect_error(&d, dir, "chored.conf:2: [daemon] state: ",
	             "the value (from a reference, not shown) is not valid; expected sqlite:///");
	expect_error(&d, dir, "chored.conf:7: [job a] retries: ", "not shown");
	expect_error(&d, dir, "chored.conf:10: [job a] schedule: ", "not shown");
	cfg_diag_free(&d);
	done(dir);
}

/* ---- lines ---- */

static void test_long_value_round_trip(void **state)
{
	(void)state;
	char *dir = new_dir();
	struct strbuf sb = STRBUF_INIT;
	char value[4097];
	for (int i = 0; i < 4096; i++)
		value[i] = (char)('a' + i % 26);
	value[4096] = '\0';
	value[100] = '#';
	value[200] = ';';
	value[300] = '"';
	strbuf_appendf(&sb, "[job a]\r\n" JOB "big = %s\r\nspaced = \"  x  \"\n# c\n  ; c\n",
	               value);
	put(dir, "chored.conf", 0644, strbuf_str(&sb));
	strbuf_free(&sb);
	struct cfg *c = expect_ok(dir);
	const struct cfg_kv *kv = option(&c->jobs[0], "big");
	assert_int_equal(strlen(kv->value), 4096);
	assert_string_equal(kv->value, value);
	assert_int_equal(kv->origin.line, 4);
	assert_string_equal(option(&c->jobs[0], "spaced")->value, "  x  ");
	cfg_free(c);
	done(dir);
}

static void test_overlong_line(void **state)
{
	(void)state;
	char *dir = new_dir();
	size_t n = 70 * 1024; /* the length of line 2 */
	char *text = malloc(n + 64);
	int h = sprintf(text, "[job a]\nbig = ");
	memset(text + h, 'v', n - 6);
	strcpy(text + h + n - 6, "\n" JOB);
	put(dir, "chored.conf", 0644, text);
	char frag[128];
	snprintf(frag, sizeof frag, "line is %zu bytes long; at most 65536 are allowed", n);
	expect_fail(dir, "chored.conf:2: [job a]: ", frag);
	/* exactly 64 KiB is fine */
	memset(text, 0, n + 64);
	h = sprintf(text, "[job a]\n" JOB "big = ");
	memset(text + h, 'v', 65536 - strlen("big = "));
	strcat(text, "\n");
	put(dir, "chored.conf", 0644, text);
	struct cfg *c = expect_ok(dir);
	assert_int_equal(strlen(option(&c->jobs[0], "big")->value), 65536 - 6);
	cfg_free(c);
	free(text);
	done(dir);
}

static void test_enabled_no_masks(void **state)
{
	(void)state;
	char *dir = new_dir();
	put(dir, "chored.conf", 0644, "[job a]\n" JOB "[job b]\nenabled = no\ncolor = red\n");
	put(dir, "conf.d/50-mask.conf", 0644, "[job a]\nenabled = no\n");
	struct cfg *c = expect_ok(dir);
	assert_false(cfg_find_job(c, "a")->enabled);
	const struct cfg_job *b = cfg_find_job(c, "b");
	assert_false(b->enabled);
	assert_null(b->plugin);
	assert_null(b->schedule_text);
	cfg_free(c);
	/* a disabled job's present keys are still checked */
	put(dir, "conf.d/50-mask.conf", 0644, "[job a]\nenabled = no\noverlap = never\n");
	expect_fail(dir,
	            "conf.d/50-mask.conf:3: [job a] overlap: ", "expected skip, queue or replace");
	/* re-enabled without a plugin: required again */
	put(dir, "conf.d/50-mask.conf", 0644, "[job b]\nenabled = yes\n");
	expect_fail(dir, "chored.conf:4: [job b] plugin: ", "required for an enabled job");
	done(dir);
}

static void test_duplicate_key(void **state)
{
	(void)state;
	char *dir = new_dir();
	put(dir, "chored.conf", 0644, "[job a]\n" JOB "schedule = 0 4 * * *\n");
	expect_fail(
	    dir, "chored.conf:4: [job a] schedule: ", "set twice in this file (first at line 3)");
	/* also across two headers of the same section in one file */
	put(dir, "chored.conf", 0644, "[job a]\n" JOB "[daemon]\n[job a]\nplugin = x\n");
	expect_fail(dir, "chored.conf:6: [job a] plugin: ", "first at line 2");
	done(dir);
}

/* ---- one case per error message class ---- */

struct err_case {
	const char *name;
	const char *main;     /* chored.conf contents */
	const char *prefix;   /* after DIR/ */
	const char *fragment; /* somewhere after the prefix */
};

static const struct err_case err_cases[] = {
    {"missing main file", NULL, "chored.conf: ", "cannot open: No such file or directory"},
    {"no '='", "[daemon]\nhistory\n",
     "chored.conf:2: [daemon]: ", "expected KEY = VALUE, found no '='"},
    {"no key", "[daemon]\n = 3\n", "chored.conf:2: [daemon]: ", "found no key before '='"},
    {"bad key", "[job a]\n" JOB "a b = 1\n",
     "chored.conf:4: [job a] a b: ", "key may contain only"},
    {"key before section", "# x\nhistory = 1\n",
     "chored.conf:2: history: ", "key before any section"},
    {"NUL byte", "[daemon]\nhistory = 1\0x\n",
     "chored.conf:2: [daemon]: ", "line contains a NUL byte"},
    {"unknown section", "[deamon]\nhistory = 1\n",
     "chored.conf:1: [deamon]: ", "unknown section type 'deamon'"},
    {"unterminated header", "[job a\n", "chored.conf:1: ", "section header must end with ']'"},
    {"bad section name", "[job a/b]\n", "chored.conf:1: ", "section name may contain only"},
    {"too many words", "[job a b]\n", "chored.conf:1: ", "more than a type and a name"},
    {"empty header", "[ ]\n", "chored.conf:1: ", "empty section header"},
    {"name too long", "[job aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa]\n",
     "chored.conf:1: ", "section name is 65 characters long; at most 64"},
    {"daemon with name", "[daemon x]\n", "chored.conf:1: [daemon x]: ", "[daemon] takes no name"},
    {"job without name", "[job]\n", "chored.conf:1: [job]: ", "needs a name: [job NAME]"},
    {"unknown daemon key", "[daemon]\ncolour = red\n", "chored.conf:2: [daemon] colour: ",
     "unknown key; [daemon] allows state, plugin_dir, timezone, listen, socket, admin_token, "
     "notify, history, display_timezone"},
    {"state", "[daemon]\nstate = sqlite://relative.db\n", "chored.conf:2: [daemon] state: ",
     "'sqlite://relative.db' is not valid; expected sqlite:///ABSOLUTE/PATH or postgresql://"},
    {"plugin_dir", "[daemon]\nplugin_dir = lib\n",
     "chored.conf:2: [daemon] plugin_dir: ", "expected an absolute directory path"},
    {"timezone", "[daemon]\ntimezone = Mars/Olympus\n",
     "chored.conf:2: [daemon] timezone: ", "Mars/Olympus"},
    {"listen port 0", "[daemon]\nlisten = 127.0.0.1:0\n",
     "chored.conf:2: [daemon] listen: ", "port from 1 to 65535"},
    {"listen port big", "[daemon]\nlisten = localhost:65536\n",
     "chored.conf:2: [daemon] listen: ", "'localhost:65536' is not valid"},
    {"listen v6 unbracketed", "[daemon]\nlisten = ::1:80\n",
     "chored.conf:2: [daemon] listen: ", "[IPv6]:PORT"},
    {"socket", "[daemon]\nsocket = chored.sock\n",
     "chored.conf:2: [daemon] socket: ", "expected an absolute path"},
    {"history", "[daemon]\nhistory = 0\n",
     "chored.conf:2: [daemon] history: ", "from 1 to 1000000"},
    {"display_timezone", "[daemon]\ndisplay_timezone = ../etc\n",
     "chored.conf:2: [daemon] display_timezone: ", "'..' is not allowed"},
    {"notify undefined sink", "[daemon]\nnotify = ops\n",
     "chored.conf:2: [daemon] notify: ", "'ops' is not a defined sink; define it as [notify ops]"},
    {"notify bad policy", "[daemon]\nnotify = ops:sometimes\n[notify ops]\ntype = outbox\n",
     "chored.conf:2: [daemon] notify: ", "'sometimes' in 'ops:sometimes' is not a policy"},
    {"notify twice", "[daemon]\nnotify = ops ops:always\n[notify ops]\ntype = outbox\n",
     "chored.conf:2: [daemon] notify: ", "listed twice"},
    {"plugin missing", "[job a]\nschedule = @daily\n",
     "chored.conf:1: [job a] plugin: ", "required for an enabled job"},
    {"schedule missing", "[job a]\nplugin = exec\n",
     "chored.conf:1: [job a] schedule: ", "required for an enabled job"},
    {"plugin name", "[job a]\nplugin = Exec!\nschedule = @daily\n",
     "chored.conf:2: [job a] plugin: ", "a-z 0-9 _ -"},
    {"schedule", "[job monthly-backup]\nplugin = exec\nschedule = 0 3 32 * *\n",
     "chored.conf:3: [job monthly-backup] schedule: ", "day-of-month 32 is out of range 1-31"},
    {"job timezone", "[job a]\n" JOB "timezone = Nowhere/City\n",
     "chored.conf:4: [job a] timezone: ", "Nowhere/City"},
    {"enabled", "[job a]\n" JOB "enabled = maybe\n",
     "chored.conf:4: [job a] enabled: ", "expected yes or no"},
    {"timeout", "[job a]\n" JOB "timeout = 5 minutes\n",
     "chored.conf:4: [job a] timeout: ", "is not a duration"},
    {"overlap", "[job a]\n" JOB "overlap = sometimes\n", "chored.conf:4: [job a] overlap: ",
     "'sometimes' is not valid; expected skip, queue or replace"},
    {"catchup", "[job a]\n" JOB "catchup = some\n",
     "chored.conf:4: [job a] catchup: ", "expected none, latest or all"},
    {"catchup_max", "[job a]\n" JOB "catchup_max = -1\n",
     "chored.conf:4: [job a] catchup_max: ", "a whole number"},
    {"catchup_within", "[job a]\n" JOB "catchup_within = 1x\n",
     "chored.conf:4: [job a] catchup_within: ", "not a duration"},
    {"jitter", "[job a]\n" JOB "jitter = 30m1h\n",
     "chored.conf:4: [job a] jitter: ", "not a duration"},
    {"retries", "[job a]\n" JOB "retries = 101\n",
     "chored.conf:4: [job a] retries: ", "from 0 to 100"},
    {"retry_delay", "[job a]\n" JOB "retry_delay = soon\n",
     "chored.conf:4: [job a] retry_delay: ", "not a duration"},
    {"memory_limit", "[job a]\n" JOB "memory_limit = 1X\n",
     "chored.conf:4: [job a] memory_limit: ", "not a size"},
    {"cpu_limit", "[job a]\n" JOB "cpu_limit = 1\n",
     "chored.conf:4: [job a] cpu_limit: ", "not a duration"},
    {"user", "[job a]\n" JOB "user = no-such-user-xyz\n",
     "chored.conf:4: [job a] user: ", "no such user 'no-such-user-xyz'"},
    {"job notify", "[job a]\n" JOB "notify = x:always\n",
     "chored.conf:4: [job a] notify: ", "'x' is not a defined sink"},
    {"sink type missing", "[notify m]\npath = /x\n",
     "chored.conf:1: [notify m] type: ", "required; one of outbox, smtp, resend, webhook, notion"},
    {"sink type unknown", "[notify m]\ntype = pager\n",
     "chored.conf:2: [notify m] type: ", "'pager' is not valid; expected outbox, smtp"},
    {"sink unknown key", "[notify m]\ntype = webhook\nurl = https://x\nfrom = a@b\n",
     "chored.conf:4: [notify m] from: ", "unknown key for type webhook; allowed: type, url, token"},
    {"sink required", "[notify m]\ntype = smtp\nurl = smtp://mail\nfrom = a@b\n",
     "chored.conf:1: [notify m] to: ", "required for type smtp"},
    {"smtp url", "[notify m]\ntype = smtp\nurl = http://mail\nfrom = a@b\nto = c@d\n",
     "chored.conf:3: [notify m] url: ", "expected smtp://HOST[:PORT] or smtps://"},
    {"webhook url", "[notify m]\ntype = webhook\nurl = ftp://x\n",
     "chored.conf:3: [notify m] url: ", "an http:// or https:// URL"},
    {"notion mode",
     "[notify m]\ntype = notion\ntoken = ${env:PATH}\nparent_page = p\nmode = replace\n",
     "chored.conf:5: [notify m] mode: ", "expected subpage or append"},
    {"outbox path", "[notify m]\ntype = outbox\npath = rel\n",
     "chored.conf:3: [notify m] path: ", "an absolute path"},
    {"resend from", "[notify m]\ntype = resend\napi_key = ${env:PATH}\nfrom = nobody\nto = a@b\n",
     "chored.conf:4: [notify m] from: ", "an e-mail address"},
};

static void test_error_case(void **state)
{
	const struct err_case *ec = *state;
	char *dir = new_dir();
	if (ec->main) {
		/* contents may hold a NUL: write up to the final newline */
		size_t len = strlen(ec->main);
		if (strstr(ec->name, "NUL"))
			len += 1 + strlen(ec->main + len + 1);
		put_n(dir, "chored.conf", 0644, ec->main, len);
	}
	expect_fail(dir, ec->prefix, ec->fragment);
	done(dir);
}

static void test_all_errors_collected(void **state)
{
	(void)state;
	char *dir = new_dir();
	put(dir, "chored.conf", 0644, "[daemon]\nhistory = 0\nbogus = 1\n[job a]\nretries = -1\n");
	put(dir, "conf.d/10-x.conf", 0664, "[job b]\n" JOB "overlap = x\n");
	struct cfg *c = (struct cfg *)1;
	struct cfg_diag d;
	assert_int_equal(load(dir, &c, &d), -1);
	assert_null(c);
	assert_int_equal(d.n_files, 2);
	/* sorted by file, then line */
	assert_int_equal(d.n_errors, 7);
	expect_error(&d, dir, "chored.conf:4: [job a] plugin: ", "required");
	expect_error(&d, dir, "chored.conf:4: [job a] schedule: ", "required");
	expect_error(&d, dir, "chored.conf:2: [daemon] history: ", "from 1");
	expect_error(&d, dir, "chored.conf:3: [daemon] bogus: ", "unknown key");
	expect_error(&d, dir, "chored.conf:5: [job a] retries: ", "from 0 to 100");
	expect_error(&d, dir, "conf.d/10-x.conf: ", "writable");
	expect_error(&d, dir, "conf.d/10-x.conf:4: [job b] overlap: ", "skip");
	char want[4096];
	snprintf(want, sizeof want, "%s/chored.conf:2:", dir);
	assert_true(strncmp(d.errors[0], want, strlen(want)) == 0);
	snprintf(want, sizeof want, "%s/conf.d/10-x.conf:4:", dir);
	assert_true(strncmp(d.errors[6], want, strlen(want)) == 0);
	cfg_diag_free(&d);
	/* conf.d that is not a directory */
	put(dir, "chored.conf", 0644, "[job a]\n" JOB);
	rm_rf(strcat(strcpy(want, dir), "/conf.d"));
	put(dir, "conf.d", 0644, "");
	expect_fail(dir, "conf.d: ", "cannot read the directory");
	done(dir);
}

int main(void)
{
	static const struct CMUnitTest fixed[] = {
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_all_keys),
	    cmocka_unit_test(test_precedence_and_order),
	    cmocka_unit_test(test_ignored_names),
	    cmocka_unit_test(test_relative_main_path),
	    cmocka_unit_test(test_missing_confd_and_symlinks),
	    cmocka_unit_test(test_permissions),
	    cmocka_unit_test(test_references),
	    cmocka_unit_test(test_reference_errors),
	    cmocka_unit_test(test_secret_literal_refused),
	    cmocka_unit_test(test_secret_never_in_errors),
	    cmocka_unit_test(test_long_value_round_trip),
	    cmocka_unit_test(test_overlong_line),
	    cmocka_unit_test(test_enabled_no_masks),
	    cmocka_unit_test(test_duplicate_key),
	    cmocka_unit_test(test_all_errors_collected),
	};
	enum {
		N_FIXED = sizeof fixed / sizeof *fixed,
		N_ERR = sizeof err_cases / sizeof *err_cases
	};
	static struct CMUnitTest tests[N_FIXED + N_ERR];
	static char names[N_ERR][96];
	memcpy(tests, fixed, sizeof fixed);
	for (size_t i = 0; i < N_ERR; i++) {
		snprintf(names[i], sizeof names[i], "error: %s", err_cases[i].name);
		tests[N_FIXED + i] = (struct CMUnitTest){
		    .name = names[i],
		    .test_func = test_error_case,
		    .initial_state = (void *)&err_cases[i],
		};
	}
	/* One group: the harness reads one TAP plan per program. */
	return _cmocka_run_group_tests("config", tests, N_FIXED + N_ERR, NULL, NULL);
}

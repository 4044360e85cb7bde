/* The plugin registry (daemon/plugins.h): which files load and the exact reason each bad
 * one is refused, option validation with FILE:LINE errors, secrets kept out of messages,
 * and the per-job input document for chored-run. Fixtures: tests/unit/plugin_fixtures/. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <ftw.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "plugins.h"
#include "plugins_value.h"

#ifndef FIXTURE_DIR
#error "FIXTURE_DIR (the built fixture .so files) must be defined"
#endif

/* ---- the plugin directories, built once for the group ---- */

static char top[PATH_MAX]; /* realpath of the temp dir */
static char pl[PATH_MAX];  /* every fixture, plus the files that must be refused or ignored */
static char pl2[PATH_MAX]; /* symlinks */
static struct plugin_set *set;

static void path_of(char *out, const char *dir, const char *name)
{
	assert_true(snprintf(out, PATH_MAX, "%s/%s", dir, name) < PATH_MAX);
}

/* Copies FIXTURE_DIR/from to dir/to with mode `mode`. */
static void copy_fixture(const char *from, const char *dir, const char *to, mode_t mode)
{
	char src[PATH_MAX], dst[PATH_MAX], buf[65536];
	path_of(src, FIXTURE_DIR, from);
	path_of(dst, dir, to);
	int in = open(src, O_RDONLY);
	assert_true(in >= 0);
	int out = open(dst, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(out >= 0);
	ssize_t n;
	while ((n = read(in, buf, sizeof buf)) > 0)
		assert_int_equal(write(out, buf, (size_t)n), n);
	assert_int_equal(fchmod(out, mode), 0);
	close(in);
	close(out);
}

static void write_file(const char *path, mode_t mode, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static int setup(void **state)
{
	(void)state;
	char tmpl[] = "/tmp/chored-plugins-test.XXXXXX";
	if (!mkdtemp(tmpl) || !realpath(tmpl, top))
		return -1;
	path_of(pl, top, "pl");
	path_of(pl2, top, "pl2");
	mkdir(pl, 0755);
	mkdir(pl2, 0755);
	static const char *const fixtures[] = {"good",  "abimajor",   "abiminor",
	                                       "small", "wrongname",  "nosym",
	                                       "norun", "baddefault", "dupkey"};
	for (size_t i = 0; i < sizeof fixtures / sizeof *fixtures; i++) {
		char name[64];
		snprintf(name, sizeof name, "%s.so", fixtures[i]);
		copy_fixture(name, pl, name, 0755);
	}
	copy_fixture("good.so", pl, "writable.so", 0666);
	copy_fixture("good.so", pl, "groupw.so", 0775);
	char p[PATH_MAX], target[PATH_MAX];
	path_of(p, pl, "garbage.so");
	write_file(p, 0644, "this is not an ELF file\n");
	path_of(p, pl, "notes.txt");
	write_file(p, 0644, "ignored: no .so suffix\n");
	path_of(p, pl, ".hidden.so");
	write_file(p, 0644, "ignored: hidden\n");
	path_of(p, pl, "good.so.bak");
	write_file(p, 0644, "ignored too\n");
	path_of(p, pl, "x.so");
	mkdir(p, 0755);
	path_of(p, pl, "Upper.so");
	write_file(p, 0644, "not a plugin name\n");

	/* pl2: a symlink to a good plugin loads; to nothing or to a writable file does not. */
	path_of(target, pl, "good.so");
	path_of(p, pl2, "good.so");
	if (symlink(target, p) != 0)
		return -1;
	path_of(p, pl2, "dangling.so");
	if (symlink("/nonexistent/dangling.so", p) != 0)
		return -1;
	path_of(target, pl, "writable.so");
	path_of(p, pl2, "writable.so");
	if (symlink(target, p) != 0)
		return -1;

	char err[256];
	return plugin_set_load(pl, &set, err, sizeof err);
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st, (void)flag, (void)f;
	return remove(p);
}

static int teardown(void **state)
{
	(void)state;
	plugin_set_free(set);
	nftw(top, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

/* The refusal message of `name` in `s`, which must exist and be refused. */
static const char *refusal(const struct plugin_set *s, const char *name)
{
	const struct plugin *p = plugin_lookup(s, name);
	assert_non_null(p);
	assert_null(p->desc);
	assert_null(p->dl);
	assert_non_null(p->error);
	assert_null(plugin_find(s, name));
	return p->error;
}

static void assert_refused(const struct plugin_set *s, const char *dir, const char *name,
                           const char *why)
{
	char want[PATH_MAX + 256];
	snprintf(want, sizeof want, "%s/%s.so: %s", dir, name, why);
	assert_string_equal(refusal(s, name), want);
}

/* ---- loading ---- */

static void test_sorted_and_ignored(void **state)
{
	(void)state;
	static const char *const want[] = {
	    "Upper",  "abimajor", "abiminor", "baddefault", "dupkey",   "garbage",   "good",
	    "groupw", "norun",    "nosym",    "small",      "writable", "wrongname", "x"};
	assert_int_equal(set->n, sizeof want / sizeof *want);
	for (size_t i = 0; i < set->n; i++)
		assert_string_equal(set->plugins[i].name, want[i]);
	assert_null(plugin_lookup(set, "notes"));
	assert_null(plugin_lookup(set, "good.so"));
	assert_null(plugin_lookup(set, ".hidden"));
	assert_string_equal(set->dir, pl);
}

static void test_good_loads(void **state)
{
	(void)state;
	const struct plugin *p = plugin_find(set, "good");
	assert_non_null(p);
	assert_ptr_equal(p, plugin_lookup(set, "good"));
	assert_null(p->error);
	assert_non_null(p->dl);
	char want[PATH_MAX];
	path_of(want, pl, "good.so");
	assert_string_equal(p->path, want);
	assert_string_equal(p->desc->name, "good");
	assert_string_equal(p->desc->version, "1.2.3");
	assert_null(plugin_lookup(set, "nope"));
	assert_null(plugin_find(set, "nope"));
}

static void test_abi_fields(void **state)
{
	(void)state;
	assert_refused(set, pl, "abimajor", "abi_major is 2, this chored supports 1");
	assert_refused(set, pl, "abiminor", "abi_minor is 3, this chored supports up to 0");
	char why[64];
	snprintf(why, sizeof why, "size is 40, expected at least %zu",
	         sizeof(struct chored_plugin));
	assert_refused(set, pl, "small", why);
}

static void test_descriptor_fields(void **state)
{
	(void)state;
	assert_refused(set, pl, "wrongname",
	               "name is 'other', expected 'wrongname' (the file name without .so)");
	assert_refused(set, pl, "nosym", "no symbol chored_plugin_v1 (not a chored plugin)");
	assert_refused(set, pl, "norun", "run is not set");
	assert_refused(set, pl, "baddefault",
	               "option 'pause': default 'soon' is not valid; expected a duration such as "
	               "90s, 15m, 2h, 3d or 2w");
	assert_refused(set, pl, "dupkey", "option 'count': duplicate key");
}

static void test_files_refused(void **state)
{
	(void)state;
	assert_refused(set, pl, "writable", "group- or world-writable (mode 0666)");
	assert_refused(set, pl, "groupw", "group- or world-writable (mode 0775)");
	assert_refused(set, pl, "x", "not a regular file (a directory)");
	assert_refused(set, pl, "Upper", "'Upper' is not a plugin name (a-z 0-9 _ -)");
	/* dlerror's text follows, naming the file again. */
	char want[2 * PATH_MAX + 64];
	snprintf(want, sizeof want, "%s/garbage.so: cannot load: %s/garbage.so: ", pl, pl);
	assert_memory_equal(refusal(set, "garbage"), want, strlen(want));
}

static void test_symlinks(void **state)
{
	(void)state;
	struct plugin_set *s;
	char err[256];
	assert_int_equal(plugin_set_load(pl2, &s, err, sizeof err), 0);
	assert_int_equal(s->n, 3);
	assert_non_null(plugin_find(s, "good"));
	assert_refused(s, pl2, "dangling", "symlink to nothing: No such file or directory");
	assert_refused(s, pl2, "writable", "group- or world-writable (mode 0666)");
	plugin_set_free(s);
}

static void test_dir_unreadable(void **state)
{
	(void)state;
	struct plugin_set *s = (struct plugin_set *)1;
	char err[256];
	assert_int_equal(plugin_set_load("/nonexistent/plugins", &s, err, sizeof err), -1);
	assert_null(s);
	assert_string_equal(err, "/nonexistent/plugins: cannot read the plugin directory: No "
	                         "such file or directory");
}

static void test_plugin_json(void **state)
{
	(void)state;
	struct json_object *j = plugin_json(plugin_lookup(set, "good"));
	struct json_object *opts, *cmds, *o;
	assert_string_equal(json_object_get_string(json_object_object_get(j, "abi")), "1.0");
	assert_string_equal(json_object_get_string(json_object_object_get(j, "summary")),
	                    "ABI fixture plugin");
	assert_false(json_object_object_get_ex(j, "error", NULL));
	assert_true(json_object_object_get_ex(j, "options", &opts));
	assert_int_equal(json_object_array_length(opts), 11);
	o = json_object_array_get_idx(opts, 5);
	assert_string_equal(
	    json_object_to_json_string_ext(o,
	                                   JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE),
	    "{\"key\":\"endpoint\",\"type\":\"url\",\"required\":true,\"secret\":false,"
	    "\"default\":null,\"help\":\"where to send it\"}");
	o = json_object_array_get_idx(opts, 3);
	assert_string_equal(json_object_get_string(json_object_object_get(o, "default")), "15m");
	assert_string_equal(json_object_get_string(json_object_object_get(o, "type")), "duration");
	o = json_object_array_get_idx(opts, 8);
	assert_true(json_object_get_boolean(json_object_object_get(o, "secret")));
	assert_true(json_object_object_get_ex(j, "commands", &cmds));
	assert_int_equal(json_object_array_length(cmds), 3);
	assert_string_equal(json_object_get_string(json_object_object_get(
	                        json_object_array_get_idx(cmds, 1), "usage")),
	                    "N");
	json_object_put(j);

	j = plugin_json(plugin_lookup(set, "abimajor"));
	char want[PATH_MAX + 64];
	snprintf(want, sizeof want, "%s/abimajor.so: abi_major is 2, this chored supports 1", pl);
	assert_string_equal(json_object_get_string(json_object_object_get(j, "error")), want);
	assert_int_equal(json_object_array_length(json_object_object_get(j, "options")), 0);
	json_object_put(j);
}

static void test_type_names(void **state)
{
	(void)state;
	static const char *const want[] = {"string", "int", "bool", "duration",
	                                   "size",   "url", "path", "list"};
	for (int t = CHORED_OPT_STRING; t <= CHORED_OPT_LIST; t++)
		assert_string_equal(plugin_opt_type_name((enum chored_opt_type)t), want[t]);
	assert_string_equal(plugin_opt_type_name((enum chored_opt_type)99), "unknown");
}

/* ---- validation ---- */

static char conf[PATH_MAX]; /* the last config written */

/* Loads a config made of a fixed 5-line head (plugin_dir = pl, three secrets) and
 * `jobs`, which therefore starts on line 6. */
static struct cfg *load_jobs(const char *jobs)
{
	static unsigned seq;
	char dir[PATH_MAX];
	assert_true(snprintf(dir, sizeof dir, "%s/conf%u", top, seq++) < (int)sizeof dir);
	assert_int_equal(mkdir(dir, 0755), 0);
	path_of(conf, dir, "chored.conf");
	char *text;
	assert_true(asprintf(&text,
	                     "[daemon]\nplugin_dir = %s\n[secrets]\ntok = s3cr3t-TOKEN\n"
	                     "other = 0ther-SECRET\n%s",
	                     pl, jobs) > 0);
	write_file(conf, 0600, text);
	free(text);
	struct cfg *cfg;
	struct cfg_diag diag = {0};
	int rc = cfg_load(conf, &cfg, &diag);
	for (size_t i = 0; i < diag.n_errors; i++)
		fprintf(stderr, "# unexpected config error: %s\n", diag.errors[i]);
	assert_int_equal(rc, 0);
	cfg_diag_free(&diag);
	return cfg;
}

/* Validates and compares every error with want[] (each "LINE: rest", FILE prefixed). */
static void assert_errors(const struct cfg *cfg, const char *const *want, size_t n)
{
	struct cfg_diag diag = {0};
	size_t got = plugin_validate_config(set, cfg, &diag);
	for (size_t i = 0; got != n && i < diag.n_errors; i++)
		fprintf(stderr, "# %s\n", diag.errors[i]);
	assert_int_equal(got, n);
	assert_int_equal(diag.n_errors, n);
	for (size_t i = 0; i < n; i++) {
		char full[PATH_MAX + 512];
		snprintf(full, sizeof full, "%s:%s", conf, want[i]);
		assert_string_equal(diag.errors[i], full);
		assert_null(strstr(diag.errors[i], "s3cr3t"));
		assert_null(strstr(diag.errors[i], "0ther-SECRET"));
	}
	cfg_diag_free(&diag);
}

static void test_valid_config(void **state)
{
	(void)state;
	struct cfg *cfg = load_jobs("[job ok]\n"
	                            "plugin = good\n"
	                            "schedule = @daily\n"
	                            "endpoint = https://example.com/hook\n"
	                            "count = -7\n"
	                            "verbose = on\n"
	                            "interval = 1h30m\n"
	                            "max_size = 512K\n"
	                            "root = /srv/x\n"
	                            "tags = a b c\n"
	                            "greeting = anything at all\n"
	                            "token = ${secret:tok}\n");
	assert_errors(cfg, NULL, 0);
	cfg_free(cfg);
}

static void test_schema_errors(void **state)
{
	(void)state;
	struct cfg *cfg = load_jobs("[job a]\n"                          /* 6 */
	                            "plugin = good\n"                    /* 7 */
	                            "schedule = @daily\n"                /* 8 */
	                            "endpoint = https://example.com/x\n" /* 9 */
	                            "count = many\n"                     /* 10 */
	                            "verbose = maybe\n"                  /* 11 */
	                            "interval = soon\n"                  /* 12 */
	                            "max_size = huge\n"                  /* 13 */
	                            "root = relative/path\n"             /* 14 */
	                            "cont = 3\n"                         /* 15 */
	                            "zzz = 1\n"                          /* 16 */
	                            "count2 = 99999999999999999999\n"    /* 17 */
	                            "[job b]\n"                          /* 18 */
	                            "plugin = good\n"                    /* 19 */
	                            "schedule = @daily\n"                /* 20 */
	                            "endpoint = example.com\n"           /* 21 */
	                            "[job c]\n"                          /* 22 */
	                            "plugin = good\n"                    /* 23 */
	                            "schedule = @daily\n");              /* 24 */
	static const char *const want[] = {
	    "10: [job a] count: 'many' is not valid; expected an integer",
	    "11: [job a] verbose: 'maybe' is not valid; expected yes or no (true/false, on/off, "
	    "1/0)",
	    "12: [job a] interval: 'soon' is not valid; expected a duration such as 90s, 15m, 2h, "
	    "3d or 2w",
	    "13: [job a] max_size: 'huge' is not valid; expected a size such as 512K, 64M or 1G",
	    "14: [job a] root: 'relative/path' is not valid; expected an absolute path",
	    "15: [job a] cont: unknown key for plugin 'good'; did you mean 'count'?",
	    "16: [job a] zzz: unknown key for plugin 'good'; valid keys: greeting, count, "
	    "verbose, interval, max_size, endpoint, root, tags, token, timeout, retries",
	    "17: [job a] count2: unknown key for plugin 'good'; did you mean 'count'?",
	    "21: [job b] endpoint: 'example.com' is not valid; expected a URL such as "
	    "https://example.com/path",
	    "22: [job c] endpoint: required by plugin 'good' (url)",
	};
	assert_errors(cfg, want, sizeof want / sizeof *want);
	cfg_free(cfg);
}

static void test_int_overflow(void **state)
{
	(void)state;
	struct cfg *cfg = load_jobs("[job a]\nplugin = good\nschedule = @daily\n"
	                            "endpoint = https://x/\ncount = 99999999999999999999\n");
	static const char *const want[] = {
	    "10: [job a] count: '99999999999999999999' is not valid; expected an integer"};
	assert_errors(cfg, want, 1);
	cfg_free(cfg);
}

static void test_plugin_missing_or_refused(void **state)
{
	(void)state;
	struct cfg *cfg = load_jobs("[job e]\n"           /* 6 */
	                            "plugin = nope\n"     /* 7 */
	                            "schedule = @daily\n" /* 8 */
	                            "[job f]\n"           /* 9 */
	                            "plugin = abimajor\n" /* 10 */
	                            "schedule = @daily\n" /* 11 */
	                            "[job off]\n"         /* 12 */
	                            "plugin = nope\n"     /* 13 */
	                            "enabled = no\n"      /* 14 */
	                            "bogus = 1\n");       /* 15 */
	char want_e[PATH_MAX + 64], want_f[2 * PATH_MAX + 128];
	snprintf(want_e, sizeof want_e, "7: [job e] plugin: no plugin 'nope' in %s", pl);
	snprintf(want_f, sizeof want_f,
	         "10: [job f] plugin: plugin 'abimajor' was refused: %s/abimajor.so: abi_major is "
	         "2, this chored supports 1",
	         pl);
	const char *const want[] = {want_e, want_f};
	assert_errors(cfg, want, 2);
	cfg_free(cfg);
}

static void test_secrets(void **state)
{
	(void)state;
	setenv("CHORED_TEST_ENV", "s3cr3t-ENV", 1);
	struct cfg *cfg = load_jobs("[job lit]\n"                        /* 6 */
	                            "plugin = good\n"                    /* 7 */
	                            "schedule = @daily\n"                /* 8 */
	                            "endpoint = https://x/\n"            /* 9 */
	                            "token = s3cr3t-LITERAL\n"           /* 10 */
	                            "[job mixed]\n"                      /* 11 */
	                            "plugin = good\n"                    /* 12 */
	                            "schedule = @daily\n"                /* 13 */
	                            "endpoint = https://x/\n"            /* 14 */
	                            "token = Bearer ${secret:tok}\n"     /* 15 */
	                            "[job ref]\n"                        /* 16 */
	                            "plugin = good\n"                    /* 17 */
	                            "schedule = @daily\n"                /* 18 */
	                            "endpoint = https://x/\n"            /* 19 */
	                            "count = ${secret:other}\n"          /* 20 */
	                            "token =\n"                          /* 21: empty = unset */
	                            "[job env]\n"                        /* 22 */
	                            "plugin = good\n"                    /* 23 */
	                            "schedule = @daily\n"                /* 24 */
	                            "endpoint = https://x/\n"            /* 25 */
	                            "token = ${env:CHORED_TEST_ENV}\n"); /* 26 */
	static const char *const want[] = {
	    "10: [job lit] token: must be a reference such as ${secret:NAME}, never a literal",
	    "15: [job mixed] token: must be exactly one ${secret:}, ${file:} or ${credential:} "
	    "reference, with no text around it",
	    "20: [job ref] count: the value (from a reference, not shown) is not valid; expected "
	    "an integer",
	    "26: [job env] token: must be a ${secret:}, ${file:} or ${credential:} reference; "
	    "${env:} is not for secrets",
	};
	assert_errors(cfg, want, sizeof want / sizeof *want);
	cfg_free(cfg);
}

static void test_plugin_check(void **state)
{
	(void)state;
	struct cfg *cfg = load_jobs("[job g]\n"               /* 6 */
	                            "plugin = good\n"         /* 7 */
	                            "schedule = @daily\n"     /* 8 */
	                            "endpoint = https://x/\n" /* 9 */
	                            "count = 500\n"           /* 10 */
	                            "[job h]\n"               /* 11 */
	                            "plugin = good\n"         /* 12 */
	                            "schedule = @daily\n"     /* 13 */
	                            "endpoint = https://x/\n" /* 14 */
	                            "token = ${secret:tok}\n" /* 15 */
	                            "tags = leak\n"           /* 16 */
	                            "[job i]\n"               /* 17 */
	                            "plugin = good\n"         /* 18 */
	                            "schedule = @daily\n"     /* 19 */
	                            "endpoint = https://x/\n" /* 20 */
	                            "tags = nokey\n"          /* 21 */
	                            "[job j]\n"               /* 22 */
	                            "plugin = good\n"         /* 23 */
	                            "schedule = @daily\n"     /* 24 */
	                            "count = 500\n"           /* 25: schema error first */
	                            "[job r]\n"               /* 26 */
	                            "plugin = good\n"         /* 27 */
	                            "schedule = @daily\n"     /* 28 */
	                            "endpoint = https://x/\n" /* 29 */
	                            "retries = 9\n");         /* 30: a daemon key, forwarded */
	static const char *const want[] = {
	    "10: [job g] count: at most 100, got 500",
	    "16: [job h] tags: token *** rejected",
	    "17: [job i]: tags and greeting do not go together",
	    "22: [job j] endpoint: required by plugin 'good' (url)",
	    "26: [job r] retries: at most 5, got 9",
	};
	assert_errors(cfg, want, sizeof want / sizeof *want);
	cfg_free(cfg);
}

static void test_check_config_hook(void **state)
{
	(void)state;
	struct cfg *cfg = load_jobs("[job e]\nplugin = nope\nschedule = @daily\n");
	struct cfg_diag diag = {0};
	assert_int_equal(plugin_check_config(cfg, &diag, true), 1);
	assert_int_equal(diag.n_errors, 1);
	cfg_diag_free(&diag);
	/* A plugin_dir that does not exist: nothing checked, no error. */
	free(cfg->daemon.plugin_dir);
	cfg->daemon.plugin_dir = strdup("/nonexistent/plugins");
	assert_int_equal(plugin_check_config(cfg, &diag, true), 0);
	assert_int_equal(diag.n_errors, 0);
	cfg_diag_free(&diag);
	/* One that exists but is no directory is an error. */
	free(cfg->daemon.plugin_dir);
	cfg->daemon.plugin_dir = strdup(conf);
	assert_int_equal(plugin_check_config(cfg, &diag, true), 1);
	char want[PATH_MAX + 64];
	snprintf(want, sizeof want, "%s: cannot read the plugin directory: Not a directory", conf);
	assert_string_equal(diag.errors[0], want);
	cfg_diag_free(&diag);
	cfg_free(cfg);
}

/* Daemon keys a plugin declares get the job's value: timeout and retries when set, the
 * job's zone always (its own or [daemon] timezone). */
static void test_forwarded(void **state)
{
	(void)state;
	static const struct chored_option opts[] = {
	    {"timezone", CHORED_OPT_STRING, 0, "UTC", "zone"},
	    {"retries", CHORED_OPT_INT, 0, NULL, "retries"},
	    {0},
	};
	struct chored_plugin desc = {.name = "z", .options = opts};
	struct cfg_job job = {.name = "j", .timezone = "Europe/Paris", .retries = 3, .timeout = 60};
	struct plugin_forward fw[PLUGIN_FORWARD_MAX];
	assert_int_equal(plugin_forwarded(&job, &desc, fw), 2);
	assert_string_equal(fw[0].key, "retries");
	assert_string_equal(fw[0].value, "3");
	assert_string_equal(fw[1].key, "timezone");
	assert_string_equal(fw[1].value, "Europe/Paris");
	/* Not declared: nothing forwarded. */
	desc.options = opts + 2;
	assert_int_equal(plugin_forwarded(&job, &desc, fw), 0);
}

/* ---- the input document of a run ---- */

static void test_job_input(void **state)
{
	(void)state;
	struct cfg *cfg = load_jobs("[job j]\n"
	                            "plugin = good\n"
	                            "schedule = @daily\n"
	                            "endpoint = https://example.com/j\n"
	                            "token = ${secret:tok}\n"
	                            "greeting = hi ${secret:other}\n"
	                            "count = 7\n"
	                            "timeout = 2m\n"
	                            "[job k]\n"
	                            "plugin = good\n"
	                            "schedule = @daily\n"
	                            "endpoint = https://example.com/k\n"
	                            "token = ${secret:other}\n"
	                            "[job f]\n"
	                            "plugin = abimajor\n"
	                            "schedule = @daily\n");
	struct json_object *j = plugin_job_input(set, cfg_find_job(cfg, "j"));
	assert_non_null(j);
	char want[PATH_MAX + 512];
	snprintf(want, sizeof want,
	         "{\"plugin\":\"%s/good.so\",\"job\":\"j\",\"options\":{"
	         "\"endpoint\":\"https://example.com/j\",\"token\":\"s3cr3t-TOKEN\","
	         "\"greeting\":\"hi 0ther-SECRET\",\"count\":\"7\",\"timeout\":\"2m\","
	         "\"verbose\":\"no\",\"interval\":\"15m\",\"max_size\":\"64M\","
	         "\"retries\":\"0\"},"
	         "\"redact\":[\"s3cr3t-TOKEN\",\"hi 0ther-SECRET\",\"0ther-SECRET\"]}",
	         pl);
	assert_string_equal(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN |
	                                                          JSON_C_TO_STRING_NOSLASHESCAPE),
	                    want);
	json_object_put(j);

	/* k's redact list holds only k's secret. */
	j = plugin_job_input(set, cfg_find_job(cfg, "k"));
	struct json_object *r = json_object_object_get(j, "redact");
	assert_int_equal(json_object_array_length(r), 1);
	assert_string_equal(json_object_get_string(json_object_array_get_idx(r, 0)),
	                    "0ther-SECRET");
	assert_null(strstr(json_object_to_json_string(j), "s3cr3t-TOKEN"));
	assert_string_equal(json_object_get_string(json_object_object_get(
	                        json_object_object_get(j, "options"), "timeout")),
	                    "30s");
	json_object_put(j);

	assert_null(plugin_job_input(set, cfg_find_job(cfg, "f")));
	cfg_free(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sorted_and_ignored),
	    cmocka_unit_test(test_good_loads),
	    cmocka_unit_test(test_abi_fields),
	    cmocka_unit_test(test_descriptor_fields),
	    cmocka_unit_test(test_files_refused),
	    cmocka_unit_test(test_symlinks),
	    cmocka_unit_test(test_dir_unreadable),
	    cmocka_unit_test(test_plugin_json),
	    cmocka_unit_test(test_type_names),
	    cmocka_unit_test(test_valid_config),
	    cmocka_unit_test(test_schema_errors),
	    cmocka_unit_test(test_int_overflow),
	    cmocka_unit_test(test_plugin_missing_or_refused),
	    cmocka_unit_test(test_secrets),
	    cmocka_unit_test(test_plugin_check),
	    cmocka_unit_test(test_check_config_hook),
	    cmocka_unit_test(test_forwarded),
	    cmocka_unit_test(test_job_input),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

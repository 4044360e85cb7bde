/* chorectl plugins, plugin info and PLUGIN SUBCOMMAND: offline verbs that load the plugin
 * directory of the configuration themselves (no daemon needed). */
#include "chored-build.h"

#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "chorectl.h"
#include "config.h"
#include "job_private.h"
#include "plugins.h"
#include "state_peek.h"
#include "sysexits_compat.h"
#include "xalloc.h"

static const char plugins_usage[] =
    "Usage: chorectl [-c FILE] plugins [--json]\n"
    "\n"
    "Lists every NAME.so of the configuration's plugin_dir, sorted by name: name, version,\n"
    "ABI version and summary, or the reason a plugin was refused. Exit status 0, 66 when\n"
    "the plugin directory cannot be read, 78 when the configuration is rejected.\n"
    "\n"
    "  --json   print an array of plugin descriptions instead\n";

static const char plugin_usage[] =
    "Usage: chorectl [-c FILE] plugin info NAME [--json]\n"
    "\n"
    "Prints plugin NAME's options (key, type, required, secret, default, help) and its\n"
    "subcommands. Exit status 0, 66 when there is no plugin NAME, 78 when it was refused.\n"
    "\n"
    "  --json   print the plugin's description as JSON instead\n";

static void json_print(struct json_object *j)
{
	puts(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN |
	                                           JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(j);
}

/* Loads the configuration and its plugin directory. quiet: print nothing on failure (for
 * dispatch, where the word may just be a mistyped verb). Returns 0 or an exit status. */
static int open_plugins(const char *config, const char *verb, bool quiet, struct plugin_set **set,
                        struct cfg **cfg_out)
{
	struct cfg *cfg = NULL;
	struct cfg_diag diag = {0};
	int rc = 0;
	*set = NULL;
	if (cfg_load(config, &cfg, &diag) != 0) {
		if (!quiet) {
			for (size_t i = 0; i < diag.n_errors; i++)
				fprintf(stderr, "%s\n", diag.errors[i]);
			fprintf(stderr, "chorectl %s: configuration %s rejected (%zu error%s)\n",
			        verb, config ? config : cfg_default_path(), diag.n_errors,
			        diag.n_errors == 1 ? "" : "s");
		}
		rc = EX_CONFIG;
	} else {
		char err[512];
		if (plugin_set_load(cfg->daemon.plugin_dir, set, err, sizeof err) != 0) {
			if (!quiet)
				fprintf(stderr, "chorectl %s: %s\n", verb, err);
			rc = EX_NOINPUT;
		}
	}
	cfg_diag_free(&diag);
	if (cfg_out && rc == 0)
		*cfg_out = cfg;
	else
		cfg_free(cfg);
	return rc;
}

/* Parses [-c FILE] [--json] [-h]; returns -1 to go on, else an exit status. */
static int verb_options(int argc, char **argv, const char *usage, const char **config, bool *json)
{
	static const struct option longopts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int ch;
	while ((ch = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			*config = optarg;
			break;
		case 'j':
			*json = true;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			fputs(usage, stderr);
			return EX_USAGE;
		}
	}
	return -1;
}

static const char *or_dash(const char *s)
{
	return s && *s ? s : "-";
}

int chorectl_plugins(const struct chorectl_opts *o, int argc, char **argv)
{
	const char *config = o->config;
	bool json = o->json;
	int rc = verb_options(argc, argv, plugins_usage, &config, &json);
	if (rc >= 0)
		return rc;
	if (optind != argc) {
		fputs(plugins_usage, stderr);
		return EX_USAGE;
	}
	struct plugin_set *set;
	if ((rc = open_plugins(config, "plugins", false, &set, NULL)))
		return rc;
	if (json) {
		struct json_object *arr = json_object_new_array();
		for (size_t i = 0; i < set->n; i++)
			json_object_array_add(arr, plugin_json(&set->plugins[i]));
		json_print(arr);
		plugin_set_free(set);
		return 0;
	}
	int wn = 4, wv = 7;
	for (size_t i = 0; i < set->n; i++) {
		const struct plugin *p = &set->plugins[i];
		if ((int)strlen(p->name) > wn)
			wn = (int)strlen(p->name);
		if (p->desc && (int)strlen(or_dash(p->desc->version)) > wv)
			wv = (int)strlen(or_dash(p->desc->version));
	}
	if (!set->n)
		printf("no plugins in %s\n", set->dir);
	else
		printf("%-*s  %-*s  %-3s  %s\n", wn, "NAME", wv, "VERSION", "ABI", "SUMMARY");
	for (size_t i = 0; i < set->n; i++) {
		const struct plugin *p = &set->plugins[i];
		if (p->desc)
			printf("%-*s  %-*s  %u.%u  %s\n", wn, p->name, wv,
			       or_dash(p->desc->version), (unsigned)p->desc->abi_major,
			       (unsigned)p->desc->abi_minor,
			       p->desc->summary ? p->desc->summary : "");
		else
			printf("%-*s  %-*s  %-3s  refused: %s\n", wn, p->name, wv, "-", "-",
			       p->error);
	}
	plugin_set_free(set);
	return 0;
}

static void print_info(const struct plugin *p)
{
	const struct chored_plugin *d = p->desc;
	printf("%s %s (ABI %u.%u): %s\n", p->name, or_dash(d->version), (unsigned)d->abi_major,
	       (unsigned)d->abi_minor, d->summary ? d->summary : "");
	printf("path: %s\n", p->path);
	int wk = 3, wd = 7;
	for (const struct chored_option *x = d->options; x && x->key; x++) {
		if ((int)strlen(x->key) > wk)
			wk = (int)strlen(x->key);
		if ((int)strlen(or_dash(x->def)) > wd)
			wd = (int)strlen(or_dash(x->def));
	}
	if (d->options && d->options->key) {
		printf("\nOptions:\n  %-*s  %-8s  %-8s  %-6s  %-*s  %s\n", wk, "KEY", "TYPE",
		       "REQUIRED", "SECRET", wd, "DEFAULT", "HELP");
		for (const struct chored_option *x = d->options; x->key; x++)
			printf("  %-*s  %-8s  %-8s  %-6s  %-*s  %s\n", wk, x->key,
			       plugin_opt_type_name(x->type),
			       x->flags & CHORED_OPT_REQUIRED ? "yes" : "no",
			       x->flags & CHORED_OPT_SECRET ? "yes" : "no", wd, or_dash(x->def),
			       x->help ? x->help : "");
	} else {
		printf("\nOptions: none\n");
	}
	if (d->commands && d->commands->name) {
		printf("\nSubcommands:\n");
		for (const struct chored_command *c = d->commands; c->name; c++)
			printf("  chorectl %s %s%s%s\n      %s\n", p->name, c->name,
			       c->usage && *c->usage ? " " : "", c->usage ? c->usage : "",
			       c->help ? c->help : "");
	} else {
		printf("\nSubcommands: none\n");
	}
}

int chorectl_plugin(const struct chorectl_opts *o, int argc, char **argv)
{
	const char *config = o->config;
	bool json = o->json;
	int rc = verb_options(argc, argv, plugin_usage, &config, &json);
	if (rc >= 0)
		return rc;
	if (argc - optind != 2 || strcmp(argv[optind], "info") != 0) {
		if (argc - optind >= 1 && strcmp(argv[optind], "info") != 0)
			fprintf(stderr, "chorectl plugin: unknown subcommand '%s'\n", argv[optind]);
		fputs(plugin_usage, stderr);
		return EX_USAGE;
	}
	const char *name = argv[optind + 1];
	struct plugin_set *set;
	if ((rc = open_plugins(config, "plugin info", false, &set, NULL)))
		return rc;
	const struct plugin *p = plugin_lookup(set, name);
	if (!p) {
		fprintf(stderr, "chorectl plugin info: no plugin '%s' in %s\n", name, set->dir);
		rc = EX_NOINPUT;
	} else {
		if (json)
			json_print(plugin_json(p));
		else if (p->desc)
			print_info(p);
		if (!p->desc) {
			fprintf(stderr, "chorectl plugin info: plugin '%s' was refused: %s\n", name,
			        p->error);
			rc = EX_CONFIG;
		}
	}
	plugin_set_free(set);
	return rc;
}

static void list_commands(FILE *f, const struct plugin *p)
{
	const struct chored_command *c = p->desc->commands;
	if (!c || !c->name) {
		fprintf(f, "plugin '%s' has no subcommands\n", p->name);
		return;
	}
	fprintf(f, "Usage: chorectl %s SUBCOMMAND [ARGS…]\n\nSubcommands of plugin '%s':\n",
	        p->name, p->name);
	for (; c->name; c++)
		fprintf(f, "  %s%s%s\n      %s\n", c->name, c->usage && *c->usage ? " " : "",
		        c->usage ? c->usage : "", c->help ? c->help : "");
}

/* Calls the subcommand with argv[0] = its name; `chorectl --json PLUGIN SUB …` hands the
 * subcommand --json as its first argument. */
static int run_command(const struct chorectl_opts *o, const struct chored_command *c, int argc,
                       char **argv)
{
	char **args = xcalloc((size_t)argc + 2, sizeof *args);
	int n = 0;
	args[n++] = argv[0];
	if (o->json)
		args[n++] = (char *)"--json";
	for (int i = 1; i < argc; i++)
		args[n++] = argv[i];
	optind = 0; /* the subcommand may parse its options with getopt */
	int rc = c->fn(n, args);
	free(args);
	return rc;
}

/* What chored_command_job sees during one subcommand: the configuration, the plugin, and
 * the jobs it handed out (freed after the subcommand). */
struct cmd_host {
	const struct cfg *cfg;
	const struct plugin_set *set;
	const struct plugin *p;
	const char *config;
	struct chored_job **jobs;
	size_t n_jobs;
};

/* A plugin's log records during a subcommand: "chorectl PLUGIN: message" on stderr. */
static void print_record(void *data, struct json_object *rec)
{
	const struct plugin *p = data;
	struct json_object *t, *msg;
	if (json_object_object_get_ex(rec, "t", &t) &&
	    strcmp(json_object_get_string(t), "log") == 0 &&
	    json_object_object_get_ex(rec, "msg", &msg))
		fprintf(stderr, "chorectl %s: %s\n", p->name, json_object_get_string(msg));
}

static struct chored_job *command_job(void *data, const char *name, char *err, size_t errlen)
{
	struct cmd_host *h = data;
	const char *config = h->config ? h->config : cfg_default_path();
	const struct cfg_job *j = NULL;
	if (name) {
		j = cfg_find_job(h->cfg, name);
		if (!j) {
			snprintf(err, errlen, "no job '%s' in %s", name, config);
			return NULL;
		}
		if (strcmp(j->plugin, h->p->name) != 0) {
			snprintf(err, errlen, "job '%s' uses plugin %s, not %s", name, j->plugin,
			         h->p->name);
			return NULL;
		}
	} else {
		size_t n = 0;
		char names[256] = "";
		for (size_t i = 0; i < h->cfg->n_jobs; i++) {
			if (strcmp(h->cfg->jobs[i].plugin, h->p->name) != 0)
				continue;
			j = &h->cfg->jobs[i];
			size_t len = strlen(names);
			snprintf(names + len, sizeof names - len, "%s%s", n ? ", " : "", j->name);
			n++;
		}
		if (n != 1) {
			if (n)
				snprintf(err, errlen, "several jobs use plugin %s (%s): name one",
				         h->p->name, names);
			else
				snprintf(err, errlen, "no job of %s uses plugin %s", config,
				         h->p->name);
			return NULL;
		}
	}
	struct json_object *in = plugin_job_input(h->set, j), *kv = NULL;
	if (!in) {
		snprintf(err, errlen, "plugin %s is not loaded", h->p->name);
		return NULL;
	}
	if (state_peek_kv(h->cfg->daemon.state, j->name, &kv, err, errlen) < 0) {
		json_object_put(in);
		return NULL;
	}
	json_object_object_add(in, "state", kv);
	/* The state of the jobs its CHORED_OPT_JOB options name (chored_state_peer). */
	struct json_object *peers = json_object_new_object();
	for (size_t i = 0; i < j->n_options; i++) {
		const struct chored_option *op = h->p->desc->options;
		while (op && op->key && strcmp(op->key, j->options[i].key) != 0)
			op++;
		if (!op || !op->key || !(op->flags & CHORED_OPT_JOB))
			continue;
		struct json_object *pkv = NULL;
		if (state_peek_kv(h->cfg->daemon.state, j->options[i].value, &pkv, err, errlen) <
		    0) {
			json_object_put(peers);
			json_object_put(in);
			return NULL;
		}
		json_object_object_add(peers, j->options[i].value, pkv);
	}
	json_object_object_add(in, "peers", peers);
	char *dir = cfg_state_dir(h->cfg->daemon.state);
	json_object_object_add(in, "state_dir", json_object_new_string(dir));
	free(dir);
	json_object_object_add(in, "nominal", json_object_new_int64((int64_t)time(NULL)));
	struct chored_job *job = chored__job_new(j->name, h->p->desc);
	chored__job_set_emit(job, print_record, (void *)h->p);
	chored__job_load_input(job, in);
	json_object_put(in);
	h->jobs = xrealloc(h->jobs, (h->n_jobs + 1) * sizeof *h->jobs);
	h->jobs[h->n_jobs++] = job;
	return job;
}

int chorectl_plugin_dispatch(const struct chorectl_opts *o, int argc, char **argv)
{
	if (argc < 1 || !cfg_plugin_name_valid(argv[0]))
		return -1;
	struct plugin_set *set;
	struct cfg *cfg = NULL;
	int rc = open_plugins(o->config, argv[0], true, &set, &cfg);
	/* A missing default config says nothing; a rejected one explains the unknown verb. */
	const char *path = o->config ? o->config : cfg_default_path();
	if (rc == EX_CONFIG && access(path, F_OK) == 0)
		fprintf(stderr,
		        "chorectl: '%s' was not looked up among the plugins: configuration %s "
		        "rejected (see chorectl check)\n",
		        argv[0], path);
	if (rc)
		return -1;
	const struct plugin *p = plugin_lookup(set, argv[0]);
	if (!p) {
		rc = -1;
	} else if (!p->desc) {
		fprintf(stderr, "chorectl: plugin '%s' was refused: %s\n", p->name, p->error);
		rc = EX_CONFIG;
	} else if (argc < 2) {
		list_commands(stderr, p);
		rc = EX_USAGE;
	} else if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		list_commands(stdout, p);
		rc = 0;
	} else {
		const struct chored_command *c = p->desc->commands;
		while (c && c->name && strcmp(c->name, argv[1]) != 0)
			c++;
		if (!c || !c->name) {
			fprintf(stderr,
			        "chorectl %s: unknown subcommand '%s' (see chorectl %s --help)\n",
			        p->name, argv[1], p->name);
			rc = EX_USAGE;
		} else {
			struct cmd_host host = {
			    .cfg = cfg, .set = set, .p = p, .config = o->config};
			chored__command_set_host(command_job, &host);
			rc = run_command(o, c, argc - 1, argv + 1);
			chored__command_set_host(NULL, NULL);
			for (size_t i = 0; i < host.n_jobs; i++)
				chored__job_free(host.jobs[i]);
			free(host.jobs);
			fflush(stdout);
			if (rc < 0 || rc > 255)
				rc = EX_SOFTWARE;
		}
	}
	plugin_set_free(set);
	cfg_free(cfg);
	return rc;
}

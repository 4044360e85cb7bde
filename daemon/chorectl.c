/* chorectl: the operator's command-line tool. Offline verbs (next, explain, check) work
 * without a running daemon. */
#include "chored-build.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "chorectl.h"
#include "sysexits_compat.h"

static const char usage_text[] =
    "Usage: chorectl [-c FILE] [--json] VERB [ARGS…]\n"
    "\n"
    "Verbs that need no daemon:\n"
    "  next EXPR|JOB [--tz ZONE] [--from TIME] [--count N] [--json]\n"
    "                      print the next fire times of a schedule or a configured job\n"
    "  next                print the next fire time of every enabled job in the config\n"
    "  explain EXPR [--tz ZONE]\n"
    "                      describe a schedule in words and warn about pitfalls\n"
    "  check               read the configuration, list the files read, then 'ok' or errors\n"
    "  plugins             list the plugins of the plugin directory (loaded and refused)\n"
    "  plugin info NAME    a plugin's options and subcommands\n"
    "  PLUGIN SUBCOMMAND … a plugin's own subcommand (chorectl PLUGIN --help lists them)\n"
    "\n"
    "Verbs that talk to the daemon (control socket):\n"
    "  status              daemon version, uptime, generation, jobs and runs in flight\n"
    "  list                every job with its next and last run\n"
    "  run JOB [--dry-run] [--at TIME] [--wait]\n"
    "                      start a run now; --wait streams its log and exits with its status\n"
    "  history JOB [--limit N]\n"
    "                      the job's recent runs\n"
    "  logs RUN            one run's record and log\n"
    "  cancel RUN          end a run in flight (recorded as cancelled)\n"
    "  reload [--wait]     reload the configuration; --wait prints the errors of a rejected one\n"
    "\n"
    "Options:\n"
    "  -c, --config FILE   main configuration file (default " SYSCONFDIR "/chored/chored.conf);\n"
    "                      its conf.d/ directory is read too\n"
    "      --json          machine-readable output\n"
    "  -h, --help          show this help (also: chorectl VERB --help)\n"
    "  -V, --version       show the version\n"
    "\n"
    "Exit status: 0 success, 64 usage error, 65 bad schedule or time, unknown job or run,\n"
    "69 daemon unreachable, 75 run ended partial, 70 run failed, 78 configuration error,\n"
    "130 interrupted (run --wait: the run goes on in the daemon).\n"
    "See chorectl(1).\n";

static const struct {
	const char *name;
	int (*fn)(const struct chorectl_opts *, int, char **);
} verbs[] = {
    {"next", chorectl_next},       {"explain", chorectl_explain}, {"check", chorectl_check},
    {"plugins", chorectl_plugins}, {"plugin", chorectl_plugin},   {"status", chorectl_status},
    {"list", chorectl_list},       {"run", chorectl_run},         {"history", chorectl_history},
    {"logs", chorectl_logs},       {"reload", chorectl_reload},   {"cancel", chorectl_cancel},
};

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	struct chorectl_opts o = {0};
	int ch;
	/* '+': stop at the verb, whose own options are parsed by the verb. */
	while ((ch = getopt_long(argc, argv, "+c:hV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			o.config = optarg;
			break;
		case 'j':
			o.json = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		case 'V':
			printf("chorectl %s\n", PACKAGE_VERSION);
			return 0;
		default:
			fputs(usage_text, stderr);
			return EX_USAGE;
		}
	}
	if (optind >= argc) {
		fputs(usage_text, stderr);
		return EX_USAGE;
	}
	const char *verb = argv[optind];
	if (!strcmp(verb, "help")) {
		fputs(usage_text, stdout);
		return 0;
	}
	if (!strcmp(verb, "version")) {
		printf("chorectl %s\n", PACKAGE_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++) {
		if (!strcmp(verb, verbs[i].name)) {
			int at = optind;
			optind = 0; /* the verb parses its own options with a fresh getopt state */
			return verbs[i].fn(&o, argc - at, argv + at);
		}
	}
	int at = optind;
	optind = 0;
	int rc = chorectl_plugin_dispatch(&o, argc - at, argv + at);
	if (rc >= 0)
		return rc;
	fprintf(stderr, "chorectl: unknown verb '%s' (see chorectl --help)\n", verb);
	return EX_USAGE;
}

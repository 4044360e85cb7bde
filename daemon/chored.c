/* chored: the job daemon. Checks a configuration (-t), or runs the scheduling
 * loop in the foreground (daemon.c); it never forks (daemon(7): systemd
 * supervises it). */
#include "chored-build.h"

#include <getopt.h>
#include <stdio.h>

#include "config.h"
#include "config_report.h"
#include "daemon.h"
#include "log.h"
#include "plugins.h"
#include "sysexits_compat.h"

static const char usage_text[] =
    "Usage: chored [-c FILE] [-t [-q]] [-f] [-d] [--log-format=text|json]\n"
    "\n"
    "  -c, --config FILE  main configuration file (default " SYSCONFDIR "/chored/chored.conf);\n"
    "                     its conf.d/ directory is read too\n"
    "  -t, --test         check the configuration and its plugins: list the files read in\n"
    "                     order, then 'ok' or every error; exit 0 or 78\n"
    "  -q, --quiet        with -t, print errors only\n"
    "  -f, --foreground   stay in the foreground (the only mode: chored never forks)\n"
    "  -d, --debug        log debug messages too (one timing line per run)\n"
    "      --log-format=FORMAT\n"
    "                     text (default; <N> priority prefixes unless stderr is a\n"
    "                     terminal) or json (one object per line)\n"
    "  -h, --help         show this help\n"
    "  -V, --version      show the version and the compiled-in paths\n"
    "\n"
    "See chored(8) and chored.conf(5).\n";

static void print_version(void)
{
	printf("chored %s\n"
	       "config:  %s\n"
	       "plugins: %s\n"
	       "runner:  %s/chored-run\n"
	       "state:   %s/lib/chored\n"
	       "socket:  %s/chored/chored.sock\n",
	       PACKAGE_VERSION, cfg_default_path(), PKGLIBDIR, PKGLIBEXECDIR, LOCALSTATEDIR,
	       RUNSTATEDIR);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"test", no_argument, NULL, 't'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"foreground", no_argument, NULL, 'f'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {"debug", no_argument, NULL, 'd'},
	    {"log-format", required_argument, NULL, 'L'},
	    {NULL, 0, NULL, 0},
	};
	const char *config = NULL;
	bool test = false, quiet = false;
	int ch, level = LOG_L_INFO;
	enum log_format fmt = LOG_FORMAT_TEXT;
	while ((ch = getopt_long(argc, argv, "c:tqfdhV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			config = optarg;
			break;
		case 't':
			test = true;
			break;
		case 'q':
			quiet = true;
			break;
		case 'f':
			break;
		case 'd':
			level = LOG_L_DEBUG;
			break;
		case 'L':
			if (log_format_parse(optarg, &fmt) < 0) {
				fprintf(stderr,
				        "chored: --log-format: expected text or json, not '%s'\n",
				        optarg);
				return EX_USAGE;
			}
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		case 'V':
			print_version();
			return 0;
		default:
			fputs(usage_text, stderr);
			return EX_USAGE;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "chored: unexpected argument '%s'\n", argv[optind]);
		fputs(usage_text, stderr);
		return EX_USAGE;
	}
	if (test) {
		struct cfg *cfg = NULL;
		struct cfg_diag diag = {0};
		if (cfg_load(config, &cfg, &diag) == 0)
			plugin_check_config(cfg, &diag, quiet);
		int rc = cfg_report(cfg, &diag, quiet);
		cfg_diag_free(&diag);
		cfg_free(cfg);
		return rc;
	}
	log_setup(fmt, level);
	struct daemon_opts opts = {.config_path = config};
	return daemon_main(&opts);
}

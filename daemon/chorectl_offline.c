/* chorectl verbs that need no daemon: next, explain, check. */
#include "chored-build.h"

#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chorectl.h"
#include "civil.h"
#include "config.h"
#include "config_report.h"
#include "cron.h"
#include "plugins.h"
#include "strbuf.h"
#include "sysexits_compat.h"
#include "tz.h"

#define NEXT_MAX_COUNT 100000

static const char next_usage[] =
    "Usage: chorectl next EXPR|JOB [--tz ZONE] [--from TIME] [--count N] [--json]\n"
    "       chorectl next [--from TIME] [--json]\n"
    "\n"
    "Prints the next N fire times (default 5) strictly after TIME (default now), one per\n"
    "line, in ISO 8601 local time with the offset of the schedule's zone.\n"
    "EXPR is a cron expression (5 or 6 fields, or @hourly, @daily, …, manual);\n"
    "a single word is looked up as a job in the configuration (-c FILE).\n"
    "Without an argument, prints the next fire time of every job in the configuration.\n"
    "\n"
    "  --tz ZONE     IANA time zone (default: the job's zone, else UTC)\n"
    "  --from TIME   ISO 8601 time with Z or an offset, e.g. 2026-03-29T00:00:00Z\n"
    "  --count N     how many fire times, 1-100000 (default 5)\n"
    "  --json        print a JSON object instead\n";

static const char explain_usage[] =
    "Usage: chorectl explain EXPR [--tz ZONE]\n"
    "\n"
    "Describes a schedule in words, then prints one 'warning:' line per pitfall found\n"
    "(day-of-month/day-of-week OR rule, Quartz-only syntax, numeric days of the week).\n";

static const char check_usage[] =
    "Usage: chorectl [-c FILE] check\n"
    "\n"
    "Reads the main configuration file and its conf.d/*.conf drop-ins, prints every file\n"
    "read in order, then 'ok' and a summary, or every error (FILE:LINE: [SECTION] KEY: …).\n"
    "Exit status 0 when the configuration is valid, 78 when it is not.\n";

/* A word without blanks that is neither a macro nor "manual" names a job. */
static bool looks_like_expression(const char *s)
{
	return strpbrk(s, " \t") || s[0] == '@' || !strcmp(s, "manual");
}

static int load_config(const struct chorectl_opts *o, struct cfg **cfg)
{
	struct cfg_diag diag = {0};
	int rc = cfg_load(o->config, cfg, &diag);
	if (rc != 0) {
		for (size_t i = 0; i < diag.n_errors; i++)
			fprintf(stderr, "%s\n", diag.errors[i]);
		fprintf(stderr, "chorectl: configuration %s rejected (%zu error%s)\n",
		        o->config ? o->config : cfg_default_path(), diag.n_errors,
		        diag.n_errors == 1 ? "" : "s");
	}
	cfg_diag_free(&diag);
	return rc == 0 ? 0 : EX_CONFIG;
}

static int parse_count(const char *s, int *count)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 1 || v > NEXT_MAX_COUNT) {
		fprintf(stderr, "chorectl next: --count '%s' is not a number from 1 to %d\n", s,
		        NEXT_MAX_COUNT);
		return EX_USAGE;
	}
	*count = (int)v;
	return 0;
}

static void json_print(struct json_object *j)
{
	puts(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN |
	                                           JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(j);
}

static const char *kind_word(enum cron_kind k)
{
	return k == CRON_REBOOT ? "@reboot" : "manual";
}

/* Next fire times of one schedule. */
static int next_one(const struct chorectl_opts *o, const char *label, const char *expr,
                    const struct cron *c, const struct tz *z, int64_t from, int count)
{
	if (c->kind != CRON_CALENDAR) {
		fprintf(stderr, "chorectl next: '%s' has no calendar fire times (%s)\n", expr,
		        c->kind == CRON_REBOOT
		            ? "it runs once when the daemon starts after a reboot"
		            : "it runs only when started by hand");
		if (o->json) {
			struct json_object *j = json_object_new_object();
			json_object_object_add(j, "schedule", json_object_new_string(expr));
			json_object_object_add(j, "timezone", json_object_new_string(tz_name(z)));
			json_object_object_add(j, "kind",
			                       json_object_new_string(kind_word(c->kind)));
			json_object_object_add(j, "next", json_object_new_array());
			json_print(j);
		}
		return 0;
	}
	struct json_object *arr = o->json ? json_object_new_array() : NULL;
	int64_t t = from;
	int n = 0;
	char buf[48];
	for (; n < count; n++) {
		if (!cron_next(c, z, t, &t))
			break;
		civil_format_iso(t, tz_offset_at(z, t), buf, sizeof buf);
		if (arr)
			json_object_array_add(arr, json_object_new_string(buf));
		else
			puts(buf);
	}
	if (arr) {
		struct json_object *j = json_object_new_object();
		if (label)
			json_object_object_add(j, "job", json_object_new_string(label));
		json_object_object_add(j, "schedule", json_object_new_string(expr));
		json_object_object_add(j, "timezone", json_object_new_string(tz_name(z)));
		json_object_object_add(j, "next", arr);
		json_print(j);
	}
	if (n == 0) {
		fprintf(stderr,
		        "chorectl next: schedule '%s' never fires (no matching date within 400 "
		        "years)\n",
		        expr);
		return EX_DATAERR;
	}
	return 0;
}

/* One line per job: name, next fire time (or why none), schedule and zone. */
static int next_all(const struct chorectl_opts *o, int64_t from)
{
	struct cfg *cfg;
	int rc = load_config(o, &cfg);
	if (rc)
		return rc;
	struct json_object *arr = o->json ? json_object_new_array() : NULL;
	for (size_t i = 0; i < cfg->n_jobs; i++) {
		const struct cfg_job *j = &cfg->jobs[i];
		char buf[48] = "";
		int64_t t;
		if (!j->enabled)
			snprintf(buf, sizeof buf, "disabled");
		else if (j->schedule.kind != CRON_CALENDAR)
			snprintf(buf, sizeof buf, "%s", kind_word(j->schedule.kind));
		else if (cron_next(&j->schedule, j->tz, from, &t))
			civil_format_iso(t, tz_offset_at(j->tz, t), buf, sizeof buf);
		else
			snprintf(buf, sizeof buf, "never");
		if (arr) {
			struct json_object *e = json_object_new_object();
			json_object_object_add(e, "job", json_object_new_string(j->name));
			json_object_object_add(e, "next", json_object_new_string(buf));
			json_object_object_add(
			    e, "schedule",
			    json_object_new_string(j->schedule_text ? j->schedule_text : ""));
			json_object_object_add(e, "timezone",
			                       json_object_new_string(tz_name(j->tz)));
			json_object_array_add(arr, e);
		} else {
			printf("%-24s %-26s %s (%s)\n", j->name, buf,
			       j->schedule_text ? j->schedule_text : "-", tz_name(j->tz));
		}
	}
	if (arr)
		json_print(arr);
	cfg_free(cfg);
	return 0;
}

int chorectl_next(const struct chorectl_opts *o_in, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"tz", required_argument, NULL, 'z'},    {"from", required_argument, NULL, 'f'},
	    {"count", required_argument, NULL, 'n'}, {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},        {NULL, 0, NULL, 0},
	};
	struct chorectl_opts o = *o_in;
	const char *zone = NULL, *from_text = NULL;
	int count = 5, ch, rc;
	char err[512];
	while ((ch = getopt_long(argc, argv, "hn:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'z':
			zone = optarg;
			break;
		case 'f':
			from_text = optarg;
			break;
		case 'n':
			if ((rc = parse_count(optarg, &count)))
				return rc;
			break;
		case 'j':
			o.json = true;
			break;
		case 'h':
			fputs(next_usage, stdout);
			return 0;
		default:
			fputs(next_usage, stderr);
			return EX_USAGE;
		}
	}
	if (argc - optind > 1) {
		fprintf(stderr,
		        "chorectl next: expected one schedule or job, got %d arguments "
		        "(quote the schedule: chorectl next '0 3 * * *')\n",
		        argc - optind);
		return EX_USAGE;
	}
	int64_t from = (int64_t)time(NULL);
	if (from_text && strcmp(from_text, "now") != 0 &&
	    civil_parse_iso(from_text, &from, err, sizeof err) != 0) {
		fprintf(stderr, "chorectl next: --from: %s\n", err);
		return EX_USAGE;
	}
	const struct tz *z = NULL;
	if (zone && !(z = tz_get(zone, err, sizeof err))) {
		fprintf(stderr, "chorectl next: --tz: %s\n", err);
		return EX_USAGE;
	}
	if (optind == argc) {
		if (zone) {
			fputs("chorectl next: --tz needs a schedule or a job\n", stderr);
			return EX_USAGE;
		}
		return next_all(&o, from);
	}

	const char *arg = argv[optind];
	if (looks_like_expression(arg)) {
		struct cron c;
		if (cron_parse(arg, &c, err, sizeof err) != 0) {
			fprintf(stderr, "chorectl next: schedule '%s': %s\n", arg, err);
			return EX_DATAERR;
		}
		return next_one(&o, NULL, arg, &c, z ? z : tz_utc(), from, count);
	}
	struct cfg *cfg;
	if ((rc = load_config(&o, &cfg)))
		return rc;
	const struct cfg_job *job = cfg_find_job(cfg, arg);
	if (!job) {
		fprintf(stderr,
		        "chorectl next: no job '%s' in the configuration; a schedule needs 5 or 6 "
		        "fields or a macro such as @daily\n",
		        arg);
		cfg_free(cfg);
		return EX_DATAERR;
	}
	rc = next_one(&o, job->name, job->schedule_text, &job->schedule, z ? z : job->tz, from,
	              count);
	cfg_free(cfg);
	return rc;
}

int chorectl_explain(const struct chorectl_opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"tz", required_argument, NULL, 'z'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *zone = "UTC";
	int ch;
	char err[512];
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'z':
			zone = optarg;
			break;
		case 'h':
			fputs(explain_usage, stdout);
			return 0;
		default:
			fputs(explain_usage, stderr);
			return EX_USAGE;
		}
	}
	if (argc - optind != 1) {
		fputs(explain_usage, stderr);
		return EX_USAGE;
	}
	const char *expr = argv[optind];
	if (!tz_get(zone, err, sizeof err)) {
		fprintf(stderr, "chorectl explain: --tz: %s\n", err);
		return EX_USAGE;
	}
	struct cron c;
	if (cron_parse(expr, &c, err, sizeof err) != 0) {
		fprintf(stderr, "chorectl explain: schedule '%s': %s\n", expr, err);
		return EX_DATAERR;
	}
	struct strbuf words = STRBUF_INIT, lint = STRBUF_INIT;
	cron_explain(&c, expr, zone, &words);
	cron_lint(&c, expr, &lint);
	if (o->json) {
		struct json_object *j = json_object_new_object(), *w = json_object_new_array();
		json_object_object_add(j, "schedule", json_object_new_string(expr));
		json_object_object_add(j, "timezone", json_object_new_string(zone));
		json_object_object_add(j, "description",
		                       json_object_new_string(strbuf_str(&words)));
		char *save = NULL, *copy = strbuf_detach(&lint);
		for (char *line = strtok_r(copy, "\n", &save); line;
		     line = strtok_r(NULL, "\n", &save))
			json_object_array_add(w, json_object_new_string(line));
		free(copy);
		json_object_object_add(j, "warnings", w);
		json_print(j);
	} else {
		puts(strbuf_str(&words));
		const char *p = strbuf_str(&lint);
		while (*p) {
			const char *nl = strchr(p, '\n');
			size_t n = nl ? (size_t)(nl - p) : strlen(p);
			printf("warning: %.*s\n", (int)n, p);
			p += n + (nl ? 1 : 0);
		}
	}
	strbuf_free(&words);
	strbuf_free(&lint);
	return 0;
}

int chorectl_check(const struct chorectl_opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *config = o->config;
	int ch;
	while ((ch = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			config = optarg;
			break;
		case 'h':
			fputs(check_usage, stdout);
			return 0;
		default:
			fputs(check_usage, stderr);
			return EX_USAGE;
		}
	}
	if (optind != argc) {
		fputs(check_usage, stderr);
		return EX_USAGE;
	}
	struct cfg *cfg = NULL;
	struct cfg_diag diag = {0};
	if (cfg_load(config, &cfg, &diag) == 0)
		plugin_check_config(cfg, &diag, false);
	int rc = cfg_report(cfg, &diag, false);
	cfg_diag_free(&diag);
	cfg_free(cfg);
	return rc;
}

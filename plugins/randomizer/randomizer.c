/* randomizer.so: weekly randomization of booking times (the business's CRON3). Picks next
 * weeks' slot times inside per-weekday windows, rotates the brands across them, applies each
 * brand's plan to its Cal.com schedule in one PATCH, reads it back, stores the plan in job
 * state (the slot watcher's expected slots) and sends a recap. chored-randomizer(7). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <chored/notify.h>
#include <chored/plugin.h>
#include <chored/report.h>

#include "calcom_sched.h"
#include "plan_io.h"

static const struct chored_option options[] = {
    {"api_key", CHORED_OPT_STRING, CHORED_OPT_REQUIRED | CHORED_OPT_SECRET, NULL,
     "Cal.com API key (cal_live_…)"},
    {"base_url", CHORED_OPT_URL, 0, "https://api.cal.com", "Cal.com API base URL"},
    {"brands", CHORED_OPT_LIST, CHORED_OPT_REQUIRED, NULL, "brand names, in rotation order"},
    {"schedule_ids", CHORED_OPT_LIST, CHORED_OPT_REQUIRED, NULL,
     "BRAND=ID: the Cal.com schedule of each brand"},
    {"booking_timezone", CHORED_OPT_STRING, 0, "UTC", "zone of the windows and the schedules"},
    {"windows", CHORED_OPT_STRING, CHORED_OPT_REQUIRED, NULL,
     "where each day's first slot starts: mon 13:00-16:00 wed 10:00-11:00 …"},
    {"weeks", CHORED_OPT_INT, 0, "4", "weeks planned ahead"},
    {"granularity", CHORED_OPT_DURATION, 0, "15m", "step between possible start times"},
    {"slots_per_day", CHORED_OPT_INT, 0, "3", "consecutive slots a window day gets"},
    {"slot_length", CHORED_OPT_DURATION, 0, "30m", "length of one slot"},
    {"seed", CHORED_OPT_INT, 0, NULL, "fixed random seed: the same plan every time (tests)"},
    {NULL, 0, 0, NULL, NULL},
};

static int check(struct chored_job *job)
{
	struct rz_opts o;
	const char *key;
	char err[256];
	int rc = rz_opts_load(job, &o, &key, err, sizeof err);
	if (rc < 0)
		chored_job_error(job, key, "%s", err);
	rz_opts_free(&o);
	return rc;
}

/* Makes the plan starting tomorrow (in the booking zone) after `prev`. */
static int make_plan(struct chored_job *job, const struct rz_opts *o, const struct plan *prev,
                     bool has_seed, uint64_t seed, struct plan *out, char *err, size_t errlen)
{
	int64_t first = rz_first_day(o, chored_job_now(job));
	if (first < 0) {
		snprintf(err, errlen, "unknown time zone %s", o->zone);
		return -1;
	}
	struct plan_seeded g;
	plan_seeded_init(&g, seed);
	return plan_make(&o->params, first, prev, has_seed ? plan_seeded_rand : plan_os_rand,
	                 has_seed ? &g : NULL, out, err, errlen);
}

/* The stored plan of `job`, or an empty one (with a warning when it cannot be read). */
static void load_prev(struct chored_job *job, const struct rz_opts *o, struct plan *prev)
{
	if (rz_plan_parse(o, chored_state_get(job, RZ_STATE_PLAN), prev) < 0) {
		chored_log(job, CHORED_LOG_WARNING,
		           "the stored plan is not readable: planning without last week's times");
		memset(prev, 0, sizeof *prev);
	}
}

/* What is live after applying: the new slots of brands applied, the old ones of the rest. */
static void merge_live(const struct plan *pl, const struct plan *prev, const bool *applied,
                       struct plan *live)
{
	live->n = 0;
	live->slots = calloc(pl->n + prev->n + 1, sizeof *live->slots);
	if (!live->slots)
		return;
	for (size_t i = 0; i < prev->n; i++)
		if (!applied[prev->slots[i].brand])
			live->slots[live->n++] = prev->slots[i];
	for (size_t i = 0; i < pl->n; i++)
		if (applied[pl->slots[i].brand])
			live->slots[live->n++] = pl->slots[i];
}

static enum chored_status run(struct chored_job *job)
{
	struct rz_opts o;
	const char *key;
	char err[512];
	if (rz_opts_load(job, &o, &key, err, sizeof err) < 0) {
		chored_summary(job, "%s%s%s", key ? key : "", key ? ": " : "", err);
		rz_opts_free(&o);
		return CHORED_FAILED;
	}
	struct plan prev, pl;
	load_prev(job, &o, &prev);
	if (make_plan(job, &o, &prev, o.has_seed, o.seed, &pl, err, sizeof err) < 0) {
		chored_summary(job, "no plan: %s", err);
		plan_free(&prev);
		rz_opts_free(&o);
		return CHORED_FAILED;
	}
	size_t nb = o.params.n_brands, ok = 0;
	bool applied[PLAN_MAX_BRANDS] = {false};
	char first_date[16] = "";
	if (pl.n) {
		struct json_object *j = rz_plan_json(&o, &pl), *s0;
		s0 = json_object_array_get_idx(json_object_object_get(j, "slots"), 0);
		snprintf(first_date, sizeof first_date, "%s",
		         json_object_get_string(json_object_object_get(s0, "date")));
		json_object_put(j);
	}
	char n_planned[24];
	snprintf(n_planned, sizeof n_planned, "%zu", pl.n);
	chored_log_kv(job, CHORED_LOG_INFO, "plan made", "slots", n_planned, "from", first_date,
	              NULL);
	if (chored_job_dry_run(job)) {
		chored_log(job, CHORED_LOG_NOTICE, "dry run: %zu slots planned, nothing applied",
		           pl.n);
		chored_summary(job, "dry run: %zu slots over %d weeks from %s", pl.n,
		               o.params.weeks, first_date);
		plan_free(&pl);
		plan_free(&prev);
		rz_opts_free(&o);
		return CHORED_OK;
	}
	struct chored_report *r = chored_report_new("Booking times for the next weeks");
	for (size_t b = 0; b < nb; b++) {
		chored_progress(job, b, nb);
		if (chored_job_cancelled(job))
			break;
		if (rz_apply_brand(job, &o, b, &pl, err, sizeof err) < 0) {
			chored_log(job, CHORED_LOG_ERR, "%s: %s", o.brands[b], err);
			chored_report_paragraph(r, "%s: not updated: %s", o.brands[b], err);
			chored_counter_add(job, "schedules_failed", 1);
			continue;
		}
		applied[b] = true;
		ok++;
		chored_counter_add(job, "schedules_updated", 1);
		chored_log(job, CHORED_LOG_INFO, "%s: schedule %ld updated and verified",
		           o.brands[b], o.schedule_ids[b]);
	}
	chored_progress(job, nb, nb);
	struct plan live;
	merge_live(&pl, &prev, applied, &live);
	if (ok) {
		struct json_object *j = rz_plan_json(&o, &live);
		chored_state_set(job, RZ_STATE_PLAN,
		                 json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN));
		json_object_put(j);
	}
	enum chored_status st = ok == nb ? CHORED_OK : ok ? CHORED_PARTIAL : CHORED_FAILED;
	chored_summary(job, "%zu slots over %d weeks from %s; %zu of %zu schedules updated", pl.n,
	               o.params.weeks, first_date, ok, nb);
	chored_report_set_status(r, st);
	char n_slots[24], n_ok[24];
	snprintf(n_slots, sizeof n_slots, "%zu", pl.n);
	snprintf(n_ok, sizeof n_ok, "%zu of %zu", ok, nb);
	chored_report_figure(r, "Slots planned", n_slots);
	chored_report_figure(r, "Schedules updated", n_ok);
	rz_plan_report(r, &o, &pl);
	chored_notify(job, r);
	chored_report_free(r);
	plan_free(&live);
	plan_free(&pl);
	plan_free(&prev);
	rz_opts_free(&o);
	return st;
}

/* Loads the job a subcommand names (argv[optind], or the only randomizer job). */
static struct chored_job *command_job(int argc, char **argv, const char *cmd, struct rz_opts *o)
{
	char err[512];
	const char *key;
	struct chored_job *job =
	    chored_command_job(optind < argc ? argv[optind] : NULL, err, sizeof err);
	if (!job) {
		fprintf(stderr, "chorectl randomizer %s: %s\n", cmd, err);
		return NULL;
	}
	if (rz_opts_load(job, o, &key, err, sizeof err) < 0) {
		fprintf(stderr, "chorectl randomizer %s: [job %s] %s: %s\n", cmd,
		        chored_job_name(job), key ? key : "options", err);
		rz_opts_free(o);
		return NULL;
	}
	return job;
}

static int cmd_plan(int argc, char **argv)
{
	static const struct option longopts[] = {{"seed", required_argument, NULL, 's'},
	                                         {"json", no_argument, NULL, 'j'},
	                                         {NULL, 0, NULL, 0}};
	bool has_seed = false, json = false;
	uint64_t seed = 0;
	for (int c; (c = getopt_long(argc, argv, "", longopts, NULL)) != -1;) {
		if (c == 's') {
			char *end;
			seed = strtoull(optarg, &end, 10);
			if (*end || end == optarg) {
				fprintf(stderr,
				        "chorectl randomizer plan: --seed: '%s' is not a number\n",
				        optarg);
				return 64;
			}
			has_seed = true;
		} else if (c == 'j') {
			json = true;
		} else {
			return 64;
		}
	}
	struct rz_opts o;
	struct chored_job *job = command_job(argc, argv, "plan", &o);
	if (!job)
		return 65;
	if (!has_seed && o.has_seed) {
		has_seed = true;
		seed = o.seed;
	}
	struct plan prev, pl;
	load_prev(job, &o, &prev);
	char err[512];
	int rc = 0;
	if (make_plan(job, &o, &prev, has_seed, seed, &pl, err, sizeof err) < 0) {
		fprintf(stderr, "chorectl randomizer plan: %s\n", err);
		rc = 65;
	} else {
		if (json) {
			struct json_object *j = rz_plan_json(&o, &pl);
			printf("%s\n", json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN));
			json_object_put(j);
		} else {
			rz_plan_print(stdout, &o, &pl);
		}
		plan_free(&pl);
	}
	plan_free(&prev);
	rz_opts_free(&o);
	return rc;
}

static int cmd_show(int argc, char **argv)
{
	static const struct option longopts[] = {{"json", no_argument, NULL, 'j'},
	                                         {NULL, 0, NULL, 0}};
	bool json = false;
	for (int c; (c = getopt_long(argc, argv, "", longopts, NULL)) != -1;) {
		if (c != 'j')
			return 64;
		json = true;
	}
	struct rz_opts o;
	struct chored_job *job = command_job(argc, argv, "show", &o);
	if (!job)
		return 65;
	const char *text = chored_state_get(job, RZ_STATE_PLAN);
	struct plan pl;
	int rc = 0;
	if (!text) {
		fprintf(stderr, "chorectl randomizer show: job %s has no stored plan yet\n",
		        chored_job_name(job));
	} else if (rz_plan_parse(&o, text, &pl) < 0) {
		fprintf(stderr, "chorectl randomizer show: the stored plan of %s is not readable\n",
		        chored_job_name(job));
		rc = 65;
	} else {
		if (json)
			printf("%s\n", text);
		else
			rz_plan_print(stdout, &o, &pl);
		plan_free(&pl);
	}
	rz_opts_free(&o);
	return rc;
}

static const struct chored_command commands[] = {
    {"plan", "[--seed N] [--json] [JOB]", "print the next plan without applying it", cmd_plan},
    {"show", "[--json] [JOB]", "print the plan stored by the last run", cmd_show},
    {NULL, NULL, NULL, NULL},
};

CHORED_EXPORT const struct chored_plugin chored_plugin_v1 = {
    CHORED_PLUGIN_HEADER, .name = "randomizer",
    .version = "1.0",     .summary = "randomize weekly booking times on Cal.com schedules",
    .options = options,   .commands = commands,
    .check = check,       .run = run,
};

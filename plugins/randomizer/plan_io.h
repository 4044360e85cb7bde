/* The randomizer's job-facing side of a plan: its options, its stored form in job state,
 * its table for humans. */
#ifndef CHORED_RANDOMIZER_PLAN_IO_H
#define CHORED_RANDOMIZER_PLAN_IO_H

#include <stdio.h>

#include <chored/job.h>
#include <chored/report.h>
#include <json-c/json.h>

#include "plan.h"

/* A job's randomizer options, parsed. Strings borrowed from the job. */
struct rz_opts {
	struct plan_params params;
	const char *brands[PLAN_MAX_BRANDS];
	long schedule_ids[PLAN_MAX_BRANDS]; /* parallel to brands */
	const char *zone;
	const char *base_url;
	const char *api_key;
	bool has_seed;
	uint64_t seed;
	char *words; /* owned: the split copies of brands and schedule_ids */
};

/* Parses and checks the options of `job`. Returns 0, or -1 with the key in *key and a
 * message in err. Free with rz_opts_free. */
int rz_opts_load(struct chored_job *job, struct rz_opts *o, const char **key, char *err,
                 size_t errlen);
void rz_opts_free(struct rz_opts *o);

/* The state key that holds the applied plan (the slot watcher reads it too). */
#define RZ_STATE_PLAN "plan"

/* {"zone","slot_length","slots":[{"date","start","end","brand","pos"}…]}: new reference. */
struct json_object *rz_plan_json(const struct rz_opts *o, const struct plan *pl);
/* Parses a stored plan back (brands matched by name; slots of unknown brands skipped).
 * Returns 0 (an absent or empty text gives an empty plan), or -1 when it is not a plan. */
int rz_plan_parse(const struct rz_opts *o, const char *text, struct plan *out);

/* The plan as a table: Date, Day, Time, Brand. */
void rz_plan_print(FILE *f, const struct rz_opts *o, const struct plan *pl);
void rz_plan_report(struct chored_report *r, const struct rz_opts *o, const struct plan *pl);

/* The first day of a new plan: tomorrow in the booking zone at `now`. */
int64_t rz_first_day(const struct rz_opts *o, int64_t now);

#endif

/* Options, stored form and table of a randomizer plan (plan_io.h). */
#include "plan_io.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <chored/time.h>

static const char *const wday[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};

/* Splits `s` (owned, modified) on blanks into at most `max` words; returns the count or
 * max + 1 when there are more. */
static size_t split(char *s, char **w, size_t max)
{
	size_t n = 0;
	for (char *save = NULL, *t = strtok_r(s, " \t", &save); t;
	     t = strtok_r(NULL, " \t", &save)) {
		if (n == max)
			return max + 1;
		w[n++] = t;
	}
	return n;
}

int rz_opts_load(struct chored_job *job, struct rz_opts *o, const char **key, char *err,
                 size_t errlen)
{
	memset(o, 0, sizeof *o);
	struct plan_params *p = &o->params;
	const char *brands = chored_job_opt(job, "brands"),
	           *ids = chored_job_opt(job, "schedule_ids");
	size_t lb = strlen(brands ? brands : ""), li = strlen(ids ? ids : "");
	o->words = malloc(lb + li + 2);
	if (!o->words) {
		*key = NULL;
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	memcpy(o->words, brands ? brands : "", lb + 1);
	memcpy(o->words + lb + 1, ids ? ids : "", li + 1);
	char *bw[PLAN_MAX_BRANDS + 1], *iw[PLAN_MAX_BRANDS + 1];
	size_t nb = split(o->words, bw, PLAN_MAX_BRANDS);
	size_t ni = split(o->words + lb + 1, iw, PLAN_MAX_BRANDS);
	*key = "brands";
	if (nb == 0 || nb > PLAN_MAX_BRANDS) {
		snprintf(err, errlen, "expected 1 to %d brand names", PLAN_MAX_BRANDS);
		return -1;
	}
	for (size_t i = 0; i < nb; i++) {
		o->brands[i] = bw[i];
		for (size_t j = 0; j < i; j++)
			if (strcmp(bw[i], bw[j]) == 0) {
				snprintf(err, errlen, "brand '%s' is named twice", bw[i]);
				return -1;
			}
	}
	*key = "schedule_ids";
	if (ni > PLAN_MAX_BRANDS) {
		snprintf(err, errlen, "more than %d items", PLAN_MAX_BRANDS);
		return -1;
	}
	for (size_t i = 0; i < ni; i++) {
		char *eq = strchr(iw[i], '=');
		if (!eq) {
			snprintf(err, errlen, "'%s' is not BRAND=ID", iw[i]);
			return -1;
		}
		*eq = '\0';
		char *end;
		errno = 0;
		long id = strtol(eq + 1, &end, 10);
		if (errno || *end || end == eq + 1 || id <= 0) {
			snprintf(err, errlen, "'%s=%s': the schedule id must be a positive number",
			         iw[i], eq + 1);
			return -1;
		}
		size_t b = 0;
		while (b < nb && strcmp(bw[b], iw[i]) != 0)
			b++;
		if (b == nb) {
			snprintf(err, errlen, "'%s' is not one of the brands", iw[i]);
			return -1;
		}
		o->schedule_ids[b] = id;
	}
	for (size_t b = 0; b < nb; b++)
		if (!o->schedule_ids[b]) {
			snprintf(err, errlen, "no schedule id for brand '%s' (add %s=ID)", bw[b],
			         bw[b]);
			return -1;
		}
	p->brands = o->brands;
	p->n_brands = nb;
	*key = "windows";
	if (plan_parse_windows(p, chored_job_opt(job, "windows"), err, errlen) < 0)
		return -1;
	p->granularity = (int)(chored_job_opt_int(job, "granularity") / 60);
	p->slot_length = (int)(chored_job_opt_int(job, "slot_length") / 60);
	p->slots_per_day = (int)chored_job_opt_int(job, "slots_per_day");
	p->weeks = (int)chored_job_opt_int(job, "weeks");
	if (chored_job_opt_int(job, "granularity") % 60 ||
	    chored_job_opt_int(job, "slot_length") % 60) {
		*key = chored_job_opt_int(job, "granularity") % 60 ? "granularity" : "slot_length";
		snprintf(err, errlen, "whole minutes expected");
		return -1;
	}
	if (plan_check(p, err, errlen) < 0) {
		*key = strncmp(err, "window", 6) == 0 ? "windows" : NULL;
		return -1;
	}
	*key = "booking_timezone";
	o->zone = chored_job_opt(job, "booking_timezone");
	if (chored_time_zone_check(o->zone, err, errlen) < 0)
		return -1;
	o->base_url = chored_job_opt(job, "base_url");
	o->api_key = chored_job_opt(job, "api_key");
	if (chored_job_opt(job, "seed")) {
		o->has_seed = true;
		o->seed = (uint64_t)chored_job_opt_int(job, "seed");
	}
	*key = NULL;
	return 0;
}

void rz_opts_free(struct rz_opts *o)
{
	free(o->words);
	o->words = NULL;
}

static void fmt_date(int64_t day, char *buf, size_t len)
{
	int y, m, d;
	chored_civil_from_days(day, &y, &m, &d);
	snprintf(buf, len, "%04d-%02d-%02d", y, m, d);
}

static void fmt_hhmm(int min, char *buf, size_t len)
{
	snprintf(buf, len, "%02d:%02d", min / 60, min % 60);
}

struct json_object *rz_plan_json(const struct rz_opts *o, const struct plan *pl)
{
	struct json_object *j = json_object_new_object(), *arr = json_object_new_array();
	json_object_object_add(j, "zone", json_object_new_string(o->zone));
	json_object_object_add(j, "slot_length", json_object_new_int(o->params.slot_length));
	for (size_t i = 0; i < pl->n; i++) {
		const struct plan_slot *s = &pl->slots[i];
		char d[32], a[16], b[16];
		fmt_date(s->day, d, sizeof d);
		fmt_hhmm(s->start, a, sizeof a);
		fmt_hhmm(s->start + o->params.slot_length, b, sizeof b);
		struct json_object *x = json_object_new_object();
		json_object_object_add(x, "date", json_object_new_string(d));
		json_object_object_add(x, "start", json_object_new_string(a));
		json_object_object_add(x, "end", json_object_new_string(b));
		json_object_object_add(x, "brand", json_object_new_string(o->brands[s->brand]));
		json_object_object_add(x, "pos", json_object_new_int(s->pos));
		json_object_array_add(arr, x);
	}
	json_object_object_add(j, "slots", arr);
	return j;
}

int rz_plan_parse(const struct rz_opts *o, const char *text, struct plan *out)
{
	memset(out, 0, sizeof *out);
	if (!text || !*text)
		return 0;
	struct json_object *j = json_tokener_parse(text), *arr;
	if (!j || !json_object_object_get_ex(j, "slots", &arr) ||
	    !json_object_is_type(arr, json_type_array)) {
		json_object_put(j);
		return -1;
	}
	size_t n = json_object_array_length(arr);
	out->slots = calloc(n ? n : 1, sizeof *out->slots);
	if (!out->slots) {
		json_object_put(j);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		struct json_object *x = json_object_array_get_idx(arr, i), *v;
		const char *date =
		    json_object_object_get_ex(x, "date", &v) ? json_object_get_string(v) : "";
		const char *start =
		    json_object_object_get_ex(x, "start", &v) ? json_object_get_string(v) : "";
		const char *brand =
		    json_object_object_get_ex(x, "brand", &v) ? json_object_get_string(v) : "";
		int pos = json_object_object_get_ex(x, "pos", &v) ? json_object_get_int(v) : 0;
		int y, m, d, hh, mm;
		if (sscanf(date, "%4d-%2d-%2d", &y, &m, &d) != 3 ||
		    sscanf(start, "%2d:%2d", &hh, &mm) != 2) {
			free(out->slots);
			out->slots = NULL;
			json_object_put(j);
			return -1;
		}
		size_t b = 0;
		while (b < o->params.n_brands && strcmp(o->brands[b], brand) != 0)
			b++;
		if (b == o->params.n_brands)
			continue; /* a brand no longer configured constrains nothing */
		out->slots[out->n++] =
		    (struct plan_slot){chored_days_from_civil(y, m, d), hh * 60 + mm, b, pos};
	}
	json_object_put(j);
	return 0;
}

void rz_plan_print(FILE *f, const struct rz_opts *o, const struct plan *pl)
{
	size_t w = 5;
	for (size_t b = 0; b < o->params.n_brands; b++)
		if (strlen(o->brands[b]) > w)
			w = strlen(o->brands[b]);
	fprintf(f, "DATE        DAY  TIME         BRAND\n");
	for (size_t i = 0; i < pl->n; i++) {
		const struct plan_slot *s = &pl->slots[i];
		char d[32], a[16], b[16];
		fmt_date(s->day, d, sizeof d);
		fmt_hhmm(s->start, a, sizeof a);
		fmt_hhmm(s->start + o->params.slot_length, b, sizeof b);
		fprintf(f, "%s  %s  %s-%s  %s\n", d, wday[chored_weekday(s->day)], a, b,
		        o->brands[s->brand]);
	}
	fprintf(f, "(times in %s)\n", o->zone);
}

void rz_plan_report(struct chored_report *r, const struct rz_opts *o, const struct plan *pl)
{
	static const char *const head[] = {"Date", "Day", "Time", "Brand"};
	chored_report_table_begin(r, 4, head);
	for (size_t i = 0; i < pl->n; i++) {
		const struct plan_slot *s = &pl->slots[i];
		char d[32], a[16], b[16], t[40];
		fmt_date(s->day, d, sizeof d);
		fmt_hhmm(s->start, a, sizeof a);
		fmt_hhmm(s->start + o->params.slot_length, b, sizeof b);
		snprintf(t, sizeof t, "%s-%s", a, b);
		const char *cells[] = {d, wday[chored_weekday(s->day)], t, o->brands[s->brand]};
		chored_report_table_row(r, cells);
	}
	chored_report_table_end(r);
	chored_report_paragraph(r, "Times are wall-clock times in %s.", o->zone);
}

int64_t rz_first_day(const struct rz_opts *o, int64_t now)
{
	struct chored_tm tm;
	if (chored_time_local(o->zone, now, &tm) < 0)
		return -1;
	return chored_days_from_civil(tm.year, tm.month, tm.day) + 1;
}

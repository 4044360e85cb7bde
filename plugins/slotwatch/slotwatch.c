/* slotwatch.so: daily health of public booking pages (the business's CRON2). Compares the
 * bookable slots of each page with the expected ones — the randomizer's stored plan, or at
 * least min_slots on each configured weekday — and notifies DEAD and REVIVED transitions
 * only. A page whose answer is an error is unknown for the run: never read as 0 slots.
 * chored-slotwatch(7). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <chored/http.h>
#include <chored/notify.h>
#include <chored/plugin.h>
#include <chored/report.h>
#include <chored/time.h>
#include <json-c/json.h>

#include "pages.h"

/* The state key: {"ITEM": {"since": UTC}} for every item now DEAD. An ITEM is
 * "BRAND YYYY-MM-DD HH:MM" (an expected slot) or "BRAND YYYY-MM-DD" (a day's minimum). */
#define SW_STATE_DEAD "dead"

static const struct chored_option options[] = {
    {"api_key", CHORED_OPT_STRING, CHORED_OPT_SECRET, NULL,
     "Cal.com API key (optional: slots are public)"},
    {"base_url", CHORED_OPT_URL, 0, "https://api.cal.com", "Cal.com API base URL"},
    {"pages", CHORED_OPT_LIST, CHORED_OPT_REQUIRED, NULL,
     "BRAND=SLUG@USERNAME or BRAND=EVENT_TYPE_ID for each booking page"},
    {"booking_timezone", CHORED_OPT_STRING, 0, "UTC", "zone of the dates and times reported"},
    {"weeks", CHORED_OPT_INT, 0, "4", "weeks watched ahead"},
    {"expect_from", CHORED_OPT_STRING, CHORED_OPT_JOB, NULL,
     "a randomizer job: its stored plan is the expected slots"},
    {"min_slots", CHORED_OPT_INT, 0, "1", "without expect_from: slots a watched day needs"},
    {"weekdays", CHORED_OPT_LIST, 0, "mon tue wed thu fri",
     "without expect_from: the days that must have min_slots"},
    {NULL, 0, 0, NULL, NULL},
};

struct sw_opts {
	struct sw_page pages[SW_MAX_PAGES];
	size_t n_pages;
	const char *zone, *base_url, *api_key, *expect_from;
	int weeks;
	long min_slots;
	bool weekday[7];
};

static const char *const wday[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

static int load_opts(struct chored_job *job, struct sw_opts *o, const char **key, char *err,
                     size_t errlen)
{
	memset(o, 0, sizeof *o);
	*key = "pages";
	int n = sw_pages_parse(chored_job_opt(job, "pages"), o->pages, SW_MAX_PAGES, err, errlen);
	if (n < 0)
		return -1;
	o->n_pages = (size_t)n;
	*key = "booking_timezone";
	o->zone = chored_job_opt(job, "booking_timezone");
	if (chored_time_zone_check(o->zone, err, errlen) < 0)
		return -1;
	*key = "weeks";
	o->weeks = (int)chored_job_opt_int(job, "weeks");
	if (o->weeks < 1 || o->weeks > 52) {
		snprintf(err, errlen, "expected 1 to 52");
		return -1;
	}
	*key = "min_slots";
	o->min_slots = (long)chored_job_opt_int(job, "min_slots");
	if (o->min_slots < 1) {
		snprintf(err, errlen, "expected at least 1");
		return -1;
	}
	*key = "weekdays";
	const char *w = chored_job_opt(job, "weekdays");
	for (const char *s = w; s && *s;) {
		while (*s == ' ' || *s == '\t')
			s++;
		if (!*s)
			break;
		const char *e = s;
		while (*e && *e != ' ' && *e != '\t')
			e++;
		int d = -1;
		for (int i = 0; i < 7; i++)
			if (e - s == 3 && strncasecmp(s, wday[i], 3) == 0)
				d = i;
		if (d < 0) {
			snprintf(err, errlen, "'%.*s' is not a weekday (mon … sun)", (int)(e - s),
			         s);
			return -1;
		}
		o->weekday[d] = true;
		s = e;
	}
	o->base_url = chored_job_opt(job, "base_url");
	o->api_key = chored_job_opt(job, "api_key");
	o->expect_from = chored_job_opt(job, "expect_from");
	if (o->expect_from && !*o->expect_from)
		o->expect_from = NULL;
	*key = NULL;
	return 0;
}

static int check(struct chored_job *job)
{
	struct sw_opts o;
	const char *key;
	char err[256];
	if (load_opts(job, &o, &key, err, sizeof err) < 0) {
		chored_job_error(job, key, "%s", err);
		return -1;
	}
	return 0;
}

/* One watched item of one run. */
struct item {
	char name[200]; /* "BRAND YYYY-MM-DD HH:MM" or "BRAND YYYY-MM-DD" */
	size_t page;
	bool known;      /* the page answered */
	bool alive;      /* bookable (or the day has its minimum) */
	char detail[64]; /* "2 of 3 slots" for day items */
};

struct items {
	struct item *v;
	size_t n, cap;
};

static struct item *add_item(struct items *it)
{
	if (it->n == it->cap) {
		it->cap = it->cap ? 2 * it->cap : 64;
		struct item *v = realloc(it->v, it->cap * sizeof *v);
		if (!v)
			return NULL;
		it->v = v;
	}
	struct item *x = &it->v[it->n++];
	memset(x, 0, sizeof *x);
	return x;
}

static void fmt_day(int64_t day, char *buf, size_t len)
{
	int y, m, d;
	chored_civil_from_days(day, &y, &m, &d);
	snprintf(buf, len, "%04d-%02d-%02d", y % 10000, m, d);
}

/* The expected slots of the randomizer's plan, for the pages' brands, after `now`. */
static int expect_plan(struct chored_job *job, const struct sw_opts *o, int64_t now, int64_t until,
                       struct sw_slots *slots, const bool *known, struct items *it, char *err,
                       size_t errlen)
{
	const char *text = chored_state_peer(job, o->expect_from, "plan");
	if (!text) {
		snprintf(err, errlen, "job %s has no stored plan yet", o->expect_from);
		return -1;
	}
	struct json_object *plan = json_tokener_parse(text);
	struct json_object *arr = chored_json_path(plan, "slots"),
	                   *zone = chored_json_path(plan, "zone");
	if (!arr || !zone || !json_object_is_type(arr, json_type_array)) {
		snprintf(err, errlen, "the stored plan of %s is not readable", o->expect_from);
		json_object_put(plan);
		return -1;
	}
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		struct json_object *s = json_object_array_get_idx(arr, i);
		struct json_object *d = chored_json_path(s, "date"),
		                   *st = chored_json_path(s, "start"),
		                   *b = chored_json_path(s, "brand");
		int y, m, dd, hh, mm;
		if (!d || !st || !b ||
		    sscanf(json_object_get_string(d), "%4d-%2d-%2d", &y, &m, &dd) != 3 ||
		    sscanf(json_object_get_string(st), "%2d:%2d", &hh, &mm) != 2)
			continue;
		size_t p = 0;
		while (p < o->n_pages && strcmp(o->pages[p].brand, json_object_get_string(b)) != 0)
			p++;
		int64_t t;
		if (p == o->n_pages ||
		    chored_time_utc(json_object_get_string(zone), y, m, dd, hh, mm, 0, &t) < 0 ||
		    t <= now || t >= until)
			continue;
		struct item *x = add_item(it);
		if (!x)
			break;
		struct chored_tm tm;
		chored_time_local(o->zone, t, &tm);
		snprintf(x->name, sizeof x->name, "%s %04d-%02d-%02d %02d:%02d", o->pages[p].brand,
		         tm.year % 10000, tm.month, tm.day, tm.hour, tm.minute);
		x->page = p;
		x->known = known[p];
		x->alive = known[p] && sw_slots_has(&slots[p], t);
	}
	json_object_put(plan);
	return 0;
}

/* Without a plan: each configured weekday of the horizon needs min_slots per page. */
static void expect_minimum(const struct sw_opts *o, int64_t today, int64_t last,
                           struct sw_slots *slots, const bool *known, struct items *it)
{
	for (size_t p = 0; p < o->n_pages; p++)
		for (int64_t day = today + 1; day <= last; day++) {
			if (!o->weekday[chored_weekday(day)])
				continue;
			long count = 0;
			for (size_t i = 0; known[p] && i < slots[p].n; i++) {
				struct chored_tm tm;
				chored_time_local(o->zone, slots[p].starts[i], &tm);
				count += chored_days_from_civil(tm.year, tm.month, tm.day) == day;
			}
			struct item *x = add_item(it);
			if (!x)
				return;
			char d[32];
			fmt_day(day, d, sizeof d);
			snprintf(x->name, sizeof x->name, "%s %s", o->pages[p].brand, d);
			x->page = p;
			x->known = known[p];
			x->alive = known[p] && count >= o->min_slots;
			snprintf(x->detail, sizeof x->detail, "%ld of %ld slots", count,
			         o->min_slots);
		}
}

static enum chored_status run(struct chored_job *job)
{
	struct sw_opts o;
	const char *key;
	char err[512];
	if (load_opts(job, &o, &key, err, sizeof err) < 0) {
		chored_summary(job, "%s%s%s", key ? key : "", key ? ": " : "", err);
		return CHORED_FAILED;
	}
	int64_t now = chored_job_now(job);
	struct chored_tm tm;
	chored_time_local(o.zone, now, &tm);
	int64_t today = chored_days_from_civil(tm.year, tm.month, tm.day);
	int64_t last = today + 7 * (int64_t)o.weeks;
	struct sw_slots slots[SW_MAX_PAGES];
	bool known[SW_MAX_PAGES] = {false};
	size_t n_unknown = 0;
	for (size_t p = 0; p < o.n_pages; p++) {
		chored_progress(job, p, o.n_pages);
		if (sw_fetch_slots(job, o.base_url, o.api_key, o.zone, &o.pages[p], today, last,
		                   &slots[p], err, sizeof err) < 0) {
			chored_log(job, CHORED_LOG_WARNING, "%s: unknown this run: %s",
			           o.pages[p].brand, err);
			chored_counter_add(job, "pages_unknown", 1);
			n_unknown++;
			continue;
		}
		known[p] = true;
		chored_counter_add(job, "slots_seen", (int64_t)slots[p].n);
	}
	chored_progress(job, o.n_pages, o.n_pages);
	struct items it = {0};
	enum chored_status st = n_unknown ? CHORED_PARTIAL : CHORED_OK;
	if (o.expect_from) {
		int64_t until;
		chored_time_utc(o.zone, tm.year, tm.month, tm.day + 1 + 7 * o.weeks, 0, 0, 0,
		                &until);
		if (expect_plan(job, &o, now, until, slots, known, &it, err, sizeof err) < 0) {
			chored_log(job, CHORED_LOG_ERR, "%s", err);
			chored_summary(job, "%s", err);
			st = CHORED_FAILED;
		}
	} else {
		expect_minimum(&o, today, last, slots, known, &it);
	}
	/* Transitions against the stored DEAD items. */
	struct json_object *dead = json_tokener_parse(
	    chored_state_get(job, SW_STATE_DEAD) ? chored_state_get(job, SW_STATE_DEAD) : "{}");
	if (!dead || !json_object_is_type(dead, json_type_object)) {
		json_object_put(dead);
		dead = json_object_new_object();
	}
	struct chored_report *r = chored_report_new("Booking slots");
	static const char *const head[] = {"Change", "Page", "Slot", "Detail"};
	size_t n_dead = 0, n_revived = 0, n_alive = 0, n_watch = 0;
	for (size_t i = 0; i < it.n && st != CHORED_FAILED; i++) {
		struct item *x = &it.v[i];
		if (!x->known)
			continue; /* an unknown page declares nothing */
		n_watch++;
		struct json_object *was;
		bool was_dead = json_object_object_get_ex(dead, x->name, &was);
		const char *change = NULL;
		if (!x->alive && !was_dead) {
			struct json_object *since = json_object_new_object();
			json_object_object_add(since, "since", json_object_new_int64(now));
			json_object_object_add(dead, x->name, since);
			change = "DEAD";
			n_dead++;
		} else if (x->alive && was_dead) {
			json_object_object_del(dead, x->name);
			change = "REVIVED";
			n_revived++;
		}
		n_alive += x->alive;
		if (!change)
			continue;
		if (n_dead + n_revived == 1)
			chored_report_table_begin(r, 4, head);
		const char *slot = strchr(x->name, ' ') + 1;
		const char *cells[] = {change, o.pages[x->page].brand, slot, x->detail};
		chored_report_table_row(r, cells);
		chored_log(job, CHORED_LOG_NOTICE, "%s: %s%s%s", change, x->name,
		           *x->detail ? ", " : "", x->detail);
	}
	if (n_dead + n_revived)
		chored_report_table_end(r);
	/* Items of past days are forgotten; items of unknown pages keep their state. */
	char today_s[32];
	fmt_day(today, today_s, sizeof today_s);
	struct json_object *keep = json_object_new_object();
	json_object_object_foreach(dead, name, val)
	{
		const char *date = strchr(name, ' ');
		if (date && strncmp(date + 1, today_s, 10) >= 0)
			json_object_object_add(keep, name, json_object_get(val));
	}
	json_object_put(dead);
	if (st != CHORED_FAILED && !chored_job_dry_run(job))
		chored_state_set(job, SW_STATE_DEAD,
		                 json_object_to_json_string_ext(keep, JSON_C_TO_STRING_PLAIN));
	json_object_put(keep);
	if (st != CHORED_FAILED) {
		chored_summary(job, "%zu watched, %zu bookable, %zu DEAD and %zu REVIVED now%s",
		               n_watch, n_alive, n_dead, n_revived,
		               n_unknown ? ", some pages unknown" : "");
		if (n_dead + n_revived) {
			chored_report_set_status(r, n_dead ? CHORED_PARTIAL : CHORED_OK);
			chored_report_paragraph(r, "Times are in %s.", o.zone);
			chored_notify(job, r);
		} else {
			chored_notify(job, NULL); /* only transitions are news: no default report */
		}
	}
	chored_report_free(r);
	free(it.v);
	for (size_t p = 0; p < o.n_pages; p++)
		if (known[p])
			sw_slots_free(&slots[p]);
	return st;
}

static int cmd_status(int argc, char **argv)
{
	static const struct option longopts[] = {{"json", no_argument, NULL, 'j'},
	                                         {NULL, 0, NULL, 0}};
	bool json = false;
	for (int c; (c = getopt_long(argc, argv, "", longopts, NULL)) != -1;) {
		if (c != 'j')
			return 64;
		json = true;
	}
	char err[512];
	struct chored_job *job =
	    chored_command_job(optind < argc ? argv[optind] : NULL, err, sizeof err);
	if (!job) {
		fprintf(stderr, "chorectl slotwatch status: %s\n", err);
		return 65;
	}
	const char *text = chored_state_get(job, SW_STATE_DEAD);
	struct json_object *dead = json_tokener_parse(text ? text : "{}");
	if (!dead || !json_object_is_type(dead, json_type_object)) {
		fprintf(stderr,
		        "chorectl slotwatch status: the stored state of %s is not readable\n",
		        chored_job_name(job));
		json_object_put(dead);
		return 65;
	}
	if (json) {
		printf("%s\n", json_object_to_json_string_ext(dead, JSON_C_TO_STRING_PLAIN));
	} else if (json_object_object_length(dead) == 0) {
		printf("no DEAD slot\n");
	} else {
		printf("%-40s %s\n", "DEAD SINCE", "ITEM");
		json_object_object_foreach(dead, name, val)
		{
			char buf[40];
			struct json_object *since = chored_json_path(val, "since");
			chored_time_iso(since ? json_object_get_int64(since) : 0, 0, 1, buf,
			                sizeof buf);
			printf("%-40s %s\n", buf, name);
		}
	}
	json_object_put(dead);
	return 0;
}

static const struct chored_command commands[] = {
    {"status", "[--json] [JOB]", "the DEAD slots as of the last run", cmd_status},
    {NULL, NULL, NULL, NULL},
};

CHORED_EXPORT const struct chored_plugin chored_plugin_v1 = {
    CHORED_PLUGIN_HEADER, .name = "slotwatch",
    .version = "1.0",     .summary = "watch booking pages for dead and revived slots",
    .options = options,   .commands = commands,
    .check = check,       .run = run,
};

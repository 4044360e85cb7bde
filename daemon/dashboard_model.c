/* The dashboard's model (dashboard_int.h): status, jobs and each job's recent results read
 * through api->ops, trimmed to what the page shows, plus the texts it shows for times (UTC
 * and the display zone) computed here once, so the HTML page and the script agree. */
#include "chored-build.h"

#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "api_internal.h"
#include "civil.h"
#include "dashboard_int.h"
#include "tz.h"

/* A string member of `o`, or NULL when absent or not a string. */
static const char *str_of(struct json_object *o, const char *key)
{
	struct json_object *v;
	if (!o || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static void copy_key(struct json_object *to, struct json_object *from, const char *key)
{
	struct json_object *v = NULL;
	json_object_object_get_ex(from, key, &v);
	json_object_object_add(to, key, json_object_get(v));
}

static void add_str(struct json_object *o, const char *key, const char *s)
{
	json_object_object_add(o, key, s ? json_object_new_string(s) : NULL);
}

/* "2026-11-23 08:00" or, with seconds, "2026-11-23 08:00:05"; `date` false drops the date. */
static void fmt_wall(int64_t wall, bool date, char *buf, size_t len)
{
	struct civil c;
	civil_from_secs(wall, &c);
	int n = 0;
	if (date)
		n = snprintf(buf, len, "%04" PRId64 "-%02d-%02d ", c.year, c.month, c.day);
	if (n < 0 || (size_t)n >= len)
		return;
	if (c.second)
		snprintf(buf + n, len - (size_t)n, "%02d:%02d:%02d", c.hour, c.minute, c.second);
	else
		snprintf(buf + n, len - (size_t)n, "%02d:%02d", c.hour, c.minute);
}

bool dash_fmt_utc(const char *iso, char *buf, size_t len)
{
	int64_t t;
	char err[128], wall[40];
	if (!iso || civil_parse_iso(iso, &t, err, sizeof err) != 0)
		return false;
	fmt_wall(t, true, wall, sizeof wall);
	snprintf(buf, len, "%s UTC", wall);
	return true;
}

const char *dash_mark(const char *status)
{
	static const struct {
		const char *status, *mark;
	} marks[] = {
	    {"ok", "\u2713"},        {"partial", "\u25D0"},     {"failed", "\u2717"},
	    {"crashed", "!"},        {"timeout", "\u25F7"},     {"skipped", "\u21B7"},
	    {"cancelled", "\u25A0"}, {"interrupted", "\u26A1"}, {"running", "\u25CF"},
	};
	for (size_t i = 0; status && i < sizeof marks / sizeof marks[0]; i++)
		if (!strcmp(status, marks[i].status))
			return marks[i].mark;
	return "?";
}

/* "≈ 09:00 Europe/Paris" for the instant `next` (ISO, UTC) in zone `z`, with the date when
 * it falls on another day there than in UTC. NULL text (buf[0] = 0) for a UTC zone. */
static void fmt_display(const char *next, const struct tz *z, char *buf, size_t len)
{
	int64_t t;
	char err[128], wall[40];
	buf[0] = '\0';
	if (!z || !next || civil_parse_iso(next, &t, err, sizeof err) != 0)
		return;
	int32_t off = tz_offset_at(z, t);
	if (tz_is_fixed(z) && off == 0)
		return;
	bool other_day =
	    civil_floordiv(t + off, CIVIL_SECS_PER_DAY) != civil_floordiv(t, CIVIL_SECS_PER_DAY);
	fmt_wall(t + off, other_day, wall, sizeof wall);
	snprintf(buf, len, "\u2248 %s %s", wall, tz_name(z));
}

/* The same from the daemon's own "next_display" (ISO with the zone's offset), used when
 * the zone cannot be loaded here: its wall-clock digits are the local time. */
static void fmt_display_given(const char *given, const char *next, const char *zone, char *buf,
                              size_t len)
{
	buf[0] = '\0';
	if (!given || strlen(given) < 16 || given[10] != 'T' || !zone)
		return;
	bool other_day = !next || strncmp(given, next, 10) != 0;
	if (other_day)
		snprintf(buf, len, "\u2248 %.10s %.5s %s", given, given + 11, zone);
	else
		snprintf(buf, len, "\u2248 %.5s %s", given + 11, zone);
}

/* A run trimmed for the page, with its time and a one-line title. */
static struct json_object *run_view(struct json_object *r)
{
	struct json_object *o = json_object_new_object();
	static const char *const keys[] = {"id",      "status", "trigger", "dry_run",
	                                   "started", "ended",  "summary"};
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		copy_key(o, r, keys[i]);
	char when[48] = "", title[640];
	dash_fmt_utc(str_of(r, "started"), when, sizeof when);
	struct json_object *id = NULL;
	json_object_object_get_ex(r, "id", &id);
	const char *summary = str_of(r, "summary"), *trigger = str_of(r, "trigger");
	snprintf(title, sizeof title, "#%" PRId64 " %s \u00B7 %s%s%s%s%s",
	         json_object_get_int64(id), str_of(r, "status") ? str_of(r, "status") : "?", when,
	         trigger && strcmp(trigger, "schedule") ? " \u00B7 " : "",
	         trigger && strcmp(trigger, "schedule") ? trigger : "", summary ? " \u00B7 " : "",
	         summary ? summary : "");
	add_str(o, "when", when[0] ? when : NULL);
	add_str(o, "title", title);
	return o;
}

/* The text for "Next run" when there is no next slot, or the slot in UTC. */
static void next_text(struct json_object *job, char *buf, size_t len)
{
	struct json_object *enabled = NULL;
	json_object_object_get_ex(job, "enabled", &enabled);
	if (dash_fmt_utc(str_of(job, "next"), buf, len))
		return;
	if (enabled && !json_object_get_boolean(enabled))
		snprintf(buf, len, "none: the job is disabled");
	else if (!str_of(job, "schedule") || !strcasecmp(str_of(job, "schedule"), "manual"))
		snprintf(buf, len, "none: no schedule, runs on demand");
	else
		snprintf(buf, len, "none");
}

/* "3 missed slots · last 2026-11-23 08:00 UTC", or NULL text when none were missed. */
static void missed_text(struct json_object *job, char *buf, size_t len)
{
	struct json_object *m = NULL, *last = NULL;
	buf[0] = '\0';
	if (!json_object_object_get_ex(job, "missed", &m) || json_object_get_int64(m) <= 0)
		return;
	int64_t n = json_object_get_int64(m);
	char when[48] = "";
	json_object_object_get_ex(job, "last_missed", &last);
	if (json_object_is_type(last, json_type_int)) {
		char iso[40];
		civil_format_iso(json_object_get_int64(last), 0, iso, sizeof iso);
		dash_fmt_utc(iso, when, sizeof when);
	} else {
		dash_fmt_utc(str_of(job, "last_missed"), when, sizeof when);
	}
	snprintf(buf, len, "%" PRId64 " missed slot%s%s%s", n, n == 1 ? "" : "s",
	         when[0] ? " \u00B7 last " : "", when);
}

static struct json_object *job_view(struct api *api, struct json_object *job,
                                    const struct tz *display)
{
	struct json_object *o = json_object_new_object();
	static const char *const keys[] = {
	    "name",    "plugin",  "description", "schedule", "schedule_text", "timezone",
	    "enabled", "running", "queued",      "next",     "missed",        "last_missed"};
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		copy_key(o, job, keys[i]);
	struct json_object *last = NULL;
	json_object_object_get_ex(job, "last", &last);
	json_object_object_add(o, "last", last ? run_view(last) : NULL);

	const char *name = str_of(job, "name");
	struct json_object *runs =
	    name ? api->ops->job_runs(api->data, name, DASH_RECENT, 0) : NULL;
	struct json_object *recent = json_object_new_array();
	size_t n = json_object_is_type(runs, json_type_array) ? json_object_array_length(runs) : 0;
	for (size_t i = n; i-- > 0;) /* newest first → oldest first */
		json_object_array_add(recent, run_view(json_object_array_get_idx(runs, i)));
	json_object_put(runs);
	json_object_object_add(o, "recent", recent);

	struct json_object *view = json_object_new_object();
	char buf[160];
	next_text(job, buf, sizeof buf);
	add_str(view, "next_utc", buf);
	/* The display zone, else the job's own zone: a job scheduled in Paris time shows it. */
	char err[256];
	const char *jzone = str_of(job, "timezone");
	const struct tz *z = display ? display : jzone ? tz_get(jzone, err, sizeof err) : NULL;
	if (z)
		fmt_display(str_of(job, "next"), z, buf, sizeof buf);
	else
		fmt_display_given(str_of(job, "next_display"), str_of(job, "next"), jzone, buf,
		                  sizeof buf);
	add_str(view, "next_display", buf[0] ? buf : NULL);
	missed_text(job, buf, sizeof buf);
	add_str(view, "missed", buf[0] ? buf : NULL);
	json_object_object_add(o, "view", view);
	return o;
}

/* "chored 1.0 · up 3 h 12 min · 4 jobs · 1 running" */
static void status_line(struct json_object *st, const char *zone, char *buf, size_t len)
{
	struct json_object *v = NULL;
	int64_t up = 0, jobs = 0, running = 0;
	if (json_object_object_get_ex(st, "uptime_s", &v))
		up = json_object_get_int64(v);
	if (json_object_object_get_ex(st, "jobs", &v))
		jobs = json_object_get_int64(v);
	if (json_object_object_get_ex(st, "running", &v))
		running = json_object_get_int64(v);
	char upt[48];
	if (up >= 86400)
		snprintf(upt, sizeof upt, "%" PRId64 " d %" PRId64 " h", up / 86400,
		         up % 86400 / 3600);
	else if (up >= 3600)
		snprintf(upt, sizeof upt, "%" PRId64 " h %" PRId64 " min", up / 3600,
		         up % 3600 / 60);
	else if (up >= 60)
		snprintf(upt, sizeof upt, "%" PRId64 " min", up / 60);
	else
		snprintf(upt, sizeof upt, "%" PRId64 " s", up);
	const char *version = str_of(st, "version");
	snprintf(buf, len,
	         "chored %s \u00B7 up %s \u00B7 %" PRId64 " job%s \u00B7 %" PRId64
	         " running \u00B7 times in UTC%s%s",
	         version ? version : "", upt, jobs, jobs == 1 ? "" : "s", running,
	         zone ? " and " : "", zone ? zone : "");
}

struct json_object *dash_model(struct api *api, int64_t now)
{
	const struct api_ops *ops = api->ops;
	struct json_object *m = json_object_new_object();
	char buf[256];
	civil_format_iso(now, 0, buf, sizeof buf);
	json_object_object_add(m, "now", json_object_new_string(buf));
	char when[48];
	add_str(m, "now_text", dash_fmt_utc(buf, when, sizeof when) ? when : NULL);

	struct json_object *st = ops->status(api->data);
	const char *zone = str_of(st, "display_timezone");
	char err[256];
	const struct tz *display = zone ? tz_get(zone, err, sizeof err) : NULL;
	if (display && tz_is_fixed(display) && tz_offset_at(display, 0) == 0)
		display = NULL, zone = NULL; /* UTC again says nothing */
	add_str(m, "zone", zone);
	status_line(st, zone, buf, sizeof buf);
	add_str(m, "line", buf);
	json_object_object_add(m, "status", st);

	struct json_object *jobs = ops->jobs(api->data), *out = json_object_new_array();
	size_t n = json_object_is_type(jobs, json_type_array) ? json_object_array_length(jobs) : 0;
	for (size_t i = 0; i < n; i++)
		json_object_array_add(out,
		                      job_view(api, json_object_array_get_idx(jobs, i), display));
	json_object_put(jobs);
	json_object_object_add(m, "jobs", out);
	return m;
}

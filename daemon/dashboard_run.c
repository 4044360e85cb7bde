/* A run's page (GET /runs/ID): status, times, summary, counters and the log, from
 * ops->run; the script reloads it while the run is still going. Also the 404 page. */
#include "chored-build.h"

#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "civil.h"
#include "dashboard_int.h"
#include "strbuf.h"

static const char *str_of(struct json_object *o, const char *key)
{
	struct json_object *v;
	if (!o || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static struct json_object *obj_of(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;
	return o && json_object_object_get_ex(o, key, &v) ? v : NULL;
}

/* <dt>label</dt><dd>text</dd>, skipped when text is NULL. */
static void fact(struct strbuf *out, const char *label, const char *text)
{
	if (!text)
		return;
	strbuf_appendf(out, "<dt>%s</dt><dd>", label);
	dash_esc(out, text);
	strbuf_append(out, "</dd>");
}

static void fact_time(struct strbuf *out, const char *label, const char *iso)
{
	char buf[48];
	fact(out, label, dash_fmt_utc(iso, buf, sizeof buf) ? buf : iso);
}

static void fmt_duration(int64_t ms, char *buf, size_t len)
{
	if (ms < 1000)
		snprintf(buf, len, "%" PRId64 " ms", ms);
	else if (ms < 60000)
		snprintf(buf, len, "%.1f s", (double)ms / 1000);
	else if (ms < 3600000)
		snprintf(buf, len, "%" PRId64 " min %" PRId64 " s", ms / 60000, ms % 60000 / 1000);
	else
		snprintf(buf, len, "%" PRId64 " h %" PRId64 " min", ms / 3600000,
		         ms % 3600000 / 60000);
}

static const char *const level_names[8] = {"emerg",   "alert",  "crit", "err",
                                           "warning", "notice", "info", "debug"};

/* One log line: its time (UTC, to the millisecond), level or stream, text and fields. */
static void log_line(struct strbuf *out, struct json_object *line)
{
	int64_t ts = json_object_get_int64(obj_of(line, "ts"));
	int level = json_object_get_int(obj_of(line, "level"));
	const char *stream = str_of(line, "stream");
	bool is_out = stream && !strcmp(stream, "out");
	const char *lvl = is_out ? "stdout" : level >= 0 && level < 8 ? level_names[level] : "log";
	struct civil c;
	civil_from_secs(civil_floordiv(ts, 1000), &c);
	strbuf_appendf(out,
	               "<tr class=\"lv-%s\"><td class=\"t\">%02d:%02d:%02d.%03d</td><td "
	               "class=\"lv\">%s</td><td class=\"x\">",
	               lvl, c.hour, c.minute, c.second, (int)(ts - civil_floordiv(ts, 1000) * 1000),
	               lvl);
	dash_esc(out, str_of(line, "text"));
	struct json_object *fields = obj_of(line, "fields");
	if (json_object_is_type(fields, json_type_object)) {
		json_object_object_foreach(fields, k, v)
		{
			strbuf_append(out, " <span class=\"kv\">");
			dash_esc(out, k);
			strbuf_append(out, "=");
			dash_esc(out, json_object_get_string(v));
			strbuf_append(out, "</span>");
		}
	}
	strbuf_append(out, "</td></tr>\n");
}

static void counters(struct strbuf *out, struct json_object *run)
{
	struct json_object *c = obj_of(run, "counters");
	if (!json_object_is_type(c, json_type_object) || !json_object_object_length(c))
		return;
	strbuf_append(out, "<h2>Counters</h2><table class=\"counters\"><tbody>");
	json_object_object_foreach(c, k, v)
	{
		strbuf_append(out, "<tr><th scope=\"row\">");
		dash_esc(out, k);
		strbuf_append(out, "</th><td>");
		dash_esc(out, json_object_get_string(v));
		strbuf_append(out, "</td></tr>");
	}
	strbuf_append(out, "</tbody></table>\n");
}

void dash_html_run(struct strbuf *out, struct json_object *run)
{
	int64_t id = json_object_get_int64(obj_of(run, "id"));
	const char *job = str_of(run, "job"), *status = str_of(run, "status");
	char title[160], buf[64];
	snprintf(title, sizeof title, "Run #%" PRId64 " of %s \u00B7 chored", id, job ? job : "?");
	dash_html_head(out, title, "run");
	strbuf_appendf(out,
	               "<header class=\"top\"><p><a href=\"/\">\u2190 All jobs</a></p>"
	               "<h1>Run #%" PRId64 " \u00B7 ",
	               id);
	dash_esc(out, job);
	strbuf_appendf(
	    out, "</h1></header>\n<main class=\"run\" data-run=\"%" PRId64 "\" data-status=\"", id);
	dash_esc(out, status);
	strbuf_append(out, "\"><p class=\"big\"><span class=\"mark st-");
	dash_esc(out, status ? status : "unknown");
	strbuf_appendf(out, "\">%s</span> ", dash_mark(status));
	dash_esc(out, status);
	if (json_object_get_boolean(obj_of(run, "dry_run")))
		strbuf_append(out, " (dry run)");
	strbuf_append(out, "</p><dl class=\"facts\">");
	fact(out, "Job", job);
	fact(out, "Summary", str_of(run, "summary"));
	fact(out, "Trigger", str_of(run, "trigger"));
	fact_time(out, "Slot", str_of(run, "nominal"));
	fact_time(out, "Started", str_of(run, "started"));
	fact_time(out, "Ended", str_of(run, "ended"));
	struct json_object *dur = obj_of(run, "duration_ms");
	if (dur) {
		fmt_duration(json_object_get_int64(dur), buf, sizeof buf);
		fact(out, "Duration", buf);
	}
	int64_t attempt = json_object_get_int64(obj_of(run, "attempt"));
	if (attempt > 1) {
		snprintf(buf, sizeof buf, "%" PRId64, attempt);
		fact(out, "Attempt", buf);
	}
	fact(out, "Signal", str_of(run, "signal"));
	struct json_object *progress = obj_of(run, "progress");
	if (progress) {
		snprintf(buf, sizeof buf, "%" PRId64 " of %" PRId64,
		         json_object_get_int64(obj_of(progress, "done")),
		         json_object_get_int64(obj_of(progress, "total")));
		fact(out, "Progress", buf);
	}
	strbuf_append(out, "</dl>\n");
	counters(out, run);
	struct json_object *log = obj_of(run, "log");
	size_t n = json_object_is_type(log, json_type_array) ? json_object_array_length(log) : 0;
	strbuf_append(out, "<h2>Log</h2>");
	if (n) {
		strbuf_append(out, "<table class=\"log\"><thead><tr><th>UTC</th><th>Level</th>"
		                   "<th>Message</th></tr></thead><tbody>\n");
		for (size_t i = 0; i < n; i++)
			log_line(out, json_object_array_get_idx(log, i));
		strbuf_append(out, "</tbody></table>\n");
	} else {
		strbuf_append(out, "<p class=\"none\">No log lines.</p>\n");
	}
	strbuf_append(out, "</main>\n");
	dash_html_tail(out);
}

void dash_html_missing(struct strbuf *out, const char *what)
{
	dash_html_head(out, "Not found \u00B7 chored", "missing");
	strbuf_append(out, "<header class=\"top\"><p><a href=\"/\">\u2190 All jobs</a></p>"
	                   "<h1>Not found</h1></header>\n<main><p>");
	dash_esc(out, what);
	strbuf_append(out, "</p></main>\n");
	dash_html_tail(out);
}

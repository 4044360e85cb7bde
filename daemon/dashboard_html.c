/* The dashboard page rendered on the server from the model (dashboard_int.h): complete and
 * readable without JavaScript; the script (dashboard_js.c) rebuilds the same markup from
 * /dashboard.json. Every value from the daemon goes through dash_esc. */
#include "chored-build.h"

#include <inttypes.h>
#include <json-c/json.h>
#include <string.h>

#include "dashboard_int.h"
#include "strbuf.h"

void dash_esc(struct strbuf *out, const char *s)
{
	if (!s)
		return;
	const char *run = s;
	for (; *s; s++) {
		const char *ent = NULL;
		switch (*s) {
		case '&':
			ent = "&amp;";
			break;
		case '<':
			ent = "&lt;";
			break;
		case '>':
			ent = "&gt;";
			break;
		case '"':
			ent = "&quot;";
			break;
		case '\'':
			ent = "&#39;";
			break;
		default:
			continue;
		}
		strbuf_appendn(out, run, (size_t)(s - run));
		strbuf_append(out, ent);
		run = s + 1;
	}
	strbuf_appendn(out, run, (size_t)(s - run));
}

void dash_html_head(struct strbuf *out, const char *title, const char *page)
{
	strbuf_append(out,
	              "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	              "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
	              "<title>");
	dash_esc(out, title);
	/* The version in the asset URLs: a new daemon's page never runs an old cached script. */
	strbuf_append(out, "</title><link rel=\"icon\" href=\"data:,\">"
	                   "<link rel=\"stylesheet\" href=\"/dashboard.css?v=" PACKAGE_VERSION "\">"
	                   "<script src=\"/dashboard.js?v=" PACKAGE_VERSION "\" defer></script>"
	                   "</head>\n<body data-page=\"");
	dash_esc(out, page);
	strbuf_append(out, "\">\n");
}

void dash_html_tail(struct strbuf *out)
{
	strbuf_append(out, "</body></html>\n");
}

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

/* <a class="mark st-ok" href="/runs/12" title="…">✓</a> for a run of the model. */
static void mark(struct strbuf *out, struct json_object *run)
{
	const char *status = str_of(run, "status");
	struct json_object *dry = obj_of(run, "dry_run");
	strbuf_appendf(out, "<a class=\"mark st-");
	dash_esc(out, status ? status : "unknown");
	strbuf_append(out, json_object_get_boolean(dry) ? " dry" : "");
	strbuf_appendf(out, "\" href=\"/runs/%" PRId64 "\" title=\"",
	               json_object_get_int64(obj_of(run, "id")));
	dash_esc(out, str_of(run, "title"));
	strbuf_append(out, "\" aria-label=\"");
	dash_esc(out, str_of(run, "title"));
	strbuf_append(out, "\">");
	strbuf_append(out, dash_mark(status));
	strbuf_append(out, "</a>");
}

static const struct {
	const char *cls, *mark, *words;
} legend[] = {
    {"st-ok", NULL, "ok"},
    {"st-partial", NULL, "partial: some items failed"},
    {"st-failed", NULL, "failed"},
    {"st-crashed", NULL, "crashed: the runner died"},
    {"st-timeout", NULL, "timed out"},
    {"st-skipped", NULL, "skipped: the previous run was still going"},
    {"st-cancelled", NULL, "cancelled"},
    {"st-interrupted", NULL, "interrupted: the daemon stopped during the run"},
    {"st-running", NULL, "running now"},
    {"alarm", "\u26A0", "missed slot: a scheduled run did not happen"},
};

static void legend_html(struct strbuf *out)
{
	strbuf_append(out, "<details class=\"legend\" open><summary>Legend</summary><ul>");
	for (size_t i = 0; i < sizeof legend / sizeof legend[0]; i++) {
		strbuf_appendf(out, "<li><span class=\"mark %s\">%s</span> %s</li>", legend[i].cls,
		               legend[i].mark ? legend[i].mark : dash_mark(legend[i].cls + 3),
		               legend[i].words);
	}
	strbuf_appendf(out,
	               "<li><span class=\"mark dry st-ok\">\u2713</span> hollow: a dry run</li>"
	               "<li><span class=\"badge off\">disabled</span> the job does not run on its "
	               "schedule</li></ul><p>Marks are the last %d results, oldest first; each "
	               "opens the run's log.</p></details>\n",
	               DASH_RECENT);
}

static void facts(struct strbuf *out, struct json_object *job)
{
	struct json_object *view = obj_of(job, "view"), *last = obj_of(job, "last");
	strbuf_append(out, "<dl class=\"facts\"><dt>Schedule</dt><dd class=\"f-sched\">");
	const char *words = str_of(job, "schedule_text"), *expr = str_of(job, "schedule");
	dash_esc(out, words ? words : expr ? expr : "none: runs on demand");
	if (expr) {
		strbuf_append(out, " <code>");
		dash_esc(out, expr);
		strbuf_append(out, "</code>");
	}
	strbuf_append(out, "</dd><dt>Next run</dt><dd class=\"f-next\">");
	const char *next = str_of(job, "next");
	if (next) {
		strbuf_append(out, "<time datetime=\"");
		dash_esc(out, next);
		strbuf_append(out, "\">");
	}
	dash_esc(out, str_of(view, "next_utc"));
	strbuf_append(out, next ? "</time>" : "");
	if (str_of(view, "next_display")) {
		strbuf_append(out, " <span class=\"disp\">");
		dash_esc(out, str_of(view, "next_display"));
		strbuf_append(out, "</span>");
	}
	strbuf_append(out, "</dd><dt>Last result</dt><dd class=\"f-last\">");
	if (last) {
		mark(out, last);
		strbuf_append(out, " <span class=\"st\">");
		dash_esc(out, str_of(last, "status"));
		strbuf_append(out, "</span> \u00B7 <span class=\"when\">");
		dash_esc(out, str_of(last, "when"));
		strbuf_append(out, "</span>");
		if (str_of(last, "summary")) {
			strbuf_append(out, " \u00B7 <span class=\"sum\">");
			dash_esc(out, str_of(last, "summary"));
			strbuf_append(out, "</span>");
		}
	} else {
		strbuf_append(out, "never run");
	}
	strbuf_append(out, "</dd>");
	if (str_of(view, "missed")) {
		strbuf_append(out, "<dt>Missed</dt><dd class=\"f-missed\">\u26A0 ");
		dash_esc(out, str_of(view, "missed"));
		strbuf_append(out, "</dd>");
	}
	strbuf_append(out, "</dl>");
}

static void card(struct strbuf *out, struct json_object *job)
{
	const char *name = str_of(job, "name");
	struct json_object *last = obj_of(job, "last"), *recent = obj_of(job, "recent");
	struct json_object *running = obj_of(job, "running");
	bool enabled = json_object_get_boolean(obj_of(job, "enabled"));
	strbuf_append(out, "<article class=\"card");
	strbuf_append(out, str_of(obj_of(job, "view"), "missed") ? " alarm" : "");
	strbuf_append(out, "\" data-job=\"");
	dash_esc(out, name);
	strbuf_append(out, "\" data-state=\"");
	dash_esc(out, last ? str_of(last, "status") : "none");
	strbuf_append(out, "\"><header class=\"card-h\"><h2>");
	dash_esc(out, name);
	strbuf_append(out, "</h2> <span class=\"plugin\">");
	dash_esc(out, str_of(job, "plugin"));
	strbuf_append(out, "</span>");
	if (!enabled)
		strbuf_append(out, " <span class=\"badge off\">disabled</span>");
	if (running)
		strbuf_appendf(out,
		               " <a class=\"badge run\" href=\"/runs/%" PRId64
		               "\">running #%" PRId64 "</a>",
		               json_object_get_int64(running), json_object_get_int64(running));
	strbuf_append(out, "</header>");
	if (str_of(job, "description")) {
		strbuf_append(out, "<p class=\"desc\">");
		dash_esc(out, str_of(job, "description"));
		strbuf_append(out, "</p>");
	}
	facts(out, job);
	strbuf_append(out, "<div class=\"strip\" aria-label=\"Last results, oldest first\">");
	size_t n =
	    json_object_is_type(recent, json_type_array) ? json_object_array_length(recent) : 0;
	for (size_t i = 0; i < n; i++)
		mark(out, json_object_array_get_idx(recent, i));
	if (!n)
		strbuf_append(out, "<span class=\"none\">no runs yet</span>");
	strbuf_append(out, "</div><div class=\"actions\"><button type=\"button\" class=\"run-now\" "
	                   "disabled data-job=\"");
	dash_esc(out, name);
	strbuf_append(out, "\">Run now</button> <span class=\"msg\" role=\"status\"></span>"
	                   "</div></article>\n");
}

void dash_html_page(struct strbuf *out, struct json_object *model)
{
	dash_html_head(out, "Crons \u00B7 chored", "jobs");
	strbuf_append(out, "<header class=\"top\"><h1>Crons</h1><p id=\"line\">");
	dash_esc(out, str_of(model, "line"));
	strbuf_append(out, "</p><p id=\"live\" class=\"live\">As of ");
	dash_esc(out, str_of(model, "now_text"));
	strbuf_append(out, "; reload for fresher data.</p><noscript><p>Run now needs JavaScript: "
	                   "it sends the admin token.</p></noscript>"
	                   "<p id=\"token-state\" hidden>Admin token kept for this browser "
	                   "session. <button type=\"button\" id=\"token-forget\">Forget it"
	                   "</button></p></header>\n<main>\n");
	legend_html(out);
	strbuf_append(
	    out,
	    "<form id=\"token-form\" class=\"token\" hidden>"
	    "<p id=\"token-why\">Run now needs the admin token ([daemon] admin_token). It is kept "
	    "in this browser session only.</p>"
	    "<label for=\"token\">Admin token</label> "
	    "<input id=\"token\" name=\"token\" type=\"password\" autocomplete=\"off\" required> "
	    "<button type=\"submit\">Use token</button> "
	    "<button type=\"button\" id=\"token-cancel\">Cancel</button>"
	    "<p id=\"token-error\" class=\"error\" role=\"alert\"></p></form>\n"
	    "<div id=\"cards\" class=\"cards\">\n");
	struct json_object *jobs = obj_of(model, "jobs");
	size_t n = json_object_is_type(jobs, json_type_array) ? json_object_array_length(jobs) : 0;
	for (size_t i = 0; i < n; i++)
		card(out, json_object_array_get_idx(jobs, i));
	if (!n)
		strbuf_append(out, "<p class=\"none\">No jobs are configured.</p>");
	strbuf_append(out, "</div>\n</main>\n");
	dash_html_tail(out);
}

/* Private to the dashboard's files (dashboard*.c): the page model, the renderers, the
 * static assets and the time texts they share, so the server-rendered page and the
 * script's refresh show the same words. */
#ifndef CHORED_DASHBOARD_INT_H
#define CHORED_DASHBOARD_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct api;
struct json_object;
struct strbuf;

/* How many results the strip of marks shows per job. */
#define DASH_RECENT 20

/* The whole page's data, read through api->ops at `now` (UTC seconds):
 *   {"now":ISO, "now_text":"… UTC", "status":{…}, "zone":DISPLAY-ZONE|null, "line":"…",
 *    "jobs":[{name, plugin, description, schedule, schedule_text, timezone, enabled,
 *             running, queued, next, missed, last_missed, last:{run}|null,
 *             recent:[{run}…] oldest first,
 *             view:{next_utc, next_display, missed}}]}
 * where {run} = {id, status, trigger, dry_run, started, ended, summary, when, title} and
 * the view and when/title strings are the texts the page shows. Returns a new object. */
struct json_object *dash_model(struct api *api, int64_t now);

/* The dashboard page and a run's page as HTML documents, appended to `out`. */
void dash_html_page(struct strbuf *out, struct json_object *model);
void dash_html_run(struct strbuf *out, struct json_object *run);
/* A 404 page saying `what` was not found. */
void dash_html_missing(struct strbuf *out, const char *what);

/* The document head up to and including <body …>, and its tail: shared by every page. */
void dash_html_head(struct strbuf *out, const char *title, const char *page);
void dash_html_tail(struct strbuf *out);
/* Appends `s` with & < > " ' replaced by entities: safe in text and quoted attributes. */
void dash_esc(struct strbuf *out, const char *s);

/* "2026-11-23 08:00 UTC" (seconds shown when not zero) from an ISO 8601 time; false when
 * `iso` does not parse. */
bool dash_fmt_utc(const char *iso, char *buf, size_t len);
/* The one-character mark of a run status (✓ ✗ …) and its words for the legend. */
const char *dash_mark(const char *status);

/* The script and the style sheet (dashboard_js.c, dashboard_css.c). */
extern const char dash_js[];
extern const char dash_css[];

#endif

/* Reports (chored-sdk-report(3)): a plugin builds one report — title, status, headings,
 * paragraphs, lists, tables, code blocks, key figures — and libchored renders it as plain
 * text, HTML mail, Markdown or Notion blocks, and delivers it with chored_notify()
 * (chored/notify.h). The report owns copies of every string it is given. */
#ifndef CHORED_REPORT_H
#define CHORED_REPORT_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include <chored/job.h>

#ifdef __cplusplus
extern "C" {
#endif

struct chored_report; /* opaque */

/* A new empty report with `title` and status CHORED_OK. Owned: chored_report_free. */
struct chored_report *chored_report_new(const char *title);
void chored_report_free(struct chored_report *r);

void chored_report_set_status(struct chored_report *r, enum chored_status status);
enum chored_status chored_report_status(const struct chored_report *r);
const char *chored_report_title(const struct chored_report *r);

/* Blocks, in the order they are added. Levels are 1 to 3. */
void chored_report_heading(struct chored_report *r, int level, const char *text);
void chored_report_paragraph(struct chored_report *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* A list: begin, items, end. Nested lists are not supported. */
void chored_report_list_begin(struct chored_report *r, bool ordered);
void chored_report_list_item(struct chored_report *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void chored_report_list_end(struct chored_report *r);
/* A table of `ncols` columns: the header row first, then rows of ncols cells each. */
void chored_report_table_begin(struct chored_report *r, size_t ncols, const char *const *header);
void chored_report_table_row(struct chored_report *r, const char *const *cells);
void chored_report_table_end(struct chored_report *r);
/* Preformatted text; `language` may be NULL ("plain text"). */
void chored_report_code(struct chored_report *r, const char *language, const char *text);
/* A key figure shown prominently: "Subscribers" = "12 345". */
void chored_report_figure(struct chored_report *r, const char *label, const char *value);

/* Renderings, each a new malloc'd string (NUL-terminated, UTF-8). */
char *chored_report_text(const struct chored_report *r);
char *chored_report_html(const struct chored_report *r); /* a whole HTML document */
char *chored_report_markdown(const struct chored_report *r);
/* Notion block objects (request form, api-contracts §3.3), every rich-text item at most
 * 2000 characters: a new json array (owned by the caller). Callers send it in requests of
 * at most 100 blocks. */
struct json_object *chored_report_notion_blocks(const struct chored_report *r);

#ifdef __cplusplus
}
#endif

#endif

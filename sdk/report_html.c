/* HTML mail rendering: one whole document with inline styles only (mail clients drop
 * <style> blocks and external assets), every text escaped, the status shown with a colour
 * and its word so it reads without colour too. */
#include <stdlib.h>
#include <string.h>

#include "report_impl.h"

static void esc(struct report_buf *b, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&':
			report_buf_puts(b, "&amp;");
			break;
		case '<':
			report_buf_puts(b, "&lt;");
			break;
		case '>':
			report_buf_puts(b, "&gt;");
			break;
		case '"':
			report_buf_puts(b, "&quot;");
			break;
		case '\'':
			report_buf_puts(b, "&#39;");
			break;
		default:
			report_buf_putc(b, *s);
		}
	}
}

/* Escaped, with line breaks kept as <br>. */
static void esc_lines(struct report_buf *b, const char *s)
{
	const char *p = s;
	for (;;) {
		const char *nl = strchr(p, '\n');
		if (!nl) {
			esc(b, p);
			return;
		}
		char *line = strndup(p, (size_t)(nl - p));
		if (!line) {
			b->oom = true;
			return;
		}
		esc(b, line);
		free(line);
		report_buf_puts(b, "<br>");
		p = nl + 1;
	}
}

struct status_look {
	const char *fg, *bg, *mark, *word;
};

static struct status_look look(enum chored_status s)
{
	switch (s) {
	case CHORED_OK:
		return (struct status_look){"#ffffff", "#1a7f37", "&#x2705;", "OK"};
	case CHORED_PARTIAL:
		return (struct status_look){"#1f2328", "#d4a72c", "&#x26A0;&#xFE0F;", "PARTIAL"};
	case CHORED_FAILED:
	default:
		return (struct status_look){"#ffffff", "#cf222e", "&#x274C;", "FAILED"};
	}
}

static const char *const heading_style[] = {
    "font-size:20px;margin:24px 0 8px;border-bottom:1px solid #d0d7de;padding-bottom:4px;",
    "font-size:17px;margin:20px 0 8px;",
    "font-size:15px;margin:16px 0 6px;",
};

static void table(struct report_buf *b, const struct report_block *t)
{
	static const char cell_style[] =
	    "border:1px solid #d0d7de;padding:6px 10px;text-align:left;vertical-align:top;";
	size_t rows = t->ncells / t->ncols;
	report_buf_puts(b, "<table style=\"border-collapse:collapse;margin:8px 0 16px;"
	                   "font-size:14px;\">\n<thead><tr>");
	for (size_t c = 0; c < t->ncols; c++) {
		report_buf_printf(b, "<th style=\"%sbackground:#f6f8fa;font-weight:600;\">",
		                  cell_style);
		esc_lines(b, t->cells[c]);
		report_buf_puts(b, "</th>");
	}
	report_buf_puts(b, "</tr></thead>\n<tbody>\n");
	for (size_t r = 1; r < rows; r++) {
		report_buf_puts(b, "<tr>");
		for (size_t c = 0; c < t->ncols; c++) {
			report_buf_printf(b, "<td style=\"%s\">", cell_style);
			esc_lines(b, t->cells[r * t->ncols + c]);
			report_buf_puts(b, "</td>");
		}
		report_buf_puts(b, "</tr>\n");
	}
	report_buf_puts(b, "</tbody></table>\n");
}

char *chored_report_html(const struct chored_report *r)
{
	if (!r || r->oom)
		return NULL;
	struct report_buf b = {0};
	struct status_look st = look(r->status);
	report_buf_puts(&b,
	                "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	                "<meta name=\"viewport\" content=\"width=device-width\">\n<title>");
	esc(&b, r->title);
	report_buf_puts(&b, "</title>\n</head>\n<body style=\"margin:0;padding:16px;background:"
	                    "#f6f8fa;color:#1f2328;font-family:-apple-system,'Segoe UI',Helvetica,"
	                    "Arial,sans-serif;font-size:15px;line-height:1.5;\">\n"
	                    "<div style=\"max-width:760px;margin:0 auto;background:#ffffff;border:"
	                    "1px solid #d0d7de;border-radius:6px;padding:24px;\">\n"
	                    "<h1 style=\"font-size:24px;margin:0 0 8px;\">");
	esc(&b, r->title);
	report_buf_printf(&b,
	                  "</h1>\n<p style=\"margin:0 0 16px;\"><span style=\"display:inline-block;"
	                  "padding:2px 10px;border-radius:12px;font-weight:600;color:%s;"
	                  "background:%s;\">%s %s</span></p>\n",
	                  st.fg, st.bg, st.mark, st.word);
	for (size_t i = 0; i < r->nblocks; i++) {
		const struct report_block *k = &r->blocks[i];
		switch (k->kind) {
		case REPORT_HEADING:
			report_buf_printf(&b, "<h%d style=\"%s\">", k->level + 1,
			                  heading_style[k->level - 1]);
			esc(&b, k->text);
			report_buf_printf(&b, "</h%d>\n", k->level + 1);
			break;
		case REPORT_PARAGRAPH:
			report_buf_puts(&b, "<p style=\"margin:0 0 12px;\">");
			esc_lines(&b, k->text);
			report_buf_puts(&b, "</p>\n");
			break;
		case REPORT_LIST:
			report_buf_puts(&b, k->ordered ? "<ol style=\"margin:0 0 12px;\">\n"
			                               : "<ul style=\"margin:0 0 12px;\">\n");
			for (size_t j = 0; j < k->ncells; j++) {
				report_buf_puts(&b, "<li>");
				esc_lines(&b, k->cells[j]);
				report_buf_puts(&b, "</li>\n");
			}
			report_buf_puts(&b, k->ordered ? "</ol>\n" : "</ul>\n");
			break;
		case REPORT_TABLE:
			if (k->ncols)
				table(&b, k);
			break;
		case REPORT_CODE:
			report_buf_puts(&b, "<pre style=\"margin:0 0 12px;padding:12px;background:"
			                    "#f6f8fa;border:1px solid #d0d7de;border-radius:6px;"
			                    "font-family:ui-monospace,Menlo,Consolas,monospace;"
			                    "font-size:13px;white-space:pre-wrap;\"><code>");
			esc(&b, k->text);
			report_buf_puts(&b, "</code></pre>\n");
			break;
		case REPORT_FIGURE:
			report_buf_puts(&b,
			                "<div style=\"display:inline-block;margin:0 12px 12px 0;"
			                "padding:8px 14px;border:1px solid #d0d7de;"
			                "border-radius:6px;\"><div style=\"font-size:12px;"
			                "color:#57606a;\">");
			esc(&b, k->text);
			report_buf_puts(&b,
			                "</div><div style=\"font-size:20px;font-weight:600;\">");
			esc(&b, k->aux);
			report_buf_puts(&b, "</div></div>\n");
			break;
		}
	}
	report_buf_puts(&b, "</div>\n</body>\n</html>\n");
	return report_buf_finish(&b);
}

/* Plain-text rendering: for a terminal and a text/plain mail. Headings are underlined,
 * paragraphs and list items wrapped at 72 columns, table columns aligned by display width,
 * code indented by four spaces, figures as "Label: value". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_impl.h"

enum { TEXT_WIDTH = 72 };

/* Appends one line of `s` (up to a newline) wrapped at TEXT_WIDTH columns: the first
 * output line starts with `first`, the following ones with `indent` (same width). A word
 * longer than the line stays whole. */
static void wrap_line(struct report_buf *b, const char *s, size_t n, const char *first,
                      const char *indent)
{
	size_t col = report_utf8_width(first);
	size_t start = col;
	report_buf_puts(b, first);
	size_t i = 0;
	while (i < n) {
		size_t sp = i;
		while (sp < n && s[sp] == ' ')
			sp++;
		size_t end = sp;
		while (end < n && s[end] != ' ')
			end++;
		if (end == sp)
			break; /* trailing blanks */
		char *word = strndup(s + sp, end - sp);
		if (!word) {
			b->oom = true;
			return;
		}
		size_t w = report_utf8_width(word);
		/* Blanks between words collapse to one; leading blanks are kept. */
		size_t gap = col == start ? (i == 0 ? sp : 0) : 1;
		if (col > start && col + gap + w > TEXT_WIDTH) {
			report_buf_putc(b, '\n');
			report_buf_puts(b, indent);
			col = start;
			gap = 0;
		}
		report_buf_repeat(b, " ", gap);
		report_buf_puts(b, word);
		col += gap + w;
		free(word);
		i = end;
	}
	report_buf_putc(b, '\n');
}

/* Appends `text` wrapped, each of its lines on its own, all indented like `indent` after a
 * first line starting with `first`. */
static void wrap(struct report_buf *b, const char *text, const char *first, const char *indent)
{
	const char *p = text;
	const char *lead = first;
	for (;;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		wrap_line(b, p, n, lead, indent);
		lead = indent;
		if (!nl)
			break;
		p = nl + 1;
	}
}

static void underline(struct report_buf *b, const char *text, const char *ch)
{
	/* A heading is one line: newlines in it become blanks. */
	size_t w = 0;
	for (const char *p = text; *p; p++)
		report_buf_putc(b, *p == '\n' ? ' ' : *p);
	w = report_utf8_width(text);
	report_buf_putc(b, '\n');
	report_buf_repeat(b, ch, w ? w : 1);
	report_buf_putc(b, '\n');
}

/* Appends `s` with newlines and tabs as blanks, padded with blanks to `width` columns. */
static void cell(struct report_buf *b, const char *s, size_t width, bool pad)
{
	for (const char *p = s; *p; p++)
		report_buf_putc(b, *p == '\n' || *p == '\t' || *p == '\r' ? ' ' : *p);
	if (pad) {
		size_t w = report_utf8_width(s);
		report_buf_repeat(b, " ", width > w ? width - w : 0);
	}
}

static void table(struct report_buf *b, const struct report_block *t)
{
	size_t rows = t->ncells / t->ncols;
	size_t *width = calloc(t->ncols, sizeof *width);
	if (!width) {
		b->oom = true;
		return;
	}
	for (size_t i = 0; i < t->ncells; i++) {
		size_t w = report_utf8_width(t->cells[i]);
		if (w > width[i % t->ncols])
			width[i % t->ncols] = w;
	}
	for (size_t r = 0; r < rows; r++) {
		for (size_t c = 0; c < t->ncols; c++) {
			if (c)
				report_buf_puts(b, "  ");
			cell(b, t->cells[r * t->ncols + c], width[c], c + 1 < t->ncols);
		}
		/* No blanks at the end of a line (mail clients and diffs show them). */
		while (b->len && b->s[b->len - 1] == ' ')
			b->s[--b->len] = '\0';
		report_buf_putc(b, '\n');
		if (r == 0) {
			for (size_t c = 0; c < t->ncols; c++) {
				if (c)
					report_buf_puts(b, "  ");
				report_buf_repeat(b, "-", width[c] ? width[c] : 1);
			}
			report_buf_putc(b, '\n');
		}
	}
	free(width);
}

static void code(struct report_buf *b, const char *text)
{
	const char *p = text;
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		if (n)
			report_buf_puts(b, "    ");
		report_buf_add(b, p, n);
		report_buf_putc(b, '\n');
		if (!nl)
			break;
		p = nl + 1;
	}
}

char *chored_report_text(const struct chored_report *r)
{
	if (!r || r->oom)
		return NULL;
	struct report_buf b = {0};
	underline(&b, r->title, "=");
	report_buf_printf(&b, "Status: %s\n", report_status_word(r->status));
	for (size_t i = 0; i < r->nblocks; i++) {
		const struct report_block *k = &r->blocks[i];
		/* Consecutive figures form one group, without blank lines between them. */
		if (!(k->kind == REPORT_FIGURE && i > 0 && k[-1].kind == REPORT_FIGURE))
			report_buf_putc(&b, '\n');
		switch (k->kind) {
		case REPORT_HEADING:
			underline(&b, k->text, k->level == 1 ? "=" : k->level == 2 ? "-" : "~");
			break;
		case REPORT_PARAGRAPH:
			wrap(&b, k->text, "", "");
			break;
		case REPORT_LIST:
			for (size_t j = 0; j < k->ncells; j++) {
				char mark[32];
				if (k->ordered)
					snprintf(mark, sizeof mark, "%zu. ", j + 1);
				else
					snprintf(mark, sizeof mark, "- ");
				char indent[32];
				memset(indent, ' ', strlen(mark));
				indent[strlen(mark)] = '\0';
				wrap(&b, k->cells[j], mark, indent);
			}
			break;
		case REPORT_TABLE:
			if (k->ncols)
				table(&b, k);
			break;
		case REPORT_CODE:
			code(&b, k->text);
			break;
		case REPORT_FIGURE:
			report_buf_puts(&b, k->text);
			report_buf_puts(&b, ": ");
			report_buf_puts(&b, k->aux);
			report_buf_putc(&b, '\n');
			break;
		}
	}
	return report_buf_finish(&b);
}

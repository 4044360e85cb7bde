/* Markdown rendering (GitHub Flavored Markdown): text escaped so that no character of the
 * report becomes markup, GFM tables with | escaped, fenced code whose fence is longer than
 * any backtick run inside. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_impl.h"

enum line_join {
	JOIN_HARD,  /* paragraph: "\" at the end of a line keeps the break */
	JOIN_SPACE, /* heading: one line */
	JOIN_BR,    /* table cell: <br> */
};

/* Appends one line of text escaped: ASCII punctuation that is markup anywhere gets a
 * backslash, and so does what would open a block at the start of a line (#, -, +, =, 1.). */
static void esc_line(struct report_buf *b, const char *s, size_t n, bool line_start)
{
	size_t i = 0;
	if (line_start) {
		while (i < n && (s[i] == ' ' || s[i] == '\t'))
			i++; /* indentation would make an indented code block */
		if (i < n && strchr("-+=", s[i])) {
			report_buf_putc(b, '\\');
		} else {
			size_t d = i;
			while (d < n && isdigit((unsigned char)s[d]))
				d++;
			if (d > i && d < n && (s[d] == '.' || s[d] == ')')) {
				report_buf_add(b, s + i, d - i);
				report_buf_putc(b, '\\');
				i = d;
			}
		}
	}
	for (; i < n; i++) {
		/* # too: a heading's trailing " #" would be taken as its closing sequence. */
		if (strchr("\\`*_[]<>|~&!#", s[i]))
			report_buf_putc(b, '\\');
		report_buf_putc(b, s[i]);
	}
}

static void esc(struct report_buf *b, const char *s, enum line_join join, bool line_start)
{
	const char *p = s;
	for (;;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		if (n && p[n - 1] == '\r')
			n--;
		esc_line(b, p, n, line_start);
		if (!nl)
			return;
		switch (join) {
		case JOIN_HARD:
			report_buf_puts(b, "\\\n");
			break;
		case JOIN_SPACE:
			report_buf_putc(b, ' ');
			line_start = false;
			break;
		case JOIN_BR:
			report_buf_puts(b, "<br>");
			line_start = false;
			break;
		}
		p = nl + 1;
	}
}

/* A list item's text: continuation lines indented under the item's first character. */
static void item(struct report_buf *b, const char *mark, const char *s)
{
	report_buf_puts(b, mark);
	const char *p = s;
	for (;;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		esc_line(b, p, n, true);
		if (!nl)
			break;
		report_buf_puts(b, "\\\n");
		report_buf_repeat(b, " ", strlen(mark));
		p = nl + 1;
	}
	report_buf_putc(b, '\n');
}

static void table(struct report_buf *b, const struct report_block *t)
{
	size_t rows = t->ncells / t->ncols;
	for (size_t r = 0; r < rows; r++) {
		report_buf_putc(b, '|');
		for (size_t c = 0; c < t->ncols; c++) {
			report_buf_putc(b, ' ');
			esc(b, t->cells[r * t->ncols + c], JOIN_BR, false);
			report_buf_puts(b, " |");
		}
		report_buf_putc(b, '\n');
		if (r == 0) {
			report_buf_putc(b, '|');
			report_buf_repeat(b, " --- |", t->ncols);
			report_buf_putc(b, '\n');
		}
	}
}

static void code(struct report_buf *b, const char *lang, const char *text)
{
	size_t run = 0, longest = 0;
	for (const char *p = text; *p; p++) {
		run = *p == '`' ? run + 1 : 0;
		if (run > longest)
			longest = run;
	}
	size_t fence = longest >= 3 ? longest + 1 : 3;
	report_buf_repeat(b, "`", fence);
	/* The info string of a backtick fence may hold no backtick; blanks would end it. */
	if (lang && !strpbrk(lang, "` \t\n\r"))
		report_buf_puts(b, lang);
	report_buf_putc(b, '\n');
	size_t n = strlen(text);
	report_buf_add(b, text, n);
	if (n && text[n - 1] != '\n')
		report_buf_putc(b, '\n');
	report_buf_repeat(b, "`", fence);
	report_buf_putc(b, '\n');
}

static const char *status_mark(enum chored_status s)
{
	return s == CHORED_OK        ? "\xE2\x9C\x85"
	       : s == CHORED_PARTIAL ? "\xE2\x9A\xA0\xEF\xB8\x8F"
	                             : "\xE2\x9D\x8C";
}

char *chored_report_markdown(const struct chored_report *r)
{
	if (!r || r->oom)
		return NULL;
	struct report_buf b = {0};
	report_buf_puts(&b, "# ");
	esc(&b, r->title, JOIN_SPACE, false);
	report_buf_printf(&b, "\n\n**Status:** %s %s\n", status_mark(r->status),
	                  report_status_word(r->status));
	for (size_t i = 0; i < r->nblocks; i++) {
		const struct report_block *k = &r->blocks[i];
		if (k->kind == REPORT_TABLE && !k->ncols)
			continue;
		report_buf_putc(&b, '\n');
		switch (k->kind) {
		case REPORT_HEADING:
			report_buf_repeat(&b, "#", (size_t)k->level + 1);
			report_buf_putc(&b, ' ');
			esc(&b, k->text, JOIN_SPACE, false);
			report_buf_putc(&b, '\n');
			break;
		case REPORT_PARAGRAPH:
			esc(&b, k->text, JOIN_HARD, true);
			report_buf_putc(&b, '\n');
			break;
		case REPORT_LIST:
			for (size_t j = 0; j < k->ncells; j++) {
				char mark[32];
				if (k->ordered)
					snprintf(mark, sizeof mark, "%zu. ", j + 1);
				else
					snprintf(mark, sizeof mark, "- ");
				item(&b, mark, k->cells[j]);
			}
			break;
		case REPORT_TABLE:
			table(&b, k);
			break;
		case REPORT_CODE:
			code(&b, k->aux, k->text);
			break;
		case REPORT_FIGURE:
			report_buf_puts(&b, "**");
			esc(&b, k->text, JOIN_SPACE, false);
			report_buf_puts(&b, ":** ");
			esc(&b, k->aux, JOIN_SPACE, false);
			report_buf_putc(&b, '\n');
			break;
		}
	}
	return report_buf_finish(&b);
}

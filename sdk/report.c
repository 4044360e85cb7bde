/* The report model (chored-sdk-report(3)): a title, a status and blocks in the order they
 * were added. The report owns copies of every string; text is made valid UTF-8 on entry so
 * that no renderer has to cope with bad bytes. The builder functions cannot fail from the
 * caller's view: an allocation failure marks the report and the renderers then return NULL. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_impl.h"

const char *report_status_word(enum chored_status s)
{
	switch (s) {
	case CHORED_OK:
		return "ok";
	case CHORED_PARTIAL:
		return "partial";
	case CHORED_FAILED:
	default:
		return "failed";
	}
}

static char *dup_text(struct chored_report *r, const char *s)
{
	char *d = report_utf8_dup(s, s ? strlen(s) : 0);
	if (!d)
		r->oom = true;
	return d;
}

static char *vdup_text(struct chored_report *r, const char *fmt, va_list ap)
{
	char *s = NULL;
	if (vasprintf(&s, fmt ? fmt : "", ap) < 0) {
		r->oom = true;
		return NULL;
	}
	char *d = dup_text(r, s);
	free(s);
	return d;
}

struct chored_report *chored_report_new(const char *title)
{
	struct chored_report *r = calloc(1, sizeof *r);
	if (!r)
		return NULL;
	r->status = CHORED_OK;
	r->title = report_utf8_dup(title, title ? strlen(title) : 0);
	if (!r->title) {
		free(r);
		return NULL;
	}
	return r;
}

static void block_free(struct report_block *b)
{
	free(b->text);
	free(b->aux);
	for (size_t i = 0; i < b->ncells; i++)
		free(b->cells[i]);
	free(b->cells);
}

void chored_report_free(struct chored_report *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nblocks; i++)
		block_free(&r->blocks[i]);
	free(r->blocks);
	free(r->title);
	free(r);
}

void chored_report_set_status(struct chored_report *r, enum chored_status status)
{
	if (r)
		r->status =
		    status == CHORED_OK || status == CHORED_PARTIAL ? status : CHORED_FAILED;
}

enum chored_status chored_report_status(const struct chored_report *r)
{
	return r ? r->status : CHORED_FAILED;
}

const char *chored_report_title(const struct chored_report *r)
{
	return r ? r->title : "";
}

/* A new block at the end (closing any open list or table), or NULL after a failure. */
static struct report_block *add_block(struct chored_report *r, enum report_kind kind)
{
	r->open = false;
	if (r->nblocks == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 16;
		struct report_block *b = realloc(r->blocks, cap * sizeof *b);
		if (!b) {
			r->oom = true;
			return NULL;
		}
		r->blocks = b;
		r->cap = cap;
	}
	struct report_block *b = &r->blocks[r->nblocks++];
	memset(b, 0, sizeof *b);
	b->kind = kind;
	return b;
}

/* The open list or table of `kind`, or NULL. */
static struct report_block *open_block(struct chored_report *r, enum report_kind kind)
{
	if (!r->open || r->nblocks == 0 || r->blocks[r->nblocks - 1].kind != kind)
		return NULL;
	return &r->blocks[r->nblocks - 1];
}

/* Appends `n` strings (already owned) to b->cells; frees them on failure. */
static void add_cells(struct chored_report *r, struct report_block *b, char **cells, size_t n)
{
	char **c = realloc(b->cells, (b->ncells + n) * sizeof *c);
	if (!c) {
		r->oom = true;
		for (size_t i = 0; i < n; i++)
			free(cells[i]);
		return;
	}
	memcpy(c + b->ncells, cells, n * sizeof *c);
	b->cells = c;
	b->ncells += n;
}

void chored_report_heading(struct chored_report *r, int level, const char *text)
{
	if (!r)
		return;
	struct report_block *b = add_block(r, REPORT_HEADING);
	if (!b)
		return;
	b->level = level < 1 ? 1 : level > 3 ? 3 : level;
	b->text = dup_text(r, text);
}

void chored_report_paragraph(struct chored_report *r, const char *fmt, ...)
{
	if (!r)
		return;
	struct report_block *b = add_block(r, REPORT_PARAGRAPH);
	if (!b)
		return;
	va_list ap;
	va_start(ap, fmt);
	b->text = vdup_text(r, fmt, ap);
	va_end(ap);
}

void chored_report_list_begin(struct chored_report *r, bool ordered)
{
	if (!r)
		return;
	struct report_block *b = add_block(r, REPORT_LIST);
	if (!b)
		return;
	b->ordered = ordered;
	r->open = true;
}

void chored_report_list_item(struct chored_report *r, const char *fmt, ...)
{
	if (!r)
		return;
	/* An item outside a list starts a bulleted one rather than being lost. */
	if (!open_block(r, REPORT_LIST))
		chored_report_list_begin(r, false);
	struct report_block *b = open_block(r, REPORT_LIST);
	if (!b)
		return;
	va_list ap;
	va_start(ap, fmt);
	char *item = vdup_text(r, fmt, ap);
	va_end(ap);
	if (item)
		add_cells(r, b, &item, 1);
}

void chored_report_list_end(struct chored_report *r)
{
	if (r && open_block(r, REPORT_LIST))
		r->open = false;
}

/* Copies ncols cells (NULL array or NULL cell: empty) and appends them as one row. */
static void add_row(struct chored_report *r, struct report_block *b, const char *const *cells)
{
	char **row = calloc(b->ncols, sizeof *row);
	if (!row) {
		r->oom = true;
		return;
	}
	for (size_t i = 0; i < b->ncols; i++) {
		row[i] = dup_text(r, cells ? cells[i] : NULL);
		if (!row[i]) {
			for (size_t j = 0; j < i; j++)
				free(row[j]);
			free(row);
			return;
		}
	}
	add_cells(r, b, row, b->ncols);
	free(row);
}

void chored_report_table_begin(struct chored_report *r, size_t ncols, const char *const *header)
{
	if (!r)
		return;
	struct report_block *b = add_block(r, REPORT_TABLE);
	if (!b)
		return;
	b->ncols = ncols;
	if (ncols == 0)
		return; /* nothing to show: rows are dropped, the renderers skip it */
	add_row(r, b, header);
	r->open = true;
}

void chored_report_table_row(struct chored_report *r, const char *const *cells)
{
	if (!r)
		return;
	struct report_block *b = open_block(r, REPORT_TABLE);
	if (b) /* a row with no table open has no columns to go in: dropped */
		add_row(r, b, cells);
}

void chored_report_table_end(struct chored_report *r)
{
	if (r && open_block(r, REPORT_TABLE))
		r->open = false;
}

void chored_report_code(struct chored_report *r, const char *language, const char *text)
{
	if (!r)
		return;
	struct report_block *b = add_block(r, REPORT_CODE);
	if (!b)
		return;
	b->text = dup_text(r, text);
	if (language && *language)
		b->aux = dup_text(r, language);
}

void chored_report_figure(struct chored_report *r, const char *label, const char *value)
{
	if (!r)
		return;
	struct report_block *b = add_block(r, REPORT_FIGURE);
	if (!b)
		return;
	b->text = dup_text(r, label);
	b->aux = dup_text(r, value);
}

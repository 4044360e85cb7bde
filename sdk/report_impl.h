/* Internals of the report service (sdk/report*.c): the block model behind struct
 * chored_report, a growable string buffer and UTF-8 helpers shared by the renderers.
 * Not installed; names carry the report_ prefix and are internal to libchored. */
#ifndef CHORED_REPORT_IMPL_H
#define CHORED_REPORT_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chored/report.h"

enum report_kind {
	REPORT_HEADING,
	REPORT_PARAGRAPH,
	REPORT_LIST,
	REPORT_TABLE,
	REPORT_CODE,
	REPORT_FIGURE,
};

/* One block. Every string is owned by the block and is valid UTF-8 (invalid input bytes
 * become U+FFFD when added). */
struct report_block {
	enum report_kind kind;
	int level;     /* HEADING: 1 to 3 */
	bool ordered;  /* LIST */
	char *text;    /* HEADING, PARAGRAPH, CODE; FIGURE: the label */
	char *aux;     /* CODE: the language or NULL; FIGURE: the value */
	char **cells;  /* LIST: the items; TABLE: row-major, the header row first */
	size_t ncells; /* LIST: items; TABLE: ncols * rows */
	size_t ncols;  /* TABLE */
};

struct chored_report {
	char *title;
	enum chored_status status;
	struct report_block *blocks;
	size_t nblocks, cap;
	/* The list or table still taking items/rows (the last block), or none. */
	bool open;
	/* An allocation failed: the renderers return NULL rather than a partial report. */
	bool oom;
};

/* The word of a status: "ok", "partial", "failed". */
const char *report_status_word(enum chored_status s);

/* Growable string. Once an allocation fails, `oom` stays set and appends are ignored. */
struct report_buf {
	char *s;
	size_t len, cap;
	bool oom;
};
void report_buf_add(struct report_buf *b, const char *s, size_t n);
void report_buf_puts(struct report_buf *b, const char *s);
void report_buf_putc(struct report_buf *b, char c);
void report_buf_printf(struct report_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void report_buf_repeat(struct report_buf *b, const char *s, size_t times);
/* The string (owned by the caller), or NULL (and the buffer freed) after a failure. */
char *report_buf_finish(struct report_buf *b);

/* A malloc'd copy of `s` (NULL reads as "") with invalid UTF-8 replaced by U+FFFD. */
char *report_utf8_dup(const char *s, size_t n);
/* Decodes the code point at s (valid UTF-8); stores its length in *len. */
uint32_t report_utf8_next(const char *s, size_t *len);
/* Terminal columns `s` takes (wide East Asian and emoji 2, combining marks 0). */
size_t report_utf8_width(const char *s);
size_t report_cp_width(uint32_t cp);
/* Length of the longest prefix of s[0..n) that holds at most `max_units` UTF-16 code units
 * and ends on a code point boundary (Notion counts rich-text length conservatively so). */
size_t report_utf16_prefix(const char *s, size_t n, size_t max_units);

#endif

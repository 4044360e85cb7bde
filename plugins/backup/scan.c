/* Record counters over streamed text: INSERT statements of a SQL dump per table, and the
 * objects of a JSON array. Both keep a few bytes of state across chunk boundaries and never
 * hold the text; they only need to understand what the dumps and this plugin write. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "backup.h"

enum { SQ_NORMAL, SQ_SINGLE, SQ_DOUBLE, SQ_COMMENT };

void bk_sql_scan_init(struct bk_sql_scan *s)
{
	memset(s, 0, sizeof *s);
}

void bk_sql_scan_free(struct bk_sql_scan *s)
{
	for (size_t i = 0; i < s->n_tables; i++)
		free(s->tables[i].name);
	free(s->tables);
	memset(s, 0, sizeof *s);
}

int64_t bk_sql_scan_rows(const struct bk_sql_scan *s, const char *name)
{
	for (size_t i = 0; i < s->n_tables; i++)
		if (strcmp(s->tables[i].name, name) == 0)
			return s->tables[i].rows;
	return 0;
}

/* The table named by `p` ("t" with "" escapes, or a bare word) into name. */
static size_t table_name(const char *p, size_t n, char *name, size_t cap)
{
	size_t o = 0, i = 0;
	if (n && p[0] == '"') {
		for (i = 1; i < n; i++) {
			if (p[i] == '"') {
				if (i + 1 < n && p[i + 1] == '"')
					i++;
				else
					break;
			}
			if (o + 1 < cap)
				name[o++] = p[i];
		}
	} else {
		for (; i < n && (isalnum((unsigned char)p[i]) || p[i] == '_' || p[i] == '$'); i++)
			if (o + 1 < cap)
				name[o++] = p[i];
	}
	name[o] = 0;
	return o;
}

static void count_row(struct bk_sql_scan *s, const char *name)
{
	/* Rows of one table come in a run: look at the last table first. */
	if (s->n_tables && strcmp(s->tables[s->n_tables - 1].name, name) == 0) {
		s->tables[s->n_tables - 1].rows++;
		s->rows++;
		return;
	}
	for (size_t i = 0; i < s->n_tables; i++)
		if (strcmp(s->tables[i].name, name) == 0) {
			s->tables[i].rows++;
			s->rows++;
			return;
		}
	struct bk_table_count *t = realloc(s->tables, (s->n_tables + 1) * sizeof *t);
	if (!t)
		return;
	s->tables = t;
	t[s->n_tables].name = strdup(name);
	if (!t[s->n_tables].name)
		return;
	t[s->n_tables++].rows = 1;
	s->rows++;
}

static void end_statement(struct bk_sql_scan *s)
{
	static const char ins[] = "INSERT INTO ";
	s->statements++;
	if (s->head_len > sizeof ins - 1 && strncasecmp(s->head, ins, sizeof ins - 1) == 0) {
		char name[sizeof s->head];
		if (table_name(s->head + sizeof ins - 1, s->head_len - (sizeof ins - 1), name,
		               sizeof name) &&
		    strcmp(name, "sqlite_sequence") != 0)
			count_row(s, name);
	}
	s->head_len = 0;
}

void bk_sql_scan_feed(struct bk_sql_scan *s, const char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		char c = buf[i];
		switch (s->state) {
		case SQ_COMMENT:
			if (c == '\n')
				s->state = SQ_NORMAL;
			s->prev = c;
			continue;
		case SQ_SINGLE:
			if (c == '\'')
				s->state = SQ_NORMAL;
			break;
		case SQ_DOUBLE:
			if (c == '"')
				s->state = SQ_NORMAL;
			break;
		default:
			if (c == '\'')
				s->state = SQ_SINGLE;
			else if (c == '"')
				s->state = SQ_DOUBLE;
			else if (c == '-' && s->prev == '-') {
				s->state = SQ_COMMENT;
				if (s->head_len && s->head[s->head_len - 1] == '-')
					s->head_len--;
				s->prev = c;
				continue;
			} else if (c == ';') {
				end_statement(s);
				s->prev = c;
				continue;
			}
		}
		s->prev = c;
		if (s->head_len == 0 && isspace((unsigned char)c))
			continue;
		if (s->head_len < sizeof s->head - 1)
			s->head[s->head_len++] = c;
	}
}

void bk_json_scan_init(struct bk_json_scan *s)
{
	memset(s, 0, sizeof *s);
}

void bk_json_scan_feed(struct bk_json_scan *s, const char *buf, size_t len)
{
	for (size_t i = 0; i < len && !s->bad; i++) {
		char c = buf[i];
		if (s->in_str) {
			if (s->esc)
				s->esc = false;
			else if (c == '\\')
				s->esc = true;
			else if (c == '"')
				s->in_str = false;
			continue;
		}
		if (isspace((unsigned char)c))
			continue;
		if (s->closed) {
			s->bad = true; /* text after the array */
			break;
		}
		if (!s->seen) {
			s->seen = true;
			if (c != '[') {
				s->bad = true;
				break;
			}
		}
		switch (c) {
		case '"':
			s->in_str = true;
			break;
		case '{':
			if (s->depth == 1)
				s->records++;
			else if (s->depth == 3)
				s->nested++;
			s->depth++;
			break;
		case '[':
			s->depth++;
			break;
		case '}':
		case ']':
			if (--s->depth < 0)
				s->bad = true;
			else if (s->depth == 0)
				s->closed = true;
			break;
		default:
			if (s->depth == 0)
				s->bad = true;
		}
	}
}

int bk_json_scan_end(const struct bk_json_scan *s)
{
	return s->bad || !s->closed || s->in_str ? -1 : 0;
}

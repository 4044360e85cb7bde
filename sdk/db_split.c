/* SQL text handling shared by the backends: splitting a script into statements (restore),
 * recognising transaction statements, numbering `?` placeholders for PostgreSQL. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sqlite3.h>

#include "db_impl.h"

/* Skips blanks and SQL comments. */
static const char *skip_blank(const char *p)
{
	for (;;) {
		while (isspace((unsigned char)*p))
			p++;
		if (p[0] == '-' && p[1] == '-') {
			p += strcspn(p, "\n");
		} else if (p[0] == '/' && p[1] == '*') {
			const char *e = strstr(p + 2, "*/");
			p = e ? e + 2 : p + strlen(p);
		} else {
			return p;
		}
	}
}

static int grow(struct db_split *s, size_t more)
{
	if (s->len + more + 1 <= s->cap)
		return 0;
	size_t cap = s->cap ? s->cap : 4096;
	while (cap < s->len + more + 1)
		cap *= 2;
	char *b = realloc(s->buf, cap);
	if (!b)
		return -1;
	s->buf = b;
	s->cap = cap;
	return 0;
}

/* Hands out the statement gathered in s->buf[0..len) when SQLite deems it complete. */
static int emit(struct db_split *s, int (*each)(const char *, void *), void *data, bool *taken)
{
	*taken = false;
	s->buf[s->len] = '\0';
	if (!sqlite3_complete(s->buf))
		return 0;
	*taken = true;
	const char *start = skip_blank(s->buf);
	int rc = 0;
	if (*start != ';' && *start) {
		char *end = s->buf + s->len;
		while (end > start && isspace((unsigned char)end[-1]))
			end--;
		*end = '\0';
		rc = each(start, data);
	}
	s->len = 0;
	return rc;
}

int db_split_feed(struct db_split *s, const char *p, size_t len,
                  int (*each)(const char *stmt, void *data), void *data)
{
	/* Copy up to each ';' and ask sqlite3_complete only then: statements end there. */
	while (len) {
		const char *semi = memchr(p, ';', len);
		size_t take = semi ? (size_t)(semi - p) + 1 : len;
		if (memchr(p, '\0', take))
			return -3;
		if (grow(s, take) < 0)
			return -2;
		memcpy(s->buf + s->len, p, take);
		s->len += take;
		p += take;
		len -= take;
		if (semi) {
			bool taken;
			int rc = emit(s, each, data, &taken);
			if (rc)
				return rc;
		}
	}
	return 0;
}

const char *db_split_rest(struct db_split *s)
{
	if (!s->buf || !s->len)
		return NULL;
	s->buf[s->len] = '\0';
	const char *p = skip_blank(s->buf);
	return *p ? p : NULL;
}

void db_split_free(struct db_split *s)
{
	free(s->buf);
	memset(s, 0, sizeof *s);
}

static int count_one(const char *stmt, void *data)
{
	(void)stmt;
	(*(size_t *)data)++;
	return 0;
}

size_t db_count_statements(const char *sql)
{
	struct db_split sp = {0};
	size_t n = 0;
	if (db_split_feed(&sp, sql, strlen(sql), count_one, &n) < 0)
		n = 2; /* out of memory: not provably one statement */
	else if (db_split_rest(&sp))
		n++;
	db_split_free(&sp);
	return n;
}

/* The keyword at p (letters only) if it equals `w`, case-insensitively. */
static bool word_is(const char *p, const char *w, const char **after)
{
	size_t n = strlen(w);
	if (strncasecmp(p, w, n) != 0 || isalnum((unsigned char)p[n]) || p[n] == '_')
		return false;
	if (after)
		*after = skip_blank(p + n);
	return true;
}

bool db_is_txn_control(const char *stmt)
{
	const char *p = skip_blank(stmt), *q;
	if (word_is(p, "BEGIN", NULL) || word_is(p, "COMMIT", NULL) || word_is(p, "END", NULL))
		return true;
	if (word_is(p, "START", &q))
		return word_is(q, "TRANSACTION", NULL);
	if (word_is(p, "ROLLBACK", &q)) {
		if (!word_is(q, "TRANSACTION", &q))
			word_is(q, "WORK", &q);
		return !word_is(q, "TO", NULL);
	}
	return false;
}

/* The end of a $tag$ opening at p, or NULL when p does not open a dollar quote. */
static const char *dollar_tag_end(const char *p)
{
	const char *q = p + 1;
	if (isdigit((unsigned char)*q))
		return NULL; /* $1: a parameter */
	while (isalnum((unsigned char)*q) || *q == '_')
		q++;
	return *q == '$' ? q + 1 : NULL;
}

char *db_sql_dollar(const char *sql)
{
	size_t n = 0;
	for (const char *p = sql; *p; p++)
		n += *p == '?';
	char *out = malloc(strlen(sql) + n * 12 + 1), *o = out;
	if (!out)
		return NULL;
	unsigned k = 0;
	const char *p = sql;
	while (*p) {
		if (*p == '\'' || *p == '"') {
			/* E'...' strings take backslash escapes. */
			bool esc =
			    *p == '\'' && p > sql && (p[-1] == 'E' || p[-1] == 'e') &&
			    (p - 1 == sql || !(isalnum((unsigned char)p[-2]) || p[-2] == '_'));
			char qc = *p;
			*o++ = *p++;
			while (*p) {
				if (esc && *p == '\\' && p[1]) {
					*o++ = *p++;
					*o++ = *p++;
					continue;
				}
				if (*p == qc) {
					*o++ = *p++;
					if (*p != qc)
						break;
				}
				*o++ = *p++;
			}
		} else if (p[0] == '-' && p[1] == '-') {
			size_t l = strcspn(p, "\n");
			memcpy(o, p, l);
			o += l;
			p += l;
		} else if (p[0] == '/' && p[1] == '*') {
			const char *e = strstr(p + 2, "*/");
			size_t l = e ? (size_t)(e + 2 - p) : strlen(p);
			memcpy(o, p, l);
			o += l;
			p += l;
		} else if (*p == '$' && dollar_tag_end(p) &&
		           !(p > sql && (isalnum((unsigned char)p[-1]) || p[-1] == '_'))) {
			const char *te = dollar_tag_end(p);
			size_t tl = (size_t)(te - p);
			const char *close = p + tl;
			for (;;) {
				close = strchr(close, '$');
				if (!close || strncmp(close, p, tl) == 0)
					break;
				close++;
			}
			size_t l = close ? (size_t)(close + tl - p) : strlen(p);
			memcpy(o, p, l);
			o += l;
			p += l;
		} else if (*p == '?') {
			o += sprintf(o, "$%u", ++k);
			p++;
		} else {
			*o++ = *p++;
		}
	}
	*o = '\0';
	return out;
}

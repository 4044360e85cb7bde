/* The INI reader: syntax only. Works on a whole file in memory so that lines have no
 * length limit other than INI_MAX_LINE, which is reported, never applied by truncation. */
#include "config_ini.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n);
	if (!p)
		abort(); /* out of memory while loading config: nothing sensible to do */
	return p;
}

static char *xstrndup(const char *s, size_t n)
{
	char *d = xrealloc(NULL, n + 1);
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

static bool is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '.' || c == '-';
}

static bool is_name_n(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!is_name_char(s[i]))
			return false;
	return true;
}

bool ini_is_name(const char *s)
{
	return is_name_n(s, strlen(s));
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* Narrows [*b, *e) to its non-blank part. */
static void trim(const char **b, const char **e)
{
	while (*b < *e && is_space(**b))
		(*b)++;
	while (*e > *b && is_space((*e)[-1]))
		(*e)--;
}

struct reader {
	struct ini_doc *doc;
	ini_error_fn *on_error;
	void *ctx;
	size_t n_errors;
	struct ini_section *cur; /* NULL before the first header */
	bool skipping;           /* after a malformed header: drop entries until the next one */
};

static void fail(struct reader *r, unsigned line, const char *key, const char *msg)
{
	r->n_errors++;
	const char *type = r->cur && !r->skipping ? r->cur->type : NULL;
	const char *name = r->cur && !r->skipping ? r->cur->name : NULL;
	r->on_error(r->ctx, line, type, name, key, msg);
}

static void section_line(struct reader *r, unsigned line, const char *b, const char *e)
{
	char msg[256];
	/* b points at '[' */
	if (e[-1] != ']') {
		r->skipping = true;
		fail(r, line, NULL, "section header must end with ']'");
		return;
	}
	const char *ib = b + 1, *ie = e - 1;
	trim(&ib, &ie);
	const char *te = ib;
	while (te < ie && !is_space(*te))
		te++;
	const char *nb = te, *ne = ie;
	trim(&nb, &ne);
	const char *ns = nb;
	while (ns < ne && !is_space(*ns))
		ns++;
	r->skipping = true;
	if (ib == te) {
		fail(r, line, NULL,
		     "empty section header; expected [daemon], [job NAME], [notify NAME] or "
		     "[secrets]");
		return;
	}
	if (ns != ne) {
		fail(r, line, NULL,
		     "section header has more than a type and a name; names may contain only A-Z "
		     "a-z 0-9 _ . -");
		return;
	}
	if (!is_name_n(ib, (size_t)(te - ib))) {
		fail(r, line, NULL, "section type may contain only A-Z a-z 0-9 _ . -");
		return;
	}
	if (nb < ne && !is_name_n(nb, (size_t)(ne - nb))) {
		fail(r, line, NULL, "section name may contain only A-Z a-z 0-9 _ . -");
		return;
	}
	if ((size_t)(ne - nb) > INI_MAX_NAME) {
		snprintf(msg, sizeof msg,
		         "section name is %zu characters long; at most %d are allowed",
		         (size_t)(ne - nb), INI_MAX_NAME);
		fail(r, line, NULL, msg);
		return;
	}
	struct ini_doc *d = r->doc;
	if (d->n_sections == d->cap_sections) {
		d->cap_sections = d->cap_sections ? 2 * d->cap_sections : 16;
		d->sections = xrealloc(d->sections, d->cap_sections * sizeof *d->sections);
	}
	struct ini_section *s = &d->sections[d->n_sections++];
	memset(s, 0, sizeof *s);
	s->type = xstrndup(ib, (size_t)(te - ib));
	s->name = nb < ne ? xstrndup(nb, (size_t)(ne - nb)) : NULL;
	s->line = line;
	r->cur = s;
	r->skipping = false;
}

static void entry_line(struct reader *r, unsigned line, const char *b, const char *e)
{
	/* The line itself is never quoted in errors: it may hold a secret. */
	const char *eq = memchr(b, '=', (size_t)(e - b));
	if (!eq) {
		if (!r->skipping)
			fail(r, line, NULL, "expected KEY = VALUE, found no '='");
		return;
	}
	const char *kb = b, *ke = eq;
	trim(&kb, &ke);
	if (kb == ke) {
		if (!r->skipping)
			fail(r, line, NULL, "expected KEY = VALUE, found no key before '='");
		return;
	}
	char *key = xstrndup(kb, (size_t)(ke - kb));
	if (!is_name_n(kb, (size_t)(ke - kb))) {
		if (!r->skipping)
			fail(r, line, key, "key may contain only A-Z a-z 0-9 _ . -");
		free(key);
		return;
	}
	if (r->skipping) {
		free(key);
		return;
	}
	if (!r->cur) {
		fail(r, line, key,
		     "key before any section; put it under [daemon], [job NAME], [notify NAME] or "
		     "[secrets]");
		free(key);
		return;
	}
	const char *vb = eq + 1, *ve = e;
	trim(&vb, &ve);
	/* Quotes only protect surrounding blanks; nothing inside is unescaped. */
	if (ve - vb >= 2 && vb[0] == '"' && ve[-1] == '"') {
		vb++;
		ve--;
	}
	struct ini_section *s = r->cur;
	if (s->n_entries == s->cap_entries) {
		s->cap_entries = s->cap_entries ? 2 * s->cap_entries : 8;
		s->entries = xrealloc(s->entries, s->cap_entries * sizeof *s->entries);
	}
	struct ini_entry *en = &s->entries[s->n_entries++];
	en->key = key;
	en->value = xstrndup(vb, (size_t)(ve - vb));
	en->line = line;
}

size_t ini_parse(const char *data, size_t len, struct ini_doc *out, ini_error_fn *on_error,
                 void *ctx)
{
	memset(out, 0, sizeof *out);
	struct reader r = {.doc = out, .on_error = on_error, .ctx = ctx};
	const char *p = data, *end = data + len;
	unsigned line = 0;
	/* A UTF-8 byte order mark is editor noise, not content. */
	if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
		p += 3;
	while (p < end) {
		line++;
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		const char *next = nl ? nl + 1 : end;
		if (le > p && le[-1] == '\r')
			le--;
		if ((size_t)(le - p) > INI_MAX_LINE) {
			char msg[128];
			snprintf(msg, sizeof msg, "line is %zu bytes long; at most %d are allowed",
			         (size_t)(le - p), INI_MAX_LINE);
			fail(&r, line, NULL, msg);
			p = next;
			continue;
		}
		if (memchr(p, '\0', (size_t)(le - p))) {
			fail(&r, line, NULL, "line contains a NUL byte");
			p = next;
			continue;
		}
		const char *b = p, *e = le;
		p = next;
		trim(&b, &e);
		if (b == e || *b == '#' || *b == ';')
			continue;
		if (*b == '[')
			section_line(&r, line, b, e);
		else
			entry_line(&r, line, b, e);
	}
	return r.n_errors;
}

void ini_doc_free(struct ini_doc *doc)
{
	for (size_t i = 0; i < doc->n_sections; i++) {
		struct ini_section *s = &doc->sections[i];
		for (size_t j = 0; j < s->n_entries; j++) {
			free(s->entries[j].key);
			free(s->entries[j].value);
		}
		free(s->entries);
		free(s->type);
		free(s->name);
	}
	free(doc->sections);
	memset(doc, 0, sizeof *doc);
}

/* Shell-like word splitting: blanks separate words; '…' keeps everything literally;
 * "…" keeps everything but \" \\ \$ \` and backslash-newline; a backslash outside quotes
 * makes the next character literal. */
#include "words.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <chored/job.h>

char **words_split_opt(struct chored_job *job, const char *key)
{
	const char *v = chored_job_opt(job, key);
	char err[160];
	char **w = words_split(v ? v : "", err, sizeof err);
	if (!w)
		chored_job_error(job, key, "%s", err);
	return w;
}

void words_free(char **words)
{
	if (!words)
		return;
	for (char **w = words; *w; w++)
		free(*w);
	free(words);
}

size_t words_count(char *const *words)
{
	size_t n = 0;
	while (words[n])
		n++;
	return n;
}

/* Appends `word` (owned) to *words; false when out of memory. */
static bool push(char ***words, size_t *n, char *word)
{
	char **nw = realloc(*words, (*n + 2) * sizeof **words);
	if (!nw)
		return false;
	nw[(*n)++] = word;
	nw[*n] = NULL;
	*words = nw;
	return true;
}

char **words_split(const char *text, char *err, size_t errlen)
{
	size_t n = 0;
	char **words = calloc(1, sizeof *words);
	char *cur = malloc(strlen(text) + 1); /* a word is never longer than the text */
	if (!words || !cur)
		goto nomem;
	const char *p = text;
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\n')
			p++;
		if (!*p)
			break;
		size_t len = 0;
		while (*p && *p != ' ' && *p != '\t' && *p != '\n') {
			if (*p == '\'') {
				const char *q = strchr(p + 1, '\'');
				if (!q) {
					snprintf(err, errlen, "unbalanced ' quote at offset %zu",
					         (size_t)(p - text));
					goto fail;
				}
				memcpy(cur + len, p + 1, (size_t)(q - p - 1));
				len += (size_t)(q - p - 1);
				p = q + 1;
			} else if (*p == '"') {
				const char *open = p++;
				for (; *p && *p != '"'; p++) {
					if (*p == '\\' && p[1] == '\n') {
						p++; /* line continuation */
						continue;
					}
					if (*p == '\\' && p[1] && strchr("\"\\$`", p[1]))
						p++;
					cur[len++] = *p;
				}
				if (!*p) {
					snprintf(err, errlen, "unbalanced \" quote at offset %zu",
					         (size_t)(open - text));
					goto fail;
				}
				p++;
			} else if (*p == '\\') {
				if (!p[1]) {
					snprintf(err, errlen, "trailing backslash");
					goto fail;
				}
				if (p[1] != '\n')
					cur[len++] = p[1];
				p += 2;
			} else {
				cur[len++] = *p++;
			}
		}
		char *w = strndup(cur, len);
		if (!w || !push(&words, &n, w)) {
			free(w);
			goto nomem;
		}
	}
	free(cur);
	return words;
nomem:
	snprintf(err, errlen, "out of memory");
fail:
	free(cur);
	words_free(words);
	return NULL;
}

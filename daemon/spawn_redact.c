/* Secret redaction for what a run prints and reports (issue 7 item 4): every configured
 * secret value becomes "***". Works on bytes, so it is indifferent to encodings. */
#include <stdlib.h>
#include <string.h>

#include "spawn_int.h"

/* End of the furthest secret occurrence starting at s[i], or i when none starts there. */
static size_t match_end(char *const *secrets, const char *s, size_t n, size_t i)
{
	size_t end = i;
	for (char *const *p = secrets; *p; p++) {
		size_t len = strlen(*p);
		if (len <= n - i && i + len > end && s[i] == (*p)[0] && memcmp(s + i, *p, len) == 0)
			end = i + len;
	}
	return end;
}

static bool any_occurs(char *const *secrets, const char *s, size_t n)
{
	for (char *const *p = secrets; *p; p++)
		if (memmem(s, n, *p, strlen(*p)))
			return true;
	return false;
}

char *spawn_redact(char *const *secrets, const char *s, size_t n, bool *changed)
{
	*changed = false;
	if (!secrets || !any_occurs(secrets, s, n))
		return NULL;
	*changed = true;
	/* Each "***" replaces at least one byte, so 3n bounds the result. */
	char *out = malloc(3 * n + 1);
	if (!out)
		return NULL;
	size_t o = 0, covered = 0; /* s[..covered) lies inside the last redacted stretch */
	bool open = false;         /* the last thing written was "***" */
	for (size_t i = 0; i < n; i++) {
		size_t end = match_end(secrets, s, n, i);
		if (open && end > i && i <= covered) {
			/* An occurrence overlapping or touching the stretch extends it. */
			if (end > covered)
				covered = end;
			continue;
		}
		if (i < covered)
			continue;
		if (end > i) {
			memcpy(out + o, "***", 3);
			o += 3;
			covered = end;
			open = true;
			continue;
		}
		out[o++] = s[i];
		open = false;
	}
	out[o] = '\0';
	return out;
}

size_t spawn_redact_tail(char *const *secrets, const char *s, size_t n)
{
	size_t keep = n;
	if (!secrets)
		return n;
	for (char *const *p = secrets; *p; p++) {
		size_t len = strlen(*p);
		/* Longest proper prefix of the secret that ends s. */
		for (size_t k = len - 1 < n ? len - 1 : n; k > 0; k--) {
			if (memcmp(s + n - k, *p, k) == 0) {
				if (n - k < keep)
					keep = n - k;
				break;
			}
		}
	}
	return keep;
}

/* Allocation that cannot fail: on exhaustion the process aborts. For the daemon's own
 * bookkeeping, where a partial structure would be worse than a clean crash that systemd
 * restarts; code handling untrusted sizes must check them before calling these. */
#ifndef CHORED_XALLOC_H
#define CHORED_XALLOC_H

#include <stddef.h>

void *xrealloc(void *p, size_t n);
void *xcalloc(size_t n, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

#endif

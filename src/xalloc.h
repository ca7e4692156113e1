/* Allocation that cannot fail silently: on exhaustion the process logs and
 * aborts. Used for configuration and setup, never for per-request memory on
 * the hot path, where allocation failure is counted and the request dropped. */
#ifndef SPOA_MIRROR_XALLOC_H
#define SPOA_MIRROR_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrdup_or_null(const char *s);
char *xstrndup(const char *s, size_t n);

#endif

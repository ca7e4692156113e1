/* Allocation that cannot fail silently: on exhaustion the process logs and
 * aborts. Used for configuration and setup, never for per-request memory on
 * the hot path, where allocation failure is counted and the request dropped.
 *
 * Setup code also runs at run time (SIGHUP re-reads the configuration):
 * there, xalloc_try() runs it so that exhaustion is an error instead of an
 * abort. */
#ifndef SPOA_MIRROR_XALLOC_H
#define SPOA_MIRROR_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrdup_or_null(const char *s);
char *xstrndup(const char *s, size_t n);

/* Runs fn(arg) and returns what it returns, or -1 when an x*() helper ran
 * out of memory inside it (on this thread): fn is then left where the
 * allocation failed, without unwinding. So fn must build into memory
 * nothing else sees until it returns, and whatever it built by then is
 * abandoned (a setter may have freed a pointer it had not yet replaced, so
 * freeing it is not safe); shared structures it touches must stay
 * consistent at every x*() call. *oom tells the two -1 apart. */
int xalloc_try(int (*fn)(void *arg), void *arg, int *oom);

#endif

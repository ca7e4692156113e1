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

/* Frees a block from the x*() helpers. Inside xalloc_try() it must be
 * used instead of free() for them (the attempt forgets the block); outside
 * it is free(). */
void xfree(void *p);

/* Runs fn(arg) and returns what it returns, or -1 when an x*() helper ran
 * out of memory inside it (on this thread): fn is then left where the
 * allocation failed, without unwinding, and every block the x*() helpers
 * gave during the attempt and that was not freed with xfree() or kept is
 * freed. So fn builds into memory nothing else sees until it returns;
 * blocks it hands to a structure that outlives a failed attempt (a
 * registry) are given up with xalloc_keep(), and such structures must be
 * consistent at every x*() call. Resources other than x*() memory (files,
 * libcurl handles) must not be held across an x*() call. Not nested. *oom
 * tells the two -1 apart. */
int xalloc_try(int (*fn)(void *arg), void *arg, int *oom);
/* The block now belongs to a structure outside the attempt. */
void xalloc_keep(const void *p);
/* A block made with malloc() elsewhere (one allocation, freed with
 * free()/xfree()) that an attempt must free if it fails; outside an
 * attempt, nothing. Returns p (NULL: out of memory, as for x*()). */
void *xalloc_adopt(void *p);

#endif

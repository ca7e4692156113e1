/* Checked allocation for setup paths (see xalloc.h). */
#include "xalloc.h"

#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Set while xalloc_try() runs on this thread: where exhaustion returns,
 * and every block the attempt allocated and has not freed or kept, so
 * that a failed attempt frees all it built. */
struct attempt_blocks {
	jmp_buf *recover;
	void **blocks;
	size_t n, cap;
};
static _Thread_local struct attempt_blocks attempt_state;
static _Thread_local struct attempt_blocks *attempt; /* &attempt_state or NULL */

static _Noreturn void out_of_memory(void)
{
	if (attempt)
		longjmp(*attempt->recover, 1);
	fputs("spoa-mirror: out of memory\n", stderr);
	abort();
}

/* Linear, newest first: an attempt holds a configuration's few hundred
 * blocks, and most frees are of what was just built. */
static size_t find(const void *p)
{
	for (size_t i = attempt->n; i-- > 0;)
		if (attempt->blocks[i] == p)
			return i;
	return SIZE_MAX;
}

static void *track(void *p)
{
	if (!p)
		out_of_memory();
	if (!attempt)
		return p;
	if (attempt->n == attempt->cap) {
		size_t cap = attempt->cap ? 2 * attempt->cap : 64;
		void **grown = realloc(attempt->blocks, cap * sizeof(*grown));

		if (!grown) {
			free(p);
			out_of_memory();
		}
		attempt->blocks = grown;
		attempt->cap = cap;
	}
	attempt->blocks[attempt->n++] = p;
	return p;
}

static void untrack(const void *p)
{
	size_t i;

	if (!attempt || !p || (i = find(p)) == SIZE_MAX)
		return;
	attempt->blocks[i] = attempt->blocks[--attempt->n];
}

void *xmalloc(size_t n)
{
	return track(malloc(n ? n : 1));
}

void *xcalloc(size_t n, size_t size)
{
	return track(calloc(n ? n : 1, size ? size : 1));
}

/* A block from before the attempt stays its owner's, moved or not. */
void *xrealloc(void *p, size_t n)
{
	size_t i = attempt && p ? find(p) : SIZE_MAX;
	void *q = realloc(p, n ? n : 1);

	if (!q)
		out_of_memory();
	if (i != SIZE_MAX)
		attempt->blocks[i] = q;
	else if (!p)
		track(q);
	return q;
}

void xfree(void *p)
{
	untrack(p);
	free(p);
}

void xalloc_keep(const void *p)
{
	untrack(p);
}

void *xalloc_adopt(void *p)
{
	return track(p);
}

/* The copies go through malloc, like every other x*() allocation (the
 * allocation-failure tests wrap malloc). */
char *xstrndup(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *p = xmalloc(len + 1);

	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *xstrdup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

int xalloc_try(int (*fn)(void *arg), void *arg, int *oom)
{
	jmp_buf here;
	int rc;

	*oom = 0;
	if (attempt)
		return -1; /* not nested: the inner one would free the outer's blocks */
	/* static, not on this stack: setjmp leaves locals changed after it
	 * indeterminate */
	attempt_state = (struct attempt_blocks){ &here, NULL, 0, 0 };
	attempt = &attempt_state;
	if (setjmp(here)) {
		for (size_t i = 0; i < attempt->n; i++)
			free(attempt->blocks[i]);
		free(attempt->blocks);
		attempt = NULL;
		*oom = 1;
		return -1;
	}
	rc = fn(arg);
	free(attempt->blocks);
	attempt = NULL;
	return rc;
}

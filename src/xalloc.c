/* Checked allocation for setup paths (see xalloc.h). */
#include "xalloc.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Set while xalloc_try() runs on this thread: where exhaustion returns. */
static _Thread_local jmp_buf *recover;

static void *check(void *p)
{
	if (!p) {
		if (recover)
			longjmp(*recover, 1);
		fputs("spoa-mirror: out of memory\n", stderr);
		abort();
	}
	return p;
}

void *xmalloc(size_t n)
{
	return check(malloc(n ? n : 1));
}

void *xcalloc(size_t n, size_t size)
{
	return check(calloc(n ? n : 1, size ? size : 1));
}

void *xrealloc(void *p, size_t n)
{
	return check(realloc(p, n ? n : 1));
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
	jmp_buf *volatile outer = recover;
	int rc;

	*oom = 0;
	if (setjmp(here)) {
		recover = outer;
		*oom = 1;
		return -1;
	}
	recover = &here;
	rc = fn(arg);
	recover = outer;
	return rc;
}

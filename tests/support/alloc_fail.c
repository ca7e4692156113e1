/* Allocation failure injection (see alloc_fail.h). */
#include "alloc_fail.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

void *__real_malloc(size_t n);
void *__real_realloc(void *p, size_t n);
void *__real_calloc(size_t n, size_t size);
void *__wrap_malloc(size_t n);
void *__wrap_realloc(void *p, size_t n);
void *__wrap_calloc(size_t n, size_t size);

static _Thread_local bool watched;
static atomic_long countdown;
static atomic_int failed;

void alloc_fail_watch_this_thread(void)
{
	watched = true;
}

void alloc_fail_after(long n)
{
	atomic_store(&countdown, n);
}

int alloc_fail_count(void)
{
	return atomic_load(&failed);
}

static bool fails(void)
{
	if (!watched || atomic_load(&countdown) <= 0)
		return false;
	if (atomic_fetch_sub(&countdown, 1) != 1)
		return false;
	atomic_fetch_add(&failed, 1);
	return true;
}

void *__wrap_malloc(size_t n)
{
	return fails() ? NULL : __real_malloc(n);
}

void *__wrap_realloc(void *p, size_t n)
{
	return fails() ? NULL : __real_realloc(p, n);
}

void *__wrap_calloc(size_t n, size_t size)
{
	return fails() ? NULL : __real_calloc(n, size);
}

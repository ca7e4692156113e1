/* Allocation failure injection for unit tests linked with
 * -Wl,--wrap=malloc,--wrap=realloc,--wrap=calloc: the Nth allocation made
 * by a watched thread after alloc_fail_after(N) returns NULL. Only the
 * project's own objects are wrapped (libc, libev and libcurl allocate as
 * usual). */
#ifndef SPOA_MIRROR_TEST_ALLOC_FAIL_H
#define SPOA_MIRROR_TEST_ALLOC_FAIL_H

/* The calling thread's allocations count from now on. */
void alloc_fail_watch_this_thread(void);
/* The nth counted allocation from now fails; 0 disarms. */
void alloc_fail_after(long n);
/* Allocations failed so far. */
int alloc_fail_count(void);

#endif

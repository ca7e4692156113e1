/* Monotonic time in nanoseconds: admission (rate limits, back-off) on the
 * SPOP thread and transfer latency in the workers compare these values.
 * Code whose timing is tested takes a struct clock_source, which tests
 * replace with a clock they move by hand instead of sleeping. */
#ifndef SPOA_MIRROR_CLOCK_H
#define SPOA_MIRROR_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t clock_monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A time source: now_ns(arg), or CLOCK_MONOTONIC when the source or its
 * function is NULL. */
struct clock_source {
	uint64_t (*now_ns)(void *arg);
	void *arg;
};

static inline uint64_t clock_now_ns(const struct clock_source *c)
{
	return c && c->now_ns ? c->now_ns(c->arg) : clock_monotonic_ns();
}

#endif

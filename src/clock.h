/* Monotonic time in nanoseconds: admission (rate limits, back-off) on the
 * SPOP thread and transfer latency in the workers compare these values. */
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

#endif

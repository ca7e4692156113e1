/* A clock the test moves by hand, put behind log_now_ms() and so behind
 * every rate-limited log window (log_set_clock): a test proves "one line,
 * then a summary when the window is over" by moving time past the window
 * instead of sleeping through it. Any thread may read it. */
#ifndef SPOA_MIRROR_TEST_FAKE_CLOCK_H
#define SPOA_MIRROR_TEST_FAKE_CLOCK_H

#include <stdatomic.h>
#include <stdint.h>

#include "log.h"

static atomic_uint_fast64_t fake_clock_ms;

static inline uint64_t fake_clock_now(void)
{
	return atomic_load(&fake_clock_ms);
}

/* From now on the logs' clock reads `ms` until moved. */
static inline void fake_clock_start(uint64_t ms)
{
	atomic_store(&fake_clock_ms, ms);
	log_set_clock(fake_clock_now);
}

static inline void fake_clock_set(uint64_t ms)
{
	atomic_store(&fake_clock_ms, ms);
}

static inline void fake_clock_advance(uint64_t ms)
{
	atomic_fetch_add(&fake_clock_ms, ms);
}

/* Back to CLOCK_MONOTONIC. */
static inline void fake_clock_stop(void)
{
	log_set_clock(NULL);
}

#endif

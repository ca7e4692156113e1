/* One decided verdict as the outputs see it: the diff log, /compare and
 * the metrics get the same record from the verdict thread. Views only:
 * everything it points to lives until the call that takes it returns. */
#ifndef SPOA_MIRROR_VERDICT_RECORD_H
#define SPOA_MIRROR_VERDICT_RECORD_H

#include <stdbool.h>
#include <stdint.h>

#include "slice.h"
#include "verdict.h"

struct verdict_record {
	uint64_t time_ms;    /* wall clock (CLOCK_REALTIME), when decided */
	const char *target;  /* the target's name */
	struct slice method; /* the mirrored request's */
	struct slice path;   /* its URI as HAProxy sent it (query included) */
	struct slice id;     /* HAProxy's unique-id */
	const struct verdict *verdict; /* result, statuses, header and JSON diffs */
	/* both answers; bodies go to the diff log only with diff-log-bodies */
	const struct verdict_answer *primary;
	const struct verdict_answer *shadow;
	/* shadow minus primary response time, when HAProxy sent the primary's */
	bool has_latency_delta;
	int64_t latency_delta_us;
};

/* The verdicts the diff log writes and /compare counts as differences. */
static inline bool verdict_result_is_difference(enum verdict_result r)
{
	return r == VERDICT_STATUS || r == VERDICT_HEADERS || r == VERDICT_BODY;
}

#endif

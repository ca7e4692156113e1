/* A mirrored request registered for comparison: sent to the verdict
 * thread by the SPOP thread when the request is admitted to targets that
 * compare, before either answer can exist, so the join knows which
 * answers to wait for and an answer for any other id is unknown at once.
 * Holds a reference to the target set: the rules of a verdict are those
 * of the configuration the request was mirrored under, whatever reloads
 * happen meanwhile. */
#ifndef SPOA_MIRROR_VERDICT_EXPECT_H
#define SPOA_MIRROR_VERDICT_EXPECT_H

#include <stdint.h>

#include "slice.h"
#include "verdict_item.h"

struct target_set;

struct verdict_expect {
	struct verdict_item item;
	struct target_set *set; /* reference held */
	uint32_t expected;      /* bit i: set->targets[i] answers for comparison */
	struct slice id, method, path; /* inside this allocation */
	char bytes[];
};

/* One allocation copying the views and taking a new reference to set;
 * NULL when out of memory. */
struct verdict_expect *verdict_expect_new(struct target_set *set, uint32_t expected,
					  struct slice id, struct slice method, struct slice path);
void verdict_expect_free(struct verdict_expect *e);

#endif

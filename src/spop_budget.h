/* One memory budget for the SPOP side: the read, reassembly and output
 * buffers of every connection are charged to it, so what peers can make the
 * agent hold is bounded by configuration (spop-memory-max), not by
 * connections x frame size. Owned by the SPOP thread (the main loop, which
 * also serves /metrics): plain integers, no locks. */
#ifndef SPOA_MIRROR_SPOP_BUDGET_H
#define SPOA_MIRROR_SPOP_BUDGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct spop_budget {
	size_t limit;      /* bytes; 0 = no limit */
	size_t used;
	size_t peak;
	uint64_t released; /* bumped whenever bytes come back: waiters may retry */
};

void spop_budget_init(struct spop_budget *b, size_t limit);

/* A buffer of `from` bytes becomes `to` bytes. Growth is charged only if it
 * fits under the limit less a sixteenth (false: nothing charged; the
 * sixteenth is kept for forced growth), unless `force`: each
 * connection's small buffers are always granted, so small frames flow
 * whatever the big ones hold (bounded by the connection limit). Shrinking
 * always succeeds. A NULL budget grants everything. */
bool spop_budget_resize(struct spop_budget *b, size_t from, size_t to, bool force);

static inline size_t spop_budget_used(const struct spop_budget *b)
{
	return b ? b->used : 0;
}

#endif

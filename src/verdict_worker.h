/* The verdict thread: its own libev loop, a bounded inbox fed by the SPOP
 * thread (registrations, the primary's answers) and the replay workers
 * (shadows' answers), the join and its expiry timer. Comparing costs up to
 * ~2M instructions per 4 KiB JSON pair, so it never runs on the SPOP
 * thread; posting never blocks longer than a mutex held for a list append,
 * and what does not fit is dropped and counted. */
#ifndef SPOA_MIRROR_VERDICT_WORKER_H
#define SPOA_MIRROR_VERDICT_WORKER_H

#include <stddef.h>
#include <stdint.h>

#include "stats.h"
#include "verdict_item.h"
#include "verdict_join.h"

struct verdict_worker_settings {
	size_t max_entries;     /* join-max-entries: the join, and the inbox */
	size_t max_bytes;       /* join-max-bytes: the same */
	unsigned timeout_ms;    /* join-timeout */
	uint64_t (*now_ms)(void); /* the join's clock; NULL: CLOCK_MONOTONIC */
	struct verdict_stats *stats;
	struct verdict_outputs outputs; /* used by the thread only */
};

struct verdict_worker;

/* Starts the thread. NULL with a one-line reason in err. */
struct verdict_worker *verdict_worker_start(const struct verdict_worker_settings *s, char *err,
					    size_t errlen);
/* Hands an item over (any thread); takes ownership. When the inbox is
 * full it is freed and counted (stats->inbox_dropped by kind). */
void verdict_worker_post_take(struct verdict_worker *w, struct verdict_item *it);
/* Reopens the diff log on the verdict thread (SIGHUP). Any thread. */
void verdict_worker_reopen(struct verdict_worker *w);
/* Waits until everything posted before the call is joined (tests). */
void verdict_worker_sync(struct verdict_worker *w);
/* Joins what is posted, stops the thread, clears the join counting what
 * still waited (stats->cleared) and frees the worker. */
void verdict_worker_stop(struct verdict_worker *w);

#endif

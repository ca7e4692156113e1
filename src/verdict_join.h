/* The verdict thread's work, without the thread: registrations and answers
 * go into the join table; a request whose answers are all in (or whose
 * time is up) gets one verdict per target it was mirrored to, with the
 * rules of the target set it was mirrored under, and each verdict goes to
 * the target's counters, the diff log and the /compare report. Single
 * threaded; the clock is injected (tests move it instead of sleeping). */
#ifndef SPOA_MIRROR_VERDICT_JOIN_H
#define SPOA_MIRROR_VERDICT_JOIN_H

#include <stddef.h>
#include <stdint.h>

#include "join_table.h"
#include "stats.h"
#include "verdict_item.h"

struct diff_log;
struct compare_report;

struct verdict_outputs {
	struct diff_log *diff_log;        /* NULL: none */
	struct compare_report *report;    /* NULL: none */
	uint64_t (*wall_ms)(void);        /* the record's time; NULL: CLOCK_REALTIME */
	unsigned log_interval_ms;         /* refused answers logged once per; 0: 5 s */
};

struct verdict_join;

/* NULL when out of memory or the limits are invalid. */
struct verdict_join *verdict_join_new(size_t max_entries, size_t max_bytes, uint64_t ttl_ms,
				      uint64_t (*now_ms)(void), struct verdict_stats *stats,
				      const struct verdict_outputs *out);
/* Takes any item: a registration waits for its answers, an answer joins
 * its registration (or is counted: unknown id, duplicate, overflow). */
void verdict_join_take(struct verdict_join *vj, struct verdict_item *it);
/* Decides the requests whose time is up (targets without an answer are
 * not_comparable); returns how many. */
size_t verdict_join_expire(struct verdict_join *vj);
/* Writes the summary of refused answers whose log window is over. */
void verdict_join_flush_logs(struct verdict_join *vj);
/* Shutdown: counts what was waiting (stats->cleared), frees everything. */
size_t verdict_join_free(struct verdict_join *vj);

#endif

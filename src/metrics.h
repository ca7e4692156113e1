/* Prometheus text exposition (format 0.0.4) of the agent's counters: the
 * SPOP side, the queue, the workers and every shadow target. Pure
 * rendering from a read-only view; the caller gathers the view on the main
 * thread (per-target counters are atomics, read one by one). */
#ifndef SPOA_MIRROR_METRICS_H
#define SPOA_MIRROR_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

struct spop_stats;
struct stats_registry;
struct queue_budget;
struct spop_budget;
struct verdict_stats;
struct diff_log;

#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct metrics_view {
	const struct spop_stats *spop;          /* src/stats.h */
	const struct stats_registry *targets;   /* src/target.h: name -> target_stats */
	const struct queue_budget *budget;      /* src/queue.h: live entries/bytes, limits, peak */
	const struct spop_budget *spop_memory;  /* src/spop_budget.h: SPOP buffers, limit, peak */
	const struct queue_budget *capture;     /* shadows' answers being captured; NULL: zeros */
	const struct verdict_stats *verdicts;   /* src/stats.h: the join; NULL renders zeros */
	const struct diff_log *diff_log;        /* NULL: no diff log, zeros */
	size_t queue_depth;                     /* waiting in worker queues */
	size_t active_transfers;
	uint64_t curl_multi_errors; /* curl_multi_* calls not CURLM_OK */
	unsigned workers_alive, workers_total;
	bool listening, accepting;
	double uptime_s;
	const char *version;
};

/* Appends the whole exposition to out. A NULL spop, budget or spop_memory
 * renders as zeros; NULL targets as no per-target samples. */
void metrics_render(const struct metrics_view *v, struct strbuf *out);

/* Appends s as a Prometheus label value: \ " and newline escaped. */
void metrics_escape_label(struct strbuf *out, const char *s);

#endif

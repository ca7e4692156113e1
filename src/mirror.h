/* From SPOE message to shadow work: maps an accepted message to request
 * parts, decodes its header block, asks every target for admission, and
 * hands one owned request to the replay pool. Runs on the SPOP thread and
 * never blocks: whatever cannot be queued is dropped and counted. */
#ifndef SPOA_MIRROR_MIRROR_H
#define SPOA_MIRROR_MIRROR_H

#include <stddef.h>

#include "log.h"
#include "spop.h"
#include "stats.h"

struct mirror_request;
struct verdict_item;
struct verdict_stats;
struct target_set;
struct queue_budget;

/* Hands a request over; takes ownership. The replay pool in the agent, a
 * capture in tests. */
typedef void (*mirror_submit_fn)(void *arg, struct mirror_request *r);
/* Hands a verdict item (registration, primary's answer) over; takes
 * ownership. The verdict thread in the agent, a capture in tests. */
typedef void (*mirror_verdict_fn)(void *arg, struct verdict_item *it);

/* The most headers one request may carry (HAProxy's default is 101). */
#define MIRROR_MAX_HEADERS 256

struct mirror_dispatch {
	char *const *message_names;     /* accepted SPOE message names */
	size_t n_message_names;
	struct target_set *const *targets; /* the current set (swapped on reload) */
	struct queue_budget *budget;
	mirror_submit_fn submit;
	void *submit_arg;
	struct spop_stats *stats;
	struct log_ratelimit invalid_log;
	struct log_ratelimit truncated_log;
	/* shadow verdicts: NULL verdict = no target compares at start-up;
	 * the current set's compare_mask decides per request */
	char *const *response_names;    /* SPOE messages with the primary's answer */
	size_t n_response_names;
	mirror_verdict_fn verdict;
	void *verdict_arg;
	struct verdict_stats *verdict_stats;
	struct log_ratelimit response_log;
};

/* Handler for every message of every NOTIFY (conn_handler.on_message). */
void mirror_on_message(void *dispatch, const struct spop_message *m);
/* Writes the "N more" summaries of rate-limited log lines whose window is
 * over; call it periodically so a burst that stops still gets its count. */
void mirror_dispatch_flush_logs(struct mirror_dispatch *d);

#endif

/* The replay engine: N worker threads, each a libcurl multi handle driven by
 * its own libev loop (curl_multi_socket_action, as in curl's evhiperfifo.c),
 * fed through a request_queue and woken with ev_async. Fire-and-forget: a
 * worker sends each request to every target in its mask, discards the
 * answer, and records the outcome in the target's counters. */
#ifndef SPOA_MIRROR_REPLAY_H
#define SPOA_MIRROR_REPLAY_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "replay_window.h"

struct mirror_request;
struct queue_budget;
struct verdict_item;
struct target_set;

struct replay_settings {
	unsigned num_workers;           /* >= 1 */
	const char *mirror_interface;   /* CURLOPT_INTERFACE, NULL = default */
	unsigned local_port_low;        /* CURLOPT_LOCALPORT, 0 = any port */
	unsigned local_port_high;       /* the range's last port, >= low */
	bool access_log;                /* one info line per finished mirror */
	unsigned monitor_interval_ms;   /* rate-limit window for shadow error logs */
	/* shadow verdicts: where the answers of targets that compare go
	 * (the verdict thread); NULL: nothing is captured */
	void (*answer)(void *arg, struct verdict_item *it);
	void *answer_arg;
	/* what those captures may hold at once (compare-capture-max; NULL: no
	 * limit), and where the answers it had no room for are counted */
	struct queue_budget *capture_budget;
	atomic_uint_fast64_t *capture_short;
};

struct replay_pool;

/* Starts the workers. NULL with a one-line reason in err on failure. */
struct replay_pool *replay_pool_start(const struct replay_settings *s, char *err, size_t errlen);

/* Warns about targets this libcurl serves badly (h2c before 8.0); called
 * with each target set, at start and on reload. */
void replay_pool_check_targets(const struct replay_pool *p, const struct target_set *set);

/* Hands r to a worker (round robin); takes ownership. r->set, r->target_mask
 * and r->pending (= bits set in the mask) are filled, and each target in the
 * mask has counted it in flight (target_admit). Never blocks. */
void replay_pool_submit_take(struct replay_pool *p, struct mirror_request *r);

/* Requests waiting in worker queues or for a place in curl. */
size_t replay_pool_queued(struct replay_pool *p);
/* Transfers currently in curl. */
size_t replay_pool_active(struct replay_pool *p);
/* curl_multi_* calls that did not return CURLM_OK since the start. */
uint64_t replay_pool_multi_errors(struct replay_pool *p);
/* True while every worker thread runs its loop. */
bool replay_pool_alive(struct replay_pool *p);

/* Stops taking work, lets queued and in-flight mirrors finish for up to
 * drain_ms, then aborts what is left (queued: dropped "shutdown"; in curl:
 * failed "other"), joins the threads and frees the pool. Counters add up
 * exactly afterwards. */
void replay_pool_stop(struct replay_pool *p, unsigned drain_ms);

#endif

/* The replay pool and its workers, as the replay files share them: the
 * pool (replay.c) starts and stops workers (replay_worker.c), which send
 * requests (replay_send.c) through their transfers, options and loop. */
#ifndef SPOA_MIRROR_REPLAY_TYPES_H
#define SPOA_MIRROR_REPLAY_TYPES_H

#include <ev.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "queue.h"
#include "replay_log.h"
#include "replay_loop.h"
#include "replay_options.h"
#include "replay_transfer.h"
#include "replay_window.h"

struct target_set;

/* One thread: a libev loop, a curl multi handle and a request queue. */
struct worker {
	struct replay_pool *pool;
	unsigned index;
	pthread_t thread;
	bool thread_started;
	struct ev_loop *loop;
	struct replay_loop curl;
	struct request_queue queue;
	ev_async wake;
	ev_async stop;
	ev_timer drain_timer;
	struct transfer_pool transfers;
	struct replay_windows windows;
	uint64_t sized_for; /* connection limits follow the set of this generation */
	atomic_bool alive;
	bool draining;
	bool aborted;
	/* what the drain timeout cut short, reported once by replay_pool_stop() */
	size_t n_aborted;
	size_t n_dropped;
};

struct replay_pool {
	unsigned n_workers;
	bool access_log;
	void (*answer)(void *arg, struct verdict_item *it); /* replay.h */
	void *answer_arg;
	struct queue_budget *capture_budget; /* replay.h */
	atomic_uint_fast64_t *capture_short;
	struct replay_options options;
	struct replay_log log;
	ev_timer log_timer; /* on worker 0's loop: flushes the error summaries */
	atomic_uint drain_ms;
	atomic_uint next_worker;
	atomic_bool stopping;
	struct worker workers[];
};

#endif

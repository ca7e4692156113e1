/* A replay worker's life: its loop, queue and curl handle set up, the
 * thread's run, the drain when the pool stops (finish what is queued and in
 * curl, for at most the drain time, then abort the rest), and teardown. */
#ifndef SPOA_MIRROR_REPLAY_WORKER_H
#define SPOA_MIRROR_REPLAY_WORKER_H

#include <stddef.h>

struct replay_pool;
struct worker;

/* -1 with a one-line reason in err; replay_worker_free() undoes a part. */
int replay_worker_init(struct replay_pool *p, struct worker *w, unsigned index, char *err,
		       size_t errlen);
/* The thread's body: runs the loop until the worker is drained or aborted. */
void *replay_worker_main(void *w);
/* Asks the worker to drain (pool->drain_ms) and end; any thread. */
void replay_worker_stop(struct worker *w);
/* After the thread ended (or never began): drops what is left, frees. */
void replay_worker_free(struct worker *w);

#endif

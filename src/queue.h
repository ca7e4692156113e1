/* The bounded hand-off from the SPOP thread to the replay workers.
 * Live requests are charged to a queue_budget (queue_budget.h); each
 * worker has its own FIFO, woken through a callback (the worker's
 * ev_async), so this file knows nothing of libev. */
#ifndef SPOA_MIRROR_QUEUE_H
#define SPOA_MIRROR_QUEUE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "queue_budget.h"

struct mirror_request;

struct request_queue {
	pthread_mutex_t lock;
	struct mirror_request *head;
	struct mirror_request *tail;
	size_t len;
	void (*wake)(void *arg); /* called outside the lock when work arrives */
	void *wake_arg;
};

void request_queue_init(struct request_queue *q, void (*wake)(void *), void *wake_arg);
void request_queue_destroy(struct request_queue *q);
/* Takes ownership of r (the caller already charged the budget). */
void request_queue_push_take(struct request_queue *q, struct mirror_request *r);
/* Detaches the whole FIFO; the caller owns the returned list (->next). */
struct mirror_request *request_queue_take_all(struct request_queue *q);
size_t request_queue_len(struct request_queue *q);

#endif

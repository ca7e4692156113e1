/* The bounded hand-off from the SPOP thread to the replay workers.
 * A budget caps live requests (entries and bytes) from admission until the
 * last target is done with them, so memory is bounded whatever the shadows
 * do; each worker has its own FIFO, woken through a callback (the worker's
 * ev_async), so this file knows nothing of libev. */
#ifndef SPOA_MIRROR_QUEUE_H
#define SPOA_MIRROR_QUEUE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

struct mirror_request;

struct queue_budget {
	atomic_size_t entries;
	atomic_size_t bytes;
	size_t max_entries;
	size_t max_bytes;
	atomic_size_t peak_bytes;
};

void queue_budget_init(struct queue_budget *b, size_t max_entries, size_t max_bytes);
/* Reserve one entry of `bytes`; false (nothing reserved) when over a limit. */
bool queue_budget_reserve(struct queue_budget *b, size_t bytes);
void queue_budget_release(struct queue_budget *b, size_t bytes);

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

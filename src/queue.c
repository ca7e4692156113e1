/* Bounded hand-off: one locked FIFO per worker. */
#include "queue.h"

#include "request.h"

void request_queue_init(struct request_queue *q, void (*wake)(void *), void *wake_arg)
{
	pthread_mutex_init(&q->lock, NULL);
	q->head = q->tail = NULL;
	q->len = 0;
	q->wake = wake;
	q->wake_arg = wake_arg;
}

void request_queue_destroy(struct request_queue *q)
{
	struct mirror_request *r = request_queue_take_all(q);

	while (r) {
		struct mirror_request *next = r->next;
		request_free(r);
		r = next;
	}
	pthread_mutex_destroy(&q->lock);
}

void request_queue_push_take(struct request_queue *q, struct mirror_request *r)
{
	bool was_empty;

	r->next = NULL;
	pthread_mutex_lock(&q->lock);
	was_empty = q->head == NULL;
	if (q->tail)
		q->tail->next = r;
	else
		q->head = r;
	q->tail = r;
	q->len++;
	pthread_mutex_unlock(&q->lock);
	/* a non-empty queue already has a wake-up on its way */
	if (was_empty && q->wake)
		q->wake(q->wake_arg);
}

struct mirror_request *request_queue_take_all(struct request_queue *q)
{
	struct mirror_request *list;

	pthread_mutex_lock(&q->lock);
	list = q->head;
	q->head = q->tail = NULL;
	q->len = 0;
	pthread_mutex_unlock(&q->lock);
	return list;
}

size_t request_queue_len(struct request_queue *q)
{
	size_t n;

	pthread_mutex_lock(&q->lock);
	n = q->len;
	pthread_mutex_unlock(&q->lock);
	return n;
}

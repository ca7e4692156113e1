/* Bounded hand-off: an admission budget plus one locked FIFO per worker. */
#include "queue.h"

#include "request.h"

void queue_budget_init(struct queue_budget *b, size_t max_entries, size_t max_bytes)
{
	atomic_init(&b->entries, 0);
	atomic_init(&b->bytes, 0);
	atomic_init(&b->peak_bytes, 0);
	b->max_entries = max_entries;
	b->max_bytes = max_bytes;
}

bool queue_budget_reserve(struct queue_budget *b, size_t bytes)
{
	size_t e = atomic_fetch_add(&b->entries, 1);
	size_t total;

	if (e >= b->max_entries) {
		atomic_fetch_sub(&b->entries, 1);
		return false;
	}
	total = atomic_fetch_add(&b->bytes, bytes) + bytes;
	if (total > b->max_bytes) {
		atomic_fetch_sub(&b->bytes, bytes);
		atomic_fetch_sub(&b->entries, 1);
		return false;
	}
	size_t peak = atomic_load(&b->peak_bytes);
	while (total > peak && !atomic_compare_exchange_weak(&b->peak_bytes, &peak, total))
		;
	return true;
}

void queue_budget_release(struct queue_budget *b, size_t bytes)
{
	atomic_fetch_sub(&b->bytes, bytes);
	atomic_fetch_sub(&b->entries, 1);
}

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

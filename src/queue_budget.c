/* The admission budget (see queue_budget.h): two atomic counters, each
 * reserved optimistically and given back when over its limit. */
#include "queue_budget.h"

void queue_budget_init(struct queue_budget *b, size_t max_entries, size_t max_bytes)
{
	atomic_init(&b->entries, 0);
	atomic_init(&b->bytes, 0);
	atomic_init(&b->peak_bytes, 0);
	b->max_entries = max_entries;
	b->max_bytes = max_bytes;
}

bool queue_budget_charge(struct queue_budget *b, size_t bytes)
{
	size_t total = atomic_fetch_add(&b->bytes, bytes) + bytes;

	if (total > b->max_bytes) {
		atomic_fetch_sub(&b->bytes, bytes);
		return false;
	}
	size_t peak = atomic_load(&b->peak_bytes);
	while (total > peak && !atomic_compare_exchange_weak(&b->peak_bytes, &peak, total))
		;
	return true;
}

void queue_budget_discharge(struct queue_budget *b, size_t bytes)
{
	atomic_fetch_sub(&b->bytes, bytes);
}

bool queue_budget_reserve(struct queue_budget *b, size_t bytes)
{
	size_t e = atomic_fetch_add(&b->entries, 1);

	if (e >= b->max_entries) {
		atomic_fetch_sub(&b->entries, 1);
		return false;
	}
	if (!queue_budget_charge(b, bytes)) {
		atomic_fetch_sub(&b->entries, 1);
		return false;
	}
	return true;
}

void queue_budget_release(struct queue_budget *b, size_t bytes)
{
	queue_budget_discharge(b, bytes);
	atomic_fetch_sub(&b->entries, 1);
}

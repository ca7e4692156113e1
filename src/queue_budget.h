/* The admission budget: caps live mirror requests (entries and bytes) from
 * admission until the last target is done with them, so memory is bounded
 * whatever the shadows do. Any thread may reserve and release. The bytes
 * alone also bound memory that grows in steps: the shadows' answers being
 * captured for verdicts (compare-capture-max) charge and discharge them. */
#ifndef SPOA_MIRROR_QUEUE_BUDGET_H
#define SPOA_MIRROR_QUEUE_BUDGET_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

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
/* `bytes` more without an entry; false (nothing charged) over max_bytes. */
bool queue_budget_charge(struct queue_budget *b, size_t bytes);
void queue_budget_discharge(struct queue_budget *b, size_t bytes);

#endif

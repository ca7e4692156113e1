/* The transfer pool (see replay_transfer.h). Recycling keeps the easy
 * handle's connection cache hints and the scratch buffer; both lists are
 * touched by the worker's thread only. */
#include "replay_transfer.h"

#include <stdlib.h>

/* Scratch buffers that grew past this (huge cookies) are not kept. */
#define SCRATCH_KEEP (64 * 1024)

void transfer_pool_init(struct transfer_pool *tp, size_t max_idle)
{
	tp->idle = tp->active = NULL;
	tp->n_idle = 0;
	tp->max_idle = max_idle;
	atomic_init(&tp->n_active, 0);
}

void transfer_pool_free(struct transfer_pool *tp)
{
	while (tp->idle) {
		struct transfer *x = tp->idle;

		tp->idle = x->next;
		transfer_destroy(x);
	}
	tp->n_idle = 0;
}

struct transfer *transfer_get(struct transfer_pool *tp)
{
	struct transfer *x = tp->idle;

	if (x) {
		tp->idle = x->next;
		tp->n_idle--;
		curl_easy_reset(x->easy);
		return x;
	}
	x = calloc(1, sizeof(*x));
	if (!x)
		return NULL;
	x->easy = curl_easy_init();
	if (!x->easy) {
		free(x);
		return NULL;
	}
	return x;
}

void transfer_destroy(struct transfer *x)
{
	curl_easy_cleanup(x->easy);
	shadow_capture_free(&x->capture);
	free(x->scratch);
	free(x);
}

void transfer_put(struct transfer_pool *tp, struct transfer *x, bool keep)
{
	x->r = NULL;
	x->t = NULL;
	x->capturing = false;
	shadow_capture_end(&x->capture);
	if (!keep || tp->n_idle >= tp->max_idle) {
		transfer_destroy(x);
		return;
	}
	if (x->scratch_cap > SCRATCH_KEEP) {
		free(x->scratch);
		x->scratch = NULL;
		x->scratch_cap = 0;
	}
	x->next = tp->idle;
	tp->idle = x;
	tp->n_idle++;
}

void transfer_activate(struct transfer_pool *tp, struct transfer *x)
{
	x->prev = NULL;
	x->next = tp->active;
	if (tp->active)
		tp->active->prev = x;
	tp->active = x;
	atomic_fetch_add_explicit(&tp->n_active, 1, memory_order_relaxed);
}

void transfer_deactivate(struct transfer_pool *tp, struct transfer *x)
{
	if (x->prev)
		x->prev->next = x->next;
	else
		tp->active = x->next;
	if (x->next)
		x->next->prev = x->prev;
	x->next = x->prev = NULL;
	atomic_fetch_sub_explicit(&tp->n_active, 1, memory_order_relaxed);
}

bool transfer_scratch_reserve(struct transfer *x, size_t n_nodes, size_t bytes)
{
	size_t need = n_nodes * sizeof(struct curl_slist) + bytes;
	void *p;

	if (need <= x->scratch_cap)
		return true;
	p = malloc(need);
	if (!p)
		return false;
	free(x->scratch);
	x->scratch = p;
	x->scratch_cap = need;
	return true;
}

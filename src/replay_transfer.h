/* A replay worker's transfers: one (request, target) pair in curl each,
 * recycled with its easy handle and scratch memory through an idle list,
 * and listed while active so a drain timeout can cut them short. */
#ifndef SPOA_MIRROR_REPLAY_TRANSFER_H
#define SPOA_MIRROR_REPLAY_TRANSFER_H

#include <curl/curl.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shadow_answer.h"

struct mirror_request;
struct target;
struct target_window;

struct transfer {
	struct transfer *next;
	struct transfer *prev; /* active list only */
	CURL *easy;
	struct mirror_request *r;
	struct target *t;
	struct target_window *win; /* the place in curl it holds */
	uint64_t start_ns;
	void *scratch; /* curl_slist nodes, then shadow_build()'s buffer */
	size_t scratch_cap;
	char errbuf[CURL_ERROR_SIZE];
	/* the answer, kept for a verdict when the target compares */
	bool capturing;
	struct shadow_capture capture;
};

struct transfer_pool {
	struct transfer *idle;
	size_t n_idle;
	size_t max_idle;
	struct transfer *active;
	atomic_size_t n_active; /* read by other threads */
};

void transfer_pool_init(struct transfer_pool *tp, size_t max_idle);
/* Destroys the idle transfers; the active list must be empty. */
void transfer_pool_free(struct transfer_pool *tp);

/* An idle transfer (reset) or a new one; NULL when out of memory. */
struct transfer *transfer_get(struct transfer_pool *tp);
/* Back to the idle list, or destroyed when the list is full or !keep. */
void transfer_put(struct transfer_pool *tp, struct transfer *x, bool keep);
void transfer_destroy(struct transfer *x);

/* x entered curl / left it. */
void transfer_activate(struct transfer_pool *tp, struct transfer *x);
void transfer_deactivate(struct transfer_pool *tp, struct transfer *x);

/* Ensures the scratch holds `n_nodes` slist nodes plus `bytes`. */
bool transfer_scratch_reserve(struct transfer *x, size_t n_nodes, size_t bytes);

#endif

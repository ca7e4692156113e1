/* The owned mirror request: one allocation, copied once from the frame. */
#include "request.h"

#include <stdlib.h>
#include <string.h>

#include "queue_budget.h"
#include "target.h"

static size_t parts_bytes(const struct request_parts *p)
{
	size_t n = p->method.len + p->uri.len + p->version.len + p->body.len + p->client.len +
		   p->unique_id.len;

	if (p->headers)
		for (size_t i = 0; i < p->headers->count; i++)
			n += p->headers->items[i].name.len + p->headers->items[i].value.len;
	return n;
}

size_t request_alloc_size(const struct request_parts *p)
{
	size_t nh = p->headers ? p->headers->count : 0;

	return sizeof(struct mirror_request) + nh * sizeof(struct http_header) + parts_bytes(p);
}

/* Copy s to *cursor and return the view of the copy. */
struct mirror_request *request_new(const struct request_parts *p)
{
	size_t nh = p->headers ? p->headers->count : 0;
	size_t size = request_alloc_size(p);
	struct mirror_request *r = malloc(size);
	char *cursor;

	if (!r)
		return NULL;
	memset(r, 0, sizeof(*r));
	cursor = (char *)&r->headers[nh];
	/* body first: the largest part, and the one curl reads */
	r->body = slice_copy_to(&cursor, p->body);
	r->method = slice_copy_to(&cursor, p->method);
	r->uri = slice_copy_to(&cursor, p->uri);
	r->version = slice_copy_to(&cursor, p->version);
	r->client = slice_copy_to(&cursor, p->client);
	r->unique_id = slice_copy_to(&cursor, p->unique_id);
	for (size_t i = 0; i < nh; i++) {
		r->headers[i].name = slice_copy_to(&cursor, p->headers->items[i].name);
		r->headers[i].value = slice_copy_to(&cursor, p->headers->items[i].value);
	}
	r->n_headers = nh;
	r->truncated = p->truncated;
	r->charge = size;
	return r;
}

void request_free(struct mirror_request *r)
{
	if (!r)
		return;
	if (r->budget)
		queue_budget_release(r->budget, r->charge);
	if (r->set)
		target_set_unref(r->set);
	free(r);
}

void request_target_done(struct mirror_request *r)
{
	if (atomic_fetch_sub_explicit(&r->pending, 1, memory_order_acq_rel) == 1)
		request_free(r);
}

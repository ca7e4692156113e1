/* Verdict items: what all three kinds share (see verdict_item.h). */
#include "verdict_item.h"

#include <stdlib.h>
#include <string.h>

void *verdict_item_new(size_t head, size_t size, enum verdict_item_kind kind,
		       void (*free_fn)(struct verdict_item *it))
{
	struct verdict_item *it = malloc(size);

	if (!it)
		return NULL;
	memset(it, 0, head);
	it->kind = kind;
	it->bytes = size;
	it->free = free_fn;
	return it;
}

void verdict_item_free(struct verdict_item *it)
{
	if (it)
		it->free(it);
}

const char *verdict_item_kind_name(enum verdict_item_kind k)
{
	static const char *const names[] = { "request", "primary", "shadow" };

	return (unsigned)k < VERDICT_ITEM_KINDS ? names[k] : "unknown";
}

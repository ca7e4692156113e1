/* Verdict items: what all three kinds share (see verdict_item.h). */
#include "verdict_item.h"

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

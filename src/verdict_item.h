/* What travels to the verdict thread: a request registered for comparison
 * (from the SPOP thread, when it is mirrored), the primary's answer (SPOP
 * thread) and a shadow's answer (replay workers). Each is one allocation
 * that starts with this header, so the inbox links them without another. */
#ifndef SPOA_MIRROR_VERDICT_ITEM_H
#define SPOA_MIRROR_VERDICT_ITEM_H

#include <stddef.h>

enum verdict_item_kind {
	VERDICT_ITEM_EXPECT,  /* struct verdict_expect (verdict_expect.h) */
	VERDICT_ITEM_PRIMARY, /* struct primary_answer (response.h) */
	VERDICT_ITEM_SHADOW,  /* struct shadow_answer (shadow_answer.h) */
	VERDICT_ITEM_KINDS,
};

struct verdict_item {
	struct verdict_item *next; /* inbox link */
	enum verdict_item_kind kind;
	size_t bytes; /* the whole allocation, charged to the inbox and the join */
	/* Set by the item's constructor: the join and the inbox free what they
	 * hold without knowing the kinds' files. */
	void (*free)(struct verdict_item *it);
};

/* One allocation of `size` bytes for an item whose struct (starting with
 * struct verdict_item) is `head` bytes: the struct zeroed, the header set;
 * the bytes after it are the caller's. NULL when memory runs out (the
 * caller counts it; nothing blocks the thread that builds items). */
void *verdict_item_new(size_t head, size_t size, enum verdict_item_kind kind,
		       void (*free_fn)(struct verdict_item *it));

/* Frees any item (NULL is fine) through its own free. */
void verdict_item_free(struct verdict_item *it);

const char *verdict_item_kind_name(enum verdict_item_kind k);

#endif

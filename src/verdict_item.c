/* Verdict items: registration, the primary's answer, a shadow's answer. */
#include "verdict_item.h"

#include <stdlib.h>
#include <string.h>

#include "response.h"
#include "shadow_answer.h"
#include "target.h"
#include "verdict_expect.h"

struct verdict_expect *verdict_expect_new(struct target_set *set, uint32_t expected,
					  struct slice id, struct slice method, struct slice path)
{
	size_t size = sizeof(struct verdict_expect) + id.len + method.len + path.len;
	struct verdict_expect *e = malloc(size);
	char *cursor;

	if (!e)
		return NULL;
	memset(e, 0, sizeof(*e));
	e->item.kind = VERDICT_ITEM_EXPECT;
	e->item.bytes = size;
	e->set = set;
	target_set_ref(set);
	e->expected = expected;
	cursor = e->bytes;
	e->id = slice_copy_to(&cursor, id);
	e->method = slice_copy_to(&cursor, method);
	e->path = slice_copy_to(&cursor, path);
	return e;
}

void verdict_expect_free(struct verdict_expect *e)
{
	if (!e)
		return;
	target_set_unref(e->set);
	free(e);
}

void verdict_item_free(struct verdict_item *it)
{
	if (!it)
		return;
	switch (it->kind) {
	case VERDICT_ITEM_EXPECT:
		verdict_expect_free((struct verdict_expect *)it);
		return;
	case VERDICT_ITEM_PRIMARY:
		primary_answer_free((struct primary_answer *)it);
		return;
	case VERDICT_ITEM_SHADOW:
		shadow_answer_free((struct shadow_answer *)it);
		return;
	case VERDICT_ITEM_KINDS:
		break;
	}
	free(it);
}

const char *verdict_item_kind_name(enum verdict_item_kind k)
{
	static const char *const names[] = { "request", "primary", "shadow" };

	return (unsigned)k < VERDICT_ITEM_KINDS ? names[k] : "unknown";
}

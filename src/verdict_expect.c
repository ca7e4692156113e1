/* A request registered for comparison (see verdict_expect.h). */
#include "verdict_expect.h"

#include <stdlib.h>
#include <string.h>

#include "target.h"

static void expect_item_free(struct verdict_item *it)
{
	verdict_expect_free((struct verdict_expect *)it);
}

struct verdict_expect *verdict_expect_new(struct target_set *set, uint32_t expected,
					  struct slice id, struct slice method, struct slice path)
{
	size_t size = sizeof(struct verdict_expect) + id.len + method.len + path.len;
	struct verdict_expect *e =
		verdict_item_new(sizeof(*e), size, VERDICT_ITEM_EXPECT, expect_item_free);
	char *cursor;

	if (!e)
		return NULL;
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

/* The SPOP side's memory budget (see spop_budget.h). */
#include "spop_budget.h"

void spop_budget_init(struct spop_budget *b, size_t limit)
{
	*b = (struct spop_budget){ .limit = limit };
}

bool spop_budget_resize(struct spop_budget *b, size_t from, size_t to, bool force)
{
	if (!b || from == to)
		return true;
	if (to < from) {
		size_t back = from - to;

		b->used = b->used > back ? b->used - back : 0;
		b->released++;
		return true;
	}
	/* a sixteenth stays for the small buffers every connection is
	 * granted, so that with them the total stays under the limit */
	if (!force && b->limit &&
	    (to - from > b->limit - b->limit / 16 || b->used > b->limit - b->limit / 16 - (to - from)))
		return false;
	b->used += to - from;
	if (b->used > b->peak)
		b->peak = b->used;
	return true;
}

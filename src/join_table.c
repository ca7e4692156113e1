/* Join table: chained hash on the id, one allocation per entry (entry,
 * shadow slots and id together), and an age list so expiry visits only
 * what expired (one TTL for all: creation order is expiry order). */
#include "join_table.h"

#include <stdlib.h>
#include <string.h>

struct join_table {
	struct join_limits lim;
	uint64_t (*now_ms)(void);
	join_free_fn free_answer;
	struct join_entry **buckets;
	size_t mask; /* buckets - 1, a power of two */
	struct join_entry *oldest, *newest;
	size_t entries, bytes;
};

static uint32_t hash_id(struct slice id)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < id.len; i++)
		h = (h ^ (unsigned char)id.ptr[i]) * 16777619u;
	return h;
}

struct join_table *join_table_new(const struct join_limits *lim, uint64_t (*now_ms)(void),
				  join_free_fn free_answer)
{
	struct join_table *t;
	size_t n = 16;

	if (lim->max_targets == 0 || lim->max_targets > JOIN_MAX_TARGETS || !now_ms)
		return NULL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	/* at most one entry per bucket on average when full */
	while (n < lim->max_entries && n < ((size_t)1 << 24))
		n <<= 1;
	t->buckets = calloc(n, sizeof(*t->buckets));
	if (!t->buckets) {
		free(t);
		return NULL;
	}
	t->mask = n - 1;
	t->lim = *lim;
	t->now_ms = now_ms;
	t->free_answer = free_answer;
	return t;
}

static struct join_entry **find_slot(struct join_table *t, struct slice id, uint32_t h)
{
	struct join_entry **p = &t->buckets[h & t->mask];

	for (; *p; p = &(*p)->bucket_next)
		if ((*p)->hash == h && (*p)->id_len == id.len && memcmp((*p)->id, id.ptr, id.len) == 0)
			return p;
	return p;
}

static size_t entry_size(const struct join_table *t, size_t id_len)
{
	return sizeof(struct join_entry) + t->lim.max_targets * sizeof(void *) + id_len;
}

/* Unlinks e from its bucket and the age list; the caller then owns it. */
static void detach(struct join_table *t, struct join_entry *e)
{
	struct join_entry **p = &t->buckets[e->hash & t->mask];

	while (*p != e)
		p = &(*p)->bucket_next;
	*p = e->bucket_next;
	if (e->older)
		e->older->newer = e->newer;
	else
		t->oldest = e->newer;
	if (e->newer)
		e->newer->older = e->older;
	else
		t->newest = e->older;
	e->bucket_next = e->older = e->newer = NULL;
	t->entries--;
	t->bytes -= e->bytes;
}

/* The entry for id, created if absent (and `create`) and the bounds allow
 * `more` bytes. */
static enum join_status get_entry(struct join_table *t, struct slice id, size_t more,
				  int create, struct join_entry **out)
{
	uint32_t h = hash_id(id);
	struct join_entry **slot, *e;
	size_t size;

	if (id.len == 0 || id.len > JOIN_ID_MAX)
		return JOIN_BAD_ID;
	slot = find_slot(t, id, h);
	if (*slot) {
		if (t->bytes + more > t->lim.max_bytes)
			return JOIN_FULL_BYTES;
		*out = *slot;
		return JOIN_WAITING;
	}
	if (!create)
		return JOIN_UNKNOWN_ID;
	size = entry_size(t, id.len);
	if (t->entries >= t->lim.max_entries)
		return JOIN_FULL_ENTRIES;
	if (t->bytes + size + more > t->lim.max_bytes)
		return JOIN_FULL_BYTES;
	e = calloc(1, size);
	if (!e)
		return JOIN_NO_MEMORY;
	e->shadows = (void **)(e + 1);
	e->nslots = t->lim.max_targets;
	e->id = (char *)(e->shadows + e->nslots);
	e->id_len = id.len;
	memcpy(e->id, id.ptr, id.len);
	e->hash = h;
	e->created_ms = t->now_ms();
	e->free_answer = t->free_answer;
	e->bytes = size;
	e->older = t->newest;
	if (t->newest)
		t->newest->newer = e;
	else
		t->oldest = e;
	t->newest = e;
	*slot = e;
	t->entries++;
	t->bytes += size;
	*out = e;
	return JOIN_WAITING;
}

static int complete(const struct join_entry *e)
{
	return e->primary && e->expected && (e->arrived & e->expected) == e->expected;
}

static enum join_status settle(struct join_table *t, struct join_entry *e,
			       struct join_entry **done)
{
	if (!complete(e))
		return JOIN_WAITING;
	detach(t, e);
	*done = e;
	return JOIN_COMPLETE;
}

enum join_status join_expect_take(struct join_table *t, struct slice id, unsigned generation,
				  uint64_t expected, void *info, size_t bytes)
{
	size_t before = t->entries;
	struct join_entry *e;
	enum join_status st;

	if (!expected || (t->lim.max_targets < 64 && expected >> t->lim.max_targets))
		return JOIN_BAD_TARGET;
	st = get_entry(t, id, bytes, 1, &e);
	if (st != JOIN_WAITING)
		return st;
	if (t->entries == before) /* it was there: a second request with this id */
		return JOIN_DUPLICATE;
	e->generation = generation;
	e->expected = expected;
	e->info = info;
	e->bytes += bytes;
	t->bytes += bytes;
	return JOIN_WAITING;
}

enum join_status join_put_primary_take(struct join_table *t, struct slice id, void *answer,
				       size_t bytes, struct join_entry **done)
{
	struct join_entry *e;
	enum join_status st = get_entry(t, id, bytes, !t->lim.expect_first, &e);

	if (st != JOIN_WAITING)
		return st;
	if (e->primary)
		return JOIN_DUPLICATE;
	e->primary = answer;
	e->bytes += bytes;
	t->bytes += bytes;
	return settle(t, e, done);
}

enum join_status join_put_shadow_take(struct join_table *t, struct slice id,
				      unsigned generation, unsigned target, uint64_t expected,
				      void *answer, size_t bytes, struct join_entry **done)
{
	uint64_t bit = target < 64 ? (uint64_t)1 << target : 0;
	struct join_entry *e;
	enum join_status st;

	if (target >= t->lim.max_targets || !(expected & bit))
		return JOIN_BAD_TARGET;
	if (t->lim.max_targets < 64 && expected >> t->lim.max_targets)
		return JOIN_BAD_TARGET;
	st = get_entry(t, id, bytes, !t->lim.expect_first, &e);
	if (st != JOIN_WAITING)
		return st;
	if (e->expected && (e->generation != generation || e->expected != expected))
		return JOIN_GENERATION;
	if (e->arrived & bit)
		return JOIN_DUPLICATE;
	e->generation = generation;
	e->expected = expected;
	e->arrived |= bit;
	e->shadows[target] = answer;
	e->bytes += bytes;
	t->bytes += bytes;
	return settle(t, e, done);
}

size_t join_expire(struct join_table *t, struct join_entry **out, size_t max)
{
	uint64_t now = t->now_ms();
	size_t n = 0;

	while (n < max && t->oldest && now - t->oldest->created_ms >= t->lim.ttl_ms) {
		struct join_entry *e = t->oldest;

		detach(t, e);
		out[n++] = e;
	}
	return n;
}

size_t join_clear(struct join_table *t, struct join_entry **out, size_t max)
{
	size_t n = 0;

	while (n < max && t->oldest) {
		struct join_entry *e = t->oldest;

		detach(t, e);
		out[n++] = e;
	}
	return n;
}

void join_entry_free(struct join_entry *e)
{
	if (!e)
		return;
	if (e->free_answer) {
		if (e->primary)
			e->free_answer(e->primary);
		if (e->info)
			e->free_answer(e->info);
		for (unsigned i = 0; i < e->nslots; i++)
			if (e->arrived & ((uint64_t)1 << i))
				e->free_answer(e->shadows[i]);
	}
	free(e);
}

size_t join_table_free(struct join_table *t)
{
	struct join_entry *e;
	size_t n = 0;

	if (!t)
		return 0;
	while (join_clear(t, &e, 1) == 1) {
		join_entry_free(e);
		n++;
	}
	free(t->buckets);
	free(t);
	return n;
}

size_t join_table_entries(const struct join_table *t)
{
	return t->entries;
}

size_t join_table_bytes(const struct join_table *t)
{
	return t->bytes;
}

const char *join_status_name(enum join_status s)
{
	switch (s) {
	case JOIN_WAITING: return "waiting";
	case JOIN_COMPLETE: return "complete";
	case JOIN_FULL_ENTRIES: return "full_entries";
	case JOIN_FULL_BYTES: return "full_bytes";
	case JOIN_DUPLICATE: return "duplicate";
	case JOIN_BAD_TARGET: return "bad_target";
	case JOIN_BAD_ID: return "bad_id";
	case JOIN_GENERATION: return "generation";
	case JOIN_NO_MEMORY: return "no_memory";
	case JOIN_UNKNOWN_ID: return "unknown_id";
	}
	return "unknown";
}

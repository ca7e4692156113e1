/* The join of the primary's answer and the shadows' answers by unique id:
 * whichever side comes first waits here, in a table bounded in entries,
 * bytes and time. Single-threaded (the SPOP thread owns it); the clock is
 * injected so tests move time instead of sleeping. */
#ifndef SPOA_MIRROR_JOIN_TABLE_H
#define SPOA_MIRROR_JOIN_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include "slice.h"

#define JOIN_MAX_TARGETS 64 /* targets per entry: one bit each */
#define JOIN_ID_MAX 256	    /* bytes of an id (HAProxy unique-id) */

/* Frees an answer the table owns (primary or shadow payload). */
typedef void (*join_free_fn)(void *answer);

struct join_limits {
	size_t max_entries;
	size_t max_bytes; /* answers' bytes plus each entry's own */
	uint64_t ttl_ms;  /* from an entry's first answer to its expiry */
	unsigned max_targets; /* shadow slots per entry, <= JOIN_MAX_TARGETS */
	/* answers join only entries join_expect_take() made: an answer for
	 * any other id is JOIN_UNKNOWN_ID (the agent registers each request
	 * it mirrors with comparison before either answer can exist) */
	int expect_first;
};

/* An entry handed to the caller (complete, expired or cleared): the caller
 * owns it and releases it with join_entry_free, which frees its answers. */
struct join_entry {
	struct join_entry *bucket_next;
	struct join_entry *older, *newer; /* age list, oldest first */
	uint64_t created_ms;
	uint32_t hash;
	unsigned generation; /* the targets' config generation (first shadow's) */
	uint64_t expected;   /* targets the request was mirrored to; 0 = not known yet */
	uint64_t arrived;    /* shadow answers present */
	void *primary;
	void *info;   /* join_expect_take()'s: what the request was; freed like an answer */
	size_t bytes; /* charged to the table: answers + the entry */
	void **shadows; /* [nslots], inside this allocation */
	unsigned nslots;
	join_free_fn free_answer;
	size_t id_len;
	char *id; /* after the shadow slots, inside this allocation; not NUL-terminated */
};

enum join_status {
	JOIN_WAITING = 0,     /* kept; the table owns the answer */
	JOIN_COMPLETE = 1,    /* *done: primary and every expected shadow, caller owns */
	JOIN_FULL_ENTRIES = -1,
	JOIN_FULL_BYTES = -2,
	JOIN_DUPLICATE = -3,  /* that side already answered for this id */
	JOIN_BAD_TARGET = -4, /* index out of range, or not in the expected set */
	JOIN_BAD_ID = -5,     /* empty or longer than JOIN_ID_MAX */
	JOIN_GENERATION = -6, /* shadows of one id from two config generations */
	JOIN_NO_MEMORY = -7,
	JOIN_UNKNOWN_ID = -8, /* expect_first, and no entry for this id */
};
/* On any negative status the caller keeps the answer (and counts the reason). */

struct join_table;

struct join_table *join_table_new(const struct join_limits *lim, uint64_t (*now_ms)(void),
				  join_free_fn free_answer);
/* Frees the table and every waiting entry (shutdown); returns how many
 * were waiting so the caller can count them as missing. */
size_t join_table_free(struct join_table *t);

/* Takes `info` (`bytes` long) as what request `id` was, and makes its
 * entry knowing the targets it was mirrored to (`expected`, of config
 * `generation`). JOIN_DUPLICATE when the id waits already. */
enum join_status join_expect_take(struct join_table *t, struct slice id, unsigned generation,
				  uint64_t expected, void *info, size_t bytes);

/* Takes `answer` (`bytes` long) as the primary's answer for id. */
enum join_status join_put_primary_take(struct join_table *t, struct slice id, void *answer,
				       size_t bytes, struct join_entry **done);

/* Takes `answer` as target `target`'s answer for id; `expected` is the set
 * of targets (bits of index) the request was mirrored to, `generation` the
 * config generation those indexes belong to, so a reload between the
 * request and its answers cannot mix targets up. */
enum join_status join_put_shadow_take(struct join_table *t, struct slice id,
				      unsigned generation, unsigned target, uint64_t expected,
				      void *answer, size_t bytes, struct join_entry **done);

/* Removes up to `max` entries older than the TTL into out[]; the caller
 * owns them (counts them not_comparable/missing, then join_entry_free). */
size_t join_expire(struct join_table *t, struct join_entry **out, size_t max);

/* Removes up to `max` entries, any age (shutdown, or a reload that drops
 * comparison). */
size_t join_clear(struct join_table *t, struct join_entry **out, size_t max);

void join_entry_free(struct join_entry *e);

size_t join_table_entries(const struct join_table *t);
size_t join_table_bytes(const struct join_table *t);

const char *join_status_name(enum join_status s);

#endif

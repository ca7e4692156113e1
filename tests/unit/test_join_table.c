/* Unit tests for src/join_table.c: primary and shadow answers joined by id
 * in either order, bounded in entries, bytes and time (fake clock). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "fake_clock.h"
#include "join_table.h"

static int freed;

static void free_answer(void *a)
{
	freed++;
	free(a);
}

/* an answer the table may own: a heap string */
static char *answer(const char *text)
{
	char *p = malloc(strlen(text) + 1);

	strcpy(p, text);
	return p;
}

static struct join_table *table(size_t entries, size_t bytes, uint64_t ttl, unsigned targets)
{
	struct join_limits lim = { entries, bytes, ttl, targets, 0 };
	struct join_table *t;

	freed = 0;
	fake_clock_set(1000);
	t = join_table_new(&lim, fake_clock_now, free_answer);
	assert_non_null(t);
	return t;
}

#define ID(s) SLICE_LIT(s)

static void test_primary_first_then_shadows_complete(void **state)
{
	struct join_table *t = table(8, 1 << 20, 5000, 4);
	struct join_entry *done = NULL;

	assert_int_equal(join_put_primary_take(t, ID("r1"), answer("P"), 1, &done), JOIN_WAITING);
	assert_int_equal(join_put_shadow_take(t, ID("r1"), 1, 0, 0x3, answer("S0"), 2, &done),
			 JOIN_WAITING);
	assert_null(done);
	assert_int_equal(join_put_shadow_take(t, ID("r1"), 1, 1, 0x3, answer("S1"), 2, &done),
			 JOIN_COMPLETE);
	assert_non_null(done);
	assert_string_equal(done->primary, "P");
	assert_string_equal(done->shadows[0], "S0");
	assert_string_equal(done->shadows[1], "S1");
	assert_int_equal(done->generation, 1);
	assert_int_equal(join_table_entries(t), 0);
	assert_int_equal(join_table_bytes(t), 0);
	join_entry_free(done);
	assert_int_equal(freed, 3);
	assert_int_equal(join_table_free(t), 0);
}

static void test_shadow_first_then_primary_completes(void **state)
{
	struct join_table *t = table(8, 1 << 20, 5000, 4);
	struct join_entry *done = NULL;

	assert_int_equal(join_put_shadow_take(t, ID("r2"), 3, 2, 0x4, answer("S"), 1, &done),
			 JOIN_WAITING);
	assert_int_equal(join_table_entries(t), 1);
	assert_int_equal(join_put_primary_take(t, ID("r2"), answer("P"), 1, &done), JOIN_COMPLETE);
	assert_string_equal(done->shadows[2], "S");
	assert_memory_equal(done->id, "r2", 2);
	join_entry_free(done);
	assert_int_equal(freed, 2);
	join_table_free(t);
}

static void test_ids_do_not_mix(void **state)
{
	struct join_table *t = table(64, 1 << 20, 5000, 1);
	struct join_entry *done = NULL;
	char id[16];

	for (int i = 0; i < 40; i++) {
		snprintf(id, sizeof(id), "id-%d", i);
		assert_int_equal(join_put_primary_take(t, slice_from_cstr(id), answer(id), 1,
						       &done),
				 JOIN_WAITING);
	}
	for (int i = 39; i >= 0; i--) {
		snprintf(id, sizeof(id), "id-%d", i);
		assert_int_equal(join_put_shadow_take(t, slice_from_cstr(id), 1, 0, 1, answer("S"),
						      1, &done),
				 JOIN_COMPLETE);
		assert_string_equal(done->primary, id);
		join_entry_free(done);
	}
	assert_int_equal(join_table_entries(t), 0);
	join_table_free(t);
}

static void test_waiting_entries_expire_after_the_ttl(void **state)
{
	struct join_table *t = table(8, 1 << 20, 5000, 2);
	struct join_entry *done = NULL, *out[4];
	char *keep;

	assert_int_equal(join_put_primary_take(t, ID("old"), answer("P"), 1, &done), JOIN_WAITING);
	fake_clock_advance(3000);
	assert_int_equal(join_put_shadow_take(t, ID("young"), 1, 0, 1, answer("S"), 1, &done),
			 JOIN_WAITING);
	fake_clock_advance(1999);
	assert_int_equal(join_expire(t, out, 4), 0);
	fake_clock_advance(1);
	assert_int_equal(join_expire(t, out, 4), 1);
	assert_memory_equal(out[0]->id, "old", 3);
	assert_int_equal(out[0]->arrived, 0); /* no shadow: the caller counts it missing */
	join_entry_free(out[0]);
	assert_int_equal(join_table_entries(t), 1);
	fake_clock_advance(3000);
	assert_int_equal(join_expire(t, out, 4), 1);
	assert_null(out[0]->primary);
	join_entry_free(out[0]);
	/* a late answer after expiry starts a new entry, it does not resurrect */
	keep = answer("late");
	assert_int_equal(join_put_primary_take(t, ID("old"), keep, 4, &done), JOIN_WAITING);
	assert_int_equal(join_table_free(t), 1);
	assert_int_equal(freed, 3);
}

static void test_overflow_in_entries_is_refused_and_the_answer_stays_with_the_caller(void **state)
{
	struct join_table *t = table(2, 1 << 20, 5000, 1);
	struct join_entry *done = NULL;
	char *mine = answer("P3");

	assert_int_equal(join_put_primary_take(t, ID("a"), answer("P"), 1, &done), JOIN_WAITING);
	assert_int_equal(join_put_primary_take(t, ID("b"), answer("P"), 1, &done), JOIN_WAITING);
	assert_int_equal(join_put_primary_take(t, ID("c"), mine, 2, &done), JOIN_FULL_ENTRIES);
	assert_string_equal(mine, "P3"); /* still ours */
	free(mine);
	/* an existing entry still takes its other side */
	assert_int_equal(join_put_shadow_take(t, ID("a"), 1, 0, 1, answer("S"), 1, &done),
			 JOIN_COMPLETE);
	join_entry_free(done);
	assert_int_equal(join_table_free(t), 1);
}

static void test_overflow_in_bytes_is_refused(void **state)
{
	struct join_table *t = table(100, 1000, 5000, 1);
	struct join_entry *done = NULL;
	char *big = answer("big");

	assert_int_equal(join_put_primary_take(t, ID("a"), answer("P"), 400, &done), JOIN_WAITING);
	assert_true(join_table_bytes(t) > 400);
	assert_int_equal(join_put_shadow_take(t, ID("a"), 1, 0, 1, big, 700, &done),
			 JOIN_FULL_BYTES);
	assert_int_equal(join_put_primary_take(t, ID("b"), big, 700, &done), JOIN_FULL_BYTES);
	free(big);
	assert_true(join_table_bytes(t) <= 1000);
	assert_int_equal(join_table_entries(t), 1);
	join_table_free(t);
}

static void test_duplicates_and_bad_targets_are_refused(void **state)
{
	struct join_table *t = table(8, 1 << 20, 5000, 4);
	struct join_entry *done = NULL;
	char x[] = "x";
	char long_id[JOIN_ID_MAX + 2];

	assert_int_equal(join_put_primary_take(t, ID("a"), answer("P"), 1, &done), JOIN_WAITING);
	assert_int_equal(join_put_primary_take(t, ID("a"), x, 1, &done), JOIN_DUPLICATE);
	assert_int_equal(join_put_shadow_take(t, ID("a"), 1, 4, 0x10, x, 1, &done),
			 JOIN_BAD_TARGET);
	assert_int_equal(join_put_shadow_take(t, ID("a"), 1, 1, 0x1, x, 1, &done),
			 JOIN_BAD_TARGET); /* not in its own expected set */
	assert_int_equal(join_put_shadow_take(t, ID("a"), 1, 0, 0x3, answer("S"), 1, &done),
			 JOIN_WAITING);
	assert_int_equal(join_put_shadow_take(t, ID("a"), 1, 0, 0x3, x, 1, &done),
			 JOIN_DUPLICATE);
	assert_int_equal(join_put_primary_take(t, ID(""), x, 1, &done), JOIN_BAD_ID);
	memset(long_id, 'i', sizeof(long_id));
	assert_int_equal(join_put_primary_take(t, slice_make(long_id, sizeof(long_id)), x, 1,
					       &done),
			 JOIN_BAD_ID);
	assert_string_equal(join_status_name(JOIN_FULL_BYTES), "full_bytes");
	assert_int_equal(join_table_free(t), 1);
	assert_int_equal(freed, 2);
}

/* A reload renumbers targets: answers keep the generation they were
 * mirrored under, and one id cannot join shadows of two generations. */
static void test_reload_keeps_generations_apart(void **state)
{
	struct join_table *t = table(8, 1 << 20, 5000, 4);
	struct join_entry *done = NULL;
	char x[] = "x";

	assert_int_equal(join_put_shadow_take(t, ID("before"), 1, 0, 0x3, answer("S0"), 1, &done),
			 JOIN_WAITING);
	/* reload: generation 2 has the old target 1 at index 0 */
	assert_int_equal(join_put_shadow_take(t, ID("after"), 2, 0, 0x1, answer("T"), 1, &done),
			 JOIN_WAITING);
	assert_int_equal(join_put_shadow_take(t, ID("before"), 2, 1, 0x3, x, 1, &done),
			 JOIN_GENERATION);
	assert_int_equal(join_put_shadow_take(t, ID("before"), 1, 1, 0x3, answer("S1"), 1, &done),
			 JOIN_WAITING);
	assert_int_equal(join_put_primary_take(t, ID("before"), answer("P"), 1, &done),
			 JOIN_COMPLETE);
	assert_int_equal(done->generation, 1);
	assert_int_equal(done->expected, 0x3);
	join_entry_free(done);
	assert_int_equal(join_put_primary_take(t, ID("after"), answer("P"), 1, &done),
			 JOIN_COMPLETE);
	assert_int_equal(done->generation, 2);
	join_entry_free(done);
	join_table_free(t);
}

static void test_clear_on_shutdown_hands_back_every_entry(void **state)
{
	struct join_table *t = table(8, 1 << 20, 5000, 2);
	struct join_entry *done = NULL, *out[8];

	assert_int_equal(join_put_primary_take(t, ID("a"), answer("P"), 1, &done), JOIN_WAITING);
	assert_int_equal(join_put_shadow_take(t, ID("b"), 1, 1, 0x2, answer("S"), 1, &done),
			 JOIN_WAITING);
	assert_int_equal(join_put_primary_take(t, ID("c"), answer("P"), 1, &done), JOIN_WAITING);
	assert_int_equal(join_clear(t, out, 2), 2);
	assert_memory_equal(out[0]->id, "a", 1);
	assert_memory_equal(out[1]->id, "b", 1);
	join_entry_free(out[0]);
	join_entry_free(out[1]);
	assert_int_equal(join_table_entries(t), 1);
	assert_int_equal(join_table_free(t), 1);
	assert_int_equal(freed, 3);
}

/* With expect_first, only a registered request's answers wait; the
 * registration's info is freed with its entry. */
static void test_expect_first_refuses_unknown_ids_and_keeps_the_registration(void **state)
{
	struct join_limits lim = { 16, 1 << 20, 5000, 4, 1 };
	struct join_table *t;
	struct join_entry *done = NULL;
	char *a = answer("primary");

	freed = 0;
	fake_clock_set(1000);
	t = join_table_new(&lim, fake_clock_now, free_answer);
	assert_non_null(t);
	assert_int_equal(join_put_primary_take(t, SLICE_LIT("nope"), a, 7, &done), JOIN_UNKNOWN_ID);
	assert_int_equal(join_table_entries(t), 0);
	assert_int_equal(join_expect_take(t, SLICE_LIT("r1"), 3, 0x5, answer("info"), 4),
			 JOIN_WAITING);
	/* the same id again: a second request, refused (the caller keeps it) */
	{
		char *again = answer("info2");

		assert_int_equal(join_expect_take(t, SLICE_LIT("r1"), 3, 0x5, again, 5),
				 JOIN_DUPLICATE);
		free(again);
	}
	assert_int_equal(join_expect_take(t, SLICE_LIT("r2"), 3, 0, a, 1), JOIN_BAD_TARGET);
	/* a shadow the request was not mirrored to, or of another generation */
	assert_int_equal(join_put_shadow_take(t, SLICE_LIT("r1"), 3, 1, 0x5, a, 1, &done),
			 JOIN_BAD_TARGET);
	assert_int_equal(join_put_shadow_take(t, SLICE_LIT("r1"), 4, 0, 0x5, a, 1, &done),
			 JOIN_GENERATION);
	assert_int_equal(join_put_shadow_take(t, SLICE_LIT("r1"), 3, 0, 0x5, answer("s0"), 2, &done),
			 JOIN_WAITING);
	assert_int_equal(join_put_primary_take(t, SLICE_LIT("r1"), a, 7, &done), JOIN_WAITING);
	assert_int_equal(join_put_shadow_take(t, SLICE_LIT("r1"), 3, 2, 0x5, answer("s2"), 2, &done),
			 JOIN_COMPLETE);
	assert_non_null(done);
	assert_string_equal(done->info, "info");
	assert_int_equal(join_table_bytes(t), 0);
	join_entry_free(done);
	assert_int_equal(freed, 4); /* info, primary, two shadows */
	join_table_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_primary_first_then_shadows_complete),
		cmocka_unit_test(test_shadow_first_then_primary_completes),
		cmocka_unit_test(test_ids_do_not_mix),
		cmocka_unit_test(test_waiting_entries_expire_after_the_ttl),
		cmocka_unit_test(test_overflow_in_entries_is_refused_and_the_answer_stays_with_the_caller),
		cmocka_unit_test(test_overflow_in_bytes_is_refused),
		cmocka_unit_test(test_duplicates_and_bad_targets_are_refused),
		cmocka_unit_test(test_reload_keeps_generations_apart),
		cmocka_unit_test(test_clear_on_shutdown_hands_back_every_entry),
		cmocka_unit_test(test_expect_first_refuses_unknown_ids_and_keeps_the_registration),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for src/spop_budget.c: the SPOP side's one memory budget. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "spop_budget.h"

/* A limit of 1600 keeps 100 (a sixteenth) for forced growth: 1500 for the rest. */
static void test_growth_granted_up_to_the_limit_then_refused(void **state)
{
	struct spop_budget b;

	spop_budget_init(&b, 1600);
	assert_true(spop_budget_resize(&b, 0, 900, false));
	assert_true(spop_budget_resize(&b, 0, 600, false));
	assert_int_equal(b.used, 1500);
	assert_false(spop_budget_resize(&b, 600, 601, false));
	assert_int_equal(b.used, 1500);
	assert_int_equal(b.peak, 1500);
}

static void test_request_larger_than_the_limit_refused_without_wrap(void **state)
{
	struct spop_budget b;

	spop_budget_init(&b, 1600);
	assert_false(spop_budget_resize(&b, 0, 1501, false));
	assert_false(spop_budget_resize(&b, 0, SIZE_MAX, false));
	assert_int_equal(b.used, 0);
}

static void test_forced_growth_uses_the_reserve_and_goes_over(void **state)
{
	struct spop_budget b;

	spop_budget_init(&b, 160);
	assert_true(spop_budget_resize(&b, 0, 140, false));
	assert_true(spop_budget_resize(&b, 0, 50, true));
	assert_int_equal(b.used, 190);
	assert_int_equal(b.peak, 190);
	/* and then nothing else fits until bytes come back */
	assert_false(spop_budget_resize(&b, 0, 1, false));
}

static void test_shrink_gives_back_and_signals_waiters(void **state)
{
	struct spop_budget b;
	uint64_t gen;

	spop_budget_init(&b, 160);
	assert_true(spop_budget_resize(&b, 0, 150, false));
	gen = b.released;
	assert_true(spop_budget_resize(&b, 150, 30, false));
	assert_int_equal(b.used, 30);
	assert_true(b.released != gen);
	assert_true(spop_budget_resize(&b, 0, 120, false));
	assert_int_equal(b.peak, 150);
}

static void test_zero_limit_and_null_budget_grant_everything(void **state)
{
	struct spop_budget b;

	spop_budget_init(&b, 0);
	assert_true(spop_budget_resize(&b, 0, (size_t)1 << 40, false));
	assert_true(spop_budget_resize(NULL, 0, (size_t)1 << 40, false));
	assert_int_equal(spop_budget_used(NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_growth_granted_up_to_the_limit_then_refused),
		cmocka_unit_test(test_request_larger_than_the_limit_refused_without_wrap),
		cmocka_unit_test(test_forced_growth_uses_the_reserve_and_goes_over),
		cmocka_unit_test(test_shrink_gives_back_and_signals_waiters),
		cmocka_unit_test(test_zero_limit_and_null_budget_grant_everything),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

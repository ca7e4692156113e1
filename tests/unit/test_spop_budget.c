/* Unit tests for src/spop_budget.c: the SPOP side's one memory budget. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "spop_budget.h"

static void test_growth_granted_up_to_the_limit_then_refused(void **state)
{
	struct spop_budget b;

	spop_budget_init(&b, 1000);
	assert_true(spop_budget_resize(&b, 0, 600, false));
	assert_true(spop_budget_resize(&b, 0, 400, false));
	assert_int_equal(b.used, 1000);
	assert_false(spop_budget_resize(&b, 400, 401, false));
	assert_int_equal(b.used, 1000);
	assert_int_equal(b.peak, 1000);
}

static void test_request_larger_than_the_limit_refused_without_wrap(void **state)
{
	struct spop_budget b;

	spop_budget_init(&b, 1000);
	assert_false(spop_budget_resize(&b, 0, 1001, false));
	assert_false(spop_budget_resize(&b, 0, SIZE_MAX, false));
	assert_int_equal(b.used, 0);
}

static void test_forced_growth_goes_over_and_is_counted(void **state)
{
	struct spop_budget b;

	spop_budget_init(&b, 100);
	assert_true(spop_budget_resize(&b, 0, 90, false));
	assert_true(spop_budget_resize(&b, 0, 50, true));
	assert_int_equal(b.used, 140);
	assert_int_equal(b.peak, 140);
	/* and then nothing else fits until bytes come back */
	assert_false(spop_budget_resize(&b, 0, 1, false));
}

static void test_shrink_gives_back_and_signals_waiters(void **state)
{
	struct spop_budget b;
	uint64_t gen;

	spop_budget_init(&b, 100);
	assert_true(spop_budget_resize(&b, 0, 100, false));
	gen = b.released;
	assert_true(spop_budget_resize(&b, 100, 30, false));
	assert_int_equal(b.used, 30);
	assert_true(b.released != gen);
	assert_true(spop_budget_resize(&b, 0, 70, false));
	assert_int_equal(b.peak, 100);
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
		cmocka_unit_test(test_forced_growth_goes_over_and_is_counted),
		cmocka_unit_test(test_shrink_gives_back_and_signals_waiters),
		cmocka_unit_test(test_zero_limit_and_null_budget_grant_everything),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

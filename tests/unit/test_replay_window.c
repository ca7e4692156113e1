/* replay_window: at most `limit` transfers per target in curl, the rest in
 * line in arrival order, nobody jumping it. The requests are opaque here,
 * so the tests use distinct addresses as stand-ins. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "replay_window.h"

/* stand-ins: the window only stores and returns the pointers */
static char reqs[8];
#define REQ(i) ((struct mirror_request *)&reqs[(i)])
static char targets[3];
#define TGT(i) ((struct target *)&targets[(i)])

static void test_window_admits_up_to_its_limit(void **state)
{
	struct replay_windows ws;
	struct target_window *win;

	(void)state;
	replay_windows_init(&ws);
	win = replay_window_of(&ws, TGT(0), 1, 2);
	assert_non_null(win);
	assert_true(replay_window_enter(win));
	assert_true(replay_window_enter(win));
	assert_false(replay_window_enter(win));
	assert_int_equal(win->in_curl, 2);
	replay_window_leave(win);
	assert_true(replay_window_enter(win));
	assert_int_equal(win->in_curl, 2);
	replay_windows_destroy(&ws);
}

static void test_window_waiting_requests_leave_in_arrival_order(void **state)
{
	struct replay_windows ws;
	struct target_window *win;

	(void)state;
	replay_windows_init(&ws);
	win = replay_window_of(&ws, TGT(0), 1, 1);
	assert_true(replay_window_enter(win));
	for (int i = 0; i < 4; i++)
		assert_int_equal(replay_window_wait(win, REQ(i)), 0);
	assert_int_equal(replay_windows_waiting(&ws), 4);
	/* full: nothing comes out until a transfer leaves */
	assert_null(replay_window_next(win));
	for (int i = 0; i < 4; i++) {
		replay_window_leave(win);
		assert_ptr_equal(replay_window_next(win), REQ(i));
		assert_int_equal(win->in_curl, 1);
		assert_null(replay_window_next(win));
	}
	assert_int_equal(replay_windows_waiting(&ws), 0);
	replay_windows_destroy(&ws);
}

/* ws with TGT(0)'s window (limit 1): its place taken, REQ(0) waiting. */
static struct target_window *full_window_one_waiting(struct replay_windows *ws)
{
	struct target_window *win;

	replay_windows_init(ws);
	win = replay_window_of(ws, TGT(0), 1, 1);
	assert_true(replay_window_enter(win));
	assert_int_equal(replay_window_wait(win, REQ(0)), 0);
	return win;
}

static void test_window_newcomer_does_not_jump_the_line(void **state)
{
	struct replay_windows ws;
	struct target_window *win;

	(void)state;
	win = full_window_one_waiting(&ws);
	replay_window_leave(win);
	/* a place is free, but REQ(0) waits for it: the newcomer queues */
	assert_false(replay_window_enter(win));
	assert_ptr_equal(replay_window_next(win), REQ(0));
	replay_windows_destroy(&ws);
}

static void test_window_targets_are_independent(void **state)
{
	struct replay_windows ws;
	struct target_window *a, *b;

	(void)state;
	a = full_window_one_waiting(&ws);
	b = replay_window_of(&ws, TGT(1), 1, 1);
	assert_ptr_not_equal(a, b);
	/* a slow target's line does not hold another target back */
	assert_true(replay_window_enter(b));
	assert_ptr_equal(replay_window_of(&ws, TGT(0), 1, 1), a);
	assert_ptr_equal(replay_window_of(&ws, TGT(1), 1, 1), b);
	assert_int_equal(replay_windows_waiting(&ws), 1);
	replay_windows_destroy(&ws); /* frees the waiting entry (ASan checks) */
}

static void test_window_idle_one_is_reused_busy_one_never(void **state)
{
	struct replay_windows ws;
	struct target_window *old, *busy, *again;

	(void)state;
	replay_windows_init(&ws);
	busy = replay_window_of(&ws, TGT(1), 1, 4);
	assert_true(replay_window_enter(busy));
	old = replay_window_of(&ws, TGT(0), 1, 4);
	assert_ptr_not_equal(old, busy);
	/* an idle window holds nothing: a new target (after a reload) takes it */
	again = replay_window_of(&ws, TGT(2), 1, 3);
	assert_ptr_equal(again, old);
	assert_ptr_equal(again->t, TGT(2));
	assert_int_equal(again->limit, 3);
	assert_int_equal(again->in_curl, 0);
	/* a window still in use is never handed to another target */
	assert_ptr_not_equal(replay_window_of(&ws, TGT(0), 1, 4), busy);
	replay_windows_destroy(&ws);
}

static void test_window_of_a_recycled_target_address_is_its_own(void **state)
{
	struct replay_windows ws;
	struct target_window *old, *fresh;

	(void)state;
	replay_windows_init(&ws);
	old = replay_window_of(&ws, TGT(0), 1, 1);
	assert_true(replay_window_enter(old));
	/* a reload's set (generation 2) put a target where one of set 1 was;
	 * the old one's transfer is still in curl: the new target must not
	 * inherit its full window */
	fresh = replay_window_of(&ws, TGT(0), 2, 1);
	assert_ptr_not_equal(fresh, old);
	assert_int_equal(fresh->generation, 2);
	assert_true(replay_window_enter(fresh));
	assert_ptr_equal(replay_window_of(&ws, TGT(0), 1, 1), old);
	replay_windows_destroy(&ws);
}

static void test_window_limit_follows_reload_and_zero_means_one(void **state)
{
	struct replay_windows ws;
	struct target_window *win;

	(void)state;
	replay_windows_init(&ws);
	win = replay_window_of(&ws, TGT(0), 1, 0);
	assert_int_equal(win->limit, 1);
	assert_true(replay_window_enter(win));
	assert_false(replay_window_enter(win));
	assert_ptr_equal(replay_window_of(&ws, TGT(0), 1, 2), win);
	assert_int_equal(win->limit, 2);
	assert_true(replay_window_enter(win));
	replay_windows_destroy(&ws);
}

static void test_window_pop_ignores_the_limit_for_draining(void **state)
{
	struct replay_windows ws;
	struct target_window *win;

	(void)state;
	win = full_window_one_waiting(&ws);
	assert_int_equal(replay_window_wait(win, REQ(1)), 0);
	assert_ptr_equal(replay_window_pop(win), REQ(0));
	assert_ptr_equal(replay_window_pop(win), REQ(1));
	assert_null(replay_window_pop(win));
	assert_int_equal(win->in_curl, 1);
	assert_int_equal(replay_windows_waiting(&ws), 0);
	replay_windows_destroy(&ws);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_window_admits_up_to_its_limit),
		cmocka_unit_test(test_window_waiting_requests_leave_in_arrival_order),
		cmocka_unit_test(test_window_newcomer_does_not_jump_the_line),
		cmocka_unit_test(test_window_targets_are_independent),
		cmocka_unit_test(test_window_idle_one_is_reused_busy_one_never),
		cmocka_unit_test(test_window_of_a_recycled_target_address_is_its_own),
		cmocka_unit_test(test_window_limit_follows_reload_and_zero_means_one),
		cmocka_unit_test(test_window_pop_ignores_the_limit_for_draining),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

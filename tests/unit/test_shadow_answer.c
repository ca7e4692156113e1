/* Unit tests for src/shadow_answer.c: the shadow's answer captured from
 * libcurl's callbacks (interim answers, the body cap and its digest, the
 * header cap, partial bodies) and made into one allocation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "shadow_answer.h"

static void header(struct shadow_capture *c, const char *line)
{
	assert_int_equal(shadow_capture_header(c, line, strlen(line)), strlen(line));
}

static void body(struct shadow_capture *c, const char *b)
{
	assert_int_equal(shadow_capture_body(c, b, strlen(b)), strlen(b));
}

static const struct shadow_answer_key key = {
	.id = SLICE_LIT("id-7"), .generation = 3, .target = 1, .expected = 0x3, .latency_us = 1500,
};

static void test_final_answer_kept_after_an_interim_one(void **state)
{
	struct shadow_capture c = { 0 };
	struct shadow_answer *a;

	shadow_capture_begin(&c, 1024);
	header(&c, "HTTP/1.1 100 Continue\r\n");
	header(&c, "\r\n");
	header(&c, "HTTP/1.1 200 OK\r\n");
	header(&c, "Content-Type: application/json\r\n");
	header(&c, "Content-Length: 9\r\n");
	header(&c, "\r\n");
	body(&c, "{\"a\":");
	body(&c, "12}");
	body(&c, "\n");
	a = shadow_answer_new(&c, &key, 200, true);
	assert_non_null(a);
	shadow_capture_free(&c); /* the answer holds its own copy */
	assert_int_equal(a->item.kind, VERDICT_ITEM_SHADOW);
	assert_true(slice_eq_cstr(a->id, "id-7"));
	assert_int_equal(a->generation, 3);
	assert_int_equal(a->target, 1);
	assert_int_equal(a->expected, 0x3);
	assert_int_equal(a->latency_us, 1500);
	assert_int_equal(a->answer.status, 200);
	assert_int_equal(a->answer.nheaders, 2);
	assert_true(slice_eq_cstr(a->answer.headers[0].name, "Content-Type"));
	assert_true(slice_eq_cstr(a->answer.headers[1].value, "9"));
	assert_int_equal(a->answer.body.len, 9);
	assert_memory_equal(a->answer.body.ptr, "{\"a\":12}\n", 9);
	assert_int_equal(a->answer.body_state, VERDICT_BODY_COMPLETE);
	shadow_answer_free(a);
}

static void test_body_over_the_cap_keeps_a_prefix_and_digests_all(void **state)
{
	struct shadow_capture c = { 0 };
	struct shadow_answer *a;
	const char *whole = "0123456789abcdefghij";

	shadow_capture_begin(&c, 8);
	header(&c, "HTTP/1.1 200 OK\r\n");
	header(&c, "\r\n");
	body(&c, "0123456");
	body(&c, "789abcdefghij");
	a = shadow_answer_new(&c, &key, 200, true);
	assert_non_null(a);
	assert_int_equal(a->answer.body_state, VERDICT_BODY_OVER_CAP);
	assert_int_equal(a->answer.body.len, 8);
	assert_memory_equal(a->answer.body.ptr, "01234567", 8);
	assert_int_equal(a->answer.body_total, 20);
	assert_int_equal(a->answer.body_digest,
			 verdict_digest_update(VERDICT_DIGEST_INIT, whole, 20));
	shadow_answer_free(a);
	/* cap 0: a digest only */
	shadow_capture_begin(&c, 0);
	header(&c, "HTTP/1.1 200 OK\r\n");
	body(&c, "x");
	a = shadow_answer_new(&c, &key, 200, true);
	assert_int_equal(a->answer.body_state, VERDICT_BODY_OVER_CAP);
	assert_int_equal(a->answer.body.len, 0);
	assert_int_equal(a->answer.body_total, 1);
	shadow_answer_free(a);
	shadow_capture_free(&c);
}

static void test_short_or_cut_bodies_are_partial(void **state)
{
	struct shadow_capture c = { 0 };
	struct shadow_answer *a;
	struct shadow_answer_key head = key;

	shadow_capture_begin(&c, 64);
	header(&c, "HTTP/1.1 200 OK\r\n");
	header(&c, "Content-Length: 10\r\n");
	header(&c, "\r\n");
	body(&c, "abc");
	/* curl finished without error but fewer bytes than declared */
	a = shadow_answer_new(&c, &key, 200, true);
	assert_int_equal(a->answer.body_state, VERDICT_BODY_PARTIAL);
	shadow_answer_free(a);
	/* the transfer failed after the status line */
	a = shadow_answer_new(&c, &key, 200, false);
	assert_int_equal(a->answer.body_state, VERDICT_BODY_PARTIAL);
	assert_int_equal(a->answer.status, 200);
	shadow_answer_free(a);
	/* HEAD: Content-Length without a body is the whole answer */
	shadow_capture_begin(&c, 64);
	header(&c, "HTTP/1.1 200 OK\r\n");
	header(&c, "Content-Length: 10\r\n");
	head.head = true;
	a = shadow_answer_new(&c, &head, 200, true);
	assert_int_equal(a->answer.body_state, VERDICT_BODY_COMPLETE);
	shadow_answer_free(a);
	shadow_capture_free(&c);
}

static void test_no_answer_has_status_zero(void **state)
{
	struct shadow_capture c = { 0 };
	struct shadow_answer *a = shadow_answer_new(&c, &key, 0, false);

	assert_non_null(a);
	assert_int_equal(a->answer.status, 0);
	assert_int_equal(a->answer.nheaders, 0);
	assert_int_equal(a->answer.body.len, 0);
	shadow_answer_free(a);
}

static void test_headers_over_their_cap_make_the_answer_incomparable(void **state)
{
	struct shadow_capture c = { 0 };
	struct shadow_answer *a;
	char line[1024];
	size_t sent = 0;

	memset(line, 'v', sizeof(line));
	memcpy(line, "X-Big: ", 7);
	memcpy(line + sizeof(line) - 3, "\r\n", 3);
	shadow_capture_begin(&c, 64);
	header(&c, "HTTP/1.1 200 OK\r\n");
	while (sent <= SHADOW_ANSWER_HEADERS_MAX) {
		header(&c, line);
		sent += strlen(line);
	}
	assert_true(c.overflow);
	assert_true(c.head_len <= SHADOW_ANSWER_HEADERS_MAX);
	a = shadow_answer_new(&c, &key, 200, true);
	assert_int_equal(a->answer.status, 200);
	assert_int_equal(a->answer.nheaders, 0);
	assert_int_equal(a->answer.body_state, VERDICT_BODY_PARTIAL);
	shadow_answer_free(a);
	/* a new capture starts clean */
	shadow_capture_begin(&c, 64);
	assert_false(c.overflow);
	shadow_capture_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_final_answer_kept_after_an_interim_one),
		cmocka_unit_test(test_body_over_the_cap_keeps_a_prefix_and_digests_all),
		cmocka_unit_test(test_short_or_cut_bodies_are_partial),
		cmocka_unit_test(test_no_answer_has_status_zero),
		cmocka_unit_test(test_headers_over_their_cap_make_the_answer_incomparable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

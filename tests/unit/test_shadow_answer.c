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

#include "queue_budget.h"
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

	shadow_capture_begin(&c, 1024, NULL);
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

	shadow_capture_begin(&c, 8, NULL);
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
	shadow_capture_begin(&c, 0, NULL);
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

	shadow_capture_begin(&c, 64, NULL);
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
	shadow_capture_begin(&c, 64, NULL);
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
	shadow_capture_begin(&c, 64, NULL);
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
	/* never compared, not even its status or its (missing) headers */
	assert_true(a->answer.lost);
	shadow_answer_free(a);
	/* a new capture starts clean */
	shadow_capture_begin(&c, 64, NULL);
	assert_false(c.overflow);
	shadow_capture_free(&c);
}

/* A 200 answer with a body of `n` bytes of 'b', in chunks as curl gives. */
static void answer_of(struct shadow_capture *c, size_t n)
{
	char chunk[1000];

	memset(chunk, 'b', sizeof(chunk));
	header(c, "HTTP/1.1 200 OK\r\n");
	header(c, "Content-Type: text/plain\r\n");
	header(c, "\r\n");
	while (n) {
		size_t k = n < sizeof(chunk) ? n : sizeof(chunk);

		assert_int_equal(shadow_capture_body(c, chunk, k), k);
		n -= k;
	}
}

static enum verdict_result compared_to_same_body(const struct shadow_answer *a, size_t n)
{
	static const struct http_header h[] = { { SLICE_LIT("Content-Type"),
						  SLICE_LIT("text/plain") } };
	char *b = malloc(n);
	struct verdict_answer primary = {
		.status = 200, .headers = h, .nheaders = 1, .body_state = VERDICT_BODY_COMPLETE,
	};
	struct verdict_rules rules = { .level = VERDICT_LEVEL_BODY, .max_diffs = 4 };
	struct verdict v;

	assert_non_null(b);
	memset(b, 'b', n);
	primary.body = slice_make(b, n);
	verdict_compare(&primary, &a->answer, &rules, &v);
	free(b);
	return v.result;
}

/* Two captures compete for a 16 KiB budget: each 6000-byte body needs an
 * 8 KiB buffer and each head 1 KiB, so the second body finds no room. It
 * keeps its headers, digest and length, and its verdict is not_comparable,
 * never "body"; the first is whole and matches. Ended captures give their
 * bytes back (big buffers freed, small ones kept) and a third fits. */
static void test_captures_share_one_budget(void **state)
{
	struct queue_budget b;
	struct shadow_capture one = { 0 }, two = { 0 }, three = { 0 };
	struct shadow_answer *a1, *a2, *a3;

	queue_budget_init(&b, SIZE_MAX, 16 * 1024);
	shadow_capture_begin(&one, 64 * 1024, &b);
	shadow_capture_begin(&two, 64 * 1024, &b);
	answer_of(&one, 6000);
	assert_int_equal(atomic_load(&b.bytes), 1024 + 8192);
	answer_of(&two, 6000);
	assert_int_equal(atomic_load(&b.bytes), 1024 + 8192 + 1024);
	assert_false(one.short_of_budget);
	assert_true(two.short_of_budget);
	assert_true(two.body_cut);
	assert_false(two.overflow);

	a1 = shadow_answer_new(&one, &key, 200, true);
	a2 = shadow_answer_new(&two, &key, 200, true);
	assert_non_null(a1);
	assert_non_null(a2);
	assert_int_equal(a1->answer.body_state, VERDICT_BODY_COMPLETE);
	assert_int_equal(a1->answer.body.len, 6000);
	assert_int_equal(compared_to_same_body(a1, 6000), VERDICT_MATCH);
	assert_int_equal(a2->answer.body_state, VERDICT_BODY_PARTIAL);
	assert_false(a2->answer.lost);
	assert_int_equal(a2->answer.nheaders, 1);
	assert_int_equal(a2->answer.body_total, 6000);
	assert_int_equal(a2->answer.body.len, 0);
	assert_int_equal(compared_to_same_body(a2, 6000), VERDICT_NOT_COMPARABLE);

	/* handed over: the charge comes back, the 8 KiB body is not kept */
	shadow_capture_end(&one);
	shadow_capture_end(&two);
	assert_int_equal(atomic_load(&b.bytes), 0);
	assert_null(one.body);
	assert_int_equal(one.body_cap, 0);
	assert_int_equal(one.head_cap, 1024); /* small: kept for the next capture */
	/* the second held 4 KiB of body before it gave up and gave them back */
	assert_int_equal(atomic_load(&b.peak_bytes), 1024 + 8192 + 1024 + 4096);

	shadow_capture_begin(&three, 64 * 1024, &b);
	answer_of(&three, 6000);
	assert_false(three.short_of_budget);
	a3 = shadow_answer_new(&three, &key, 200, true);
	assert_int_equal(compared_to_same_body(a3, 6000), VERDICT_MATCH);
	shadow_capture_free(&three); /* destroyed while charged: given back too */
	assert_int_equal(atomic_load(&b.bytes), 0);

	/* a reused capture charges the buffer it kept, too */
	shadow_capture_begin(&one, 64 * 1024, &b);
	assert_int_equal(atomic_load(&b.bytes), 1024);
	answer_of(&one, 100);
	assert_int_equal(atomic_load(&b.bytes), 1024 + 1024);
	shadow_capture_end(&one);
	assert_int_equal(atomic_load(&b.bytes), 0);
	/* no room even for that: it is freed, and the capture goes on short */
	assert_true(queue_budget_charge(&b, 16 * 1024 - 512));
	shadow_capture_begin(&one, 64 * 1024, &b);
	assert_null(one.head);
	assert_int_equal(atomic_load(&b.bytes), 16 * 1024 - 512);
	answer_of(&one, 100);
	assert_true(one.short_of_budget);
	shadow_capture_end(&one);
	queue_budget_discharge(&b, 16 * 1024 - 512);
	assert_int_equal(atomic_load(&b.bytes), 0);

	shadow_answer_free(a1);
	shadow_answer_free(a2);
	shadow_answer_free(a3);
	shadow_capture_free(&one);
	shadow_capture_free(&two);
}

/* No room even for the head: the answer is lost, not compared at any
 * level (without its headers it would look different at "headers"). */
static void test_head_without_budget_is_lost(void **state)
{
	struct queue_budget b;
	struct shadow_capture c = { 0 };
	struct shadow_answer *a;
	struct verdict_answer primary = { .status = 200 };
	struct verdict_rules rules = { .level = VERDICT_LEVEL_HEADERS };
	struct verdict v;

	queue_budget_init(&b, SIZE_MAX, 512);
	shadow_capture_begin(&c, 1024, &b);
	answer_of(&c, 10);
	assert_true(c.short_of_budget);
	assert_true(c.overflow);
	assert_int_equal(atomic_load(&b.bytes), 0);
	a = shadow_answer_new(&c, &key, 200, true);
	assert_true(a->answer.lost);
	assert_int_equal(a->answer.body_total, 10);
	assert_int_equal(verdict_compare(&primary, &a->answer, &rules, &v), VERDICT_NOT_COMPARABLE);
	rules.level = VERDICT_LEVEL_STATUS;
	assert_int_equal(verdict_compare(&primary, &a->answer, &rules, &v), VERDICT_NOT_COMPARABLE);
	shadow_answer_free(a);
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
		cmocka_unit_test(test_captures_share_one_budget),
		cmocka_unit_test(test_head_without_budget_is_lost),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

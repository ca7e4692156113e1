/* Unit tests for src/response.c: the primary's answer from a response
 * message, with missing and malformed fields, and its body's state. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "response.h"

static void msg_init(struct spop_message *m)
{
	memset(m, 0, sizeof(*m));
	m->name = SLICE_LIT("mirror-response");
}

static void msg_arg(struct spop_message *m, const char *name, struct spop_value v)
{
	m->args[m->nb_args].name = slice_from_cstr(name);
	m->args[m->nb_args].value = v;
	m->nb_args++;
}

/* res.hdrs_bin: (varint name, varint value) pairs, two empty strings at
 * the end; names and values here are shorter than 240 bytes: one-byte
 * lengths. */
static size_t hdrs_bin(uint8_t *out, const char *const *kv, size_t n)
{
	size_t len = 0;

	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(kv[i]);

		out[len++] = (uint8_t)l;
		memcpy(out + len, kv[i], l);
		len += l;
	}
	out[len++] = 0;
	out[len++] = 0;
	return len;
}

static void full_message(struct spop_message *m, uint8_t *block, const char *body)
{
	static const char *const kv[] = { "content-type", "application/json", "content-length",
					  "7" };
	size_t n = hdrs_bin(block, kv, 4);

	msg_init(m);
	msg_arg(m, "id", spop_str_value(SLICE_LIT("abc-1")));
	msg_arg(m, "status", spop_u32_value(201));
	msg_arg(m, "headers", spop_bin_value(slice_make(block, n)));
	msg_arg(m, "body", spop_bin_value(slice_from_cstr(body)));
}

static void test_full_answer_copied_into_one_allocation(void **state)
{
	struct http_header items[8];
	struct header_list h = header_list_init(items, 8);
	struct spop_message m;
	struct response_fields f;
	struct primary_answer *p;
	uint8_t block[128];
	char body[] = "{\"a\":1}";

	full_message(&m, block, body);
	msg_arg(&m, "time", spop_u32_value(12));
	assert_int_equal(response_extract(&m, &f, &h), RESPONSE_OK);
	p = primary_answer_new(&f, &h);
	assert_non_null(p);
	/* the frame's bytes may go: the answer holds its own */
	memset(block, 'x', sizeof(block));
	memset(body, 'x', sizeof(body) - 1);
	assert_int_equal(p->item.kind, VERDICT_ITEM_PRIMARY);
	assert_true(slice_eq_cstr(p->id, "abc-1"));
	assert_int_equal(p->answer.status, 201);
	assert_int_equal(p->answer.nheaders, 2);
	assert_true(slice_eq_cstr(p->answer.headers[0].name, "content-type"));
	assert_true(slice_eq_cstr(p->answer.headers[1].value, "7"));
	assert_int_equal(p->answer.body.len, 7);
	assert_memory_equal(p->answer.body.ptr, "{\"a\":1}", 7);
	assert_int_equal(p->answer.body_state, VERDICT_BODY_COMPLETE);
	assert_true(p->has_time);
	assert_int_equal(p->time_us, 12000);
	assert_true(p->has_declared_length);
	assert_int_equal(p->declared_length, 7);
	assert_true(p->item.bytes >= sizeof(*p) + 7 + 5);
	primary_answer_free(p);
}

static void test_missing_id_is_its_own_error(void **state)
{
	struct http_header items[8];
	struct header_list h = header_list_init(items, 8);
	struct spop_message m;
	struct response_fields f;

	msg_init(&m);
	msg_arg(&m, "status", spop_u32_value(200));
	assert_int_equal(response_extract(&m, &f, &h), RESPONSE_NO_ID);
	/* unique-id without unique-id-format: HAProxy sends an empty string */
	msg_arg(&m, "unique-id", spop_str_value(SLICE_LIT("")));
	assert_int_equal(response_extract(&m, &f, &h), RESPONSE_NO_ID);
	assert_string_equal(response_strerror(RESPONSE_NO_ID),
			    "response message without id (unique-id)");
}

static void test_status_out_of_range_or_absent_refused(void **state)
{
	struct http_header items[8];
	struct header_list h = header_list_init(items, 8);
	struct spop_message m;
	struct response_fields f;
	const struct spop_value bad[] = {
		spop_u32_value(99), spop_u32_value(1000), spop_str_value(SLICE_LIT("2x0")),
		spop_str_value(SLICE_LIT("2000")), { .type = SPOP_T_NULL },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		msg_init(&m);
		msg_arg(&m, "unique_id", spop_str_value(SLICE_LIT("x")));
		msg_arg(&m, "status", bad[i]);
		assert_int_equal(response_extract(&m, &f, &h), RESPONSE_NO_STATUS);
	}
	msg_init(&m);
	msg_arg(&m, "unique_id", spop_str_value(SLICE_LIT("x")));
	msg_arg(&m, "status", spop_str_value(SLICE_LIT("404")));
	assert_int_equal(response_extract(&m, &f, &h), RESPONSE_OK);
	assert_int_equal(f.status, 404);
}

/* Every cut of a header block is an error, never a read past it. */
static void test_every_truncated_header_block_refused(void **state)
{
	static const char *const kv[] = { "server", "a", "x-long-name", "value" };
	struct http_header items[8];
	struct header_list h = header_list_init(items, 8);
	struct spop_message m;
	struct response_fields f;
	uint8_t block[64];
	size_t n = hdrs_bin(block, kv, 4);

	for (size_t cut = 1; cut < n; cut++) {
		uint8_t *copy = malloc(cut); /* ASan sees a read past the cut */

		memcpy(copy, block, cut);
		msg_init(&m);
		msg_arg(&m, "id", spop_str_value(SLICE_LIT("i")));
		msg_arg(&m, "status", spop_u32_value(200));
		msg_arg(&m, "headers", spop_bin_value(slice_make(copy, cut)));
		assert_true(response_extract(&m, &f, &h) < 0);
		free(copy);
	}
}

static void test_too_many_headers_refused(void **state)
{
	static const char *const kv[] = { "a", "1", "b", "2", "c", "3" };
	struct http_header items[2];
	struct header_list h = header_list_init(items, 2);
	struct spop_message m;
	struct response_fields f;
	uint8_t block[64];
	size_t n = hdrs_bin(block, kv, 6);

	msg_init(&m);
	msg_arg(&m, "id", spop_str_value(SLICE_LIT("i")));
	msg_arg(&m, "status", spop_u32_value(200));
	msg_arg(&m, "headers", spop_bin_value(slice_make(block, n)));
	assert_int_equal(response_extract(&m, &f, &h), SPOP_E_TOO_MANY);
}

static void test_body_shorter_than_declared_is_partial_unless_bodiless(void **state)
{
	struct verdict_answer a = { .status = 200, .body = SLICE_LIT("abc") };

	answer_body_settle(&a, true, 3, false);
	assert_int_equal(a.body_state, VERDICT_BODY_COMPLETE);
	answer_body_settle(&a, true, 10, true); /* HEAD: no body by rule */
	assert_int_equal(a.body_state, VERDICT_BODY_COMPLETE);
	a.status = 304;
	answer_body_settle(&a, true, 10, false);
	assert_int_equal(a.body_state, VERDICT_BODY_COMPLETE);
	a.status = 200;
	answer_body_settle(&a, false, 0, false);
	assert_int_equal(a.body_state, VERDICT_BODY_COMPLETE);
	answer_body_settle(&a, true, 10, false);
	assert_int_equal(a.body_state, VERDICT_BODY_PARTIAL);
}

static void test_body_len_argument_wins_over_content_length(void **state)
{
	struct http_header items[8];
	struct header_list h = header_list_init(items, 8);
	struct spop_message m;
	struct response_fields f;
	struct primary_answer *p;
	uint8_t block[128];

	full_message(&m, block, "{}");
	msg_arg(&m, "body_len", spop_u32_value(2));
	assert_int_equal(response_extract(&m, &f, &h), RESPONSE_OK);
	p = primary_answer_new(&f, &h);
	assert_non_null(p);
	assert_int_equal(p->declared_length, 2);
	primary_answer_free(p);
}

static void test_content_length_parsed_strictly(void **state)
{
	struct http_header h[] = {
		{ SLICE_LIT("Content-Length"), SLICE_LIT("12a") },
	};
	uint64_t n = 0;

	assert_false(headers_content_length(h, 1, &n));
	h[0].value = SLICE_LIT("");
	assert_false(headers_content_length(h, 1, &n));
	h[0].value = SLICE_LIT("99999999999999999999");
	assert_false(headers_content_length(h, 1, &n));
	h[0].value = SLICE_LIT("42");
	assert_true(headers_content_length(h, 1, &n));
	assert_int_equal(n, 42);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_answer_copied_into_one_allocation),
		cmocka_unit_test(test_missing_id_is_its_own_error),
		cmocka_unit_test(test_status_out_of_range_or_absent_refused),
		cmocka_unit_test(test_every_truncated_header_block_refused),
		cmocka_unit_test(test_too_many_headers_refused),
		cmocka_unit_test(test_body_shorter_than_declared_is_partial_unless_bodiless),
		cmocka_unit_test(test_body_len_argument_wins_over_content_length),
		cmocka_unit_test(test_content_length_parsed_strictly),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

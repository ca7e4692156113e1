/* Unit tests for src/headers.c: `req.hdrs_bin` and `req.hdrs` blocks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "headers.h"
#include "spop.h"

static size_t build_bin(uint8_t *buf, size_t cap, const char *const *pairs, size_t n)
{
	struct spop_writer w = spop_writer_init(buf, cap);

	for (size_t i = 0; i < n; i++)
		spop_put_string(&w, slice_from_cstr(pairs[i]));
	spop_put_string(&w, SLICE_LIT(""));
	spop_put_string(&w, SLICE_LIT(""));
	assert_false(w.overflow);
	return w.len;
}

static void test_bin_block_decodes_pairs_in_order(void **state)
{
	const char *pairs[] = { "host", "example.com", "x-empty", "", "Accept", "*/*" };
	uint8_t buf[128];
	size_t n = build_bin(buf, sizeof(buf), pairs, 6);
	struct http_header items[8];
	struct header_list l = header_list_init(items, 8);

	assert_int_equal(headers_decode_bin(slice_make(buf, n), &l), SPOP_OK);
	assert_int_equal(l.count, 3);
	assert_true(slice_eq_cstr(items[0].name, "host"));
	assert_true(slice_eq_cstr(items[0].value, "example.com"));
	assert_int_equal(items[1].value.len, 0);
	assert_true(slice_eq_cstr(headers_find(&l, SLICE_LIT("accept"))->value, "*/*"));
	assert_null(headers_find(&l, SLICE_LIT("cookie")));
}

static void test_bin_block_every_prefix_rejected(void **state)
{
	const char *pairs[] = { "host", "example.com", "content-length", "12" };
	uint8_t buf[128];
	size_t n = build_bin(buf, sizeof(buf), pairs, 4);
	struct http_header items[8];
	struct header_list l = header_list_init(items, 8);

	for (size_t cut = 0; cut < n; cut++)
		assert_int_equal(headers_decode_bin(slice_make(buf, cut), &l), SPOP_E_TRUNCATED);
}

static void test_bin_block_too_many_headers_rejected(void **state)
{
	const char *pairs[] = { "a", "1", "b", "2", "c", "3" };
	uint8_t buf[64];
	size_t n = build_bin(buf, sizeof(buf), pairs, 6);
	struct http_header items[2];
	struct header_list l = header_list_init(items, 2);

	assert_int_equal(headers_decode_bin(slice_make(buf, n), &l), SPOP_E_TOO_MANY);
}

static void test_text_block_decodes_lines_and_trims_values(void **state)
{
	const char blk[] = "Host: example.com\r\nX-A:  spaced  \r\nX-Empty:\r\n\r\n";
	struct http_header items[8];
	struct header_list l = header_list_init(items, 8);

	assert_int_equal(headers_decode_text(slice_make(blk, sizeof(blk) - 1), &l), SPOP_OK);
	assert_int_equal(l.count, 3);
	assert_true(slice_eq_cstr(items[0].name, "Host"));
	assert_true(slice_eq_cstr(items[0].value, "example.com"));
	assert_true(slice_eq_cstr(items[1].value, "spaced"));
	assert_int_equal(items[2].value.len, 0);
}

static void test_text_block_rejects_malformed_lines(void **state)
{
	const char *bad[] = {
		"NoColon\r\n\r\n",
		": novalue\r\n\r\n",
		"Bad Name: x\r\n\r\n",
		"Host: cut-without-newline",
		"Host: a\r\n\r\ntrailing",
	};
	struct http_header items[8];
	struct header_list l = header_list_init(items, 8);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(headers_decode_text(slice_from_cstr(bad[i]), &l), SPOP_E_SYNTAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bin_block_decodes_pairs_in_order),
		cmocka_unit_test(test_bin_block_every_prefix_rejected),
		cmocka_unit_test(test_bin_block_too_many_headers_rejected),
		cmocka_unit_test(test_text_block_decodes_lines_and_trims_values),
		cmocka_unit_test(test_text_block_rejects_malformed_lines),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

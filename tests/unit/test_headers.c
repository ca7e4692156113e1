/* Unit tests for src/headers.c: `req.hdrs_bin` and `req.hdrs` blocks,
 * their limits and malformed shapes, every truncation, and the header
 * args of the sample NOTIFY frames. Blocks are decoded from allocations of
 * exactly their size, so a sanitizer build catches any over-read. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../fuzz/sample_frames.h"
#include "headers.h"
#include "spop.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

static uint8_t *dup_exact(const void *p, size_t n)
{
	uint8_t *q = malloc(n ? n : 1);

	assert_non_null(q);
	if (n)
		memcpy(q, p, n);
	return q;
}

/* req.hdrs_bin for the given name/value strings, closed by two empty ones. */
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

static int decode_bin_exact(const uint8_t *buf, size_t n, struct header_list *l)
{
	uint8_t *exact = dup_exact(buf, n);
	int rc = headers_decode_bin(slice_make(exact, n), l);

	/* views point into `exact`: move them onto buf before freeing it */
	for (size_t i = 0; i < l->count; i++) {
		l->items[i].name.ptr = (const char *)buf + ((const uint8_t *)l->items[i].name.ptr - exact);
		l->items[i].value.ptr =
			(const char *)buf + ((const uint8_t *)l->items[i].value.ptr - exact);
	}
	free(exact);
	return rc;
}

static int decode_text_exact(const char *blk, size_t n, struct header_list *l)
{
	uint8_t *exact = dup_exact(blk, n);
	int rc = headers_decode_text(slice_make(exact, n), l);

	for (size_t i = 0; i < l->count; i++) {
		l->items[i].name.ptr = blk + ((const uint8_t *)l->items[i].name.ptr - exact);
		l->items[i].value.ptr = blk + ((const uint8_t *)l->items[i].value.ptr - exact);
	}
	free(exact);
	return rc;
}

/* ---- req.hdrs_bin ---- */

static void test_bin_block_decodes_pairs_in_order(void **state)
{
	const char *pairs[] = { "host", "example.com", "x-empty", "", "Accept", "*/*" };
	uint8_t buf[128];
	size_t n = build_bin(buf, sizeof(buf), pairs, 6);
	struct http_header items[8];
	struct header_list l = header_list_init(items, 8);

	assert_int_equal(decode_bin_exact(buf, n, &l), SPOP_OK);
	assert_int_equal(l.count, 3);
	assert_true(slice_eq_cstr(items[0].name, "host"));
	assert_true(slice_eq_cstr(items[0].value, "example.com"));
	assert_true(slice_eq_cstr(items[1].name, "x-empty"));
	assert_int_equal(items[1].value.len, 0);
	assert_true(slice_eq_cstr(items[2].name, "Accept"));
	assert_true(slice_eq_cstr(headers_find(&l, SLICE_LIT("accept"))->value, "*/*"));
	assert_null(headers_find(&l, SLICE_LIT("cookie")));
	/* views into the block, not copies */
	assert_true((const uint8_t *)items[0].name.ptr > buf &&
		    (const uint8_t *)items[0].name.ptr < buf + n);
}

static void test_bin_block_only_terminator_is_empty_list(void **state)
{
	const uint8_t blk[] = { 0, 0 };
	struct http_header items[1];
	struct header_list l = header_list_init(items, 0);

	l.count = 99; /* stale count from an earlier use */
	assert_int_equal(decode_bin_exact(blk, sizeof(blk), &l), SPOP_OK);
	assert_int_equal(l.count, 0);
}

static void test_bin_block_values_keep_spaces_and_binary_bytes(void **state)
{
	const char *pairs[] = { "x-pad", "  both  ", "x-bytes", "\x01\x7f\xc3\xa9\t" };
	uint8_t buf[64];
	size_t n = build_bin(buf, sizeof(buf), pairs, 4);
	struct http_header items[4];
	struct header_list l = header_list_init(items, 4);

	assert_int_equal(decode_bin_exact(buf, n, &l), SPOP_OK);
	assert_int_equal(l.count, 2);
	assert_true(slice_eq_cstr(items[0].value, "  both  "));
	assert_true(slice_eq_cstr(items[1].value, "\x01\x7f\xc3\xa9\t"));
}

static void test_bin_block_long_value_with_multibyte_length(void **state)
{
	static char value[70000];
	static uint8_t buf[70100];
	const char *pairs[] = { "cookie", value };
	struct http_header items[2];
	struct header_list l = header_list_init(items, 2);
	size_t n;

	memset(value, 'c', sizeof(value) - 1);
	value[sizeof(value) - 1] = '\0';
	n = build_bin(buf, sizeof(buf), pairs, 2);
	/* 69999 needs a three-byte varint */
	assert_int_equal(n, 1 + 6 + 3 + 69999 + 2);
	assert_int_equal(decode_bin_exact(buf, n, &l), SPOP_OK);
	assert_int_equal(l.count, 1);
	assert_int_equal(items[0].value.len, 69999);
}

static void test_bin_block_every_prefix_rejected(void **state)
{
	const char *pairs[] = { "host", "example.com", "content-length", "12" };
	uint8_t buf[128];
	size_t n = build_bin(buf, sizeof(buf), pairs, 4);
	struct http_header items[8];
	struct header_list l = header_list_init(items, 8);

	for (size_t cut = 0; cut < n; cut++)
		assert_int_equal(decode_bin_exact(buf, cut, &l), SPOP_E_TRUNCATED);
	assert_int_equal(decode_bin_exact(buf, n, &l), SPOP_OK);
}

static void test_bin_block_limit_is_exact(void **state)
{
	const char *pairs[] = { "a", "1", "b", "2", "c", "3" };
	uint8_t buf[64];
	size_t n = build_bin(buf, sizeof(buf), pairs, 6);
	struct http_header items[3];
	struct header_list l = header_list_init(items, 3);

	assert_int_equal(decode_bin_exact(buf, n, &l), SPOP_OK);
	assert_int_equal(l.count, 3);
	l = header_list_init(items, 2);
	assert_int_equal(decode_bin_exact(buf, n, &l), SPOP_E_TOO_MANY);
	assert_int_equal(l.count, 2);
	l = header_list_init(items, 0);
	assert_int_equal(decode_bin_exact(buf, n, &l), SPOP_E_TOO_MANY);
	assert_int_equal(l.count, 0);
}

static void test_bin_block_malformed_rejected(void **state)
{
	static const struct {
		const char *what;
		uint8_t bytes[24];
		size_t len;
		int rc;
	} cases[] = {
		{ "empty block", { 0 }, 0, SPOP_E_TRUNCATED },
		{ "no terminator", { 1, 'a', 1, 'b' }, 4, SPOP_E_TRUNCATED },
		{ "half a terminator", { 1, 'a', 1, 'b', 0 }, 5, SPOP_E_TRUNCATED },
		{ "value without name", { 0, 1, 'v', 0, 0 }, 5, SPOP_E_SYNTAX },
		{ "bytes after terminator", { 0, 0, 'x' }, 3, SPOP_E_SYNTAX },
		{ "space in name", { 3, 'a', ' ', 'b', 1, 'v', 0, 0 }, 8, SPOP_E_SYNTAX },
		{ "colon in name", { 2, ':', 'a', 1, 'v', 0, 0 }, 7, SPOP_E_SYNTAX },
		{ "CRLF in value", { 1, 'a', 4, 'x', '\r', '\n', 'y', 0, 0 }, 9, SPOP_E_SYNTAX },
		{ "bare LF in value", { 1, 'a', 2, 'x', '\n', 0, 0 }, 7, SPOP_E_SYNTAX },
		{ "NUL in value", { 1, 'a', 2, 'x', '\0', 0, 0 }, 7, SPOP_E_SYNTAX },
		{ "length past end", { 1, 'a', 9, 'v', 0, 0 }, 6, SPOP_E_TRUNCATED },
		{ "over-long length",
		  { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x00 },
		  12,
		  SPOP_E_VARINT },
	};

	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		struct http_header items[4];
		struct header_list l = header_list_init(items, 4);
		int rc = decode_bin_exact(cases[i].bytes, cases[i].len, &l);

		if (rc != cases[i].rc)
			fail_msg("%s: got %d, want %d", cases[i].what, rc, cases[i].rc);
	}
}

/* ---- req.hdrs ---- */

static void test_text_block_decodes_lines_and_trims_values(void **state)
{
	const char blk[] = "Host: example.com\r\nX-A:  spaced \t\r\nX-Empty:\r\n"
			   "X-Port: a:8080\r\n\r\n";
	struct http_header items[8];
	struct header_list l = header_list_init(items, 8);

	assert_int_equal(decode_text_exact(blk, sizeof(blk) - 1, &l), SPOP_OK);
	assert_int_equal(l.count, 4);
	assert_true(slice_eq_cstr(items[0].name, "Host"));
	assert_true(slice_eq_cstr(items[0].value, "example.com"));
	assert_true(slice_eq_cstr(items[1].name, "X-A"));
	assert_true(slice_eq_cstr(items[1].value, "spaced"));
	assert_int_equal(items[2].value.len, 0);
	assert_true(slice_eq_cstr(items[3].value, "a:8080"));
	assert_ptr_equal(headers_find(&l, SLICE_LIT("x-port")), &items[3]);
}

static void test_text_block_bare_lf_and_missing_final_line_tolerated(void **state)
{
	static const struct {
		const char *blk;
		size_t count;
	} cases[] = {
		{ "A: 1\nB: 2\n\n", 2 },
		{ "A: 1\r\nB: 2\n\r\n", 2 },
		{ "A: 1\r\nB: 2\r\n", 2 }, /* no empty line: what is there is complete */
		{ "\r\n", 0 },
		{ "\n", 0 },
		{ "", 0 },
	};

	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		struct http_header items[4];
		struct header_list l = header_list_init(items, 4);

		assert_int_equal(decode_text_exact(cases[i].blk, strlen(cases[i].blk), &l), SPOP_OK);
		assert_int_equal(l.count, cases[i].count);
		if (cases[i].count == 2) {
			assert_true(slice_eq_cstr(items[0].name, "A"));
			assert_true(slice_eq_cstr(items[1].value, "2"));
		}
	}
}

static void test_text_block_token_names_accepted(void **state)
{
	const char blk[] = "!#$%&'*+-.^_`|~09azAZ: v\r\n\r\n";
	struct http_header items[2];
	struct header_list l = header_list_init(items, 2);

	assert_int_equal(decode_text_exact(blk, sizeof(blk) - 1, &l), SPOP_OK);
	assert_int_equal(l.count, 1);
	assert_true(slice_eq_cstr(items[0].name, "!#$%&'*+-.^_`|~09azAZ"));
}

static void test_text_block_rejects_malformed_lines(void **state)
{
	static const struct {
		const char *what;
		const char *blk;
		size_t len;
	} cases[] = {
		{ "no colon", "NoColon\r\n\r\n", 11 },
		{ "empty name", ": novalue\r\n\r\n", 13 },
		{ "space in name", "Bad Name: x\r\n\r\n", 15 },
		{ "space before colon", "Host : x\r\n\r\n", 12 },
		{ "obs-fold continuation", "A: 1\r\n 2\r\n\r\n", 12 },
		{ "last line cut", "Host: cut-without-newline", 25 },
		{ "cut after CR", "Host: a\r", 8 },
		{ "bytes after empty line", "Host: a\r\n\r\ntrailing", 19 },
		{ "CR inside value", "A: x\ry\r\n\r\n", 10 },
		{ "CR CR LF", "A: x\r\r\n\r\n", 9 },
		{ "NUL inside value", "A: x\0y\r\n\r\n", 10 },
		{ "NUL in name", "A\0: x\r\n\r\n", 9 },
		{ "8-bit name", "N\xc3\xa9: x\r\n\r\n", 11 },
	};

	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		struct http_header items[8];
		struct header_list l = header_list_init(items, 8);
		int rc = decode_text_exact(cases[i].blk, cases[i].len, &l);

		if (rc != SPOP_E_SYNTAX)
			fail_msg("%s: got %d, want SPOP_E_SYNTAX", cases[i].what, rc);
	}
}

static void test_text_block_obs_text_value_accepted(void **state)
{
	const char blk[] = "X-Name: Ren\xc3\xa9\tM\r\n\r\n";
	struct http_header items[2];
	struct header_list l = header_list_init(items, 2);

	assert_int_equal(decode_text_exact(blk, sizeof(blk) - 1, &l), SPOP_OK);
	assert_true(slice_eq_cstr(items[0].value, "Ren\xc3\xa9\tM"));
}

static void test_text_block_limit_is_exact(void **state)
{
	const char blk[] = "A: 1\r\nB: 2\r\nC: 3\r\n\r\n";
	struct http_header items[3];
	struct header_list l = header_list_init(items, 3);

	assert_int_equal(decode_text_exact(blk, sizeof(blk) - 1, &l), SPOP_OK);
	assert_int_equal(l.count, 3);
	l = header_list_init(items, 2);
	assert_int_equal(decode_text_exact(blk, sizeof(blk) - 1, &l), SPOP_E_TOO_MANY);
	assert_int_equal(l.count, 2);
}

/* A cut right after a line's LF leaves complete lines (accepted, fewer
 * headers); any other cut leaves a partial line (syntax error). */
static void test_text_block_every_prefix_cut_cleanly(void **state)
{
	const char blk[] = "Host: example.com\r\nAccept: */*\r\nX-B: 1\r\n\r\n";
	size_t n = sizeof(blk) - 1;

	for (size_t cut = 0; cut < n; cut++) {
		struct http_header items[8];
		struct header_list l = header_list_init(items, 8);
		int rc = decode_text_exact(blk, cut, &l);
		size_t lines = 0;

		for (size_t i = 0; i < cut; i++)
			lines += blk[i] == '\n';
		if (cut == 0 || blk[cut - 1] == '\n') {
			assert_int_equal(rc, SPOP_OK);
			assert_int_equal(l.count, lines);
		} else {
			assert_int_equal(rc, SPOP_E_SYNTAX);
		}
	}
}

/* ---- lookup ---- */

static void test_find_is_case_insensitive_and_returns_first(void **state)
{
	const char blk[] = "Cookie: a=1\r\nHost: h\r\ncookie: b=2\r\n\r\n";
	struct http_header items[4];
	struct header_list l = header_list_init(items, 4);
	struct header_list empty = header_list_init(items, 0);

	assert_int_equal(decode_text_exact(blk, sizeof(blk) - 1, &l), SPOP_OK);
	assert_ptr_equal(headers_find(&l, SLICE_LIT("COOKIE")), &items[0]);
	assert_ptr_equal(headers_find(&l, SLICE_LIT("host")), &items[1]);
	assert_null(headers_find(&l, SLICE_LIT("hos")));
	assert_null(headers_find(&l, SLICE_LIT("")));
	assert_null(headers_find(&empty, SLICE_LIT("host")));
}

/* ---- both formats, as they arrive in NOTIFY frames ---- */

static const struct spop_arg *find_arg(const struct spop_message *m, const char *name)
{
	for (unsigned i = 0; i < m->nb_args; i++)
		if (slice_eq_cstr(m->args[i].name, name))
			return &m->args[i];
	return NULL;
}

static void decode_sample_message(enum sample_kind k, uint8_t *buf, struct spop_message *m)
{
	size_t n = sample_build(k, buf, SAMPLE_MAX_LEN), used;
	struct spop_frame f;
	struct spop_message_iter it;

	assert_true(n > 0);
	assert_int_equal(spop_frame_decode(buf, n, SAMPLE_MAX_FRAME_SIZE, &f, &used), SPOP_OK);
	it = spop_message_iter_init(f.payload);
	assert_int_equal(spop_message_next(&it, m), 1);
	assert_true(slice_eq_cstr(m->name, "mirror-request"));
}

static void test_notify_binary_and_text_header_args_agree(void **state)
{
	static uint8_t bin_frame[SAMPLE_MAX_LEN], text_frame[SAMPLE_MAX_LEN];
	static struct spop_message bm, tm;
	const struct spop_arg *ba, *ta;
	struct http_header bi[16], ti[16];
	struct header_list bl = header_list_init(bi, 16), tl = header_list_init(ti, 16);

	decode_sample_message(SAMPLE_NOTIFY_GET_HDRS_BIN, bin_frame, &bm);
	decode_sample_message(SAMPLE_NOTIFY_GET_HDRS_TEXT, text_frame, &tm);
	ba = find_arg(&bm, "headers");
	ta = find_arg(&tm, "headers");
	assert_non_null(ba);
	assert_non_null(ta);
	assert_int_equal(ba->value.type, SPOP_T_BINARY);
	assert_int_equal(ta->value.type, SPOP_T_STRING);
	assert_int_equal(headers_decode_bin(ba->value.u.str, &bl), SPOP_OK);
	assert_int_equal(headers_decode_text(ta->value.u.str, &tl), SPOP_OK);
	assert_int_equal(bl.count, 5);
	assert_int_equal(tl.count, bl.count);
	for (size_t i = 0; i < bl.count; i++) {
		assert_true(slice_case_eq(bi[i].name, ti[i].name));
		assert_int_equal(bi[i].value.len, ti[i].value.len);
		assert_memory_equal(bi[i].value.ptr, ti[i].value.ptr, bi[i].value.len);
	}
	assert_true(slice_eq_cstr(headers_find(&bl, SLICE_LIT("Host"))->value, "www.example.com"));
	assert_true(slice_eq_cstr(headers_find(&tl, SLICE_LIT("Cookie"))->value,
				  "session=abc123; theme=dark"));
}

static void test_notify_post_args_carry_headers_and_body(void **state)
{
	static uint8_t frame[SAMPLE_MAX_LEN];
	static struct spop_message m;
	const struct spop_arg *hdrs, *body, *src;
	struct http_header items[16];
	struct header_list l = header_list_init(items, 16);
	const struct http_header *cl;

	decode_sample_message(SAMPLE_NOTIFY_POST_BODY, frame, &m);
	assert_true(slice_eq_cstr(find_arg(&m, "arg_method")->value.u.str, "POST"));
	assert_true(slice_eq_cstr(find_arg(&m, "arg_path")->value.u.str, "/api/v1/orders?dry_run=1"));
	hdrs = find_arg(&m, "arg_hdrs");
	body = find_arg(&m, "arg_body");
	src = find_arg(&m, "src");
	assert_non_null(hdrs);
	assert_non_null(body);
	assert_non_null(src);
	assert_int_equal(headers_decode_bin(hdrs->value.u.str, &l), SPOP_OK);
	cl = headers_find(&l, SLICE_LIT("Content-Length"));
	assert_non_null(cl);
	assert_true(slice_eq_cstr(cl->value, "26"));
	assert_int_equal(body->value.type, SPOP_T_BINARY);
	assert_int_equal(body->value.u.str.len, 26);
	assert_int_equal(src->value.type, SPOP_T_IPV4);
	assert_memory_equal(src->value.u.ipv4, ((const uint8_t[]){ 192, 0, 2, 17 }), 4);
}

static void test_sample_header_blocks_decode_in_both_formats(void **state)
{
	uint8_t bin[512], text[512];
	size_t nb = sample_header_block(true, bin, sizeof(bin));
	size_t nt = sample_header_block(false, text, sizeof(text));
	struct http_header bi[8], ti[8];
	struct header_list bl = header_list_init(bi, 8), tl = header_list_init(ti, 8);

	assert_true(nb > 0 && nt > 0);
	assert_int_equal(decode_bin_exact(bin, nb, &bl), SPOP_OK);
	assert_int_equal(decode_text_exact((const char *)text, nt, &tl), SPOP_OK);
	assert_int_equal(bl.count, 5);
	assert_int_equal(tl.count, 5);
	assert_true(slice_eq_cstr(headers_find(&tl, SLICE_LIT("authorization"))->value,
				  "Bearer eyJhbGciOiJIUzI1NiJ9.e30.x"));
	/* the sample builders refuse a buffer that is too small */
	assert_int_equal(sample_header_block(true, bin, 10), 0);
	assert_int_equal(sample_header_block(false, text, 10), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bin_block_decodes_pairs_in_order),
		cmocka_unit_test(test_bin_block_only_terminator_is_empty_list),
		cmocka_unit_test(test_bin_block_values_keep_spaces_and_binary_bytes),
		cmocka_unit_test(test_bin_block_long_value_with_multibyte_length),
		cmocka_unit_test(test_bin_block_every_prefix_rejected),
		cmocka_unit_test(test_bin_block_limit_is_exact),
		cmocka_unit_test(test_bin_block_malformed_rejected),
		cmocka_unit_test(test_text_block_decodes_lines_and_trims_values),
		cmocka_unit_test(test_text_block_bare_lf_and_missing_final_line_tolerated),
		cmocka_unit_test(test_text_block_token_names_accepted),
		cmocka_unit_test(test_text_block_rejects_malformed_lines),
		cmocka_unit_test(test_text_block_obs_text_value_accepted),
		cmocka_unit_test(test_text_block_limit_is_exact),
		cmocka_unit_test(test_text_block_every_prefix_cut_cleanly),
		cmocka_unit_test(test_find_is_case_insensitive_and_returns_first),
		cmocka_unit_test(test_notify_binary_and_text_header_args_agree),
		cmocka_unit_test(test_notify_post_args_carry_headers_and_body),
		cmocka_unit_test(test_sample_header_blocks_decode_in_both_formats),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

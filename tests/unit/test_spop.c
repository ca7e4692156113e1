/* Unit tests for src/spop.c: varints, typed data, KV items, NOTIFY messages,
 * ACK actions, frames, HELLO and DISCONNECT, the encoders, and robustness:
 * every prefix of every sample stream and seeded random corruption.
 * Decoders read from allocations of exactly the input's size, so a build
 * with --enable-sanitizers catches any read past the end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../fuzz/decode_all.h"
#include "../fuzz/sample_frames.h"
#include "spop.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* ---- helpers ---- */

/* A heap copy of exactly n bytes (ASan then flags any over-read). */
static uint8_t *dup_exact(const void *p, size_t n)
{
	uint8_t *q = malloc(n ? n : 1);

	assert_non_null(q);
	if (n)
		memcpy(q, p, n);
	return q;
}

/* xorshift64*: a fixed seed makes every run see the same inputs. */
static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ull;
}

static uint8_t sample_buf[SAMPLE_MAX_LEN];

static size_t build_sample(enum sample_kind k)
{
	size_t n = sample_build(k, sample_buf, sizeof(sample_buf));

	assert_true(n > 0);
	return n;
}

static int decode_frame(const uint8_t *buf, size_t len, struct spop_frame *f, size_t *used)
{
	return spop_frame_decode(buf, len, SAMPLE_MAX_FRAME_SIZE, f, used);
}

static struct slice kv_payload(struct spop_writer *w)
{
	assert_false(w->overflow);
	return slice_make(w->buf, w->len);
}

/* ---- varint ---- */

static void test_varint_known_vector_16380(void **state)
{
	uint8_t out[SPOP_VARINT_MAX];
	const uint8_t want[] = { 0xFC, 0xF0, 0x06 };
	const uint8_t *p = want;
	uint64_t v = 0;

	assert_int_equal(spop_varint_encode(16380, out), 3);
	assert_memory_equal(out, want, 3);
	assert_int_equal(spop_varint_decode(&p, want + 3, &v), SPOP_OK);
	assert_int_equal(v, 16380);
	assert_ptr_equal(p, want + 3);
}

static void test_varint_boundaries_round_trip_with_expected_lengths(void **state)
{
	static const struct {
		uint64_t v;
		size_t len;
	} cases[] = {
		{ 0, 1 },
		{ 239, 1 },
		{ 240, 2 },
		{ 2287, 2 },
		{ 2288, 3 },
		{ 264431, 3 },
		{ 264432, 4 },
		{ 33818863, 4 },
		{ 33818864, 5 },
		{ UINT32_MAX, 5 },
		{ UINT64_MAX, 10 },
	};

	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		uint8_t buf[SPOP_VARINT_MAX];
		size_t n = spop_varint_encode(cases[i].v, buf);
		uint8_t *exact = dup_exact(buf, n);
		const uint8_t *p = exact;
		uint64_t v = 0;

		assert_int_equal(n, cases[i].len);
		assert_int_equal(spop_varint_decode(&p, exact + n, &v), SPOP_OK);
		assert_true(v == cases[i].v);
		assert_ptr_equal(p, exact + n);
		free(exact);
		/* every strict prefix is truncated and leaves the cursor alone */
		for (size_t cut = 0; cut < n; cut++) {
			exact = dup_exact(buf, cut);
			p = exact;
			assert_int_equal(spop_varint_decode(&p, exact + cut, &v), SPOP_E_TRUNCATED);
			assert_ptr_equal(p, exact);
			free(exact);
		}
	}
}

/* Bytes worked out by hand from the SPOE.txt algorithm: the largest value
 * of each length ends in 0x7F, the smallest of the next starts F0 80.. 00. */
static void test_varint_boundary_bytes_follow_the_spec(void **state)
{
	static const struct {
		uint64_t v;
		uint8_t bytes[SPOP_VARINT_MAX];
		size_t len;
	} cases[] = {
		{ 0, { 0x00 }, 1 },
		{ 239, { 0xEF }, 1 },
		{ 240, { 0xF0, 0x00 }, 2 },
		{ 2287, { 0xFF, 0x7F }, 2 },
		{ 2288, { 0xF0, 0x80, 0x00 }, 3 },
		{ 264431, { 0xFF, 0xFF, 0x7F }, 3 },
		{ 264432, { 0xF0, 0x80, 0x80, 0x00 }, 4 },
		{ 33818863, { 0xFF, 0xFF, 0xFF, 0x7F }, 4 },
		{ 33818864, { 0xF0, 0x80, 0x80, 0x80, 0x00 }, 5 },
		{ UINT32_MAX, { 0xFF, 0xF0, 0xFE, 0xFE, 0x7E }, 5 },
		{ UINT64_MAX, { 0xFF, 0xF0, 0xFE, 0xFE, 0xFE, 0xFE, 0xFE, 0xFE, 0xFE, 0x0E }, 10 },
	};

	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		uint8_t out[SPOP_VARINT_MAX];
		const uint8_t *p = cases[i].bytes;
		uint64_t v = 0;

		assert_int_equal(spop_varint_encode(cases[i].v, out), cases[i].len);
		assert_memory_equal(out, cases[i].bytes, cases[i].len);
		assert_int_equal(spop_varint_decode(&p, cases[i].bytes + cases[i].len, &v), SPOP_OK);
		assert_true(v == cases[i].v);
	}
}

/* Length from counting alone: 240 one-byte values, then 2^(4+7(k-1))
 * values of k bytes (16 from the first byte times 128 per extra byte). */
static size_t expected_varint_len(uint64_t v)
{
	uint64_t first_of_next = 240;
	size_t len = 1;

	while (len < 10 && v >= first_of_next) {
		len++;
		if (len < 10)
			first_of_next += 1ull << (4 + 7 * (len - 1));
	}
	return len;
}

static void test_varint_random_values_round_trip(void **state)
{
	uint64_t seed = 0x5e3d0c0de;

	/* the counting argument agrees with the fixed boundaries */
	assert_int_equal(expected_varint_len(239), 1);
	assert_int_equal(expected_varint_len(240), 2);
	assert_int_equal(expected_varint_len(33818863), 4);
	assert_int_equal(expected_varint_len(33818864), 5);
	assert_int_equal(expected_varint_len(UINT32_MAX), 5);
	assert_int_equal(expected_varint_len(UINT64_MAX), 10);
	for (int i = 0; i < 200000; i++) {
		uint64_t r = rng_next(&seed);
		uint64_t v = r >> (r % 64); /* spread over every length */
		uint8_t buf[SPOP_VARINT_MAX];
		size_t n = spop_varint_encode(v, buf);
		const uint8_t *p = buf;
		uint64_t back;

		assert_int_equal(spop_varint_decode(&p, buf + n, &back), SPOP_OK);
		assert_true(back == v);
		assert_ptr_equal(p, buf + n);
		assert_int_equal(n, expected_varint_len(v));
	}
}

static void test_varint_truncated_shapes_rejected(void **state)
{
	static const struct {
		uint8_t bytes[SPOP_VARINT_MAX];
		size_t len;
	} cases[] = {
		{ { 0 }, 0 },
		{ { 0xF0 }, 1 },
		{ { 0xFF }, 1 },
		{ { 0xF0, 0x80 }, 2 },
		{ { 0xFF, 0xFF, 0xFF }, 3 },
		{ { 0xF5, 0x80, 0x80, 0x80 }, 4 },
		{ { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF }, 9 },
	};

	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		uint8_t *exact = dup_exact(cases[i].bytes, cases[i].len);
		const uint8_t *p = exact;
		uint64_t v = 0xAAAA;

		assert_int_equal(spop_varint_decode(&p, exact + cases[i].len, &v), SPOP_E_TRUNCATED);
		assert_ptr_equal(p, exact);
		assert_int_equal(v, 0xAAAA);
		free(exact);
	}
}

static void test_varint_over_long_rejected(void **state)
{
	static const struct {
		uint8_t bytes[16];
		size_t len;
	} cases[] = {
		/* continuation forever: an 11th byte would be needed */
		{ { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
		    0xFF, 0xFF },
		  16 },
		/* ten bytes, the last still announcing more */
		{ { 0xF0, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00 }, 11 },
		/* the tenth byte carries bits above bit 63 */
		{ { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F }, 10 },
		{ { 0xF0, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10 }, 10 },
		/* UINT64_MAX is FF F0 FE.. 0E: one more in the last byte wraps */
		{ { 0xFF, 0xF0, 0xFE, 0xFE, 0xFE, 0xFE, 0xFE, 0xFE, 0xFE, 0x0F }, 10 },
		{ { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F }, 10 },
	};

	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		uint8_t *exact = dup_exact(cases[i].bytes, cases[i].len);
		const uint8_t *p = exact;
		uint64_t v = 7;

		assert_int_equal(spop_varint_decode(&p, exact + cases[i].len, &v), SPOP_E_VARINT);
		assert_ptr_equal(p, exact);
		assert_int_equal(v, 7);
		free(exact);
	}
	/* every tenth byte from 16 up overflows, whatever came before */
	for (unsigned last = 16; last < 256; last++) {
		uint8_t b[10] = { 0xF0, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, (uint8_t)last };
		const uint8_t *p = b;
		uint64_t v;

		assert_int_equal(spop_varint_decode(&p, b + 10, &v), SPOP_E_VARINT);
	}
}

/* ---- typed data ---- */

static void round_trip_value(const struct spop_value *in, struct spop_value *out)
{
	uint8_t buf[64];
	struct spop_writer w = spop_writer_init(buf, sizeof(buf));
	uint8_t *exact;
	const uint8_t *p;

	spop_put_value(&w, in);
	assert_false(w.overflow);
	exact = dup_exact(buf, w.len);
	p = exact;
	assert_int_equal(spop_value_decode(&p, exact + w.len, out), SPOP_OK);
	assert_ptr_equal(p, exact + w.len);
	if (out->type == SPOP_T_STRING || out->type == SPOP_T_BINARY)
		out->u.str.ptr = (const char *)buf + ((const uint8_t *)out->u.str.ptr - exact);
	free(exact);
	for (size_t cut = 0; cut < w.len; cut++) {
		struct spop_value tmp;

		p = buf;
		assert_int_equal(spop_value_decode(&p, buf + cut, &tmp), SPOP_E_TRUNCATED);
		assert_ptr_equal(p, buf);
	}
}

static void test_value_all_ten_types_round_trip(void **state)
{
	struct spop_value in, out;

	in = (struct spop_value){ .type = SPOP_T_NULL };
	round_trip_value(&in, &out);
	assert_int_equal(out.type, SPOP_T_NULL);

	in = spop_bool_value(true);
	round_trip_value(&in, &out);
	assert_int_equal(out.type, SPOP_T_BOOL);
	assert_true(out.u.b);
	in = spop_bool_value(false);
	round_trip_value(&in, &out);
	assert_false(out.u.b);

	in = (struct spop_value){ .type = SPOP_T_INT32, .u.i32 = -123456 };
	round_trip_value(&in, &out);
	assert_int_equal(out.type, SPOP_T_INT32);
	assert_int_equal(out.u.i32, -123456);

	in = spop_u32_value(UINT32_MAX);
	round_trip_value(&in, &out);
	assert_int_equal(out.type, SPOP_T_UINT32);
	assert_true(out.u.u32 == UINT32_MAX);

	in = (struct spop_value){ .type = SPOP_T_INT64, .u.i64 = INT64_MIN };
	round_trip_value(&in, &out);
	assert_int_equal(out.type, SPOP_T_INT64);
	assert_true(out.u.i64 == INT64_MIN);

	in = (struct spop_value){ .type = SPOP_T_UINT64, .u.u64 = UINT64_MAX };
	round_trip_value(&in, &out);
	assert_int_equal(out.type, SPOP_T_UINT64);
	assert_true(out.u.u64 == UINT64_MAX);

	in = (struct spop_value){ .type = SPOP_T_IPV4, .u.ipv4 = { 10, 1, 2, 3 } };
	round_trip_value(&in, &out);
	assert_int_equal(out.type, SPOP_T_IPV4);
	assert_memory_equal(out.u.ipv4, in.u.ipv4, 4);

	in = (struct spop_value){ .type = SPOP_T_IPV6 };
	for (int i = 0; i < 16; i++)
		in.u.ipv6[i] = (uint8_t)(i * 7);
	round_trip_value(&in, &out);
	assert_int_equal(out.type, SPOP_T_IPV6);
	assert_memory_equal(out.u.ipv6, in.u.ipv6, 16);

	in = spop_str_value(SLICE_LIT("hello"));
	round_trip_value(&in, &out);
	assert_int_equal(out.type, SPOP_T_STRING);
	assert_int_equal(out.u.str.len, 5);
	assert_memory_equal(out.u.str.ptr, "hello", 5);

	in = spop_bin_value(slice_make("\0\1\2", 3));
	round_trip_value(&in, &out);
	assert_int_equal(out.type, SPOP_T_BINARY);
	assert_int_equal(out.u.str.len, 3);
	assert_memory_equal(out.u.str.ptr, "\0\1\2", 3);

	in = spop_str_value(SLICE_LIT(""));
	round_trip_value(&in, &out);
	assert_int_equal(out.type, SPOP_T_STRING);
	assert_int_equal(out.u.str.len, 0);
}

static void expect_encoding(const struct spop_value *v, const uint8_t *want, size_t n)
{
	uint8_t buf[64];
	struct spop_writer w = spop_writer_init(buf, sizeof(buf));

	spop_put_value(&w, v);
	assert_false(w.overflow);
	assert_int_equal(w.len, n);
	assert_memory_equal(buf, want, n);
}

static void test_value_encoded_bytes_follow_the_spec(void **state)
{
	struct spop_value v;

	v = (struct spop_value){ .type = SPOP_T_NULL };
	expect_encoding(&v, (const uint8_t[]){ 0x00 }, 1);
	v = spop_bool_value(true);
	expect_encoding(&v, (const uint8_t[]){ 0x11 }, 1);
	v = spop_bool_value(false);
	expect_encoding(&v, (const uint8_t[]){ 0x01 }, 1);
	v = spop_u32_value(16380);
	expect_encoding(&v, (const uint8_t[]){ 0x03, 0xFC, 0xF0, 0x06 }, 4);
	v = (struct spop_value){ .type = SPOP_T_INT32, .u.i32 = -1 };
	expect_encoding(&v,
			(const uint8_t[]){ 0x02, 0xFF, 0xF0, 0xFE, 0xFE, 0xFE, 0xFE, 0xFE, 0xFE, 0xFE,
					   0x0E },
			11);
	v = (struct spop_value){ .type = SPOP_T_UINT64, .u.u64 = 5 };
	expect_encoding(&v, (const uint8_t[]){ 0x05, 0x05 }, 2);
	v = (struct spop_value){ .type = SPOP_T_IPV4, .u.ipv4 = { 127, 0, 0, 1 } };
	expect_encoding(&v, (const uint8_t[]){ 0x06, 127, 0, 0, 1 }, 5);
	v = spop_str_value(SLICE_LIT("ab"));
	expect_encoding(&v, (const uint8_t[]){ 0x08, 0x02, 'a', 'b' }, 4);
	v = spop_bin_value(slice_make("\xff", 1));
	expect_encoding(&v, (const uint8_t[]){ 0x09, 0x01, 0xFF }, 3);
}

static void test_value_bool_is_flag_bit_zero(void **state)
{
	static const struct {
		uint8_t tag;
		bool value;
	} cases[] = {
		{ 0x11, true }, { 0x01, false }, { 0x31, true }, { 0x21, false }, { 0xF1, true }, { 0xE1, false },
	};

	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		const uint8_t *p = &cases[i].tag;
		struct spop_value v;

		assert_int_equal(spop_value_decode(&p, &cases[i].tag + 1, &v), SPOP_OK);
		assert_int_equal(v.type, SPOP_T_BOOL);
		assert_int_equal(v.u.b, cases[i].value);
		assert_ptr_equal(p, &cases[i].tag + 1);
	}
}

/* HAProxy writes a signed integer as the varint of its 64-bit two's
 * complement, so every negative INT32 takes ten bytes. */
static void test_value_int32_negative_as_haproxy_sends_them(void **state)
{
	static const int64_t values[] = { -1, -2, -240, -123456789, INT32_MIN, 0, 1, INT32_MAX };

	for (size_t i = 0; i < N_ELEMS(values); i++) {
		uint8_t buf[1 + SPOP_VARINT_MAX];
		size_t n;
		uint8_t *exact;
		const uint8_t *p;
		struct spop_value v;

		buf[0] = SPOP_T_INT32;
		n = 1 + spop_varint_encode((uint64_t)values[i], buf + 1);
		if (values[i] < 0)
			assert_int_equal(n, 11);
		exact = dup_exact(buf, n);
		p = exact;
		assert_int_equal(spop_value_decode(&p, exact + n, &v), SPOP_OK);
		assert_int_equal(v.type, SPOP_T_INT32);
		assert_int_equal(v.u.i32, values[i]);
		assert_ptr_equal(p, exact + n);
		free(exact);
	}
}

static void expect_range_error(uint8_t type, uint64_t raw)
{
	uint8_t buf[1 + SPOP_VARINT_MAX];
	size_t n;
	const uint8_t *p = buf;
	struct spop_value v;

	buf[0] = type;
	n = 1 + spop_varint_encode(raw, buf + 1);
	assert_int_equal(spop_value_decode(&p, buf + n, &v), SPOP_E_RANGE);
	assert_ptr_equal(p, buf);
}

static void test_value_integer_out_of_range_rejected(void **state)
{
	expect_range_error(SPOP_T_INT32, (uint64_t)INT32_MAX + 1);
	expect_range_error(SPOP_T_INT32, (uint64_t)((int64_t)INT32_MIN - 1));
	expect_range_error(SPOP_T_INT32, UINT32_MAX);
	expect_range_error(SPOP_T_INT32, (uint64_t)INT64_MIN);
	expect_range_error(SPOP_T_UINT32, (uint64_t)UINT32_MAX + 1);
	expect_range_error(SPOP_T_UINT32, UINT64_MAX);
	assert_int_equal(spop_status_for(SPOP_E_RANGE), SPOP_STATUS_INVALID);
}

static void test_value_64_bit_extremes_decode(void **state)
{
	struct spop_value in, out;

	in = (struct spop_value){ .type = SPOP_T_INT64, .u.i64 = INT64_MAX };
	round_trip_value(&in, &out);
	assert_true(out.u.i64 == INT64_MAX);
	in = (struct spop_value){ .type = SPOP_T_INT64, .u.i64 = -1 };
	round_trip_value(&in, &out);
	assert_true(out.u.i64 == -1);
	in = (struct spop_value){ .type = SPOP_T_UINT64, .u.u64 = 0 };
	round_trip_value(&in, &out);
	assert_true(out.u.u64 == 0);
	in = (struct spop_value){ .type = SPOP_T_UINT32, .u.u32 = 0 };
	round_trip_value(&in, &out);
	assert_true(out.u.u32 == 0);
}

static void test_value_reserved_types_rejected_whatever_the_flags(void **state)
{
	for (unsigned flags = 0; flags < 16; flags++) {
		for (uint8_t t = 10; t <= 15; t++) {
			uint8_t buf[4] = { (uint8_t)(flags << 4 | t), 1, 1, 1 };
			const uint8_t *p = buf;
			struct spop_value v;

			assert_int_equal(spop_value_decode(&p, buf + 4, &v), SPOP_E_TYPE);
			assert_ptr_equal(p, buf);
		}
	}
}

static void test_value_type_is_the_low_nibble(void **state)
{
	const uint8_t str[] = { 0x98, 0x02, 'o', 'k' };
	const uint8_t u32[] = { 0x73, 0x05 };
	const uint8_t *p = str;
	struct spop_value v;

	assert_int_equal(spop_value_decode(&p, str + sizeof(str), &v), SPOP_OK);
	assert_int_equal(v.type, SPOP_T_STRING);
	assert_true(slice_eq_cstr(v.u.str, "ok"));
	p = u32;
	assert_int_equal(spop_value_decode(&p, u32 + sizeof(u32), &v), SPOP_OK);
	assert_int_equal(v.type, SPOP_T_UINT32);
	assert_int_equal(v.u.u32, 5);
}

static void test_value_cut_or_oversized_payloads_rejected(void **state)
{
	static const struct {
		uint8_t bytes[20];
		size_t len;
		int rc;
	} cases[] = {
		{ { SPOP_T_STRING, 10, 'a', 'b' }, 4, SPOP_E_TRUNCATED },
		{ { SPOP_T_BINARY, 1 }, 2, SPOP_E_TRUNCATED },
		{ { SPOP_T_STRING }, 1, SPOP_E_TRUNCATED },
		/* a length of UINT64_MAX must not wrap the end pointer */
		{ { SPOP_T_BINARY, 0xFF, 0xF0, 0xFE, 0xFE, 0xFE, 0xFE, 0xFE, 0xFE, 0xFE, 0x0E, 'x' },
		  12, SPOP_E_TRUNCATED },
		{ { SPOP_T_STRING, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01 },
		  12, SPOP_E_VARINT },
		{ { SPOP_T_UINT64, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01 },
		  12, SPOP_E_VARINT },
		{ { SPOP_T_IPV4, 1, 2, 3 }, 4, SPOP_E_TRUNCATED },
		{ { SPOP_T_IPV6, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 }, 16, SPOP_E_TRUNCATED },
		{ { SPOP_T_INT32, 0xF0 }, 2, SPOP_E_TRUNCATED },
		{ { SPOP_T_INT64 }, 1, SPOP_E_TRUNCATED },
	};

	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		uint8_t *exact = dup_exact(cases[i].bytes, cases[i].len);
		const uint8_t *p = exact;
		struct spop_value v;

		assert_int_equal(spop_value_decode(&p, exact + cases[i].len, &v), cases[i].rc);
		assert_ptr_equal(p, exact);
		free(exact);
	}
}

static void test_value_as_u64_accepts_only_non_negative_integers(void **state)
{
	struct spop_value v;
	uint64_t n = 0;

	v = (struct spop_value){ .type = SPOP_T_INT32, .u.i32 = 16380 };
	assert_true(spop_value_as_u64(&v, &n));
	assert_int_equal(n, 16380);
	v.u.i32 = -1;
	assert_false(spop_value_as_u64(&v, &n));
	v = spop_u32_value(UINT32_MAX);
	assert_true(spop_value_as_u64(&v, &n));
	assert_true(n == UINT32_MAX);
	v = (struct spop_value){ .type = SPOP_T_INT64, .u.i64 = INT64_MAX };
	assert_true(spop_value_as_u64(&v, &n));
	assert_true(n == INT64_MAX);
	v.u.i64 = INT64_MIN;
	assert_false(spop_value_as_u64(&v, &n));
	v = (struct spop_value){ .type = SPOP_T_UINT64, .u.u64 = UINT64_MAX };
	assert_true(spop_value_as_u64(&v, &n));
	assert_true(n == UINT64_MAX);
	v = spop_str_value(SLICE_LIT("12"));
	assert_false(spop_value_as_u64(&v, &n));
	v = spop_bool_value(true);
	assert_false(spop_value_as_u64(&v, &n));
	v = (struct spop_value){ .type = SPOP_T_NULL };
	assert_false(spop_value_as_u64(&v, &n));
}

/* ---- KV items ---- */

static void test_kv_items_walk_to_the_end(void **state)
{
	uint8_t buf[128];
	struct spop_writer w = spop_writer_init(buf, sizeof(buf));
	struct spop_value v;
	struct spop_kv kv;
	const uint8_t *p = buf, *end;

	v = spop_str_value(SLICE_LIT("b"));
	spop_put_kv(&w, "a", &v);
	v = spop_u32_value(9);
	spop_put_kv(&w, "", &v);
	v = (struct spop_value){ .type = SPOP_T_NULL };
	spop_put_kv(&w, "n", &v);
	end = buf + w.len;
	assert_int_equal(spop_kv_decode(&p, end, &kv), SPOP_OK);
	assert_true(slice_eq_cstr(kv.name, "a"));
	assert_true(slice_eq_cstr(kv.value.u.str, "b"));
	assert_ptr_equal(p, buf + 5);
	assert_int_equal(spop_kv_decode(&p, end, &kv), SPOP_OK);
	assert_int_equal(kv.name.len, 0);
	assert_int_equal(kv.value.u.u32, 9);
	assert_int_equal(spop_kv_decode(&p, end, &kv), SPOP_OK);
	assert_int_equal(kv.value.type, SPOP_T_NULL);
	assert_ptr_equal(p, end);
	assert_int_equal(spop_kv_decode(&p, end, &kv), SPOP_E_TRUNCATED);
	assert_ptr_equal(p, end);
}

static void test_kv_cut_item_leaves_cursor(void **state)
{
	static const struct {
		uint8_t bytes[8];
		size_t len;
		int rc;
	} cases[] = {
		{ { 3, 'a', 'b' }, 3, SPOP_E_TRUNCATED },         /* name cut */
		{ { 1, 'a' }, 2, SPOP_E_TRUNCATED },              /* no value */
		{ { 1, 'a', SPOP_T_UINT32 }, 3, SPOP_E_TRUNCATED }, /* value cut */
		{ { 1, 'a', 0x0C }, 3, SPOP_E_TYPE },
		{ { 0xF0 }, 1, SPOP_E_TRUNCATED },
	};

	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		uint8_t *exact = dup_exact(cases[i].bytes, cases[i].len);
		const uint8_t *p = exact;
		struct spop_kv kv;

		assert_int_equal(spop_kv_decode(&p, exact + cases[i].len, &kv), cases[i].rc);
		assert_ptr_equal(p, exact);
		free(exact);
	}
}

/* ---- NOTIFY messages ---- */

static size_t make_notify(uint8_t *buf, size_t cap, uint64_t sid, uint64_t fid)
{
	struct spop_writer w = spop_writer_init(buf, cap);
	size_t start = spop_frame_begin(&w, SPOP_FRAME_NOTIFY, SPOP_FLAG_FIN, sid, fid);
	struct spop_value v;

	spop_put_string(&w, SLICE_LIT("mirror-request"));
	spop_put_u8(&w, 3);
	v = spop_str_value(SLICE_LIT("POST"));
	spop_put_kv(&w, "method", &v);
	v = spop_str_value(SLICE_LIT("/api/v1?x=1"));
	spop_put_kv(&w, "", &v);
	v = spop_bin_value(SLICE_LIT("{\"a\":1}"));
	spop_put_kv(&w, "body", &v);
	spop_frame_end(&w, start);
	assert_false(w.overflow);
	return w.len;
}

static void test_frame_notify_decodes_ids_flags_and_messages(void **state)
{
	uint8_t buf[256];
	size_t n = make_notify(buf, sizeof(buf), 1234567, 42), used = 0;
	struct spop_frame f;
	static struct spop_message m;
	struct spop_message_iter it;

	assert_int_equal(spop_frame_decode(buf, n, 16380, &f, &used), SPOP_OK);
	assert_int_equal(used, n);
	assert_int_equal(f.type, SPOP_FRAME_NOTIFY);
	assert_int_equal(f.flags, SPOP_FLAG_FIN);
	assert_int_equal(f.stream_id, 1234567);
	assert_int_equal(f.frame_id, 42);

	it = spop_message_iter_init(f.payload);
	assert_int_equal(spop_message_next(&it, &m), 1);
	assert_true(slice_eq_cstr(m.name, "mirror-request"));
	assert_int_equal(m.nb_args, 3);
	assert_true(slice_eq_cstr(m.args[0].name, "method"));
	assert_true(slice_eq_cstr(m.args[0].value.u.str, "POST"));
	assert_int_equal(m.args[1].name.len, 0);
	assert_true(slice_eq_cstr(m.args[1].value.u.str, "/api/v1?x=1"));
	assert_int_equal(m.args[2].value.type, SPOP_T_BINARY);
	/* args are views into the frame, not copies */
	assert_true((const uint8_t *)m.args[2].value.u.str.ptr > buf &&
		    (const uint8_t *)m.args[2].value.u.str.ptr < buf + n);
	assert_int_equal(spop_message_next(&it, &m), 0);
	assert_int_equal(spop_message_next(&it, &m), 0);
}

static void test_notify_several_messages_in_one_payload(void **state)
{
	size_t n = build_sample(SAMPLE_NOTIFY_UNNAMED_ARGS), used;
	struct spop_frame f;
	static struct spop_message m;
	struct spop_message_iter it;

	assert_int_equal(decode_frame(sample_buf, n, &f, &used), SPOP_OK);
	assert_int_equal(used, n);
	it = spop_message_iter_init(f.payload);

	assert_int_equal(spop_message_next(&it, &m), 1);
	assert_true(slice_eq_cstr(m.name, "mirror-request"));
	assert_int_equal(m.nb_args, 3);
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(m.args[i].name.len, 0);
	assert_true(slice_eq_cstr(m.args[0].value.u.str, "DELETE"));
	assert_true(slice_eq_cstr(m.args[1].value.u.str, "/items/42"));

	assert_int_equal(spop_message_next(&it, &m), 1);
	assert_true(slice_eq_cstr(m.name, "check-client"));
	assert_int_equal(m.nb_args, 3);
	assert_int_equal(m.args[0].value.type, SPOP_T_BOOL);
	assert_true(m.args[0].value.u.b);
	assert_int_equal(m.args[1].value.type, SPOP_T_INT32);
	assert_int_equal(m.args[1].value.u.i32, -1);
	assert_int_equal(m.args[2].value.type, SPOP_T_NULL);

	assert_int_equal(spop_message_next(&it, &m), 1);
	assert_true(slice_eq_cstr(m.name, "noop"));
	assert_int_equal(m.nb_args, 0);

	assert_int_equal(spop_message_next(&it, &m), 0);
}

static void test_notify_message_with_255_args_all_decoded(void **state)
{
	static uint8_t buf[8192];
	static struct spop_message m;
	struct spop_writer w = spop_writer_init(buf, sizeof(buf));
	struct spop_message_iter it;
	char name[8];

	spop_put_string(&w, SLICE_LIT("wide"));
	spop_put_u8(&w, 255);
	for (unsigned i = 0; i < 255; i++) {
		struct spop_value v = { .type = (enum spop_type)(i % 10) };

		switch (v.type) {
		case SPOP_T_BOOL: v.u.b = i & 1; break;
		case SPOP_T_INT32: v.u.i32 = -(int32_t)i; break;
		case SPOP_T_UINT32: v.u.u32 = i * 1000u; break;
		case SPOP_T_INT64: v.u.i64 = -(int64_t)i * 100000000; break;
		case SPOP_T_UINT64: v.u.u64 = (uint64_t)i << 40; break;
		case SPOP_T_IPV4: v.u.ipv4[3] = (uint8_t)i; break;
		case SPOP_T_IPV6: v.u.ipv6[15] = (uint8_t)i; break;
		case SPOP_T_STRING:
		case SPOP_T_BINARY: v.u.str = slice_make("0123456789", i % 11); break;
		default: break;
		}
		snprintf(name, sizeof(name), "a%u", i);
		spop_put_kv(&w, name, &v);
	}
	assert_false(w.overflow);
	it = spop_message_iter_init(slice_make(buf, w.len));
	assert_int_equal(spop_message_next(&it, &m), 1);
	assert_int_equal(m.nb_args, 255);
	for (unsigned i = 0; i < 255; i++) {
		const struct spop_value *v = &m.args[i].value;

		snprintf(name, sizeof(name), "a%u", i);
		assert_true(slice_eq_cstr(m.args[i].name, name));
		assert_int_equal(v->type, i % 10);
		switch (v->type) {
		case SPOP_T_BOOL: assert_int_equal(v->u.b, i & 1); break;
		case SPOP_T_INT32: assert_int_equal(v->u.i32, -(int32_t)i); break;
		case SPOP_T_UINT32: assert_int_equal(v->u.u32, i * 1000u); break;
		case SPOP_T_INT64: assert_true(v->u.i64 == -(int64_t)i * 100000000); break;
		case SPOP_T_UINT64: assert_true(v->u.u64 == (uint64_t)i << 40); break;
		case SPOP_T_IPV4: assert_int_equal(v->u.ipv4[3], (uint8_t)i); break;
		case SPOP_T_IPV6: assert_int_equal(v->u.ipv6[15], (uint8_t)i); break;
		case SPOP_T_STRING:
		case SPOP_T_BINARY: assert_int_equal(v->u.str.len, i % 11); break;
		default: break;
		}
	}
	assert_int_equal(spop_message_next(&it, &m), 0);
}

static void test_notify_malformed_messages_rejected_without_advancing(void **state)
{
	static const struct {
		uint8_t bytes[24];
		size_t len;
		int rc;
	} cases[] = {
		{ { 5, 'm', 's', 'g' }, 4, SPOP_E_TRUNCATED },                   /* name cut */
		{ { 3, 'm', 's', 'g' }, 4, SPOP_E_TRUNCATED },                   /* no nb-args */
		{ { 1, 'm', 2, 1, 'a', SPOP_T_NULL }, 6, SPOP_E_TRUNCATED },     /* 2 args announced, 1 sent */
		{ { 1, 'm', 1, 1, 'a' }, 5, SPOP_E_TRUNCATED },                  /* arg without value */
		{ { 1, 'm', 1, 1, 'a', 0x0B }, 6, SPOP_E_TYPE },                 /* reserved type */
		{ { 1, 'm', 1, 0, SPOP_T_UINT32, 0xF0, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
		    0x80, 0x00 },
		  16, SPOP_E_VARINT },
		{ { 1, 'm', 1, 0, SPOP_T_UINT32, 0xF0, 0x80, 0x80, 0x80, 0x80, 0x01 }, 11, SPOP_E_RANGE },
		{ { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF }, 11, SPOP_E_VARINT },
	};

	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		uint8_t *exact = dup_exact(cases[i].bytes, cases[i].len);
		struct spop_message_iter it = spop_message_iter_init(slice_make(exact, cases[i].len));
		static struct spop_message m;

		assert_int_equal(spop_message_next(&it, &m), cases[i].rc);
		assert_ptr_equal(it.p, exact);
		/* the iterator stays on the bad message: the error repeats */
		assert_int_equal(spop_message_next(&it, &m), cases[i].rc);
		free(exact);
	}
}

static void test_notify_empty_payload_has_no_messages(void **state)
{
	struct spop_message_iter it = spop_message_iter_init(slice_make("", 0));
	static struct spop_message m;

	assert_int_equal(spop_message_next(&it, &m), 0);
}

/* ---- ACK actions ---- */

static void test_ack_with_actions_round_trip(void **state)
{
	uint8_t buf[256];
	struct spop_writer w = spop_writer_init(buf, sizeof(buf));
	struct spop_action acts[2] = {
		{ .type = SPOP_ACT_SET_VAR, .scope = SPOP_SCOPE_TXN, .name = SLICE_LIT("ip_score"),
		  .value = { .type = SPOP_T_UINT32, .u.u32 = 77 } },
		{ .type = SPOP_ACT_UNSET_VAR, .scope = SPOP_SCOPE_SESS, .name = SLICE_LIT("x") },
	};
	struct spop_frame f;
	struct spop_action a;
	size_t used;
	const uint8_t *p, *end;

	assert_int_equal(spop_encode_ack(&w, 99, 3, acts, 2), SPOP_OK);
	assert_int_equal(spop_frame_decode(buf, w.len, 16380, &f, &used), SPOP_OK);
	assert_int_equal(f.type, SPOP_FRAME_ACK);
	assert_int_equal(f.flags, SPOP_FLAG_FIN);
	assert_int_equal(f.stream_id, 99);
	assert_int_equal(f.frame_id, 3);
	p = (const uint8_t *)f.payload.ptr;
	end = p + f.payload.len;
	assert_int_equal(spop_action_next(&p, end, &a), 1);
	assert_int_equal(a.type, SPOP_ACT_SET_VAR);
	assert_int_equal(a.scope, SPOP_SCOPE_TXN);
	assert_true(slice_eq_cstr(a.name, "ip_score"));
	assert_int_equal(a.value.type, SPOP_T_UINT32);
	assert_int_equal(a.value.u.u32, 77);
	assert_int_equal(spop_action_next(&p, end, &a), 1);
	assert_int_equal(a.type, SPOP_ACT_UNSET_VAR);
	assert_int_equal(a.scope, SPOP_SCOPE_SESS);
	assert_true(slice_eq_cstr(a.name, "x"));
	assert_int_equal(spop_action_next(&p, end, &a), 0);
}

static void test_ack_empty_is_valid(void **state)
{
	uint8_t buf[64];
	struct spop_writer w = spop_writer_init(buf, sizeof(buf));
	const uint8_t want[] = { 0, 0, 0, 7, SPOP_FRAME_ACK, 0, 0, 0, 1, 5, 6 };
	struct spop_frame f;
	struct spop_action a;
	const uint8_t *p;
	size_t used;

	assert_int_equal(spop_encode_ack(&w, 5, 6, NULL, 0), SPOP_OK);
	assert_int_equal(w.len, sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
	assert_int_equal(spop_frame_decode(buf, w.len, 16380, &f, &used), SPOP_OK);
	assert_int_equal(f.payload.len, 0);
	p = (const uint8_t *)f.payload.ptr;
	assert_int_equal(spop_action_next(&p, p, &a), 0);
}

static void test_ack_action_bytes_follow_the_spec(void **state)
{
	uint8_t buf[64];
	struct spop_writer w = spop_writer_init(buf, sizeof(buf));
	const struct spop_action set = { .type = SPOP_ACT_SET_VAR, .scope = SPOP_SCOPE_TXN,
					 .name = SLICE_LIT("x"), .value = spop_u32_value(5) };
	const struct spop_action unset = { .type = SPOP_ACT_UNSET_VAR, .scope = SPOP_SCOPE_PROC,
					   .name = SLICE_LIT("yz") };
	const uint8_t want[] = { 1, 3, 2, 1, 'x', SPOP_T_UINT32, 5, 2, 2, 0, 2, 'y', 'z' };

	spop_put_action(&w, &set);
	spop_put_action(&w, &unset);
	assert_false(w.overflow);
	assert_int_equal(w.len, sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
}

static void test_ack_every_scope_decodes(void **state)
{
	for (uint8_t scope = 0; scope <= SPOP_SCOPE_RES; scope++) {
		const uint8_t set[] = { 1, 3, scope, 1, 'v', 0x11 };
		const uint8_t unset[] = { 2, 2, scope, 1, 'v' };
		const uint8_t *p = set;
		struct spop_action a;

		assert_int_equal(spop_action_next(&p, set + sizeof(set), &a), 1);
		assert_int_equal(a.type, SPOP_ACT_SET_VAR);
		assert_int_equal(a.scope, scope);
		assert_int_equal(a.value.type, SPOP_T_BOOL);
		assert_true(a.value.u.b);
		assert_ptr_equal(p, set + sizeof(set));
		p = unset;
		assert_int_equal(spop_action_next(&p, unset + sizeof(unset), &a), 1);
		assert_int_equal(a.type, SPOP_ACT_UNSET_VAR);
		assert_int_equal(a.scope, scope);
		assert_ptr_equal(p, unset + sizeof(unset));
	}
}

static void test_ack_bad_scope_type_or_arg_count_rejected(void **state)
{
	/* scopes past res */
	for (unsigned scope = SPOP_SCOPE_RES + 1; scope < 256; scope++) {
		const uint8_t b[] = { 1, 3, (uint8_t)scope, 1, 'v', 0 };
		const uint8_t *p = b;
		struct spop_action a;

		assert_int_equal(spop_action_next(&p, b + sizeof(b), &a), SPOP_E_ACTION);
		assert_ptr_equal(p, b);
	}
	/* types other than set-var/unset-var, and wrong nb-args for the type */
	static const uint8_t bad[][6] = {
		{ 0, 3, 2, 1, 'v', 0 }, { 3, 3, 2, 1, 'v', 0 }, { 255, 2, 2, 1, 'v', 0 },
		{ 1, 2, 2, 1, 'v', 0 }, { 1, 4, 2, 1, 'v', 0 }, { 1, 0, 2, 1, 'v', 0 },
		{ 2, 3, 2, 1, 'v', 0 }, { 2, 1, 2, 1, 'v', 0 },
	};
	for (size_t i = 0; i < N_ELEMS(bad); i++) {
		const uint8_t *p = bad[i];
		struct spop_action a;

		assert_int_equal(spop_action_next(&p, bad[i] + 6, &a), SPOP_E_ACTION);
		assert_ptr_equal(p, bad[i]);
	}
	assert_int_equal(spop_status_for(SPOP_E_ACTION), SPOP_STATUS_INVALID);
}

static void test_ack_cut_actions_rejected(void **state)
{
	static const struct {
		uint8_t bytes[8];
		size_t len;
		int rc;
	} cases[] = {
		{ { 1 }, 1, SPOP_E_TRUNCATED },
		{ { 1, 3 }, 2, SPOP_E_TRUNCATED },
		{ { 1, 3, 2 }, 3, SPOP_E_TRUNCATED },
		{ { 1, 3, 2, 2, 'v' }, 5, SPOP_E_TRUNCATED },
		{ { 1, 3, 2, 1, 'v' }, 5, SPOP_E_TRUNCATED },
		{ { 1, 3, 2, 1, 'v', SPOP_T_IPV4, 1 }, 7, SPOP_E_TRUNCATED },
		{ { 1, 3, 2, 1, 'v', 0x0F }, 6, SPOP_E_TYPE },
		{ { 2, 2, 2 }, 3, SPOP_E_TRUNCATED },
	};

	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		uint8_t *exact = dup_exact(cases[i].bytes, cases[i].len);
		const uint8_t *p = exact;
		struct spop_action a;

		assert_int_equal(spop_action_next(&p, exact + cases[i].len, &a), cases[i].rc);
		assert_ptr_equal(p, exact);
		free(exact);
	}
}

/* ---- frames ---- */

static void test_frame_header_fields_round_trip(void **state)
{
	static const struct {
		uint8_t type;
		uint32_t flags;
		uint64_t sid, fid;
	} cases[] = {
		{ SPOP_FRAME_NOTIFY, SPOP_FLAG_FIN, 0, 0 },
		{ SPOP_FRAME_UNSET, 0, 1, 1 },
		{ SPOP_FRAME_ACK, 0xDEADBEEF, UINT64_MAX, UINT64_MAX },
		{ 0xFF, 0xFFFFFFFF, 239, 240 },
		{ SPOP_FRAME_HAPROXY_DISCONNECT, SPOP_FLAG_FIN | SPOP_FLAG_ABORT, 33818864, 1 },
	};

	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		uint8_t buf[64];
		struct spop_writer w = spop_writer_init(buf, sizeof(buf));
		size_t start = spop_frame_begin(&w, cases[i].type, cases[i].flags, cases[i].sid,
						cases[i].fid);
		size_t meta, used = 0;
		uint8_t *exact;
		struct spop_frame f;

		meta = w.len;
		spop_put_bytes(&w, "pay", 3);
		spop_frame_end(&w, start);
		assert_false(w.overflow);
		/* the length prefix counts everything after itself */
		assert_int_equal(((uint32_t)buf[0] << 24 | (uint32_t)buf[1] << 16 |
				  (uint32_t)buf[2] << 8 | buf[3]),
				 w.len - 4);
		assert_int_equal(buf[4], cases[i].type);
		exact = dup_exact(buf, w.len);
		assert_int_equal(spop_frame_decode(exact, w.len, 16380, &f, &used), SPOP_OK);
		assert_int_equal(used, w.len);
		assert_int_equal(f.type, cases[i].type);
		assert_int_equal(f.flags, cases[i].flags);
		assert_true(f.stream_id == cases[i].sid);
		assert_true(f.frame_id == cases[i].fid);
		assert_ptr_equal(f.payload.ptr, exact + meta);
		assert_int_equal(f.payload.len, 3);
		assert_memory_equal(f.payload.ptr, "pay", 3);
		free(exact);
	}
}

static void test_frame_every_prefix_needs_more(void **state)
{
	uint8_t buf[256];
	size_t n = make_notify(buf, sizeof(buf), 7, 1), used;
	struct spop_frame f;

	for (size_t cut = 0; cut < n; cut++) {
		uint8_t *exact = dup_exact(buf, cut);

		assert_int_equal(spop_frame_decode(exact, cut, 16380, &f, &used), SPOP_NEED_MORE);
		free(exact);
	}
}

static void test_frame_back_to_back_frames_consumed_exactly(void **state)
{
	static const uint8_t types[] = { SPOP_FRAME_HAPROXY_HELLO, SPOP_FRAME_NOTIFY,
					 SPOP_FRAME_NOTIFY, SPOP_FRAME_HAPROXY_DISCONNECT };
	size_t n = build_sample(SAMPLE_SESSION), off = 0, i = 0;

	while (off < n) {
		struct spop_frame f;
		size_t used = 0;

		assert_true(i < N_ELEMS(types));
		assert_int_equal(decode_frame(sample_buf + off, n - off, &f, &used), SPOP_OK);
		assert_int_equal(f.type, types[i]);
		assert_int_equal(f.flags, SPOP_FLAG_FIN);
		assert_ptr_equal(f.payload.ptr + f.payload.len, sample_buf + off + used);
		off += used;
		i++;
	}
	assert_int_equal(i, N_ELEMS(types));
	assert_int_equal(off, n);
}

/* HAProxy 2.6 with fragmentation: NOTIFY without FIN, then type-0 frames
 * of the same sid/fid, the last with FIN. Glued together, the pieces are
 * exactly the unfragmented NOTIFY payload. */
static void test_frame_fragments_carry_flags_and_reassemble(void **state)
{
	static uint8_t whole[SAMPLE_MAX_LEN], glued[SAMPLE_MAX_LEN];
	size_t n_whole = build_sample(SAMPLE_NOTIFY_POST_BODY), n, off = 0, glen = 0, used;
	struct spop_frame f;
	struct slice want;
	static const struct {
		uint8_t type;
		uint32_t flags;
	} expect[] = { { SPOP_FRAME_NOTIFY, 0 }, { SPOP_FRAME_UNSET, 0 },
		       { SPOP_FRAME_UNSET, SPOP_FLAG_FIN } };

	memcpy(whole, sample_buf, n_whole);
	assert_int_equal(decode_frame(whole, n_whole, &f, &used), SPOP_OK);
	want = f.payload;

	n = build_sample(SAMPLE_NOTIFY_FRAGMENTED);
	for (size_t i = 0; i < N_ELEMS(expect); i++) {
		assert_int_equal(decode_frame(sample_buf + off, n - off, &f, &used), SPOP_OK);
		assert_int_equal(f.type, expect[i].type);
		assert_int_equal(f.flags, expect[i].flags);
		assert_int_equal(f.stream_id, 1021);
		assert_int_equal(f.frame_id, 7);
		assert_true(f.payload.len > 0);
		memcpy(glued + glen, f.payload.ptr, f.payload.len);
		glen += f.payload.len;
		off += used;
	}
	assert_int_equal(off, n);
	assert_int_equal(glen, want.len);
	assert_memory_equal(glued, want.ptr, glen);
}

static void test_frame_abort_fragment_has_abort_and_fin(void **state)
{
	size_t n = build_sample(SAMPLE_NOTIFY_ABORTED), used;
	struct spop_frame f;

	assert_int_equal(decode_frame(sample_buf, n, &f, &used), SPOP_OK);
	assert_int_equal(f.type, SPOP_FRAME_NOTIFY);
	assert_int_equal(f.flags & SPOP_FLAG_FIN, 0);
	assert_int_equal(decode_frame(sample_buf + used, n - used, &f, &used), SPOP_OK);
	assert_int_equal(f.type, SPOP_FRAME_UNSET);
	assert_int_equal(f.flags, SPOP_FLAG_FIN | SPOP_FLAG_ABORT);
	assert_int_equal(f.payload.len, 0);
}

static void test_frame_too_big_reported_from_length_prefix(void **state)
{
	const uint8_t buf[] = { 0x00, 0x01, 0x00, 0x00 }; /* 65536 */
	struct spop_frame f;
	size_t used;

	assert_int_equal(spop_frame_decode(buf, 4, 16380, &f, &used), SPOP_E_FRAME_TOO_BIG);
	assert_int_equal(spop_frame_decode(buf, 3, 16380, &f, &used), SPOP_NEED_MORE);
	assert_int_equal(spop_status_for(SPOP_E_FRAME_TOO_BIG), SPOP_STATUS_TOO_BIG);
}

static void test_frame_size_limit_is_inclusive(void **state)
{
	static uint8_t buf[4 + 300];
	struct spop_writer w = spop_writer_init(buf, sizeof(buf));
	size_t start = spop_frame_begin(&w, SPOP_FRAME_NOTIFY, SPOP_FLAG_FIN, 1, 1);
	static const uint8_t fill[300];
	struct spop_frame f;
	size_t used;
	uint32_t flen;

	spop_put_bytes(&w, fill, 300 - (w.len - 4));
	spop_frame_end(&w, start);
	assert_false(w.overflow);
	flen = (uint32_t)(w.len - 4);
	assert_int_equal(flen, 300);
	assert_int_equal(spop_frame_decode(buf, w.len, 300, &f, &used), SPOP_OK);
	assert_int_equal(used, w.len);
	assert_int_equal(spop_frame_decode(buf, w.len, 299, &f, &used), SPOP_E_FRAME_TOO_BIG);
	assert_int_equal(spop_frame_decode(buf, 4, 299, &f, &used), SPOP_E_FRAME_TOO_BIG);
	assert_int_equal(spop_frame_decode(buf, 4, 300, &f, &used), SPOP_NEED_MORE);
}

static void test_frame_malformed_metadata_rejected(void **state)
{
	static const struct {
		uint8_t bytes[24];
		size_t len;
		int rc;
	} cases[] = {
		{ { 0, 0, 0, 0 }, 4, SPOP_E_FRAME },
		{ { 0, 0, 0, 3, SPOP_FRAME_NOTIFY, 0, 0 }, 7, SPOP_E_FRAME },
		{ { 0, 0, 0, 6, SPOP_FRAME_NOTIFY, 0, 0, 0, 1, 1 }, 10, SPOP_E_FRAME },
		/* seven bytes, but the stream-id varint runs past them */
		{ { 0, 0, 0, 7, SPOP_FRAME_NOTIFY, 0, 0, 0, 1, 0xF0, 0x80 }, 11, SPOP_E_FRAME },
		/* the frame-id varint runs past the frame into the next bytes */
		{ { 0, 0, 0, 7, SPOP_FRAME_NOTIFY, 0, 0, 0, 1, 1, 0xF0, 0x00 }, 12, SPOP_E_FRAME },
		/* stream-id longer than 64 bits */
		{ { 0, 0, 0, 18, SPOP_FRAME_NOTIFY, 0, 0, 0, 1, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
		    0xFF, 0xFF, 0xFF, 0xFF, 0x01 },
		  22, SPOP_E_VARINT },
	};

	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		uint8_t *exact = dup_exact(cases[i].bytes, cases[i].len);
		struct spop_frame f;
		size_t used = 12345;

		assert_int_equal(spop_frame_decode(exact, cases[i].len, 16380, &f, &used), cases[i].rc);
		assert_int_equal(used, 12345);
		free(exact);
	}
	assert_int_equal(spop_status_for(SPOP_E_FRAME), SPOP_STATUS_INVALID);
}

/* ---- HAPROXY-HELLO ---- */

static int hello_rc(const char *vsn, uint32_t size, const char *caps, bool hc, const char *eid,
		    struct spop_hello *h)
{
	uint8_t buf[512];
	struct spop_writer w = spop_writer_init(buf, sizeof(buf));
	struct spop_frame f;
	size_t used;

	assert_int_equal(spop_encode_haproxy_hello(&w, vsn, size, caps, hc, eid), SPOP_OK);
	assert_int_equal(spop_frame_decode(buf, w.len, 16380, &f, &used), SPOP_OK);
	assert_int_equal(f.type, SPOP_FRAME_HAPROXY_HELLO);
	assert_int_equal(f.flags, SPOP_FLAG_FIN);
	assert_int_equal(f.stream_id, 0);
	assert_int_equal(f.frame_id, 0);
	return spop_hello_decode(f.payload, h);
}

static void test_hello_decodes_all_items_with_spaces_in_lists(void **state)
{
	struct spop_hello h;

	assert_int_equal(hello_rc("1.0, 2.0", 16380, "pipelining, async", true, "ENGINE-1", &h),
			 SPOP_OK);
	assert_true(slice_eq_cstr(h.versions, "1.0, 2.0"));
	assert_true(spop_versions_accept(h.versions));
	assert_int_equal(h.max_frame_size, 16380);
	assert_true(slice_eq_cstr(h.capabilities, "pipelining, async"));
	assert_int_equal(h.caps, SPOP_CAP_PIPELINING | SPOP_CAP_ASYNC);
	assert_true(h.healthcheck);
	assert_true(slice_eq_cstr(h.engine_id, "ENGINE-1"));
}

static void test_hello_as_haproxy_26_sends_it(void **state)
{
	size_t n = build_sample(SAMPLE_HELLO), used;
	struct spop_frame f;
	struct spop_hello h;

	assert_int_equal(decode_frame(sample_buf, n, &f, &used), SPOP_OK);
	assert_int_equal(spop_hello_decode(f.payload, &h), SPOP_OK);
	assert_true(slice_eq_cstr(h.versions, "2.0"));
	assert_int_equal(h.max_frame_size, 16380);
	assert_int_equal(h.caps, SPOP_CAP_PIPELINING | SPOP_CAP_ASYNC);
	assert_false(h.healthcheck);
	assert_int_equal(h.engine_id.len, 0);
}

static void test_hello_healthcheck_with_empty_capabilities(void **state)
{
	size_t n = build_sample(SAMPLE_HELLO_HEALTHCHECK), used;
	struct spop_frame f;
	struct spop_hello h;

	assert_int_equal(decode_frame(sample_buf, n, &f, &used), SPOP_OK);
	assert_int_equal(spop_hello_decode(f.payload, &h), SPOP_OK);
	assert_true(h.healthcheck);
	assert_int_equal(h.capabilities.len, 0);
	assert_int_equal(h.caps, 0);
}

static void test_hello_missing_items_reported_distinctly(void **state)
{
	static const struct {
		const char *vsn;
		uint32_t size;
		const char *caps;
		int rc;
	} cases[] = {
		{ NULL, 16380, "", SPOP_E_NO_VERSION },
		{ "2.0", 0, "", SPOP_E_NO_FRAME_SIZE },
		{ "2.0", 16380, NULL, SPOP_E_NO_CAPS },
		/* several missing: reported in the documented order */
		{ NULL, 0, NULL, SPOP_E_NO_VERSION },
		{ "2.0", 0, NULL, SPOP_E_NO_FRAME_SIZE },
		{ NULL, 0, "async", SPOP_E_NO_VERSION },
	};

	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		struct spop_hello h;

		assert_int_equal(hello_rc(cases[i].vsn, cases[i].size, cases[i].caps, false, NULL, &h),
				 cases[i].rc);
	}
	assert_int_equal(spop_status_for(SPOP_E_NO_VERSION), SPOP_STATUS_NO_VERSION);
	assert_int_equal(spop_status_for(SPOP_E_NO_FRAME_SIZE), SPOP_STATUS_NO_FRAME_SIZE);
	assert_int_equal(spop_status_for(SPOP_E_NO_CAPS), SPOP_STATUS_NO_CAPS);
}

/* A HELLO with the three required items, then `extra` (name, value). */
static int hello_with(const char *name, const struct spop_value *extra, bool first,
		      struct spop_hello *h)
{
	uint8_t buf[512];
	struct spop_writer w = spop_writer_init(buf, sizeof(buf));
	struct spop_value v;

	if (first)
		spop_put_kv(&w, name, extra);
	v = spop_str_value(SLICE_LIT("2.0"));
	spop_put_kv(&w, "supported-versions", &v);
	v = spop_u32_value(16380);
	spop_put_kv(&w, "max-frame-size", &v);
	v = spop_str_value(SLICE_LIT("pipelining"));
	spop_put_kv(&w, "capabilities", &v);
	if (!first)
		spop_put_kv(&w, name, extra);
	return spop_hello_decode(kv_payload(&w), h);
}

static void test_hello_wrong_item_types_rejected(void **state)
{
	static const char *const items[] = { "supported-versions", "max-frame-size", "capabilities",
					     "healthcheck", "engine-id" };
	struct spop_value wrong[] = {
		spop_bin_value(SLICE_LIT("2.0")),
		spop_str_value(SLICE_LIT("16380")),
		spop_u32_value(1),
		spop_str_value(SLICE_LIT("true")),
		spop_u32_value(7),
	};
	struct spop_value neg = { .type = SPOP_T_INT32, .u.i32 = -1 };
	struct spop_hello h;

	for (size_t i = 0; i < N_ELEMS(items); i++) {
		assert_int_equal(hello_with(items[i], &wrong[i], false, &h), SPOP_E_FIELD_TYPE);
		assert_int_equal(hello_with(items[i], &wrong[i], true, &h), SPOP_E_FIELD_TYPE);
	}
	assert_int_equal(hello_with("max-frame-size", &neg, false, &h), SPOP_E_FIELD_TYPE);
	assert_int_equal(spop_status_for(SPOP_E_FIELD_TYPE), SPOP_STATUS_INVALID);
}

static void test_hello_unknown_items_skipped(void **state)
{
	struct spop_value vals[] = {
		{ .type = SPOP_T_NULL },
		spop_bool_value(true),
		{ .type = SPOP_T_INT64, .u.i64 = -5 },
		{ .type = SPOP_T_IPV6 },
		spop_bin_value(SLICE_LIT("\0\1")),
		spop_str_value(SLICE_LIT("x")),
	};
	struct spop_hello h;

	for (size_t i = 0; i < N_ELEMS(vals); i++) {
		for (int first = 0; first < 2; first++) {
			assert_int_equal(hello_with("future-item", &vals[i], first, &h), SPOP_OK);
			assert_true(slice_eq_cstr(h.versions, "2.0"));
			assert_int_equal(h.max_frame_size, 16380);
			assert_int_equal(h.caps, SPOP_CAP_PIPELINING);
		}
	}
	/* item names are compared exactly: a near miss is an unknown item */
	struct spop_value v = spop_u32_value(1);
	assert_int_equal(hello_with("Max-Frame-Size", &v, true, &h), SPOP_OK);
	assert_int_equal(h.max_frame_size, 16380);
}

static void test_hello_max_frame_size_of_any_unsigned_integer_type(void **state)
{
	struct spop_value v;
	struct spop_hello h;

	/* the later item wins, so `extra` after the defaults replaces 16380 */
	v = (struct spop_value){ .type = SPOP_T_UINT64, .u.u64 = 65536 };
	assert_int_equal(hello_with("max-frame-size", &v, false, &h), SPOP_OK);
	assert_int_equal(h.max_frame_size, 65536);
	v = (struct spop_value){ .type = SPOP_T_INT32, .u.i32 = 1024 };
	assert_int_equal(hello_with("max-frame-size", &v, false, &h), SPOP_OK);
	assert_int_equal(h.max_frame_size, 1024);
	v = (struct spop_value){ .type = SPOP_T_INT64, .u.i64 = 4096 };
	assert_int_equal(hello_with("max-frame-size", &v, false, &h), SPOP_OK);
	assert_int_equal(h.max_frame_size, 4096);
	/* above 32 bits: clamped, the caller then negotiates down */
	v = (struct spop_value){ .type = SPOP_T_UINT64, .u.u64 = UINT64_MAX };
	assert_int_equal(hello_with("max-frame-size", &v, false, &h), SPOP_OK);
	assert_true(h.max_frame_size == UINT32_MAX);
}

static void test_hello_cut_payload_truncated(void **state)
{
	size_t n = build_sample(SAMPLE_HELLO_ENGINE_ID), used;
	struct spop_frame f;
	struct spop_hello h;

	assert_int_equal(decode_frame(sample_buf, n, &f, &used), SPOP_OK);
	assert_int_equal(spop_hello_decode(f.payload, &h), SPOP_OK);
	assert_int_equal(h.max_frame_size, 65532);
	assert_int_equal(h.caps, SPOP_CAP_ALL);
	/* cut just before the end: inside the engine-id string */
	assert_int_equal(spop_hello_decode(slice_make(f.payload.ptr, f.payload.len - 1), &h),
			 SPOP_E_TRUNCATED);
	/* a reserved type inside an item */
	{
		const uint8_t bad[] = { 1, 'x', 0x0A };

		assert_int_equal(spop_hello_decode(slice_make(bad, sizeof(bad)), &h), SPOP_E_TYPE);
	}
	/* nothing at all */
	assert_int_equal(spop_hello_decode(slice_make("", 0), &h), SPOP_E_NO_VERSION);
}

static void test_versions_accept_only_2x(void **state)
{
	assert_true(spop_versions_accept(SLICE_LIT("2.0")));
	assert_true(spop_versions_accept(SLICE_LIT(" 1.0 , 2.1 ")));
	assert_true(spop_versions_accept(SLICE_LIT("2.0,3.0")));
	assert_true(spop_versions_accept(SLICE_LIT("\t2.5\t")));
	assert_false(spop_versions_accept(SLICE_LIT("1.0")));
	assert_false(spop_versions_accept(SLICE_LIT("3.0,20")));
	assert_false(spop_versions_accept(SLICE_LIT("2")));
	assert_false(spop_versions_accept(SLICE_LIT(",,")));
	assert_false(spop_versions_accept(SLICE_LIT("")));
}

static void test_caps_parse_ignores_unknown_names_and_spaces(void **state)
{
	assert_int_equal(spop_caps_parse(SLICE_LIT("pipelining,async")),
			 SPOP_CAP_PIPELINING | SPOP_CAP_ASYNC);
	assert_int_equal(spop_caps_parse(SLICE_LIT(" fragmentation , pipelining ")),
			 SPOP_CAP_FRAGMENTATION | SPOP_CAP_PIPELINING);
	assert_int_equal(spop_caps_parse(SLICE_LIT("PIPELINING")), SPOP_CAP_PIPELINING);
	assert_int_equal(spop_caps_parse(SLICE_LIT("pipelining2,asyncx,frag,,")), 0);
	assert_int_equal(spop_caps_parse(SLICE_LIT("")), 0);
}

static void test_caps_format_whole_names_only(void **state)
{
	static const char *const want[8] = {
		"", "pipelining", "async", "pipelining,async", "fragmentation",
		"pipelining,fragmentation", "async,fragmentation", "pipelining,async,fragmentation",
	};
	char out[64];

	for (unsigned caps = 0; caps < 8; caps++) {
		size_t n = spop_caps_format(caps, out, sizeof(out));

		assert_int_equal(n, strlen(want[caps]));
		assert_string_equal(out, want[caps]);
		assert_int_equal(spop_caps_parse(slice_make(out, n)), caps);
	}
	/* a too-small buffer keeps only the names that fit, NUL-terminated */
	memset(out, 'z', sizeof(out));
	assert_int_equal(spop_caps_format(SPOP_CAP_ALL, out, 17), 16);
	assert_string_equal(out, "pipelining,async");
	memset(out, 'z', sizeof(out));
	assert_int_equal(spop_caps_format(SPOP_CAP_ALL, out, 16), 10);
	assert_string_equal(out, "pipelining");
	assert_int_equal(spop_caps_format(SPOP_CAP_ALL, out, 5), 0);
	assert_string_equal(out, "");
	assert_int_equal(spop_caps_format(SPOP_CAP_ALL, out, 1), 0);
	assert_string_equal(out, "");
	out[0] = 'z';
	assert_int_equal(spop_caps_format(SPOP_CAP_ALL, out, 0), 0);
	assert_int_equal(out[0], 'z');
}

/* ---- DISCONNECT ---- */

static void test_haproxy_disconnect_decodes_status_and_message(void **state)
{
	size_t n = build_sample(SAMPLE_HAPROXY_DISCONNECT), used;
	struct spop_frame f;
	struct spop_disconnect d;

	assert_int_equal(decode_frame(sample_buf, n, &f, &used), SPOP_OK);
	assert_int_equal(f.type, SPOP_FRAME_HAPROXY_DISCONNECT);
	assert_int_equal(f.flags, SPOP_FLAG_FIN);
	assert_int_equal(f.stream_id, 0);
	assert_int_equal(f.frame_id, 0);
	assert_int_equal(spop_disconnect_decode(f.payload, &d), SPOP_OK);
	assert_int_equal(d.status_code, SPOP_STATUS_TIMEOUT);
	assert_true(slice_eq_cstr(d.message, "idle timeout"));
}

static void test_disconnect_items_optional_unknown_skipped_wrong_types_rejected(void **state)
{
	uint8_t buf[128];
	struct spop_writer w;
	struct spop_value v;
	struct spop_disconnect d;

	/* empty: status 0, no message */
	assert_int_equal(spop_disconnect_decode(slice_make("", 0), &d), SPOP_OK);
	assert_int_equal(d.status_code, 0);
	assert_int_equal(d.message.len, 0);

	w = spop_writer_init(buf, sizeof(buf));
	v = spop_bool_value(true);
	spop_put_kv(&w, "future", &v);
	v = (struct spop_value){ .type = SPOP_T_UINT64, .u.u64 = 13 };
	spop_put_kv(&w, "status-code", &v);
	assert_int_equal(spop_disconnect_decode(kv_payload(&w), &d), SPOP_OK);
	assert_int_equal(d.status_code, 13);

	w = spop_writer_init(buf, sizeof(buf));
	v = (struct spop_value){ .type = SPOP_T_UINT64, .u.u64 = (uint64_t)UINT32_MAX + 1 };
	spop_put_kv(&w, "status-code", &v);
	assert_int_equal(spop_disconnect_decode(kv_payload(&w), &d), SPOP_E_FIELD_TYPE);

	w = spop_writer_init(buf, sizeof(buf));
	v = spop_str_value(SLICE_LIT("4"));
	spop_put_kv(&w, "status-code", &v);
	assert_int_equal(spop_disconnect_decode(kv_payload(&w), &d), SPOP_E_FIELD_TYPE);

	w = spop_writer_init(buf, sizeof(buf));
	v = spop_u32_value(4);
	spop_put_kv(&w, "message", &v);
	assert_int_equal(spop_disconnect_decode(kv_payload(&w), &d), SPOP_E_FIELD_TYPE);

	{
		const uint8_t cut[] = { 11, 's', 't', 'a', 't', 'u', 's', '-', 'c', 'o', 'd', 'e', 3 };

		assert_int_equal(spop_disconnect_decode(slice_make(cut, sizeof(cut)), &d),
				 SPOP_E_TRUNCATED);
	}
}

/* ---- agent frames ---- */

static void test_agent_hello_encodes_version_size_caps(void **state)
{
	static const struct {
		unsigned caps;
		const char *text;
	} cases[] = {
		{ SPOP_CAP_ALL, "pipelining,async,fragmentation" },
		{ SPOP_CAP_PIPELINING, "pipelining" },
		{ 0, "" },
	};

	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		uint8_t buf[256];
		struct spop_writer w = spop_writer_init(buf, sizeof(buf));
		struct spop_frame f;
		size_t used;
		const uint8_t *p, *end;
		struct spop_kv kv;

		assert_int_equal(spop_encode_agent_hello(&w, 16380, cases[i].caps), SPOP_OK);
		assert_int_equal(spop_frame_decode(buf, w.len, 16380, &f, &used), SPOP_OK);
		assert_int_equal(used, w.len);
		assert_int_equal(f.type, SPOP_FRAME_AGENT_HELLO);
		assert_int_equal(f.flags, SPOP_FLAG_FIN);
		assert_int_equal(f.stream_id, 0);
		assert_int_equal(f.frame_id, 0);
		p = (const uint8_t *)f.payload.ptr;
		end = p + f.payload.len;
		assert_int_equal(spop_kv_decode(&p, end, &kv), SPOP_OK);
		assert_true(slice_eq_cstr(kv.name, "version"));
		assert_int_equal(kv.value.type, SPOP_T_STRING);
		assert_true(slice_eq_cstr(kv.value.u.str, "2.0"));
		assert_int_equal(spop_kv_decode(&p, end, &kv), SPOP_OK);
		assert_true(slice_eq_cstr(kv.name, "max-frame-size"));
		assert_int_equal(kv.value.type, SPOP_T_UINT32);
		assert_int_equal(kv.value.u.u32, 16380);
		assert_int_equal(spop_kv_decode(&p, end, &kv), SPOP_OK);
		assert_true(slice_eq_cstr(kv.name, "capabilities"));
		assert_int_equal(kv.value.type, SPOP_T_STRING);
		assert_true(slice_eq_cstr(kv.value.u.str, cases[i].text));
		assert_ptr_equal(p, end);
	}
}

static void test_agent_disconnect_message_cut_to_255_bytes(void **state)
{
	static const struct {
		size_t in, out;
	} cases[] = { { 0, 0 }, { 254, 254 }, { 255, 255 }, { 256, 255 }, { 399, 255 } };

	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		char msg[400];
		uint8_t buf[600];
		struct spop_writer w = spop_writer_init(buf, sizeof(buf));
		struct spop_frame f;
		struct spop_disconnect d;
		size_t used;

		memset(msg, 'x', cases[i].in);
		msg[cases[i].in] = '\0';
		assert_int_equal(spop_encode_agent_disconnect(&w, SPOP_STATUS_INVALID, msg), SPOP_OK);
		assert_int_equal(spop_frame_decode(buf, w.len, 16380, &f, &used), SPOP_OK);
		assert_int_equal(f.type, SPOP_FRAME_AGENT_DISCONNECT);
		assert_int_equal(f.flags, SPOP_FLAG_FIN);
		assert_int_equal(spop_disconnect_decode(f.payload, &d), SPOP_OK);
		assert_int_equal(d.status_code, SPOP_STATUS_INVALID);
		assert_int_equal(d.message.len, cases[i].out);
		assert_memory_equal(d.message.ptr, msg, cases[i].out);
	}
}

static void test_agent_disconnect_without_message(void **state)
{
	uint8_t buf[128];
	struct spop_writer w = spop_writer_init(buf, sizeof(buf));
	struct spop_frame f;
	struct spop_disconnect d;
	size_t used;

	assert_int_equal(spop_encode_agent_disconnect(&w, SPOP_STATUS_NONE, NULL), SPOP_OK);
	assert_int_equal(spop_frame_decode(buf, w.len, 16380, &f, &used), SPOP_OK);
	assert_int_equal(spop_disconnect_decode(f.payload, &d), SPOP_OK);
	assert_int_equal(d.status_code, 0);
	assert_int_equal(d.message.len, 0);
}

typedef int (*encode_fn)(struct spop_writer *w);

static int enc_agent_hello(struct spop_writer *w)
{
	return spop_encode_agent_hello(w, 16380, SPOP_CAP_ALL);
}

static int enc_ack(struct spop_writer *w)
{
	const struct spop_action a = { .type = SPOP_ACT_SET_VAR, .scope = SPOP_SCOPE_TXN,
				       .name = SLICE_LIT("v"), .value = spop_u32_value(300) };

	return spop_encode_ack(w, 1000, 2000, &a, 1);
}

static int enc_agent_disconnect(struct spop_writer *w)
{
	return spop_encode_agent_disconnect(w, SPOP_STATUS_BAD_VERSION, "unsupported version");
}

static int enc_haproxy_hello(struct spop_writer *w)
{
	return spop_encode_haproxy_hello(w, "2.0", 16380, "pipelining", true, "e");
}

static int enc_haproxy_disconnect(struct spop_writer *w)
{
	return spop_encode_haproxy_disconnect(w, SPOP_STATUS_IO, "reset");
}

/* Every capacity short of the frame fails cleanly without writing past
 * it; the exact capacity gives the same bytes as a roomy buffer. */
static void test_encoders_report_no_space_at_every_short_capacity(void **state)
{
	static const encode_fn encoders[] = { enc_agent_hello, enc_ack, enc_agent_disconnect,
					      enc_haproxy_hello, enc_haproxy_disconnect };

	for (size_t i = 0; i < N_ELEMS(encoders); i++) {
		uint8_t roomy[512], *tight;
		struct spop_writer w = spop_writer_init(roomy, sizeof(roomy));
		size_t need;

		assert_int_equal(encoders[i](&w), SPOP_OK);
		need = w.len;
		for (size_t cap = 0; cap < need; cap++) {
			tight = malloc(cap ? cap : 1);
			assert_non_null(tight);
			w = spop_writer_init(tight, cap);
			assert_int_equal(encoders[i](&w), SPOP_E_NOSPACE);
			assert_true(w.overflow);
			assert_true(w.len <= cap);
			free(tight);
		}
		tight = malloc(need);
		assert_non_null(tight);
		w = spop_writer_init(tight, need);
		assert_int_equal(encoders[i](&w), SPOP_OK);
		assert_int_equal(w.len, need);
		assert_memory_equal(tight, roomy, need);
		free(tight);
	}
	assert_int_equal(spop_status_for(SPOP_E_NOSPACE), SPOP_STATUS_RESOURCE);
}

static void test_writer_stops_at_first_overflow(void **state)
{
	uint8_t buf[4];
	struct spop_writer w = spop_writer_init(buf, sizeof(buf));

	spop_put_bytes(&w, "abc", 3);
	assert_int_equal(w.len, 3);
	spop_put_bytes(&w, "de", 2);
	assert_true(w.overflow);
	/* a later write that would fit is refused too: the frame is lost */
	spop_put_u8(&w, 'z');
	assert_int_equal(w.len, 3);
	assert_memory_equal(buf, "abc", 3);
}

/* ---- status codes ---- */

static const int all_rcs[] = {
	SPOP_OK,	      SPOP_NEED_MORE,	  SPOP_E_TRUNCATED,   SPOP_E_VARINT,
	SPOP_E_TYPE,	      SPOP_E_RANGE,	  SPOP_E_FRAME_TOO_BIG, SPOP_E_FRAME,
	SPOP_E_NO_VERSION,    SPOP_E_NO_FRAME_SIZE, SPOP_E_NO_CAPS,   SPOP_E_FIELD_TYPE,
	SPOP_E_NOSPACE,	      SPOP_E_TOO_MANY,	  SPOP_E_SYNTAX,      SPOP_E_ACTION,
};

static void test_rc_index_and_text_distinct_for_every_rc(void **state)
{
	bool seen[SPOP_RC_COUNT] = { false };

	assert_int_equal(N_ELEMS(all_rcs), SPOP_RC_COUNT);
	for (size_t i = 0; i < N_ELEMS(all_rcs); i++) {
		unsigned idx = spop_rc_index(all_rcs[i]);

		assert_true(idx < SPOP_RC_COUNT);
		assert_false(seen[idx]);
		seen[idx] = true;
		assert_string_not_equal(spop_strerror(all_rcs[i]), "unknown codec error");
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(spop_strerror(all_rcs[i]), spop_strerror(all_rcs[j]));
	}
	assert_string_equal(spop_strerror(-99), "unknown codec error");
	assert_string_equal(spop_strerror(42), "unknown codec error");
	assert_true(spop_rc_index(-99) < SPOP_RC_COUNT);
	assert_true(spop_rc_index(42) < SPOP_RC_COUNT);
}

static void test_status_for_maps_each_rc(void **state)
{
	assert_int_equal(spop_status_for(SPOP_OK), SPOP_STATUS_NONE);
	assert_int_equal(spop_status_for(SPOP_E_TRUNCATED), SPOP_STATUS_INVALID);
	assert_int_equal(spop_status_for(SPOP_E_VARINT), SPOP_STATUS_INVALID);
	assert_int_equal(spop_status_for(SPOP_E_TYPE), SPOP_STATUS_INVALID);
	assert_int_equal(spop_status_for(SPOP_E_SYNTAX), SPOP_STATUS_INVALID);
	assert_int_equal(spop_status_for(SPOP_E_TOO_MANY), SPOP_STATUS_INVALID);
	assert_int_equal(spop_status_for(SPOP_E_FRAME_TOO_BIG), SPOP_STATUS_TOO_BIG);
	assert_int_equal(spop_status_for(SPOP_E_NOSPACE), SPOP_STATUS_RESOURCE);
}

/* ---- robustness over the sample streams ---- */

/* Calls fn(frame bytes, frame length, kind) for each frame of each sample. */
static void for_each_sample_frame(void (*fn)(const uint8_t *, size_t, enum sample_kind))
{
	for (int k = 0; k < SAMPLE_COUNT; k++) {
		static uint8_t copy[SAMPLE_MAX_LEN];
		size_t n = build_sample((enum sample_kind)k), off = 0, frames = 0;

		memcpy(copy, sample_buf, n);
		while (off < n) {
			struct spop_frame f;
			size_t used = 0;

			assert_int_equal(decode_frame(copy + off, n - off, &f, &used), SPOP_OK);
			fn(copy + off, used, (enum sample_kind)k);
			off += used;
			frames++;
		}
		assert_true(frames > 0);
	}
}

static void every_frame_prefix_needs_more(const uint8_t *frame, size_t len, enum sample_kind k)
{
	for (size_t cut = 0; cut < len; cut++) {
		uint8_t *exact = dup_exact(frame, cut);
		struct spop_frame f;
		size_t used;

		if (spop_frame_decode(exact, cut, SAMPLE_MAX_FRAME_SIZE, &f, &used) != SPOP_NEED_MORE)
			fail_msg("%s: prefix of %zu/%zu bytes did not need more", sample_name(k), cut,
				 len);
		free(exact);
	}
}

static void test_every_sample_frame_prefix_needs_more(void **state)
{
	for_each_sample_frame(every_frame_prefix_needs_more);
}

/* Offsets where the items of a KV list end, so a cut can be classified. */
static size_t kv_boundaries(struct slice payload, size_t *out, size_t max)
{
	const uint8_t *p = (const uint8_t *)payload.ptr, *end = p + payload.len;
	size_t n = 0;

	out[n++] = 0;
	while (p < end && n < max) {
		struct spop_kv kv;

		assert_int_equal(spop_kv_decode(&p, end, &kv), SPOP_OK);
		out[n++] = (size_t)(p - (const uint8_t *)payload.ptr);
	}
	return n;
}

static bool is_boundary(const size_t *b, size_t n, size_t cut)
{
	for (size_t i = 0; i < n; i++)
		if (b[i] == cut)
			return true;
	return false;
}

static void payload_prefixes_cut_cleanly(const uint8_t *frame, size_t len, enum sample_kind k)
{
	struct spop_frame f;
	size_t used, b[64], nb;

	assert_int_equal(decode_frame(frame, len, &f, &used), SPOP_OK);
	for (size_t cut = 0; cut < f.payload.len; cut++) {
		uint8_t *exact = dup_exact(f.payload.ptr, cut);
		struct slice pre = slice_make(exact, cut);

		switch (f.type) {
		case SPOP_FRAME_HAPROXY_HELLO:
		case SPOP_FRAME_HAPROXY_DISCONNECT:
		case SPOP_FRAME_AGENT_DISCONNECT: {
			struct spop_hello h;
			struct spop_disconnect d;
			int rc = f.type == SPOP_FRAME_HAPROXY_HELLO ? spop_hello_decode(pre, &h)
								     : spop_disconnect_decode(pre, &d);

			nb = kv_boundaries(f.payload, b, N_ELEMS(b));
			/* mid-item: truncated; between items: a clean verdict on fewer items */
			if (is_boundary(b, nb, cut))
				assert_int_not_equal(rc, SPOP_E_TRUNCATED);
			else if (rc != SPOP_E_TRUNCATED)
				fail_msg("%s: payload cut at %zu gave %d", sample_name(k), cut, rc);
			break;
		}
		case SPOP_FRAME_NOTIFY:
		case SPOP_FRAME_UNSET: {
			static struct spop_message m;
			struct spop_message_iter whole = spop_message_iter_init(f.payload);
			struct spop_message_iter it = spop_message_iter_init(pre);
			int rc;

			if (!(f.flags & SPOP_FLAG_FIN) || f.type == SPOP_FRAME_UNSET)
				break; /* a fragment is not a message list by itself */
			nb = 0;
			b[nb++] = 0;
			while (spop_message_next(&whole, &m) == 1)
				b[nb++] = (size_t)(whole.p - (const uint8_t *)f.payload.ptr);
			while ((rc = spop_message_next(&it, &m)) == 1)
				;
			if (is_boundary(b, nb, cut))
				assert_int_equal(rc, 0);
			else if (rc != SPOP_E_TRUNCATED)
				fail_msg("%s: NOTIFY cut at %zu gave %d", sample_name(k), cut, rc);
			break;
		}
		case SPOP_FRAME_ACK: {
			const uint8_t *p = exact, *wp = (const uint8_t *)f.payload.ptr;
			const uint8_t *wend = wp + f.payload.len;
			struct spop_action a;
			int rc;

			nb = 0;
			b[nb++] = 0;
			while (spop_action_next(&wp, wend, &a) == 1)
				b[nb++] = (size_t)(wp - (const uint8_t *)f.payload.ptr);
			while ((rc = spop_action_next(&p, exact + cut, &a)) == 1)
				;
			if (is_boundary(b, nb, cut))
				assert_int_equal(rc, 0);
			else if (rc != SPOP_E_TRUNCATED)
				fail_msg("%s: ACK cut at %zu gave %d", sample_name(k), cut, rc);
			break;
		}
		default:
			break;
		}
		free(exact);
	}
}

static void test_every_sample_payload_prefix_cut_cleanly(void **state)
{
	for_each_sample_frame(payload_prefixes_cut_cleanly);
}

/* One random edit: flip a bit, overwrite, insert, delete, cut, or set a
 * byte to a boundary value; half the time the length prefix is then fixed
 * so the damage reaches the payload decoders. */
static size_t mutate(uint8_t *buf, size_t len, size_t cap, uint64_t *seed)
{
	static const uint8_t special[] = { 0x00, 0x01, 0x7F, 0x80, 0xEF, 0xF0, 0xFF, 0x0A, 0x0D, ':' };
	uint64_t r = rng_next(seed);
	size_t pos = len ? (size_t)(rng_next(seed) % len) : 0;

	switch (r % 7) {
	case 0:
		if (len)
			buf[pos] ^= (uint8_t)(1u << (r >> 8) % 8);
		break;
	case 1:
		if (len)
			buf[pos] = (uint8_t)(r >> 16);
		break;
	case 2:
		if (len < cap) {
			memmove(buf + pos + 1, buf + pos, len - pos);
			buf[pos] = (uint8_t)(r >> 24);
			len++;
		}
		break;
	case 3:
		if (len) {
			memmove(buf + pos, buf + pos + 1, len - pos - 1);
			len--;
		}
		break;
	case 4:
		len = pos;
		break;
	case 5:
		if (len)
			buf[pos] = special[(r >> 8) % sizeof(special)];
		break;
	default: {
		/* duplicate a short run somewhere else */
		size_t run = 1 + (r >> 8) % 8, to = len ? (size_t)((r >> 20) % len) : 0;

		if (len + run <= cap && pos + run <= len) {
			memmove(buf + to + run, buf + to, len - to);
			memmove(buf + to, buf + (pos >= to ? pos + run : pos), run);
			len += run;
		}
		break;
	}
	}
	if (len >= 4 && (r >> 40) & 1) {
		uint32_t flen = (uint32_t)(len - 4);

		buf[0] = (uint8_t)(flen >> 24);
		buf[1] = (uint8_t)(flen >> 16);
		buf[2] = (uint8_t)(flen >> 8);
		buf[3] = (uint8_t)flen;
	}
	return len;
}

#define CORRUPTION_ROUNDS 3000

static void test_seeded_corruption_never_breaks_decoders(void **state)
{
	static uint8_t orig[SAMPLE_MAX_LEN], work[SAMPLE_MAX_LEN + 64];
	struct decode_tally total = { 0 };
	uint64_t seed = 0x5b0b0c0ffee;

	for (int k = 0; k < SAMPLE_COUNT; k++) {
		size_t n = build_sample((enum sample_kind)k);

		if (k == SAMPLE_NOTIFY_LARGE_BODY)
			continue; /* 15 kB per round: its header is covered by notify_post_body */
		memcpy(orig, sample_buf, n);
		for (int round = 0; round < CORRUPTION_ROUNDS; round++) {
			size_t len = n;
			unsigned edits = 1 + (unsigned)(rng_next(&seed) % 4);
			uint8_t *exact;
			const char *fail;

			memcpy(work, orig, n);
			for (unsigned e = 0; e < edits; e++)
				len = mutate(work, len, sizeof(work), &seed);
			exact = dup_exact(work, len);
			fail = decode_all_check(exact, len, &total);
			if (fail)
				fail_msg("%s, round %d: %s", sample_name((enum sample_kind)k), round, fail);
			free(exact);
		}
	}
	print_message("# corruption sweep: frames %lu frame_errors %lu need_more %lu payload_ok %lu "
		      "payload_errors %lu messages %lu args %lu actions %lu header_blocks %lu\n",
		      total.frames, total.frame_errors, total.need_more, total.payload_ok,
		      total.payload_errors, total.messages, total.args, total.actions,
		      total.header_blocks);
	/* the sweep reached valid decodes and clean errors at every level */
	assert_true(total.frames > 1000);
	assert_true(total.frame_errors > 100);
	assert_true(total.need_more > 100);
	assert_true(total.payload_ok > 1000);
	assert_true(total.payload_errors > 1000);
	assert_true(total.messages > 1000);
	assert_true(total.actions > 100);
	assert_true(total.header_blocks > 100);
}

static void test_samples_pass_the_decode_all_checks(void **state)
{
	for (int k = 0; k < SAMPLE_COUNT; k++) {
		size_t n = build_sample((enum sample_kind)k);
		uint8_t *exact = dup_exact(sample_buf, n);
		struct decode_tally t = { 0 };
		const char *fail = decode_all_check(exact, n, &t);

		if (fail)
			fail_msg("%s: %s", sample_name((enum sample_kind)k), fail);
		assert_true(t.frames >= 1);
		assert_int_equal(t.frame_errors, 0);
		assert_int_equal(t.need_more, 0);
		free(exact);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_varint_known_vector_16380),
		cmocka_unit_test(test_varint_boundaries_round_trip_with_expected_lengths),
		cmocka_unit_test(test_varint_boundary_bytes_follow_the_spec),
		cmocka_unit_test(test_varint_random_values_round_trip),
		cmocka_unit_test(test_varint_truncated_shapes_rejected),
		cmocka_unit_test(test_varint_over_long_rejected),
		cmocka_unit_test(test_value_all_ten_types_round_trip),
		cmocka_unit_test(test_value_encoded_bytes_follow_the_spec),
		cmocka_unit_test(test_value_bool_is_flag_bit_zero),
		cmocka_unit_test(test_value_int32_negative_as_haproxy_sends_them),
		cmocka_unit_test(test_value_integer_out_of_range_rejected),
		cmocka_unit_test(test_value_64_bit_extremes_decode),
		cmocka_unit_test(test_value_reserved_types_rejected_whatever_the_flags),
		cmocka_unit_test(test_value_type_is_the_low_nibble),
		cmocka_unit_test(test_value_cut_or_oversized_payloads_rejected),
		cmocka_unit_test(test_value_as_u64_accepts_only_non_negative_integers),
		cmocka_unit_test(test_kv_items_walk_to_the_end),
		cmocka_unit_test(test_kv_cut_item_leaves_cursor),
		cmocka_unit_test(test_frame_notify_decodes_ids_flags_and_messages),
		cmocka_unit_test(test_notify_several_messages_in_one_payload),
		cmocka_unit_test(test_notify_message_with_255_args_all_decoded),
		cmocka_unit_test(test_notify_malformed_messages_rejected_without_advancing),
		cmocka_unit_test(test_notify_empty_payload_has_no_messages),
		cmocka_unit_test(test_ack_with_actions_round_trip),
		cmocka_unit_test(test_ack_empty_is_valid),
		cmocka_unit_test(test_ack_action_bytes_follow_the_spec),
		cmocka_unit_test(test_ack_every_scope_decodes),
		cmocka_unit_test(test_ack_bad_scope_type_or_arg_count_rejected),
		cmocka_unit_test(test_ack_cut_actions_rejected),
		cmocka_unit_test(test_frame_header_fields_round_trip),
		cmocka_unit_test(test_frame_every_prefix_needs_more),
		cmocka_unit_test(test_frame_back_to_back_frames_consumed_exactly),
		cmocka_unit_test(test_frame_fragments_carry_flags_and_reassemble),
		cmocka_unit_test(test_frame_abort_fragment_has_abort_and_fin),
		cmocka_unit_test(test_frame_too_big_reported_from_length_prefix),
		cmocka_unit_test(test_frame_size_limit_is_inclusive),
		cmocka_unit_test(test_frame_malformed_metadata_rejected),
		cmocka_unit_test(test_hello_decodes_all_items_with_spaces_in_lists),
		cmocka_unit_test(test_hello_as_haproxy_26_sends_it),
		cmocka_unit_test(test_hello_healthcheck_with_empty_capabilities),
		cmocka_unit_test(test_hello_missing_items_reported_distinctly),
		cmocka_unit_test(test_hello_wrong_item_types_rejected),
		cmocka_unit_test(test_hello_unknown_items_skipped),
		cmocka_unit_test(test_hello_max_frame_size_of_any_unsigned_integer_type),
		cmocka_unit_test(test_hello_cut_payload_truncated),
		cmocka_unit_test(test_versions_accept_only_2x),
		cmocka_unit_test(test_caps_parse_ignores_unknown_names_and_spaces),
		cmocka_unit_test(test_caps_format_whole_names_only),
		cmocka_unit_test(test_haproxy_disconnect_decodes_status_and_message),
		cmocka_unit_test(test_disconnect_items_optional_unknown_skipped_wrong_types_rejected),
		cmocka_unit_test(test_agent_hello_encodes_version_size_caps),
		cmocka_unit_test(test_agent_disconnect_message_cut_to_255_bytes),
		cmocka_unit_test(test_agent_disconnect_without_message),
		cmocka_unit_test(test_encoders_report_no_space_at_every_short_capacity),
		cmocka_unit_test(test_writer_stops_at_first_overflow),
		cmocka_unit_test(test_rc_index_and_text_distinct_for_every_rc),
		cmocka_unit_test(test_status_for_maps_each_rc),
		cmocka_unit_test(test_every_sample_frame_prefix_needs_more),
		cmocka_unit_test(test_every_sample_payload_prefix_cut_cleanly),
		cmocka_unit_test(test_samples_pass_the_decode_all_checks),
		cmocka_unit_test(test_seeded_corruption_never_breaks_decoders),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

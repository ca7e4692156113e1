/* Unit tests for src/spop.c: varints, typed data, frames, HELLO, NOTIFY,
 * ACK and DISCONNECT, with known vectors and truncation sweeps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "spop.h"

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

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t buf[SPOP_VARINT_MAX];
		const uint8_t *p = buf;
		uint64_t v = 0;
		size_t n = spop_varint_encode(cases[i].v, buf);

		assert_int_equal(n, cases[i].len);
		assert_int_equal(spop_varint_decode(&p, buf + n, &v), SPOP_OK);
		assert_true(v == cases[i].v);
		assert_ptr_equal(p, buf + n);
		/* every strict prefix is truncated */
		for (size_t cut = 0; cut < n; cut++) {
			p = buf;
			assert_int_equal(spop_varint_decode(&p, buf + cut, &v), SPOP_E_TRUNCATED);
			assert_ptr_equal(p, buf);
		}
	}
}

static void test_varint_over_long_rejected(void **state)
{
	/* 0xFF then continuation bytes forever: more than 64 bits */
	uint8_t buf[16];
	const uint8_t *p = buf;
	uint64_t v;

	memset(buf, 0xFF, sizeof(buf));
	assert_int_equal(spop_varint_decode(&p, buf + sizeof(buf), &v), SPOP_E_VARINT);

	/* ten bytes whose last one carries bits beyond 64 */
	uint8_t big[10] = { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F };
	p = big;
	assert_int_equal(spop_varint_decode(&p, big + 10, &v), SPOP_E_VARINT);
}

/* ---- typed data ---- */

static void round_trip_value(const struct spop_value *in, struct spop_value *out)
{
	uint8_t buf[64];
	struct spop_writer w = spop_writer_init(buf, sizeof(buf));
	const uint8_t *p = buf;

	spop_put_value(&w, in);
	assert_false(w.overflow);
	assert_int_equal(spop_value_decode(&p, buf + w.len, out), SPOP_OK);
	assert_ptr_equal(p, buf + w.len);
	for (size_t cut = 0; cut < w.len; cut++) {
		struct spop_value tmp;
		p = buf;
		assert_int_equal(spop_value_decode(&p, buf + cut, &tmp), SPOP_E_TRUNCATED);
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
	assert_int_equal(out.u.i32, -123456);

	in = spop_u32_value(UINT32_MAX);
	round_trip_value(&in, &out);
	assert_true(out.u.u32 == UINT32_MAX);

	in = (struct spop_value){ .type = SPOP_T_INT64, .u.i64 = INT64_MIN };
	round_trip_value(&in, &out);
	assert_true(out.u.i64 == INT64_MIN);

	in = (struct spop_value){ .type = SPOP_T_UINT64, .u.u64 = UINT64_MAX };
	round_trip_value(&in, &out);
	assert_true(out.u.u64 == UINT64_MAX);

	in = (struct spop_value){ .type = SPOP_T_IPV4, .u.ipv4 = { 10, 1, 2, 3 } };
	round_trip_value(&in, &out);
	assert_memory_equal(out.u.ipv4, in.u.ipv4, 4);

	in = (struct spop_value){ .type = SPOP_T_IPV6 };
	for (int i = 0; i < 16; i++)
		in.u.ipv6[i] = (uint8_t)(i * 7);
	round_trip_value(&in, &out);
	assert_memory_equal(out.u.ipv6, in.u.ipv6, 16);

	in = spop_str_value(SLICE_LIT("hello"));
	round_trip_value(&in, &out);
	assert_int_equal(out.type, SPOP_T_STRING);
	assert_int_equal(out.u.str.len, 5);
	assert_memory_equal(out.u.str.ptr, "hello", 5);

	in = spop_bin_value(slice_make("\0\1\2", 3));
	round_trip_value(&in, &out);
	assert_int_equal(out.type, SPOP_T_BINARY);
	assert_memory_equal(out.u.str.ptr, "\0\1\2", 3);
}

static void test_value_bool_flag_bit(void **state)
{
	const uint8_t t[] = { 0x11 }, f[] = { 0x01 };
	const uint8_t *p = t;
	struct spop_value v;

	assert_int_equal(spop_value_decode(&p, t + 1, &v), SPOP_OK);
	assert_int_equal(v.type, SPOP_T_BOOL);
	assert_true(v.u.b);
	p = f;
	assert_int_equal(spop_value_decode(&p, f + 1, &v), SPOP_OK);
	assert_false(v.u.b);
}

static void test_value_reserved_types_rejected(void **state)
{
	for (uint8_t t = 10; t <= 15; t++) {
		uint8_t buf[4] = { t, 0, 0, 0 };
		const uint8_t *p = buf;
		struct spop_value v;

		assert_int_equal(spop_value_decode(&p, buf + 4, &v), SPOP_E_TYPE);
		assert_ptr_equal(p, buf);
	}
}

static void test_value_uint32_out_of_range_rejected(void **state)
{
	uint8_t buf[16];
	const uint8_t *p = buf;
	struct spop_value v;

	buf[0] = SPOP_T_UINT32;
	size_t n = 1 + spop_varint_encode((uint64_t)UINT32_MAX + 1, buf + 1);
	assert_int_equal(spop_value_decode(&p, buf + n, &v), SPOP_E_RANGE);
}

static void test_value_string_length_past_end_rejected(void **state)
{
	const uint8_t buf[] = { SPOP_T_STRING, 10, 'a', 'b' };
	const uint8_t *p = buf;
	struct spop_value v;

	assert_int_equal(spop_value_decode(&p, buf + sizeof(buf), &v), SPOP_E_TRUNCATED);
}

/* ---- frames ---- */

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
	struct spop_message m;
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
}

static void test_frame_every_prefix_needs_more(void **state)
{
	uint8_t buf[256];
	size_t n = make_notify(buf, sizeof(buf), 7, 1), used;
	struct spop_frame f;

	for (size_t cut = 0; cut < n; cut++)
		assert_int_equal(spop_frame_decode(buf, cut, 16380, &f, &used), SPOP_NEED_MORE);
}

static void test_frame_too_big_reported_from_length_prefix(void **state)
{
	const uint8_t buf[] = { 0x00, 0x01, 0x00, 0x00 }; /* 65536 */
	struct spop_frame f;
	size_t used;

	assert_int_equal(spop_frame_decode(buf, 4, 16380, &f, &used), SPOP_E_FRAME_TOO_BIG);
	assert_int_equal(spop_status_for(SPOP_E_FRAME_TOO_BIG), SPOP_STATUS_TOO_BIG);
}

static void test_frame_too_short_for_metadata_rejected(void **state)
{
	const uint8_t buf[] = { 0, 0, 0, 3, SPOP_FRAME_NOTIFY, 0, 0 };
	struct spop_frame f;
	size_t used;

	assert_int_equal(spop_frame_decode(buf, sizeof(buf), 16380, &f, &used), SPOP_E_FRAME);
}

/* ---- HELLO ---- */

static void test_hello_decodes_all_items_with_spaces_in_lists(void **state)
{
	uint8_t buf[256];
	struct spop_writer w = spop_writer_init(buf, sizeof(buf));
	struct spop_frame f;
	struct spop_hello h;
	size_t used;

	assert_int_equal(spop_encode_haproxy_hello(&w, "1.0, 2.0", 16380,
						   "pipelining, async", true, "ENGINE-1"),
			 SPOP_OK);
	assert_int_equal(spop_frame_decode(buf, w.len, 16380, &f, &used), SPOP_OK);
	assert_int_equal(f.type, SPOP_FRAME_HAPROXY_HELLO);
	assert_int_equal(spop_hello_decode(f.payload, &h), SPOP_OK);
	assert_true(spop_versions_accept(h.versions));
	assert_int_equal(h.max_frame_size, 16380);
	assert_int_equal(h.caps, SPOP_CAP_PIPELINING | SPOP_CAP_ASYNC);
	assert_true(h.healthcheck);
	assert_true(slice_eq_cstr(h.engine_id, "ENGINE-1"));
}

static void test_hello_missing_items_reported_distinctly(void **state)
{
	struct {
		const char *vsn;
		uint32_t size;
		const char *caps;
		int rc;
	} cases[] = {
		{ NULL, 16380, "", SPOP_E_NO_VERSION },
		{ "2.0", 0, "", SPOP_E_NO_FRAME_SIZE },
		{ "2.0", 16380, NULL, SPOP_E_NO_CAPS },
	};

	for (size_t i = 0; i < 3; i++) {
		uint8_t buf[256];
		struct spop_writer w = spop_writer_init(buf, sizeof(buf));
		struct spop_frame f;
		struct spop_hello h;
		size_t used;

		spop_encode_haproxy_hello(&w, cases[i].vsn, cases[i].size, cases[i].caps, false,
					  NULL);
		assert_int_equal(spop_frame_decode(buf, w.len, 16380, &f, &used), SPOP_OK);
		assert_int_equal(spop_hello_decode(f.payload, &h), cases[i].rc);
	}
	assert_int_equal(spop_status_for(SPOP_E_NO_VERSION), SPOP_STATUS_NO_VERSION);
	assert_int_equal(spop_status_for(SPOP_E_NO_FRAME_SIZE), SPOP_STATUS_NO_FRAME_SIZE);
	assert_int_equal(spop_status_for(SPOP_E_NO_CAPS), SPOP_STATUS_NO_CAPS);
}

static void test_versions_accept_only_2x(void **state)
{
	assert_true(spop_versions_accept(SLICE_LIT("2.0")));
	assert_true(spop_versions_accept(SLICE_LIT(" 1.0 , 2.1 ")));
	assert_false(spop_versions_accept(SLICE_LIT("1.0")));
	assert_false(spop_versions_accept(SLICE_LIT("3.0,20")));
	assert_false(spop_versions_accept(SLICE_LIT("")));
}

/* ---- agent frames ---- */

static void test_agent_hello_encodes_version_size_caps(void **state)
{
	uint8_t buf[256];
	struct spop_writer w = spop_writer_init(buf, sizeof(buf));
	struct spop_frame f;
	size_t used;
	const uint8_t *p, *end;
	struct spop_kv kv;

	assert_int_equal(spop_encode_agent_hello(&w, 16380, SPOP_CAP_ALL), SPOP_OK);
	assert_int_equal(spop_frame_decode(buf, w.len, 16380, &f, &used), SPOP_OK);
	assert_int_equal(f.type, SPOP_FRAME_AGENT_HELLO);
	assert_int_equal(f.flags, SPOP_FLAG_FIN);
	p = (const uint8_t *)f.payload.ptr;
	end = p + f.payload.len;
	assert_int_equal(spop_kv_decode(&p, end, &kv), SPOP_OK);
	assert_true(slice_eq_cstr(kv.name, "version"));
	assert_true(slice_eq_cstr(kv.value.u.str, "2.0"));
	assert_int_equal(spop_kv_decode(&p, end, &kv), SPOP_OK);
	assert_true(slice_eq_cstr(kv.name, "max-frame-size"));
	assert_int_equal(kv.value.u.u32, 16380);
	assert_int_equal(spop_kv_decode(&p, end, &kv), SPOP_OK);
	assert_true(slice_eq_cstr(kv.value.u.str, "pipelining,async,fragmentation"));
	assert_ptr_equal(p, end);
}

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
	assert_int_equal(f.stream_id, 99);
	assert_int_equal(f.frame_id, 3);
	p = (const uint8_t *)f.payload.ptr;
	end = p + f.payload.len;
	assert_int_equal(spop_action_next(&p, end, &a), 1);
	assert_int_equal(a.type, SPOP_ACT_SET_VAR);
	assert_int_equal(a.scope, SPOP_SCOPE_TXN);
	assert_true(slice_eq_cstr(a.name, "ip_score"));
	assert_int_equal(a.value.u.u32, 77);
	assert_int_equal(spop_action_next(&p, end, &a), 1);
	assert_int_equal(a.type, SPOP_ACT_UNSET_VAR);
	assert_int_equal(spop_action_next(&p, end, &a), 0);

	/* an empty ACK is valid */
	w = spop_writer_init(buf, sizeof(buf));
	assert_int_equal(spop_encode_ack(&w, 1, 1, NULL, 0), SPOP_OK);
	assert_int_equal(spop_frame_decode(buf, w.len, 16380, &f, &used), SPOP_OK);
	assert_int_equal(f.payload.len, 0);
}

static void test_disconnect_message_cut_to_255_bytes(void **state)
{
	char msg[400];
	uint8_t buf[600];
	struct spop_writer w = spop_writer_init(buf, sizeof(buf));
	struct spop_frame f;
	struct spop_disconnect d;
	size_t used;

	memset(msg, 'x', sizeof(msg) - 1);
	msg[sizeof(msg) - 1] = '\0';
	assert_int_equal(spop_encode_agent_disconnect(&w, SPOP_STATUS_INVALID, msg), SPOP_OK);
	assert_int_equal(spop_frame_decode(buf, w.len, 16380, &f, &used), SPOP_OK);
	assert_int_equal(f.type, SPOP_FRAME_AGENT_DISCONNECT);
	assert_int_equal(spop_disconnect_decode(f.payload, &d), SPOP_OK);
	assert_int_equal(d.status_code, SPOP_STATUS_INVALID);
	assert_int_equal(d.message.len, 255);
}

static void test_encoder_reports_no_space(void **state)
{
	uint8_t buf[8];
	struct spop_writer w = spop_writer_init(buf, sizeof(buf));

	assert_int_equal(spop_encode_agent_hello(&w, 16380, SPOP_CAP_ALL), SPOP_E_NOSPACE);
	assert_true(w.overflow);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_varint_known_vector_16380),
		cmocka_unit_test(test_varint_boundaries_round_trip_with_expected_lengths),
		cmocka_unit_test(test_varint_over_long_rejected),
		cmocka_unit_test(test_value_all_ten_types_round_trip),
		cmocka_unit_test(test_value_bool_flag_bit),
		cmocka_unit_test(test_value_reserved_types_rejected),
		cmocka_unit_test(test_value_uint32_out_of_range_rejected),
		cmocka_unit_test(test_value_string_length_past_end_rejected),
		cmocka_unit_test(test_frame_notify_decodes_ids_flags_and_messages),
		cmocka_unit_test(test_frame_every_prefix_needs_more),
		cmocka_unit_test(test_frame_too_big_reported_from_length_prefix),
		cmocka_unit_test(test_frame_too_short_for_metadata_rejected),
		cmocka_unit_test(test_hello_decodes_all_items_with_spaces_in_lists),
		cmocka_unit_test(test_hello_missing_items_reported_distinctly),
		cmocka_unit_test(test_versions_accept_only_2x),
		cmocka_unit_test(test_agent_hello_encodes_version_size_caps),
		cmocka_unit_test(test_ack_with_actions_round_trip),
		cmocka_unit_test(test_disconnect_message_cut_to_255_bytes),
		cmocka_unit_test(test_encoder_reports_no_space),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

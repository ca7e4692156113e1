/* Unit tests for tools/bench_msg.c: the NOTIFY payload spop-bench sends,
 * decoded back with the project's codec. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bench_msg.h"
#include "headers.h"
#include "spop.h"

static struct spop_message *decode_one(const uint8_t *buf, size_t len)
{
	struct spop_message *m = malloc(sizeof(*m));
	struct spop_message_iter it = spop_message_iter_init(slice_make(buf, len));

	assert_int_equal(spop_message_next(&it, m), 1);
	{
		struct spop_message *extra = malloc(sizeof(*extra));

		assert_int_equal(spop_message_next(&it, extra), 0); /* exactly one message */
		free(extra);
	}
	return m;
}

static void test_named_message_carries_every_arg(void **state)
{
	struct bench_msg_spec s;
	uint8_t *buf;
	size_t len;
	struct spop_message *m;
	struct http_header items[32];
	struct header_list hl = header_list_init(items, 32);
	const char *names[] = { "method", "path", "version", "headers", "body", "src" };

	bench_msg_spec_defaults(&s);
	s.method = "POST";
	s.body_size = 1000;
	s.n_headers = 5;
	s.header_size = 40;
	assert_int_equal(bench_msg_build(&s, &buf, &len), 0);
	m = decode_one(buf, len);
	assert_true(slice_eq_cstr(m->name, "mirror-request"));
	assert_int_equal(m->nb_args, 6);
	for (unsigned i = 0; i < 6; i++)
		assert_true(slice_eq_cstr(m->args[i].name, names[i]));
	assert_true(slice_eq_cstr(m->args[0].value.u.str, "POST"));
	assert_true(slice_eq_cstr(m->args[1].value.u.str, s.path));
	assert_true(slice_eq_cstr(m->args[2].value.u.str, "1.1"));
	assert_int_equal(m->args[3].value.type, SPOP_T_BINARY);
	assert_int_equal(headers_decode_bin(m->args[3].value.u.str, &hl), SPOP_OK);
	assert_int_equal(hl.count, 5);
	assert_true(slice_eq_cstr(items[0].name, "host"));
	assert_true(slice_eq_cstr(items[1].name, "content-length"));
	assert_true(slice_eq_cstr(items[1].value, "1000"));
	assert_int_equal(items[4].value.len, 40);
	assert_int_equal(m->args[4].value.type, SPOP_T_BINARY);
	assert_int_equal(m->args[4].value.u.str.len, 1000);
	assert_int_equal(m->args[4].value.u.str.ptr[27], 'b');
	assert_int_equal(m->args[5].value.type, SPOP_T_IPV4);
	assert_memory_equal(m->args[5].value.u.ipv4, "\x7f\x00\x00\x01", 4);
	free(m);
	free(buf);
}

static void test_seed_naming_sends_text_headers_and_body_len(void **state)
{
	struct bench_msg_spec s;
	uint8_t *buf;
	size_t len;
	struct spop_message *m;
	struct http_header items[32];
	struct header_list hl = header_list_init(items, 32);
	uint64_t body_len;

	bench_msg_spec_defaults(&s);
	s.naming = BENCH_NAMING_SEED;
	s.hdrs = BENCH_HDRS_TEXT;
	s.body_size = 64;
	assert_int_equal(bench_msg_build(&s, &buf, &len), 0);
	m = decode_one(buf, len);
	assert_int_equal(m->nb_args, 6);
	assert_true(slice_eq_cstr(m->args[1].name, "uri"));
	assert_true(slice_eq_cstr(m->args[4].name, "body_len"));
	assert_true(spop_value_as_u64(&m->args[4].value, &body_len));
	assert_int_equal(body_len, 64);
	assert_int_equal(m->args[3].value.type, SPOP_T_STRING);
	assert_int_equal(headers_decode_text(m->args[3].value.u.str, &hl), SPOP_OK);
	assert_int_equal(hl.count, 8);
	free(m);
	free(buf);
}

static void test_incumbent_and_unnamed_namings(void **state)
{
	struct bench_msg_spec s;
	uint8_t *buf;
	size_t len;
	struct spop_message *m;
	const char *inc[] = { "arg_method", "arg_path", "arg_ver", "arg_hdrs", "arg_body" };

	bench_msg_spec_defaults(&s);
	s.naming = BENCH_NAMING_INCUMBENT;
	s.message = "mirror";
	assert_int_equal(bench_msg_build(&s, &buf, &len), 0);
	m = decode_one(buf, len);
	assert_true(slice_eq_cstr(m->name, "mirror"));
	assert_int_equal(m->nb_args, 5);
	for (unsigned i = 0; i < 5; i++)
		assert_true(slice_eq_cstr(m->args[i].name, inc[i]));
	free(m);
	free(buf);

	s.naming = BENCH_NAMING_UNNAMED;
	assert_int_equal(bench_msg_build(&s, &buf, &len), 0);
	m = decode_one(buf, len);
	assert_int_equal(m->nb_args, 5);
	for (unsigned i = 0; i < 5; i++)
		assert_int_equal(m->args[i].name.len, 0);
	assert_true(slice_eq_cstr(m->args[0].value.u.str, "GET"));
	free(m);
	free(buf);
}

/* A frame built from bench_frame_head + payload decodes with the codec,
 * including ids that need multi-byte varints. */
static void test_frame_head_round_trips(void **state)
{
	uint8_t buf[BENCH_FRAME_HEAD_MAX + 16];
	const uint8_t payload[5] = { 1, 2, 3, 4, 5 };
	size_t h = bench_frame_head(buf, SPOP_FRAME_NOTIFY, SPOP_FLAG_FIN, 16380, 1ull << 40,
				    sizeof(payload));
	struct spop_frame f;
	size_t used;

	memcpy(buf + h, payload, sizeof(payload));
	assert_int_equal(spop_frame_decode(buf, h + sizeof(payload), 1024, &f, &used), SPOP_OK);
	assert_int_equal(used, h + sizeof(payload));
	assert_int_equal(f.type, SPOP_FRAME_NOTIFY);
	assert_int_equal(f.flags, SPOP_FLAG_FIN);
	assert_int_equal(f.stream_id, 16380);
	assert_int_equal(f.frame_id, 1ull << 40);
	assert_int_equal(f.payload.len, sizeof(payload));
	assert_memory_equal(f.payload.ptr, payload, sizeof(payload));
}

/* Fragments sized by bench_frame_room never exceed the frame size. */
static void test_frame_room_keeps_frames_under_the_limit(void **state)
{
	uint8_t buf[512 + BENCH_FRAME_HEAD_MAX];
	size_t room = bench_frame_room(512);
	size_t h = bench_frame_head(buf, SPOP_FRAME_UNSET, 0, UINT64_MAX, UINT64_MAX, room);

	assert_true(h - 4 + room <= 512);
	assert_int_equal(bench_frame_room(10), 0);
	assert_int_equal(bench_fragment_count(100, 100), 1);
	assert_int_equal(bench_fragment_count(101, 100), 2);
	assert_int_equal(bench_fragment_count(0, 100), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_named_message_carries_every_arg),
		cmocka_unit_test(test_seed_naming_sends_text_headers_and_body_len),
		cmocka_unit_test(test_incumbent_and_unnamed_namings),
		cmocka_unit_test(test_frame_head_round_trips),
		cmocka_unit_test(test_frame_room_keeps_frames_under_the_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

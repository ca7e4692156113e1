/* Unit tests for src/grpc.c: which requests are gRPC calls, and the
 * grpc-status a shadow answers with, as libcurl's header callback sees it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "grpc.h"

static bool ct(const char *value)
{
	return grpc_content_type(slice_from_cstr(value));
}

static void test_grpc_content_type_variants(void **state)
{
	assert_true(ct("application/grpc"));
	assert_true(ct("application/grpc+proto"));
	assert_true(ct("application/grpc+json"));
	assert_true(ct("Application/GRPC"));
	assert_true(ct("application/grpc; charset=utf-8"));
	assert_true(ct(" application/grpc "));
	/* grpc-web is another protocol, and look-alikes are not gRPC */
	assert_false(ct("application/grpc-web"));
	assert_false(ct("application/grpc-web+proto"));
	assert_false(ct("application/grpcx"));
	assert_false(ct("application/json"));
	assert_false(ct("application/grp"));
	assert_false(ct(""));
}

static void test_grpc_call_decided_by_first_content_type(void **state)
{
	struct http_header h[] = {
		{ SLICE_LIT("te"), SLICE_LIT("trailers") },
		{ SLICE_LIT("Content-Type"), SLICE_LIT("application/grpc") },
		{ SLICE_LIT("content-type"), SLICE_LIT("text/plain") },
	};

	assert_true(grpc_call(h, 3));
	assert_false(grpc_call(h, 1));
	assert_false(grpc_call(h + 2, 1));
	assert_false(grpc_call(NULL, 0));
}

static int line(const char *s)
{
	return grpc_status_line(s, strlen(s));
}

static void test_grpc_status_line_codes(void **state)
{
	assert_int_equal(line("grpc-status: 0\r\n"), 0);
	assert_int_equal(line("grpc-status: 5\r\n"), 5);
	assert_int_equal(line("Grpc-Status:16\r\n"), 16);
	assert_int_equal(line("grpc-status: 3 \n"), 3);
	assert_int_equal(line("grpc-status: 07\r\n"), 7);
	/* not a code: counted as invalid, never as a code */
	assert_int_equal(line("grpc-status: 17\r\n"), GRPC_SLOT_INVALID);
	assert_int_equal(line("grpc-status: 100\r\n"), GRPC_SLOT_INVALID);
	assert_int_equal(line("grpc-status: -1\r\n"), GRPC_SLOT_INVALID);
	assert_int_equal(line("grpc-status: \r\n"), GRPC_SLOT_INVALID);
	assert_int_equal(line("grpc-status: OK\r\n"), GRPC_SLOT_INVALID);
	/* other lines */
	assert_int_equal(line("grpc-message: not found\r\n"), GRPC_STATUS_NONE);
	assert_int_equal(line("grpc-status-details-bin: AAAA\r\n"), GRPC_STATUS_NONE);
	assert_int_equal(line("HTTP/2 200 \r\n"), GRPC_STATUS_NONE);
	assert_int_equal(line("\r\n"), GRPC_STATUS_NONE);
	assert_int_equal(line("grpc-status\r\n"), GRPC_STATUS_NONE);
	assert_int_equal(grpc_status_line("grpc-status: 5", 11), GRPC_STATUS_NONE);
	assert_int_equal(grpc_status_line("grpc-status: 5", 0), GRPC_STATUS_NONE);
}

static void test_grpc_slot_names(void **state)
{
	assert_string_equal(grpc_slot_name(0), "0");
	assert_string_equal(grpc_slot_name(16), "16");
	assert_string_equal(grpc_slot_name(GRPC_SLOT_INVALID), "invalid");
	assert_string_equal(grpc_slot_name(GRPC_SLOT_MISSING), "missing");
	assert_string_equal(grpc_slot_name(GRPC_SLOTS), "invalid");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_grpc_content_type_variants),
		cmocka_unit_test(test_grpc_call_decided_by_first_content_type),
		cmocka_unit_test(test_grpc_status_line_codes),
		cmocka_unit_test(test_grpc_slot_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

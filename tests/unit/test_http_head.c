/* Unit tests for src/http_head.c: the operators' endpoint's request head. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "http_head.h"

static int parse(const char *head, struct slice *method, struct slice *path, const char **why)
{
	return http_head_parse(slice_from_cstr(head), method, path, why);
}

static void test_end_after_blank_line_crlf_or_lf(void **state)
{
	const char crlf[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\nrest";
	const char lf[] = "GET / HTTP/1.1\nHost: x\n\nrest";

	assert_int_equal(http_head_end(crlf, strlen(crlf)), strlen("GET / HTTP/1.1\r\nHost: x\r\n"));
	assert_int_equal(http_head_end(lf, strlen(lf)), strlen("GET / HTTP/1.1\nHost: x\n"));
	/* not yet: every proper prefix of the blank line */
	for (size_t n = 0; n < strlen("GET / HTTP/1.1\r\nHost: x\r\n\r\n"); n++)
		assert_int_equal(http_head_end(crlf, n), 0);
}

static void test_method_and_path_without_query(void **state)
{
	struct slice method, path;
	const char *why = NULL;

	assert_int_equal(parse("GET /compare?x=1 HTTP/1.1\r\nHost: a\r\nAccept: */*", &method,
			       &path, &why), 0);
	assert_true(slice_eq_cstr(method, "GET"));
	assert_true(slice_eq_cstr(path, "/compare"));
	assert_int_equal(parse("HEAD /metrics HTTP/1.0", &method, &path, &why), 0);
	assert_true(slice_eq_cstr(method, "HEAD"));
}

static void test_malformed_heads_get_their_status(void **state)
{
	static const struct {
		const char *head;
		int status;
	} cases[] = {
		{ "", 400 },
		{ "GET", 400 },
		{ "GET /", 400 },
		{ "GET / HTTP/2.0", 505 },
		{ "GET / HTTP/1.1x", 400 },
		{ "G(T / HTTP/1.1", 400 },
		{ "GET http://h/ HTTP/1.1", 400 },
		{ "GET /a\x01 HTTP/1.1", 400 },
		{ "GET /a#b HTTP/1.1", 400 },
		{ "GET / HTTP/1.1\r\nno colon here", 400 },
		{ "GET / HTTP/1.1\r\nBad Name: v", 400 },
	};
	struct slice method, path;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *why = NULL;

		assert_int_equal(parse(cases[i].head, &method, &path, &why), cases[i].status);
		assert_non_null(why);
		assert_true(why[strlen(why) - 1] == '\n');
	}
}

/* Every prefix, in a buffer of exactly its length (ASan sees any read past
 * it), parses or fails cleanly. */
static void test_every_prefix_is_read_within_bounds(void **state)
{
	const char full[] = "GET /metrics?a=b HTTP/1.1\r\nHost: 127.0.0.1\r\nX-A: 1\r\n\r\n";

	for (size_t n = 0; n <= sizeof(full) - 1; n++) {
		char *copy = malloc(n ? n : 1);
		struct slice method, path;
		const char *why;
		int st;

		memcpy(copy, full, n);
		(void)http_head_end(copy, n);
		st = http_head_parse(slice_make(copy, n), &method, &path, &why);
		assert_true(st == 0 || st == 400 || st == 505);
		free(copy);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_end_after_blank_line_crlf_or_lf),
		cmocka_unit_test(test_method_and_path_without_query),
		cmocka_unit_test(test_malformed_heads_get_their_status),
		cmocka_unit_test(test_every_prefix_is_read_within_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

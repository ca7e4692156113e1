/* Unit tests for tools/http_resp.c: http-load's response framing. Every
 * vector is also fed in every two-piece split and byte by byte, the way a
 * socket may deliver it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "http_resp.h"

/* Feeds `in` the way a connection does: the unconsumed rest is kept and
 * the next `step` bytes appended. Returns the final rc; *consumed is how
 * many bytes of `in` belonged to the response (when DONE). */
static enum http_resp_rc feed_in_steps(struct http_resp *p, const char *in, size_t len,
				       size_t first, size_t step, size_t *consumed)
{
	char buf[64 * 1024];
	size_t have = 0, given = 0, gone = 0;
	enum http_resp_rc rc = HTTP_RESP_MORE;

	while (given < len) {
		size_t n = given == 0 ? first : step;
		size_t used;

		if (n > len - given)
			n = len - given;
		if (n == 0)
			n = 1;
		assert_true(have + n <= sizeof(buf));
		memcpy(buf + have, in + given, n);
		have += n;
		given += n;
		rc = http_resp_feed(p, buf, have, &used);
		assert_true(used <= have);
		memmove(buf, buf + used, have - used);
		have -= used;
		gone += used;
		if (rc != HTTP_RESP_MORE)
			break;
	}
	*consumed = gone;
	return rc;
}

/* The same vector in one piece, in every 2-way split and byte by byte.
 * resp_len 0: the response is the whole of `in`. */
static void expect_whole(const char *in, bool head_req, int status, bool keep_alive,
			 uint64_t body, size_t resp_len)
{
	size_t len = strlen(in);

	if (!resp_len)
		resp_len = len;
	for (size_t first = 0; first <= len; first++) {
		struct http_resp p;
		size_t consumed;

		http_resp_begin(&p, head_req);
		assert_int_equal(feed_in_steps(&p, in, len, first, len, &consumed), HTTP_RESP_DONE);
		assert_int_equal(consumed, resp_len);
		assert_int_equal(p.status, status);
		assert_int_equal(p.keep_alive, keep_alive);
		assert_int_equal(p.body_bytes, body);
	}
	{
		struct http_resp p;
		size_t consumed;

		http_resp_begin(&p, head_req);
		assert_int_equal(feed_in_steps(&p, in, len, 1, 1, &consumed), HTTP_RESP_DONE);
		assert_int_equal(consumed, resp_len);
		assert_int_equal(p.body_bytes, body);
	}
}

static void expect_error(const char *in, const char *reason_part)
{
	struct http_resp p;
	size_t used;

	http_resp_begin(&p, false);
	assert_int_equal(http_resp_feed(&p, in, strlen(in), &used), HTTP_RESP_ERROR);
	assert_non_null(p.error);
	assert_non_null(strstr(p.error, reason_part));
}

static void test_content_length_body_ends_response(void **state)
{
	const char *r = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nServer: x\r\n\r\nhello";

	expect_whole(r, false, 200, true, 5, strlen(r));
}

static void test_bytes_after_response_are_left_for_the_next(void **state)
{
	const char *one = "HTTP/1.1 204 No Content\r\n\r\n";
	char two[128];

	snprintf(two, sizeof(two), "%sHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", one);
	expect_whole(two, false, 204, true, 0, strlen(one));
}

static void test_chunked_body_with_extensions_and_trailers(void **state)
{
	const char *r = "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
			"5;name=v\r\nhello\r\n"
			"A\r\n0123456789\r\n"
			"0\r\nX-Trailer: 1\r\n\r\n";

	expect_whole(r, false, 200, true, 15, strlen(r));
}

static void test_head_answer_has_no_body_whatever_its_length(void **state)
{
	const char *r = "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n";

	expect_whole(r, true, 200, true, 0, strlen(r));
}

static void test_interim_100_is_skipped(void **state)
{
	const char *r = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 500 Oops\r\nContent-Length: 2\r\n\r\nno";

	expect_whole(r, false, 500, true, 2, strlen(r));
}

static void test_connection_close_and_http10_defaults(void **state)
{
	expect_whole("HTTP/1.1 200 OK\r\nConnection: Keep-Alive, Close\r\nContent-Length: 0\r\n\r\n",
		     false, 200, false, 0, 0);
	expect_whole("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", false, 200, false, 0, 0);
	expect_whole("HTTP/1.0 200 OK\r\nconnection: keep-alive\r\nContent-Length: 0\r\n\r\n", false,
		     200, true, 0, 0);
}

static void test_body_until_close_needs_eof(void **state)
{
	const char *r = "HTTP/1.1 200 OK\r\n\r\nsome bytes";
	struct http_resp p;
	size_t used;

	http_resp_begin(&p, false);
	assert_int_equal(http_resp_feed(&p, r, strlen(r), &used), HTTP_RESP_MORE);
	assert_int_equal(used, strlen(r));
	assert_false(p.keep_alive);
	assert_int_equal(http_resp_eof(&p), HTTP_RESP_DONE);
	assert_int_equal(p.body_bytes, 10);
}

static void test_eof_inside_head_or_body_is_an_error(void **state)
{
	struct http_resp p;
	size_t used;

	http_resp_begin(&p, false);
	assert_int_equal(http_resp_feed(&p, "HTTP/1.1 200", 12, &used), HTTP_RESP_MORE);
	assert_int_equal(used, 0);
	assert_int_equal(http_resp_eof(&p), HTTP_RESP_ERROR);

	http_resp_begin(&p, false);
	assert_int_equal(http_resp_feed(&p, "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nab", 41,
					&used), HTTP_RESP_MORE);
	assert_int_equal(http_resp_eof(&p), HTTP_RESP_ERROR);
	assert_non_null(strstr(p.error, "body"));
}

static void test_malformed_heads_are_errors(void **state)
{
	expect_error("HTTP/2 200 OK\r\n\r\n", "HTTP/1.0 or HTTP/1.1");
	expect_error("HTTP/1.1 20x OK\r\n\r\n", "three digits");
	expect_error("HTTP/1.1 2000 OK\r\n\r\n", "three digits");
	expect_error("HTTP/1.1 099 OK\r\n\r\n", "100-599");
	expect_error("HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", "without a name");
	expect_error("HTTP/1.1 200 OK\r\nBad Name: 1\r\n\r\n", "token");
	expect_error("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "Content-Length");
	expect_error("HTTP/1.1 200 OK\r\nContent-Length: 1234567890123456789\r\n\r\n",
		     "Content-Length");
	expect_error("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
		     "two different");
	expect_error("HTTP/1.1 101 Switching Protocols\r\n\r\n", "101");
}

static void test_malformed_chunks_are_errors(void **state)
{
	expect_error("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "hexadecimal");
	expect_error("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabX", "CRLF");
	expect_error("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		     "1234567890abcdef0\r\n", "15 hex digits");
}

static void test_oversized_head_and_lines_are_errors(void **state)
{
	static char big[HTTP_RESP_HEAD_MAX + 64];
	struct http_resp p;
	size_t used, n;

	n = (size_t)snprintf(big, sizeof(big), "HTTP/1.1 200 OK\r\nX: ");
	memset(big + n, 'a', sizeof(big) - n);
	http_resp_begin(&p, false);
	assert_int_equal(http_resp_feed(&p, big, sizeof(big), &used), HTTP_RESP_ERROR);
	assert_non_null(strstr(p.error, "16 KiB"));

	n = (size_t)snprintf(big, sizeof(big), "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
	memset(big + n, '1', 2000);
	http_resp_begin(&p, false);
	assert_int_equal(http_resp_feed(&p, big, n + 2000, &used), HTTP_RESP_ERROR);
	assert_non_null(strstr(p.error, "1 KiB"));
}

/* A head just under the limit still parses: the bound is the documented one. */
static void test_head_at_the_limit_is_accepted(void **state)
{
	static char big[HTTP_RESP_HEAD_MAX];
	const char *start = "HTTP/1.1 200 OK\r\nX: ";
	const char *end = "\r\nContent-Length: 0\r\n\r\n";
	size_t s = strlen(start), e = strlen(end);
	struct http_resp p;
	size_t used;

	memcpy(big, start, s);
	memset(big + s, 'a', sizeof(big) - s - e);
	memcpy(big + sizeof(big) - e, end, e);
	http_resp_begin(&p, false);
	assert_int_equal(http_resp_feed(&p, big, sizeof(big), &used), HTTP_RESP_DONE);
	assert_int_equal(used, sizeof(big));
}

/* Mutated responses, fed in random pieces: every call stays inside its
 * buffer (ASan builds check that) and ends in DONE, ERROR or MORE. */
static void test_mutated_responses_never_overrun(void **state)
{
	static const char *const seeds[] = {
		"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nT: 1\r\n\r\n",
		"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 204 No\r\nConnection: keep-alive\r\n\r\n",
	};
	uint32_t seed = 12345;

	for (int round = 0; round < 20000; round++) {
		const char *src = seeds[round % 3];
		size_t len = strlen(src);
		char *in = malloc(len);
		struct http_resp p;
		size_t consumed;
		enum http_resp_rc rc;

		assert_non_null(in);
		memcpy(in, src, len);
		for (int m = 0; m < 1 + round % 4; m++) {
			seed = seed * 1103515245u + 12345u;
			in[(seed >> 8) % len] = (char)(seed >> 20);
		}
		seed = seed * 1103515245u + 12345u;
		http_resp_begin(&p, false);
		rc = feed_in_steps(&p, in, len, 1 + (seed >> 16) % len, 1 + (seed >> 4) % 7,
				   &consumed);
		assert_true(rc == HTTP_RESP_MORE || rc == HTTP_RESP_DONE || rc == HTTP_RESP_ERROR);
		assert_true(consumed <= len);
		if (rc == HTTP_RESP_MORE)
			rc = http_resp_eof(&p);
		if (rc == HTTP_RESP_ERROR)
			assert_non_null(p.error);
		free(in);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_content_length_body_ends_response),
		cmocka_unit_test(test_bytes_after_response_are_left_for_the_next),
		cmocka_unit_test(test_chunked_body_with_extensions_and_trailers),
		cmocka_unit_test(test_head_answer_has_no_body_whatever_its_length),
		cmocka_unit_test(test_interim_100_is_skipped),
		cmocka_unit_test(test_connection_close_and_http10_defaults),
		cmocka_unit_test(test_body_until_close_needs_eof),
		cmocka_unit_test(test_eof_inside_head_or_body_is_an_error),
		cmocka_unit_test(test_malformed_heads_are_errors),
		cmocka_unit_test(test_malformed_chunks_are_errors),
		cmocka_unit_test(test_oversized_head_and_lines_are_errors),
		cmocka_unit_test(test_head_at_the_limit_is_accepted),
		cmocka_unit_test(test_mutated_responses_never_overrun),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

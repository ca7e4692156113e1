/* Unit tests for tools/http_reqparse.c: http-sink's request parser. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "http_reqparse.h"

static const char pipelined[] =
	"GET /a?x=1 HTTP/1.1\r\nHost: h1\r\n\r\n"
	"POST /b HTTP/1.1\r\nHost: h2\r\nContent-Length: 5\r\n\r\nhello"
	"PUT /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n"
	"3;ext=1\r\nabc\r\nA\r\n0123456789\r\n0\r\nX-Trailer: 1\r\n\r\n"
	"GET /d HTTP/1.1\r\nConnection: close\r\n\r\n";

struct seen {
	unsigned requests;
	uint64_t body[8];
	char target[8][HP_TARGET_MAX];
	bool keep_alive[8];
	bool expect[8];
};

/* Feeds `data` in pieces of at most `step` bytes, like reads would, keeping
 * unconsumed bytes as http-sink does. Returns -1 on a parse error, -2 when
 * bytes are left over at the end. */
static int feed_in_steps(const char *data, size_t len, size_t step, struct seen *out)
{
	struct http_reqparse p;
	char buf[4096];
	size_t have = 0, pos = 0;

	hp_init(&p, 2048);
	memset(out, 0, sizeof(*out));
	while (pos < len) {
		size_t n = len - pos < step ? len - pos : step, off = 0;

		memcpy(buf + have, data + pos, n);
		have += n;
		pos += n;
		while (off < have) {
			size_t used;
			enum hp_rc rc = hp_feed(&p, buf + off, have - off, &used);

			off += used;
			if (rc == HP_ERROR)
				return -1;
			if (rc == HP_DONE) {
				unsigned i = out->requests++;

				out->body[i] = p.body_bytes;
				memcpy(out->target[i], p.target, sizeof(p.target));
				out->keep_alive[i] = p.keep_alive;
				out->expect[i] = p.expect_continue;
				hp_reset(&p);
			}
			if (rc == HP_NEED_MORE)
				break;
		}
		memmove(buf, buf + off, have - off);
		have -= off;
	}
	return have ? -2 : 0;
}

static void check_pipelined(const struct seen *s)
{
	assert_int_equal(s->requests, 4);
	assert_string_equal(s->target[0], "/a?x=1");
	assert_int_equal(s->body[0], 0);
	assert_int_equal(s->body[1], 5);
	assert_int_equal(s->body[2], 13);
	assert_true(s->expect[2]);
	assert_true(s->keep_alive[2]);
	assert_string_equal(s->target[3], "/d");
	assert_false(s->keep_alive[3]);
}

static void test_pipelined_requests_with_all_framings(void **state)
{
	struct seen s;

	assert_int_equal(feed_in_steps(pipelined, sizeof(pipelined) - 1, 4096, &s), 0);
	check_pipelined(&s);
}

/* Every read size, down to one byte at a time, gives the same result. */
static void test_any_split_gives_same_requests(void **state)
{
	for (size_t step = 1; step < 64; step++) {
		struct seen s;

		assert_int_equal(feed_in_steps(pipelined, sizeof(pipelined) - 1, step, &s), 0);
		check_pipelined(&s);
	}
}

static void test_http10_closes_unless_keep_alive(void **state)
{
	const char r1[] = "GET / HTTP/1.0\r\n\r\n";
	const char r2[] = "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n";
	struct seen s;

	assert_int_equal(feed_in_steps(r1, sizeof(r1) - 1, 100, &s), 0);
	assert_false(s.keep_alive[0]);
	assert_int_equal(feed_in_steps(r2, sizeof(r2) - 1, 100, &s), 0);
	assert_true(s.keep_alive[0]);
}

static void test_malformed_requests_rejected(void **state)
{
	const char *bad[] = {
		"GARBAGE\r\n\r\n",
		"GET /x SPDY/3\r\n\r\n",
		"GET /x HTTP/1.1\r\nContent-Length: 12x\r\n\r\n",
		"GET /x HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
		"GET /x HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
		"GET /x HTTP/1.1\r\nNoColonHere\r\n\r\n",
		"POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
		"POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabXY",
		"POST /x HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
		"VERYLONGMETHODNAME /x HTTP/1.1\r\n\r\n",
	};
	struct seen s;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(feed_in_steps(bad[i], strlen(bad[i]), 100, &s), -1);
}

static void test_head_over_limit_rejected(void **state)
{
	char big[3000];
	struct http_reqparse p;
	size_t used;

	memset(big, 'a', sizeof(big));
	memcpy(big, "GET / HTTP/1.1\r\nX: ", 19);
	hp_init(&p, 2048);
	assert_int_equal(hp_feed(&p, big, sizeof(big), &used), HP_ERROR);
	assert_non_null(p.error);
}

static void test_incomplete_head_consumes_nothing(void **state)
{
	const char part[] = "GET / HTTP/1.1\r\nHost: x\r\n";
	struct http_reqparse p;
	size_t used = 99;

	hp_init(&p, 2048);
	assert_int_equal(hp_feed(&p, part, sizeof(part) - 1, &used), HP_NEED_MORE);
	assert_int_equal(used, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pipelined_requests_with_all_framings),
		cmocka_unit_test(test_any_split_gives_same_requests),
		cmocka_unit_test(test_http10_closes_unless_keep_alive),
		cmocka_unit_test(test_malformed_requests_rejected),
		cmocka_unit_test(test_head_over_limit_rejected),
		cmocka_unit_test(test_incomplete_head_consumes_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

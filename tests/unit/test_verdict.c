/* Unit tests for src/verdict.c: status, header rules, JSON or byte bodies,
 * bodies over the cap, and the verdicts for missing answers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "verdict.h"

#define H(n, v) { SLICE_LIT(n), SLICE_LIT(v) }

static const struct http_header json_hdrs_a[] = {
	H("Content-Type", "application/json; charset=utf-8"), H("Date", "Thu, 03 Dec 2026"),
	H("X-Request-ID", "aaa"), H("Content-Length", "20"), H("Vary", "Accept"),
	H("Connection", "keep-alive"),
};
static const struct http_header json_hdrs_b[] = {
	H("content-type", "application/problem+json"), H("DATE", "Fri, 04 Dec 2026"),
	H("x-request-id", "bbb"), H("Content-Length", "24"), H("vary", "Accept"),
};

static struct verdict v;

static struct verdict_answer ans(int status, const struct http_header *h, size_t n,
				 const char *body)
{
	return (struct verdict_answer){ .status = status, .headers = h, .nheaders = n,
					.body = slice_from_cstr(body) };
}

static struct verdict_rules rules(enum verdict_level level)
{
	return (struct verdict_rules){ .level = level, .max_diffs = 8 };
}

static void test_identical_answers_match_with_noisy_headers_ignored(void **state)
{
	struct verdict_answer a = ans(200, json_hdrs_a, 6, "{\"a\":1,\"b\":2}");
	struct verdict_answer b = ans(200, json_hdrs_b, 5, "{ \"b\": 2.0, \"a\": 1 }");
	struct verdict_rules r = rules(VERDICT_LEVEL_BODY);

	/* Content-Type differs in value: ignore it here to see the rest match */
	struct slice ign[] = { SLICE_LIT("Content-Type"), SLICE_LIT("content-length") };

	r.ignore_headers = ign;
	r.nignore_headers = 2;
	assert_int_equal(verdict_compare(&a, &b, &r, &v), VERDICT_MATCH);
	assert_true(v.body_as_json);
}

static void test_status_difference_wins(void **state)
{
	struct verdict_answer a = ans(200, NULL, 0, "x");
	struct verdict_answer b = ans(500, NULL, 0, "y");
	struct verdict_rules r = rules(VERDICT_LEVEL_BODY);

	assert_int_equal(verdict_compare(&a, &b, &r, &v), VERDICT_STATUS);
	assert_int_equal(v.status_a, 200);
	assert_int_equal(v.status_b, 500);
	assert_string_equal(verdict_result_name(v.result), "status");
	/* at level status, bodies are not looked at */
	b.status = 200;
	r.level = VERDICT_LEVEL_STATUS;
	assert_int_equal(verdict_compare(&a, &b, &r, &v), VERDICT_MATCH);
}

static void test_header_differences_with_both_values(void **state)
{
	static const struct http_header ha[] = { H("Cache-Control", "no-cache"),
						 H("X-Feature", "on"), H("Link", "a"),
						 H("Link", "b") };
	static const struct http_header hb[] = { H("cache-control", "max-age=60"),
						 H("Link", "a"), H("Link", "b"),
						 H("X-New", "1") };
	struct verdict_answer a = ans(200, ha, 4, ""), b = ans(200, hb, 4, "");
	struct verdict_rules r = rules(VERDICT_LEVEL_HEADERS);

	assert_int_equal(verdict_compare(&a, &b, &r, &v), VERDICT_HEADERS);
	assert_int_equal(v.nheader_diffs, 3);
	assert_string_equal(v.header_diffs[0].name, "Cache-Control");
	assert_string_equal(v.header_diffs[0].a, "no-cache");
	assert_string_equal(v.header_diffs[0].b, "max-age=60");
	assert_string_equal(v.header_diffs[1].name, "X-Feature");
	assert_true(v.header_diffs[1].b_absent);
	assert_string_equal(v.header_diffs[2].name, "X-New");
	assert_true(v.header_diffs[2].a_absent);
}

static void test_repeated_header_order_matters_and_is_joined(void **state)
{
	static const struct http_header ha[] = { H("Link", "a"), H("Link", "b") };
	static const struct http_header hb[] = { H("Link", "b"), H("Link", "a") };
	struct verdict_answer a = ans(200, ha, 2, ""), b = ans(200, hb, 2, "");
	struct verdict_rules r = rules(VERDICT_LEVEL_HEADERS);

	assert_int_equal(verdict_compare(&a, &b, &r, &v), VERDICT_HEADERS);
	assert_string_equal(v.header_diffs[0].a, "a, b");
	assert_string_equal(v.header_diffs[0].b, "b, a");
}

static void test_default_ignores_and_content_length_rule(void **state)
{
	struct verdict_rules r = rules(VERDICT_LEVEL_HEADERS);
	static const char *const noisy[] = { "Date", "server", "AGE", "Expires", "Set-Cookie",
					     "ETag", "Last-Modified", "X-Request-ID",
					     "X-Correlation-ID", "X-Amzn-Trace-Id", "traceparent",
					     "Tracestate", "Transfer-Encoding", "Keep-Alive" };

	for (size_t i = 0; i < sizeof(noisy) / sizeof(noisy[0]); i++)
		assert_true(verdict_header_ignored(slice_from_cstr(noisy[i]), &r));
	assert_false(verdict_header_ignored(SLICE_LIT("Content-Type"), &r));
	assert_true(verdict_header_ignored(SLICE_LIT("Content-Length"), &r));
	/* at the body level too: the bodies decide, not their lengths */
	r.level = VERDICT_LEVEL_BODY;
	assert_true(verdict_header_ignored(SLICE_LIT("content-length"), &r));
}

static void test_json_content_types(void **state)
{
	assert_true(verdict_is_json_type(SLICE_LIT("application/json")));
	assert_true(verdict_is_json_type(SLICE_LIT("Application/JSON ; charset=UTF-8")));
	assert_true(verdict_is_json_type(SLICE_LIT("application/vnd.api+json")));
	assert_false(verdict_is_json_type(SLICE_LIT("text/plain")));
	assert_false(verdict_is_json_type(SLICE_LIT("application/jsonp")));
	assert_false(verdict_is_json_type(SLICE_LIT("+json")));
	assert_false(verdict_is_json_type(SLICE_LIT("application/+json")));
}

static void test_json_body_difference_reports_pointers(void **state)
{
	static const struct http_header h[] = { H("Content-Type", "application/json") };
	static const char *const p[] = { "/meta/at" };
	char why[100];
	struct json_ignore *ig = json_ignore_compile(p, 1, why, sizeof(why));
	struct verdict_answer a = ans(200, h, 1, "{\"meta\":{\"at\":1},\"n\":1}");
	struct verdict_answer b = ans(200, h, 1, "{\"meta\":{\"at\":2},\"n\":2}");
	struct verdict_rules r = rules(VERDICT_LEVEL_BODY);

	r.ignore_json = ig;
	assert_int_equal(verdict_compare(&a, &b, &r, &v), VERDICT_BODY);
	assert_true(v.body_as_json);
	assert_int_equal(v.json.ndiffs, 1);
	assert_string_equal(v.json.diffs[0].pointer, "/n");
	json_ignore_free(ig);
}

static void test_identical_json_bodies_match_without_parsing(void **state)
{
	static const struct http_header h[] = { H("Content-Type", "application/json") };
	struct verdict_answer a = ans(200, h, 1, "{\"a\":[1,2,{\"b\":null}]}");
	struct verdict_answer b = ans(200, h, 1, "{\"a\":[1,2,{\"b\":null}]}");
	struct verdict_rules r = rules(VERDICT_LEVEL_BODY);

	/* body_as_json stays 0: the bytes decided, jansson never ran */
	assert_int_equal(verdict_compare(&a, &b, &r, &v), VERDICT_MATCH);
	assert_false(v.body_as_json);
	/* one byte of whitespace more and the JSON walk decides */
	b.body = SLICE_LIT("{\"a\":[1,2,{\"b\":null}]} ");
	assert_int_equal(verdict_compare(&a, &b, &r, &v), VERDICT_MATCH);
	assert_true(v.body_as_json);
}

static void test_invalid_json_falls_back_to_bytes(void **state)
{
	static const struct http_header h[] = { H("Content-Type", "application/json") };
	struct verdict_answer a = ans(200, h, 1, "{not json");
	struct verdict_answer b = ans(200, h, 1, "{not json");
	struct verdict_rules r = rules(VERDICT_LEVEL_BODY);

	assert_int_equal(verdict_compare(&a, &b, &r, &v), VERDICT_MATCH);
	assert_false(v.body_as_json);
	b.body = SLICE_LIT("{not jsoN");
	assert_int_equal(verdict_compare(&a, &b, &r, &v), VERDICT_BODY);
	assert_int_equal(v.body_diff_offset, 8);
}

static void test_non_json_bodies_compare_bytes(void **state)
{
	static const struct http_header h[] = { H("Content-Type", "text/html") };
	static const struct http_header hj[] = { H("Content-Type", "application/json") };
	struct verdict_answer a = ans(200, h, 1, "{\"a\":1}");
	struct verdict_answer b = ans(200, hj, 1, "{\"a\":1.0}");
	struct verdict_rules r = rules(VERDICT_LEVEL_BODY);
	struct slice ign[] = { SLICE_LIT("content-type") };

	r.ignore_headers = ign;
	r.nignore_headers = 1;
	/* only one side says JSON: bytes decide */
	assert_int_equal(verdict_compare(&a, &b, &r, &v), VERDICT_BODY);
	assert_false(v.body_as_json);
	assert_int_equal(v.body_diff_offset, 6);
	b.body = SLICE_LIT("{\"a\":1}x");
	assert_int_equal(verdict_compare(&a, &b, &r, &v), VERDICT_BODY);
	assert_int_equal(v.body_diff_offset, 7); /* a is a prefix */
}

static void test_bodies_over_the_cap_compare_by_length_and_digest(void **state)
{
	struct verdict_answer a = ans(200, NULL, 0, "0123456789");
	struct verdict_answer b = ans(200, NULL, 0, "0123456789");
	struct verdict_rules r = rules(VERDICT_LEVEL_BODY);
	const char whole[] = "0123456789 and the rest";

	a.body_state = b.body_state = VERDICT_BODY_OVER_CAP;
	a.body_total = b.body_total = sizeof(whole) - 1;
	a.body_digest = b.body_digest =
		verdict_digest_update(VERDICT_DIGEST_INIT, whole, sizeof(whole) - 1);
	assert_int_equal(verdict_compare(&a, &b, &r, &v), VERDICT_MATCH);
	b.body_digest = verdict_digest_update(VERDICT_DIGEST_INIT, "0123456789 and the resT",
					      sizeof(whole) - 1);
	assert_int_equal(verdict_compare(&a, &b, &r, &v), VERDICT_BODY);
	assert_int_equal(v.body_diff_offset, -1); /* beyond the captured bytes */
	b.body_digest = a.body_digest;
	b.body_total++;
	assert_int_equal(verdict_compare(&a, &b, &r, &v), VERDICT_BODY);
	/* one side complete and short, the other over the cap */
	b.body_state = VERDICT_BODY_COMPLETE;
	assert_int_equal(verdict_compare(&a, &b, &r, &v), VERDICT_BODY);
	/* FNV-1a 64 of "a", the published test vector */
	assert_true(verdict_digest_update(VERDICT_DIGEST_INIT, "a", 1) == 0xaf63dc4c8601ec8cull);
}

static void test_missing_or_partial_answers(void **state)
{
	struct verdict_answer a = ans(200, NULL, 0, "x"), b = ans(0, NULL, 0, "");
	struct verdict_rules r = rules(VERDICT_LEVEL_BODY);

	assert_int_equal(verdict_compare(&a, &b, &r, &v), VERDICT_SHADOW_ERROR);
	b = ans(200, NULL, 0, "x");
	b.body_state = VERDICT_BODY_PARTIAL;
	assert_int_equal(verdict_compare(&a, &b, &r, &v), VERDICT_NOT_COMPARABLE);
	/* a partial body does not matter when bodies are not compared */
	r.level = VERDICT_LEVEL_HEADERS;
	assert_int_equal(verdict_compare(&a, &b, &r, &v), VERDICT_MATCH);
	r.level = VERDICT_LEVEL_OFF;
	assert_int_equal(verdict_compare(&a, &b, &r, &v), VERDICT_NOT_COMPARABLE);
	a.status = 0;
	r.level = VERDICT_LEVEL_STATUS;
	assert_int_equal(verdict_compare(&a, &b, &r, &v), VERDICT_NOT_COMPARABLE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_identical_answers_match_with_noisy_headers_ignored),
		cmocka_unit_test(test_status_difference_wins),
		cmocka_unit_test(test_header_differences_with_both_values),
		cmocka_unit_test(test_repeated_header_order_matters_and_is_joined),
		cmocka_unit_test(test_default_ignores_and_content_length_rule),
		cmocka_unit_test(test_json_content_types),
		cmocka_unit_test(test_json_body_difference_reports_pointers),
		cmocka_unit_test(test_identical_json_bodies_match_without_parsing),
		cmocka_unit_test(test_invalid_json_falls_back_to_bytes),
		cmocka_unit_test(test_non_json_bodies_compare_bytes),
		cmocka_unit_test(test_bodies_over_the_cap_compare_by_length_and_digest),
		cmocka_unit_test(test_missing_or_partial_answers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for src/json_compare.c: JSON answers compared as values, with
 * JSON Pointer ignores, bounded depth and the byte fallback's signal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "json_compare.h"

static struct json_cmp_report rep;

static enum json_cmp_result cmp_ig(const char *a, const char *b, const struct json_ignore *ig)
{
	return json_compare(slice_from_cstr(a), slice_from_cstr(b), ig, JSON_CMP_MAX_DIFFS, &rep);
}

static enum json_cmp_result cmp(const char *a, const char *b)
{
	return cmp_ig(a, b, NULL);
}

static struct json_ignore *compile(const char *const *p, size_t n)
{
	char why[200];
	struct json_ignore *ig = json_ignore_compile(p, n, why, sizeof(why));

	assert_non_null(ig);
	return ig;
}

static void test_key_order_and_whitespace_do_not_matter(void **state)
{
	assert_int_equal(cmp("{\"a\":1,\"b\":[true,null,\"x\"]}",
			     " {\n \"b\" : [ true , null , \"x\" ] ,\t\"a\" : 1 } "),
			 JSON_CMP_EQUAL);
	assert_int_equal(rep.ndiffs, 0);
}

static void test_number_spellings_compare_as_values(void **state)
{
	assert_int_equal(cmp("[1, 100, 0.5, -0, 12]", "[1.0, 1e2, 5e-1, 0, 1.2E1]"),
			 JSON_CMP_EQUAL);
	assert_int_equal(cmp("[1]", "[1.5]"), JSON_CMP_DIFFERENT);
	assert_string_equal(rep.diffs[0].pointer, "/0");
	assert_string_equal(rep.diffs[0].a, "1");
	assert_string_equal(rep.diffs[0].b, "1.5");
}

static void test_large_integers_keep_their_precision(void **state)
{
	/* 2^53 + 1: a double cannot tell these apart, int64 can */
	assert_int_equal(cmp("[9007199254740993]", "[9007199254740992]"), JSON_CMP_DIFFERENT);
	assert_int_equal(cmp("[9007199254740993]", "[9007199254740992.0]"), JSON_CMP_DIFFERENT);
	assert_int_equal(cmp("[9223372036854775807]", "[9223372036854775807]"), JSON_CMP_EQUAL);
	/* beyond 64 bits jansson refuses: the caller compares bytes */
	assert_int_equal(cmp("[18446744073709551616]", "[18446744073709551616]"),
			 JSON_CMP_INVALID);
}

static void test_nested_difference_reports_its_pointer_and_both_values(void **state)
{
	assert_int_equal(cmp("{\"items\":[{\"id\":1,\"name\":\"a\"},{\"id\":2,\"name\":\"b\"}]}",
			     "{\"items\":[{\"id\":1,\"name\":\"a\"},{\"id\":2,\"name\":\"c\"}]}"),
			 JSON_CMP_DIFFERENT);
	assert_int_equal(rep.ndiffs, 1);
	assert_string_equal(rep.diffs[0].pointer, "/items/1/name");
	assert_string_equal(rep.diffs[0].a, "\"b\"");
	assert_string_equal(rep.diffs[0].b, "\"c\"");
}

static void test_missing_keys_and_elements_are_absent_on_one_side(void **state)
{
	assert_int_equal(cmp("{\"a\":1,\"l\":[1,2]}", "{\"b\":{\"x\":1},\"l\":[1]}"),
			 JSON_CMP_DIFFERENT);
	assert_int_equal(rep.ndiffs, 3);
	for (unsigned i = 0; i < rep.ndiffs; i++) {
		const struct json_cmp_diff *d = &rep.diffs[i];

		if (strcmp(d->pointer, "/a") == 0) {
			assert_true(d->b_absent && !d->a_absent);
		} else if (strcmp(d->pointer, "/b") == 0) {
			assert_true(d->a_absent && !d->b_absent);
			assert_string_equal(d->b, "{\"x\":1}");
		} else {
			assert_string_equal(d->pointer, "/l/1");
			assert_string_equal(d->a, "2");
			assert_true(d->b_absent);
		}
	}
}

static void test_type_change_is_a_difference(void **state)
{
	assert_int_equal(cmp("{\"a\":\"1\"}", "{\"a\":1}"), JSON_CMP_DIFFERENT);
	assert_int_equal(cmp("{\"a\":null}", "{\"a\":false}"), JSON_CMP_DIFFERENT);
	assert_int_equal(cmp("{\"a\":[]}", "{\"a\":{}}"), JSON_CMP_DIFFERENT);
	assert_int_equal(cmp("true", "true"), JSON_CMP_EQUAL);
}

static void test_unicode_escapes_equal_their_utf8(void **state)
{
	assert_int_equal(cmp("[\"caf\\u00e9 \\ud83d\\ude00\"]", "[\"caf\xc3\xa9 \xf0\x9f\x98\x80\"]"),
			 JSON_CMP_EQUAL);
	/* NUL inside a string is data, not the end */
	assert_int_equal(cmp("[\"a\\u0000b\"]", "[\"a\\u0000c\"]"), JSON_CMP_DIFFERENT);
	/* a lone surrogate is not JSON text */
	assert_int_equal(cmp("[\"\\ud800\"]", "[\"\\ud800\"]"), JSON_CMP_INVALID);
}

static void test_invalid_json_asks_for_byte_comparison(void **state)
{
	assert_int_equal(cmp("{\"a\":1", "{\"a\":1}"), JSON_CMP_INVALID);
	assert_string_equal(rep.invalid, "primary");
	assert_int_equal(cmp("{\"a\":1}", "<html>"), JSON_CMP_INVALID);
	assert_string_equal(rep.invalid, "shadow");
	assert_int_equal(cmp("", ""), JSON_CMP_INVALID);
	/* which of two duplicate keys would count? neither: bytes decide */
	assert_int_equal(cmp("{\"a\":1,\"a\":2}", "{\"a\":2}"), JSON_CMP_INVALID);
}

static void test_nesting_beyond_the_limit_asks_for_bytes(void **state)
{
	size_t n = JSON_CMP_DEPTH_MAX + 1;
	char *deep = malloc(2 * n + 1), *ok = malloc(2 * n);

	memset(deep, '[', n);
	memset(deep + n, ']', n);
	deep[2 * n] = '\0';
	assert_int_equal(cmp(deep, deep), JSON_CMP_INVALID);
	assert_string_equal(rep.invalid, "depth");
	memset(ok, '[', n - 1);
	memset(ok + n - 1, ']', n - 1);
	ok[2 * n - 2] = '\0';
	assert_int_equal(cmp(ok, ok), JSON_CMP_EQUAL);
	free(deep);
	free(ok);
}

static void test_ignored_pointers_with_wildcards(void **state)
{
	static const char *const p[] = { "/meta/requested_at", "/items/*/updated_at" };
	struct json_ignore *ig = compile(p, 2);

	assert_int_equal(cmp_ig("{\"meta\":{\"requested_at\":1,\"v\":2},\"items\":[{\"id\":1,"
				"\"updated_at\":\"x\"},{\"id\":2,\"updated_at\":\"y\"}]}",
				"{\"meta\":{\"requested_at\":9,\"v\":2},\"items\":[{\"id\":1,"
				"\"updated_at\":\"z\"},{\"id\":2}]}",
				ig),
			 JSON_CMP_EQUAL);
	/* the wildcard is one level, not any depth */
	assert_int_equal(cmp_ig("{\"items\":[{\"sub\":{\"updated_at\":1}}]}",
				"{\"items\":[{\"sub\":{\"updated_at\":2}}]}", ig),
			 JSON_CMP_DIFFERENT);
	assert_string_equal(rep.diffs[0].pointer, "/items/0/sub/updated_at");
	json_ignore_free(ig);
}

static void test_wildcard_matches_object_keys_and_indexes(void **state)
{
	static const char *const p[] = { "/*/ts", "/list/1" };
	struct json_ignore *ig = compile(p, 2);

	assert_int_equal(cmp_ig("{\"a\":{\"ts\":1},\"b\":{\"ts\":2},\"list\":[1,2,3]}",
				"{\"a\":{\"ts\":3},\"b\":{\"ts\":4},\"list\":[1,9,3]}", ig),
			 JSON_CMP_EQUAL);
	json_ignore_free(ig);
}

static void test_rfc6901_escapes_in_patterns_and_reports(void **state)
{
	static const char *const p[] = { "/a~1b/m~0n" };
	struct json_ignore *ig = compile(p, 1);

	assert_int_equal(cmp_ig("{\"a/b\":{\"m~n\":1,\"k\":1}}", "{\"a/b\":{\"m~n\":2,\"k\":1}}",
				ig),
			 JSON_CMP_EQUAL);
	assert_int_equal(cmp("{\"a/b\":{\"m~n\":1}}", "{\"a/b\":{\"m~n\":2}}"),
			 JSON_CMP_DIFFERENT);
	assert_string_equal(rep.diffs[0].pointer, "/a~1b/m~0n");
	json_ignore_free(ig);
}

static void test_malformed_patterns_are_refused_with_a_reason(void **state)
{
	static const char *const no_slash[] = { "meta" };
	static const char *const bad_tilde[] = { "/a~2" };
	char why[200] = "";

	assert_null(json_ignore_compile(no_slash, 1, why, sizeof(why)));
	assert_non_null(strstr(why, "meta"));
	assert_null(json_ignore_compile(bad_tilde, 1, why, sizeof(why)));
	assert_non_null(strstr(why, "~"));
}

static void test_differences_beyond_the_limit_are_counted(void **state)
{
	char a[600], b[600];
	size_t oa = 0, ob = 0;

	oa += (size_t)snprintf(a + oa, sizeof(a) - oa, "[");
	ob += (size_t)snprintf(b + ob, sizeof(b) - ob, "[");
	for (int i = 0; i < 40; i++) {
		oa += (size_t)snprintf(a + oa, sizeof(a) - oa, "%s%d", i ? "," : "", i);
		ob += (size_t)snprintf(b + ob, sizeof(b) - ob, "%s%d", i ? "," : "", i + 1);
	}
	snprintf(a + oa, sizeof(a) - oa, "]");
	snprintf(b + ob, sizeof(b) - ob, "]");
	assert_int_equal(json_compare(slice_from_cstr(a), slice_from_cstr(b), NULL, 5, &rep),
			 JSON_CMP_DIFFERENT);
	assert_int_equal(rep.ndiffs, 5);
	assert_int_equal(rep.more, 35);
}

static void test_long_values_are_shortened_on_utf8_boundaries(void **state)
{
	char a[400], b[] = "[\"x\"]";
	size_t o = 0;

	o += (size_t)snprintf(a, sizeof(a), "[\"");
	for (int i = 0; i < 60; i++)
		o += (size_t)snprintf(a + o, sizeof(a) - o, "\xc3\xa9"); /* é */
	snprintf(a + o, sizeof(a) - o, "\"]");
	assert_int_equal(cmp(a, b), JSON_CMP_DIFFERENT);
	assert_true(strlen(rep.diffs[0].a) <= JSON_CMP_VALUE_MAX);
	/* "\"" + n * 2-byte é + "...": a split é would make the length even */
	assert_int_equal(strlen(rep.diffs[0].a) % 2, 0);
	assert_non_null(strstr(rep.diffs[0].a, "..."));
	assert_int_equal(strncmp(rep.diffs[0].a, "\"\xc3\xa9", 3), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_order_and_whitespace_do_not_matter),
		cmocka_unit_test(test_number_spellings_compare_as_values),
		cmocka_unit_test(test_large_integers_keep_their_precision),
		cmocka_unit_test(test_nested_difference_reports_its_pointer_and_both_values),
		cmocka_unit_test(test_missing_keys_and_elements_are_absent_on_one_side),
		cmocka_unit_test(test_type_change_is_a_difference),
		cmocka_unit_test(test_unicode_escapes_equal_their_utf8),
		cmocka_unit_test(test_invalid_json_asks_for_byte_comparison),
		cmocka_unit_test(test_nesting_beyond_the_limit_asks_for_bytes),
		cmocka_unit_test(test_ignored_pointers_with_wildcards),
		cmocka_unit_test(test_wildcard_matches_object_keys_and_indexes),
		cmocka_unit_test(test_rfc6901_escapes_in_patterns_and_reports),
		cmocka_unit_test(test_malformed_patterns_are_refused_with_a_reason),
		cmocka_unit_test(test_differences_beyond_the_limit_are_counted),
		cmocka_unit_test(test_long_values_are_shortened_on_utf8_boundaries),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

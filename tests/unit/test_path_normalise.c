/* Unit tests for src/path_normalise.c: endpoints grouped with ids out. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "path_normalise.h"

static const char *norm(const char *method, const char *path)
{
	static char out[PATH_NORM_MAX + 1];
	size_t n = path_normalise(slice_from_cstr(method), slice_from_cstr(path), out);

	assert_int_equal(n, strlen(out));
	return out;
}

static void test_ids_become_placeholders(void **state)
{
	assert_string_equal(norm("GET", "/users/42"), "GET /users/{id}");
	assert_string_equal(norm("GET", "/users/7f3a9c01d2"), "GET /users/{id}");
	assert_string_equal(norm("DELETE", "/o/123e4567-E89B-12d3-a456-426614174000/items/9"),
			    "DELETE /o/{id}/items/{id}");
	assert_string_equal(norm("GET", "/t/dGhpcyBpcyB0b2tlbjEyMw"), "GET /t/{id}");
}

static void test_words_and_short_hex_stay(void **state)
{
	assert_string_equal(norm("GET", "/api/v2/users/me"), "GET /api/v2/users/me");
	assert_string_equal(norm("GET", "/deadbeef/cafe12"), "GET /deadbeef/cafe12");
	assert_string_equal(norm("GET", "/docs/v2-api-documentation"),
			    "GET /docs/v2-api-documentation");
	/* one digit short of a UUID is still an id, by the token rule */
	assert_string_equal(norm("GET", "/o/123e4567-e89b-12d3-a456-42661417400"),
			    "GET /o/{id}");
	assert_string_equal(norm("GET", "/o/not-a-uuid-at-all"), "GET /o/not-a-uuid-at-all");
}

static void test_query_and_fragment_are_dropped(void **state)
{
	assert_string_equal(norm("GET", "/a/1?x=2&y=3"), "GET /a/{id}");
	assert_string_equal(norm("GET", "/a#frag"), "GET /a");
	assert_string_equal(norm("GET", "?q=1"), "GET /");
	assert_string_equal(norm("GET", ""), "GET /");
	assert_string_equal(norm("GET", "/a//b/"), "GET /a//b/");
}

static void test_segment_rules(void **state)
{
	assert_true(path_segment_is_id(SLICE_LIT("0")));
	assert_true(path_segment_is_id(SLICE_LIT("00123")));
	assert_true(path_segment_is_id(SLICE_LIT("a1b2c3d4")));
	assert_false(path_segment_is_id(SLICE_LIT("a1b2c3d"))); /* 7 hex */
	assert_false(path_segment_is_id(SLICE_LIT("abcdefab")));	/* hex word, no digit */
	assert_true(path_segment_is_id(SLICE_LIT("eyJhbGciOiJIUzI1NiJ9")));
	assert_false(path_segment_is_id(SLICE_LIT("a-very-long-slug-name")));
	assert_false(path_segment_is_id(SLICE_LIT("")));
	assert_false(path_segment_is_id(SLICE_LIT("12ab%20cd")));
}

static void test_long_paths_are_cut_and_marked(void **state)
{
	char path[600];
	const char *out;

	memset(path, 'x', sizeof(path) - 1);
	path[0] = '/';
	path[sizeof(path) - 1] = '\0';
	out = norm("GET", path);
	assert_int_equal(strlen(out), PATH_NORM_MAX);
	assert_string_equal(out + PATH_NORM_MAX - 3, "...");
	/* a cut never splits a UTF-8 sequence */
	for (size_t i = 1; i + 1 < sizeof(path); i += 2)
		memcpy(path + i, "\xc3\xa9", 2);
	out = norm("POST", path);
	assert_true(strlen(out) <= PATH_NORM_MAX);
	assert_string_equal(out + strlen(out) - 3, "...");
	assert_int_not_equal((unsigned char)out[strlen(out) - 4], 0xc3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ids_become_placeholders),
		cmocka_unit_test(test_words_and_short_hex_stay),
		cmocka_unit_test(test_query_and_fragment_are_dropped),
		cmocka_unit_test(test_segment_rules),
		cmocka_unit_test(test_long_paths_are_cut_and_marked),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for src/units.c: durations, sizes, numbers, booleans, port
 * ranges, comma lists and header lists as operators type them. */
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "strbuf.h"
#include "units.h"

static void test_time_plain_number_is_milliseconds(void **state)
{
	unsigned ms = 99;
	char why[200];

	assert_int_equal(units_parse_time_ms("0", &ms, why, sizeof(why)), 0);
	assert_int_equal(ms, 0);
	assert_int_equal(units_parse_time_ms("250", &ms, why, sizeof(why)), 0);
	assert_int_equal(ms, 250);
}

static void test_time_units_convert_to_milliseconds(void **state)
{
	static const struct {
		const char *in;
		unsigned ms;
	} cases[] = {
		{ "1500us", 2 },   { "1us", 1 },       { "999us", 1 },   { "2000us", 2 },
		{ "7ms", 7 },      { "1.5s", 1500 },   { "5s", 5000 },   { "2m", 120000 },
		{ "1h", 3600000 }, { "1d", 86400000 }, { "0.25s", 250 }, { "0s", 0 },
		{ "49d", 49u * 86400000u },
	};
	char why[200];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unsigned ms = 12345;

		assert_int_equal(units_parse_time_ms(cases[i].in, &ms, why, sizeof(why)), 0);
		assert_int_equal(ms, cases[i].ms);
	}
}

static void test_time_rejects_garbage_units_and_overflow(void **state)
{
	static const char *const bad[] = { "", "abc", "5x", "5 s", "-1", "1.", ".5", "5sec",
					   "50d", "1e3", "0x10", "5s ", "1.2.3" };
	char why[200];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		unsigned ms = 77;

		why[0] = '\0';
		assert_int_equal(units_parse_time_ms(bad[i], &ms, why, sizeof(why)), -1);
		assert_int_equal(ms, 77);
		assert_true(strlen(why) > 0);
		assert_null(strchr(why, '\n'));
	}
}

static void test_size_suffixes_are_powers_of_1024(void **state)
{
	static const struct {
		const char *in;
		size_t bytes;
	} cases[] = {
		{ "1000", 1000 },      { "512k", 512 * 1024 }, { "512K", 512 * 1024 },
		{ "4m", 4u << 20 },    { "4MiB", 4u << 20 },   { "1g", 1u << 30 },
		{ "1.5k", 1536 },      { "2kb", 2048 },        { "300b", 300 },
	};
	char why[200];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t v = 0;

		assert_int_equal(units_parse_size(cases[i].in, 1, SIZE_MAX / 2, &v, why, sizeof(why)),
				 0);
		assert_int_equal(v, cases[i].bytes);
	}
}

static void test_size_rejects_range_fractions_and_garbage(void **state)
{
	char why[200];
	size_t v = 5;

	assert_int_equal(units_parse_size("255", 256, 1024, &v, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "between 256 and 1k"));
	assert_int_equal(units_parse_size("2k", 256, 1024, &v, why, sizeof(why)), -1);
	assert_int_equal(units_parse_size("1.5", 1, 1024, &v, why, sizeof(why)), -1);
	assert_int_equal(units_parse_size("4t", 1, 1024, &v, why, sizeof(why)), -1);
	assert_int_equal(units_parse_size("4bk", 1, 1024, &v, why, sizeof(why)), -1);
	assert_int_equal(units_parse_size("k", 1, 1024, &v, why, sizeof(why)), -1);
	assert_int_equal(units_parse_size("", 1, 1024, &v, why, sizeof(why)), -1);
	assert_int_equal(v, 5);
}

static void test_uint_range_and_overflow(void **state)
{
	unsigned long long v = 3;
	char why[200];

	assert_int_equal(units_parse_uint("65535", 1, 65535, &v, why, sizeof(why)), 0);
	assert_int_equal(v, 65535);
	assert_int_equal(units_parse_uint("65536", 1, 65535, &v, why, sizeof(why)), -1);
	assert_string_equal(why, "must be an integer between 1 and 65535");
	assert_int_equal(units_parse_uint("0", 1, 65535, &v, why, sizeof(why)), -1);
	assert_int_equal(units_parse_uint("99999999999999999999999", 1, 65535, &v, why, sizeof(why)),
			 -1);
	assert_int_equal(units_parse_uint("+5", 1, 65535, &v, why, sizeof(why)), -1);
	assert_int_equal(units_parse_uint("5k", 1, 65535, &v, why, sizeof(why)), -1);
	assert_int_equal(v, 65535);
}

static void test_decimal_percent_sign_only_when_allowed(void **state)
{
	double d = -1;
	char why[200];

	assert_int_equal(units_parse_decimal("12.5", 0, 100, true, &d, why, sizeof(why)), 0);
	assert_true(d == 12.5);
	assert_int_equal(units_parse_decimal("50%", 0, 100, true, &d, why, sizeof(why)), 0);
	assert_true(d == 50);
	assert_int_equal(units_parse_decimal("50%", 0, 100, false, &d, why, sizeof(why)), -1);
	assert_int_equal(units_parse_decimal("150", 0, 100, true, &d, why, sizeof(why)), -1);
	assert_string_equal(why, "must be a number between 0 and 100");
	assert_int_equal(units_parse_decimal("nan", 0, 100, true, &d, why, sizeof(why)), -1);
	assert_true(d == 50);
}

static void test_bool_accepts_the_six_spellings(void **state)
{
	static const char *const yes[] = { "true", "YES", "On", "1" };
	static const char *const no[] = { "false", "no", "OFF", "0" };
	char why[200];
	bool b;

	for (int i = 0; i < 4; i++) {
		b = false;
		assert_int_equal(units_parse_bool(yes[i], &b, why, sizeof(why)), 0);
		assert_true(b);
		b = true;
		assert_int_equal(units_parse_bool(no[i], &b, why, sizeof(why)), 0);
		assert_false(b);
	}
	assert_int_equal(units_parse_bool("maybe", &b, why, sizeof(why)), -1);
	assert_int_equal(units_parse_bool("", &b, why, sizeof(why)), -1);
}

static void test_port_range_single_and_pair(void **state)
{
	unsigned lo = 0, hi = 0;
	char why[200];

	assert_int_equal(units_parse_port_range("4000", &lo, &hi, why, sizeof(why)), 0);
	assert_int_equal(lo, 4000);
	assert_int_equal(hi, 4000);
	assert_int_equal(units_parse_port_range("4000-4099", &lo, &hi, why, sizeof(why)), 0);
	assert_int_equal(lo, 4000);
	assert_int_equal(hi, 4099);
	assert_int_equal(units_parse_port_range("5000-4000", &lo, &hi, why, sizeof(why)), -1);
	assert_int_equal(units_parse_port_range("0", &lo, &hi, why, sizeof(why)), -1);
	assert_int_equal(units_parse_port_range("70000", &lo, &hi, why, sizeof(why)), -1);
	assert_int_equal(units_parse_port_range("4000-", &lo, &hi, why, sizeof(why)), -1);
	assert_int_equal(units_parse_port_range("a-b", &lo, &hi, why, sizeof(why)), -1);
	assert_int_equal(lo, 4000);
}

static void test_list_trims_items_and_rejects_empty_ones(void **state)
{
	char **items = NULL;
	size_t n = 0;
	char why[200];

	/* an error into an empty list leaves no array behind */
	assert_int_equal(units_parse_list("x, y,", &items, &n, why, sizeof(why)), -1);
	assert_null(items);
	assert_int_equal(n, 0);
	assert_int_equal(units_parse_list(" a , b,c ", &items, &n, why, sizeof(why)), 0);
	assert_int_equal(n, 3);
	assert_string_equal(items[0], "a");
	assert_string_equal(items[1], "b");
	assert_string_equal(items[2], "c");
	assert_int_equal(units_parse_list("a,,b", &items, &n, why, sizeof(why)), -1);
	assert_int_equal(units_parse_list("a,", &items, &n, why, sizeof(why)), -1);
	assert_int_equal(n, 3);
	assert_int_equal(units_parse_list("  ", &items, &n, why, sizeof(why)), 0);
	assert_int_equal(n, 3);
	for (size_t i = 0; i < n; i++)
		free(items[i]);
	free(items);
}

static void free_pairs(struct header_pair *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(p[i].name);
		free(p[i].value);
	}
	free(p);
}

static void test_header_list_seed_form_splits_on_commas(void **state)
{
	struct header_pair *p = NULL;
	size_t n = 0;
	char why[200];

	assert_int_equal(units_parse_header_list("X-Mirror: true, X-Shadow-Version: v2", &p, &n, why,
						 sizeof(why)),
			 0);
	assert_int_equal(n, 2);
	assert_string_equal(p[0].name, "X-Mirror");
	assert_string_equal(p[0].value, "true");
	assert_string_equal(p[1].name, "X-Shadow-Version");
	assert_string_equal(p[1].value, "v2");
	free_pairs(p, n);
}

static void test_header_list_comma_inside_value_stays(void **state)
{
	struct header_pair *p = NULL;
	size_t n = 0;
	char why[200];

	assert_int_equal(units_parse_header_list("Accept: text/html, application/json,X-B:2, "
						 "X-C: a\\, b: c, X-D: back\\\\slash",
						 &p, &n, why, sizeof(why)),
			 0);
	assert_int_equal(n, 4);
	assert_string_equal(p[0].value, "text/html, application/json");
	assert_string_equal(p[1].name, "X-B");
	assert_string_equal(p[1].value, "2");
	assert_string_equal(p[2].name, "X-C");
	assert_string_equal(p[2].value, "a, b: c");
	assert_string_equal(p[3].value, "back\\slash");
	free_pairs(p, n);
}

static void test_header_list_errors_append_nothing(void **state)
{
	static const char *const bad[] = { "X-A", "X-A: 1, X-B: a\nb", "Bad Name: 1", "X-A: a\rb",
					   ": 1", "X-A: \x01" };
	struct header_pair *p = NULL;
	size_t n = 0;
	char why[200];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(units_parse_header_list(bad[i], &p, &n, why, sizeof(why)), -1);
		assert_int_equal(n, 0);
		assert_null(p);
	}
	/* no colon after X-B: the comma and X-B belong to X-A's value */
	assert_int_equal(units_parse_header_list("X-A: 1, X-B", &p, &n, why, sizeof(why)), 0);
	assert_int_equal(n, 1);
	assert_string_equal(p[0].value, "1, X-B");
	free_pairs(p, n);
}

static void test_single_header_keeps_commas(void **state)
{
	struct header_pair h;
	char why[200];

	assert_int_equal(units_parse_header("X-List: a, B: c", &h, why, sizeof(why)), 0);
	assert_string_equal(h.name, "X-List");
	assert_string_equal(h.value, "a, B: c");
	free(h.name);
	free(h.value);
	assert_int_equal(units_parse_header("X-Empty:", &h, why, sizeof(why)), 0);
	assert_string_equal(h.value, "");
	free(h.name);
	free(h.value);
	assert_int_equal(units_parse_header("no colon", &h, why, sizeof(why)), -1);
}

static void test_format_round_trips_through_parse(void **state)
{
	static const unsigned times[] = { 0, 1, 999, 1000, 1500, 60000, 300000, 3600000, 86400000,
					  UINT_MAX };
	static const size_t sizes[] = { 0, 1, 1000, 1024, 1536, 4u << 20, 1u << 30 };
	char buf[32], why[200];

	for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
		unsigned back = 1;

		units_format_time_ms(times[i], buf, sizeof(buf));
		assert_int_equal(units_parse_time_ms(buf, &back, why, sizeof(why)), 0);
		assert_int_equal(back, times[i]);
	}
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t back = 1;

		units_format_size(sizes[i], buf, sizeof(buf));
		assert_int_equal(units_parse_size(buf, 0, SIZE_MAX / 2, &back, why, sizeof(why)), 0);
		assert_int_equal(back, sizes[i]);
	}
	units_format_time_ms(300000, buf, sizeof(buf));
	assert_string_equal(buf, "5m");
	units_format_time_ms(0, buf, sizeof(buf));
	assert_string_equal(buf, "0");
	units_format_time_ms(1500, buf, sizeof(buf));
	assert_string_equal(buf, "1500ms");
	units_format_size(4u << 20, buf, sizeof(buf));
	assert_string_equal(buf, "4m");
}

/* units_parse_decimal in the range of sample and rate-limit */
static double parse_decimal(const char *text)
{
	char why[200];
	double v = -1;

	if (units_parse_decimal(text, 0, 1e9, false, &v, why, sizeof(why)) < 0)
		fail_msg("'%s': %s", text, why);
	return v;
}

/* Whatever units_parse_decimal produced, units_format_decimal writes text
 * it reads back bit for bit, and the shortest such text. */
static void test_format_decimal_reads_back_exactly(void **state)
{
	static const char *const typed[] = { "0", "100", "12.5", "0.3", "0.1", "33.333333333333333",
					     "99.999999999999999", "0.000000000000001",
					     "123456.789", "1000000000", "2.675",
					     /* printf's text for these reads back as another double */
					     "7102049.7097331675", "78180.5969550539235" };
	static const double refused[] = { -1, 1e18, 0.5000000000000001 };
	char buf[64], text[64];
	double v, back;

	for (size_t i = 0; i < sizeof(typed) / sizeof(typed[0]); i++) {
		v = parse_decimal(typed[i]);
		assert_int_equal(units_format_decimal(v, buf, sizeof(buf)), 0);
		back = parse_decimal(buf);
		assert_memory_equal(&back, &v, sizeof(v));
	}
	/* a sweep of three-decimal values, as sample and rate-limit take them */
	for (unsigned i = 0; i <= 100000; i += 7) {
		snprintf(text, sizeof(text), "%u.%03u", i / 1000, i % 1000);
		v = parse_decimal(text);
		assert_int_equal(units_format_decimal(v, buf, sizeof(buf)), 0);
		back = parse_decimal(buf);
		assert_memory_equal(&back, &v, sizeof(v));
	}
	/* the shortest such text */
	assert_int_equal(units_format_decimal(parse_decimal("0.3"), buf, sizeof(buf)), 0);
	assert_string_equal(buf, "0.3");
	assert_int_equal(units_format_decimal(12.5, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "12.5");
	assert_int_equal(units_format_decimal(100, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "100");
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		assert_int_equal(units_format_decimal(refused[i], buf, sizeof(buf)), -1);
	assert_int_equal(units_format_decimal(NAN, buf, sizeof(buf)), -1);
	assert_int_equal(units_format_decimal(INFINITY, buf, sizeof(buf)), -1);
}

static void test_format_list_reads_back_or_refuses(void **state)
{
	char *items[] = { "mirror-request", "x.y", "z" };
	char *bad[][1] = { { "a,b" }, { "" }, { " a" }, { "a\t" } };
	struct strbuf out = STRBUF_INIT;
	char **back = NULL, why[200];
	size_t n = 0;

	assert_int_equal(units_format_list(items, 3, &out), 0);
	assert_string_equal(out.data, "mirror-request, x.y, z");
	assert_int_equal(units_parse_list(out.data, &back, &n, why, sizeof(why)), 0);
	assert_int_equal(n, 3);
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(back[i], items[i]);
		free(back[i]);
	}
	free(back);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		strbuf_reset(&out);
		assert_int_equal(units_format_list(bad[i], 1, &out), -1);
		assert_int_equal(out.len, 0);
	}
	strbuf_free(&out);
}

/* Commas and backslashes in values come back as they were, whatever
 * follows them; an empty value stays empty. */
static void test_format_header_list_reads_back(void **state)
{
	struct header_pair pairs[] = {
		{ "Accept", "text/html, application/json" },
		{ "X-Trap", "a, X-Next: b" },
		{ "X-Empty", "" },
		{ "X-Slash", "c:\\d\\" },
		{ "X-Comma-End", "e," },
		{ "X-Tab", "f\tg" },
	};
	size_t count = sizeof(pairs) / sizeof(pairs[0]), n = 0;
	struct strbuf out = STRBUF_INIT;
	struct header_pair *back = NULL;
	char why[200];

	units_format_header_list(pairs, count, &out);
	assert_string_equal(out.data, "Accept: text/html\\, application/json, "
				      "X-Trap: a\\, X-Next: b, X-Empty:, X-Slash: c:\\\\d\\\\, "
				      "X-Comma-End: e\\,, X-Tab: f\tg");
	assert_int_equal(units_parse_header_list(out.data, &back, &n, why, sizeof(why)), 0);
	assert_int_equal(n, count);
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(back[i].name, pairs[i].name);
		assert_string_equal(back[i].value, pairs[i].value);
		free(back[i].name);
		free(back[i].value);
	}
	free(back);
	strbuf_reset(&out);
	units_format_header_list(pairs, 0, &out);
	assert_int_equal(out.len, 0);
	strbuf_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_time_plain_number_is_milliseconds),
		cmocka_unit_test(test_time_units_convert_to_milliseconds),
		cmocka_unit_test(test_time_rejects_garbage_units_and_overflow),
		cmocka_unit_test(test_size_suffixes_are_powers_of_1024),
		cmocka_unit_test(test_size_rejects_range_fractions_and_garbage),
		cmocka_unit_test(test_uint_range_and_overflow),
		cmocka_unit_test(test_decimal_percent_sign_only_when_allowed),
		cmocka_unit_test(test_bool_accepts_the_six_spellings),
		cmocka_unit_test(test_port_range_single_and_pair),
		cmocka_unit_test(test_list_trims_items_and_rejects_empty_ones),
		cmocka_unit_test(test_header_list_seed_form_splits_on_commas),
		cmocka_unit_test(test_header_list_comma_inside_value_stays),
		cmocka_unit_test(test_header_list_errors_append_nothing),
		cmocka_unit_test(test_single_header_keeps_commas),
		cmocka_unit_test(test_format_round_trips_through_parse),
		cmocka_unit_test(test_format_decimal_reads_back_exactly),
		cmocka_unit_test(test_format_list_reads_back_or_refuses),
		cmocka_unit_test(test_format_header_list_reads_back),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for tools/lat_hist.c: spop-bench's latency histogram. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lat_hist.h"

static void test_small_values_are_exact(void **state)
{
	for (uint64_t v = 0; v < LAT_HIST_LINEAR; v++) {
		assert_int_equal(lat_hist_index(v), v);
		assert_int_equal(lat_hist_bucket_high(lat_hist_index(v)), v);
	}
}

/* Every value lands in a bucket whose range holds it and is at most 1/64
 * of the value wide: the precision the report promises. */
static void test_every_bucket_holds_its_value_within_precision(void **state)
{
	uint64_t v = 1;

	for (unsigned step = 0; step < 4000; step++) {
		unsigned idx = lat_hist_index(v);
		uint64_t high = lat_hist_bucket_high(idx);

		assert_true(idx < LAT_HIST_BUCKETS);
		assert_true(high >= v);
		assert_true(high - v <= v / LAT_HIST_SUB);
		if (idx > 0)
			assert_true(lat_hist_bucket_high(idx - 1) < v);
		v += v / 97 + 1;
		if (v > UINT64_MAX / 2)
			break;
	}
	assert_true(lat_hist_index(UINT64_MAX) == LAT_HIST_BUCKETS - 1);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Quantiles match the nearest-rank quantile of the sorted samples within
 * the bucket precision, for a skewed distribution. */
static void test_quantiles_match_sorted_samples(void **state)
{
	enum { N = 20000 };
	uint64_t *s = malloc(N * sizeof(*s));
	struct lat_hist *h = malloc(sizeof(*h));
	const double qs[] = { 0.5, 0.9, 0.99, 0.999 };
	uint64_t x = 88172645463325252ull;

	lat_hist_init(h);
	for (int i = 0; i < N; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		/* mostly 20-120 us, with a tail up to 20 ms */
		s[i] = 20000 + x % 100000 + (i % 100 == 0 ? x % 20000000 : 0);
		lat_hist_record(h, s[i]);
	}
	qsort(s, N, sizeof(*s), cmp_u64);
	for (size_t k = 0; k < sizeof(qs) / sizeof(qs[0]); k++) {
		size_t rank = (size_t)(qs[k] * N + 0.999999);
		uint64_t want = s[rank - 1], got = lat_hist_quantile(h, qs[k]);

		assert_true(got >= want);
		assert_true(got - want <= want / LAT_HIST_SUB);
	}
	assert_int_equal(lat_hist_quantile(h, 1.0), s[N - 1]);
	assert_int_equal(h->min, s[0]);
	assert_int_equal(h->count, N);
	free(s);
	free(h);
}

static void test_merge_adds_counts_and_extremes(void **state)
{
	struct lat_hist *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));

	lat_hist_init(a);
	lat_hist_init(b);
	lat_hist_record(a, 1000);
	lat_hist_record(a, 3000);
	lat_hist_record(b, 500);
	lat_hist_record(b, 9000000);
	lat_hist_merge(a, b);
	assert_int_equal(a->count, 4);
	assert_int_equal(a->min, 500);
	assert_int_equal(a->max, 9000000);
	/* the median is 1000, reported as its bucket's highest value */
	assert_int_equal(lat_hist_quantile(a, 0.5), lat_hist_bucket_high(lat_hist_index(1000)));
	assert_true(lat_hist_quantile(a, 0.5) < 3000);
	assert_true(lat_hist_mean(a) > 2250000.0 && lat_hist_mean(a) < 2251200.0);
	free(a);
	free(b);
}

static void test_empty_histogram_reports_zero(void **state)
{
	struct lat_hist *h = malloc(sizeof(*h));

	lat_hist_init(h);
	assert_int_equal(lat_hist_quantile(h, 0.99), 0);
	assert_true(lat_hist_mean(h) == 0.0);
	free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_small_values_are_exact),
		cmocka_unit_test(test_every_bucket_holds_its_value_within_precision),
		cmocka_unit_test(test_quantiles_match_sorted_samples),
		cmocka_unit_test(test_merge_adds_counts_and_extremes),
		cmocka_unit_test(test_empty_histogram_reports_zero),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

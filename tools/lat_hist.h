/* Log-linear latency histogram for spop-bench (HdrHistogram-like): exact
 * below 128 ns, then 64 sub-buckets per power of two, so any recorded value
 * is reported within 1/64 (1.6 %) of itself. Fixed size, no allocation,
 * mergeable across threads. Values are nanoseconds. */
#ifndef SPOA_MIRROR_LAT_HIST_H
#define SPOA_MIRROR_LAT_HIST_H

#include <stdint.h>

#define LAT_HIST_SUB_BITS 6
#define LAT_HIST_SUB (1u << LAT_HIST_SUB_BITS)          /* sub-buckets per octave */
#define LAT_HIST_LINEAR (2u * LAT_HIST_SUB)             /* exact buckets 0..127 */
#define LAT_HIST_BUCKETS (LAT_HIST_LINEAR + (64u - LAT_HIST_SUB_BITS - 1u) * LAT_HIST_SUB)

struct lat_hist {
	uint64_t count;
	uint64_t min;
	uint64_t max;
	long double sum;
	uint64_t buckets[LAT_HIST_BUCKETS];
};

void lat_hist_init(struct lat_hist *h);
void lat_hist_record(struct lat_hist *h, uint64_t ns);
/* Adds src's samples into dst. */
void lat_hist_merge(struct lat_hist *dst, const struct lat_hist *src);
/* Smallest recorded-bucket value v such that at least q (0..1] of the
 * samples are <= v; the bucket's highest value, capped at the true max.
 * 0 when empty. */
uint64_t lat_hist_quantile(const struct lat_hist *h, double q);
double lat_hist_mean(const struct lat_hist *h);

/* Bucket index of a value and the highest value of a bucket (exported for
 * the unit tests, which check the precision bound). */
unsigned lat_hist_index(uint64_t ns);
uint64_t lat_hist_bucket_high(unsigned idx);

#endif

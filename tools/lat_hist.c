/* Log-linear latency histogram: see lat_hist.h for the layout. */
#include "lat_hist.h"

#include <string.h>

void lat_hist_init(struct lat_hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

unsigned lat_hist_index(uint64_t ns)
{
	unsigned msb, shift;

	if (ns < LAT_HIST_LINEAR)
		return (unsigned)ns;
	msb = 63u - (unsigned)__builtin_clzll(ns);
	/* ns >> shift lands in [SUB, 2*SUB): the top SUB_BITS+1 bits */
	shift = msb - LAT_HIST_SUB_BITS;
	return LAT_HIST_LINEAR + (shift - 1u) * LAT_HIST_SUB +
	       (unsigned)((ns >> shift) - LAT_HIST_SUB);
}

uint64_t lat_hist_bucket_high(unsigned idx)
{
	unsigned shift, sub;
	uint64_t low;

	if (idx < LAT_HIST_LINEAR)
		return idx;
	shift = (idx - LAT_HIST_LINEAR) / LAT_HIST_SUB + 1u;
	sub = (idx - LAT_HIST_LINEAR) % LAT_HIST_SUB;
	low = (uint64_t)(LAT_HIST_SUB + sub) << shift;
	return low + ((UINT64_C(1) << shift) - 1u);
}

void lat_hist_record(struct lat_hist *h, uint64_t ns)
{
	h->buckets[lat_hist_index(ns)]++;
	h->count++;
	h->sum += (long double)ns;
	if (ns < h->min)
		h->min = ns;
	if (ns > h->max)
		h->max = ns;
}

void lat_hist_merge(struct lat_hist *dst, const struct lat_hist *src)
{
	if (!src->count)
		return;
	for (unsigned i = 0; i < LAT_HIST_BUCKETS; i++)
		dst->buckets[i] += src->buckets[i];
	dst->count += src->count;
	dst->sum += src->sum;
	if (src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
}

uint64_t lat_hist_quantile(const struct lat_hist *h, double q)
{
	uint64_t rank, seen = 0;

	if (!h->count)
		return 0;
	if (q <= 0)
		return h->min;
	if (q >= 1)
		return h->max;
	/* rank of the sample at quantile q, 1-based, rounded up */
	rank = (uint64_t)(q * (double)h->count);
	if ((double)rank < q * (double)h->count)
		rank++;
	if (rank == 0)
		rank = 1;
	for (unsigned i = 0; i < LAT_HIST_BUCKETS; i++) {
		seen += h->buckets[i];
		if (seen >= rank) {
			uint64_t v = lat_hist_bucket_high(i);
			return v > h->max ? h->max : v;
		}
	}
	return h->max;
}

double lat_hist_mean(const struct lat_hist *h)
{
	return h->count ? (double)(h->sum / (long double)h->count) : 0.0;
}

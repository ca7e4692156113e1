/* Names of counter labels and the latency histogram. */
#include "stats.h"

const uint64_t latency_bucket_le_us[LATENCY_BUCKETS] = {
	1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000,
	1000000, 2500000, 5000000, 10000000, UINT64_MAX,
};

const int64_t compare_delta_le_us[COMPARE_DELTA_BUCKETS] = {
	-1000000, -500000, -250000, -100000, -50000, -25000, -10000, -5000, -1000, 0,
	1000, 5000, 10000, 25000, 50000, 100000, 250000, 1000000, INT64_MAX,
};

enum frame_kind frame_kind_of(uint8_t type)
{
	switch (type) {
	case SPOP_FRAME_UNSET:
		return FRAME_KIND_UNSET;
	case SPOP_FRAME_HAPROXY_HELLO:
		return FRAME_KIND_HAPROXY_HELLO;
	case SPOP_FRAME_HAPROXY_DISCONNECT:
		return FRAME_KIND_HAPROXY_DISCONNECT;
	case SPOP_FRAME_NOTIFY:
		return FRAME_KIND_NOTIFY;
	case SPOP_FRAME_AGENT_HELLO:
		return FRAME_KIND_AGENT_HELLO;
	case SPOP_FRAME_AGENT_DISCONNECT:
		return FRAME_KIND_AGENT_DISCONNECT;
	case SPOP_FRAME_ACK:
		return FRAME_KIND_ACK;
	default:
		return FRAME_KIND_UNKNOWN;
	}
}

const char *frame_kind_name(enum frame_kind k)
{
	static const char *const names[FRAME_KIND_COUNT] = {
		"unset", "haproxy_hello", "haproxy_disconnect", "notify",
		"agent_hello", "agent_disconnect", "ack", "unknown",
	};
	return k < FRAME_KIND_COUNT ? names[k] : "unknown";
}

const char *drop_reason_name(enum drop_reason r)
{
	static const char *const names[DROP_REASON_COUNT] = {
		"queue_full", "target_busy", "rate_limited", "truncated", "shutdown", "shadow_down",
	};
	return r < DROP_REASON_COUNT ? names[r] : "unknown";
}

const char *outcome_class_name(enum outcome_class c)
{
	static const char *const names[OUTCOME_COUNT] = {
		"1xx", "2xx", "3xx", "4xx", "5xx", "timeout", "connect_error", "other",
	};
	return c < OUTCOME_COUNT ? names[c] : "other";
}

void target_stats_record_latency(struct target_stats *s, uint64_t us)
{
	for (unsigned i = 0; i < LATENCY_BUCKETS; i++) {
		if (us <= latency_bucket_le_us[i]) {
			stat_inc(&s->latency_bucket[i]);
			break;
		}
	}
	stat_add(&s->latency_sum_us, us);
}

void target_stats_record_delta(struct target_stats *s, int64_t us)
{
	for (unsigned i = 0; i < COMPARE_DELTA_BUCKETS; i++) {
		if (us <= compare_delta_le_us[i]) {
			stat_inc(&s->compare_delta_bucket[i]);
			break;
		}
	}
	atomic_fetch_add_explicit(&s->compare_delta_sum_us, us, memory_order_relaxed);
}

uint64_t target_stats_dropped_total(const struct target_stats *s)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < DROP_REASON_COUNT; i++)
		n += stat_get(&s->dropped[i]);
	return n;
}

/* Counters. The SPOP side runs on one thread (the main loop, which also
 * serves /metrics), so its counters are plain integers. Per-target counters
 * are bumped by the SPOP thread and by replay workers, so they are atomics
 * (relaxed: each is exact on its own; /metrics reads them one by one). */
#ifndef SPOA_MIRROR_STATS_H
#define SPOA_MIRROR_STATS_H

#include <stdatomic.h>
#include <stdint.h>

#include "grpc.h"
#include "spop.h"
#include "verdict.h"
#include "verdict_item.h"

/* ---- SPOP side (main thread only) ---- */
enum frame_kind {
	FRAME_KIND_UNSET,
	FRAME_KIND_HAPROXY_HELLO,
	FRAME_KIND_HAPROXY_DISCONNECT,
	FRAME_KIND_NOTIFY,
	FRAME_KIND_AGENT_HELLO,
	FRAME_KIND_AGENT_DISCONNECT,
	FRAME_KIND_ACK,
	FRAME_KIND_UNKNOWN,
	FRAME_KIND_COUNT,
};

enum frame_kind frame_kind_of(uint8_t type);
const char *frame_kind_name(enum frame_kind k);

struct spop_stats {
	uint64_t conn_open;           /* gauge */
	uint64_t conn_total;
	uint64_t conn_refused;        /* over the connection limit or out of fds */
	uint64_t conn_healthchecks;
	uint64_t conn_idle_closed;
	uint64_t frames_in[FRAME_KIND_COUNT];
	uint64_t frames_out[FRAME_KIND_COUNT];
	uint64_t decode_errors[SPOP_RC_COUNT]; /* by spop_rc_index() */
	uint64_t protocol_errors;     /* connections ended with DISCONNECT != 0 */
	uint64_t fragments;           /* type-0 continuation frames */
	uint64_t fragmented_notify;   /* NOTIFY frames reassembled */
	uint64_t aborted;             /* fragmented NOTIFY cancelled by HAProxy */
	uint64_t reassembly_dropped;  /* over reassembly-max or the budget: ACKed, dropped */
	uint64_t memory_waits;        /* reads paused: no room in spop-memory-max */
	uint64_t memory_refused;      /* closed (status 13): no room within frame-timeout */
	uint64_t frame_timeouts;      /* closed (status 2): frame not complete in time */
	/* messages inside NOTIFY frames */
	uint64_t messages_mirror;     /* accepted name, turned into a request */
	uint64_t messages_invalid;    /* accepted name but no method or path */
	uint64_t messages_ignored;    /* other names */
	uint64_t messages_response;   /* the primary's answer, for a target that compares */
	uint64_t requests_truncated;  /* body shorter than Content-Length */
	uint64_t requests_alloc_failed;
};

/* ---- per shadow target (shared by threads) ---- */
enum drop_reason {
	DROP_QUEUE_FULL = 0,  /* queue entry or byte limit */
	DROP_TARGET_BUSY,     /* target's max in flight */
	DROP_RATE_LIMITED,    /* target's rate limit */
	DROP_TRUNCATED,       /* HAProxy cut the body; not replayed */
	DROP_SHUTDOWN,        /* still queued when the drain timeout ended */
	DROP_SHADOW_DOWN,     /* target backing off after consecutive failures */
	DROP_GRPC_NEEDS_HTTP2, /* a gRPC call for a target without http2 = yes */
	DROP_REASON_COUNT,
};

const char *drop_reason_name(enum drop_reason r);

enum outcome_class {
	OUTCOME_1XX = 0, /* counted as "other" in outcome_class_name */
	OUTCOME_2XX,
	OUTCOME_3XX,
	OUTCOME_4XX,
	OUTCOME_5XX,
	OUTCOME_TIMEOUT,
	OUTCOME_CONNECT_ERROR,
	OUTCOME_OTHER,
	OUTCOME_COUNT,
};

const char *outcome_class_name(enum outcome_class c);

/* Latency histogram upper bounds in microseconds (Prometheus "le"). */
#define LATENCY_BUCKETS 14
extern const uint64_t latency_bucket_le_us[LATENCY_BUCKETS]; /* last is +Inf (UINT64_MAX) */

/* Shadow verdicts: one count per result (verdict.h's enum, in order). */
#define COMPARE_RESULT_COUNT (VERDICT_NOT_COMPARABLE + 1)
/* Shadow minus primary response time: signed upper bounds in microseconds
 * (negative: the shadow was faster); the last is +Inf (INT64_MAX). */
#define COMPARE_DELTA_BUCKETS 19
extern const int64_t compare_delta_le_us[COMPARE_DELTA_BUCKETS];

/* Accounting invariant, exact once nothing is in flight:
 *   received = mirrored + failed + dropped(all reasons) + sampled_out + inflight */
struct target_stats {
	atomic_uint_fast64_t received;
	atomic_uint_fast64_t sampled_out;
	atomic_uint_fast64_t dropped[DROP_REASON_COUNT];
	atomic_uint_fast64_t mirrored;  /* the shadow answered (any status) */
	atomic_uint_fast64_t failed;    /* no answer: timeout, connect error, other */
	atomic_uint_fast64_t outcome[OUTCOME_COUNT];
	atomic_uint_fast64_t latency_bucket[LATENCY_BUCKETS]; /* non-cumulative */
	atomic_uint_fast64_t latency_sum_us;
	atomic_int_fast64_t inflight;   /* accepted, not finished (queued or sending) */
	atomic_uint_fast64_t bytes_sent; /* body bytes */
	/* answered gRPC mirrors by grpc-status, slots as in grpc.h; also
	 * counted in `mirrored` and `outcome` by their HTTP status */
	atomic_uint_fast64_t grpc_status[GRPC_SLOTS];
	/* Health, kept with the counters so that it survives reloads: a shadow
	 * that stops answering is given a rest instead of a retry per request. */
	atomic_uint consecutive_failures;
	atomic_uint backoff_ms;          /* next rest; 0 = not backing off yet */
	atomic_uint_fast64_t down_until_ns; /* CLOCK_MONOTONIC; 0 = up */
	atomic_uint_fast64_t backoffs;   /* rests started */
	/* shadow verdicts (bumped by the verdict thread) */
	atomic_uint_fast64_t compare[COMPARE_RESULT_COUNT];
	atomic_uint_fast64_t compare_delta_bucket[COMPARE_DELTA_BUCKETS]; /* non-cumulative */
	atomic_int_fast64_t compare_delta_sum_us;
};

/* The join of answers and the verdict thread's inbox: bumped by the SPOP
 * thread, the replay workers and the verdict thread, read by /metrics. */
struct verdict_stats {
	atomic_uint_fast64_t inbox_dropped[VERDICT_ITEM_KINDS]; /* inbox full */
	atomic_uint_fast64_t overflow_entries; /* join-max-entries reached */
	atomic_uint_fast64_t overflow_bytes;   /* join-max-bytes reached */
	atomic_uint_fast64_t timeouts;         /* requests whose answers did not all come in time */
	atomic_uint_fast64_t unknown_id;       /* an answer for no registered request */
	atomic_uint_fast64_t no_id;            /* response message without id */
	atomic_uint_fast64_t not_asked;        /* request message with compare false or unset */
	atomic_uint_fast64_t invalid;          /* response message without status, bad headers */
	atomic_uint_fast64_t duplicates;       /* a side answered twice, or an id reused */
	atomic_uint_fast64_t no_memory;        /* an answer or registration not allocated */
	atomic_uint_fast64_t capture_short;    /* a shadow's answer compare-capture-max had no room for */
	atomic_uint_fast64_t cleared;          /* waiting at shutdown */
	atomic_uint_fast64_t entries;          /* gauge: requests waiting */
	atomic_uint_fast64_t bytes;            /* gauge: their bytes */
	atomic_uint_fast64_t bytes_peak;
};

static inline void stat_inc(atomic_uint_fast64_t *c)
{
	atomic_fetch_add_explicit(c, 1, memory_order_relaxed);
}

static inline void stat_add(atomic_uint_fast64_t *c, uint64_t n)
{
	atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

static inline uint64_t stat_get(const atomic_uint_fast64_t *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

void target_stats_record_latency(struct target_stats *s, uint64_t us);
void target_stats_record_delta(struct target_stats *s, int64_t us);
uint64_t target_stats_dropped_total(const struct target_stats *s);

#endif

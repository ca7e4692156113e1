/* Renders the /metrics page. Every family gets HELP and TYPE once, its
 * samples right after (the format requires a family's samples together),
 * and labelled families list every label value, zeros included, so a rate()
 * over a reason that has never happened still has a series. */
#include "metrics.h"

#include <inttypes.h>
#include <stddef.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "grpc.h"
#include "queue.h"
#include "spop.h"
#include "spop_budget.h"
#include "stats.h"
#include "diff_log.h"
#include "target.h"

void metrics_escape_label(struct strbuf *out, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '\\':
			strbuf_append(out, "\\\\", 2);
			break;
		case '"':
			strbuf_append(out, "\\\"", 2);
			break;
		case '\n':
			strbuf_append(out, "\\n", 2);
			break;
		default:
			strbuf_append(out, s, 1);
		}
	}
}

static void family(struct strbuf *o, const char *name, const char *type, const char *help)
{
	strbuf_printf(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* One sample line: name{l1="v1",l2="v2"} value; labels optional. */
static void sample(struct strbuf *o, const char *name, const char *l1, const char *v1,
		   const char *l2, const char *v2, const char *value)
{
	strbuf_puts(o, name);
	if (l1) {
		strbuf_printf(o, "{%s=\"", l1);
		metrics_escape_label(o, v1);
		strbuf_puts(o, "\"");
		if (l2) {
			strbuf_printf(o, ",%s=\"", l2);
			metrics_escape_label(o, v2);
			strbuf_puts(o, "\"");
		}
		strbuf_puts(o, "}");
	}
	strbuf_printf(o, " %s\n", value);
}

static const char *u64(char *buf, size_t n, uint64_t v)
{
	snprintf(buf, n, "%" PRIu64, v);
	return buf;
}

/* One target's histogram: cumulative buckets (upper bounds in seconds,
 * INFINITY last) from non-cumulative counts, then _sum and _count. */
static void histogram(struct strbuf *o, const char *name, const char *target,
		      const atomic_uint_fast64_t *buckets, const double *le_s, int n, double sum_s)
{
	char bucket[96], le[32], num[32];
	uint64_t cum = 0;

	snprintf(bucket, sizeof(bucket), "%s_bucket", name);
	for (int b = 0; b < n; b++) {
		cum += stat_get(&buckets[b]);
		if (isinf(le_s[b]))
			snprintf(le, sizeof(le), "+Inf");
		else
			snprintf(le, sizeof(le), "%g", le_s[b]);
		sample(o, bucket, "target", target, "le", le, u64(num, sizeof(num), cum));
	}
	snprintf(bucket, sizeof(bucket), "%s_sum", name);
	snprintf(num, sizeof(num), "%.6f", sum_s);
	sample(o, bucket, "target", target, NULL, NULL, num);
	snprintf(bucket, sizeof(bucket), "%s_count", name);
	sample(o, bucket, "target", target, NULL, NULL, u64(num, sizeof(num), cum));
}

static void scalar_u64(struct strbuf *o, const char *name, const char *type, const char *help,
		       uint64_t v)
{
	char num[32];

	family(o, name, type, help);
	sample(o, name, NULL, NULL, NULL, NULL, u64(num, sizeof(num), v));
}

/* Short label values for codec errors, by rc. */
static const struct {
	int rc;
	const char *reason;
} decode_reasons[] = {
	{ SPOP_E_TRUNCATED, "truncated" },
	{ SPOP_E_VARINT, "varint" },
	{ SPOP_E_TYPE, "type" },
	{ SPOP_E_RANGE, "range" },
	{ SPOP_E_FRAME_TOO_BIG, "frame_too_big" },
	{ SPOP_E_FRAME, "frame" },
	{ SPOP_E_NO_VERSION, "no_version" },
	{ SPOP_E_NO_FRAME_SIZE, "no_frame_size" },
	{ SPOP_E_NO_CAPS, "no_capabilities" },
	{ SPOP_E_FIELD_TYPE, "field_type" },
	{ SPOP_E_NOSPACE, "no_space" },
	{ SPOP_E_TOO_MANY, "too_many" },
	{ SPOP_E_SYNTAX, "syntax" },
	{ SPOP_E_ACTION, "action" },
};

static void render_spop(struct strbuf *o, const struct spop_stats *s)
{
	char num[32];

	scalar_u64(o, "spoa_mirror_connections_open", "gauge",
		   "SPOP connections from HAProxy open now.", s->conn_open);
	scalar_u64(o, "spoa_mirror_connections_total", "counter",
		   "SPOP connections accepted.", s->conn_total);
	scalar_u64(o, "spoa_mirror_connections_refused_total", "counter",
		   "SPOP connections refused (connection limit reached or no file descriptor).",
		   s->conn_refused);
	scalar_u64(o, "spoa_mirror_healthchecks_total", "counter",
		   "HAProxy health-check connections (HELLO with healthcheck).",
		   s->conn_healthchecks);
	scalar_u64(o, "spoa_mirror_connections_idle_closed_total", "counter",
		   "SPOP connections closed by the agent's idle timeout.", s->conn_idle_closed);
	scalar_u64(o, "spoa_mirror_protocol_errors_total", "counter",
		   "SPOP connections ended with an error DISCONNECT.", s->protocol_errors);

	family(o, "spoa_mirror_frames_received_total", "counter",
	       "SPOP frames received, by frame type.");
	for (int k = 0; k < FRAME_KIND_COUNT; k++)
		sample(o, "spoa_mirror_frames_received_total", "type", frame_kind_name(k), NULL,
		       NULL, u64(num, sizeof(num), s->frames_in[k]));
	family(o, "spoa_mirror_frames_sent_total", "counter", "SPOP frames sent, by frame type.");
	for (int k = 0; k < FRAME_KIND_COUNT; k++)
		sample(o, "spoa_mirror_frames_sent_total", "type", frame_kind_name(k), NULL, NULL,
		       u64(num, sizeof(num), s->frames_out[k]));
	scalar_u64(o, "spoa_mirror_notify_total", "counter", "NOTIFY frames received.",
		   s->frames_in[FRAME_KIND_NOTIFY]);
	scalar_u64(o, "spoa_mirror_ack_total", "counter", "ACK frames sent.",
		   s->frames_out[FRAME_KIND_ACK]);

	family(o, "spoa_mirror_decode_errors_total", "counter",
	       "SPOP frames or messages that failed to decode, by reason.");
	for (size_t i = 0; i < sizeof(decode_reasons) / sizeof(decode_reasons[0]); i++)
		sample(o, "spoa_mirror_decode_errors_total", "reason", decode_reasons[i].reason,
		       NULL, NULL,
		       u64(num, sizeof(num), s->decode_errors[spop_rc_index(decode_reasons[i].rc)]));
	/* index 0 also collects rc values the codec does not name */
	sample(o, "spoa_mirror_decode_errors_total", "reason", "other", NULL, NULL,
	       u64(num, sizeof(num),
		   s->decode_errors[spop_rc_index(SPOP_OK)] +
			   s->decode_errors[spop_rc_index(SPOP_NEED_MORE)]));

	family(o, "spoa_mirror_messages_total", "counter",
	       "SPOE messages in NOTIFY frames: mirror (turned into a request), invalid (an "
	       "accepted name without method or path), response (the primary's answer, for "
	       "comparison), ignored (other names).");
	sample(o, "spoa_mirror_messages_total", "result", "mirror", NULL, NULL,
	       u64(num, sizeof(num), s->messages_mirror));
	sample(o, "spoa_mirror_messages_total", "result", "invalid", NULL, NULL,
	       u64(num, sizeof(num), s->messages_invalid));
	sample(o, "spoa_mirror_messages_total", "result", "response", NULL, NULL,
	       u64(num, sizeof(num), s->messages_response));
	sample(o, "spoa_mirror_messages_total", "result", "ignored", NULL, NULL,
	       u64(num, sizeof(num), s->messages_ignored));

	scalar_u64(o, "spoa_mirror_requests_truncated_total", "counter",
		   "Requests whose body HAProxy cut (shorter than Content-Length).",
		   s->requests_truncated);
	scalar_u64(o, "spoa_mirror_requests_alloc_failed_total", "counter",
		   "Requests dropped because memory for them could not be allocated.",
		   s->requests_alloc_failed);
	scalar_u64(o, "spoa_mirror_fragments_total", "counter",
		   "Continuation fragments (type 0 frames) received.", s->fragments);
	scalar_u64(o, "spoa_mirror_fragmented_notify_total", "counter",
		   "NOTIFY frames reassembled from fragments.", s->fragmented_notify);
	scalar_u64(o, "spoa_mirror_aborted_total", "counter",
		   "Fragmented NOTIFY frames cancelled by HAProxy.", s->aborted);
	scalar_u64(o, "spoa_mirror_reassembly_dropped_total", "counter",
		   "Fragmented NOTIFY frames over reassembly-max or the memory budget: "
		   "acknowledged and dropped.",
		   s->reassembly_dropped);
	scalar_u64(o, "spoa_mirror_spop_memory_waits_total", "counter",
		   "Times a SPOP connection stopped reading until spop-memory-max had room for "
		   "its frame.",
		   s->memory_waits);
	scalar_u64(o, "spoa_mirror_spop_memory_refused_total", "counter",
		   "SPOP connections closed (DISCONNECT 13) because spop-memory-max had no room "
		   "for their frame within frame-timeout.",
		   s->memory_refused);
	scalar_u64(o, "spoa_mirror_spop_frame_timeouts_total", "counter",
		   "SPOP connections closed (DISCONNECT 2) because a frame was not complete "
		   "within frame-timeout.",
		   s->frame_timeouts);
}

static void render_spop_memory(struct strbuf *o, const struct spop_budget *b)
{
	scalar_u64(o, "spoa_mirror_spop_memory_bytes", "gauge",
		   "Bytes of SPOP read, reassembly and output buffers, counted against "
		   "spop-memory-max.",
		   b ? b->used : 0);
	scalar_u64(o, "spoa_mirror_spop_memory_peak_bytes", "gauge",
		   "Highest spop_memory_bytes since the start.", b ? b->peak : 0);
	scalar_u64(o, "spoa_mirror_spop_memory_max_bytes", "gauge",
		   "Configured spop-memory-max (0: no limit).", b ? b->limit : 0);
}

static void render_queue(struct strbuf *o, const struct metrics_view *v)
{
	uint64_t entries = 0, bytes = 0, max_entries = 0, max_bytes = 0, peak = 0;

	if (v->budget) {
		entries = atomic_load_explicit(&v->budget->entries, memory_order_relaxed);
		bytes = atomic_load_explicit(&v->budget->bytes, memory_order_relaxed);
		peak = atomic_load_explicit(&v->budget->peak_bytes, memory_order_relaxed);
		max_entries = v->budget->max_entries;
		max_bytes = v->budget->max_bytes;
	}
	scalar_u64(o, "spoa_mirror_queue_depth", "gauge",
		   "Requests waiting in worker queues, not yet handed to libcurl.", v->queue_depth);
	scalar_u64(o, "spoa_mirror_queue_entries", "gauge",
		   "Requests alive (queued or being sent), counted against queue-max-entries.",
		   entries);
	scalar_u64(o, "spoa_mirror_queue_bytes", "gauge",
		   "Bytes of requests alive, counted against queue-max-bytes.", bytes);
	scalar_u64(o, "spoa_mirror_queue_max_entries", "gauge",
		   "Configured queue-max-entries.", max_entries);
	scalar_u64(o, "spoa_mirror_queue_max_bytes", "gauge", "Configured queue-max-bytes.",
		   max_bytes);
	scalar_u64(o, "spoa_mirror_queue_peak_bytes", "gauge",
		   "Highest queue_bytes since the start.", peak);
	scalar_u64(o, "spoa_mirror_active_transfers", "gauge",
		   "Mirror transfers in libcurl now.", v->active_transfers);
	scalar_u64(o, "spoa_mirror_curl_multi_errors_total", "counter",
		   "curl_multi_* calls in the replay workers that did not return CURLM_OK.",
		   v->curl_multi_errors);
}

static void render_process(struct strbuf *o, const struct metrics_view *v)
{
	char num[64];
	bool up = v->listening && v->workers_total > 0 && v->workers_alive == v->workers_total;

	scalar_u64(o, "spoa_mirror_workers_alive", "gauge", "Replay worker threads running.",
		   v->workers_alive);
	scalar_u64(o, "spoa_mirror_workers_configured", "gauge", "Replay worker threads started.",
		   v->workers_total);
	scalar_u64(o, "spoa_mirror_listening", "gauge",
		   "1 while the SPOP listener is open.", v->listening);
	scalar_u64(o, "spoa_mirror_accepting", "gauge",
		   "1 while new SPOP connections are accepted.", v->accepting);
	scalar_u64(o, "spoa_mirror_up", "gauge",
		   "1 when the SPOP listener is open and every replay worker runs.", up);
	family(o, "spoa_mirror_uptime_seconds", "gauge", "Seconds since the agent started.");
	snprintf(num, sizeof(num), "%.3f", v->uptime_s);
	sample(o, "spoa_mirror_uptime_seconds", NULL, NULL, NULL, NULL, num);
	family(o, "spoa_mirror_build_info", "gauge", "Always 1; the version is a label.");
	sample(o, "spoa_mirror_build_info", "version", v->version ? v->version : "unknown", NULL,
	       NULL, "1");
}

/* A per-target family with one sample per target, read by `get`. */
static void target_family(struct strbuf *o, const struct stats_registry *reg, const char *name,
			  const char *type, const char *help,
			  uint64_t (*get)(const struct target_stats *))
{
	char num[32];

	family(o, name, type, help);
	for (size_t i = 0; reg && i < reg->count; i++)
		sample(o, name, "target", reg->entries[i].name, NULL, NULL,
		       u64(num, sizeof(num), get(reg->entries[i].stats)));
}

static uint64_t get_received(const struct target_stats *s)
{
	return stat_get(&s->received);
}

static uint64_t get_mirrored(const struct target_stats *s)
{
	return stat_get(&s->mirrored);
}

static uint64_t get_failed(const struct target_stats *s)
{
	return stat_get(&s->failed);
}

static uint64_t get_sampled_out(const struct target_stats *s)
{
	return stat_get(&s->sampled_out);
}

static uint64_t get_bytes_sent(const struct target_stats *s)
{
	return stat_get(&s->bytes_sent);
}

static void render_targets(struct strbuf *o, const struct stats_registry *reg)
{
	double le_s[LATENCY_BUCKETS];
	char num[64];
	size_t n = reg ? reg->count : 0;

	target_family(o, reg, "spoa_mirror_target_received_total", "counter",
		      "Requests offered to the target (before sampling and limits).", get_received);
	target_family(o, reg, "spoa_mirror_target_mirrored_total", "counter",
		      "Mirrors the target answered (any HTTP status).", get_mirrored);
	target_family(o, reg, "spoa_mirror_target_failed_total", "counter",
		      "Mirrors sent without an answer (timeout, connect error, other).", get_failed);

	family(o, "spoa_mirror_target_dropped_total", "counter",
	       "Requests not mirrored because of a limit, by reason.");
	for (size_t i = 0; i < n; i++)
		for (int r = 0; r < DROP_REASON_COUNT; r++)
			sample(o, "spoa_mirror_target_dropped_total", "target", reg->entries[i].name,
			       "reason", drop_reason_name(r),
			       u64(num, sizeof(num), stat_get(&reg->entries[i].stats->dropped[r])));

	target_family(o, reg, "spoa_mirror_target_sampled_out_total", "counter",
		      "Requests left out by the target's sample percentage.", get_sampled_out);

	family(o, "spoa_mirror_target_responses_total", "counter",
	       "Mirror outcomes by class: HTTP status class, timeout, connect_error or other.");
	for (size_t i = 0; i < n; i++)
		for (int c = 0; c < OUTCOME_COUNT; c++)
			sample(o, "spoa_mirror_target_responses_total", "target", reg->entries[i].name,
			       "class", outcome_class_name(c),
			       u64(num, sizeof(num), stat_get(&reg->entries[i].stats->outcome[c])));

	/* only the codes seen: 19 series per target would mostly be zeros, and
	 * most targets never see a gRPC call */
	family(o, "spoa_mirror_grpc_status_total", "counter",
	       "Answered gRPC mirrors by the shadow's grpc-status (0-16, invalid, missing); "
	       "codes never seen are not listed.");
	for (size_t i = 0; i < n; i++)
		for (unsigned g = 0; g < GRPC_SLOTS; g++) {
			uint64_t count = stat_get(&reg->entries[i].stats->grpc_status[g]);

			if (count)
				sample(o, "spoa_mirror_grpc_status_total", "target",
				       reg->entries[i].name, "code", grpc_slot_name(g),
				       u64(num, sizeof(num), count));
		}

	family(o, "spoa_mirror_target_inflight", "gauge",
	       "Requests admitted for the target and not finished (queued or sending).");
	for (size_t i = 0; i < n; i++) {
		snprintf(num, sizeof(num), "%" PRIdFAST64,
			 atomic_load_explicit(&reg->entries[i].stats->inflight,
					      memory_order_relaxed));
		sample(o, "spoa_mirror_target_inflight", "target", reg->entries[i].name, NULL, NULL,
		       num);
	}

	target_family(o, reg, "spoa_mirror_target_bytes_sent_total", "counter",
		      "Request body bytes sent to the target.", get_bytes_sent);

	family(o, "spoa_mirror_target_latency_seconds", "histogram",
	       "Time from sending a mirror to the target's answer.");
	for (int b = 0; b < LATENCY_BUCKETS; b++)
		le_s[b] = latency_bucket_le_us[b] == UINT64_MAX ? INFINITY
								 : (double)latency_bucket_le_us[b] / 1e6;
	for (size_t i = 0; i < n; i++)
		histogram(o, "spoa_mirror_target_latency_seconds", reg->entries[i].name,
			  reg->entries[i].stats->latency_bucket, le_s, LATENCY_BUCKETS,
			  (double)stat_get(&reg->entries[i].stats->latency_sum_us) / 1e6);
}

/* Shadow verdicts: per target, the results and the latency difference;
 * the join and the diff log, for the agent. */
static void render_compare(struct strbuf *o, const struct stats_registry *reg)
{
	size_t n = reg ? reg->count : 0;
	double le_s[COMPARE_DELTA_BUCKETS];
	char num[32];

	family(o, "spoa_mirror_compare_total", "counter",
	       "Shadow verdicts: the shadow's answer against the primary's, by result.");
	for (size_t i = 0; i < n; i++)
		for (int r = 0; r < COMPARE_RESULT_COUNT; r++)
			sample(o, "spoa_mirror_compare_total", "target", reg->entries[i].name,
			       "result", verdict_result_name(r),
			       u64(num, sizeof(num), stat_get(&reg->entries[i].stats->compare[r])));

	family(o, "spoa_mirror_compare_latency_delta_seconds", "histogram",
	       "Shadow's response time minus the primary's (HAProxy res.timer.hdr), when "
	       "HAProxy sends it; negative: the shadow was faster.");
	for (int b = 0; b < COMPARE_DELTA_BUCKETS; b++)
		le_s[b] = compare_delta_le_us[b] == INT64_MAX ? INFINITY
							      : (double)compare_delta_le_us[b] / 1e6;
	for (size_t i = 0; i < n; i++)
		histogram(o, "spoa_mirror_compare_latency_delta_seconds", reg->entries[i].name,
			  reg->entries[i].stats->compare_delta_bucket, le_s, COMPARE_DELTA_BUCKETS,
			  (double)atomic_load_explicit(&reg->entries[i].stats->compare_delta_sum_us,
						       memory_order_relaxed) / 1e6);
}

/* The join's single counters and gauges, each a field of verdict_stats. */
static const struct {
	const char *name, *type, *help;
	size_t off;
} join_scalars[] = {
#define JS(n, t, f, h) { "spoa_mirror_compare_" n, t, h, offsetof(struct verdict_stats, f) }
	JS("join_timeouts_total", "counter", timeouts,
	   "Requests whose answers did not all come within join-timeout."),
	JS("unknown_id_total", "counter", unknown_id,
	   "Answers for no request waiting for a verdict (not mirrored, sampled out, timed out or "
	   "its registration dropped)."),
	JS("no_id_total", "counter", no_id,
	   "Request or response messages without the unique-id that joins them."),
	JS("not_asked_total", "counter", not_asked,
	   "Mirrored requests for comparing targets that HAProxy left out of comparison (the "
	   "request message's compare argument false or unset): mirrored, not judged."),
	JS("invalid_total", "counter", invalid,
	   "Response messages without a status or with a header block that does not decode."),
	JS("duplicates_total", "counter", duplicates,
	   "Answers for a side that had answered already, or ids used twice."),
	JS("no_memory_total", "counter", no_memory,
	   "Answers or registrations that could not be allocated."),
	JS("capture_budget_total", "counter", capture_short,
	   "Shadows' answers not kept whole because compare-capture-max was full: their body (or "
	   "without room for the head, all of it) is not_comparable."),
	JS("cleared_total", "counter", cleared,
	   "Requests still waiting for answers when the agent stopped."),
	JS("join_entries", "gauge", entries, "Requests waiting for their answers now."),
	JS("join_bytes", "gauge", bytes, "Bytes of the requests and answers waiting now."),
	JS("join_bytes_peak", "gauge", bytes_peak, "Most bytes waiting at once since the start."),
#undef JS
};

static void render_join(struct strbuf *o, const struct verdict_stats *v, const struct diff_log *dl)
{
	static const struct verdict_stats zero;
	char num[32];

	if (!v)
		v = &zero;
	family(o, "spoa_mirror_compare_inbox_dropped_total", "counter",
	       "Items the verdict thread's inbox had no room for, by kind.");
	for (int k = 0; k < VERDICT_ITEM_KINDS; k++)
		sample(o, "spoa_mirror_compare_inbox_dropped_total", "kind", verdict_item_kind_name(k),
		       NULL, NULL, u64(num, sizeof(num), stat_get(&v->inbox_dropped[k])));
	family(o, "spoa_mirror_compare_join_overflow_total", "counter",
	       "Requests or answers dropped because the join was full, by limit.");
	sample(o, "spoa_mirror_compare_join_overflow_total", "limit", "entries", NULL, NULL,
	       u64(num, sizeof(num), stat_get(&v->overflow_entries)));
	sample(o, "spoa_mirror_compare_join_overflow_total", "limit", "bytes", NULL, NULL,
	       u64(num, sizeof(num), stat_get(&v->overflow_bytes)));
	for (size_t i = 0; i < sizeof(join_scalars) / sizeof(join_scalars[0]); i++)
		scalar_u64(o, join_scalars[i].name, join_scalars[i].type, join_scalars[i].help,
			   stat_get((const atomic_uint_fast64_t *)(const void *)((const char *)v +
									   join_scalars[i].off)));
	scalar_u64(o, "spoa_mirror_diff_log_lines_total", "counter",
		   "Lines written to the diff log.", dl ? diff_log_written(dl) : 0);
	scalar_u64(o, "spoa_mirror_diff_log_suppressed_total", "counter",
		   "Diff-log lines not written: the target's diff-log-rate was spent.",
		   dl ? diff_log_suppressed(dl) : 0);
	scalar_u64(o, "spoa_mirror_diff_log_write_errors_total", "counter",
		   "Diff-log lines lost to a failed write or to memory.",
		   dl ? diff_log_write_errors(dl) : 0);
}

/* The shadows' answers being captured for verdicts (bytes only). */
static void render_capture(struct strbuf *o, const struct queue_budget *b)
{
	scalar_u64(o, "spoa_mirror_compare_capture_bytes", "gauge",
		   "Bytes of shadows' answers being captured for verdicts, counted against "
		   "compare-capture-max.",
		   b ? atomic_load_explicit(&b->bytes, memory_order_relaxed) : 0);
	scalar_u64(o, "spoa_mirror_compare_capture_peak_bytes", "gauge",
		   "Highest compare_capture_bytes since the start.",
		   b ? atomic_load_explicit(&b->peak_bytes, memory_order_relaxed) : 0);
	scalar_u64(o, "spoa_mirror_compare_capture_max_bytes", "gauge",
		   "Configured compare-capture-max.", b ? b->max_bytes : 0);
}

void metrics_render(const struct metrics_view *v, struct strbuf *out)
{
	static const struct spop_stats zero_spop;

	render_spop(out, v->spop ? v->spop : &zero_spop);
	render_spop_memory(out, v->spop_memory);
	render_queue(out, v);
	render_process(out, v);
	render_targets(out, v->targets);
	render_compare(out, v->targets);
	render_join(out, v->verdicts, v->diff_log);
	render_capture(out, v->capture);
}

/* Unit tests for src/metrics.c: the page parses under a strict reading of
 * the Prometheus text format 0.0.4, carries every required family with its
 * type, and every value equals what the test put into the counters. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "metrics.h"
#include "promparse.h"
#include "queue.h"
#include "stats.h"
#include "strbuf.h"
#include "target.h"

/* Distinct values, so a counter wired to the wrong field shows. */
static void fill_spop(struct spop_stats *s)
{
	uint64_t v = 1000;

	memset(s, 0, sizeof(*s));
	s->conn_open = v++;
	s->conn_total = v++;
	s->conn_refused = v++;
	s->conn_healthchecks = v++;
	s->conn_idle_closed = v++;
	for (int k = 0; k < FRAME_KIND_COUNT; k++) {
		s->frames_in[k] = 2000 + (uint64_t)k;
		s->frames_out[k] = 3000 + (uint64_t)k;
	}
	for (int r = 0; r < SPOP_RC_COUNT; r++)
		s->decode_errors[r] = 4000 + (uint64_t)r;
	s->protocol_errors = v++;
	s->fragments = v++;
	s->fragmented_notify = v++;
	s->aborted = v++;
	s->reassembly_dropped = v++;
	s->messages_mirror = v++;
	s->messages_invalid = v++;
	s->messages_ignored = v++;
	s->messages_response = v++;
	s->requests_truncated = v++;
	s->requests_alloc_failed = v++;
}

static void fill_target(struct target_stats *t, uint64_t base)
{
	atomic_store(&t->received, base + 1);
	atomic_store(&t->sampled_out, base + 2);
	for (int r = 0; r < DROP_REASON_COUNT; r++)
		atomic_store(&t->dropped[r], base + 10 + (uint64_t)r);
	atomic_store(&t->mirrored, base + 3);
	atomic_store(&t->failed, base + 4);
	for (int c = 0; c < OUTCOME_COUNT; c++)
		atomic_store(&t->outcome[c], base + 20 + (uint64_t)c);
	atomic_store(&t->inflight, (int_fast64_t)(base + 5));
	atomic_store(&t->bytes_sent, base + 6);
}

struct fixture {
	struct spop_stats spop;
	struct stats_registry reg;
	struct queue_budget budget;
	struct metrics_view view;
	struct strbuf out;
	struct prom_doc doc;
};

static void render_and_parse(struct fixture *f)
{
	strbuf_reset(&f->out);
	metrics_render(&f->view, &f->out);
	prom_free(&f->doc);
	if (prom_parse(&f->doc, f->out.data, f->out.len) < 0)
		fail_msg("strict parse failed: %s\n%s", f->doc.error, f->out.data);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	fill_spop(&f->spop);
	fill_target(stats_registry_get(&f->reg, "v2"), 100000);
	fill_target(stats_registry_get(&f->reg, "canary"), 200000);
	queue_budget_init(&f->budget, 5000, 8u << 20);
	assert_true(queue_budget_reserve(&f->budget, 300));
	assert_true(queue_budget_reserve(&f->budget, 700));
	queue_budget_release(&f->budget, 300);
	f->view = (struct metrics_view){
		.spop = &f->spop,
		.targets = &f->reg,
		.budget = &f->budget,
		.queue_depth = 17,
		.active_transfers = 9,
		.curl_multi_errors = 3,
		.workers_alive = 4,
		.workers_total = 4,
		.listening = true,
		.accepting = true,
		.uptime_s = 12.5,
		.version = "1.2.3",
	};
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	prom_free(&f->doc);
	strbuf_free(&f->out);
	stats_registry_free(&f->reg);
	free(f);
	return 0;
}

static double value_of(const struct prom_doc *d, const char *name, const char *l1,
		       const char *v1, const char *l2, const char *v2)
{
	const struct prom_sample *s = l2   ? prom_find(d, name, l1, v1, l2, v2, NULL)
				      : l1 ? prom_find(d, name, l1, v1, NULL)
					   : prom_find(d, name, NULL);

	if (!s) {
		fail_msg("no sample %s{%s=%s,%s=%s}", name, l1 ? l1 : "", v1 ? v1 : "", l2 ? l2 : "",
			 v2 ? v2 : "");
		return -1;
	}
	return s->value;
}

static void test_required_families_present_with_their_types(void **state)
{
	static const struct {
		const char *name;
		const char *type;
	} required[] = {
		{ "spoa_mirror_connections_open", "gauge" },
		{ "spoa_mirror_connections_total", "counter" },
		{ "spoa_mirror_connections_refused_total", "counter" },
		{ "spoa_mirror_frames_received_total", "counter" },
		{ "spoa_mirror_frames_sent_total", "counter" },
		{ "spoa_mirror_notify_total", "counter" },
		{ "spoa_mirror_ack_total", "counter" },
		{ "spoa_mirror_decode_errors_total", "counter" },
		{ "spoa_mirror_messages_total", "counter" },
		{ "spoa_mirror_requests_truncated_total", "counter" },
		{ "spoa_mirror_fragments_total", "counter" },
		{ "spoa_mirror_aborted_total", "counter" },
		{ "spoa_mirror_reassembly_dropped_total", "counter" },
		{ "spoa_mirror_queue_depth", "gauge" },
		{ "spoa_mirror_queue_entries", "gauge" },
		{ "spoa_mirror_queue_bytes", "gauge" },
		{ "spoa_mirror_queue_max_entries", "gauge" },
		{ "spoa_mirror_queue_max_bytes", "gauge" },
		{ "spoa_mirror_queue_peak_bytes", "gauge" },
		{ "spoa_mirror_active_transfers", "gauge" },
		{ "spoa_mirror_curl_multi_errors_total", "counter" },
		{ "spoa_mirror_workers_alive", "gauge" },
		{ "spoa_mirror_up", "gauge" },
		{ "spoa_mirror_uptime_seconds", "gauge" },
		{ "spoa_mirror_target_received_total", "counter" },
		{ "spoa_mirror_target_mirrored_total", "counter" },
		{ "spoa_mirror_target_failed_total", "counter" },
		{ "spoa_mirror_target_dropped_total", "counter" },
		{ "spoa_mirror_target_sampled_out_total", "counter" },
		{ "spoa_mirror_target_responses_total", "counter" },
		{ "spoa_mirror_target_inflight", "gauge" },
		{ "spoa_mirror_target_latency_seconds", "histogram" },
	};
	struct fixture *f = *state;

	render_and_parse(f);
	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		const struct prom_family *fam = prom_family(&f->doc, required[i].name);

		if (!fam) {
			fail_msg("family %s missing", required[i].name);
			return;
		}
		assert_string_equal(fam->type, required[i].type);
		assert_true(strlen(fam->help) > 10);
		assert_true(fam->has_samples);
	}
}

static void test_spop_counters_equal_what_was_put_in(void **state)
{
	struct fixture *f = *state;
	const struct spop_stats *s = &f->spop;
	const struct prom_doc *d = &f->doc;

	render_and_parse(f);
	assert_true(value_of(d, "spoa_mirror_connections_open", 0, 0, 0, 0) == s->conn_open);
	assert_true(value_of(d, "spoa_mirror_connections_total", 0, 0, 0, 0) == s->conn_total);
	assert_true(value_of(d, "spoa_mirror_connections_refused_total", 0, 0, 0, 0) ==
		    s->conn_refused);
	assert_true(value_of(d, "spoa_mirror_healthchecks_total", 0, 0, 0, 0) ==
		    s->conn_healthchecks);
	assert_true(value_of(d, "spoa_mirror_connections_idle_closed_total", 0, 0, 0, 0) ==
		    s->conn_idle_closed);
	assert_true(value_of(d, "spoa_mirror_protocol_errors_total", 0, 0, 0, 0) ==
		    s->protocol_errors);
	for (int k = 0; k < FRAME_KIND_COUNT; k++) {
		assert_true(value_of(d, "spoa_mirror_frames_received_total", "type",
				     frame_kind_name(k), 0, 0) == s->frames_in[k]);
		assert_true(value_of(d, "spoa_mirror_frames_sent_total", "type", frame_kind_name(k),
				     0, 0) == s->frames_out[k]);
	}
	assert_true(value_of(d, "spoa_mirror_notify_total", 0, 0, 0, 0) ==
		    s->frames_in[FRAME_KIND_NOTIFY]);
	assert_true(value_of(d, "spoa_mirror_ack_total", 0, 0, 0, 0) == s->frames_out[FRAME_KIND_ACK]);
	assert_true(value_of(d, "spoa_mirror_decode_errors_total", "reason", "truncated", 0, 0) ==
		    s->decode_errors[spop_rc_index(SPOP_E_TRUNCATED)]);
	assert_true(value_of(d, "spoa_mirror_decode_errors_total", "reason", "frame_too_big", 0,
			     0) == s->decode_errors[spop_rc_index(SPOP_E_FRAME_TOO_BIG)]);
	assert_true(value_of(d, "spoa_mirror_decode_errors_total", "reason", "action", 0, 0) ==
		    s->decode_errors[spop_rc_index(SPOP_E_ACTION)]);
	assert_true(value_of(d, "spoa_mirror_decode_errors_total", "reason", "other", 0, 0) ==
		    s->decode_errors[0] + s->decode_errors[1]);
	{
		/* every decode error counter is shown exactly once */
		double sum = 0, want = 0;

		for (size_t i = 0; i < d->n_samples; i++)
			if (!strcmp(d->samples[i].name, "spoa_mirror_decode_errors_total"))
				sum += d->samples[i].value;
		for (int r = 0; r < SPOP_RC_COUNT; r++)
			want += (double)s->decode_errors[r];
		assert_true(sum == want);
	}
	assert_true(value_of(d, "spoa_mirror_messages_total", "result", "mirror", 0, 0) ==
		    s->messages_mirror);
	assert_true(value_of(d, "spoa_mirror_messages_total", "result", "invalid", 0, 0) ==
		    s->messages_invalid);
	assert_true(value_of(d, "spoa_mirror_messages_total", "result", "ignored", 0, 0) ==
		    s->messages_ignored);
	assert_true(value_of(d, "spoa_mirror_messages_total", "result", "response", 0, 0) ==
		    s->messages_response);
	assert_true(value_of(d, "spoa_mirror_requests_truncated_total", 0, 0, 0, 0) ==
		    s->requests_truncated);
	assert_true(value_of(d, "spoa_mirror_requests_alloc_failed_total", 0, 0, 0, 0) ==
		    s->requests_alloc_failed);
	assert_true(value_of(d, "spoa_mirror_fragments_total", 0, 0, 0, 0) == s->fragments);
	assert_true(value_of(d, "spoa_mirror_fragmented_notify_total", 0, 0, 0, 0) ==
		    s->fragmented_notify);
	assert_true(value_of(d, "spoa_mirror_aborted_total", 0, 0, 0, 0) == s->aborted);
	assert_true(value_of(d, "spoa_mirror_reassembly_dropped_total", 0, 0, 0, 0) ==
		    s->reassembly_dropped);
}

static void test_queue_and_process_gauges_equal_the_view(void **state)
{
	struct fixture *f = *state;
	const struct prom_doc *d = &f->doc;

	render_and_parse(f);
	assert_true(value_of(d, "spoa_mirror_queue_depth", 0, 0, 0, 0) == 17);
	assert_true(value_of(d, "spoa_mirror_queue_entries", 0, 0, 0, 0) == 1);
	assert_true(value_of(d, "spoa_mirror_queue_bytes", 0, 0, 0, 0) == 700);
	assert_true(value_of(d, "spoa_mirror_queue_max_entries", 0, 0, 0, 0) == 5000);
	assert_true(value_of(d, "spoa_mirror_queue_max_bytes", 0, 0, 0, 0) == 8u << 20);
	assert_true(value_of(d, "spoa_mirror_queue_peak_bytes", 0, 0, 0, 0) == 1000);
	assert_true(value_of(d, "spoa_mirror_active_transfers", 0, 0, 0, 0) == 9);
	assert_true(value_of(d, "spoa_mirror_curl_multi_errors_total", 0, 0, 0, 0) == 3);
	assert_true(value_of(d, "spoa_mirror_workers_alive", 0, 0, 0, 0) == 4);
	assert_true(value_of(d, "spoa_mirror_workers_configured", 0, 0, 0, 0) == 4);
	assert_true(value_of(d, "spoa_mirror_up", 0, 0, 0, 0) == 1);
	assert_true(value_of(d, "spoa_mirror_uptime_seconds", 0, 0, 0, 0) == 12.5);
	assert_true(value_of(d, "spoa_mirror_build_info", "version", "1.2.3", 0, 0) == 1);
}

static void test_up_drops_when_a_worker_dies_or_listener_closes(void **state)
{
	struct fixture *f = *state;

	f->view.workers_alive = 3;
	render_and_parse(f);
	assert_true(value_of(&f->doc, "spoa_mirror_up", 0, 0, 0, 0) == 0);
	f->view.workers_alive = 4;
	f->view.listening = false;
	f->view.accepting = false;
	render_and_parse(f);
	assert_true(value_of(&f->doc, "spoa_mirror_up", 0, 0, 0, 0) == 0);
	assert_true(value_of(&f->doc, "spoa_mirror_listening", 0, 0, 0, 0) == 0);
	assert_true(value_of(&f->doc, "spoa_mirror_accepting", 0, 0, 0, 0) == 0);
}

static void test_target_counters_equal_what_was_put_in_zeros_included(void **state)
{
	struct fixture *f = *state;
	const struct prom_doc *d = &f->doc;
	const char *names[] = { "v2", "canary" };
	const uint64_t bases[] = { 100000, 200000 };

	atomic_store(&stats_registry_get(&f->reg, "v2")->dropped[DROP_SHUTDOWN], 0);
	render_and_parse(f);
	for (int t = 0; t < 2; t++) {
		const char *n = names[t];
		uint64_t b = bases[t];

		assert_true(value_of(d, "spoa_mirror_target_received_total", "target", n, 0, 0) ==
			    b + 1);
		assert_true(value_of(d, "spoa_mirror_target_sampled_out_total", "target", n, 0, 0) ==
			    b + 2);
		assert_true(value_of(d, "spoa_mirror_target_mirrored_total", "target", n, 0, 0) ==
			    b + 3);
		assert_true(value_of(d, "spoa_mirror_target_failed_total", "target", n, 0, 0) ==
			    b + 4);
		assert_true(value_of(d, "spoa_mirror_target_inflight", "target", n, 0, 0) == b + 5);
		assert_true(value_of(d, "spoa_mirror_target_bytes_sent_total", "target", n, 0, 0) ==
			    b + 6);
		for (int r = 0; r < DROP_REASON_COUNT; r++) {
			double want = (t == 0 && r == DROP_SHUTDOWN) ? 0 : (double)(b + 10 + (uint64_t)r);

			assert_true(value_of(d, "spoa_mirror_target_dropped_total", "target", n,
					     "reason", drop_reason_name(r)) == want);
		}
		for (int c = 0; c < OUTCOME_COUNT; c++)
			assert_true(value_of(d, "spoa_mirror_target_responses_total", "target", n,
					     "class", outcome_class_name(c)) == b + 20 + (uint64_t)c);
	}
}

/* gRPC codes are sparse: only those seen are listed, under the target. */
static void test_grpc_status_counted_per_target_only_codes_seen(void **state)
{
	struct fixture *f = *state;
	const struct prom_doc *d = &f->doc;
	struct target_stats *v2 = stats_registry_get(&f->reg, "v2");
	const struct prom_family *fam;

	atomic_store(&v2->grpc_status[0], 40);
	atomic_store(&v2->grpc_status[5], 2);
	atomic_store(&v2->grpc_status[GRPC_SLOT_MISSING], 1);
	render_and_parse(f);
	fam = prom_family(d, "spoa_mirror_grpc_status_total");
	assert_non_null(fam);
	assert_string_equal(fam->type, "counter");
	assert_true(value_of(d, "spoa_mirror_grpc_status_total", "target", "v2", "code", "0") == 40);
	assert_true(value_of(d, "spoa_mirror_grpc_status_total", "target", "v2", "code", "5") == 2);
	assert_true(value_of(d, "spoa_mirror_grpc_status_total", "target", "v2", "code",
			     "missing") == 1);
	assert_null(prom_find(d, "spoa_mirror_grpc_status_total", "target", "v2", "code", "1",
			      NULL));
	assert_null(prom_find(d, "spoa_mirror_grpc_status_total", "target", "canary", NULL));
}

static void test_latency_histogram_cumulative_with_sum_and_count(void **state)
{
	struct fixture *f = *state;
	struct target_stats *s = stats_registry_get(&f->reg, "v2");
	/* 0.5 ms, 3 ms twice, 40 ms, 2 s, 60 s (past the last finite bucket) */
	const uint64_t lat_us[] = { 500, 3000, 3000, 40000, 2000000, 60000000 };
	const struct prom_doc *d = &f->doc;

	for (size_t i = 0; i < sizeof(lat_us) / sizeof(lat_us[0]); i++)
		target_stats_record_latency(s, lat_us[i]);
	render_and_parse(f);
	assert_true(value_of(d, "spoa_mirror_target_latency_seconds_bucket", "target", "v2", "le",
			     "0.001") == 1);
	assert_true(value_of(d, "spoa_mirror_target_latency_seconds_bucket", "target", "v2", "le",
			     "0.0025") == 1);
	assert_true(value_of(d, "spoa_mirror_target_latency_seconds_bucket", "target", "v2", "le",
			     "0.005") == 3);
	assert_true(value_of(d, "spoa_mirror_target_latency_seconds_bucket", "target", "v2", "le",
			     "0.05") == 4);
	assert_true(value_of(d, "spoa_mirror_target_latency_seconds_bucket", "target", "v2", "le",
			     "2.5") == 5);
	assert_true(value_of(d, "spoa_mirror_target_latency_seconds_bucket", "target", "v2", "le",
			     "10") == 5);
	assert_true(value_of(d, "spoa_mirror_target_latency_seconds_bucket", "target", "v2", "le",
			     "+Inf") == 6);
	assert_true(value_of(d, "spoa_mirror_target_latency_seconds_count", "target", "v2", 0, 0) ==
		    6);
	assert_true(value_of(d, "spoa_mirror_target_latency_seconds_sum", "target", "v2", 0, 0) ==
		    62.0465);
	/* a target with no latency yet still has its full, zero histogram */
	assert_true(value_of(d, "spoa_mirror_target_latency_seconds_bucket", "target", "canary",
			     "le", "+Inf") == 0);
	assert_true(value_of(d, "spoa_mirror_target_latency_seconds_count", "target", "canary", 0,
			     0) == 0);
}

/* Shadow verdicts: every result per target, the signed latency-delta
 * histogram, and each join and diff-log counter wired to its own field. */
static void test_compare_counters_equal_what_was_put_in(void **state)
{
	static const char *const results[] = { "match", "status", "headers", "body",
					       "shadow_error", "not_comparable" };
	struct fixture *f = *state;
	struct target_stats *s = stats_registry_get(&f->reg, "v2");
	struct verdict_stats v;
	struct queue_budget capture;
	const struct prom_doc *d = &f->doc;
	/* -2 s, -7 ms, 0 (the primary's time exactly), 3 ms, 5 s */
	const int64_t delta_us[] = { -2000000, -7000, 0, 3000, 5000000 };
	uint64_t x = 500;

	memset(&v, 0, sizeof(v));
	for (int r = 0; r < COMPARE_RESULT_COUNT; r++)
		atomic_store(&s->compare[r], 7000 + (uint64_t)r);
	for (size_t i = 0; i < sizeof(delta_us) / sizeof(delta_us[0]); i++)
		target_stats_record_delta(s, delta_us[i]);
	for (int k = 0; k < VERDICT_ITEM_KINDS; k++)
		atomic_store(&v.inbox_dropped[k], 600 + (uint64_t)k);
	atomic_store(&v.overflow_entries, x++);
	atomic_store(&v.overflow_bytes, x++);
	atomic_store(&v.timeouts, x++);
	atomic_store(&v.unknown_id, x++);
	atomic_store(&v.no_id, x++);
	atomic_store(&v.invalid, x++);
	atomic_store(&v.duplicates, x++);
	atomic_store(&v.no_memory, x++);
	atomic_store(&v.cleared, x++);
	atomic_store(&v.entries, x++);
	atomic_store(&v.bytes, x++);
	atomic_store(&v.bytes_peak, x++);
	atomic_store(&v.capture_short, 900);
	f->view.verdicts = &v;
	queue_budget_init(&capture, SIZE_MAX, 64u << 20);
	assert_true(queue_budget_charge(&capture, 5000));
	assert_true(queue_budget_charge(&capture, 3000));
	queue_budget_discharge(&capture, 5000);
	f->view.capture = &capture;
	render_and_parse(f);
	for (int r = 0; r < COMPARE_RESULT_COUNT; r++) {
		assert_true(value_of(d, "spoa_mirror_compare_total", "target", "v2", "result",
				     results[r]) == 7000 + r);
		assert_true(value_of(d, "spoa_mirror_compare_total", "target", "canary", "result",
				     results[r]) == 0);
	}
	assert_true(value_of(d, "spoa_mirror_compare_latency_delta_seconds_bucket", "target", "v2",
			     "le", "-1") == 1);
	assert_true(value_of(d, "spoa_mirror_compare_latency_delta_seconds_bucket", "target", "v2",
			     "le", "-0.005") == 2);
	assert_true(value_of(d, "spoa_mirror_compare_latency_delta_seconds_bucket", "target", "v2",
			     "le", "0") == 3);
	assert_true(value_of(d, "spoa_mirror_compare_latency_delta_seconds_bucket", "target", "v2",
			     "le", "0.005") == 4);
	assert_true(value_of(d, "spoa_mirror_compare_latency_delta_seconds_bucket", "target", "v2",
			     "le", "1") == 4);
	assert_true(value_of(d, "spoa_mirror_compare_latency_delta_seconds_bucket", "target", "v2",
			     "le", "+Inf") == 5);
	assert_true(value_of(d, "spoa_mirror_compare_latency_delta_seconds_count", "target", "v2",
			     0, 0) == 5);
	assert_true(value_of(d, "spoa_mirror_compare_latency_delta_seconds_sum", "target", "v2", 0,
			     0) == 2.996);
	assert_true(value_of(d, "spoa_mirror_compare_inbox_dropped_total", "kind", "request", 0,
			     0) == 600);
	assert_true(value_of(d, "spoa_mirror_compare_inbox_dropped_total", "kind", "primary", 0,
			     0) == 601);
	assert_true(value_of(d, "spoa_mirror_compare_inbox_dropped_total", "kind", "shadow", 0,
			     0) == 602);
	x = 500;
	assert_true(value_of(d, "spoa_mirror_compare_join_overflow_total", "limit", "entries", 0,
			     0) == x++);
	assert_true(value_of(d, "spoa_mirror_compare_join_overflow_total", "limit", "bytes", 0,
			     0) == x++);
	assert_true(value_of(d, "spoa_mirror_compare_join_timeouts_total", 0, 0, 0, 0) == x++);
	assert_true(value_of(d, "spoa_mirror_compare_unknown_id_total", 0, 0, 0, 0) == x++);
	assert_true(value_of(d, "spoa_mirror_compare_no_id_total", 0, 0, 0, 0) == x++);
	assert_true(value_of(d, "spoa_mirror_compare_invalid_total", 0, 0, 0, 0) == x++);
	assert_true(value_of(d, "spoa_mirror_compare_duplicates_total", 0, 0, 0, 0) == x++);
	assert_true(value_of(d, "spoa_mirror_compare_no_memory_total", 0, 0, 0, 0) == x++);
	assert_true(value_of(d, "spoa_mirror_compare_cleared_total", 0, 0, 0, 0) == x++);
	assert_true(value_of(d, "spoa_mirror_compare_join_entries", 0, 0, 0, 0) == x++);
	assert_true(value_of(d, "spoa_mirror_compare_join_bytes", 0, 0, 0, 0) == x++);
	assert_true(value_of(d, "spoa_mirror_compare_join_bytes_peak", 0, 0, 0, 0) == x++);
	assert_true(value_of(d, "spoa_mirror_compare_capture_budget_total", 0, 0, 0, 0) == 900);
	assert_true(value_of(d, "spoa_mirror_compare_capture_bytes", 0, 0, 0, 0) == 3000);
	assert_true(value_of(d, "spoa_mirror_compare_capture_peak_bytes", 0, 0, 0, 0) == 8000);
	assert_true(value_of(d, "spoa_mirror_compare_capture_max_bytes", 0, 0, 0, 0) ==
		    64u << 20);
	/* no diff log: its counters are there, at zero */
	assert_true(value_of(d, "spoa_mirror_diff_log_lines_total", 0, 0, 0, 0) == 0);
	assert_true(value_of(d, "spoa_mirror_diff_log_suppressed_total", 0, 0, 0, 0) == 0);
	assert_true(value_of(d, "spoa_mirror_diff_log_write_errors_total", 0, 0, 0, 0) == 0);
	f->view.verdicts = NULL;
	f->view.capture = NULL;
}

static void test_label_values_escaped_and_read_back(void **state)
{
	struct fixture *f = *state;
	const char *nasty = "we\"ird\\name\nline2";

	fill_target(stats_registry_get(&f->reg, nasty), 300000);
	render_and_parse(f);
	assert_true(value_of(&f->doc, "spoa_mirror_target_received_total", "target", nasty, 0, 0) ==
		    300001);
	assert_non_null(strstr(f->out.data, "target=\"we\\\"ird\\\\name\\nline2\""));
}

static void test_null_parts_render_zeros_and_no_targets(void **state)
{
	struct metrics_view v = { .version = NULL };
	struct strbuf out = STRBUF_INIT;
	struct prom_doc d;

	metrics_render(&v, &out);
	if (prom_parse(&d, out.data, out.len) < 0)
		fail_msg("%s", d.error);
	assert_true(value_of(&d, "spoa_mirror_connections_total", 0, 0, 0, 0) == 0);
	assert_true(value_of(&d, "spoa_mirror_queue_max_bytes", 0, 0, 0, 0) == 0);
	assert_true(value_of(&d, "spoa_mirror_compare_capture_bytes", 0, 0, 0, 0) == 0);
	assert_true(value_of(&d, "spoa_mirror_compare_capture_budget_total", 0, 0, 0, 0) == 0);
	assert_true(value_of(&d, "spoa_mirror_up", 0, 0, 0, 0) == 0);
	assert_true(value_of(&d, "spoa_mirror_build_info", "version", "unknown", 0, 0) == 1);
	assert_null(prom_find(&d, "spoa_mirror_target_received_total", "target", "v2", NULL));
	prom_free(&d);
	strbuf_free(&out);
}

/* The parser must itself be strict, or the tests above prove little. */
static void test_strict_parser_rejects_malformed_pages(void **state)
{
	static const char *const bad[] = {
		/* no TYPE */
		"# HELP a_total x\na_total 1\n",
		/* sample before HELP/TYPE */
		"a_total 1\n# HELP a_total x\n# TYPE a_total counter\n",
		/* family split in two */
		"# HELP a x\n# TYPE a gauge\na{k=\"1\"} 1\n# HELP b x\n# TYPE b gauge\nb 1\n"
		"a{k=\"2\"} 1\n",
		/* duplicate series */
		"# HELP a x\n# TYPE a gauge\na{k=\"1\"} 1\na{k=\"1\"} 2\n",
		/* bad escape */
		"# HELP a x\n# TYPE a gauge\na{k=\"\\t\"} 1\n",
		/* raw newline in a label value */
		"# HELP a x\n# TYPE a gauge\na{k=\"x\n\"} 1\n",
		/* negative counter */
		"# HELP a_total x\n# TYPE a_total counter\na_total -1\n",
		/* histogram not cumulative */
		"# HELP h x\n# TYPE h histogram\nh_bucket{le=\"1\"} 5\nh_bucket{le=\"+Inf\"} 4\n"
		"h_sum 1\nh_count 4\n",
		/* histogram without +Inf */
		"# HELP h x\n# TYPE h histogram\nh_bucket{le=\"1\"} 5\nh_sum 1\nh_count 5\n",
		/* _count differs */
		"# HELP h x\n# TYPE h histogram\nh_bucket{le=\"+Inf\"} 5\nh_sum 1\nh_count 6\n",
		/* buckets out of order */
		"# HELP h x\n# TYPE h histogram\nh_bucket{le=\"2\"} 1\nh_bucket{le=\"1\"} 1\n"
		"h_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n",
		/* missing final newline */
		"# HELP a x\n# TYPE a gauge\na 1",
		/* bad value */
		"# HELP a x\n# TYPE a gauge\na one\n",
		/* bad metric name */
		"# HELP 1a x\n# TYPE 1a gauge\n1a 1\n",
		/* unknown type */
		"# HELP a x\n# TYPE a meter\na 1\n",
		/* empty line */
		"# HELP a x\n# TYPE a gauge\n\na 1\n",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct prom_doc d;

		if (prom_parse(&d, bad[i], strlen(bad[i])) == 0)
			fail_msg("accepted malformed page %zu:\n%s", i, bad[i]);
		prom_free(&d);
	}
	{
		static const char good[] = "# HELP h x\n# TYPE h histogram\nh_bucket{le=\"1\"} 1\n"
					   "h_bucket{le=\"+Inf\"} 2\nh_sum 1.5\nh_count 2\n";
		struct prom_doc d;

		assert_int_equal(prom_parse(&d, good, strlen(good)), 0);
		prom_free(&d);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_required_families_present_with_their_types,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_spop_counters_equal_what_was_put_in, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_queue_and_process_gauges_equal_the_view, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_up_drops_when_a_worker_dies_or_listener_closes,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_target_counters_equal_what_was_put_in_zeros_included, setup, teardown),
		cmocka_unit_test_setup_teardown(test_latency_histogram_cumulative_with_sum_and_count,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_grpc_status_counted_per_target_only_codes_seen,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_label_values_escaped_and_read_back, setup,
						teardown),
		cmocka_unit_test(test_null_parts_render_zeros_and_no_targets),
		cmocka_unit_test_setup_teardown(test_compare_counters_equal_what_was_put_in, setup,
						teardown),
		cmocka_unit_test(test_strict_parser_rejects_malformed_pages),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

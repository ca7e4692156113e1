/* Unit tests for src/message.c and src/mirror.c: SPOE message arguments to
 * admitted, owned mirror requests, with every drop counted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "fake_clock.h"
#include "log.h"
#include "log_lines.h"
#include "message.h"
#include "mirror.h"
#include "queue.h"
#include "request.h"
#include "stats.h"
#include "target.h"
#include "verdict_expect.h"
#include "verdict_item.h"

/* ---- building messages ---- */

static void msg_init(struct spop_message *m, const char *name)
{
	memset(m, 0, sizeof(*m));
	m->name = slice_from_cstr(name);
}

static void msg_str(struct spop_message *m, const char *arg, const char *val)
{
	m->args[m->nb_args].name = slice_from_cstr(arg);
	m->args[m->nb_args].value = spop_str_value(slice_from_cstr(val));
	m->nb_args++;
}

static void msg_bin(struct spop_message *m, const char *arg, const void *val, size_t len)
{
	m->args[m->nb_args].name = slice_from_cstr(arg);
	m->args[m->nb_args].value = spop_bin_value(slice_make(val, len));
	m->nb_args++;
}

/* ---- message.c ---- */

static void test_seed_arg_names_mapped(void **state)
{
	struct spop_message m;
	struct message_fields f;

	msg_init(&m, "mirror-request");
	msg_str(&m, "method", "POST");
	msg_str(&m, "uri", "/api?x=1");
	msg_str(&m, "version", "1.1");
	msg_str(&m, "headers", "Host: a\r\n\r\n");
	msg_bin(&m, "body", "xyz", 3);
	m.args[m.nb_args].name = SLICE_LIT("body_len");
	m.args[m.nb_args].value = spop_u32_value(3);
	m.nb_args++;
	assert_int_equal(message_extract(&m, &f), MESSAGE_OK);
	assert_true(slice_eq_cstr(f.method, "POST"));
	assert_true(slice_eq_cstr(f.uri, "/api?x=1"));
	assert_true(slice_eq_cstr(f.version, "1.1"));
	assert_false(f.payload.headers_binary);
	assert_int_equal(f.payload.body.len, 3);
	assert_true(f.payload.has_declared_length);
	assert_int_equal(f.payload.declared_length, 3);
}

static void test_incumbent_arg_names_mapped(void **state)
{
	struct spop_message m;
	struct message_fields f;
	struct spop_value ip = { .type = SPOP_T_IPV4, .u.ipv4 = { 192, 168, 1, 20 } };

	msg_init(&m, "mirror");
	msg_str(&m, "arg_method", "GET");
	msg_str(&m, "arg_path", "/p");
	msg_str(&m, "arg_ver", "2.0");
	msg_bin(&m, "arg_hdrs", "\0\0", 2);
	msg_bin(&m, "arg_body", "", 0);
	m.args[m.nb_args].name = SLICE_LIT("src");
	m.args[m.nb_args].value = ip;
	m.nb_args++;
	assert_int_equal(message_extract(&m, &f), MESSAGE_OK);
	assert_true(slice_eq_cstr(f.method, "GET"));
	assert_true(slice_eq_cstr(f.uri, "/p"));
	assert_true(slice_eq_cstr(f.version, "2.0"));
	assert_true(f.payload.headers_binary);
	assert_true(slice_eq_cstr(f.client, "192.168.1.20"));
}

static void test_unnamed_args_follow_incumbent_order(void **state)
{
	struct spop_message m;
	struct message_fields f;

	msg_init(&m, "mirror");
	msg_str(&m, "", "DELETE");
	msg_str(&m, "", "/items/7");
	msg_str(&m, "", "1.1");
	msg_bin(&m, "", "\0\0", 2);
	msg_bin(&m, "", "b", 1);
	assert_int_equal(message_extract(&m, &f), MESSAGE_OK);
	assert_true(slice_eq_cstr(f.method, "DELETE"));
	assert_true(slice_eq_cstr(f.uri, "/items/7"));
	assert_true(f.payload.headers_binary);
	assert_int_equal(f.payload.body.len, 1);
}

static void test_missing_method_or_path_reported(void **state)
{
	struct spop_message m;
	struct message_fields f;

	msg_init(&m, "mirror-request");
	msg_str(&m, "uri", "/x");
	assert_int_equal(message_extract(&m, &f), MESSAGE_NO_METHOD);
	msg_init(&m, "mirror-request");
	msg_str(&m, "method", "GET");
	m.args[m.nb_args].name = SLICE_LIT("uri");
	m.args[m.nb_args].value = (struct spop_value){ .type = SPOP_T_NULL };
	m.nb_args++;
	assert_int_equal(message_extract(&m, &f), MESSAGE_NO_URI);
}

/* ---- mirror.c ---- */

struct fixture {
	struct agent_config cfg;
	struct stats_registry reg;
	struct target_set *set;
	struct queue_budget budget;
	struct spop_stats stats;
	struct mirror_dispatch d;
	struct mirror_request *got[64];
	unsigned n_got;
};

static void capture_submit(void *arg, struct mirror_request *r)
{
	struct fixture *fx = arg;

	assert_true(fx->n_got < 64);
	fx->got[fx->n_got++] = r;
}

/* Targets "a" (HTTP/1.1) and "b" (sample_b %, HTTP/2 when b_http2). */
static struct fixture *fixture_new_h2(double sample_b, size_t max_entries, size_t max_bytes,
				      bool b_http2)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	struct target_config *b;
	char err[256];

	config_init(&fx->cfg);
	config_add_target(&fx->cfg, "a", "http://127.0.0.1:1/");
	b = config_add_target(&fx->cfg, "b", "http://127.0.0.1:2/pre");
	b->sample_percent = sample_b;
	b->http2 = b_http2;
	fx->set = target_set_new(&fx->cfg, &fx->reg, err, sizeof(err));
	assert_non_null(fx->set);
	queue_budget_init(&fx->budget, max_entries, max_bytes);
	fx->d = (struct mirror_dispatch){
		.message_names = fx->cfg.message_names,
		.n_message_names = fx->cfg.n_message_names,
		.targets = &fx->set,
		.budget = &fx->budget,
		.submit = capture_submit,
		.submit_arg = fx,
		.stats = &fx->stats,
		.invalid_log = LOG_RATELIMIT_INIT(1000),
		.truncated_log = LOG_RATELIMIT_INIT(1000),
		.grpc_log = LOG_RATELIMIT_INIT(1000),
	};
	return fx;
}

static struct fixture *fixture_new(double sample_b, size_t max_entries, size_t max_bytes)
{
	return fixture_new_h2(sample_b, max_entries, max_bytes, false);
}

static void fixture_free(struct fixture *fx)
{
	/* finish every captured request for every target it went to */
	for (unsigned i = 0; i < fx->n_got; i++) {
		struct mirror_request *r = fx->got[i];
		struct target_set *set = r->set;
		uint32_t mask = r->target_mask; /* r is freed by its last done */

		for (size_t t = 0; t < set->count; t++)
			if (mask & (1u << t)) {
				target_finish(&set->targets[t], 200, OUTCOME_OTHER, 10);
				request_target_done(r);
			}
	}
	assert_int_equal(atomic_load(&fx->budget.entries), 0);
	assert_int_equal(atomic_load(&fx->budget.bytes), 0);
	target_set_unref(fx->set);
	stats_registry_free(&fx->reg);
	config_free(&fx->cfg);
	free(fx);
}

static void post_message(struct spop_message *m, const char *uri, const char *hdrs,
			 const char *body)
{
	msg_init(m, "mirror-request");
	msg_str(m, "method", "POST");
	msg_str(m, "uri", uri);
	msg_str(m, "version", "1.1");
	msg_str(m, "headers", hdrs);
	msg_bin(m, "body", body, strlen(body));
}

static void assert_invariant(const struct target *t)
{
	const struct target_stats *s = t->stats;

	assert_int_equal(stat_get(&s->received),
			 stat_get(&s->mirrored) + stat_get(&s->failed) +
				 target_stats_dropped_total(s) + stat_get(&s->sampled_out) +
				 (uint64_t)atomic_load(&s->inflight));
}

static void test_message_becomes_one_owned_request_for_all_targets(void **state)
{
	struct fixture *fx = fixture_new(100, 100, 1 << 20);
	struct spop_message m;
	char frame_copy[64];
	struct mirror_request *r;

	strcpy(frame_copy, "/api/v1?x=1");
	post_message(&m, frame_copy, "Host: h\r\nContent-Length: 4\r\nX-A: 1\r\n\r\n", "body");
	mirror_on_message(&fx->d, &m);
	/* the request owns its bytes: the frame may be reused at once */
	memset(frame_copy, 'Z', strlen(frame_copy));
	assert_int_equal(fx->n_got, 1);
	r = fx->got[0];
	assert_int_equal(r->target_mask, 3);
	assert_int_equal(atomic_load(&r->pending), 2);
	assert_true(slice_eq_cstr(r->uri, "/api/v1?x=1"));
	assert_true(slice_eq_cstr(r->method, "POST"));
	assert_int_equal(r->n_headers, 3);
	assert_true(slice_eq_cstr(r->headers[2].name, "X-A"));
	assert_true(slice_eq_cstr(r->body, "body"));
	assert_false(r->truncated);
	assert_int_equal(atomic_load(&fx->budget.entries), 1);
	assert_int_equal(atomic_load(&fx->budget.bytes), r->charge);
	assert_int_equal(fx->stats.messages_mirror, 1);
	assert_int_equal(stat_get(&fx->set->targets[0].stats->received), 1);
	fixture_free(fx);
}

static void test_other_message_names_ignored(void **state)
{
	struct fixture *fx = fixture_new(100, 100, 1 << 20);
	struct spop_message m;

	post_message(&m, "/x", "", "");
	m.name = SLICE_LIT("check-client-ip");
	mirror_on_message(&fx->d, &m);
	assert_int_equal(fx->n_got, 0);
	assert_int_equal(fx->stats.messages_ignored, 1);
	assert_int_equal(stat_get(&fx->set->targets[0].stats->received), 0);
	fixture_free(fx);
}

static void test_message_without_path_counted_invalid(void **state)
{
	struct fixture *fx = fixture_new(100, 100, 1 << 20);
	struct spop_message m;

	msg_init(&m, "mirror");
	msg_str(&m, "method", "GET");
	mirror_on_message(&fx->d, &m);
	assert_int_equal(fx->n_got, 0);
	assert_int_equal(fx->stats.messages_invalid, 1);
	fixture_free(fx);
}

/* The log goes to a new file named from the mkstemp() template `path`. */
static void log_to_temp_file(char *path)
{
	char spec[64];
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	close(fd);
	snprintf(spec, sizeof(spec), "w:%s", path);
	assert_int_equal(log_open(spec), 0);
}

/* A burst of invalid messages that stops still gets its "N more" line when
 * the agent's monitor flushes after the window, not only at the next one. */
static void test_invalid_burst_summary_flushed_after_window(void **state)
{
	struct fixture *fx = fixture_new(100, 100, 1 << 20);
	char path[] = "/tmp/test_mirror_log_XXXXXX";
	struct spop_message m;

	log_to_temp_file(path);
	fake_clock_start(50000);
	msg_init(&m, "mirror");
	msg_str(&m, "method", "GET");
	for (int i = 0; i < 5; i++)
		mirror_on_message(&fx->d, &m);
	assert_int_equal(fx->stats.messages_invalid, 5);
	fake_clock_advance(999);
	mirror_dispatch_flush_logs(&fx->d); /* window still open: nothing */
	fake_clock_advance(1);
	mirror_dispatch_flush_logs(&fx->d);
	mirror_dispatch_flush_logs(&fx->d); /* once only */
	fake_clock_stop();
	log_close();
	assert_int_equal(log_lines_count(path, "not mirrored"), 1);
	assert_int_equal(log_lines_count(path, "invalid mirror messages: 4 more"), 1);
	unlink(path);
	fixture_free(fx);
}

static void test_malformed_header_block_counted_invalid(void **state)
{
	struct fixture *fx = fixture_new(100, 100, 1 << 20);
	struct spop_message m;

	post_message(&m, "/x", "no colon here\r\n\r\n", "");
	mirror_on_message(&fx->d, &m);
	assert_int_equal(fx->n_got, 0);
	assert_int_equal(fx->stats.messages_invalid, 1);
	fixture_free(fx);
}

static void test_truncated_body_dropped_and_counted(void **state)
{
	struct fixture *fx = fixture_new(100, 100, 1 << 20);
	struct spop_message m;

	/* HAProxy cut a 20000-byte body at what it had buffered */
	post_message(&m, "/upload", "Host: h\r\nContent-Length: 20000\r\n\r\n", "only-part");
	mirror_on_message(&fx->d, &m);
	assert_int_equal(fx->n_got, 0);
	assert_int_equal(fx->stats.requests_truncated, 1);
	for (int t = 0; t < 2; t++) {
		assert_int_equal(stat_get(&fx->set->targets[t].stats->dropped[DROP_TRUNCATED]), 1);
		assert_invariant(&fx->set->targets[t]);
	}
	fixture_free(fx);
}

/* gRPC over HTTP/1.1 cannot work (no te: trailers, no trailers back): such
 * a target gets nothing, counted dropped, with one warning per window. */
static void test_grpc_call_dropped_for_http1_target_sent_to_http2(void **state)
{
	struct fixture *fx = fixture_new_h2(100, 100, 1 << 20, true);
	char path[] = "/tmp/test_mirror_log_XXXXXX";
	struct spop_message m;

	log_to_temp_file(path);
	post_message(&m, "http://front/pkg.Svc/Call",
		     "content-type: application/grpc+proto\r\nte: trailers\r\n\r\n", "12345");
	for (int i = 0; i < 3; i++)
		mirror_on_message(&fx->d, &m);
	log_close();
	assert_int_equal(fx->n_got, 3);
	for (unsigned i = 0; i < fx->n_got; i++)
		assert_int_equal(fx->got[i]->target_mask, 2);
	assert_int_equal(stat_get(&fx->set->targets[0].stats->dropped[DROP_GRPC_NEEDS_HTTP2]), 3);
	assert_int_equal(stat_get(&fx->set->targets[1].stats->dropped[DROP_GRPC_NEEDS_HTTP2]), 0);
	assert_int_equal(log_lines_count(path, "target 'a': gRPC call http://front/pkg.Svc/Call "
					       "not mirrored: gRPC needs HTTP/2"), 1);
	unlink(path);
	/* grpc-web is not gRPC: both targets get it */
	post_message(&m, "/x", "content-type: application/grpc-web\r\n\r\n", "1");
	mirror_on_message(&fx->d, &m);
	assert_int_equal(fx->got[3]->target_mask, 3);
	for (int t = 0; t < 2; t++)
		assert_invariant(&fx->set->targets[t]);
	fixture_free(fx);
}

static void test_truncated_body_replayed_when_target_allows(void **state)
{
	struct fixture *fx = fixture_new(100, 100, 1 << 20);
	struct spop_message m;

	fx->set->targets[1].cfg.replay_truncated = true;
	post_message(&m, "/upload", "Content-Length: 99\r\n\r\n", "part");
	mirror_on_message(&fx->d, &m);
	assert_int_equal(fx->n_got, 1);
	assert_int_equal(fx->got[0]->target_mask, 2);
	assert_true(fx->got[0]->truncated);
	fixture_free(fx);
}

static void test_queue_full_drops_counted_per_target(void **state)
{
	struct fixture *fx = fixture_new(100, 2, 1 << 20);
	struct spop_message m;

	for (int i = 0; i < 5; i++) {
		post_message(&m, "/q", "", "");
		mirror_on_message(&fx->d, &m);
	}
	assert_int_equal(fx->n_got, 2);
	for (int t = 0; t < 2; t++) {
		const struct target_stats *s = fx->set->targets[t].stats;

		assert_int_equal(stat_get(&s->received), 5);
		assert_int_equal(stat_get(&s->dropped[DROP_QUEUE_FULL]), 3);
		assert_int_equal(atomic_load(&s->inflight), 2);
		assert_invariant(&fx->set->targets[t]);
	}
	fixture_free(fx);
}

static void test_byte_limit_drops_large_bodies(void **state)
{
	struct fixture *fx = fixture_new(100, 100, 4096);
	struct spop_message m;
	static char big[8192];

	memset(big, 'x', sizeof(big) - 1);
	post_message(&m, "/big", "", big);
	mirror_on_message(&fx->d, &m);
	post_message(&m, "/small", "", "s");
	mirror_on_message(&fx->d, &m);
	assert_int_equal(fx->n_got, 1);
	assert_true(slice_eq_cstr(fx->got[0]->uri, "/small"));
	assert_int_equal(stat_get(&fx->set->targets[0].stats->dropped[DROP_QUEUE_FULL]), 1);
	fixture_free(fx);
}

static void test_sampled_out_target_not_in_mask(void **state)
{
	struct fixture *fx = fixture_new(0, 100, 1 << 20);
	struct spop_message m;

	for (int i = 0; i < 10; i++) {
		post_message(&m, "/s", "", "");
		mirror_on_message(&fx->d, &m);
	}
	assert_int_equal(fx->n_got, 10);
	for (unsigned i = 0; i < fx->n_got; i++)
		assert_int_equal(fx->got[i]->target_mask, 1);
	assert_int_equal(stat_get(&fx->set->targets[1].stats->sampled_out), 10);
	fixture_free(fx);
}

/* A verdict capture: registrations handed to the verdict thread. */
struct verdict_capture {
	unsigned n;
	uint32_t last_mask;
};

static void capture_verdict(void *arg, struct verdict_item *it)
{
	struct verdict_capture *vc = arg;

	assert_int_equal(it->kind, VERDICT_ITEM_EXPECT);
	vc->n++;
	vc->last_mask = ((struct verdict_expect *)it)->expected;
	verdict_item_free(it);
}

/* HAProxy may choose which mirrored requests are compared (a sample, to
 * spare it the response message): `compare` false or unset (a NULL value:
 * var() found nothing) mirrors without registering; true or absent
 * registers where targets compare. Mirroring itself is the same. */
static void test_compare_argument_chooses_requests_to_judge(void **state)
{
	struct fixture *fx;
	struct verdict_capture vc = { 0 };
	struct verdict_stats vs;
	struct spop_message m;
	const struct spop_value null_value = { .type = SPOP_T_NULL };

	memset(&vs, 0, sizeof(vs));
	fx = fixture_new(100, 100, 1 << 20);
	fx->set->compare_mask = 2; /* target b compares */
	fx->d.verdict = capture_verdict;
	fx->d.verdict_arg = &vc;
	fx->d.verdict_stats = &vs;
	fx->d.response_log = (struct log_ratelimit)LOG_RATELIMIT_INIT(1000);

	for (int i = 0; i < 5; i++) {
		post_message(&m, "/c", "", "");
		msg_str(&m, "unique-id", "id-1");
		switch (i) {
		case 0: /* absent: the targets decide */
			break;
		case 1:
			m.args[m.nb_args].name = slice_from_cstr("compare");
			m.args[m.nb_args++].value = spop_bool_value(true);
			break;
		case 2:
			m.args[m.nb_args].name = slice_from_cstr("compare");
			m.args[m.nb_args++].value = spop_bool_value(false);
			break;
		case 3:
			m.args[m.nb_args].name = slice_from_cstr("compare");
			m.args[m.nb_args++].value = null_value;
			break;
		case 4: /* an integer 0 is false too */
			m.args[m.nb_args].name = slice_from_cstr("compare");
			m.args[m.nb_args].value.type = SPOP_T_INT32;
			m.args[m.nb_args++].value.u.i32 = 0;
			break;
		}
		mirror_on_message(&fx->d, &m);
	}
	assert_int_equal(fx->n_got, 5); /* every one mirrored to both */
	for (unsigned i = 0; i < fx->n_got; i++)
		assert_int_equal(fx->got[i]->target_mask, 3);
	assert_int_equal(vc.n, 2);
	assert_int_equal(vc.last_mask, 2);
	assert_int_equal(fx->got[0]->compare_mask, 2);
	assert_int_equal(fx->got[1]->compare_mask, 2);
	for (unsigned i = 2; i < 5; i++)
		assert_int_equal(fx->got[i]->compare_mask, 0);
	assert_int_equal(stat_get(&vs.not_asked), 3);
	assert_int_equal(stat_get(&vs.no_id), 0);
	fixture_free(fx);
}

static void test_busy_target_dropped_when_inflight_cap_reached(void **state)
{
	struct fixture *fx = fixture_new(100, 100, 1 << 20);
	struct spop_message m;

	fx->set->targets[1].cfg.max_inflight = 3;
	for (int i = 0; i < 6; i++) {
		post_message(&m, "/b", "", "");
		mirror_on_message(&fx->d, &m);
	}
	assert_int_equal(stat_get(&fx->set->targets[1].stats->dropped[DROP_TARGET_BUSY]), 3);
	assert_int_equal(atomic_load(&fx->set->targets[1].stats->inflight), 3);
	assert_invariant(&fx->set->targets[1]);
	fixture_free(fx);
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Admits one request to t at `now` and, when sent, finishes it with `status`
 * (0 = unanswered). Returns the verdict. */
static enum admit_verdict admit_and_finish(struct target *t, uint64_t now, long status)
{
	struct admit_input in = { .now_ns = now };
	enum admit_verdict v = target_admit(t, &in);

	if (v == ADMIT_SEND)
		target_finish(t, status, OUTCOME_CONNECT_ERROR, 5);
	return v;
}

static void test_dead_shadow_rests_after_consecutive_failures(void **state)
{
	struct fixture *fx = fixture_new(100, 100, 1 << 20);
	struct target *t = &fx->set->targets[0];
	uint64_t now = mono_ns();

	for (int i = 0; i < TARGET_BACKOFF_FAILURES; i++)
		assert_int_equal(admit_and_finish(t, now, 0), ADMIT_SEND);
	/* resting: dropped without a connection attempt */
	assert_int_equal(admit_and_finish(t, mono_ns(), 0), ADMIT_DROP_SHADOW_DOWN);
	assert_int_equal(stat_get(&t->stats->dropped[DROP_SHADOW_DOWN]), 1);
	assert_int_equal(stat_get(&t->stats->backoffs), 1);
	/* after the first rest, mirrors flow again */
	now = mono_ns() + (uint64_t)TARGET_BACKOFF_FIRST_MS * 1000000u + 1;
	assert_int_equal(admit_and_finish(t, now, 0), ADMIT_SEND);
	assert_invariant(t);
	fixture_free(fx);
}

static void test_failure_runs_double_the_rest_and_an_answer_ends_it(void **state)
{
	struct fixture *fx = fixture_new(100, 100, 1 << 20);
	struct target *t = &fx->set->targets[0];
	struct target_stats *s = t->stats;
	uint64_t until;

	for (int i = 0; i < TARGET_BACKOFF_FAILURES; i++)
		admit_and_finish(t, mono_ns(), 0);
	until = atomic_load(&s->down_until_ns);
	assert_true(until > mono_ns());
	/* the rest is over (pretend), the shadow still fails: a longer rest */
	atomic_store(&s->down_until_ns, 1);
	for (int i = 0; i < TARGET_BACKOFF_FAILURES; i++)
		admit_and_finish(t, mono_ns(), 0);
	assert_int_equal(stat_get(&s->backoffs), 2);
	assert_int_equal(atomic_load(&s->backoff_ms), 4 * TARGET_BACKOFF_FIRST_MS);
	/* an answer clears the failure run and the next rest's length */
	atomic_store(&s->down_until_ns, 1);
	assert_int_equal(admit_and_finish(t, mono_ns(), 200), ADMIT_SEND);
	assert_int_equal(atomic_load(&s->consecutive_failures), 0);
	assert_int_equal(atomic_load(&s->backoff_ms), 0);
	for (int i = 0; i < TARGET_BACKOFF_FAILURES - 1; i++)
		assert_int_equal(admit_and_finish(t, mono_ns(), 0), ADMIT_SEND);
	assert_int_equal(admit_and_finish(t, mono_ns(), 200), ADMIT_SEND);
	assert_int_equal(stat_get(&s->backoffs), 2);
	assert_invariant(t);
	fixture_free(fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seed_arg_names_mapped),
		cmocka_unit_test(test_incumbent_arg_names_mapped),
		cmocka_unit_test(test_unnamed_args_follow_incumbent_order),
		cmocka_unit_test(test_missing_method_or_path_reported),
		cmocka_unit_test(test_message_becomes_one_owned_request_for_all_targets),
		cmocka_unit_test(test_other_message_names_ignored),
		cmocka_unit_test(test_message_without_path_counted_invalid),
		cmocka_unit_test(test_invalid_burst_summary_flushed_after_window),
		cmocka_unit_test(test_malformed_header_block_counted_invalid),
		cmocka_unit_test(test_truncated_body_dropped_and_counted),
		cmocka_unit_test(test_truncated_body_replayed_when_target_allows),
		cmocka_unit_test(test_grpc_call_dropped_for_http1_target_sent_to_http2),
		cmocka_unit_test(test_queue_full_drops_counted_per_target),
		cmocka_unit_test(test_byte_limit_drops_large_bodies),
		cmocka_unit_test(test_sampled_out_target_not_in_mask),
		cmocka_unit_test(test_compare_argument_chooses_requests_to_judge),
		cmocka_unit_test(test_busy_target_dropped_when_inflight_cap_reached),
		cmocka_unit_test(test_dead_shadow_rests_after_consecutive_failures),
		cmocka_unit_test(test_failure_runs_double_the_rest_and_an_answer_ends_it),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

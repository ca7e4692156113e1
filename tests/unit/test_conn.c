/* Unit tests for src/conn.c: the SPOP state machine driven from buffers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "conn.h"
#include "frames.h"

/* What the handler saw. */
struct capture {
	unsigned messages;
	char last_name[64];
	char last_uri[256];
	uint8_t body[8192];
	size_t body_len;
};

static void capture_message(void *arg, const struct spop_message *m)
{
	struct capture *cap = arg;

	cap->messages++;
	snprintf(cap->last_name, sizeof(cap->last_name), "%.*s", (int)m->name.len, m->name.ptr);
	for (unsigned i = 0; i < m->nb_args; i++) {
		const struct spop_arg *a = &m->args[i];

		if (slice_eq_cstr(a->name, "uri"))
			snprintf(cap->last_uri, sizeof(cap->last_uri), "%.*s",
				 (int)a->value.u.str.len, a->value.u.str.ptr);
		if (slice_eq_cstr(a->name, "body") && a->value.u.str.len <= sizeof(cap->body)) {
			memcpy(cap->body, a->value.u.str.ptr, a->value.u.str.len);
			cap->body_len = a->value.u.str.len;
		}
	}
}

/* A clock the tests move by hand. */
static uint64_t fake_now_ns(void *arg)
{
	return *(uint64_t *)arg;
}

#define MS 1000000ull

struct fixture {
	uint64_t now;
	struct clock_source clock;
	struct spop_budget budget;
	struct conn_settings settings;
	struct spop_stats stats;
	struct capture cap;
	struct spop_conn *conn;
	/* output frames collected */
	uint8_t out[1 << 20];
	size_t out_len;
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	struct conn_handler h;

	fx->now = 1000 * MS;
	fx->clock = (struct clock_source){ fake_now_ns, &fx->now };
	fx->settings = (struct conn_settings){
		.max_frame_size = 16380,
		.caps = SPOP_CAP_ALL,
		.reassembly_max = 1 << 20,
		.frame_timeout_ms = 1000,
		.clock = &fx->clock,
	};
	h = (struct conn_handler){ capture_message, &fx->cap };
	fx->conn = conn_new(&fx->settings, &h, &fx->stats);
	assert_non_null(fx->conn);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	conn_free(fx->conn);
	free(fx);
	return 0;
}

/* Moves what the connection wrote into fx->out. */
static void collect(struct fixture *fx)
{
	size_t out_len;
	const uint8_t *out = conn_output(fx->conn, &out_len);

	assert_true(fx->out_len + out_len <= sizeof(fx->out));
	memcpy(fx->out + fx->out_len, out, out_len);
	fx->out_len += out_len;
	conn_output_consume(fx->conn, out_len);
}

/* conn_expire(), its output collected. */
static enum conn_phase expire(struct fixture *fx)
{
	enum conn_phase ph = conn_expire(fx->conn);

	collect(fx);
	return ph;
}

/* Feeds bytes in chunks of `chunk` (0 = all at once), collecting output. */
static enum conn_phase feed(struct fixture *fx, const uint8_t *data, size_t len, size_t chunk)
{
	enum conn_phase ph = conn_phase(fx->conn);
	size_t off = 0;

	while (off < len && ph != CONN_CLOSING) {
		size_t avail, n;
		uint8_t *space = conn_input_space(fx->conn, &avail);

		assert_non_null(space);
		n = len - off;
		if (chunk && n > chunk)
			n = chunk;
		if (n > avail)
			n = avail;
		memcpy(space, data + off, n);
		conn_input_commit(fx->conn, n);
		off += n;
		ph = conn_process(fx->conn);
		collect(fx);
	}
	return ph;
}

/* The i-th frame the agent wrote. */
static void out_frame(struct fixture *fx, unsigned index, struct spop_frame *f)
{
	size_t off = 0, used = 0;

	for (unsigned i = 0;; i++) {
		assert_int_equal(spop_frame_decode(fx->out + off, fx->out_len - off, 1u << 24, f, &used),
				 SPOP_OK);
		if (i == index)
			return;
		off += used;
	}
}

static unsigned out_frame_count(struct fixture *fx)
{
	size_t off = 0, used;
	unsigned n = 0;
	struct spop_frame f;

	while (off < fx->out_len &&
	       spop_frame_decode(fx->out + off, fx->out_len - off, 1u << 24, &f, &used) == SPOP_OK) {
		off += used;
		n++;
	}
	assert_int_equal(off, fx->out_len);
	return n;
}

static uint32_t disconnect_status(struct fixture *fx, unsigned index)
{
	struct spop_frame f;
	struct spop_disconnect d;

	out_frame(fx, index, &f);
	assert_int_equal(f.type, SPOP_FRAME_AGENT_DISCONNECT);
	assert_int_equal(spop_disconnect_decode(f.payload, &d), SPOP_OK);
	return d.status_code;
}

static void handshake(struct fixture *fx)
{
	struct frame_buf b = { .len = 0 };

	add_hello(&b, "2.0", 16380, "pipelining,async", false);
	assert_int_equal(feed(fx, b.data, b.len, 0), CONN_READY);
}

/* ---- handshake ---- */

static void test_hello_answered_with_min_frame_size_and_our_caps(void **state)
{
	struct fixture *fx = *state;
	struct frame_buf b = { .len = 0 };
	struct spop_frame f;
	const uint8_t *p, *end;
	struct spop_kv kv;

	add_hello(&b, "2.0", 9000, "pipelining,async", false);
	assert_int_equal(feed(fx, b.data, b.len, 0), CONN_READY);
	assert_int_equal(out_frame_count(fx), 1);
	out_frame(fx, 0, &f);
	assert_int_equal(f.type, SPOP_FRAME_AGENT_HELLO);
	p = (const uint8_t *)f.payload.ptr;
	end = p + f.payload.len;
	assert_int_equal(spop_kv_decode(&p, end, &kv), SPOP_OK);
	assert_true(slice_eq_cstr(kv.value.u.str, "2.0"));
	assert_int_equal(spop_kv_decode(&p, end, &kv), SPOP_OK);
	assert_int_equal(kv.value.u.u32, 9000);
	assert_int_equal(spop_kv_decode(&p, end, &kv), SPOP_OK);
	/* fragmentation is announced although HAProxy did not list it */
	assert_true(slice_eq_cstr(kv.value.u.str, "pipelining,async,fragmentation"));
}

static void test_hello_frame_size_capped_by_ours(void **state)
{
	struct fixture *fx = *state;
	struct frame_buf b = { .len = 0 };

	struct spop_frame f;
	struct spop_kv kv;
	const uint8_t *p, *end;

	add_hello(&b, "2.0", 1000000, "pipelining", false);
	assert_int_equal(feed(fx, b.data, b.len, 0), CONN_READY);
	out_frame(fx, 0, &f);
	p = (const uint8_t *)f.payload.ptr;
	end = p + f.payload.len;
	assert_int_equal(spop_kv_decode(&p, end, &kv), SPOP_OK); /* version */
	assert_int_equal(spop_kv_decode(&p, end, &kv), SPOP_OK);
	assert_true(slice_eq_cstr(kv.name, "max-frame-size"));
	assert_int_equal(kv.value.u.u32, 16380);
}

static void test_healthcheck_hello_answered_then_closed(void **state)
{
	struct fixture *fx = *state;
	struct frame_buf b = { .len = 0 };
	struct spop_frame f;

	add_hello(&b, "2.0", 16380, "", true);
	assert_int_equal(feed(fx, b.data, b.len, 0), CONN_CLOSING);
	assert_int_equal(out_frame_count(fx), 1);
	out_frame(fx, 0, &f);
	assert_int_equal(f.type, SPOP_FRAME_AGENT_HELLO);
	assert_int_equal(fx->stats.conn_healthchecks, 1);
}

static void expect_hello_refused(void **state, const char *vsn, uint32_t size, const char *caps,
				 uint32_t status)
{
	struct fixture *fx = *state;
	struct frame_buf b = { .len = 0 };

	add_hello(&b, vsn, size, caps, false);
	assert_int_equal(feed(fx, b.data, b.len, 0), CONN_CLOSING);
	assert_int_equal(out_frame_count(fx), 1);
	assert_int_equal(disconnect_status(fx, 0), status);
}

static void test_hello_without_version_refused_status_5(void **state)
{
	expect_hello_refused(state, NULL, 16380, "pipelining", SPOP_STATUS_NO_VERSION);
}

static void test_hello_without_frame_size_refused_status_6(void **state)
{
	expect_hello_refused(state, "2.0", 0, "pipelining", SPOP_STATUS_NO_FRAME_SIZE);
}

static void test_hello_without_capabilities_refused_status_7(void **state)
{
	expect_hello_refused(state, "2.0", 16380, NULL, SPOP_STATUS_NO_CAPS);
}

static void test_hello_unsupported_version_refused_status_8(void **state)
{
	expect_hello_refused(state, "1.0, 3.0", 16380, "pipelining", SPOP_STATUS_BAD_VERSION);
}

static void test_hello_frame_size_below_256_refused_status_9(void **state)
{
	expect_hello_refused(state, "2.0", 255, "pipelining", SPOP_STATUS_BAD_FRAME_SIZE);
}

static void test_notify_before_hello_refused_status_4(void **state)
{
	struct fixture *fx = *state;
	struct frame_buf b = { .len = 0 };

	add_notify(&b, 1, 1, "/x", "", 0);
	assert_int_equal(feed(fx, b.data, b.len, 0), CONN_CLOSING);
	assert_int_equal(disconnect_status(fx, 0), SPOP_STATUS_INVALID);
	assert_int_equal(fx->cap.messages, 0);
}

/* ---- NOTIFY ---- */

static void test_notify_acked_with_same_ids_then_dispatched(void **state)
{
	struct fixture *fx = *state;
	struct frame_buf b = { .len = 0 };
	struct spop_frame f;

	handshake(fx);
	add_notify(&b, 77, 3, "/api/v1?q=1", "{\"a\":1}", 7);
	assert_int_equal(feed(fx, b.data, b.len, 0), CONN_READY);
	assert_int_equal(out_frame_count(fx), 2);
	out_frame(fx, 1, &f);
	assert_int_equal(f.type, SPOP_FRAME_ACK);
	assert_int_equal(f.stream_id, 77);
	assert_int_equal(f.frame_id, 3);
	assert_int_equal(f.payload.len, 0);
	assert_int_equal(fx->cap.messages, 1);
	assert_string_equal(fx->cap.last_name, "mirror-request");
	assert_string_equal(fx->cap.last_uri, "/api/v1?q=1");
	assert_int_equal(fx->cap.body_len, 7);
}

static void test_500_pipelined_notify_all_acked_in_order(void **state)
{
	struct fixture *fx = *state;
	static struct frame_buf b;

	b.len = 0;
	handshake(fx);
	for (unsigned i = 0; i < 500; i++)
		add_notify(&b, 1000 + i, i + 1, "/p", "x", 1);
	/* odd chunk sizes split frames everywhere */
	assert_int_equal(feed(fx, b.data, b.len, 97), CONN_READY);
	assert_int_equal(out_frame_count(fx), 501);
	for (unsigned i = 0; i < 500; i++) {
		struct spop_frame f;

		out_frame(fx, i + 1, &f);
		assert_int_equal(f.type, SPOP_FRAME_ACK);
		assert_int_equal(f.stream_id, 1000 + i);
		assert_int_equal(f.frame_id, i + 1);
	}
	assert_int_equal(fx->cap.messages, 500);
	assert_int_equal(fx->stats.frames_in[FRAME_KIND_NOTIFY], 500);
	assert_int_equal(fx->stats.frames_out[FRAME_KIND_ACK], 500);
}

static void test_notify_fed_byte_by_byte_same_result(void **state)
{
	struct fixture *fx = *state;
	struct frame_buf b = { .len = 0 };

	add_hello(&b, "2.0", 16380, "pipelining", false);
	add_notify(&b, 5, 1, "/one", "abc", 3);
	add_notify(&b, 6, 1, "/two", "", 0);
	assert_int_equal(feed(fx, b.data, b.len, 1), CONN_READY);
	assert_int_equal(out_frame_count(fx), 3);
	assert_int_equal(fx->cap.messages, 2);
	assert_string_equal(fx->cap.last_uri, "/two");
}

static void test_frame_longer_than_negotiated_refused_status_3(void **state)
{
	struct fixture *fx = *state;
	struct frame_buf b = { .len = 0 };
	static uint8_t body[9000];

	memset(body, 'b', sizeof(body));
	add_hello(&b, "2.0", 4096, "pipelining", false);
	add_notify(&b, 1, 1, "/big", body, sizeof(body));
	assert_int_equal(feed(fx, b.data, b.len, 0), CONN_CLOSING);
	assert_int_equal(disconnect_status(fx, 1), SPOP_STATUS_TOO_BIG);
	assert_int_equal(fx->cap.messages, 0);
}

static void test_unknown_frame_type_refused_status_4(void **state)
{
	struct fixture *fx = *state;
	struct frame_buf b = { .len = 0 };

	handshake(fx);
	add_raw_frame(&b, 42, SPOP_FLAG_FIN, 1, 1, "", 0);
	assert_int_equal(feed(fx, b.data, b.len, 0), CONN_CLOSING);
	assert_int_equal(disconnect_status(fx, 1), SPOP_STATUS_INVALID);
}

static void test_haproxy_disconnect_answered_with_status_0(void **state)
{
	struct fixture *fx = *state;
	struct frame_buf b = { .len = 0 };

	handshake(fx);
	add_haproxy_disconnect(&b, 2, "idle timeout");
	assert_int_equal(feed(fx, b.data, b.len, 0), CONN_CLOSING);
	assert_int_equal(disconnect_status(fx, 1), SPOP_STATUS_NONE);
	assert_int_equal(fx->stats.protocol_errors, 0);
}

/* ---- HELLO and DISCONNECT metadata: FIN, stream-id 0, frame-id 0 ---- */

static void expect_meta_refused(void **state, uint8_t type, uint32_t flags, uint64_t sid,
				uint64_t fid, uint32_t status)
{
	struct fixture *fx = *state;
	struct frame_buf b = { .len = 0 };
	unsigned before = 0;

	if (type == SPOP_FRAME_HAPROXY_DISCONNECT) {
		handshake(fx);
		before = 1;
	}
	add_connection_frame_meta(&b, type, flags, sid, fid);
	assert_int_equal(feed(fx, b.data, b.len, 0), CONN_CLOSING);
	assert_int_equal(out_frame_count(fx), before + 1);
	assert_int_equal(disconnect_status(fx, before), status);
	assert_int_equal(fx->stats.protocol_errors, 1);
	assert_int_equal(fx->cap.messages, 0);
}

static void test_hello_without_fin_refused_status_10(void **state)
{
	expect_meta_refused(state, SPOP_FRAME_HAPROXY_HELLO, 0, 0, 0,
			    SPOP_STATUS_FRAG_NOT_SUPPORTED);
}

static void test_hello_with_stream_id_refused_status_4(void **state)
{
	expect_meta_refused(state, SPOP_FRAME_HAPROXY_HELLO, SPOP_FLAG_FIN, 1, 0,
			    SPOP_STATUS_INVALID);
}

static void test_hello_with_frame_id_refused_status_4(void **state)
{
	expect_meta_refused(state, SPOP_FRAME_HAPROXY_HELLO, SPOP_FLAG_FIN, 0, 1,
			    SPOP_STATUS_INVALID);
}

static void test_hello_without_fin_and_with_ids_refused_status_10(void **state)
{
	/* FIN first, as HAProxy checks it */
	expect_meta_refused(state, SPOP_FRAME_HAPROXY_HELLO, SPOP_FLAG_ABORT, 5, 7,
			    SPOP_STATUS_FRAG_NOT_SUPPORTED);
}

static void test_disconnect_without_fin_refused_status_10(void **state)
{
	expect_meta_refused(state, SPOP_FRAME_HAPROXY_DISCONNECT, 0, 0, 0,
			    SPOP_STATUS_FRAG_NOT_SUPPORTED);
}

static void test_disconnect_with_ids_refused_status_4(void **state)
{
	expect_meta_refused(state, SPOP_FRAME_HAPROXY_DISCONNECT, SPOP_FLAG_FIN, 3, 1,
			    SPOP_STATUS_INVALID);
}

static void test_disconnect_before_hello_with_frame_id_refused_status_4(void **state)
{
	struct fixture *fx = *state;
	struct frame_buf b = { .len = 0 };

	add_connection_frame_meta(&b, SPOP_FRAME_HAPROXY_DISCONNECT, SPOP_FLAG_FIN, 0, 9);
	assert_int_equal(feed(fx, b.data, b.len, 0), CONN_CLOSING);
	assert_int_equal(disconnect_status(fx, 0), SPOP_STATUS_INVALID);
}

/* ---- time: frame-timeout, idle clock ---- */

static void add_fragmented_notify(struct frame_buf *b, uint64_t sid, uint64_t fid,
				  const uint8_t *body, size_t body_len, size_t piece, bool abort_it);

/* Feeds one byte at a time, the clock moving `step_ms` before each. */
static enum conn_phase trickle(struct fixture *fx, const uint8_t *data, size_t len,
			       unsigned step_ms)
{
	enum conn_phase ph = conn_phase(fx->conn);

	for (size_t i = 0; i < len && ph != CONN_CLOSING; i++) {
		fx->now += step_ms * MS;
		ph = expire(fx);
		if (ph != CONN_CLOSING)
			ph = feed(fx, data + i, 1, 0);
	}
	return ph;
}

static void test_frame_not_complete_in_time_closed_status_2(void **state)
{
	struct fixture *fx = *state;
	struct frame_buf b = { .len = 0 };
	uint64_t started;

	handshake(fx);
	add_notify(&b, 1, 1, "/slow", "", 0);
	assert_int_equal(feed(fx, b.data, 10, 0), CONN_READY);
	started = fx->now;
	assert_int_equal(conn_frame_deadline_ns(fx->conn), started + 1000 * MS);
	fx->now = started + 999 * MS;
	assert_int_equal(expire(fx), CONN_READY);
	fx->now = started + 1000 * MS;
	assert_int_equal(expire(fx), CONN_CLOSING);
	assert_int_equal(disconnect_status(fx, 1), SPOP_STATUS_TIMEOUT);
	assert_int_equal(fx->stats.frame_timeouts, 1);
	assert_int_equal(fx->cap.messages, 0);
}

/* One byte every 200 ms: each byte is progress on the same frame, neither
 * activity for the idle clock nor a new deadline. */
static void test_trickled_bytes_neither_reset_idle_clock_nor_deadline(void **state)
{
	struct fixture *fx = *state;
	struct frame_buf b = { .len = 0 };
	uint64_t hello_at;

	handshake(fx);
	hello_at = fx->now;
	assert_int_equal(conn_last_frame_ns(fx->conn), hello_at);
	add_notify(&b, 1, 1, "/trickle", "", 0);
	assert_int_equal(trickle(fx, b.data, b.len, 200), CONN_CLOSING);
	/* first byte at +200 ms, closed at +1200 ms: 5 bytes in */
	assert_int_equal(fx->now, hello_at + 1200 * MS);
	assert_int_equal(conn_last_frame_ns(fx->conn), hello_at);
	assert_int_equal(disconnect_status(fx, 1), SPOP_STATUS_TIMEOUT);
	assert_int_equal(fx->stats.frame_timeouts, 1);
}

/* Frames that complete move the idle clock and clear the deadline; one
 * that follows a complete one in the same read starts its own clock. */
static void test_complete_frame_moves_idle_clock_next_frame_own_deadline(void **state)
{
	struct fixture *fx = *state;
	struct frame_buf b = { .len = 0 };

	handshake(fx);
	add_notify(&b, 1, 1, "/a", "", 0);
	fx->now += 5000 * MS;
	assert_int_equal(feed(fx, b.data, b.len, 0), CONN_READY);
	assert_int_equal(conn_last_frame_ns(fx->conn), fx->now);
	assert_int_equal(conn_frame_deadline_ns(fx->conn), 0);
	b.len = 0;
	add_notify(&b, 2, 1, "/b", "", 0);
	add_notify(&b, 3, 1, "/c", "", 0);
	fx->now += 900 * MS;
	assert_int_equal(feed(fx, b.data, b.len - 3, 0), CONN_READY);
	assert_int_equal(fx->cap.messages, 2);
	assert_int_equal(conn_frame_deadline_ns(fx->conn), fx->now + 1000 * MS);
	fx->now += 999 * MS;
	assert_int_equal(conn_expire(fx->conn), CONN_READY);
	assert_int_equal(feed(fx, b.data + b.len - 3, 3, 0), CONN_READY);
	assert_int_equal(fx->cap.messages, 3);
	assert_int_equal(fx->stats.frame_timeouts, 0);
}

/* A fragmented NOTIFY is one unit: fragments that complete do not restart
 * its clock. */
static void test_fragmented_notify_must_complete_within_the_limit(void **state)
{
	struct fixture *fx = *state;
	struct frame_buf b = { .len = 0 };
	uint8_t body[3000] = { 0 };
	uint64_t started;

	struct spop_frame f;
	size_t off = 0, used;

	handshake(fx);
	add_fragmented_notify(&b, 9, 1, body, sizeof(body), 500, false);
	started = fx->now;
	/* fragments 300 ms apart, each a complete frame */
	while (conn_phase(fx->conn) != CONN_CLOSING) {
		assert_int_equal(spop_frame_decode(b.data + off, b.len - off, 1 << 20, &f, &used),
				 SPOP_OK);
		assert_false(f.flags & SPOP_FLAG_FIN);
		assert_int_equal(feed(fx, b.data + off, used, 0), CONN_READY);
		off += used;
		fx->now += 300 * MS;
		expire(fx);
	}
	assert_int_equal(fx->now, started + 1200 * MS);
	assert_int_equal(disconnect_status(fx, out_frame_count(fx) - 1), SPOP_STATUS_TIMEOUT);
	assert_int_equal(fx->cap.messages, 0);
}

/* ---- the memory budget ---- */

#define BIG_FRAME (200u * 1024)

static uint8_t big_a[BIG_FRAME], big_b[BIG_FRAME];

/* Two connections sharing a budget with room for one 150 KiB frame. */
static struct spop_conn *budget_pair(struct fixture *fx, size_t *len_a, size_t *len_b)
{
	struct conn_handler h = { capture_message, &fx->cap };
	struct spop_conn *second;
	struct frame_buf b = { .len = 0 };

	spop_budget_init(&fx->budget, 250 * 1024);
	fx->settings.budget = &fx->budget;
	fx->settings.max_frame_size = BIG_FRAME;
	conn_free(fx->conn);
	fx->conn = conn_new(&fx->settings, &h, &fx->stats);
	second = conn_new(&fx->settings, &h, &fx->stats);
	add_hello(&b, "2.0", BIG_FRAME, "pipelining", false);
	assert_int_equal(feed(fx, b.data, b.len, 0), CONN_READY);
	*len_a = big_notify(big_a, sizeof(big_a), 1, 1, 150 * 1024);
	*len_b = big_notify(big_b, sizeof(big_b), 2, 1, 150 * 1024);
	assert_true(*len_a && *len_b);
	/* the first holds its frame buffer, all but the last byte in */
	assert_int_equal(feed(fx, big_a, *len_a - 1, 0), CONN_READY);
	assert_true(fx->budget.used > 150 * 1024);
	/* the second, same handshake, same frame: no room */
	{
		struct spop_conn *first = fx->conn;

		fx->conn = second;
		assert_int_equal(feed(fx, b.data, b.len, 0), CONN_READY);
		fx->conn = first;
	}
	return second;
}

/* What a connection reads next: NULL (and a reason) when it may not. */
static size_t input_room(struct spop_conn *c)
{
	size_t avail = 0;

	return conn_input_space(c, &avail) ? avail : 0;
}

static void copy_in(struct spop_conn *c, const uint8_t *data, size_t len)
{
	size_t avail;
	uint8_t *space = conn_input_space(c, &avail);

	assert_non_null(space);
	assert_true(len <= avail);
	memcpy(space, data, len);
	conn_input_commit(c, len);
}

static void test_budget_full_connection_waits_then_resumes(void **state)
{
	struct fixture *fx = *state;
	size_t len_a, len_b;
	struct spop_conn *second = budget_pair(fx, &len_a, &len_b);

	copy_in(second, big_b, 16);
	assert_int_equal(conn_process(second), CONN_READY);
	assert_int_equal(input_room(second), 0);
	assert_true(conn_waiting_memory(second));
	assert_int_equal(conn_phase(second), CONN_READY);
	assert_int_equal(fx->stats.memory_waits, 1);
	/* asking again while waiting is not another wait */
	assert_int_equal(input_room(second), 0);
	assert_int_equal(fx->stats.memory_waits, 1);
	assert_true(fx->budget.used <= fx->budget.limit);
	/* the first completes: its big buffer goes back, the second reads */
	assert_int_equal(feed(fx, big_a + len_a - 1, 1, 0), CONN_READY);
	assert_int_equal(fx->cap.messages, 1);
	assert_true(input_room(second) >= len_b - 16);
	assert_false(conn_waiting_memory(second));
	copy_in(second, big_b + 16, len_b - 16);
	assert_int_equal(conn_process(second), CONN_READY);
	assert_int_equal(fx->cap.messages, 2);
	assert_true(fx->budget.peak <= fx->budget.limit + 64 * 1024);
	conn_free(second);
}

static void test_budget_wait_past_frame_timeout_closed_status_13(void **state)
{
	struct fixture *fx = *state;
	size_t len_a, len_b;
	struct spop_conn *second = budget_pair(fx, &len_a, &len_b);
	struct spop_conn *first = fx->conn;
	struct spop_disconnect d;
	struct spop_frame f;
	const uint8_t *out;
	size_t out_len, used;

	copy_in(second, big_b, 16);
	assert_int_equal(conn_process(second), CONN_READY);
	assert_int_equal(input_room(second), 0);
	fx->now += 1000 * MS;
	assert_int_equal(conn_expire(second), CONN_CLOSING);
	assert_int_equal(conn_close_status(second), SPOP_STATUS_RESOURCE);
	assert_int_equal(fx->stats.memory_refused, 1);
	/* its AGENT-HELLO went out; the DISCONNECT is what it has to say now */
	out = conn_output(second, &out_len);
	assert_int_equal(spop_frame_decode(out, out_len, 1 << 20, &f, &used), SPOP_OK);
	assert_int_equal(used, out_len);
	assert_int_equal(f.type, SPOP_FRAME_AGENT_DISCONNECT);
	assert_int_equal(spop_disconnect_decode(f.payload, &d), SPOP_OK);
	assert_int_equal(d.status_code, SPOP_STATUS_RESOURCE);
	/* the one that held its buffer all along timed out too: status 2 */
	assert_int_equal(conn_expire(first), CONN_CLOSING);
	assert_int_equal(conn_close_status(first), SPOP_STATUS_TIMEOUT);
	assert_int_equal(fx->stats.frame_timeouts, 1);
	conn_free(second);
	conn_free(first);
	fx->conn = NULL;
	assert_int_equal(fx->budget.used, 0);
}

static void test_reassembly_over_budget_acked_and_dropped(void **state)
{
	struct fixture *fx = *state;
	struct frame_buf b = { .len = 0 };
	static uint8_t body[30000];
	struct spop_frame f;

	/* the budget holds the small buffers and not much more */
	spop_budget_init(&fx->budget, 32 * 1024);
	fx->settings.budget = &fx->budget;
	conn_free(fx->conn);
	{
		struct conn_handler h = { capture_message, &fx->cap };

		fx->conn = conn_new(&fx->settings, &h, &fx->stats);
	}
	handshake(fx);
	add_fragmented_notify(&b, 4, 1, body, sizeof(body), 8000, false);
	assert_int_equal(feed(fx, b.data, b.len, 0), CONN_READY);
	assert_int_equal(out_frame_count(fx), 2);
	out_frame(fx, 1, &f);
	assert_int_equal(f.type, SPOP_FRAME_ACK);
	assert_int_equal(fx->cap.messages, 0);
	assert_int_equal(fx->stats.reassembly_dropped, 1);
}

static void test_malformed_notify_payload_closes_with_status_4(void **state)
{
	struct fixture *fx = *state;
	struct frame_buf b = { .len = 0 };
	const uint8_t junk[] = { 0x05, 'a', 'b' }; /* name length 5, only 2 bytes */

	handshake(fx);
	add_raw_frame(&b, SPOP_FRAME_NOTIFY, SPOP_FLAG_FIN, 9, 1, junk, sizeof(junk));
	assert_int_equal(feed(fx, b.data, b.len, 0), CONN_CLOSING);
	assert_int_equal(disconnect_status(fx, 2), SPOP_STATUS_INVALID);
	assert_int_equal(fx->cap.messages, 0);
}

/* ---- fragmentation ---- */

/* Splits one mirror-request NOTIFY payload into a NOTIFY (FIN clear) and
 * type-0 frames of `piece` bytes. */
static void add_fragmented_notify(struct frame_buf *b, uint64_t sid, uint64_t fid,
				  const uint8_t *body, size_t body_len, size_t piece, bool abort_it)
{
	static uint8_t payload[1 << 15];
	struct spop_writer w = spop_writer_init(payload, sizeof(payload));
	size_t off = 0;
	bool first = true;

	put_mirror_message(&w, "mirror-request", "PUT", "/frag", "example.com", body, body_len);
	assert_false(w.overflow);
	while (off < w.len) {
		size_t n = w.len - off < piece ? w.len - off : piece;
		bool last = off + n == w.len;

		add_raw_frame(b, first ? SPOP_FRAME_NOTIFY : SPOP_FRAME_UNSET,
			      last && !abort_it ? SPOP_FLAG_FIN : 0, sid, fid, payload + off, n);
		first = false;
		off += n;
	}
	if (abort_it)
		add_raw_frame(b, SPOP_FRAME_UNSET, SPOP_FLAG_FIN | SPOP_FLAG_ABORT, sid, fid, "", 0);
}

static void test_notify_fragmented_body_reassembled(void **state)
{
	struct fixture *fx = *state;
	struct frame_buf b = { .len = 0 };
	uint8_t body[5000];
	struct spop_frame f;

	for (size_t i = 0; i < sizeof(body); i++)
		body[i] = (uint8_t)(i * 31 + 7);
	handshake(fx);
	add_fragmented_notify(&b, 11, 2, body, sizeof(body), 1000, false);
	assert_int_equal(feed(fx, b.data, b.len, 333), CONN_READY);
	assert_int_equal(out_frame_count(fx), 2);
	out_frame(fx, 1, &f);
	assert_int_equal(f.type, SPOP_FRAME_ACK);
	assert_int_equal(f.stream_id, 11);
	assert_int_equal(f.frame_id, 2);
	assert_int_equal(fx->cap.messages, 1);
	assert_int_equal(fx->cap.body_len, sizeof(body));
	assert_memory_equal(fx->cap.body, body, sizeof(body));
	assert_int_equal(fx->stats.fragmented_notify, 1);
}

static void test_notify_fragmented_then_aborted_mirrors_nothing(void **state)
{
	struct fixture *fx = *state;
	struct frame_buf b = { .len = 0 };
	uint8_t body[3000] = { 0 };

	handshake(fx);
	add_fragmented_notify(&b, 12, 1, body, sizeof(body), 1000, true);
	add_notify(&b, 13, 1, "/after", "", 0);
	assert_int_equal(feed(fx, b.data, b.len, 0), CONN_READY);
	/* HELLO and the ACK of /after only */
	assert_int_equal(out_frame_count(fx), 2);
	assert_int_equal(fx->cap.messages, 1);
	assert_string_equal(fx->cap.last_uri, "/after");
	assert_int_equal(fx->stats.aborted, 1);
}

/* Found by fuzz_conn (corpus/regressions/conn-empty-fragmented-notify.bin):
 * a fragmented NOTIFY whose pieces are all empty never allocates the
 * reassembly buffer, so its payload is (NULL, 0). */
static void test_notify_fragmented_all_empty_acked_mirrors_nothing(void **state)
{
	struct fixture *fx = *state;
	struct frame_buf b = { .len = 0 };
	struct spop_frame f;

	handshake(fx);
	add_raw_frame(&b, SPOP_FRAME_NOTIFY, 0, 21, 4, NULL, 0);
	add_raw_frame(&b, SPOP_FRAME_UNSET, 0, 21, 4, NULL, 0);
	add_raw_frame(&b, SPOP_FRAME_UNSET, SPOP_FLAG_FIN, 21, 4, NULL, 0);
	add_notify(&b, 23, 5, "/after", "", 0);
	assert_int_equal(feed(fx, b.data, b.len, 0), CONN_READY);
	/* HELLO, the ACK of the empty NOTIFY, the ACK of /after */
	assert_int_equal(out_frame_count(fx), 3);
	out_frame(fx, 1, &f);
	assert_int_equal(f.type, SPOP_FRAME_ACK);
	assert_int_equal(f.stream_id, 21);
	assert_int_equal(f.frame_id, 4);
	assert_int_equal(fx->stats.fragmented_notify, 1);
	assert_int_equal(fx->cap.messages, 1);
	assert_string_equal(fx->cap.last_uri, "/after");
}

static void test_notify_fragmented_over_limit_acked_and_dropped(void **state)
{
	struct fixture *fx = *state;
	struct frame_buf b = { .len = 0 };
	uint8_t body[6000] = { 0 };
	struct spop_frame f;

	fx->settings.reassembly_max = 4096;
	handshake(fx);
	add_fragmented_notify(&b, 14, 1, body, sizeof(body), 1000, false);
	assert_int_equal(feed(fx, b.data, b.len, 0), CONN_READY);
	assert_int_equal(out_frame_count(fx), 2);
	out_frame(fx, 1, &f);
	assert_int_equal(f.type, SPOP_FRAME_ACK);
	assert_int_equal(fx->cap.messages, 0);
	assert_int_equal(fx->stats.reassembly_dropped, 1);
}

static void test_fragment_without_pending_notify_refused_status_11(void **state)
{
	struct fixture *fx = *state;
	struct frame_buf b = { .len = 0 };

	handshake(fx);
	add_raw_frame(&b, SPOP_FRAME_UNSET, SPOP_FLAG_FIN, 1, 1, "x", 1);
	assert_int_equal(feed(fx, b.data, b.len, 0), CONN_CLOSING);
	assert_int_equal(disconnect_status(fx, 1), SPOP_STATUS_INTERLACED);
}

static void test_notify_interlaced_with_fragments_refused_status_11(void **state)
{
	struct fixture *fx = *state;
	struct frame_buf b = { .len = 0 };

	handshake(fx);
	add_raw_frame(&b, SPOP_FRAME_NOTIFY, 0, 1, 1, "\x01", 1);
	add_notify(&b, 2, 1, "/other", "", 0);
	assert_int_equal(feed(fx, b.data, b.len, 0), CONN_CLOSING);
	assert_int_equal(disconnect_status(fx, 1), SPOP_STATUS_INTERLACED);
}

static void test_fragment_with_other_ids_refused_status_11(void **state)
{
	struct fixture *fx = *state;
	struct frame_buf b = { .len = 0 };

	handshake(fx);
	add_raw_frame(&b, SPOP_FRAME_NOTIFY, 0, 1, 1, "\x01", 1);
	add_raw_frame(&b, SPOP_FRAME_UNSET, SPOP_FLAG_FIN, 1, 2, "x", 1);
	assert_int_equal(feed(fx, b.data, b.len, 0), CONN_CLOSING);
	assert_int_equal(disconnect_status(fx, 1), SPOP_STATUS_INTERLACED);
}

static void test_fragmented_notify_without_capability_refused_status_10(void **state)
{
	struct fixture *fx = *state;
	struct frame_buf b = { .len = 0 };

	fx->settings.caps = SPOP_CAP_PIPELINING | SPOP_CAP_ASYNC;
	handshake(fx);
	add_raw_frame(&b, SPOP_FRAME_NOTIFY, 0, 1, 1, "\x01", 1);
	assert_int_equal(feed(fx, b.data, b.len, 0), CONN_CLOSING);
	assert_int_equal(disconnect_status(fx, 1), SPOP_STATUS_FRAG_NOT_SUPPORTED);
}

/* ---- garbage ---- */

static void test_random_garbage_after_hello_closes_cleanly(void **state)
{
	struct fixture *fx = *state;
	uint8_t junk[4096];
	uint32_t seed = 12345;

	for (unsigned round = 0; round < 200; round++) {
		struct conn_handler h = { capture_message, &fx->cap };

		conn_free(fx->conn);
		fx->conn = conn_new(&fx->settings, &h, &fx->stats);
		fx->out_len = 0;
		handshake(fx);
		for (size_t i = 0; i < sizeof(junk); i++) {
			seed = seed * 1103515245u + 12345u;
			junk[i] = (uint8_t)(seed >> 16);
		}
		/* a plausible length prefix half of the time, to reach deeper */
		if (round % 2) {
			junk[0] = 0;
			junk[1] = 0;
			junk[2] = (uint8_t)(round % 16);
		}
		enum conn_phase ph = feed(fx, junk, sizeof(junk), 1 + round % 50);
		/* whatever the bytes, a closing connection says why in a DISCONNECT */
		if (ph == CONN_CLOSING)
			(void)disconnect_status(fx, out_frame_count(fx) - 1);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_hello_answered_with_min_frame_size_and_our_caps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hello_frame_size_capped_by_ours, setup, teardown),
		cmocka_unit_test_setup_teardown(test_healthcheck_hello_answered_then_closed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hello_without_version_refused_status_5, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hello_without_frame_size_refused_status_6, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hello_without_capabilities_refused_status_7, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hello_unsupported_version_refused_status_8, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hello_frame_size_below_256_refused_status_9, setup, teardown),
		cmocka_unit_test_setup_teardown(test_notify_before_hello_refused_status_4, setup, teardown),
		cmocka_unit_test_setup_teardown(test_notify_acked_with_same_ids_then_dispatched, setup, teardown),
		cmocka_unit_test_setup_teardown(test_500_pipelined_notify_all_acked_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_notify_fed_byte_by_byte_same_result, setup, teardown),
		cmocka_unit_test_setup_teardown(test_frame_longer_than_negotiated_refused_status_3, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_frame_type_refused_status_4, setup, teardown),
		cmocka_unit_test_setup_teardown(test_haproxy_disconnect_answered_with_status_0, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hello_without_fin_refused_status_10, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hello_with_stream_id_refused_status_4, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hello_with_frame_id_refused_status_4, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hello_without_fin_and_with_ids_refused_status_10, setup, teardown),
		cmocka_unit_test_setup_teardown(test_disconnect_without_fin_refused_status_10, setup, teardown),
		cmocka_unit_test_setup_teardown(test_disconnect_with_ids_refused_status_4, setup, teardown),
		cmocka_unit_test_setup_teardown(test_disconnect_before_hello_with_frame_id_refused_status_4, setup, teardown),
		cmocka_unit_test_setup_teardown(test_frame_not_complete_in_time_closed_status_2, setup, teardown),
		cmocka_unit_test_setup_teardown(test_trickled_bytes_neither_reset_idle_clock_nor_deadline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_complete_frame_moves_idle_clock_next_frame_own_deadline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fragmented_notify_must_complete_within_the_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_budget_full_connection_waits_then_resumes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_budget_wait_past_frame_timeout_closed_status_13, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reassembly_over_budget_acked_and_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_notify_payload_closes_with_status_4, setup, teardown),
		cmocka_unit_test_setup_teardown(test_notify_fragmented_body_reassembled, setup, teardown),
		cmocka_unit_test_setup_teardown(test_notify_fragmented_then_aborted_mirrors_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_notify_fragmented_all_empty_acked_mirrors_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_notify_fragmented_over_limit_acked_and_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fragment_without_pending_notify_refused_status_11, setup, teardown),
		cmocka_unit_test_setup_teardown(test_notify_interlaced_with_fragments_refused_status_11, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fragment_with_other_ids_refused_status_11, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fragmented_notify_without_capability_refused_status_10, setup, teardown),
		cmocka_unit_test_setup_teardown(test_random_garbage_after_hello_closes_cleanly, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

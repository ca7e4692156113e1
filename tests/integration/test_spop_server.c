/* Integration tests for src/server.c + src/conn.c: a raw-SPOP client talks
 * to the server running on its own libev loop thread, over real TCP on
 * 127.0.0.1 and over socketpairs the server adopts (byte-by-byte input, a
 * peer that stops reading, a peer gone mid-frame, without TCP's timing). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <ev.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "frames.h"
#include "fake_clock.h"
#include "log.h"
#include "log_lines.h"
#include "server.h"
#include "spop_client.h"

#define TIMEOUT_MS 3000

struct seen {
	pthread_mutex_t lock;
	unsigned messages;
	uint8_t body[16384];
	size_t body_len;
};

static void on_message(void *arg, const struct spop_message *m)
{
	struct seen *s = arg;

	pthread_mutex_lock(&s->lock);
	s->messages++;
	for (unsigned i = 0; i < m->nb_args; i++)
		if (slice_eq_cstr(m->args[i].name, "body") &&
		    m->args[i].value.u.str.len <= sizeof(s->body)) {
			memcpy(s->body, m->args[i].value.u.str.ptr, m->args[i].value.u.str.len);
			s->body_len = m->args[i].value.u.str.len;
		}
	pthread_mutex_unlock(&s->lock);
}

static unsigned seen_messages(struct seen *s)
{
	unsigned n;

	pthread_mutex_lock(&s->lock);
	n = s->messages;
	pthread_mutex_unlock(&s->lock);
	return n;
}

struct fixture {
	struct ev_loop *loop;
	ev_async stop;
	ev_async shutdown;
	ev_async flush_logs;
	ev_async adopt; /* serves adopt_fd, then sets adopt_rc and adopted */
	int adopt_fd;
	atomic_int adopt_rc;
	atomic_bool adopted;
	pthread_t thread;
	struct server *srv;
	struct spop_stats stats;
	struct seen seen;
	uint16_t port;
};

static void stop_cb(struct ev_loop *loop, ev_async *w, int revents)
{
	ev_break(loop, EVBREAK_ALL);
}

static void shutdown_cb(struct ev_loop *loop, ev_async *w, int revents)
{
	struct fixture *fx = w->data;

	server_shutdown(fx->srv, 2000, NULL, NULL);
}

static void flush_logs_cb(struct ev_loop *loop, ev_async *w, int revents)
{
	struct fixture *fx = w->data;

	server_flush_logs(fx->srv);
}

static void adopt_cb(struct ev_loop *loop, ev_async *w, int revents)
{
	struct fixture *fx = w->data;

	atomic_store(&fx->adopt_rc, server_adopt(fx->srv, fx->adopt_fd, "socketpair"));
	atomic_store(&fx->adopted, true);
}

static void *loop_main(void *arg)
{
	struct fixture *fx = arg;

	ev_run(fx->loop, 0);
	return NULL;
}

static unsigned next_processing_delay_ms;
static unsigned next_log_interval_ms;
static unsigned next_frame_timeout_ms;
static struct spop_budget *next_budget;

static struct fixture *start(unsigned max_conns, unsigned idle_ms, uint32_t frame_size)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	struct server_settings ss = {
		.address = "127.0.0.1",
		.port = 0,
		.backlog = 1024,
		.max_connections = max_conns,
		.idle_timeout_ms = idle_ms,
		.processing_delay_ms = next_processing_delay_ms,
		.log_interval_ms = next_log_interval_ms,
		.conn = { .max_frame_size = frame_size, .caps = SPOP_CAP_ALL,
			  .reassembly_max = 1 << 20, .frame_timeout_ms = next_frame_timeout_ms,
			  .budget = next_budget },
	};
	struct conn_handler h = { on_message, &fx->seen };
	char err[256];

	pthread_mutex_init(&fx->seen.lock, NULL);
	fx->loop = ev_loop_new(EVFLAG_AUTO);
	fx->srv = server_new(fx->loop, &ss, &h, &fx->stats);
	assert_int_equal(server_listen(fx->srv, err, sizeof(err)), 0);
	fx->port = server_port(fx->srv);
	assert_int_not_equal(fx->port, 0);
	ev_async_init(&fx->stop, stop_cb);
	ev_async_start(fx->loop, &fx->stop);
	ev_async_init(&fx->shutdown, shutdown_cb);
	fx->shutdown.data = fx;
	ev_async_start(fx->loop, &fx->shutdown);
	ev_async_init(&fx->flush_logs, flush_logs_cb);
	fx->flush_logs.data = fx;
	ev_async_start(fx->loop, &fx->flush_logs);
	ev_async_init(&fx->adopt, adopt_cb);
	fx->adopt.data = fx;
	ev_async_start(fx->loop, &fx->adopt);
	pthread_create(&fx->thread, NULL, loop_main, fx);
	return fx;
}

static void stop(struct fixture *fx)
{
	ev_async_send(fx->loop, &fx->stop);
	pthread_join(fx->thread, NULL);
	server_free(fx->srv);
	ev_loop_destroy(fx->loop);
	pthread_mutex_destroy(&fx->seen.lock);
	free(fx);
}

/* A socketpair: one end in c, the other handed to the server (on its
 * thread); server_adopt()'s result. sndbuf > 0 shrinks the server's send
 * buffer first. */
static int pair_connect(struct fixture *fx, struct spop_client *c, int sndbuf)
{
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	if (sndbuf > 0) {
		assert_int_equal(setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)), 0);
		assert_int_equal(setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &sndbuf, sizeof(sndbuf)), 0);
	}
	c->fd = sv[0];
	c->len = 0;
	fx->adopt_fd = sv[1];
	atomic_store(&fx->adopted, false);
	ev_async_send(fx->loop, &fx->adopt);
	for (int waited = 0; !atomic_load(&fx->adopted); waited++) {
		assert_true(waited < TIMEOUT_MS);
		usleep(1000);
	}
	return atomic_load(&fx->adopt_rc);
}

static void say_hello(struct spop_client *c)
{
	struct frame_buf b = { .len = 0 };
	struct spop_frame f;

	add_hello(&b, "2.0", 16380, "pipelining,async", false);
	assert_true(spop_client_send(c, b.data, b.len));
	assert_int_equal(spop_client_read_frame(c, &f, TIMEOUT_MS), 1);
	assert_int_equal(f.type, SPOP_FRAME_AGENT_HELLO);
}

static void client_hello(struct spop_client *c, uint16_t port)
{
	assert_int_equal(spop_client_connect(c, port), 0);
	say_hello(c);
}

static uint32_t read_disconnect(struct spop_client *c)
{
	struct spop_frame f;
	struct spop_disconnect d;

	assert_int_equal(spop_client_read_frame(c, &f, TIMEOUT_MS), 1);
	assert_int_equal(f.type, SPOP_FRAME_AGENT_DISCONNECT);
	assert_int_equal(spop_disconnect_decode(f.payload, &d), SPOP_OK);
	return d.status_code;
}

static void send_notify_expect_ack(struct spop_client *c, uint64_t sid, uint64_t fid)
{
	struct frame_buf b = { .len = 0 };
	struct spop_frame f;

	add_notify(&b, sid, fid, "/ping", "", 0);
	assert_true(spop_client_send(c, b.data, b.len));
	assert_int_equal(spop_client_read_frame(c, &f, TIMEOUT_MS), 1);
	assert_int_equal(f.type, SPOP_FRAME_ACK);
	assert_int_equal(f.stream_id, sid);
	assert_int_equal(f.frame_id, fid);
}

/* ---- tests ---- */

static void test_handshake_variants_accepted(void **state)
{
	struct fixture *fx = start(100, 10000, 16380);
	const char *versions[] = { "2.0", "1.0, 2.0", " 2.0 ,3.0" };

	for (int i = 0; i < 3; i++) {
		struct spop_client c;
		struct frame_buf b = { .len = 0 };
		struct spop_frame f;

		assert_int_equal(spop_client_connect(&c, fx->port), 0);
		add_hello(&b, versions[i], 16380, "pipelining, async", false);
		assert_true(spop_client_send(&c, b.data, b.len));
		assert_int_equal(spop_client_read_frame(&c, &f, TIMEOUT_MS), 1);
		assert_int_equal(f.type, SPOP_FRAME_AGENT_HELLO);
		send_notify_expect_ack(&c, 1, 1);
		spop_client_close(&c);
	}
	stop(fx);
}

static void test_healthcheck_gets_hello_then_close(void **state)
{
	struct fixture *fx = start(100, 10000, 16380);
	struct spop_client c;
	struct frame_buf b = { .len = 0 };
	struct spop_frame f;

	assert_int_equal(spop_client_connect(&c, fx->port), 0);
	add_hello(&b, "2.0", 16380, "", true);
	assert_true(spop_client_send(&c, b.data, b.len));
	assert_int_equal(spop_client_read_frame(&c, &f, TIMEOUT_MS), 1);
	assert_int_equal(f.type, SPOP_FRAME_AGENT_HELLO);
	assert_true(spop_client_wait_closed(&c, TIMEOUT_MS));
	spop_client_close(&c);
	stop(fx);
}

static void test_500_pipelined_notify_on_one_connection_all_acked(void **state)
{
	struct fixture *fx = start(100, 10000, 16380);
	struct spop_client c;
	static struct frame_buf b;
	bool acked[500] = { false };

	client_hello(&c, fx->port);
	b.len = 0;
	for (unsigned i = 0; i < 500; i++)
		add_notify(&b, 2 * i + 1, 1, "/p?i=1", "data", 4);
	assert_true(spop_client_send(&c, b.data, b.len));
	for (unsigned i = 0; i < 500; i++) {
		struct spop_frame f;

		assert_int_equal(spop_client_read_frame(&c, &f, TIMEOUT_MS), 1);
		assert_int_equal(f.type, SPOP_FRAME_ACK);
		assert_true(f.stream_id % 2 == 1 && f.stream_id < 1000);
		assert_false(acked[f.stream_id / 2]);
		acked[f.stream_id / 2] = true;
	}
	assert_int_equal(seen_messages(&fx->seen), 500);
	spop_client_close(&c);
	stop(fx);
}

static void test_200_concurrent_connections_all_served(void **state)
{
	struct fixture *fx = start(1000, 10000, 16380);
	static struct spop_client c[200];

	for (int i = 0; i < 200; i++)
		client_hello(&c[i], fx->port);
	for (int i = 0; i < 200; i++) {
		struct frame_buf b = { .len = 0 };

		add_notify(&b, (uint64_t)i + 1, 7, "/c", "", 0);
		assert_true(spop_client_send(&c[i], b.data, b.len));
	}
	for (int i = 0; i < 200; i++) {
		struct spop_frame f;

		assert_int_equal(spop_client_read_frame(&c[i], &f, TIMEOUT_MS), 1);
		assert_int_equal(f.type, SPOP_FRAME_ACK);
		assert_int_equal(f.stream_id, (uint64_t)i + 1);
		spop_client_close(&c[i]);
	}
	assert_int_equal(seen_messages(&fx->seen), 200);
	stop(fx);
	/* fx is gone; the counters were checked through the wire */
}

static void send_fragmented(struct spop_client *c, uint64_t sid, const uint8_t *body, size_t len,
			    bool abort_it)
{
	static uint8_t payload[1 << 15];
	struct spop_writer w = spop_writer_init(payload, sizeof(payload));
	struct frame_buf b = { .len = 0 };
	size_t off = 0;

	put_mirror_message(&w, "mirror-request", "POST", "/frag", "h", body, len);
	while (off < w.len) {
		size_t n = w.len - off < 1024 ? w.len - off : 1024;
		bool last = off + n == w.len;

		add_raw_frame(&b, off == 0 ? SPOP_FRAME_NOTIFY : SPOP_FRAME_UNSET,
			      last && !abort_it ? SPOP_FLAG_FIN : 0, sid, 1, payload + off, n);
		off += n;
	}
	if (abort_it)
		add_raw_frame(&b, SPOP_FRAME_UNSET, SPOP_FLAG_FIN | SPOP_FLAG_ABORT, sid, 1, "", 0);
	assert_true(spop_client_send(c, b.data, b.len));
}

static void test_fragmented_5k_body_reassembled_byte_exact(void **state)
{
	struct fixture *fx = start(100, 10000, 16380);
	struct spop_client c;
	uint8_t body[5120];
	struct spop_frame f;

	for (size_t i = 0; i < sizeof(body); i++)
		body[i] = (uint8_t)(i ^ (i >> 8));
	client_hello(&c, fx->port);
	send_fragmented(&c, 41, body, sizeof(body), false);
	assert_int_equal(spop_client_read_frame(&c, &f, TIMEOUT_MS), 1);
	assert_int_equal(f.type, SPOP_FRAME_ACK);
	assert_int_equal(f.stream_id, 41);
	pthread_mutex_lock(&fx->seen.lock);
	assert_int_equal(fx->seen.body_len, sizeof(body));
	assert_memory_equal(fx->seen.body, body, sizeof(body));
	pthread_mutex_unlock(&fx->seen.lock);
	spop_client_close(&c);
	stop(fx);
}

static void test_aborted_fragments_not_acked_nor_mirrored(void **state)
{
	struct fixture *fx = start(100, 10000, 16380);
	struct spop_client c;
	uint8_t body[3000] = { 1 };
	struct spop_frame f;

	client_hello(&c, fx->port);
	send_fragmented(&c, 43, body, sizeof(body), true);
	/* the next ACK is for the next NOTIFY, not for the aborted one */
	send_notify_expect_ack(&c, 45, 1);
	assert_int_equal(seen_messages(&fx->seen), 1);
	(void)f;
	spop_client_close(&c);
	stop(fx);
}

static void test_oversize_frame_disconnect_3_and_others_unaffected(void **state)
{
	struct fixture *fx = start(100, 10000, 4096);
	struct spop_client good, bad;
	const uint8_t big_len[] = { 0, 0, 0x40, 0 }; /* 16384 > 4096 */

	client_hello(&good, fx->port);
	client_hello(&bad, fx->port);
	assert_true(spop_client_send(&bad, big_len, sizeof(big_len)));
	assert_int_equal(read_disconnect(&bad), SPOP_STATUS_TOO_BIG);
	assert_true(spop_client_wait_closed(&bad, TIMEOUT_MS));
	send_notify_expect_ack(&good, 3, 1);
	spop_client_close(&bad);
	spop_client_close(&good);
	stop(fx);
}

static void test_garbage_ends_only_that_connection(void **state)
{
	struct fixture *fx = start(100, 10000, 16380);
	struct spop_client good, bad;
	uint8_t junk[2048];

	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 131 + 17);
	/* a length that fits, so the garbage is read as frames, not awaited */
	junk[0] = junk[1] = junk[2] = 0;
	junk[3] = 100;
	client_hello(&good, fx->port);
	assert_int_equal(spop_client_connect(&bad, fx->port), 0);
	assert_true(spop_client_send(&bad, junk, sizeof(junk)));
	assert_true(spop_client_wait_closed(&bad, TIMEOUT_MS));
	send_notify_expect_ack(&good, 5, 1);
	spop_client_close(&bad);
	spop_client_close(&good);
	stop(fx);
}

/* Closes one connection with a protocol error (DISCONNECT status 3). */
static void send_oversize_frame(uint16_t port)
{
	const uint8_t huge[4] = { 0x7f, 0xff, 0xff, 0xff };
	struct spop_client bad;

	assert_int_equal(spop_client_connect(&bad, port), 0);
	assert_true(spop_client_send(&bad, huge, sizeof(huge)));
	assert_true(spop_client_wait_closed(&bad, TIMEOUT_MS));
	spop_client_close(&bad);
}

/* Protocol errors follow the configured log interval (the agent passes its
 * --monitor-interval): one line, then one "N more" summary when the window
 * is over, not 5 s later. The logs' clock is the test's: time moves past
 * the window when the test says so, however slow the run. */
static void test_protocol_errors_logged_once_per_configured_interval(void **state)
{
	char path[] = "/tmp/test_spop_server_log_XXXXXX";
	char spec[64];
	int fd = mkstemp(path);
	struct fixture *fx;
	size_t lines = 0;
	uint64_t summed = 0;

	assert_true(fd >= 0);
	close(fd);
	snprintf(spec, sizeof(spec), "w:%s", path);
	assert_int_equal(log_open(spec), 0);
	fake_clock_start(1000000);
	next_log_interval_ms = 1500;
	fx = start(100, 10000, 16380);
	next_log_interval_ms = 0;
	for (int i = 0; i < 4; i++)
		send_oversize_frame(fx->port);
	/* inside the window: the first error only */
	assert_int_equal(log_lines_count(path, "(DISCONNECT status 3)"), 1);
	assert_int_equal(log_summaries_sum(path, "SPOP protocol errors", &lines, NULL), 0);
	fake_clock_advance(1500); /* the window is over */
	ev_async_send(fx->loop, &fx->flush_logs);
	for (int waited = 0; waited < TIMEOUT_MS && !lines; waited += 20) {
		usleep(20 * 1000);
		summed = log_summaries_sum(path, "SPOP protocol errors", &lines, NULL);
	}
	assert_int_equal(lines, 1);
	assert_int_equal(summed, 3);
	assert_int_equal(log_lines_count(path, "SPOP protocol errors: 3 more in the last 1500 ms"), 1);
	/* a new window: the next error is a line of its own */
	send_oversize_frame(fx->port);
	assert_int_equal(log_lines_count(path, "(DISCONNECT status 3)"), 2);
	stop(fx);
	fake_clock_stop();
	log_close();
	unlink(path);
}

static void test_truncated_frame_then_close_leaves_server_serving(void **state)
{
	struct fixture *fx = start(100, 10000, 16380);
	struct spop_client good, bad;
	struct frame_buf b = { .len = 0 };

	client_hello(&good, fx->port);
	client_hello(&bad, fx->port);
	add_notify(&b, 9, 1, "/cut", "0123456789", 10);
	assert_true(spop_client_send(&bad, b.data, b.len - 5));
	spop_client_close(&bad);
	send_notify_expect_ack(&good, 11, 1);
	assert_int_equal(seen_messages(&fx->seen), 1);
	spop_client_close(&good);
	stop(fx);
}

static void test_notify_before_hello_disconnect_4(void **state)
{
	struct fixture *fx = start(100, 10000, 16380);
	struct spop_client c;
	struct frame_buf b = { .len = 0 };

	assert_int_equal(spop_client_connect(&c, fx->port), 0);
	add_notify(&b, 1, 1, "/early", "", 0);
	assert_true(spop_client_send(&c, b.data, b.len));
	assert_int_equal(read_disconnect(&c), SPOP_STATUS_INVALID);
	assert_true(spop_client_wait_closed(&c, TIMEOUT_MS));
	spop_client_close(&c);
	stop(fx);
}

static void test_haproxy_disconnect_answered_status_0_then_closed(void **state)
{
	struct fixture *fx = start(100, 10000, 16380);
	struct spop_client c;
	struct frame_buf b = { .len = 0 };

	client_hello(&c, fx->port);
	add_haproxy_disconnect(&b, 0, "normal");
	assert_true(spop_client_send(&c, b.data, b.len));
	assert_int_equal(read_disconnect(&c), SPOP_STATUS_NONE);
	assert_true(spop_client_wait_closed(&c, TIMEOUT_MS));
	spop_client_close(&c);
	stop(fx);
}

static void test_idle_connection_closed_with_timeout_status(void **state)
{
	struct fixture *fx = start(100, 300, 16380);
	struct spop_client c;
	struct frame_buf b = { .len = 0 };

	client_hello(&c, fx->port);
	/* stuck mid-frame: half a NOTIFY, then silence */
	add_notify(&b, 1, 1, "/stuck", "", 0);
	assert_true(spop_client_send(&c, b.data, b.len / 2));
	assert_int_equal(read_disconnect(&c), SPOP_STATUS_TIMEOUT);
	assert_true(spop_client_wait_closed(&c, TIMEOUT_MS));
	spop_client_close(&c);
	stop(fx);
}

/* True when the server wrote to c (or closed) within timeout_ms. */
static bool readable(struct spop_client *c, int timeout_ms)
{
	struct pollfd p = { .fd = c->fd, .events = POLLIN };

	return poll(&p, 1, timeout_ms) > 0;
}

/* One byte every 50 ms never completes the frame: closed with status 2 by
 * the frame time limit (200 ms), although the idle timeout (10 s) would
 * have let each byte keep it open. */
static void test_trickling_peer_closed_by_frame_timeout_status_2(void **state)
{
	struct fixture *fx;
	struct spop_client c;
	struct frame_buf b = { .len = 0 };
	size_t i = 0;

	next_frame_timeout_ms = 200;
	fx = start(100, 10000, 16380);
	next_frame_timeout_ms = 0;
	client_hello(&c, fx->port);
	add_notify(&b, 1, 1, "/trickle", "0123456789abcdef", 16);
	while (i < b.len - 1 && !readable(&c, 50))
		assert_true(spop_client_send(&c, b.data + i++, 1));
	assert_true(i < 10); /* 10 bytes would take 500 ms */
	assert_int_equal(read_disconnect(&c), SPOP_STATUS_TIMEOUT);
	assert_true(spop_client_wait_closed(&c, TIMEOUT_MS));
	assert_int_equal(fx->stats.frame_timeouts, 1);
	assert_int_equal(seen_messages(&fx->seen), 0);
	spop_client_close(&c);
	stop(fx);
}

/* Until `*value` reaches `want` (another thread writes it). */
static void wait_for(const volatile uint64_t *value, uint64_t want)
{
	for (int waited = 0; *value < want; waited++) {
		assert_true(waited < TIMEOUT_MS);
		usleep(1000);
	}
}

static void hello_big(struct spop_client *c, uint16_t port, uint32_t size)
{
	struct frame_buf b = { .len = 0 };
	struct spop_frame f;

	assert_int_equal(spop_client_connect(c, port), 0);
	add_hello(&b, "2.0", size, "pipelining", false);
	assert_true(spop_client_send(c, b.data, b.len));
	assert_int_equal(spop_client_read_frame(c, &f, TIMEOUT_MS), 1);
	assert_int_equal(f.type, SPOP_FRAME_AGENT_HELLO);
}

/* A budget with room for one 300 KiB frame: the second connection's frame
 * waits (not read, not closed) while the first holds its buffer, and is
 * served once the first completes. (A wait that outlasts frame-timeout,
 * status 13, is test_conn's: over sockets the holder's own deadline always
 * comes first and frees the room.) */
static uint8_t frame_a[400 * 1024], frame_b[400 * 1024];

/* A server whose budget has room for one 300 KiB frame (frame-timeout
 * timeout_ms), two connections after their handshake: c1 sent all of frame
 * A but its last byte (*la bytes in all) and the server holds it, then c2
 * sent all of frame B. */
static struct fixture *budget_start(struct spop_budget *budget, unsigned timeout_ms,
				    struct spop_client *c1, struct spop_client *c2, size_t *la)
{
	struct fixture *fx;
	size_t lb = big_notify(frame_b, sizeof(frame_b), 2, 1, 300 * 1024);

	*la = big_notify(frame_a, sizeof(frame_a), 1, 1, 300 * 1024);
	spop_budget_init(budget, 500 * 1024);
	next_budget = budget;
	next_frame_timeout_ms = timeout_ms;
	fx = start(100, 10000, 400 * 1024);
	next_budget = NULL;
	next_frame_timeout_ms = 0;
	hello_big(c1, fx->port, 400 * 1024);
	hello_big(c2, fx->port, 400 * 1024);
	assert_true(spop_client_send(c1, frame_a, *la - 1));
	for (int waited = 0; budget->used < 300 * 1024; waited++) {
		assert_true(waited < TIMEOUT_MS);
		usleep(1000);
	}
	assert_true(spop_client_send(c2, frame_b, lb));
	return fx;
}

static void test_budget_full_second_frame_waits_then_served(void **state)
{
	struct spop_budget budget;
	struct spop_client c1, c2;
	struct spop_frame f;
	size_t la;
	struct fixture *fx = budget_start(&budget, 2000, &c1, &c2, &la);

	wait_for(&fx->stats.memory_waits, 1);
	assert_int_equal(seen_messages(&fx->seen), 0);
	assert_true(spop_client_send(&c1, frame_a + la - 1, 1));
	assert_int_equal(spop_client_read_frame(&c1, &f, TIMEOUT_MS), 1);
	assert_int_equal(f.type, SPOP_FRAME_ACK);
	assert_int_equal(spop_client_read_frame(&c2, &f, TIMEOUT_MS), 1);
	assert_int_equal(f.type, SPOP_FRAME_ACK);
	assert_int_equal(f.stream_id, 2);
	assert_int_equal(seen_messages(&fx->seen), 2);
	assert_int_equal(fx->stats.memory_refused, 0);
	spop_client_close(&c1);
	spop_client_close(&c2);
	stop(fx);
	assert_int_equal(budget.used, 0);
	assert_true(budget.peak <= budget.limit + 64 * 1024);
}

static void test_connection_limit_refuses_excess_and_recovers(void **state)
{
	struct fixture *fx = start(3, 10000, 16380);
	struct spop_client c[4];

	for (int i = 0; i < 3; i++)
		client_hello(&c[i], fx->port);
	assert_int_equal(spop_client_connect(&c[3], fx->port), 0);
	assert_true(spop_client_wait_closed(&c[3], TIMEOUT_MS));
	spop_client_close(&c[3]);
	/* one leaves: a newcomer is served again */
	spop_client_close(&c[0]);
	for (int tries = 0;; tries++) {
		struct frame_buf b = { .len = 0 };
		struct spop_frame f;

		assert_int_equal(spop_client_connect(&c[0], fx->port), 0);
		add_hello(&b, "2.0", 16380, "pipelining", false);
		if (spop_client_send(&c[0], b.data, b.len) &&
		    spop_client_read_frame(&c[0], &f, TIMEOUT_MS) == 1) {
			assert_int_equal(f.type, SPOP_FRAME_AGENT_HELLO);
			break;
		}
		/* the close may not have been seen by the server yet */
		spop_client_close(&c[0]);
		assert_true(tries < 20);
		usleep(50000);
	}
	for (int i = 0; i < 3; i++)
		spop_client_close(&c[i]);
	stop(fx);
}

static void test_shutdown_sends_disconnect_0_to_open_connections(void **state)
{
	struct fixture *fx = start(100, 10000, 16380);
	struct spop_client c;

	client_hello(&c, fx->port);
	send_notify_expect_ack(&c, 1, 1);
	ev_async_send(fx->loop, &fx->shutdown);
	assert_int_equal(read_disconnect(&c), SPOP_STATUS_NONE);
	assert_true(spop_client_wait_closed(&c, TIMEOUT_MS));
	spop_client_close(&c);
	stop(fx);
}

static void test_processing_delay_holds_acks(void **state)
{
	struct fixture *fx;
	struct spop_client c;
	struct timespec t0, t1;
	double elapsed;

	next_processing_delay_ms = 300;
	fx = start(100, 10000, 16380);
	next_processing_delay_ms = 0;
	client_hello(&c, fx->port);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	send_notify_expect_ack(&c, 1, 1);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	elapsed = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	assert_true(elapsed >= 0.29);
	assert_true(elapsed < 2.0);
	spop_client_close(&c);
	stop(fx);
}

/* ---- over socketpairs ---- */

/* Every read returns one byte: the frame is reassembled across 200-odd
 * reads and handled once. */
static void test_socketpair_notify_one_byte_at_a_time(void **state)
{
	struct fixture *fx = start(100, 10000, 16380);
	struct frame_buf b = { .len = 0 };
	const char body[] = "{\"one\": \"byte at a time\"}";
	struct spop_client c;
	struct spop_frame f;

	assert_int_equal(pair_connect(fx, &c, 0), 0);
	say_hello(&c);
	add_notify(&b, 7, 3, "/slow?x=1", body, sizeof(body) - 1);
	for (size_t i = 0; i < b.len; i++) {
		assert_true(spop_client_send(&c, b.data + i, 1));
		usleep(200);
	}
	assert_int_equal(spop_client_read_frame(&c, &f, TIMEOUT_MS), 1);
	assert_int_equal(f.type, SPOP_FRAME_ACK);
	assert_int_equal(f.stream_id, 7);
	assert_int_equal(f.frame_id, 3);
	assert_int_equal(seen_messages(&fx->seen), 1);
	assert_int_equal(fx->seen.body_len, sizeof(body) - 1);
	assert_memory_equal(fx->seen.body, body, sizeof(body) - 1);
	spop_client_close(&c);
	stop(fx);
}

struct pipelined {
	struct spop_client *c;
	unsigned n;
	bool sent;
};

static void *send_pipelined(void *arg)
{
	struct pipelined *p = arg;

	p->sent = true;
	for (unsigned i = 1; i <= p->n && p->sent; i++) {
		struct frame_buf b = { .len = 0 };

		add_notify(&b, i, 1, "/pipelined", "", 0);
		p->sent = spop_client_send(p->c, b.data, b.len);
	}
	return NULL;
}

/* A peer that does not read: the server's small send buffer fills with
 * ACKs, it must wait for room (not drop ACKs, not close), and every ACK
 * arrives, in order, once the peer reads. */
static void test_socketpair_acks_wait_for_a_peer_that_stops_reading(void **state)
{
	struct fixture *fx = start(100, 10000, 16380);
	struct pipelined p = { .n = 3000 };
	struct spop_client c;
	pthread_t sender;

	assert_int_equal(pair_connect(fx, &c, 4096), 0);
	say_hello(&c);
	p.c = &c;
	assert_int_equal(pthread_create(&sender, NULL, send_pipelined, &p), 0);
	usleep(300 * 1000); /* nobody reads: the ACKs back up */
	for (uint64_t i = 1; i <= p.n; i++) {
		struct spop_frame f;

		assert_int_equal(spop_client_read_frame(&c, &f, TIMEOUT_MS), 1);
		assert_int_equal(f.type, SPOP_FRAME_ACK);
		assert_int_equal(f.stream_id, i);
	}
	pthread_join(sender, NULL);
	assert_true(p.sent);
	assert_int_equal(seen_messages(&fx->seen), p.n);
	spop_client_close(&c);
	stop(fx);
}

/* Half a NOTIFY, then the peer goes: nothing is handled, and the server
 * goes on serving the next one. */
static void test_socketpair_peer_gone_mid_frame(void **state)
{
	struct fixture *fx = start(100, 10000, 16380);
	struct frame_buf b = { .len = 0 };
	struct spop_client gone, next;

	assert_int_equal(pair_connect(fx, &gone, 0), 0);
	say_hello(&gone);
	add_notify(&b, 1, 1, "/half", "0123456789", 10);
	assert_true(spop_client_send(&gone, b.data, b.len / 2));
	spop_client_close(&gone);
	assert_int_equal(pair_connect(fx, &next, 0), 0);
	say_hello(&next);
	send_notify_expect_ack(&next, 2, 1);
	assert_int_equal(seen_messages(&fx->seen), 1);
	spop_client_close(&next);
	stop(fx);
}

/* Adopted connections count against max-connections like accepted ones. */
static void test_socketpair_beyond_the_limit_refused(void **state)
{
	struct fixture *fx = start(1, 10000, 16380);
	struct spop_client first, second;

	assert_int_equal(pair_connect(fx, &first, 0), 0);
	assert_int_equal(pair_connect(fx, &second, 0), -1);
	assert_true(spop_client_wait_closed(&second, TIMEOUT_MS));
	assert_int_equal(fx->stats.conn_refused, 1);
	say_hello(&first);
	spop_client_close(&second);
	spop_client_close(&first);
	stop(fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_handshake_variants_accepted),
		cmocka_unit_test(test_healthcheck_gets_hello_then_close),
		cmocka_unit_test(test_500_pipelined_notify_on_one_connection_all_acked),
		cmocka_unit_test(test_200_concurrent_connections_all_served),
		cmocka_unit_test(test_fragmented_5k_body_reassembled_byte_exact),
		cmocka_unit_test(test_aborted_fragments_not_acked_nor_mirrored),
		cmocka_unit_test(test_oversize_frame_disconnect_3_and_others_unaffected),
		cmocka_unit_test(test_garbage_ends_only_that_connection),
		cmocka_unit_test(test_protocol_errors_logged_once_per_configured_interval),
		cmocka_unit_test(test_truncated_frame_then_close_leaves_server_serving),
		cmocka_unit_test(test_notify_before_hello_disconnect_4),
		cmocka_unit_test(test_haproxy_disconnect_answered_status_0_then_closed),
		cmocka_unit_test(test_idle_connection_closed_with_timeout_status),
		cmocka_unit_test(test_trickling_peer_closed_by_frame_timeout_status_2),
		cmocka_unit_test(test_budget_full_second_frame_waits_then_served),
		cmocka_unit_test(test_connection_limit_refuses_excess_and_recovers),
		cmocka_unit_test(test_shutdown_sends_disconnect_0_to_open_connections),
		cmocka_unit_test(test_processing_delay_holds_acks),
		cmocka_unit_test(test_socketpair_notify_one_byte_at_a_time),
		cmocka_unit_test(test_socketpair_acks_wait_for_a_peer_that_stops_reading),
		cmocka_unit_test(test_socketpair_peer_gone_mid_frame),
		cmocka_unit_test(test_socketpair_beyond_the_limit_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

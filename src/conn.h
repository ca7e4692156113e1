/* One SPOP connection's state machine, driven from buffers: the server (or a
 * test, or the fuzzer) reads bytes into conn_input_space(), calls
 * conn_process(), and writes out what conn_output() holds. No sockets here.
 *
 * HELLO -> READY -> CLOSING. Every NOTIFY is ACKed as soon as it is complete
 * and decoded, then its messages go to the handler. Protocol errors queue an
 * AGENT-DISCONNECT with the status code and move to CLOSING: the owner
 * flushes the output and closes. */
#ifndef SPOA_MIRROR_CONN_H
#define SPOA_MIRROR_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clock.h"
#include "spop.h"
#include "spop_budget.h"
#include "stats.h"

struct conn_settings {
	uint32_t max_frame_size; /* ours; negotiated down to HAProxy's */
	unsigned caps;           /* SPOP_CAP_* we announce */
	size_t reassembly_max;   /* a fragmented NOTIFY beyond this is ACKed and dropped */
	/* A frame (a fragmented NOTIFY: all its fragments) must be complete
	 * this long after its first byte came in; 0 = no limit. */
	unsigned frame_timeout_ms;
	struct spop_budget *budget;       /* shared by all connections; NULL = none */
	const struct clock_source *clock; /* NULL = CLOCK_MONOTONIC */
};

struct conn_handler {
	void (*on_message)(void *arg, const struct spop_message *m);
	void *arg;
};

enum conn_phase {
	CONN_HELLO,   /* waiting for HAPROXY-HELLO */
	CONN_READY,   /* NOTIFY frames flow */
	CONN_CLOSING, /* flush the output, then close */
};

struct spop_conn;

struct spop_conn *conn_new(const struct conn_settings *s, const struct conn_handler *h,
			   struct spop_stats *stats);
void conn_free(struct spop_conn *c);

/* Where to read next, and how much fits. Grows the buffer (up to the
 * negotiated frame size) when a partial frame needs it. NULL when out of
 * memory (the connection is then CLOSING) or when the budget has no room for
 * the frame (still open: conn_waiting_memory() is true; stop reading and
 * call again once the budget gave bytes back). */
uint8_t *conn_input_space(struct spop_conn *c, size_t *avail);
void conn_input_commit(struct spop_conn *c, size_t n);

/* Decodes and handles every complete frame in the input. */
enum conn_phase conn_process(struct spop_conn *c);
enum conn_phase conn_phase(const struct spop_conn *c);

/* Bytes waiting to be written, and how many went out. */
const uint8_t *conn_output(const struct spop_conn *c, size_t *len);
void conn_output_consume(struct spop_conn *c, size_t n);

/* Ends the connection from our side: queues AGENT-DISCONNECT with `status`
 * and `reason` (status 0 for a normal shutdown), unless already closing. */
void conn_close(struct spop_conn *c, enum spop_status status, const char *reason);

/* True when part of a frame, or of a fragmented NOTIFY, is pending. */
bool conn_mid_frame(const struct spop_conn *c);
bool conn_waiting_memory(const struct spop_conn *c);

/* Time, on the settings' clock. A pending frame must be complete by
 * conn_frame_deadline_ns() (0: none pending or no limit); conn_expire()
 * closes the connection once it is not: DISCONNECT 2 (timeout), or 13
 * (resource) when the frame waited for memory all along. Bytes of an
 * incomplete frame do not count as activity: conn_last_frame_ns() is when
 * the last frame (fragmented NOTIFY: its last fragment) was complete, or
 * when the connection opened. */
uint64_t conn_now_ns(const struct spop_conn *c);
uint64_t conn_frame_deadline_ns(const struct spop_conn *c);
uint64_t conn_last_frame_ns(const struct spop_conn *c);
enum conn_phase conn_expire(struct spop_conn *c);
/* Why the connection is closing ("" while open), and the status sent. */
const char *conn_close_reason(const struct spop_conn *c);
enum spop_status conn_close_status(const struct spop_conn *c);

#endif

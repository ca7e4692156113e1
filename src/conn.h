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

#include "spop.h"
#include "stats.h"

struct conn_settings {
	uint32_t max_frame_size; /* ours; negotiated down to HAProxy's */
	unsigned caps;           /* SPOP_CAP_* we announce */
	size_t reassembly_max;   /* a fragmented NOTIFY beyond this is ACKed and dropped */
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
 * memory (the connection is then CLOSING). */
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
/* Why the connection is closing ("" while open), and the status sent. */
const char *conn_close_reason(const struct spop_conn *c);
enum spop_status conn_close_status(const struct spop_conn *c);

#endif

/* Drives one whole SPOP connection from an input: conn.c fed in pieces,
 * every complete NOTIFY going through the agent's real mirror path
 * (mirror_on_message, message mapping, header blocks, target admission, the
 * queue budget) into a submit function that finishes requests like a replay
 * worker would. Then checks what the agent promises: well-formed output
 * frames, ACKs only for NOTIFYs sent and in their order, nothing handled
 * once closing, exact per-target counters, the budget back to zero. Shared
 * by the libFuzzer target fuzz_conn.c and its corpus replayer.
 *
 * Input layout: CONN_DRIVE_HEADER option bytes (conn_drive_options), then
 * the bytes HAProxy would send on the connection. */
#ifndef SPOA_MIRROR_CONN_DRIVE_H
#define SPOA_MIRROR_CONN_DRIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONN_DRIVE_HEADER 4

/* What the option bytes select; each field is a small index into a table.
 * Index 0 is always the agent's default (config_init), so all-zero option
 * bytes mean "the agent as shipped, input in one piece". */
struct conn_drive_options {
	unsigned frame_size;  /* our max-frame-size: 4 MiB, 16380, 1024, 256 */
	bool no_fragmentation; /* do not announce the fragmentation capability */
	bool no_pipelining;   /* do not announce pipelining and async */
	unsigned reassembly;  /* reassembly limit: 16 MiB, 65536, 2048, 256 */
	unsigned hold;        /* requests kept unfinished: 0, 1, 4, 16 */
	unsigned chunking;    /* input pieces: all at once, 1 byte, 1..16, 1..512 */
	unsigned seed;        /* 0..63: piece and output-drain sizes */
	unsigned entries;     /* queue budget entries: 10000, 8, 2, 1 */
	unsigned bytes;       /* queue budget bytes: 32 MiB, 65536, 4096, 600 */
	unsigned inflight;    /* both targets' max in flight: 256, 4, 2, 1 */
	unsigned outcome;     /* where the cycle of shadow outcomes starts: 0..3 */
	unsigned sample_key;  /* target "half" samples on: x-request-id header,
			       * cookie "session", client address, random draw */
	bool rate_limited;    /* target "full" takes 2 requests/s (burst 2) */
	bool slow_reader;     /* output taken 1 time in 8, a random part */
};

void conn_drive_options_encode(const struct conn_drive_options *o,
			       uint8_t out[CONN_DRIVE_HEADER]);
/* Missing bytes (a short input) read as zero. */
void conn_drive_options_decode(const uint8_t *in, size_t len, struct conn_drive_options *o);

/* What happened, so a replay can show the seeds reach the mirror path. */
struct conn_drive_tally {
	unsigned long frames_in;  /* frames the connection handled */
	unsigned long acks;
	unsigned long messages;   /* handed to mirror_on_message */
	unsigned long submitted;  /* requests that reached the submit function */
	bool closed_by_peer_or_error; /* CLOSING before the input ended */
};

/* NULL when every check held; otherwise a one-line description of the
 * first broken one. The tally may be NULL. */
const char *conn_drive_check(const uint8_t *data, size_t len, struct conn_drive_tally *t);

#endif

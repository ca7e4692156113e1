/* A real HTTP/1.1 server for tests: listens on 127.0.0.1 (port chosen by
 * the kernel), serves each connection on its own thread with keep-alive,
 * and records every request's method, target, headers and body exactly as
 * they arrived. Its behaviour (answer delay, status, hanging, recording on
 * or off) is fixed at start. Threads end when the recorder stops. */
#ifndef SPOA_MIRROR_TEST_HTTP_RECORDER_H
#define SPOA_MIRROR_TEST_HTTP_RECORDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum recorder_mode {
	RECORDER_ANSWER = 0, /* answer every request (after delay_ms) */
	RECORDER_HANG,       /* read requests, never answer */
};

struct recorder_options {
	enum recorder_mode mode;
	unsigned delay_ms;   /* before each answer */
	int status;          /* 0 = 200 */
	bool no_record;      /* count requests but keep nothing (benchmarks) */
	size_t max_request;  /* bytes of head + body accepted; 0 = 8 MiB */
	bool close_idle;     /* close each connection after its first answer,
				without a Connection: close (an idle timeout) */
};

struct recorded_header {
	char *name;
	char *value;
};

struct recorded_request {
	char *method;
	char *target;
	char *version;
	struct recorded_header *headers;
	size_t n_headers;
	char *body;          /* NUL-terminated for convenience; body_len is exact */
	size_t body_len;
	unsigned conn_id;    /* 1.. in accept order */
	uint16_t peer_port;
};

struct http_recorder;

/* NULL on failure (errno-style reason printed to stderr). */
struct http_recorder *recorder_start(const struct recorder_options *o);
uint16_t recorder_port(const struct http_recorder *rec);
/* "http://127.0.0.1:PORT" plus suffix, in a static-per-recorder buffer. */
const char *recorder_url(struct http_recorder *rec, const char *suffix);

size_t recorder_count(struct http_recorder *rec);
size_t recorder_connections(struct http_recorder *rec);
/* Waits until `n` requests arrived; false after timeout_ms. */
bool recorder_wait(struct http_recorder *rec, size_t n, unsigned timeout_ms);
/* Request i (arrival order); stays valid until recorder_stop(). */
const struct recorded_request *recorder_get(struct http_recorder *rec, size_t i);

/* Value of the first header named `name` (case-insensitive), or NULL. */
const char *recorded_header(const struct recorded_request *q, const char *name);
/* Number of headers named `name`. */
size_t recorded_header_count(const struct recorded_request *q, const char *name);

/* Closes the listener and every connection, joins the threads, frees. */
void recorder_stop(struct http_recorder *rec);

#endif

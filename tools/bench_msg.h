/* What spop-bench sends: the payload of one NOTIFY frame (a mirror-request
 * message shaped like HAProxy's), and frame heads to wrap it, whole or in
 * fragments. Built once per run; every NOTIFY reuses the same payload. */
#ifndef SPOA_MIRROR_BENCH_MSG_H
#define SPOA_MIRROR_BENCH_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* How the SPOE config names the message's args. */
enum bench_naming {
	BENCH_NAMING_NAMED = 0, /* method path version headers body src */
	BENCH_NAMING_SEED,      /* the seeds' config: method uri version headers body_len body */
	BENCH_NAMING_INCUMBENT, /* the old agent's: arg_method arg_path arg_ver arg_hdrs arg_body */
	BENCH_NAMING_UNNAMED,   /* empty names, in the incumbent's order */
};

enum bench_hdrs {
	BENCH_HDRS_BIN = 0, /* req.hdrs_bin: binary block */
	BENCH_HDRS_TEXT,    /* req.hdrs: HTTP/1 text block */
};

struct bench_msg_spec {
	const char *message;  /* SPOE message name */
	enum bench_naming naming;
	enum bench_hdrs hdrs;
	const char *method;
	const char *path;     /* path with query, as `pathq` gives it */
	const char *version;  /* "1.1" */
	unsigned n_headers;   /* total, host and content-length included */
	size_t header_size;   /* value size of the filler headers */
	size_t body_size;
};

/* Fills *s with the defaults spop-bench documents. */
void bench_msg_spec_defaults(struct bench_msg_spec *s);

/* Parses "named", "seed", "incumbent", "unnamed"; -1 when unknown. */
int bench_naming_parse(const char *text);
const char *bench_naming_name(enum bench_naming n);

/* Builds the NOTIFY payload (one message). Allocates *out (caller frees).
 * Returns 0, or -1 when memory runs out. */
int bench_msg_build(const struct bench_msg_spec *s, uint8_t **out, size_t *len);

/* Largest frame head: 4-byte length, type, flags, two varints. */
#define BENCH_FRAME_HEAD_MAX (4 + 1 + 4 + 10 + 10)

/* Writes the head of a frame whose payload is payload_len bytes; returns
 * the head's size (<= BENCH_FRAME_HEAD_MAX). */
size_t bench_frame_head(uint8_t *out, uint8_t type, uint32_t flags, uint64_t sid, uint64_t fid,
			size_t payload_len);

/* Payload bytes one frame can carry under a max-frame-size, whatever the
 * stream and frame ids (0 when the frame size is too small). */
size_t bench_frame_room(uint32_t max_frame_size);

/* Number of frames a payload takes when cut into chunks of `chunk` bytes
 * (1 when it fits; chunk must be > 0). */
size_t bench_fragment_count(size_t payload_len, size_t chunk);

#endif

/* Realistic SPOP byte streams built with the codec's encoders: what HAProxy
 * 2.6 sends (HELLO, mirror-request NOTIFYs, fragments, DISCONNECT) and what
 * the agent answers. Shared by the fuzz corpus generator and the unit tests'
 * truncation and corruption sweeps, so both work on the same inputs. */
#ifndef SPOA_MIRROR_SAMPLE_FRAMES_H
#define SPOA_MIRROR_SAMPLE_FRAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum sample_kind {
	SAMPLE_HELLO,                /* HAPROXY-HELLO as 2.6 sends it */
	SAMPLE_HELLO_HEALTHCHECK,    /* option spop-check: healthcheck, no caps */
	SAMPLE_HELLO_ENGINE_ID,      /* version list with spaces, engine-id */
	SAMPLE_NOTIFY_GET_HDRS_BIN,  /* GET, req.hdrs_bin, no body */
	SAMPLE_NOTIFY_GET_HDRS_TEXT, /* GET, req.hdrs text block */
	SAMPLE_NOTIFY_POST_BODY,     /* POST with JSON body, hdrs_bin, src IPv4 */
	SAMPLE_NOTIFY_LARGE_BODY,    /* 15000-byte body, IPv6 src, unique-id */
	SAMPLE_NOTIFY_UNNAMED_ARGS,  /* args without names, two messages */
	SAMPLE_NOTIFY_FRAGMENTED,    /* NOTIFY without FIN + type-0 frames */
	SAMPLE_NOTIFY_ABORTED,       /* NOTIFY without FIN + ABORT fragment */
	SAMPLE_HAPROXY_DISCONNECT,
	SAMPLE_AGENT_HELLO,
	SAMPLE_AGENT_DISCONNECT,
	SAMPLE_ACK_EMPTY,
	SAMPLE_ACK_ACTIONS,          /* set-var of several types, unset-var */
	SAMPLE_SESSION,              /* HELLO, two NOTIFYs, DISCONNECT back to back */
	SAMPLE_COUNT
};

/* File-name-friendly name of a sample ("notify_post_body"). */
const char *sample_name(enum sample_kind k);

/* Writes sample k into buf; returns its length, or 0 when cap is too small.
 * Samples fit in SAMPLE_MAX_LEN bytes. */
#define SAMPLE_MAX_LEN 65536
size_t sample_build(enum sample_kind k, uint8_t *buf, size_t cap);

/* A header block alone, as HAProxy's req.hdrs_bin (bin) or req.hdrs (text)
 * produce it for a POST; returns its length, or 0 when cap is too small. */
size_t sample_header_block(bool bin, uint8_t *buf, size_t cap);

/* Frame size limit the samples respect (HAProxy's default 16380 is raised
 * for the large-body sample as `tune.bufsize` would). */
#define SAMPLE_MAX_FRAME_SIZE 32768u

#endif

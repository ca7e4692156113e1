/* Runs every decoder of the SPOP codec and of the header blocks over one
 * input, the way the agent would meet those bytes, and checks what any
 * correct decoder must guarantee: a status from the documented set, views
 * that stay inside the input, counts within their limits, and encoders that
 * reproduce what was decoded. Shared by the libFuzzer target, its corpus
 * replayer and the unit tests' corruption sweep. */
#ifndef SPOA_MIRROR_DECODE_ALL_H
#define SPOA_MIRROR_DECODE_ALL_H

#include <stddef.h>
#include <stdint.h>

/* Frame size limit the driver decodes with. */
#define DECODE_ALL_MAX_FRAME_SIZE 65536u

/* What the decoders made of the input, so callers can show that a sweep
 * reached both valid decodes and clean errors. */
struct decode_tally {
	unsigned long frames;         /* frames decoded */
	unsigned long frame_errors;   /* frame-level negative statuses */
	unsigned long need_more;      /* input ended inside a frame */
	unsigned long payload_ok;     /* HELLO/DISCONNECT/list decodes that succeeded */
	unsigned long payload_errors; /* ... that returned a negative status */
	unsigned long messages;       /* NOTIFY messages decoded */
	unsigned long args;
	unsigned long actions;
	unsigned long header_blocks;  /* header blocks decoded (either format) */
};

/* NULL when every check held; otherwise a one-line description of the
 * broken one (a bug in the codec). The tally may be NULL. */
const char *decode_all_check(const uint8_t *data, size_t len, struct decode_tally *t);

#endif

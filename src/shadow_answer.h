/* The shadow's answer, for targets that compare: captured from libcurl's
 * header and write callbacks while the transfer runs (status line, header
 * lines, body up to compare-body-max, a digest and the length of all of
 * it), then made into one owned allocation for the verdict thread. Knows
 * no curl: the replay transfer feeds it bytes. */
#ifndef SPOA_MIRROR_SHADOW_ANSWER_H
#define SPOA_MIRROR_SHADOW_ANSWER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "headers.h"
#include "slice.h"
#include "verdict.h"
#include "verdict_item.h"

/* Header bytes kept per answer; beyond, the answer is not comparable
 * (HAProxy's own limit for a whole header block is tune.bufsize, 16 KiB). */
#define SHADOW_ANSWER_HEADERS_MAX (64 * 1024)
/* Header lines decoded per answer (HAProxy's default is 101). */
#define SHADOW_ANSWER_MAX_HEADERS 256

/* Capture buffers up to this are kept for the transfer's next capture
 * (bigger ones are freed when the capture ends): a typical head and body.
 * Kept ones are charged again while a capture holds them, not while the
 * transfer is idle. */
#define SHADOW_CAPTURE_KEEP 4096

struct queue_budget;

/* One transfer's capture, reused with the transfer. While it captures,
 * its buffers' capacity is charged to a budget shared by every transfer
 * (compare-capture-max), given back when the capture ends. */
struct shadow_capture {
	size_t body_max;
	struct queue_budget *budget; /* NULL: no limit */
	char *head;        /* header lines of the last (final) response */
	size_t head_len, head_cap;
	char *body;        /* up to body_max bytes */
	size_t body_len, body_cap;
	uint64_t body_total;
	uint64_t digest;
	bool overflow;     /* headers over their cap, out of memory or budget */
	bool body_cut;     /* body bytes no longer kept (memory or budget) */
	bool short_of_budget; /* the budget refused some growth */
};

/* Starts a capture (buffers kept from the last one) charging `budget`. */
void shadow_capture_begin(struct shadow_capture *c, size_t body_max,
			  struct queue_budget *budget);
/* One header line as libcurl gives it (CRLF included). A status line
 * starts the header block again: interim answers (100 Continue) are not
 * the answer. Returns len (never fails the transfer). */
size_t shadow_capture_header(struct shadow_capture *c, const char *line, size_t len);
/* Body bytes: kept up to body_max while memory and budget allow, digested
 * all. Returns len. */
size_t shadow_capture_body(struct shadow_capture *c, const char *buf, size_t len);
/* The capture is over (its answer handed over, or none wanted): gives its
 * charge back and frees buffers bigger than SHADOW_CAPTURE_KEEP. */
void shadow_capture_end(struct shadow_capture *c);
/* Frees the buffers (transfer destroyed). */
void shadow_capture_free(struct shadow_capture *c);

struct shadow_answer {
	struct verdict_item item;
	struct slice id;
	uint64_t generation; /* of the target set */
	unsigned target;     /* index in that set */
	uint64_t expected;   /* the request's compare-on targets */
	uint64_t latency_us;
	struct verdict_answer answer; /* views into this allocation */
	size_t n_headers;
	struct http_header headers[];
};

/* Who the answer is for. */
struct shadow_answer_key {
	struct slice id;
	uint64_t generation;
	unsigned target;
	uint64_t expected;
	uint64_t latency_us;
	bool head; /* HEAD request: a Content-Length without body is complete */
};

/* The captured answer with `status` (0: no answer, a shadow_error) as one
 * allocation; `complete` is false when the transfer failed after the
 * status (cut, timed out in the body): then the body is PARTIAL, as it is
 * when the capture stopped keeping it (body_cut). A head the capture could
 * not keep makes the answer `lost` (never compared). The allocation is
 * charged to the verdict thread's inbox and join (join-max-bytes), not to
 * the capture's budget. NULL when out of memory. */
struct shadow_answer *shadow_answer_new(const struct shadow_capture *c,
					const struct shadow_answer_key *k, int status,
					bool complete);
void shadow_answer_free(struct shadow_answer *a);

#endif

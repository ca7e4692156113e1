/* The primary's answer: what one `mirror-response` message (status,
 * res.hdrs_bin, res.body, unique-id, optionally the response time)
 * becomes once it leaves the SPOP connection. One allocation holds the
 * struct, the header array and every byte, like a mirror request. */
#ifndef SPOA_MIRROR_RESPONSE_H
#define SPOA_MIRROR_RESPONSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "headers.h"
#include "message.h"
#include "slice.h"
#include "spop.h"
#include "verdict.h"
#include "verdict_item.h"

/* Views into the NOTIFY frame (response_extract), copied by primary_answer_new. */
struct response_fields {
	struct slice id;
	int status;             /* 0 when absent or not a number in 100..999 */
	struct message_payload payload; /* res.hdrs_bin or res.hdrs, res.body, body_len */
	bool has_time;
	uint64_t time_ms;       /* res.timer.hdr (HAProxy 2.9+): %Tr */
};

enum response_rc {
	RESPONSE_OK = 0,
	RESPONSE_NO_ID = -1,
	RESPONSE_NO_STATUS = -2,
	/* and the negative spop_rc of a header block that does not decode */
};

/* Maps the message's arguments (names: id / unique-id / unique_id, status,
 * headers / hdrs, body, body_len, time / res_time / timer_hdr) and decodes
 * its header block into h. Views only. */
int response_extract(const struct spop_message *m, struct response_fields *f,
		     struct header_list *h);
const char *response_strerror(int rc);

struct primary_answer {
	struct verdict_item item;
	struct slice id;
	bool has_time;
	uint64_t time_us;
	bool has_declared_length;
	uint64_t declared_length; /* Content-Length or body_len */
	struct verdict_answer answer; /* views into this allocation */
	size_t n_headers;
	struct http_header headers[];
};

/* Copies f and h into one new allocation; NULL when out of memory. The
 * body state is COMPLETE here: whether it is partial depends on the
 * request's method, known when it is joined (answer_body_settle). */
struct primary_answer *primary_answer_new(const struct response_fields *f,
					  const struct header_list *h);
void primary_answer_free(struct primary_answer *p);

/* A complete body shorter than declared becomes PARTIAL, unless the
 * answer has no body by rule (HEAD, 1xx, 204, 304). */
void answer_body_settle(struct verdict_answer *a, bool has_declared, uint64_t declared,
			bool head);

#endif

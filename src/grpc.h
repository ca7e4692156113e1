/* What gRPC means to the agent: a call is recognised by its content type,
 * and the shadow's answer carries its outcome in grpc-status (a trailer
 * after the messages, or a header of a trailers-only answer). Pure
 * functions over bytes, no curl: unit-tested with every spelling. */
#ifndef SPOA_MIRROR_GRPC_H
#define SPOA_MIRROR_GRPC_H

#include <stdbool.h>
#include <stddef.h>

#include "headers.h"
#include "slice.h"

/* Per-target counter slots: codes OK (0) .. UNAUTHENTICATED (16), then a
 * grpc-status that is no such code, then an answer without one (a shadow
 * that is not a gRPC server, an HTTP error from a proxy in between). */
enum {
	GRPC_STATUS_CODES = 17,
	GRPC_SLOT_INVALID = GRPC_STATUS_CODES,
	GRPC_SLOT_MISSING,
	GRPC_SLOTS,
};

/* What grpc_status_line() says of a line that is not grpc-status. */
#define GRPC_STATUS_NONE (-1)

/* True for "application/grpc" and its "+proto", "+json", ... variants, with
 * or without parameters (case-insensitive, as media types are). */
bool grpc_content_type(struct slice value);

/* Whether a request is a gRPC call: its first Content-Type says so. */
bool grpc_call(const struct http_header *headers, size_t n);

/* One header line as libcurl's CURLOPT_HEADERFUNCTION hands it over
 * ("grpc-status: 5\r\n"; trailers come the same way, after the body): the
 * slot to count (0..16 or GRPC_SLOT_INVALID), or GRPC_STATUS_NONE for any
 * other line. */
int grpc_status_line(const char *line, size_t len);

/* The metric label of a slot: "0".."16", "invalid", "missing". */
const char *grpc_slot_name(unsigned slot);

#endif

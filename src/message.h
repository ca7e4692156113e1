/* Maps the arguments of one SPOE message onto the parts of a mirror request.
 * Accepts the seeds' names (method, uri, version, headers, body), the
 * incumbent's (arg_method, arg_path, arg_ver, arg_hdrs, arg_body) and their
 * variants; unnamed arguments fall back to the incumbent's positional order
 * (method, path, version, headers, body). Views only: nothing is copied. */
#ifndef SPOA_MIRROR_MESSAGE_H
#define SPOA_MIRROR_MESSAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "headers.h"
#include "slice.h"
#include "spop.h"

/* Longest textual client address: an IPv6 literal. */
#define MESSAGE_CLIENT_MAX 46

/* What the request message and the response message both carry: a header
 * block, a body and the body's declared length. */
struct message_payload {
	struct slice headers;   /* the raw block */
	bool headers_binary;    /* *.hdrs_bin (BINARY) vs *.hdrs (STRING) */
	struct slice body;
	bool has_declared_length;
	uint64_t declared_length; /* body_len / body_size argument */
};

/* The payload's argument kinds, shared by both messages' field tables. */
enum message_payload_field {
	MESSAGE_PAYLOAD_HEADERS = 100,
	MESSAGE_PAYLOAD_BODY,
	MESSAGE_PAYLOAD_DECLARED_LENGTH,
};

/* Stores argument v of kind `field` (a message_payload_field) in p; a NULL
 * or mistyped value leaves the part empty. */
void message_payload_take(struct message_payload *p, int field, const struct spop_value *v);
/* Decodes p's header block (binary or text) into h: SPOP_OK, also when
 * there is none, or a negative spop_rc. */
int message_payload_headers(const struct message_payload *p, struct header_list *h);

struct message_fields {
	struct slice method;
	struct slice uri;
	struct slice version;
	struct message_payload payload;
	struct slice unique_id;
	struct slice client;    /* points into client_buf or into the frame */
	char client_buf[MESSAGE_CLIENT_MAX];
	/* The `compare` argument: HAProxy's choice of the mirrored requests
	 * whose answers it sends too (a sample of them, say); absent, every
	 * mirrored request is compared where its targets say so. */
	bool compare_given;
	bool compare;           /* true only for a true boolean or a non-zero integer */
};

enum message_rc {
	MESSAGE_OK = 0,
	MESSAGE_NO_METHOD = -1,
	MESSAGE_NO_URI = -2,
};

int message_extract(const struct spop_message *m, struct message_fields *f);

/* An argument name and the field it fills: the tables of message.c and
 * response.c. */
struct message_arg {
	const char *name;
	size_t len;
	int field;
};
#define MESSAGE_ARG(n, f) { n, sizeof(n) - 1, f }

/* The field named `name` in table, or `unknown`. */
int message_arg_field(const struct message_arg *table, size_t n, struct slice name,
		      int unknown);
/* STRING or BINARY: the types a text field accepts. */
bool message_value_is_text(const struct spop_value *v);
const char *message_strerror(int rc);

/* True when `name` is one of the accepted message names. */
bool message_name_accepted(char *const *names, size_t n, struct slice name);

#endif

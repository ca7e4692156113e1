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

#include "slice.h"
#include "spop.h"

/* Longest textual client address: an IPv6 literal. */
#define MESSAGE_CLIENT_MAX 46

struct message_fields {
	struct slice method;
	struct slice uri;
	struct slice version;
	struct slice headers;   /* the raw block */
	bool headers_binary;    /* req.hdrs_bin (BINARY) vs req.hdrs (STRING) */
	struct slice body;
	struct slice unique_id;
	struct slice client;    /* points into client_buf or into the frame */
	char client_buf[MESSAGE_CLIENT_MAX];
	bool has_declared_length;
	uint64_t declared_length; /* body_len / body_size argument */
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

/* HTTP header lists as HAProxy hands them over in a NOTIFY: the binary
 * `req.hdrs_bin` block and the HTTP/1 text `req.hdrs` block both decode into
 * one list of (name, value) views. No allocation: the caller owns the array. */
#ifndef SPOA_MIRROR_HEADERS_H
#define SPOA_MIRROR_HEADERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slice.h"

struct http_header {
	struct slice name;
	struct slice value;
};

struct header_list {
	struct http_header *items; /* caller-provided storage */
	size_t count;
	size_t max;
};

static inline struct header_list header_list_init(struct http_header *items, size_t max)
{
	return (struct header_list){ items, 0, max };
}

/* `req.hdrs_bin`: varint-length name and value pairs, ended by two empty
 * strings that must close the block. Returns SPOP_OK or a negative spop_rc:
 * SPOP_E_TRUNCATED / SPOP_E_VARINT (cut or bad length), SPOP_E_SYNTAX (name
 * not a token, CR/LF/NUL in a value, bytes after the end), SPOP_E_TOO_MANY. */
int headers_decode_bin(struct slice block, struct header_list *out);

/* `req.hdrs`: "Name: value\r\n" lines ended by an empty line (bare "\n"
 * tolerated; a block of complete lines without the empty one is accepted).
 * Values are trimmed of spaces and tabs. Returns SPOP_OK or SPOP_E_SYNTAX
 * (line cut, no colon, name not a token, CR/NUL in a value, bytes after the
 * empty line) / SPOP_E_TOO_MANY. */
int headers_decode_text(struct slice block, struct header_list *out);

/* Content-Length of a header array: false when absent or not plain digits. */
bool headers_content_length(const struct http_header *h, size_t n, uint64_t *out);

/* First header named `name` (case-insensitive), or NULL: in an array, in a
 * list. */
const struct http_header *headers_find_in(const struct http_header *h, size_t n,
					  struct slice name);
const struct http_header *headers_find(const struct header_list *list, struct slice name);

#endif

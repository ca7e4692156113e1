/* Writing JSON text for the verdict outputs (diff log, /compare): strings
 * from bytes that came off the wire, so any byte sequence must come out as
 * valid UTF-8 JSON. No parsing here; jansson stays a test-only dependency. */
#ifndef SPOA_MIRROR_JSON_WRITE_H
#define SPOA_MIRROR_JSON_WRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "strbuf.h"

enum json_write_flags {
	JSON_W_PLAIN = 0,
	/* also escape < > & and U+2028/U+2029, so that the text can sit in an
	 * HTML <script> element ("</script>" in a path cannot close it) and in
	 * any JavaScript parser */
	JSON_W_SCRIPT_SAFE = 1,
};

/* Appends `len` bytes as a quoted JSON string. Valid UTF-8 passes through;
 * control characters become \n, \t, ... or \u00XX; each byte that is not
 * part of a valid UTF-8 sequence (stray continuation, overlong form,
 * surrogate, beyond U+10FFFF, cut sequence) becomes \ufffd, the
 * replacement character: a reader sees that something was lost instead of
 * a Latin-1 character that was never sent. */
void json_write_string(struct strbuf *out, const void *bytes, size_t len, unsigned flags);

/* At most `max` bytes of the input (cut back to a UTF-8 sequence start, so
 * the cut does not add a \ufffd), written as json_write_string does. */
void json_write_string_cut(struct strbuf *out, const void *bytes, size_t len, size_t max,
			   unsigned flags);

static inline void json_write_cstr(struct strbuf *out, const char *s, unsigned flags)
{
	json_write_string(out, s, s ? strlen(s) : 0, flags);
}

/* "2026-12-03T12:54:31.123Z" (RFC 3339, UTC, milliseconds), quoted. */
void json_write_time_ms(struct strbuf *out, uint64_t unix_ms);

/* Length of the valid UTF-8 sequence at p (1..4), or 0 when the byte at p
 * does not start one within n bytes. */
size_t json_utf8_seq_len(const unsigned char *p, size_t n);

#endif

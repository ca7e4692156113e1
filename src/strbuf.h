/* A growable byte buffer for text built piece by piece (/metrics pages,
 * HTTP replies). Setup and scrape paths only: growth uses xrealloc. The
 * bytes are always NUL-terminated once anything was written. */
#ifndef SPOA_MIRROR_STRBUF_H
#define SPOA_MIRROR_STRBUF_H

#include <stddef.h>

struct strbuf {
	char *data;
	size_t len;
	size_t cap;
};

#define STRBUF_INIT { NULL, 0, 0 }

void strbuf_append(struct strbuf *b, const void *bytes, size_t n);
void strbuf_puts(struct strbuf *b, const char *s);
void strbuf_printf(struct strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Empties the buffer, keeping its memory. */
void strbuf_reset(struct strbuf *b);
void strbuf_free(struct strbuf *b);

#endif

/* A growable byte buffer for text built piece by piece (/metrics pages,
 * HTTP replies). Growth aborts when memory runs out (setup paths), unless
 * the buffer is checked (STRBUF_INIT_CHECKED: run-time paths, a scrape):
 * then it stops growing and says so in `failed`, and what it holds is not
 * to be used. The bytes are always NUL-terminated once anything was
 * written. */
#ifndef SPOA_MIRROR_STRBUF_H
#define SPOA_MIRROR_STRBUF_H

#include <stdbool.h>
#include <stddef.h>

struct strbuf {
	char *data;
	size_t len;
	size_t cap;
	bool checked; /* out of memory: set failed, do not abort */
	bool failed;  /* checked, and something could not be appended */
};

#define STRBUF_INIT { NULL, 0, 0, false, false }
#define STRBUF_INIT_CHECKED { NULL, 0, 0, true, false }

void strbuf_append(struct strbuf *b, const void *bytes, size_t n);
void strbuf_puts(struct strbuf *b, const char *s);
void strbuf_printf(struct strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Empties the buffer, keeping its memory. */
void strbuf_reset(struct strbuf *b);
void strbuf_free(struct strbuf *b);

#endif

/* Growable text buffer (see strbuf.h). */
#include "strbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

/* Room for extra more bytes and a NUL; false when a checked buffer could
 * not grow (or failed before). */
static bool reserve(struct strbuf *b, size_t extra)
{
	size_t need = b->len + extra + 1, cap;
	char *p;

	if (b->failed)
		return false;
	if (need <= b->cap)
		return true;
	cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap *= 2;
	if (!b->checked) {
		b->data = xrealloc(b->data, cap);
	} else {
		p = realloc(b->data, cap);
		if (!p) {
			b->failed = true;
			return false;
		}
		b->data = p;
	}
	b->cap = cap;
	return true;
}

void strbuf_append(struct strbuf *b, const void *bytes, size_t n)
{
	if (!reserve(b, n))
		return;
	if (n)
		memcpy(b->data + b->len, bytes, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void strbuf_puts(struct strbuf *b, const char *s)
{
	strbuf_append(b, s, strlen(s));
}

void strbuf_printf(struct strbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!reserve(b, 64))
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= b->cap - b->len) {
		if (!reserve(b, (size_t)n)) {
			b->data[b->len] = '\0';
			return;
		}
		va_start(ap, fmt);
		vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
	}
	b->len += (size_t)n;
}

void strbuf_reset(struct strbuf *b)
{
	b->len = 0;
	b->failed = false;
	if (b->data)
		b->data[0] = '\0';
}

void strbuf_free(struct strbuf *b)
{
	xfree(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
	b->failed = false;
}

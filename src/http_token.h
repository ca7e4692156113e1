/* RFC 9110 tokens (5.6.2): what a method, a header name or a parameter
 * name may be made of. One definition for the SPOP header decoder, the
 * shadow request builder, the settings and the operators' endpoint. */
#ifndef SPOA_MIRROR_HTTP_TOKEN_H
#define SPOA_MIRROR_HTTP_TOKEN_H

#include <stdbool.h>

#include "slice.h"

static inline bool http_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	switch (c) {
	case '!': case '#': case '$': case '%': case '&': case '\'': case '*':
	case '+': case '-': case '.': case '^': case '_': case '`': case '|': case '~':
		return true;
	default:
		return false;
	}
}

/* One or more token characters. */
static inline bool http_token(struct slice s)
{
	if (!s.len)
		return false;
	for (size_t i = 0; i < s.len; i++)
		if (!http_tchar((unsigned char)s.ptr[i]))
			return false;
	return true;
}

#endif

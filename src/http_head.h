/* The request head of the operators' endpoint: where it ends, and what
 * it asks for (method and path), checked to the letter. Pure: no I/O, no
 * allocation, every read within the given bytes. */
#ifndef SPOA_MIRROR_HTTP_HEAD_H
#define SPOA_MIRROR_HTTP_HEAD_H

#include <stddef.h>

#include "slice.h"

/* 1 + the length of the head before its blank line (CR LF or bare LF), or
 * 0 while that line has not arrived. */
size_t http_head_end(const char *buf, size_t len);

/* 0 when head (without its blank line) is a well-formed HTTP/1.0 or 1.1
 * request for a path (origin form), which *method and *path (query cut)
 * then hold; else the status of the error reply (400, 505) and its text
 * in *why. Header lines are checked for form only: a body is never read,
 * the answer closes the connection whatever the head announced. */
int http_head_parse(struct slice head, struct slice *method, struct slice *path,
		    const char **why);

#endif

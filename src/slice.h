/* A (pointer, length) view into bytes owned by someone else.
 * Everything decoded off the wire is a slice into the frame buffer; copies
 * happen once, when a mirror request takes ownership. */
#ifndef SPOA_MIRROR_SLICE_H
#define SPOA_MIRROR_SLICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

struct slice {
	const char *ptr;
	size_t len;
};

#define SLICE_LIT(s) ((struct slice){ (s), sizeof(s) - 1 })

/* Copies s to *cursor, moves the cursor past it and returns the copy: how
 * an owned object (request, answer) fills its one allocation. */
static inline struct slice slice_copy_to(char **cursor, struct slice s)
{
	struct slice out = { *cursor, s.len };

	if (s.len)
		memcpy(*cursor, s.ptr, s.len);
	*cursor += s.len;
	return out;
}

static inline struct slice slice_make(const void *ptr, size_t len)
{
	return (struct slice){ (const char *)ptr, len };
}

static inline struct slice slice_from_cstr(const char *s)
{
	return (struct slice){ s, s ? strlen(s) : 0 };
}

static inline bool slice_eq_cstr(struct slice s, const char *c)
{
	size_t n = strlen(c);
	return s.len == n && (n == 0 || memcmp(s.ptr, c, n) == 0);
}

/* ASCII case-insensitive comparison, for header and token names. */
static inline bool slice_case_eq(struct slice a, struct slice b)
{
	return a.len == b.len && (a.len == 0 || strncasecmp(a.ptr, b.ptr, a.len) == 0);
}

static inline bool slice_case_eq_cstr(struct slice s, const char *c)
{
	return slice_case_eq(s, slice_from_cstr(c));
}

/* Strip spaces and tabs at both ends. */
static inline struct slice slice_trim(struct slice s)
{
	while (s.len && (s.ptr[0] == ' ' || s.ptr[0] == '\t')) {
		s.ptr++;
		s.len--;
	}
	while (s.len && (s.ptr[s.len - 1] == ' ' || s.ptr[s.len - 1] == '\t'))
		s.len--;
	return s;
}

/* A plain decimal of 1 to max_digits digits (max_digits <= 19, so it
 * fits): false for anything else, signs and blanks included. */
static inline bool slice_to_u64(struct slice s, size_t max_digits, uint64_t *out)
{
	uint64_t v = 0;

	if (!s.len || s.len > max_digits)
		return false;
	for (size_t i = 0; i < s.len; i++) {
		if (s.ptr[i] < '0' || s.ptr[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(s.ptr[i] - '0');
	}
	*out = v;
	return true;
}

/* Split *rest at the first `sep`: returns the part before it and leaves the
 * part after it in *rest (empty when no separator remains). */
static inline struct slice slice_split(struct slice *rest, char sep)
{
	const char *hit = rest->len ? memchr(rest->ptr, sep, rest->len) : NULL;
	struct slice head = *rest;

	if (!hit) {
		rest->ptr += rest->len;
		rest->len = 0;
		return head;
	}
	head.len = (size_t)(hit - rest->ptr);
	rest->ptr = hit + 1;
	rest->len -= head.len + 1;
	return head;
}

#endif

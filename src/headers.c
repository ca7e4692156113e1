/* Decoders for the two header block formats HAProxy can send.
 * Names must be RFC 9110 tokens and values must hold no CR, LF or NUL in
 * both formats: the list is replayed to shadows as it stands, so a byte that
 * could end a header line early must never get through. */
#include "headers.h"

#include <stdbool.h>
#include <stdint.h>

#include "http_token.h"
#include "spop.h"

/* Tabs and obs-text are fine; CR, LF and NUL would split or cut the line. */
static bool value_ok(struct slice value)
{
	for (size_t i = 0; i < value.len; i++) {
		unsigned char c = (unsigned char)value.ptr[i];

		if (c == '\r' || c == '\n' || c == '\0')
			return false;
	}
	return true;
}

static int append(struct header_list *out, struct slice name, struct slice value)
{
	if (out->count >= out->max)
		return SPOP_E_TOO_MANY;
	out->items[out->count].name = name;
	out->items[out->count].value = value;
	out->count++;
	return SPOP_OK;
}

static int decode_str(const uint8_t **p, const uint8_t *end, struct slice *s)
{
	uint64_t n;
	int rc = spop_varint_decode(p, end, &n);

	if (rc != SPOP_OK)
		return rc;
	if (n > (uint64_t)(end - *p))
		return SPOP_E_TRUNCATED;
	*s = slice_make(*p, (size_t)n);
	*p += n;
	return SPOP_OK;
}

int headers_decode_bin(struct slice block, struct header_list *out)
{
	const uint8_t *p = (const uint8_t *)block.ptr;
	const uint8_t *end = p + block.len;

	out->count = 0;
	for (;;) {
		struct slice name, value;
		int rc = decode_str(&p, end, &name);

		if (rc == SPOP_OK)
			rc = decode_str(&p, end, &value);
		if (rc != SPOP_OK)
			return rc;
		if (name.len == 0 && value.len == 0)
			return p == end ? SPOP_OK : SPOP_E_SYNTAX;
		if (!http_token(name) || !value_ok(value))
			return SPOP_E_SYNTAX;
		rc = append(out, name, value);
		if (rc != SPOP_OK)
			return rc;
	}
}

int headers_decode_text(struct slice block, struct header_list *out)
{
	struct slice rest = block;

	out->count = 0;
	while (rest.len) {
		const char *nl = memchr(rest.ptr, '\n', rest.len);
		struct slice line, name, value;
		const char *colon;
		int rc;

		if (!nl)
			return SPOP_E_SYNTAX; /* last line cut short */
		line = slice_make(rest.ptr, (size_t)(nl - rest.ptr));
		rest.len -= line.len + 1;
		rest.ptr = nl + 1;
		if (line.len && line.ptr[line.len - 1] == '\r')
			line.len--;
		if (line.len == 0)
			return rest.len == 0 ? SPOP_OK : SPOP_E_SYNTAX;

		colon = memchr(line.ptr, ':', line.len);
		if (!colon)
			return SPOP_E_SYNTAX;
		name = slice_make(line.ptr, (size_t)(colon - line.ptr));
		value = slice_trim(slice_make(colon + 1, line.len - name.len - 1));
		if (!http_token(name) || !value_ok(value))
			return SPOP_E_SYNTAX;
		rc = append(out, name, value);
		if (rc != SPOP_OK)
			return rc;
	}
	/* Every line complete but no closing empty line: accept what is there. */
	return SPOP_OK;
}

const struct http_header *headers_find_in(const struct http_header *h, size_t n,
					  struct slice name)
{
	for (size_t i = 0; i < n; i++)
		if (slice_case_eq(h[i].name, name))
			return &h[i];
	return NULL;
}

const struct http_header *headers_find(const struct header_list *list, struct slice name)
{
	return headers_find_in(list->items, list->count, name);
}

bool headers_content_length(const struct http_header *h, size_t n, uint64_t *out)
{
	const struct http_header *cl = headers_find_in(h, n, SLICE_LIT("content-length"));

	return cl && slice_to_u64(cl->value, 19, out);
}

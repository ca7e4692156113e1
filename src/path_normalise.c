/* Endpoint grouping for shadow verdicts: ids out of paths, by the rules in
 * path_normalise.h, in one pass with a bounded output. */
#include "path_normalise.h"

#include <string.h>

#include "json_compare.h"

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int is_hex(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_uuid(struct slice s)
{
	if (s.len != 36)
		return 0;
	for (size_t i = 0; i < 36; i++) {
		int dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? s.ptr[i] != '-' : !is_hex(s.ptr[i]))
			return 0;
	}
	return 1;
}

int path_segment_is_id(struct slice s)
{
	size_t digits = 0, letters = 0, hex = 0, token = 0;

	if (s.len == 0)
		return 0;
	if (is_uuid(s))
		return 1;
	for (size_t i = 0; i < s.len; i++) {
		char c = s.ptr[i];

		digits += is_digit(c);
		letters += is_alpha(c);
		hex += is_hex(c);
		token += is_digit(c) || is_alpha(c) || c == '_' || c == '-' || c == '=' || c == '.';
	}
	if (digits == s.len)
		return 1;
	if (hex == s.len && s.len >= 8 && digits >= 1)
		return 1;
	return token == s.len && s.len >= 16 && digits >= 2 && letters >= 1;
}

/* Appends what fits; *full is set once something did not. */
static void put(char *out, size_t *o, const char *s, size_t n, int *full)
{
	if (*full)
		return;
	if (n > PATH_NORM_MAX - *o) {
		n = PATH_NORM_MAX - *o;
		*full = 1;
	}
	if (n) /* an empty view may have no pointer */
		memcpy(out + *o, s, n);
	*o += n;
}

size_t path_normalise(struct slice method, struct slice path, char out[PATH_NORM_MAX + 1])
{
	char buf[PATH_NORM_MAX + 1];
	size_t o = 0, end = 0;
	int full = 0;

	while (end < path.len && path.ptr[end] != '?' && path.ptr[end] != '#')
		end++;
	put(buf, &o, method.ptr, method.len, &full);
	put(buf, &o, " ", 1, &full);
	if (end == 0)
		put(buf, &o, "/", 1, &full);
	for (size_t i = 0; i < end && !full;) {
		size_t j = i;

		if (path.ptr[i] == '/') {
			put(buf, &o, "/", 1, &full);
			i++;
			continue;
		}
		while (j < end && path.ptr[j] != '/')
			j++;
		if (path_segment_is_id(slice_make(path.ptr + i, j - i)))
			put(buf, &o, "{id}", 4, &full);
		else
			put(buf, &o, path.ptr + i, j - i, &full);
		i = j;
	}
	if (full) {
		/* something did not fit: say so, with the "..." json_cmp_shorten
		 * puts on anything longer than its cap */
		buf[PATH_NORM_MAX] = '.';
		json_cmp_shorten(slice_make(buf, PATH_NORM_MAX + 1), out, PATH_NORM_MAX);
		return strlen(out);
	}
	memcpy(out, buf, o);
	out[o] = '\0';
	return o;
}

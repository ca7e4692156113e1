/* One HTTP/1.x request head, as the operators' endpoint reads it (see
 * http_head.h). Views into the caller's buffer; nothing is copied. */
#include "http_head.h"

#include <string.h>

#include "http_token.h"

size_t http_head_end(const char *buf, size_t len)
{
	for (size_t i = 0; i + 1 < len; i++)
		if (buf[i] == '\n' && (buf[i + 1] == '\n' || (buf[i + 1] == '\r' && i + 2 < len &&
								  buf[i + 2] == '\n')))
			return i + 1;
	return 0;
}

/* Next line of the head (without its CR LF or LF); false at the end. */
static bool next_line(struct slice *rest, struct slice *line)
{
	if (!rest->len)
		return false;
	*line = slice_split(rest, '\n');
	if (line->len && line->ptr[line->len - 1] == '\r')
		line->len--;
	return true;
}

static int bad(const char **why, int status, const char *msg)
{
	*why = msg;
	return status;
}

int http_head_parse(struct slice head, struct slice *method, struct slice *path,
		      const char **why)
{
	struct slice line = { "", 0 }, target, version; /* an empty head: malformed */

	next_line(&head, &line);
	*method = slice_split(&line, ' ');
	target = slice_split(&line, ' ');
	version = line;
	if (!http_token(*method) || !target.len || !version.len)
		return bad(why, 400, "malformed request line\n");
	if (!slice_eq_cstr(version, "HTTP/1.1") && !slice_eq_cstr(version, "HTTP/1.0")) {
		if (version.len == 8 && !memcmp(version.ptr, "HTTP/", 5))
			return bad(why, 505, "only HTTP/1.0 and HTTP/1.1\n");
		return bad(why, 400, "malformed request line\n");
	}
	if (target.ptr[0] != '/')
		return bad(why, 400, "request target must be a path\n");
	*path = slice_split(&target, '?');
	for (size_t i = 0; i < path->len; i++) {
		unsigned char ch = (unsigned char)path->ptr[i];

		if (ch <= ' ' || ch == 0x7f || ch == '#')
			return bad(why, 400, "malformed path\n");
	}
	while (next_line(&head, &line)) {
		const char *colon = memchr(line.ptr, ':', line.len);

		if (!colon || !http_token(slice_make(line.ptr, (size_t)(colon - line.ptr))))
			return bad(why, 400, "malformed header line\n");
	}
	return 0;
}

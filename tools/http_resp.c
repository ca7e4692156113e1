/* Incremental HTTP/1.x response parser (see http_resp.h). */
#include "http_resp.h"

#include <string.h>

#include "http_token.h"

void http_resp_begin(struct http_resp *p, bool head_request)
{
	memset(p, 0, sizeof(*p));
	p->state = HTTP_RESP_S_HEAD;
	p->head_request = head_request;
}

static enum http_resp_rc fail(struct http_resp *p, const char *why)
{
	p->error = why;
	return HTTP_RESP_ERROR;
}

/* Offset of the first "\r\n" in buf[from, len), or len when none. */
static size_t find_crlf(const char *buf, size_t from, size_t len)
{
	for (size_t i = from; i + 1 < len; i++)
		if (buf[i] == '\r' && buf[i + 1] == '\n')
			return i;
	return len;
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c + ('a' - 'A')) : c;
}

static bool equals_nocase(const char *a, size_t alen, const char *lit)
{
	size_t n = strlen(lit);

	if (alen != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (lower(a[i]) != lit[i])
			return false;
	return true;
}

/* Does the comma list v hold `token` (case-insensitive)? last_only: is it
 * the last element (what counts for Transfer-Encoding)? */
static bool list_has(const char *v, size_t len, const char *token, bool last_only)
{
	bool found = false;
	size_t i = 0;

	while (i < len) {
		size_t s, e;

		while (i < len && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		s = i;
		while (i < len && v[i] != ',')
			i++;
		e = i;
		while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
			e--;
		if (e > s) {
			bool is = equals_nocase(v + s, e - s, token);

			if (last_only)
				found = is;
			else if (is)
				return true;
		}
	}
	return found;
}

struct head_info {
	bool has_length;
	uint64_t length;
	bool chunked;
	bool other_coding;
	bool conn_close;
	bool conn_keep_alive;
};

static enum http_resp_rc parse_header(struct http_resp *p, const char *line, size_t len,
				      struct head_info *h)
{
	const char *colon = memchr(line, ':', len);
	size_t nlen, vs, ve;

	if (!colon || colon == line)
		return fail(p, "header line without a name");
	nlen = (size_t)(colon - line);
	if (!http_token(slice_make(line, nlen)))
		return fail(p, "header name with a byte outside a token");
	vs = nlen + 1;
	ve = len;
	while (vs < ve && (line[vs] == ' ' || line[vs] == '\t'))
		vs++;
	while (ve > vs && (line[ve - 1] == ' ' || line[ve - 1] == '\t'))
		ve--;
	if (equals_nocase(line, nlen, "content-length")) {
		uint64_t n = 0;

		if (ve == vs || ve - vs > 18)
			return fail(p, "Content-Length is not a number of at most 18 digits");
		for (size_t i = vs; i < ve; i++) {
			if (line[i] < '0' || line[i] > '9')
				return fail(p, "Content-Length is not a number of at most 18 digits");
			n = n * 10 + (uint64_t)(line[i] - '0');
		}
		if (h->has_length && h->length != n)
			return fail(p, "two different Content-Length headers");
		h->has_length = true;
		h->length = n;
	} else if (equals_nocase(line, nlen, "transfer-encoding")) {
		if (list_has(line + vs, ve - vs, "chunked", true))
			h->chunked = true;
		else
			h->other_coding = true;
	} else if (equals_nocase(line, nlen, "connection")) {
		if (list_has(line + vs, ve - vs, "close", false))
			h->conn_close = true;
		if (list_has(line + vs, ve - vs, "keep-alive", false))
			h->conn_keep_alive = true;
	}
	return HTTP_RESP_MORE;
}

/* "HTTP/1.x SSS[ reason]": sets status and the version's default keep-alive. */
static enum http_resp_rc parse_status_line(struct http_resp *p, const char *line, size_t len,
					   bool *http10)
{
	int status = 0;

	if (len < 12 || memcmp(line, "HTTP/1.", 7) || (line[7] != '0' && line[7] != '1') ||
	    line[8] != ' ')
		return fail(p, "status line is not HTTP/1.0 or HTTP/1.1");
	for (size_t i = 9; i < 12; i++) {
		if (line[i] < '0' || line[i] > '9')
			return fail(p, "status code is not three digits");
		status = status * 10 + (line[i] - '0');
	}
	if (status < 100 || status > 599)
		return fail(p, "status code outside 100-599");
	if (len > 12 && line[12] != ' ')
		return fail(p, "status code is not three digits");
	p->status = status;
	*http10 = line[7] == '0';
	return HTTP_RESP_MORE;
}

/* A whole head at buf[0, end) (end points at the final "\r\n\r\n"). */
static enum http_resp_rc parse_head(struct http_resp *p, const char *buf, size_t end)
{
	struct head_info h = { 0 };
	bool http10 = false;
	size_t eol = find_crlf(buf, 0, end + 2);
	size_t pos;

	if (parse_status_line(p, buf, eol, &http10) == HTTP_RESP_ERROR)
		return HTTP_RESP_ERROR;
	pos = eol + 2;
	while (pos < end + 2) {
		eol = find_crlf(buf, pos, end + 2);
		if (eol == pos)
			break;
		if (parse_header(p, buf + pos, eol - pos, &h) == HTTP_RESP_ERROR)
			return HTTP_RESP_ERROR;
		pos = eol + 2;
	}
	p->keep_alive = http10 ? h.conn_keep_alive && !h.conn_close : !h.conn_close;
	if (p->status < 200) {
		if (p->status == 101)
			return fail(p, "101 Switching Protocols is not HTTP any more");
		p->state = HTTP_RESP_S_HEAD; /* interim: the real head follows */
		return HTTP_RESP_MORE;
	}
	if (p->head_request || p->status == 204 || p->status == 304) {
		p->state = HTTP_RESP_S_DONE;
	} else if (h.chunked) {
		p->state = HTTP_RESP_S_CHUNK_SIZE;
	} else if (h.other_coding || !h.has_length) {
		/* no framing: the body ends when the server closes */
		p->state = HTTP_RESP_S_BODY_UNTIL_CLOSE;
		p->keep_alive = false;
	} else if (h.length == 0) {
		p->state = HTTP_RESP_S_DONE;
	} else {
		p->remaining = h.length;
		p->state = HTTP_RESP_S_BODY_LENGTH;
	}
	return HTTP_RESP_MORE;
}

static enum http_resp_rc parse_chunk_size(struct http_resp *p, const char *line, size_t len)
{
	uint64_t n = 0;
	size_t i = 0;

	for (; i < len; i++) {
		char c = lower(line[i]);
		int d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else
			break;
		if (i >= 15)
			return fail(p, "chunk size of more than 15 hex digits");
		n = n * 16 + (uint64_t)d;
	}
	if (i == 0)
		return fail(p, "chunk size is not hexadecimal");
	if (i < len && line[i] != ';' && line[i] != ' ' && line[i] != '\t')
		return fail(p, "chunk size is not hexadecimal");
	p->remaining = n;
	p->state = n ? HTTP_RESP_S_CHUNK_DATA : HTTP_RESP_S_TRAILER;
	return HTTP_RESP_MORE;
}

enum http_resp_rc http_resp_feed(struct http_resp *p, const char *buf, size_t len, size_t *used)
{
	size_t off = 0;

	*used = 0;
	for (;;) {
		size_t avail = len - off, eol, take;

		switch (p->state) {
		case HTTP_RESP_S_HEAD: {
			const char *end = NULL;

			for (size_t i = off; i + 3 < len; i++) {
				if (!memcmp(buf + i, "\r\n\r\n", 4)) {
					end = buf + i;
					break;
				}
			}
			if (!end) {
				*used = off;
				if (avail >= HTTP_RESP_HEAD_MAX)
					return fail(p, "response head larger than 16 KiB");
				return HTTP_RESP_MORE;
			}
			if ((size_t)(end - (buf + off)) + 4 > HTTP_RESP_HEAD_MAX)
				return fail(p, "response head larger than 16 KiB");
			if (parse_head(p, buf + off, (size_t)(end - (buf + off))) == HTTP_RESP_ERROR)
				return HTTP_RESP_ERROR;
			off = (size_t)(end - buf) + 4;
			break;
		}
		case HTTP_RESP_S_BODY_LENGTH:
		case HTTP_RESP_S_CHUNK_DATA:
			take = avail < p->remaining ? avail : (size_t)p->remaining;
			off += take;
			p->remaining -= take;
			p->body_bytes += take;
			if (p->remaining) {
				*used = off;
				return HTTP_RESP_MORE;
			}
			p->state = p->state == HTTP_RESP_S_BODY_LENGTH ? HTTP_RESP_S_DONE
								       : HTTP_RESP_S_CHUNK_CRLF;
			break;
		case HTTP_RESP_S_CHUNK_SIZE:
			eol = find_crlf(buf, off, len);
			if (eol == len) {
				*used = off;
				if (avail > HTTP_RESP_LINE_MAX)
					return fail(p, "chunk-size line longer than 1 KiB");
				return HTTP_RESP_MORE;
			}
			if (eol - off > HTTP_RESP_LINE_MAX)
				return fail(p, "chunk-size line longer than 1 KiB");
			if (parse_chunk_size(p, buf + off, eol - off) == HTTP_RESP_ERROR)
				return HTTP_RESP_ERROR;
			off = eol + 2;
			break;
		case HTTP_RESP_S_CHUNK_CRLF:
			if (avail < 2) {
				if (avail == 1 && buf[off] != '\r')
					return fail(p, "chunk data not followed by CRLF");
				*used = off;
				return HTTP_RESP_MORE;
			}
			if (buf[off] != '\r' || buf[off + 1] != '\n')
				return fail(p, "chunk data not followed by CRLF");
			off += 2;
			p->state = HTTP_RESP_S_CHUNK_SIZE;
			break;
		case HTTP_RESP_S_TRAILER:
			eol = find_crlf(buf, off, len);
			if (eol == len) {
				*used = off;
				if (avail > HTTP_RESP_LINE_MAX)
					return fail(p, "trailer line longer than 1 KiB");
				return HTTP_RESP_MORE;
			}
			if (eol - off > HTTP_RESP_LINE_MAX)
				return fail(p, "trailer line longer than 1 KiB");
			if (eol == off)
				p->state = HTTP_RESP_S_DONE;
			off = eol + 2;
			break;
		case HTTP_RESP_S_BODY_UNTIL_CLOSE:
			p->body_bytes += avail;
			*used = len;
			return HTTP_RESP_MORE;
		case HTTP_RESP_S_DONE:
			*used = off;
			return HTTP_RESP_DONE;
		}
	}
}

enum http_resp_rc http_resp_eof(struct http_resp *p)
{
	switch (p->state) {
	case HTTP_RESP_S_BODY_UNTIL_CLOSE:
		p->state = HTTP_RESP_S_DONE;
		return HTTP_RESP_DONE;
	case HTTP_RESP_S_DONE:
		return HTTP_RESP_DONE;
	case HTTP_RESP_S_HEAD:
		return fail(p, "connection closed before a whole response head");
	default:
		return fail(p, "connection closed inside the response body");
	}
}

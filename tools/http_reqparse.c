/* HTTP/1.x request parsing for http-sink (see http_reqparse.h). Accepts
 * what HAProxy and libcurl send; rejects what would make the framing of the
 * next pipelined request ambiguous. */
#include "http_reqparse.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

void hp_init(struct http_reqparse *p, size_t head_max)
{
	memset(p, 0, sizeof(*p));
	p->head_max = head_max;
	hp_reset(p);
}

void hp_reset(struct http_reqparse *p)
{
	size_t head_max = p->head_max;

	memset(p, 0, sizeof(*p));
	p->head_max = head_max;
	p->state = HP_S_HEAD;
}

static void copy_cut(char *dst, size_t cap, const char *src, size_t n)
{
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* Does a comma list contain token (case-insensitive)? */
static bool has_token(const char *v, size_t n, const char *token)
{
	size_t tl = strlen(token);

	while (n) {
		size_t len = 0, e;

		while (n && (*v == ' ' || *v == '\t' || *v == ','))
			v++, n--;
		while (len < n && v[len] != ',')
			len++;
		e = len;
		while (e && (v[e - 1] == ' ' || v[e - 1] == '\t'))
			e--;
		if (e == tl && strncasecmp(v, token, tl) == 0)
			return true;
		v += len;
		n -= len;
	}
	return false;
}

static bool name_is(const char *name, size_t n, const char *want)
{
	return n == strlen(want) && strncasecmp(name, want, n) == 0;
}

static int parse_u64(const char *s, size_t n, int base, uint64_t *out)
{
	uint64_t v = 0;

	if (!n)
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned d;
		char c = s[i];

		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (base == 16 && c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else if (base == 16 && c >= 'A' && c <= 'F')
			d = (unsigned)(c - 'A' + 10);
		else
			return -1;
		if (v > (UINT64_MAX - d) / (unsigned)base)
			return -1;
		v = v * (unsigned)base + d;
	}
	*out = v;
	return 0;
}

static enum hp_rc fail(struct http_reqparse *p, const char *why)
{
	p->error = why;
	return HP_ERROR;
}

/* Parses a complete head of n bytes (ending in an empty line). */
static enum hp_rc parse_head(struct http_reqparse *p, const char *h, size_t n)
{
	const char *end = h + n, *eol, *sp1, *sp2;
	bool have_cl = false, conn_close = false, conn_keep = false;

	eol = memchr(h, '\n', n);
	if (!eol)
		return fail(p, "no request line");
	sp1 = memchr(h, ' ', (size_t)(eol - h));
	if (!sp1 || sp1 == h)
		return fail(p, "bad request line");
	sp2 = memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1));
	if (!sp2 || sp2 == sp1 + 1)
		return fail(p, "bad request line");
	{
		size_t vlen = (size_t)(eol - sp2 - 1);
		const char *ver = sp2 + 1;

		if (vlen && ver[vlen - 1] == '\r')
			vlen--;
		if (vlen != 8 || memcmp(ver, "HTTP/1.", 7) != 0 || ver[7] < '0' || ver[7] > '9')
			return fail(p, "not HTTP/1.x");
		p->minor = (unsigned)(ver[7] - '0');
	}
	if ((size_t)(sp1 - h) >= HP_METHOD_MAX)
		return fail(p, "method too long");
	copy_cut(p->method, sizeof(p->method), h, (size_t)(sp1 - h));
	copy_cut(p->target, sizeof(p->target), sp1 + 1, (size_t)(sp2 - sp1 - 1));

	for (const char *line = eol + 1; line < end;) {
		const char *le = memchr(line, '\n', (size_t)(end - line));
		const char *colon, *v, *ve;
		size_t len;

		if (!le)
			return fail(p, "header line without end");
		len = (size_t)(le - line);
		if (len && line[len - 1] == '\r')
			len--;
		if (len == 0)
			break; /* the empty line */
		colon = memchr(line, ':', len);
		if (!colon || colon == line)
			return fail(p, "header line without a name");
		v = colon + 1;
		ve = line + len;
		while (v < ve && (*v == ' ' || *v == '\t'))
			v++;
		while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
			ve--;
		{
			size_t nl = (size_t)(colon - line), vl = (size_t)(ve - v);
			uint64_t cl;

			if (name_is(line, nl, "content-length")) {
				if (parse_u64(v, vl, 10, &cl) < 0)
					return fail(p, "bad content-length");
				if (have_cl && cl != p->content_length)
					return fail(p, "conflicting content-length");
				have_cl = true;
				p->content_length = cl;
			} else if (name_is(line, nl, "transfer-encoding")) {
				if (!has_token(v, vl, "chunked"))
					return fail(p, "transfer-encoding without chunked");
				p->chunked = true;
			} else if (name_is(line, nl, "connection")) {
				conn_close |= has_token(v, vl, "close");
				conn_keep |= has_token(v, vl, "keep-alive");
			} else if (name_is(line, nl, "expect")) {
				p->expect_continue = has_token(v, vl, "100-continue");
			} else if (name_is(line, nl, "host")) {
				copy_cut(p->host, sizeof(p->host), v, vl);
			}
		}
		line = le + 1;
	}
	if (p->chunked && have_cl)
		return fail(p, "both content-length and chunked");
	p->keep_alive = p->minor >= 1 ? !conn_close : conn_keep;
	p->head_bytes = n;
	if (p->chunked) {
		p->state = HP_S_CHUNK_LINE;
		p->line_len = 0;
		return HP_HEAD;
	}
	if (p->content_length) {
		p->state = HP_S_BODY;
		p->remaining = p->content_length;
		return HP_HEAD;
	}
	return HP_DONE;
}

/* Finds the end of the head: the byte after "\n\r\n" or "\n\n". */
static size_t head_end(const char *buf, size_t len)
{
	for (size_t i = 0; i + 1 < len; i++) {
		if (buf[i] != '\n')
			continue;
		if (buf[i + 1] == '\n')
			return i + 2;
		if (buf[i + 1] == '\r' && i + 2 < len && buf[i + 2] == '\n')
			return i + 3;
	}
	return 0;
}

/* Collects one line (chunk size or trailer) across reads. Returns 1 when
 * p->line holds a complete line (without CRLF), 0 when more is needed. */
static int take_line(struct http_reqparse *p, const char *buf, size_t len, size_t *off,
		     enum hp_rc *err)
{
	while (*off < len) {
		char c = buf[(*off)++];

		if (c == '\n') {
			if (p->line_len && p->line[p->line_len - 1] == '\r')
				p->line_len--;
			p->line[p->line_len] = '\0';
			return 1;
		}
		if (p->line_len + 1 >= sizeof(p->line)) {
			*err = fail(p, "chunk line too long");
			return -1;
		}
		p->line[p->line_len++] = c;
	}
	return 0;
}

enum hp_rc hp_feed(struct http_reqparse *p, const char *buf, size_t len, size_t *used)
{
	size_t off = 0;
	enum hp_rc err = HP_ERROR;

	*used = 0;
	if (p->state == HP_S_HEAD) {
		size_t n = head_end(buf, len);
		enum hp_rc rc;

		if (!n) {
			if (len > p->head_max)
				return fail(p, "head too large");
			return HP_NEED_MORE;
		}
		if (n > p->head_max)
			return fail(p, "head too large");
		rc = parse_head(p, buf, n);
		if (rc != HP_ERROR)
			*used = n;
		return rc;
	}
	while (off < len) {
		switch (p->state) {
		case HP_S_BODY:
		case HP_S_CHUNK_DATA: {
			uint64_t n = len - off < p->remaining ? len - off : p->remaining;

			off += n;
			p->remaining -= n;
			p->body_bytes += n;
			if (p->remaining)
				break;
			if (p->state == HP_S_BODY) {
				*used = off;
				return HP_DONE;
			}
			p->state = HP_S_CHUNK_CRLF;
			p->crlf_seen = 0;
			break;
		}
		case HP_S_CHUNK_CRLF: {
			char c = buf[off++];

			if (c == '\r' && p->crlf_seen == 0) {
				p->crlf_seen = 1;
			} else if (c == '\n') {
				p->state = HP_S_CHUNK_LINE;
				p->line_len = 0;
			} else {
				return fail(p, "chunk data not followed by CRLF");
			}
			break;
		}
		case HP_S_CHUNK_LINE: {
			int r = take_line(p, buf, len, &off, &err);
			size_t hex = 0;
			uint64_t size;

			if (r < 0)
				return err;
			if (r == 0)
				break;
			while (hex < p->line_len && p->line[hex] != ';' && p->line[hex] != ' ' &&
			       p->line[hex] != '\t')
				hex++;
			if (parse_u64(p->line, hex, 16, &size) < 0)
				return fail(p, "bad chunk size");
			p->line_len = 0;
			if (size == 0) {
				p->state = HP_S_TRAILER;
			} else {
				p->state = HP_S_CHUNK_DATA;
				p->remaining = size;
			}
			break;
		}
		case HP_S_TRAILER: {
			int r = take_line(p, buf, len, &off, &err);

			if (r < 0)
				return err;
			if (r == 0)
				break;
			if (p->line_len == 0) {
				*used = off;
				return HP_DONE;
			}
			p->line_len = 0;
			break;
		}
		case HP_S_HEAD:
			break;
		}
	}
	*used = off;
	return HP_NEED_MORE;
}

/* Incremental HTTP/1.x response parser for http-load: finds where one
 * response ends on a keep-alive connection (Content-Length, chunked, or
 * until close), its status and whether the connection may be reused.
 * Takes (buf, len), never allocates, keeps the body's bytes out of its way;
 * bounded: a head or chunk-size line longer than its limit is an error. */
#ifndef SPOA_MIRROR_HTTP_RESP_H
#define SPOA_MIRROR_HTTP_RESP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Largest response head (status line and headers) accepted. */
#define HTTP_RESP_HEAD_MAX 16384u
/* Largest chunk-size line (with extensions) or trailer line. */
#define HTTP_RESP_LINE_MAX 1024u

enum http_resp_rc {
	HTTP_RESP_MORE = 0, /* consumed what it could; feed more */
	HTTP_RESP_DONE,     /* one whole response ended */
	HTTP_RESP_ERROR,    /* malformed: the connection cannot be trusted */
};

enum http_resp_state {
	HTTP_RESP_S_HEAD,
	HTTP_RESP_S_BODY_LENGTH,
	HTTP_RESP_S_CHUNK_SIZE,
	HTTP_RESP_S_CHUNK_DATA,
	HTTP_RESP_S_CHUNK_CRLF,
	HTTP_RESP_S_TRAILER,
	HTTP_RESP_S_BODY_UNTIL_CLOSE,
	HTTP_RESP_S_DONE,
};

struct http_resp {
	enum http_resp_state state;
	bool head_request; /* the request was HEAD: no body whatever the headers say */
	int status;
	bool keep_alive;   /* the connection may carry the next request */
	uint64_t remaining; /* body or chunk bytes still to come */
	uint64_t body_bytes;
	const char *error;  /* why, when HTTP_RESP_ERROR was returned */
};

/* Ready for the response to a request; head_request for HEAD. */
void http_resp_begin(struct http_resp *p, bool head_request);

/* Parses from buf. *used is set to the bytes consumed: the caller drops
 * them and calls again with what is left and what arrives next. A head is
 * only consumed whole, so with MORE and *used == 0 the caller must keep
 * the bytes and append to them. After DONE the bytes after *used belong
 * to the next response. */
enum http_resp_rc http_resp_feed(struct http_resp *p, const char *buf, size_t len,
				 size_t *used);

/* The peer closed the connection: DONE when the body runs until close,
 * ERROR (with the reason) when the response was cut short. */
enum http_resp_rc http_resp_eof(struct http_resp *p);

#endif

/* Incremental HTTP/1.x request parser for http-sink: reads the head from
 * the caller's buffer, then streams through the body (Content-Length or
 * chunked) without keeping it, so bodies of any size cost no memory.
 * Pipelined requests are parsed one after another from the same buffer. */
#ifndef SPOA_MIRROR_HTTP_REQPARSE_H
#define SPOA_MIRROR_HTTP_REQPARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum hp_rc {
	HP_NEED_MORE = 0, /* everything useful consumed; feed more bytes */
	HP_HEAD = 1,      /* head parsed, body follows: keep feeding */
	HP_DONE = 2,      /* one whole request consumed */
	HP_ERROR = -1,    /* malformed or over a limit; `error` says why */
};

enum hp_state { HP_S_HEAD, HP_S_BODY, HP_S_CHUNK_LINE, HP_S_CHUNK_DATA, HP_S_CHUNK_CRLF,
		HP_S_TRAILER };

#define HP_METHOD_MAX 16
#define HP_TARGET_MAX 512
#define HP_HOST_MAX 128
#define HP_LINE_MAX 1024

struct http_reqparse {
	enum hp_state state;
	size_t head_max;          /* head bigger than this is an error */
	uint64_t remaining;       /* body or chunk bytes still to skip */
	unsigned crlf_seen;       /* after chunk data */
	char line[HP_LINE_MAX];   /* chunk-size and trailer lines across reads */
	size_t line_len;

	/* the current request */
	char method[HP_METHOD_MAX];
	char target[HP_TARGET_MAX]; /* cut to fit, for logs */
	char host[HP_HOST_MAX];
	unsigned minor;             /* HTTP/1.minor */
	bool keep_alive;
	bool expect_continue;
	bool chunked;
	uint64_t content_length;
	uint64_t body_bytes;        /* body bytes seen so far (chunk data only) */
	size_t head_bytes;
	const char *error;
};

void hp_init(struct http_reqparse *p, size_t head_max);
/* Ready for the next request on the same connection. */
void hp_reset(struct http_reqparse *p);
/* Consumes from buf[0..len): *used bytes were taken (the caller drops them).
 * In the head state nothing is taken until the whole head is there. */
enum hp_rc hp_feed(struct http_reqparse *p, const char *buf, size_t len, size_t *used);

#endif

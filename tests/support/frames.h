/* Frame builders for tests: what HAProxy would send. Header-only so each
 * test program takes what it needs. Builders abort the test on overflow. */
#ifndef SPOA_MIRROR_TEST_FRAMES_H
#define SPOA_MIRROR_TEST_FRAMES_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spop.h"

struct frame_buf {
	uint8_t data[1 << 16];
	size_t len;
};

static inline struct spop_writer frame_buf_writer(struct frame_buf *b)
{
	return spop_writer_init(b->data + b->len, sizeof(b->data) - b->len);
}

static inline void frame_buf_commit(struct frame_buf *b, const struct spop_writer *w)
{
	if (w->overflow) {
		fprintf(stderr, "test frame buffer overflow\n");
		abort();
	}
	b->len += w->len;
}

static inline void add_hello(struct frame_buf *b, const char *versions, uint32_t size,
			     const char *caps, bool healthcheck)
{
	struct spop_writer w = frame_buf_writer(b);

	spop_encode_haproxy_hello(&w, versions, size, caps, healthcheck, "test-engine");
	frame_buf_commit(b, &w);
}

/* A mirror-request message payload: method, pathq, version, hdrs_bin, body. */
static inline void put_mirror_message(struct spop_writer *w, const char *name,
				      const char *method, const char *uri, const char *host,
				      const void *body, size_t body_len)
{
	uint8_t hdrs[512];
	struct spop_writer hw = spop_writer_init(hdrs, sizeof(hdrs));
	char cl[24];
	struct spop_value v;

	snprintf(cl, sizeof(cl), "%zu", body_len);
	spop_put_string(&hw, SLICE_LIT("host"));
	spop_put_string(&hw, slice_from_cstr(host));
	spop_put_string(&hw, SLICE_LIT("content-length"));
	spop_put_string(&hw, slice_from_cstr(cl));
	spop_put_string(&hw, SLICE_LIT(""));
	spop_put_string(&hw, SLICE_LIT(""));

	spop_put_string(w, slice_from_cstr(name));
	spop_put_u8(w, 5);
	v = spop_str_value(slice_from_cstr(method));
	spop_put_kv(w, "method", &v);
	v = spop_str_value(slice_from_cstr(uri));
	spop_put_kv(w, "uri", &v);
	v = spop_str_value(SLICE_LIT("1.1"));
	spop_put_kv(w, "version", &v);
	v = spop_bin_value(slice_make(hdrs, hw.len));
	spop_put_kv(w, "headers", &v);
	v = spop_bin_value(slice_make(body, body_len));
	spop_put_kv(w, "body", &v);
}

static inline void add_notify(struct frame_buf *b, uint64_t sid, uint64_t fid, const char *uri,
			      const void *body, size_t body_len)
{
	struct spop_writer w = frame_buf_writer(b);
	size_t start = spop_frame_begin(&w, SPOP_FRAME_NOTIFY, SPOP_FLAG_FIN, sid, fid);

	put_mirror_message(&w, "mirror-request", "POST", uri, "example.com", body, body_len);
	spop_frame_end(&w, start);
	frame_buf_commit(b, &w);
}

/* Any frame with a raw payload (fragments, odd types). */
static inline void add_raw_frame(struct frame_buf *b, uint8_t type, uint32_t flags, uint64_t sid,
				 uint64_t fid, const void *payload, size_t len)
{
	struct spop_writer w = frame_buf_writer(b);
	size_t start = spop_frame_begin(&w, type, flags, sid, fid);

	spop_put_bytes(&w, payload, len);
	spop_frame_end(&w, start);
	frame_buf_commit(b, &w);
}

static inline void add_haproxy_disconnect(struct frame_buf *b, uint32_t status, const char *msg)
{
	struct spop_writer w = frame_buf_writer(b);

	spop_encode_haproxy_disconnect(&w, status, msg);
	frame_buf_commit(b, &w);
}

/* A HAPROXY-HELLO (healthcheck false) or HAPROXY-DISCONNECT (status 0) with
 * the given flags and ids instead of FIN, 0, 0: metadata the agent refuses. */
static inline void add_connection_frame_meta(struct frame_buf *b, uint8_t type, uint32_t flags,
					     uint64_t sid, uint64_t fid)
{
	struct frame_buf tmp = { .len = 0 };
	struct spop_frame f;
	size_t used;

	if (type == SPOP_FRAME_HAPROXY_HELLO)
		add_hello(&tmp, "2.0", 16380, "pipelining,async", false);
	else
		add_haproxy_disconnect(&tmp, 0, "normal");
	if (spop_frame_decode(tmp.data, tmp.len, sizeof(tmp.data), &f, &used) != SPOP_OK)
		abort();
	add_raw_frame(b, type, flags, sid, fid, f.payload.ptr, f.payload.len);
}

/* A NOTIFY (FIN) whose mirror-request carries body_len bytes of 'b', into
 * out (for frames beyond struct frame_buf); returns its length, 0 when it
 * does not fit. */
static inline size_t big_notify(uint8_t *out, size_t cap, uint64_t sid, uint64_t fid,
				size_t body_len)
{
	struct spop_writer w = spop_writer_init(out, cap);
	uint8_t *body = malloc(body_len ? body_len : 1);
	size_t start;

	if (!body)
		abort();
	memset(body, 'b', body_len);
	start = spop_frame_begin(&w, SPOP_FRAME_NOTIFY, SPOP_FLAG_FIN, sid, fid);
	put_mirror_message(&w, "mirror-request", "POST", "/big", "example.com", body, body_len);
	spop_frame_end(&w, start);
	free(body);
	return w.overflow ? 0 : w.len;
}

#endif

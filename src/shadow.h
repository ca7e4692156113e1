/* The shadow request: the URL, method, header lines and body that replay
 * sends to one target for one mirror request. Pure rules (no curl, no I/O)
 * so every byte can be unit-tested; everything is written into one buffer
 * the caller provides, and the body stays a view into the mirror request. */
#ifndef SPOA_MIRROR_SHADOW_H
#define SPOA_MIRROR_SHADOW_H

#include <stdbool.h>
#include <stddef.h>

#include "slice.h"

struct mirror_request;
struct target;

enum shadow_body {
	SHADOW_BODY_NONE = 0, /* no body and no Content-Length (GET, DELETE, ... without one) */
	SHADOW_BODY_SEND,     /* `body` (possibly empty) sent with its Content-Length */
	SHADOW_BODY_HEAD,     /* HEAD: nothing sent, no body expected back */
};

enum shadow_rc {
	SHADOW_OK = 0,
	SHADOW_E_METHOD = -1, /* method empty or not an HTTP token */
	SHADOW_E_URI = -2,    /* uri holds a space or a control byte */
	SHADOW_E_SPACE = -3,  /* buffer smaller than shadow_size_max() said */
};

/* Header lines use libcurl's CURLOPT_HTTPHEADER conventions, so replay can
 * link them into a curl_slist as they are:
 *   "Name: value"  a header
 *   "Name;"        a header with an empty value
 *   "Name:"        no such header: suppresses one libcurl would add on its
 *                  own (Expect, Accept, Content-Type). */
struct shadow_request {
	const char *url;      /* target origin + prefix + path?query */
	const char *method;   /* as received */
	/* The Host value sent: the value of the Host line, which libcurl turns
	 * into :authority for HTTP/2 (7.88's Curl_pseudo_headers and 8.x's
	 * Curl_http_req_to_h2 both do, and send no host header then). NULL when
	 * an added "Host" header overrides it. */
	const char *authority;
	bool grpc;            /* a gRPC call (content-type application/grpc...) */
	enum shadow_body body_mode;
	struct slice body;    /* view into the mirror request (SHADOW_BODY_SEND) */
	const char **lines;   /* n_lines NUL-terminated lines, in the buffer */
	size_t n_lines;
};

/* Upper bound of the bytes shadow_build() writes for r sent to t. */
size_t shadow_size_max(const struct mirror_request *r, const struct target *t);
/* Upper bound of out->n_lines (included in shadow_size_max()). */
size_t shadow_lines_max(const struct mirror_request *r, const struct target *t);

/* Builds the request for target t into buf (cap bytes, aligned for a
 * pointer, at least shadow_size_max()). Returns SHADOW_OK or a negative
 * shadow_rc; out points into buf and r.
 *
 * Rules:
 * - URL: target origin + prefix + the uri's path?query; an absolute-form
 *   uri (http://host/p?q) is reduced to /p?q, an empty one becomes "/".
 *   The client's authority is an absolute-form uri's (what HAProxy hands
 *   over for an HTTP/2 client, which sends no Host header; RFC 9112 3.2.2
 *   also makes it win over Host), else its Host header.
 * - Client headers in their order, minus hop-by-hop ones (Connection and
 *   every header it names, Keep-Alive, Proxy-Connection, TE, Trailer,
 *   Transfer-Encoding, Upgrade), Content-Length and Expect (libcurl sets
 *   the length; "Expect:" is always sent so it never waits for a 100),
 *   HTTP/2 pseudo-headers, headers that could not go on the wire intact
 *   (CR, LF or NUL inside, bad name), cfg.remove_headers, and the names in
 *   cfg.add_headers, which are then appended. cfg.send_headers=false
 *   forwards none of the client's headers (nor the X-Forwarded-* derived
 *   from them); added ones still go.
 * - Host comes first: the target's host (HOST_FROM_TARGET, the client's
 *   authority then goes into X-Forwarded-Host unless one is already there)
 *   or the client's authority (HOST_FROM_CLIENT, even with
 *   send_headers=false; the target's when the client gave none). An added
 *   "Host" header overrides both.
 * - HTTP/2 targets (cfg.http2): every name is written lower-case (RFC 9113
 *   8.2.1; HAProxy and nghttp2 servers reset streams with upper-case
 *   names), and a client's TE that lists "trailers" goes as "te: trailers"
 *   (the one TE value HTTP/2 allows, which gRPC servers require); any other
 *   TE is dropped like the other connection-specific headers.
 * - X-Forwarded-For: r->client is appended to the last one, or one is
 *   added. remove_headers may name either X-Forwarded-* header.
 * - Body: HEAD never carries one. Otherwise a body with Content-Length goes
 *   when the request has body bytes, declared one (Content-Length or
 *   Transfer-Encoding), or is POST/PUT/PATCH (an empty POST sends
 *   "Content-Length: 0"); with cfg.send_body=false that body is empty. */
int shadow_build(const struct mirror_request *r, const struct target *t, void *buf, size_t cap,
		 struct shadow_request *out);

/* True when `method` is a non-empty HTTP token (RFC 9110 tchar). */
bool shadow_method_valid(struct slice method);

#endif

/* A small HTTP/1.1 server for operators: GET on a few fixed paths
 * (/metrics, /healthz, /readyz), answered by callbacks on the main libev
 * loop, one request per connection: answer and close. Never blocks the
 * loop: non-blocking sockets, request heads bounded to
 * HTTP_ENDPOINT_HEAD_MAX bytes, a deadline for the head and one for the
 * answer (slow or silent clients are dropped), a cap on open clients.
 * It knows nothing of SPOP or metrics. */
#ifndef SPOA_MIRROR_HTTP_ENDPOINT_H
#define SPOA_MIRROR_HTTP_ENDPOINT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "strbuf.h"

struct ev_loop;

#define HTTP_ENDPOINT_HEAD_MAX 8192
#define HTTP_ENDPOINT_DEFAULT_TIMEOUT_MS 10000
#define HTTP_ENDPOINT_DEFAULT_MAX_CLIENTS 32

/* What a route's handler fills in. The endpoint adds Content-Length,
 * Connection: close and Cache-Control. */
struct http_reply {
	int status;               /* preset 200 */
	const char *content_type; /* preset "text/plain; charset=utf-8"; must outlive the call */
	struct strbuf body;       /* empty at the call */
};

typedef void (*http_handler_fn)(void *arg, struct http_reply *reply);

struct http_route {
	const char *path; /* exact match on the path, query ignored: "/metrics" */
	http_handler_fn handler;
	void *arg;
};

struct http_endpoint_settings {
	/* The request head must arrive within this from the connection, and
	 * the answer be read within this. 0 = HTTP_ENDPOINT_DEFAULT_TIMEOUT_MS. */
	unsigned timeout_ms;
	/* Connections beyond this are closed at once. 0 = the default. */
	unsigned max_clients;
};

struct http_endpoint;

/* Listens on addr and serves on loop; the routes are copied, their paths
 * must outlive ep (literals). NULL with a
 * one-line reason (naming the address) in err on failure. */
struct http_endpoint *http_endpoint_start(struct ev_loop *loop, const struct sockaddr *addr,
					  socklen_t addrlen, const struct http_route *routes,
					  size_t n_routes, const struct http_endpoint_settings *s,
					  char *err, size_t errlen);

/* The port actually bound (useful when addr asked for port 0). */
uint16_t http_endpoint_port(const struct http_endpoint *ep);

/* Closes the listener and every client and frees ep. Loop thread only. */
void http_endpoint_stop(struct http_endpoint *ep);

#endif

/* The operators' HTTP endpoint (see http_endpoint.h). A client reads one
 * head, writes its answer, then reads and discards until the peer closes,
 * so a peer that sent more cannot have the answer cut short by a reset. */
#include "http_endpoint.h"

#include <errno.h>
#include <ev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http_head.h"
#include "listener.h"
#include "slice.h"
#include "xalloc.h"

/* accept() failing for lack of descriptors leaves the listener readable:
 * pause it this long instead of spinning. */
#define ACCEPT_PAUSE_S 0.1
#define ACCEPT_BURST 16

/* The answer when memory runs out while serving (a client's state, a page
 * that cannot be built): static, so sending it needs no allocation. */
static const char OUT_OF_MEMORY_REPLY[] =
	"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"
	"Content-Length: 14\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n"
	"out of memory\n";

enum client_state { READING_HEAD, WRITING_REPLY, DRAINING };

struct http_client {
	struct http_endpoint *ep;
	struct http_client *next; /* at most max_clients: a short list */
	int fd;
	ev_io io;
	ev_timer deadline;
	enum client_state state;
	size_t in_len;
	struct strbuf out;
	const char *reply;  /* out's bytes, or OUT_OF_MEMORY_REPLY */
	size_t reply_len;
	size_t out_off;
	char in[HTTP_ENDPOINT_HEAD_MAX];
};

struct http_endpoint {
	struct ev_loop *loop;
	int fd;
	ev_io accept_io;
	ev_timer accept_pause;
	double timeout_s;
	unsigned max_clients;
	size_t n_clients;
	struct http_client *clients;
	struct http_route *routes;
	size_t n_routes;
};

static void client_close(struct http_client *c)
{
	struct http_endpoint *ep = c->ep;

	ev_io_stop(ep->loop, &c->io);
	ev_timer_stop(ep->loop, &c->deadline);
	close(c->fd);
	for (struct http_client **p = &ep->clients; *p; p = &(*p)->next)
		if (*p == c) {
			*p = c->next;
			break;
		}
	ep->n_clients--;
	strbuf_free(&c->out);
	free(c);
}

static void watch(struct http_client *c, int events)
{
	ev_io_stop(c->ep->loop, &c->io);
	ev_io_set(&c->io, c->fd, events);
	ev_io_start(c->ep->loop, &c->io);
}

static const char *status_text(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 431: return "Request Header Fields Too Large";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	default: return "Unknown";
	}
}

/* Queues the whole reply and switches the client to writing it, within a
 * fresh deadline. Out of memory for it: the static 503 goes instead. */
static void client_reply(struct http_client *c, int status, const char *ctype,
			 struct slice body, const char *extra)
{
	strbuf_printf(&c->out,
		      "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
		      "Cache-Control: no-store\r\n%sConnection: close\r\n\r\n",
		      status, status_text(status), ctype, body.len, extra);
	strbuf_append(&c->out, body.ptr, body.len);
	if (c->out.failed) {
		c->reply = OUT_OF_MEMORY_REPLY;
		c->reply_len = sizeof(OUT_OF_MEMORY_REPLY) - 1;
	} else {
		c->reply = c->out.data;
		c->reply_len = c->out.len;
	}
	c->state = WRITING_REPLY;
	watch(c, EV_WRITE);
	ev_timer_stop(c->ep->loop, &c->deadline);
	ev_timer_set(&c->deadline, c->ep->timeout_s, 0.);
	ev_timer_start(c->ep->loop, &c->deadline);
}

static void client_error(struct http_client *c, int status, const char *msg)
{
	client_reply(c, status, "text/plain; charset=utf-8", slice_make(msg, strlen(msg)), "");
}

/* Answers one request head (without its blank line). */
static void client_serve(struct http_client *c, struct slice head)
{
	struct http_endpoint *ep = c->ep;
	struct slice method, path;
	const char *why;
	int status = http_head_parse(head, &method, &path, &why);

	if (status) {
		client_error(c, status, why);
		return;
	}
	for (size_t i = 0; i < ep->n_routes; i++) {
		const struct http_route *route = &ep->routes[i];
		struct http_reply reply = { 200, "text/plain; charset=utf-8", STRBUF_INIT_CHECKED };

		if (!slice_eq_cstr(path, route->path))
			continue;
		if (!slice_eq_cstr(method, "GET")) {
			client_reply(c, 405, reply.content_type, SLICE_LIT("method not allowed\n"),
				     "Allow: GET\r\n");
			return;
		}
		route->handler(route->arg, &reply);
		if (reply.body.failed) /* a cut page would read as valid metrics */
			client_error(c, 503, "out of memory\n");
		else
			client_reply(c, reply.status, reply.content_type,
				     slice_make(reply.body.data, reply.body.len), "");
		strbuf_free(&reply.body);
		return;
	}
	client_error(c, 404, "not found\n");
}

static void client_on_read(struct http_client *c)
{
	char *at = c->state == DRAINING ? c->in : c->in + c->in_len;
	size_t room = c->state == DRAINING ? sizeof(c->in) : sizeof(c->in) - c->in_len;
	ssize_t r = recv(c->fd, at, room, 0);
	size_t end;

	if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
		client_close(c);
		return;
	}
	if (r < 0 || c->state == DRAINING)
		return;
	c->in_len += (size_t)r;
	end = http_head_end(c->in, c->in_len);
	if (end) /* what follows the head is ignored */
		client_serve(c, slice_make(c->in, end - 1));
	else if (c->in_len == sizeof(c->in))
		client_error(c, 431, "request head too large\n");
}

static void client_on_write(struct http_client *c)
{
	while (c->out_off < c->reply_len) {
		ssize_t w = send(c->fd, c->reply + c->out_off, c->reply_len - c->out_off,
				 MSG_NOSIGNAL);

		if (w < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				client_close(c);
			return;
		}
		c->out_off += (size_t)w;
	}
	/* the FIN follows the reply; the peer's own close ends the drain */
	shutdown(c->fd, SHUT_WR);
	c->state = DRAINING;
	watch(c, EV_READ);
}

static void client_io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct http_client *c = w->data;

	if (c->state == WRITING_REPLY)
		client_on_write(c);
	else
		client_on_read(c);
}

static void client_deadline_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	client_close(w->data);
}

static void accept_pause_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct http_endpoint *ep = w->data;

	ev_io_start(loop, &ep->accept_io);
}

static void accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct http_endpoint *ep = w->data;

	for (int i = 0; i < ACCEPT_BURST; i++) {
		struct http_client *c;
		int fd = listener_accept(ep->fd, NULL);

		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
				ev_io_stop(loop, &ep->accept_io);
				ev_timer_set(&ep->accept_pause, ACCEPT_PAUSE_S, 0.);
				ev_timer_start(loop, &ep->accept_pause);
			}
			return;
		}
		if (ep->n_clients >= ep->max_clients) {
			close(fd);
			continue;
		}
		c = malloc(sizeof(*c));
		if (!c) { /* best effort: the socket's buffer is empty, this fits */
			send(fd, OUT_OF_MEMORY_REPLY, sizeof(OUT_OF_MEMORY_REPLY) - 1,
			     MSG_NOSIGNAL | MSG_DONTWAIT);
			close(fd);
			continue;
		}
		*c = (struct http_client){ .ep = ep, .fd = fd, .next = ep->clients,
					   .out = STRBUF_INIT_CHECKED };
		ev_io_init(&c->io, client_io_cb, fd, EV_READ);
		c->io.data = c;
		ev_timer_init(&c->deadline, client_deadline_cb, ep->timeout_s, 0.);
		c->deadline.data = c;
		ev_io_start(loop, &c->io);
		ev_timer_start(loop, &c->deadline);
		ep->clients = c;
		ep->n_clients++;
	}
}

struct http_endpoint *http_endpoint_start(struct ev_loop *loop, const struct sockaddr *addr,
					  socklen_t addrlen, const struct http_route *routes,
					  size_t n_routes, const struct http_endpoint_settings *s,
					  char *err, size_t errlen)
{
	struct http_endpoint *ep;
	char name[64];
	unsigned port = listener_host(addr, name, sizeof(name));
	int fd = listener_open(addr, addrlen, 64);

	if (fd < 0) {
		snprintf(err, errlen, "metrics endpoint %s port %u: %s", name, port, strerror(errno));
		return NULL;
	}
	ep = xcalloc(1, sizeof(*ep));
	ep->loop = loop;
	ep->fd = fd;
	ep->timeout_s = (s && s->timeout_ms ? s->timeout_ms : HTTP_ENDPOINT_DEFAULT_TIMEOUT_MS) / 1000.;
	ep->max_clients = s && s->max_clients ? s->max_clients : HTTP_ENDPOINT_DEFAULT_MAX_CLIENTS;
	ep->routes = xcalloc(n_routes, sizeof(*routes));
	memcpy(ep->routes, routes, n_routes * sizeof(*routes));
	ep->n_routes = n_routes;
	ev_io_init(&ep->accept_io, accept_cb, fd, EV_READ);
	ep->accept_io.data = ep;
	ev_timer_init(&ep->accept_pause, accept_pause_cb, ACCEPT_PAUSE_S, 0.);
	ep->accept_pause.data = ep;
	ev_io_start(loop, &ep->accept_io);
	return ep;
}

uint16_t http_endpoint_port(const struct http_endpoint *ep)
{
	return listener_port(ep->fd);
}

void http_endpoint_stop(struct http_endpoint *ep)
{
	if (!ep)
		return;
	while (ep->clients)
		client_close(ep->clients);
	ev_io_stop(ep->loop, &ep->accept_io);
	ev_timer_stop(ep->loop, &ep->accept_pause);
	close(ep->fd);
	free(ep->routes);
	free(ep);
}

/* The operators' HTTP endpoint (see http_endpoint.h). One client is a fixed
 * head buffer, a reply buffer and one timer; it is either reading a request
 * head or writing a reply, never both, so a client that does not read its
 * replies cannot make us buffer more than one. */
#include "http_endpoint.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ev.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "slice.h"
#include "xalloc.h"

/* accept() failing for lack of descriptors leaves the listener readable:
 * pause it this long instead of spinning. */
#define ACCEPT_PAUSE_S 0.1
#define ACCEPT_BURST 16

struct http_client {
	struct http_endpoint *ep;
	struct http_client *prev, *next;
	int fd;
	ev_io io;
	ev_timer deadline;
	bool writing;
	bool close_after_write;
	size_t in_len;
	struct strbuf out;
	size_t out_off;
	char in[HTTP_ENDPOINT_HEAD_MAX];
};

struct http_endpoint {
	struct ev_loop *loop;
	int fd;
	ev_io accept_io;
	ev_timer accept_pause;
	uint16_t port;
	double timeout_s;
	unsigned max_clients;
	size_t n_clients;
	struct http_client *clients;
	struct http_route *routes;
	size_t n_routes;
};

/* ---- address parsing ---------------------------------------------------- */

int http_endpoint_parse_addr(const char *spec, struct sockaddr_storage *out, socklen_t *outlen,
			     char *why, size_t n)
{
	char host[64];
	const char *colon, *p;
	size_t hlen;
	unsigned port = 0;

	if (!spec || !*spec) {
		snprintf(why, n, "must be ADDR:PORT, like 127.0.0.1:9100 or [::1]:9100");
		return -1;
	}
	if (spec[0] == '[') {
		const char *rb = strchr(spec, ']');

		if (!rb || rb[1] != ':') {
			snprintf(why, n, "must be [IPV6]:PORT, like [::1]:9100");
			return -1;
		}
		hlen = (size_t)(rb - spec - 1);
		if (hlen >= sizeof(host)) {
			snprintf(why, n, "IPv6 address too long");
			return -1;
		}
		memcpy(host, spec + 1, hlen);
		host[hlen] = '\0';
		colon = rb + 1;
	} else {
		colon = strrchr(spec, ':');
		if (!colon) {
			snprintf(why, n, "must be ADDR:PORT, like 127.0.0.1:9100 or :9100");
			return -1;
		}
		if (memchr(spec, ':', (size_t)(colon - spec))) {
			snprintf(why, n, "IPv6 addresses go in brackets, like [::1]:9100");
			return -1;
		}
		hlen = (size_t)(colon - spec);
		if (hlen >= sizeof(host)) {
			snprintf(why, n, "address too long");
			return -1;
		}
		memcpy(host, spec, hlen);
		host[hlen] = '\0';
	}
	p = colon + 1;
	if (!*p) {
		snprintf(why, n, "no port after the ':'");
		return -1;
	}
	for (; *p; p++) {
		if (*p < '0' || *p > '9' || (port = port * 10 + (unsigned)(*p - '0')) > 65535) {
			port = 0;
			break;
		}
	}
	if (port == 0) {
		snprintf(why, n, "port must be 1..65535");
		return -1;
	}
	memset(out, 0, sizeof(*out));
	if (spec[0] == '[') {
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)out;

		if (inet_pton(AF_INET6, host, &a6->sin6_addr) != 1) {
			snprintf(why, n, "'%s' is not an IPv6 address", host);
			return -1;
		}
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		*outlen = sizeof(*a6);
	} else {
		struct sockaddr_in *a4 = (struct sockaddr_in *)out;

		if (!host[0] || !strcmp(host, "*"))
			strcpy(host, "0.0.0.0");
		else if (!strcasecmp(host, "localhost"))
			strcpy(host, "127.0.0.1");
		if (inet_pton(AF_INET, host, &a4->sin_addr) != 1) {
			snprintf(why, n, "'%s' is not an IPv4 address (names are not resolved)", host);
			return -1;
		}
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)port);
		*outlen = sizeof(*a4);
	}
	return 0;
}

/* ---- clients ------------------------------------------------------------ */

static void client_close(struct http_client *c)
{
	struct http_endpoint *ep = c->ep;

	ev_io_stop(ep->loop, &c->io);
	ev_timer_stop(ep->loop, &c->deadline);
	close(c->fd);
	if (c->prev)
		c->prev->next = c->next;
	else
		ep->clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	ep->n_clients--;
	strbuf_free(&c->out);
	free(c);
}

static void arm_deadline(struct http_client *c)
{
	ev_timer_stop(c->ep->loop, &c->deadline);
	ev_timer_set(&c->deadline, c->ep->timeout_s, 0.);
	ev_timer_start(c->ep->loop, &c->deadline);
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
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 408:
		return "Request Timeout";
	case 431:
		return "Request Header Fields Too Large";
	case 500:
		return "Internal Server Error";
	case 503:
		return "Service Unavailable";
	case 505:
		return "HTTP Version Not Supported";
	default:
		return "Unknown";
	}
}

/* Queues a complete reply and switches the client to writing. */
static void client_reply(struct http_client *c, int status, const char *ctype, const char *body,
			 size_t body_len, bool head_only, bool keep_alive, const char *extra)
{
	strbuf_reset(&c->out);
	c->out_off = 0;
	strbuf_printf(&c->out,
		      "HTTP/1.1 %d %s\r\n"
		      "Content-Type: %s\r\n"
		      "Content-Length: %zu\r\n"
		      "Cache-Control: no-store\r\n"
		      "%s"
		      "Connection: %s\r\n\r\n",
		      status, status_text(status), ctype, body_len, extra ? extra : "",
		      keep_alive ? "keep-alive" : "close");
	if (!head_only && body_len)
		strbuf_append(&c->out, body, body_len);
	c->close_after_write = !keep_alive;
	c->writing = true;
	watch(c, EV_WRITE);
	arm_deadline(c);
}

static void client_error(struct http_client *c, int status, const char *msg)
{
	client_reply(c, status, "text/plain; charset=utf-8", msg, strlen(msg), false, false, NULL);
}

static bool is_tchar(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

/* Does a comma list header value hold `token` (any case)? */
static bool list_has(struct slice v, const char *token)
{
	while (v.len) {
		struct slice item = slice_trim(slice_split(&v, ','));

		if (slice_case_eq_cstr(item, token))
			return true;
	}
	return false;
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

/* Parses one request head (without the blank line) and queues its reply. */
static void client_handle(struct http_client *c, struct slice head)
{
	struct http_endpoint *ep = c->ep;
	struct slice line, method, target, version, path;
	bool http10, keep_alive, conn_close = false, conn_keep = false;
	const struct http_route *route = NULL;

	if (!next_line(&head, &line)) {
		client_error(c, 400, "empty request\n");
		return;
	}
	method = slice_split(&line, ' ');
	target = slice_split(&line, ' ');
	version = line;
	if (!method.len || !target.len || !version.len) {
		client_error(c, 400, "malformed request line\n");
		return;
	}
	for (size_t i = 0; i < method.len; i++) {
		if (!is_tchar(method.ptr[i])) {
			client_error(c, 400, "malformed method\n");
			return;
		}
	}
	if (slice_eq_cstr(version, "HTTP/1.1")) {
		http10 = false;
	} else if (slice_eq_cstr(version, "HTTP/1.0")) {
		http10 = true;
	} else if (version.len == 8 && !memcmp(version.ptr, "HTTP/", 5)) {
		client_error(c, 505, "only HTTP/1.0 and HTTP/1.1\n");
		return;
	} else {
		client_error(c, 400, "malformed request line\n");
		return;
	}
	/* absolute-form: keep only the path */
	if (target.len > 7 && !strncasecmp(target.ptr, "http://", 7)) {
		struct slice rest = { target.ptr + 7, target.len - 7 };
		const char *slash = memchr(rest.ptr, '/', rest.len);

		target = slash ? slice_make(slash, rest.len - (size_t)(slash - rest.ptr)) : SLICE_LIT("/");
	}
	if (target.ptr[0] != '/') {
		client_error(c, 400, "request target must be a path\n");
		return;
	}
	{
		struct slice t = target;

		path = slice_split(&t, '?');
	}
	for (size_t i = 0; i < path.len; i++) {
		if ((unsigned char)path.ptr[i] <= ' ' || path.ptr[i] == 0x7f || path.ptr[i] == '#') {
			client_error(c, 400, "malformed path\n");
			return;
		}
	}

	while (next_line(&head, &line)) {
		struct slice name, value;
		const char *colon = memchr(line.ptr, ':', line.len);

		if (!colon) {
			client_error(c, 400, "malformed header line\n");
			return;
		}
		name = slice_make(line.ptr, (size_t)(colon - line.ptr));
		value = slice_trim(slice_make(colon + 1, line.len - name.len - 1));
		for (size_t i = 0; i < name.len; i++) {
			if (!is_tchar(name.ptr[i])) {
				client_error(c, 400, "malformed header name\n");
				return;
			}
		}
		if (!name.len) {
			client_error(c, 400, "malformed header name\n");
			return;
		}
		if (slice_case_eq_cstr(name, "connection")) {
			conn_close |= list_has(value, "close");
			conn_keep |= list_has(value, "keep-alive");
		} else if (slice_case_eq_cstr(name, "transfer-encoding") ||
			   (slice_case_eq_cstr(name, "content-length") && !slice_eq_cstr(value, "0"))) {
			/* nothing here takes a body; refusing keeps the framing simple */
			client_error(c, 400, "request bodies are not accepted\n");
			return;
		}
	}
	keep_alive = http10 ? conn_keep && !conn_close : !conn_close;

	for (size_t i = 0; i < ep->n_routes; i++) {
		if (slice_eq_cstr(path, ep->routes[i].path)) {
			route = &ep->routes[i];
			break;
		}
	}
	if (!route) {
		static const char msg[] = "not found\n";
		client_reply(c, 404, "text/plain; charset=utf-8", msg, sizeof(msg) - 1,
			     slice_eq_cstr(method, "HEAD"), keep_alive, NULL);
		return;
	}
	if (!slice_eq_cstr(method, "GET") && !slice_eq_cstr(method, "HEAD")) {
		static const char msg[] = "method not allowed\n";
		client_reply(c, 405, "text/plain; charset=utf-8", msg, sizeof(msg) - 1, false,
			     keep_alive, "Allow: GET, HEAD\r\n");
		return;
	}
	{
		struct http_reply reply = {
			.status = 200,
			.content_type = "text/plain; charset=utf-8",
			.body = STRBUF_INIT,
		};

		route->handler(route->arg, &reply);
		client_reply(c, reply.status, reply.content_type, reply.body.data, reply.body.len,
			     slice_eq_cstr(method, "HEAD"), keep_alive, NULL);
		strbuf_free(&reply.body);
	}
}

/* End of the head in the buffer (index just past the blank line), or 0. */
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

/* Serves the next buffered request if a whole head is there. */
static void client_process(struct http_client *c)
{
	size_t end, head_len, skip = 0;

	/* stray line breaks between requests are ignored (RFC 9112 2.2) */
	while (skip < c->in_len && (c->in[skip] == '\r' || c->in[skip] == '\n'))
		skip++;
	if (skip) {
		memmove(c->in, c->in + skip, c->in_len - skip);
		c->in_len -= skip;
	}
	end = head_end(c->in, c->in_len);
	if (!end) {
		if (c->in_len == sizeof(c->in))
			client_error(c, 431, "request head too large\n");
		return;
	}
	/* the head without its blank line */
	head_len = end;
	while (head_len && (c->in[head_len - 1] == '\n' || c->in[head_len - 1] == '\r'))
		head_len--;
	client_handle(c, slice_make(c->in, head_len));
	memmove(c->in, c->in + end, c->in_len - end);
	c->in_len -= end;
}

static void client_on_read(struct http_client *c)
{
	ssize_t r = recv(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len, 0);

	if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
		client_close(c);
		return;
	}
	if (r < 0)
		return;
	c->in_len += (size_t)r;
	client_process(c);
}

static void client_on_write(struct http_client *c)
{
	while (c->out_off < c->out.len) {
		ssize_t w = send(c->fd, c->out.data + c->out_off, c->out.len - c->out_off,
				 MSG_NOSIGNAL);

		if (w < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				return;
			client_close(c);
			return;
		}
		c->out_off += (size_t)w;
	}
	if (c->close_after_write) {
		/* let the client read the reply before the FIN */
		shutdown(c->fd, SHUT_WR);
		client_close(c);
		return;
	}
	strbuf_reset(&c->out);
	c->out_off = 0;
	c->writing = false;
	watch(c, EV_READ);
	arm_deadline(c);
	/* a pipelined request may be waiting in the buffer already */
	client_process(c);
}

static void client_io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct http_client *c = w->data;

	if (c->writing)
		client_on_write(c);
	else
		client_on_read(c);
}

static void client_deadline_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	client_close(w->data);
}

static void client_new(struct http_endpoint *ep, int fd)
{
	struct http_client *c = xcalloc(1, sizeof(*c));

	c->ep = ep;
	c->fd = fd;
	ev_io_init(&c->io, client_io_cb, fd, EV_READ);
	c->io.data = c;
	ev_timer_init(&c->deadline, client_deadline_cb, ep->timeout_s, 0.);
	c->deadline.data = c;
	ev_io_start(ep->loop, &c->io);
	ev_timer_start(ep->loop, &c->deadline);
	c->next = ep->clients;
	if (ep->clients)
		ep->clients->prev = c;
	ep->clients = c;
	ep->n_clients++;
}

/* ---- listener ----------------------------------------------------------- */

static void accept_pause_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct http_endpoint *ep = w->data;

	ev_io_start(loop, &ep->accept_io);
}

static void accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct http_endpoint *ep = w->data;

	for (int i = 0; i < ACCEPT_BURST; i++) {
		int fd = accept4(ep->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

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
		client_new(ep, fd);
	}
}

struct http_endpoint *http_endpoint_start(struct ev_loop *loop, const struct sockaddr *addr,
					  socklen_t addrlen, const struct http_route *routes,
					  size_t n_routes, const struct http_endpoint_settings *s,
					  char *err, size_t errlen)
{
	struct http_endpoint *ep;
	struct sockaddr_storage bound;
	socklen_t blen = sizeof(bound);
	char name[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;
	int one = 1, fd;

	if (addr->sa_family == AF_INET) {
		const struct sockaddr_in *a4 = (const struct sockaddr_in *)addr;
		inet_ntop(AF_INET, &a4->sin_addr, name, sizeof(name));
		port = ntohs(a4->sin_port);
	} else if (addr->sa_family == AF_INET6) {
		const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)addr;
		inet_ntop(AF_INET6, &a6->sin6_addr, name, sizeof(name));
		port = ntohs(a6->sin6_port);
	}
	fd = socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "metrics endpoint %s port %u: socket: %s", name, port,
			 strerror(errno));
		return NULL;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, addr, addrlen) < 0 || listen(fd, 64) < 0 ||
	    getsockname(fd, (struct sockaddr *)&bound, &blen) < 0) {
		snprintf(err, errlen, "metrics endpoint %s port %u: %s", name, port, strerror(errno));
		close(fd);
		return NULL;
	}
	ep = xcalloc(1, sizeof(*ep));
	ep->loop = loop;
	ep->fd = fd;
	ep->port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
						    : ((struct sockaddr_in *)&bound)->sin_port);
	ep->timeout_s = (s && s->timeout_ms ? s->timeout_ms : HTTP_ENDPOINT_DEFAULT_TIMEOUT_MS) / 1000.;
	ep->max_clients = s && s->max_clients ? s->max_clients : HTTP_ENDPOINT_DEFAULT_MAX_CLIENTS;
	ep->routes = xcalloc(n_routes, sizeof(*ep->routes));
	ep->n_routes = n_routes;
	for (size_t i = 0; i < n_routes; i++) {
		ep->routes[i] = routes[i];
		ep->routes[i].path = xstrdup(routes[i].path);
	}
	ev_io_init(&ep->accept_io, accept_cb, fd, EV_READ);
	ep->accept_io.data = ep;
	ev_timer_init(&ep->accept_pause, accept_pause_cb, ACCEPT_PAUSE_S, 0.);
	ep->accept_pause.data = ep;
	ev_io_start(loop, &ep->accept_io);
	return ep;
}

uint16_t http_endpoint_port(const struct http_endpoint *ep)
{
	return ep->port;
}

size_t http_endpoint_clients(const struct http_endpoint *ep)
{
	return ep->n_clients;
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
	for (size_t i = 0; i < ep->n_routes; i++)
		free((char *)ep->routes[i].path);
	free(ep->routes);
	free(ep);
}

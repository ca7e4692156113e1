/* Test HTTP/1.1 server that records what it receives (see http_recorder.h).
 * A thread per connection keeps it simple; a pipe that is written once on
 * stop wakes every thread out of poll(). */
#include "http_recorder.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RECORDER_DEFAULT_MAX (8u * 1024 * 1024)

struct conn {
	struct http_recorder *rec;
	int fd;
	unsigned id;
	uint16_t peer_port;
	pthread_t thread;
	bool started;
	struct conn *next;
};

struct http_recorder {
	struct recorder_options o;
	int listen_fd;
	int stop_pipe[2];
	uint16_t port;
	pthread_t accept_thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct recorded_request **reqs;
	size_t n_reqs;
	size_t cap_reqs;
	size_t count;
	struct conn *conns;
	unsigned n_conns;
	char url[512];
};

/* 1: fd readable, 0: timeout, -1: stop requested or poll error. */
static int wait_readable(struct http_recorder *rec, int fd, int timeout_ms)
{
	struct pollfd p[2] = { { rec->stop_pipe[0], POLLIN, 0 }, { fd, POLLIN, 0 } };
	int n;

	do {
		n = poll(p, fd >= 0 ? 2 : 1, timeout_ms);
	} while (n < 0 && errno == EINTR);
	if (n < 0 || (p[0].revents & (POLLIN | POLLHUP | POLLERR)))
		return -1;
	if (n == 0)
		return 0;
	return 1;
}

static bool send_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		buf += n;
		len -= (size_t)n;
	}
	return true;
}

static char *dup_range(const char *p, size_t n)
{
	char *s = malloc(n + 1);

	if (!s)
		abort();
	memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

static void free_request(struct recorded_request *q)
{
	if (!q)
		return;
	free(q->method);
	free(q->target);
	free(q->version);
	for (size_t i = 0; i < q->n_headers; i++) {
		free(q->headers[i].name);
		free(q->headers[i].value);
	}
	free(q->headers);
	free(q->body);
	free(q);
}

/* Parses the head in buf[0..head_len) ("...\r\n\r\n" included). */
static struct recorded_request *parse_head(const char *buf, size_t head_len)
{
	struct recorded_request *q = calloc(1, sizeof(*q));
	const char *end = buf + head_len - 2; /* the final empty line */
	const char *line = buf, *eol, *sp1, *sp2;

	if (!q)
		abort();
	eol = memmem(line, (size_t)(end - line), "\r\n", 2);
	if (!eol)
		goto bad;
	sp1 = memchr(line, ' ', (size_t)(eol - line));
	sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1)) : NULL;
	if (!sp1 || !sp2)
		goto bad;
	q->method = dup_range(line, (size_t)(sp1 - line));
	q->target = dup_range(sp1 + 1, (size_t)(sp2 - sp1 - 1));
	q->version = dup_range(sp2 + 1, (size_t)(eol - sp2 - 1));
	for (line = eol + 2; line < end; line = eol + 2) {
		const char *colon, *v, *ve;

		eol = memmem(line, (size_t)(end - line) + 2, "\r\n", 2);
		if (!eol)
			goto bad;
		colon = memchr(line, ':', (size_t)(eol - line));
		if (!colon)
			goto bad;
		v = colon + 1;
		ve = eol;
		while (v < ve && (*v == ' ' || *v == '\t'))
			v++;
		while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
			ve--;
		q->headers = realloc(q->headers, (q->n_headers + 1) * sizeof(*q->headers));
		if (!q->headers)
			abort();
		q->headers[q->n_headers].name = dup_range(line, (size_t)(colon - line));
		q->headers[q->n_headers].value = dup_range(v, (size_t)(ve - v));
		q->n_headers++;
	}
	return q;
bad:
	free_request(q);
	return NULL;
}

static void store(struct http_recorder *rec, struct recorded_request *q)
{
	pthread_mutex_lock(&rec->lock);
	rec->count++;
	if (rec->o.no_record) {
		free_request(q);
	} else {
		if (rec->n_reqs == rec->cap_reqs) {
			rec->cap_reqs = rec->cap_reqs ? rec->cap_reqs * 2 : 64;
			rec->reqs = realloc(rec->reqs, rec->cap_reqs * sizeof(*rec->reqs));
			if (!rec->reqs)
				abort();
		}
		rec->reqs[rec->n_reqs++] = q;
	}
	pthread_cond_broadcast(&rec->cond);
	pthread_mutex_unlock(&rec->lock);
}

static bool answer(struct conn *c, bool head)
{
	struct http_recorder *rec = c->rec;
	int status = rec->o.status ? rec->o.status : 200;
	bool no_body = head || status == 204 || status == 304;
	char out[256];
	int n;

	if (rec->o.delay_ms && wait_readable(rec, -1, (int)rec->o.delay_ms) < 0)
		return false;
	n = snprintf(out, sizeof(out), "HTTP/1.1 %d Recorded\r\nContent-Length: 2\r\n\r\n%s",
		     status, no_body ? "" : "ok");
	return send_all(c->fd, out, (size_t)n);
}

/* Reads until the peer closes or the recorder stops. */
static void hang(struct conn *c)
{
	char sink[4096];

	while (wait_readable(c->rec, c->fd, -1) > 0)
		if (recv(c->fd, sink, sizeof(sink), 0) <= 0)
			return;
}

static void *conn_main(void *arg)
{
	struct conn *c = arg;
	struct http_recorder *rec = c->rec;
	size_t max = rec->o.max_request ? rec->o.max_request : RECORDER_DEFAULT_MAX;
	size_t cap = 16384, len = 0;
	char *buf = malloc(cap);

	if (!buf)
		abort();
	for (;;) {
		struct recorded_request *q;
		char *head_end;
		size_t head_len, body_len = 0;
		const char *cl, *te, *connection;
		bool close_after, head;

		/* the head */
		while (!(head_end = len >= 4 ? memmem(buf, len, "\r\n\r\n", 4) : NULL)) {
			ssize_t n;

			if (len == max || wait_readable(rec, c->fd, -1) <= 0)
				goto out;
			if (len == cap) {
				cap *= 2;
				buf = realloc(buf, cap);
				if (!buf)
					abort();
			}
			n = recv(c->fd, buf + len, cap - len, 0);
			if (n <= 0)
				goto out;
			len += (size_t)n;
		}
		head_len = (size_t)(head_end - buf) + 4;
		q = parse_head(buf, head_len);
		if (!q) {
			send_all(c->fd, "HTTP/1.1 400 Bad\r\nContent-Length: 0\r\n\r\n", 40);
			goto out;
		}
		q->conn_id = c->id;
		q->peer_port = c->peer_port;
		te = recorded_header(q, "transfer-encoding");
		cl = recorded_header(q, "content-length");
		if (te) {
			/* the replay engine always knows the length; chunked is a bug */
			send_all(c->fd, "HTTP/1.1 501 No\r\nContent-Length: 0\r\n\r\n", 39);
			store(rec, q);
			goto out;
		}
		if (cl)
			body_len = strtoul(cl, NULL, 10);
		if (body_len > max - head_len) {
			free_request(q);
			goto out;
		}
		/* the body */
		while (len < head_len + body_len) {
			ssize_t n;

			if (head_len + body_len > cap) {
				cap = head_len + body_len;
				buf = realloc(buf, cap);
				if (!buf)
					abort();
			}
			if (wait_readable(rec, c->fd, -1) <= 0) {
				free_request(q);
				goto out;
			}
			n = recv(c->fd, buf + len, cap - len, 0);
			if (n <= 0) {
				free_request(q);
				goto out;
			}
			len += (size_t)n;
		}
		q->body = dup_range(buf + head_len, body_len);
		q->body_len = body_len;
		connection = recorded_header(q, "connection");
		close_after = connection && !strcasecmp(connection, "close");
		head = !strcmp(q->method, "HEAD");
		store(rec, q); /* q belongs to the recorder now */
		memmove(buf, buf + head_len + body_len, len - head_len - body_len);
		len -= head_len + body_len;
		if (rec->o.mode == RECORDER_HANG) {
			hang(c);
			goto out;
		}
		if (!answer(c, head) || close_after || rec->o.close_idle)
			goto out;
	}
out:
	free(buf);
	shutdown(c->fd, SHUT_RDWR);
	return NULL;
}

static void *accept_main(void *arg)
{
	struct http_recorder *rec = arg;
	pthread_attr_t attr;

	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	while (wait_readable(rec, rec->listen_fd, -1) > 0) {
		struct sockaddr_in peer;
		socklen_t plen = sizeof(peer);
		int fd = accept(rec->listen_fd, (struct sockaddr *)&peer, &plen);
		int one = 1;
		struct conn *c;

		if (fd < 0)
			continue;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c = calloc(1, sizeof(*c));
		if (!c)
			abort();
		c->rec = rec;
		c->fd = fd;
		c->peer_port = ntohs(peer.sin_port);
		pthread_mutex_lock(&rec->lock);
		c->id = ++rec->n_conns;
		c->next = rec->conns;
		rec->conns = c;
		pthread_mutex_unlock(&rec->lock);
		if (pthread_create(&c->thread, &attr, conn_main, c) == 0)
			c->started = true;
	}
	pthread_attr_destroy(&attr);
	return NULL;
}

struct http_recorder *recorder_start(const struct recorder_options *o)
{
	struct http_recorder *rec = calloc(1, sizeof(*rec));
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a);
	int one = 1;

	if (!rec)
		return NULL;
	rec->o = *o;
	pthread_mutex_init(&rec->lock, NULL);
	pthread_cond_init(&rec->cond, NULL);
	if (pipe(rec->stop_pipe) < 0) {
		perror("recorder: pipe");
		free(rec);
		return NULL;
	}
	rec->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(rec->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (rec->listen_fd < 0 || bind(rec->listen_fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    listen(rec->listen_fd, 1024) < 0 ||
	    getsockname(rec->listen_fd, (struct sockaddr *)&a, &alen) < 0) {
		perror("recorder: listen on 127.0.0.1:0");
		if (rec->listen_fd >= 0)
			close(rec->listen_fd);
		close(rec->stop_pipe[0]);
		close(rec->stop_pipe[1]);
		free(rec);
		return NULL;
	}
	rec->port = ntohs(a.sin_port);
	if (pthread_create(&rec->accept_thread, NULL, accept_main, rec)) {
		perror("recorder: pthread_create");
		close(rec->listen_fd);
		close(rec->stop_pipe[0]);
		close(rec->stop_pipe[1]);
		free(rec);
		return NULL;
	}
	return rec;
}

uint16_t recorder_port(const struct http_recorder *rec)
{
	return rec->port;
}

const char *recorder_url(struct http_recorder *rec, const char *suffix)
{
	snprintf(rec->url, sizeof(rec->url), "http://127.0.0.1:%u%s", rec->port,
		 suffix ? suffix : "");
	return rec->url;
}

size_t recorder_count(struct http_recorder *rec)
{
	size_t n;

	pthread_mutex_lock(&rec->lock);
	n = rec->count;
	pthread_mutex_unlock(&rec->lock);
	return n;
}

size_t recorder_connections(struct http_recorder *rec)
{
	size_t n;

	pthread_mutex_lock(&rec->lock);
	n = rec->n_conns;
	pthread_mutex_unlock(&rec->lock);
	return n;
}

bool recorder_wait(struct http_recorder *rec, size_t n, unsigned timeout_ms)
{
	struct timespec until;
	bool ok;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += timeout_ms / 1000;
	until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&rec->lock);
	while (rec->count < n)
		if (pthread_cond_timedwait(&rec->cond, &rec->lock, &until) == ETIMEDOUT)
			break;
	ok = rec->count >= n;
	pthread_mutex_unlock(&rec->lock);
	return ok;
}

const struct recorded_request *recorder_get(struct http_recorder *rec, size_t i)
{
	const struct recorded_request *q;

	pthread_mutex_lock(&rec->lock);
	q = i < rec->n_reqs ? rec->reqs[i] : NULL;
	pthread_mutex_unlock(&rec->lock);
	return q;
}

const char *recorded_header(const struct recorded_request *q, const char *name)
{
	for (size_t i = 0; i < q->n_headers; i++)
		if (!strcasecmp(q->headers[i].name, name))
			return q->headers[i].value;
	return NULL;
}

size_t recorded_header_count(const struct recorded_request *q, const char *name)
{
	size_t n = 0;

	for (size_t i = 0; i < q->n_headers; i++)
		if (!strcasecmp(q->headers[i].name, name))
			n++;
	return n;
}

void recorder_stop(struct http_recorder *rec)
{
	struct conn *c;

	if (!rec)
		return;
	if (write(rec->stop_pipe[1], "x", 1) != 1)
		perror("recorder: stop");
	pthread_join(rec->accept_thread, NULL);
	while ((c = rec->conns)) {
		rec->conns = c->next;
		if (c->started)
			pthread_join(c->thread, NULL);
		if (c->fd >= 0)
			close(c->fd);
		free(c);
	}
	close(rec->listen_fd);
	close(rec->stop_pipe[0]);
	close(rec->stop_pipe[1]);
	for (size_t i = 0; i < rec->n_reqs; i++)
		free_request(rec->reqs[i]);
	free(rec->reqs);
	pthread_mutex_destroy(&rec->lock);
	pthread_cond_destroy(&rec->cond);
	free(rec);
}

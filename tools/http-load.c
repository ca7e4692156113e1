/* http-load: an open-loop HTTP/1.1 load generator for the reliability tests.
 * Requests are due on a fixed schedule (-R per second) whatever the server
 * does; a request that finds no free connection waits in a backlog, and its
 * latency counts from when it was due, so a stall shows in the percentiles
 * instead of slowing the load down (no coordinated omission). One epoll
 * thread, N keep-alive connections to 127.0.0.1 only, each outcome counted
 * by kind; the last line (RESULT) is for scripts. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "http_resp.h"
#include "lat_hist.h"

#define IN_CAP (2u * HTTP_RESP_HEAD_MAX)
#define MAX_CONNS 20000u
#define MAX_PATHS 100000u
/* How often in-flight requests are checked against --timeout. */
#define SCAN_INTERVAL_NS 5000000ull
/* Longest wait for the first connections before the schedule starts. */
#define PRECONNECT_NS 2000000000ull

enum err_kind { ERR_CONNECT, ERR_RESET, ERR_TIMEOUT, ERR_NON2XX, ERR_BAD, ERR_COUNT };
static const char *const err_names[ERR_COUNT] = { "connect", "reset", "timeout", "non2xx",
						   "bad" };

enum cstate { C_CLOSED, C_CONNECTING, C_IDLE, C_BUSY };

struct hconn {
	int fd;
	enum cstate st;
	bool in_idle_ring;
	bool want_out;
	bool served;           /* completed a response since it was opened */
	bool reopen;           /* closed after serving: open a new one */
	uint64_t due_ns;       /* of the request on this connection */
	const struct req *rq;
	size_t out_off;
	struct http_resp resp;
	size_t in_len;
	char in[IN_CAP];
};

/* One prebuilt request (head and body in one buffer). */
struct req {
	char *buf;
	size_t len;
};

struct options {
	long port;
	double rate;
	unsigned conns;
	double duration_s;
	uint64_t count;
	const char *method;
	const char *path;
	const char *paths_file;
	size_t body;
	const char *headers[32];
	unsigned n_headers;
	double timeout_ms;
	bool quiet;
};

struct load {
	struct options o;
	int ep, tfd;
	struct sockaddr_in addr;
	struct hconn *c;
	unsigned *ring; /* idle connections, FIFO so every one stays warm */
	unsigned ring_head, ring_len;
	struct req *reqs;
	size_t n_reqs;
	bool head_method;
	uint64_t t0, interval_ns, timeout_ns, total;
	uint64_t next_send;     /* index of the next request to send or fail */
	uint64_t sent, ok, resolved, busy;
	uint64_t errs[ERR_COUNT];
	uint64_t connects, connect_failures, closed_by_peer;
	unsigned n_reopen;      /* connections with reopen set */
	struct lat_hist hist;
	const char *first_bad; /* the first malformed response's reason */
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ------------------------------------------------------------------ */
/* requests                                                            */

static int req_build(struct req *r, const struct options *o, const char *path)
{
	size_t cap = 512 + strlen(o->method) + strlen(path) + o->body;
	int n;

	for (unsigned i = 0; i < o->n_headers; i++)
		cap += strlen(o->headers[i]) + 2;
	r->buf = malloc(cap);
	if (!r->buf)
		return -1;
	n = snprintf(r->buf, cap, "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%ld\r\nUser-Agent: http-load\r\n",
		     o->method, path, o->port);
	for (unsigned i = 0; i < o->n_headers; i++)
		n += snprintf(r->buf + n, cap - (size_t)n, "%s\r\n", o->headers[i]);
	if (o->body || strcmp(o->method, "POST") == 0 || strcmp(o->method, "PUT") == 0)
		n += snprintf(r->buf + n, cap - (size_t)n, "Content-Length: %zu\r\n", o->body);
	n += snprintf(r->buf + n, cap - (size_t)n, "\r\n");
	memset(r->buf + n, 'x', o->body);
	r->len = (size_t)n + o->body;
	return 0;
}

static bool path_ok(const char *p)
{
	if (*p != '/' && *p != '*')
		return false;
	for (; *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f)
			return false;
	return true;
}

/* --paths FILE: one path per line; empty lines and '#' lines skipped. */
static int load_paths(struct load *L)
{
	FILE *f = fopen(L->o.paths_file, "r");
	char line[8192];
	unsigned lineno = 0;

	if (!f) {
		fprintf(stderr, "http-load: cannot open --paths %s: %s\n", L->o.paths_file,
			strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		size_t n = strlen(line);
		struct req *grown;

		lineno++;
		while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (!n || line[0] == '#')
			continue;
		if (!path_ok(line)) {
			fprintf(stderr, "http-load: %s:%u: not a path (starts with '/', no spaces or "
					"control bytes)\n", L->o.paths_file, lineno);
			fclose(f);
			return -1;
		}
		if (L->n_reqs >= MAX_PATHS) {
			fprintf(stderr, "http-load: %s: more than %u paths\n", L->o.paths_file,
				MAX_PATHS);
			fclose(f);
			return -1;
		}
		grown = realloc(L->reqs, (L->n_reqs + 1) * sizeof(*L->reqs));
		if (!grown || req_build(&grown[L->n_reqs], &L->o, line) < 0) {
			L->reqs = grown ? grown : L->reqs;
			fprintf(stderr, "http-load: out of memory for the requests\n");
			fclose(f);
			return -1;
		}
		L->reqs = grown;
		L->n_reqs++;
	}
	fclose(f);
	if (!L->n_reqs) {
		fprintf(stderr, "http-load: %s holds no path\n", L->o.paths_file);
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* connections                                                         */

static void ep_mod(struct load *L, struct hconn *c, bool out)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP | (out ? EPOLLOUT : 0),
				  .data.u32 = (uint32_t)(c - L->c) };

	c->want_out = out;
	epoll_ctl(L->ep, EPOLL_CTL_MOD, c->fd, &ev);
}

static void ring_push(struct load *L, struct hconn *c)
{
	unsigned cap = L->o.conns;

	if (c->in_idle_ring)
		return;
	L->ring[(L->ring_head + L->ring_len) % cap] = (unsigned)(c - L->c);
	L->ring_len++;
	c->in_idle_ring = true;
}

/* The next idle connection, skipping entries that closed since they were
 * pushed (they are marked out of the ring lazily). */
static struct hconn *ring_pop(struct load *L)
{
	while (L->ring_len) {
		struct hconn *c = &L->c[L->ring[L->ring_head]];

		L->ring_head = (L->ring_head + 1) % L->o.conns;
		L->ring_len--;
		c->in_idle_ring = false;
		if (c->st == C_IDLE)
			return c;
	}
	return NULL;
}

static void conn_close(struct load *L, struct hconn *c)
{
	if (c->fd >= 0) {
		epoll_ctl(L->ep, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
	}
	if (c->st == C_BUSY)
		L->busy--;
	if (c->served && !c->reopen) {
		c->reopen = true;
		L->n_reopen++;
	}
	c->fd = -1;
	c->st = C_CLOSED;
	c->rq = NULL;
	c->in_len = 0;
	c->served = false;
}

static int conn_open(struct load *L, struct hconn *c)
{
	struct epoll_event ev = { .events = EPOLLOUT, .data.u32 = (uint32_t)(c - L->c) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;

	L->connects++;
	if (c->reopen) {
		c->reopen = false;
		L->n_reopen--;
	}
	c->served = false;
	if (fd < 0)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&L->addr, sizeof(L->addr)) < 0 && errno != EINPROGRESS) {
		close(fd);
		return -1;
	}
	c->fd = fd;
	c->st = C_CONNECTING;
	c->in_len = 0;
	c->want_out = true;
	if (epoll_ctl(L->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
		close(fd);
		c->fd = -1;
		c->st = C_CLOSED;
		return -1;
	}
	return 0;
}

/* A request is over: counted once, by outcome. */
static void resolve(struct load *L, enum err_kind kind, bool ok, uint64_t due_ns)
{
	uint64_t now = now_ns();

	L->resolved++;
	if (ok) {
		L->ok++;
		lat_hist_record(&L->hist, now > due_ns ? now - due_ns : 0);
	} else {
		L->errs[kind]++;
		if (kind == ERR_NON2XX) /* answered, so it has a latency too */
			lat_hist_record(&L->hist, now > due_ns ? now - due_ns : 0);
	}
}

/* The oldest request in the backlog fails without being sent. */
static void fail_backlog_one(struct load *L, enum err_kind kind)
{
	resolve(L, kind, false, L->t0 + L->next_send * L->interval_ns);
	L->next_send++;
}

static uint64_t due_count(const struct load *L, uint64_t now)
{
	uint64_t n;

	if (now < L->t0)
		return 0;
	n = (now - L->t0) / L->interval_ns + 1;
	return n < L->total ? n : L->total;
}

static void conn_failed_connect(struct load *L, struct hconn *c)
{
	L->connect_failures++;
	conn_close(L, c);
	if (L->next_send < due_count(L, now_ns()))
		fail_backlog_one(L, ERR_CONNECT);
}

static void conn_write(struct load *L, struct hconn *c)
{
	while (c->out_off < c->rq->len) {
		ssize_t n = send(c->fd, c->rq->buf + c->out_off, c->rq->len - c->out_off,
				 MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				if (!c->want_out)
					ep_mod(L, c, true);
				return;
			}
			resolve(L, ERR_RESET, false, c->due_ns);
			conn_close(L, c);
			return;
		}
		c->out_off += (size_t)n;
	}
	if (c->want_out)
		ep_mod(L, c, false);
}

static void conn_send(struct load *L, struct hconn *c, uint64_t idx)
{
	c->rq = &L->reqs[idx % L->n_reqs];
	c->due_ns = L->t0 + idx * L->interval_ns;
	c->out_off = 0;
	c->st = C_BUSY;
	L->busy++;
	L->sent++;
	http_resp_begin(&c->resp, L->head_method);
	conn_write(L, c);
}

static void conn_response_done(struct load *L, struct hconn *c)
{
	bool complete_write = c->out_off == c->rq->len;
	int status = c->resp.status;

	resolve(L, ERR_NON2XX, status >= 200 && status < 300, c->due_ns);
	L->busy--;
	c->st = C_IDLE;
	c->rq = NULL;
	c->served = true;
	/* an early answer to a half-sent request leaves the stream unusable */
	if (!c->resp.keep_alive || !complete_write || c->in_len) {
		conn_close(L, c);
		return;
	}
	ring_push(L, c);
}

static void conn_read(struct load *L, struct hconn *c)
{
	for (;;) {
		ssize_t n = recv(c->fd, c->in + c->in_len, IN_CAP - c->in_len, 0);
		enum http_resp_rc rc;
		size_t used;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			/* closed, or reset: which one does not matter to the request */
			if (c->st == C_BUSY) {
				rc = n == 0 ? http_resp_eof(&c->resp) : HTTP_RESP_ERROR;
				if (rc == HTTP_RESP_DONE) {
					resolve(L, ERR_NON2XX,
						c->resp.status >= 200 && c->resp.status < 300,
						c->due_ns);
				} else {
					resolve(L, ERR_RESET, false, c->due_ns);
				}
			} else {
				L->closed_by_peer++;
			}
			conn_close(L, c);
			return;
		}
		if (c->st != C_BUSY) {
			/* bytes nobody asked for */
			L->closed_by_peer++;
			conn_close(L, c);
			return;
		}
		c->in_len += (size_t)n;
		rc = http_resp_feed(&c->resp, c->in, c->in_len, &used);
		if (rc == HTTP_RESP_ERROR) {
			if (!L->first_bad)
				L->first_bad = c->resp.error;
			resolve(L, ERR_BAD, false, c->due_ns);
			conn_close(L, c);
			return;
		}
		memmove(c->in, c->in + used, c->in_len - used);
		c->in_len -= used;
		if (rc == HTTP_RESP_DONE) {
			conn_response_done(L, c);
			return;
		}
	}
}

static void on_event(struct load *L, struct hconn *c, uint32_t events)
{
	if (c->st == C_CLOSED)
		return;
	if (c->st == C_CONNECTING) {
		int err = 0;
		socklen_t len = sizeof(err);

		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err ||
		    (events & (EPOLLERR | EPOLLHUP))) {
			conn_failed_connect(L, c);
			return;
		}
		c->st = C_IDLE;
		ep_mod(L, c, false);
		ring_push(L, c);
		return;
	}
	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		conn_read(L, c);
	if (c->st == C_BUSY && (events & EPOLLOUT) && c->out_off < c->rq->len)
		conn_write(L, c);
}

/* In-flight requests past --timeout: counted, and their connection replaced
 * (HTTP/1.1 cannot cancel one request). */
static void scan_timeouts(struct load *L, uint64_t now)
{
	for (unsigned i = 0; i < L->o.conns; i++) {
		struct hconn *c = &L->c[i];

		if (c->st == C_BUSY && now - c->due_ns > L->timeout_ns) {
			resolve(L, ERR_TIMEOUT, false, c->due_ns);
			conn_close(L, c);
		}
	}
}

/* ------------------------------------------------------------------ */
/* the schedule                                                        */

static void arm_timer(struct load *L, uint64_t at_ns)
{
	struct itimerspec its = { 0 };

	if (at_ns) {
		its.it_value.tv_sec = (time_t)(at_ns / 1000000000ull);
		its.it_value.tv_nsec = (long)(at_ns % 1000000000ull);
	}
	timerfd_settime(L->tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

/* Sends what is due on idle connections; fails what waited too long. */
static void dispatch(struct load *L, uint64_t now)
{
	uint64_t due = due_count(L, now);
	unsigned want_open;

	while (L->next_send < due && now - (L->t0 + L->next_send * L->interval_ns) > L->timeout_ns)
		fail_backlog_one(L, ERR_TIMEOUT);
	while (L->next_send < due) {
		struct hconn *c = ring_pop(L);

		if (!c)
			break;
		conn_send(L, c, L->next_send++);
	}
	/* a backlog and closed connections: open as many as the backlog needs */
	want_open = L->next_send < due ? (unsigned)(due - L->next_send > L->o.conns
							    ? L->o.conns
							    : due - L->next_send)
				       : 0;
	for (unsigned i = 0; want_open && i < L->o.conns; i++) {
		struct hconn *c = &L->c[i];

		if (c->st != C_CLOSED)
			continue;
		if (conn_open(L, c) < 0) {
			conn_failed_connect(L, c);
			if (L->next_send >= due_count(L, now_ns()))
				break;
		}
		want_open--;
	}
}

/* Keeps N connections open after a server close, except after failed
 * connects (those reopen when a request is waiting, so a refusing server
 * does not make a busy loop). */
static void reopen_closed(struct load *L)
{
	for (unsigned i = 0; L->n_reopen && i < L->o.conns; i++) {
		struct hconn *c = &L->c[i];

		if (c->st == C_CLOSED && c->reopen && conn_open(L, c) < 0)
			conn_failed_connect(L, c);
	}
}

static void poll_once(struct load *L, int timeout_ms)
{
	struct epoll_event evs[256];
	int n = epoll_wait(L->ep, evs, 256, timeout_ms);

	for (int i = 0; i < n; i++) {
		uint32_t id = evs[i].data.u32;

		if (id == UINT32_MAX) {
			uint64_t expirations;

			if (read(L->tfd, &expirations, sizeof(expirations)) < 0)
				continue; /* spurious: the loop re-arms it */
			continue;
		}
		on_event(L, &L->c[id], evs[i].events);
	}
}

static void preconnect(struct load *L)
{
	uint64_t deadline = now_ns() + PRECONNECT_NS;

	for (unsigned i = 0; i < L->o.conns; i++)
		if (conn_open(L, &L->c[i]) < 0)
			L->connect_failures++;
	for (;;) {
		unsigned pending = 0;

		for (unsigned i = 0; i < L->o.conns; i++)
			pending += L->c[i].st == C_CONNECTING;
		if (!pending || now_ns() >= deadline || stop_requested)
			break;
		poll_once(L, 10);
	}
	/* still pending: left to finish during the run */
}

static void run(struct load *L)
{
	uint64_t last_scan = 0, end_ns;

	/* nothing is due until the connections are up: a connect that fails
	 * meanwhile fails no request */
	L->t0 = UINT64_MAX;
	preconnect(L);
	L->t0 = now_ns() + 1000000ull;
	for (;;) {
		uint64_t now = now_ns();
		uint64_t due;

		if (stop_requested && L->total > due_count(L, now)) {
			/* stop the schedule: what was due is still waited for */
			L->total = due_count(L, now);
		}
		dispatch(L, now);
		reopen_closed(L);
		if (now - last_scan >= SCAN_INTERVAL_NS) {
			scan_timeouts(L, now);
			last_scan = now;
		}
		if (L->resolved >= L->total)
			break;
		end_ns = L->t0 + (L->total ? L->total - 1 : 0) * L->interval_ns + L->timeout_ns;
		if (now > end_ns + SCAN_INTERVAL_NS) {
			/* nothing can still arrive in time */
			scan_timeouts(L, now);
			while (L->next_send < L->total)
				fail_backlog_one(L, ERR_TIMEOUT);
			break;
		}
		due = due_count(L, now);
		/* wake for the next due request only when it could be sent */
		if (L->next_send == due && due < L->total)
			arm_timer(L, L->t0 + due * L->interval_ns);
		else
			arm_timer(L, 0);
		poll_once(L, 5);
	}
	arm_timer(L, 0);
}

/* ------------------------------------------------------------------ */
/* options and report                                                  */

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: http-load -p PORT -R RATE [options]\n"
		"Open-loop HTTP/1.1 load on 127.0.0.1: requests are due at a fixed rate\n"
		"whatever the server does; latency counts from when each was due.\n"
		"\n"
		"  -p, --port PORT        server port on 127.0.0.1 (required)\n"
		"  -R, --rate N           requests per second, paced (required)\n"
		"  -c, --connections N    keep-alive connections (default 16); a closed one\n"
		"                         is replaced by a new one\n"
		"  -d, --duration SEC     schedule requests for SEC seconds (default 10)\n"
		"  -n, --count N          exactly N requests instead of a duration\n"
		"  -m, --method M         request method (default GET)\n"
		"      --path P           request path and query (default /)\n"
		"      --paths FILE       one path per line, used in turn\n"
		"  -b, --body B           body size in bytes, k and m suffixes (default 0)\n"
		"  -H, --header 'N: V'    extra request header; repeatable (up to 32)\n"
		"      --timeout MS       a request not answered MS after it was due is a\n"
		"                         timeout (default 2000)\n"
		"  -q, --quiet            print only the RESULT line\n"
		"  -h, --help\n"
		"\n"
		"Every scheduled request ends as one of: ok (2xx), connect (no connection\n"
		"could be made for it), reset (connection closed or reset before the whole\n"
		"answer), timeout, non2xx, bad (malformed answer). The last line is\n"
		"  RESULT scheduled=... sent=... ok=... errors=... err_connect=... err_reset=...\n"
		"         err_timeout=... err_non2xx=... err_bad=... p50_us=... p90_us=...\n"
		"         p99_us=... p999_us=... max_us=... ...\n"
		"Exit status: 0 every request ok, 1 errors counted, 2 bad usage or no\n"
		"connection could ever be made.\n");
}

static bool parse_num(const char *s, double min, double max, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || *end || errno || !isfinite(v) || v < min || v > max)
		return false;
	*out = v;
	return true;
}

static bool parse_size(const char *s, size_t *out)
{
	char *end;
	unsigned long long v;
	unsigned long long mult = 1;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (end == s || errno || *s == '-')
		return false;
	if (*end == 'k' || *end == 'K')
		mult = 1024, end++;
	else if (*end == 'm' || *end == 'M')
		mult = 1024 * 1024, end++;
	if (*end || v > (256ull << 20) / mult)
		return false;
	*out = (size_t)(v * mult);
	return true;
}

static bool header_ok(const char *h)
{
	const char *colon = strchr(h, ':');

	if (!colon || colon == h)
		return false;
	for (const char *p = h; *p; p++)
		if (((unsigned char)*p < 0x20 && *p != '\t') || *p == 0x7f)
			return false;
	return true;
}

static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "rate", required_argument, NULL, 'R' },
		{ "connections", required_argument, NULL, 'c' },
		{ "duration", required_argument, NULL, 'd' },
		{ "count", required_argument, NULL, 'n' },
		{ "method", required_argument, NULL, 'm' },
		{ "path", required_argument, NULL, 1 },
		{ "paths", required_argument, NULL, 2 },
		{ "body", required_argument, NULL, 'b' },
		{ "header", required_argument, NULL, 'H' },
		{ "timeout", required_argument, NULL, 3 },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	double v;
	int opt;

	*o = (struct options){ .conns = 16, .duration_s = 10, .method = "GET", .path = "/",
			       .timeout_ms = 2000 };
	while ((opt = getopt_long(argc, argv, "p:R:c:d:n:m:b:H:qh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'p':
			if (!parse_num(optarg, 1, 65535, &v) || v != floor(v))
				goto bad;
			o->port = (long)v;
			break;
		case 'R':
			if (!parse_num(optarg, 0.001, 10e6, &v))
				goto bad;
			o->rate = v;
			break;
		case 'c':
			if (!parse_num(optarg, 1, MAX_CONNS, &v) || v != floor(v))
				goto bad;
			o->conns = (unsigned)v;
			break;
		case 'd':
			if (!parse_num(optarg, 0.001, 86400, &v))
				goto bad;
			o->duration_s = v;
			break;
		case 'n':
			if (!parse_num(optarg, 1, 1e12, &v) || v != floor(v))
				goto bad;
			o->count = (uint64_t)v;
			break;
		case 'm':
			for (const char *p = optarg; *p; p++)
				if (!(*p >= 'A' && *p <= 'Z') && *p != '-' && *p != '_')
					goto bad;
			if (!*optarg)
				goto bad;
			o->method = optarg;
			break;
		case 1:
			if (!path_ok(optarg))
				goto bad;
			o->path = optarg;
			break;
		case 2:
			o->paths_file = optarg;
			break;
		case 'b':
			if (!parse_size(optarg, &o->body))
				goto bad;
			break;
		case 'H':
			if (o->n_headers >= 32 || !header_ok(optarg))
				goto bad;
			o->headers[o->n_headers++] = optarg;
			break;
		case 3:
			if (!parse_num(optarg, 1, 3600e3, &v))
				goto bad;
			o->timeout_ms = v;
			break;
		case 'q':
			o->quiet = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
		continue;
bad:
		fprintf(stderr, "http-load: invalid value '%s' (see --help)\n", optarg);
		return -1;
	}
	if (optind < argc) {
		fprintf(stderr, "http-load: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	if (!o->port || !o->rate) {
		fprintf(stderr, "http-load: -p PORT and -R RATE are required (see --help)\n");
		return -1;
	}
	return 0;
}

static int raise_fd_limit(unsigned conns)
{
	struct rlimit rl;
	rlim_t need = (rlim_t)conns + 16;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= need)
		return 0;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need) {
		fprintf(stderr, "http-load: %u connections need %lu file descriptors, the hard "
				"limit is %lu\n", conns, (unsigned long)need,
			(unsigned long)rl.rlim_max);
		return -1;
	}
	rl.rlim_cur = need;
	return setrlimit(RLIMIT_NOFILE, &rl);
}

static void report(const struct load *L, double elapsed_s)
{
	uint64_t errors = 0;
	double us[5] = {
		lat_hist_quantile(&L->hist, 0.50) / 1e3, lat_hist_quantile(&L->hist, 0.90) / 1e3,
		lat_hist_quantile(&L->hist, 0.99) / 1e3, lat_hist_quantile(&L->hist, 0.999) / 1e3,
		L->hist.count ? L->hist.max / 1e3 : 0,
	};

	for (int k = 0; k < ERR_COUNT; k++)
		errors += L->errs[k];
	if (!L->o.quiet) {
		printf("http-load: 127.0.0.1:%ld %s, %.0f req/s offered over %u connections\n",
		       L->o.port, L->o.method, L->o.rate, L->o.conns);
		printf("  scheduled %" PRIu64 ", sent %" PRIu64 ", ok %" PRIu64 " in %.2f s "
		       "(%.1f ok/s)\n", L->total, L->sent, L->ok, elapsed_s,
		       elapsed_s > 0 ? L->ok / elapsed_s : 0);
		printf("  errors %" PRIu64 ":", errors);
		for (int k = 0; k < ERR_COUNT; k++)
			printf(" %s %" PRIu64, err_names[k], L->errs[k]);
		printf("\n");
		if (L->first_bad)
			printf("  first malformed answer: %s\n", L->first_bad);
		printf("  connections opened %" PRIu64 ", failed %" PRIu64 ", closed by the server "
		       "while idle %" PRIu64 "\n", L->connects, L->connect_failures,
		       L->closed_by_peer);
		printf("  latency from the scheduled time (us): p50 %.0f  p90 %.0f  p99 %.0f  "
		       "p99.9 %.0f  max %.0f\n", us[0], us[1], us[2], us[3], us[4]);
	}
	printf("RESULT scheduled=%" PRIu64 " sent=%" PRIu64 " ok=%" PRIu64 " errors=%" PRIu64,
	       L->total, L->sent, L->ok, errors);
	for (int k = 0; k < ERR_COUNT; k++)
		printf(" err_%s=%" PRIu64, err_names[k], L->errs[k]);
	printf(" rate=%.1f p50_us=%.0f p90_us=%.0f p99_us=%.0f p999_us=%.0f max_us=%.0f "
	       "connects=%" PRIu64 " connect_failures=%" PRIu64 "\n",
	       elapsed_s > 0 ? L->sent / elapsed_s : 0, us[0], us[1], us[2], us[3], us[4],
	       L->connects, L->connect_failures);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	static struct load L;
	struct epoll_event tev = { .events = EPOLLIN, .data.u32 = UINT32_MAX };
	struct sigaction sa = { .sa_handler = on_signal };
	uint64_t start;
	int rc = 0;

	if (parse_options(argc, argv, &L.o) < 0)
		return 2;
	if (raise_fd_limit(L.o.conns) < 0)
		return 2;
	L.addr.sin_family = AF_INET;
	L.addr.sin_port = htons((uint16_t)L.o.port);
	L.addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	L.head_method = strcmp(L.o.method, "HEAD") == 0;
	L.interval_ns = (uint64_t)llround(1e9 / L.o.rate);
	if (!L.interval_ns)
		L.interval_ns = 1;
	L.timeout_ns = (uint64_t)(L.o.timeout_ms * 1e6);
	L.total = L.o.count ? L.o.count : (uint64_t)floor(L.o.duration_s * L.o.rate);
	if (!L.total)
		L.total = 1;
	lat_hist_init(&L.hist);
	if (L.o.paths_file) {
		if (load_paths(&L) < 0)
			return 2;
	} else {
		L.reqs = calloc(1, sizeof(*L.reqs));
		if (!L.reqs || req_build(L.reqs, &L.o, L.o.path) < 0) {
			fprintf(stderr, "http-load: out of memory for the request\n");
			return 2;
		}
		L.n_reqs = 1;
	}
	L.c = calloc(L.o.conns, sizeof(*L.c));
	L.ring = calloc(L.o.conns, sizeof(*L.ring));
	L.ep = epoll_create1(EPOLL_CLOEXEC);
	L.tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (!L.c || !L.ring || L.ep < 0 || L.tfd < 0 ||
	    epoll_ctl(L.ep, EPOLL_CTL_ADD, L.tfd, &tev) < 0) {
		fprintf(stderr, "http-load: cannot set up: %s\n", strerror(errno));
		return 2;
	}
	for (unsigned i = 0; i < L.o.conns; i++)
		L.c[i].fd = -1;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	start = now_ns();
	run(&L);
	report(&L, (double)(now_ns() - (L.t0 > start ? L.t0 : start)) / 1e9);

	if (L.connects && L.connect_failures == L.connects)
		rc = 2;
	else if (L.ok != L.total)
		rc = 1;
	for (unsigned i = 0; i < L.o.conns; i++)
		conn_close(&L, &L.c[i]);
	for (size_t i = 0; i < L.n_reqs; i++)
		free(L.reqs[i].buf);
	free(L.reqs);
	free(L.c);
	free(L.ring);
	close(L.ep);
	close(L.tfd);
	return rc;
}

/* http-sink: the shadow backend for benchmarks and reliability tests. An
 * HTTP/1.1 server on one epoll thread that counts requests and body bytes
 * and answers them, fast or badly on purpose (--mode). The counts are at
 * GET /__count (JSON), in --stats-file on SIGUSR1 and at exit. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "http_reqparse.h"

#define IN_CAP (64u * 1024u)
#define HEAD_MAX (IN_CAP - 1024u)

enum mode { M_OK, M_STATUS, M_RESET, M_BLACKHOLE, M_SLOW, M_DELAY };

struct counts {
	uint64_t requests;     /* heads received (not /__ control requests) */
	uint64_t completed;    /* whole requests, body included */
	uint64_t body_bytes;
	uint64_t answered;     /* responses queued in full */
	uint64_t connections;
	uint64_t active;
	uint64_t resets;       /* connections reset on purpose (--mode reset) */
	uint64_t parse_errors;
};

struct sconn {
	int fd;
	uint64_t gen;          /* tells a reused fd slot from the connection a delay was for */
	struct http_reqparse hp;
	char in[IN_CAP];
	size_t in_len;
	char *out;
	size_t out_off, out_len, out_cap;
	bool close_after;      /* close once out is flushed */
	bool stop_reading;     /* a close is pending: ignore what follows */
	bool want_out;
	bool control;          /* current request is /__count or /__reset */
	bool head_seen;        /* on_head() ran for the current request */
};

/* --mode delay: responses due in arrival order, so one FIFO serves all. */
struct delayed {
	int fd;
	uint64_t gen;
	uint64_t due_ns;
	bool close_after;
};

struct sink {
	enum mode mode;
	int status;
	unsigned delay_ms;
	int ep, lfd, sfd, tfd, slow_tfd;
	struct sconn **tab;
	size_t tab_cap;
	uint64_t next_gen;
	struct counts c;
	const char *stats_file;
	FILE *log;
	struct delayed *dq;
	size_t dq_head, dq_len, dq_cap;
	bool running;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int counts_json(const struct counts *c, char *buf, size_t cap)
{
	return snprintf(buf, cap,
			"{\"requests\":%" PRIu64 ",\"completed\":%" PRIu64 ",\"body_bytes\":%" PRIu64
			",\"answered\":%" PRIu64 ",\"connections\":%" PRIu64 ",\"active\":%" PRIu64
			",\"resets\":%" PRIu64 ",\"parse_errors\":%" PRIu64 "}",
			c->requests, c->completed, c->body_bytes, c->answered, c->connections,
			c->active, c->resets, c->parse_errors);
}

static void write_stats(const struct sink *s)
{
	char buf[512], tmp[4096];
	FILE *f;

	if (!s->stats_file)
		return;
	counts_json(&s->c, buf, sizeof(buf));
	snprintf(tmp, sizeof(tmp), "%s.tmp", s->stats_file);
	f = fopen(tmp, "w");
	if (!f) {
		fprintf(stderr, "http-sink: cannot write %s: %s\n", tmp, strerror(errno));
		return;
	}
	fprintf(f, "%s\n", buf);
	if (fclose(f) == 0)
		rename(tmp, s->stats_file);
}

static void ep_set(struct sink *s, struct sconn *c, bool out)
{
	struct epoll_event ev = { .events = EPOLLIN | (out ? EPOLLOUT : 0), .data.fd = c->fd };

	if (c->want_out == out)
		return;
	c->want_out = out;
	epoll_ctl(s->ep, EPOLL_CTL_MOD, c->fd, &ev);
}

static void conn_close(struct sink *s, struct sconn *c, bool reset)
{
	if (reset) {
		struct linger lg = { .l_onoff = 1, .l_linger = 0 };

		/* linger 0: close() sends RST instead of FIN */
		setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	}
	s->tab[c->fd] = NULL;
	close(c->fd);
	s->c.active--;
	free(c->out);
	free(c);
}

static int out_append(struct sconn *c, const char *data, size_t n)
{
	if (c->out_len + n > c->out_cap) {
		size_t cap = c->out_cap ? c->out_cap : 256;
		char *nb;

		if (c->out_off) {
			memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
			c->out_len -= c->out_off;
			c->out_off = 0;
		}
		while (cap < c->out_len + n)
			cap *= 2;
		nb = realloc(c->out, cap);
		if (!nb)
			return -1;
		c->out = nb;
		c->out_cap = cap;
	}
	memcpy(c->out + c->out_len, data, n);
	c->out_len += n;
	return 0;
}

/* Writes what is queued (one byte only in slow mode, from its timer).
 * Returns -1 when the connection was closed. */
static int conn_flush(struct sink *s, struct sconn *c, size_t max)
{
	while (c->out_off < c->out_len && max) {
		size_t n = c->out_len - c->out_off < max ? c->out_len - c->out_off : max;
		ssize_t w = send(c->fd, c->out + c->out_off, n, MSG_NOSIGNAL);

		if (w > 0) {
			c->out_off += (size_t)w;
			max -= (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			ep_set(s, c, true);
			return 0;
		}
		conn_close(s, c, false);
		return -1;
	}
	if (c->out_off == c->out_len) {
		c->out_off = c->out_len = 0;
		ep_set(s, c, false);
		if (c->close_after) {
			conn_close(s, c, false);
			return -1;
		}
	}
	return 0;
}

static const char *reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 404:
		return "Not Found";
	case 500:
		return "Internal Server Error";
	case 502:
		return "Bad Gateway";
	case 503:
		return "Service Unavailable";
	default:
		return "Status";
	}
}

static int queue_response(struct sconn *c, int status, const char *body, bool close_after)
{
	char head[256];
	size_t blen = body ? strlen(body) : 0;
	int n = snprintf(head, sizeof(head),
			 "HTTP/1.1 %d %s\r\nContent-Length: %zu\r\n%s%s\r\n", status,
			 reason(status), blen, body ? "Content-Type: application/json\r\n" : "",
			 close_after ? "Connection: close\r\n" : "");

	if (out_append(c, head, (size_t)n) < 0 || (blen && out_append(c, body, blen) < 0))
		return -1;
	if (close_after) {
		c->close_after = true;
		c->stop_reading = true;
	}
	return 0;
}

static bool is_control(const struct http_reqparse *hp)
{
	return strncmp(hp->target, "/__count", 8) == 0 || strncmp(hp->target, "/__reset", 8) == 0;
}

static int answer_control(struct sink *s, struct sconn *c)
{
	char body[512];

	if (strncmp(c->hp.target, "/__reset", 8) == 0) {
		uint64_t conns = s->c.connections, active = s->c.active;

		memset(&s->c, 0, sizeof(s->c));
		s->c.connections = conns;
		s->c.active = active;
	}
	counts_json(&s->c, body, sizeof(body));
	return queue_response(c, 200, body, !c->hp.keep_alive);
}

static int delay_push(struct sink *s, struct sconn *c, bool close_after)
{
	struct delayed d = { c->fd, c->gen, now_ns() + (uint64_t)s->delay_ms * 1000000ull,
			     close_after };

	if (s->dq_len == s->dq_cap) {
		size_t cap = s->dq_cap ? s->dq_cap * 2 : 1024;
		struct delayed *nq = malloc(cap * sizeof(*nq));

		if (!nq)
			return -1;
		for (size_t i = 0; i < s->dq_len; i++)
			nq[i] = s->dq[(s->dq_head + i) % s->dq_cap];
		free(s->dq);
		s->dq = nq;
		s->dq_cap = cap;
		s->dq_head = 0;
	}
	s->dq[(s->dq_head + s->dq_len) % s->dq_cap] = d;
	if (s->dq_len++ == 0) {
		struct itimerspec its = { .it_value = { (time_t)(s->delay_ms / 1000),
							(long)(s->delay_ms % 1000) * 1000000L } };

		if (!s->delay_ms)
			its.it_value.tv_nsec = 1;
		timerfd_settime(s->tfd, 0, &its, NULL);
	}
	if (close_after)
		c->stop_reading = true;
	return 0;
}

static void delay_fire(struct sink *s)
{
	uint64_t now = now_ns(), ticks;

	if (read(s->tfd, &ticks, sizeof(ticks)) < 0)
		(void)0; /* spurious wake-up */
	while (s->dq_len) {
		struct delayed *d = &s->dq[s->dq_head];
		struct sconn *c;

		if (d->due_ns > now) {
			uint64_t left = d->due_ns - now;
			struct itimerspec its = { .it_value = { (time_t)(left / 1000000000ull),
								(long)(left % 1000000000ull) } };

			timerfd_settime(s->tfd, 0, &its, NULL);
			return;
		}
		s->dq_head = (s->dq_head + 1) % s->dq_cap;
		s->dq_len--;
		c = (size_t)d->fd < s->tab_cap ? s->tab[d->fd] : NULL;
		if (!c || c->gen != d->gen)
			continue; /* the client went away meanwhile */
		if (queue_response(c, 200, NULL, d->close_after) == 0) {
			s->c.answered++;
			conn_flush(s, c, SIZE_MAX);
		}
	}
}

/* A request's head arrived. Returns -1 when the connection is gone. */
static int on_head(struct sink *s, struct sconn *c)
{
	c->head_seen = true;
	c->control = is_control(&c->hp);
	if (c->control)
		return 0;
	s->c.requests++;
	if (s->mode == M_RESET) {
		s->c.resets++;
		conn_close(s, c, true);
		return -1;
	}
	if (c->hp.expect_continue && s->mode != M_BLACKHOLE)
		out_append(c, "HTTP/1.1 100 Continue\r\n\r\n", 25);
	return 0;
}

/* A whole request arrived. Returns -1 when the connection is gone. */
static int on_request(struct sink *s, struct sconn *c)
{
	bool close_after = !c->hp.keep_alive;
	int rc = 0;

	if (c->control)
		return answer_control(s, c);
	s->c.completed++;
	s->c.body_bytes += c->hp.body_bytes;
	if (s->log) {
		fprintf(s->log, "%s %s %" PRIu64 " %s\n", c->hp.method, c->hp.target,
			c->hp.body_bytes, c->hp.host[0] ? c->hp.host : "-");
		fflush(s->log);
	}
	switch (s->mode) {
	case M_OK:
	case M_SLOW:
		rc = queue_response(c, 200, NULL, close_after);
		s->c.answered++;
		break;
	case M_STATUS:
		rc = queue_response(c, s->status, NULL, close_after);
		s->c.answered++;
		break;
	case M_DELAY:
		rc = delay_push(s, c, close_after);
		break;
	case M_BLACKHOLE:
	case M_RESET:
		break;
	}
	return rc;
}

static void conn_read(struct sink *s, struct sconn *c)
{
	for (;;) {
		ssize_t n;
		size_t off = 0, space;

		if (c->stop_reading) {
			char drop[4096];

			/* a close is pending: drain and ignore what the client still sends */
			n = recv(c->fd, drop, sizeof(drop), 0);
			if (n > 0 || (n < 0 && errno == EINTR))
				continue;
			if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
				break;
			conn_close(s, c, false);
			return;
		}
		space = IN_CAP - c->in_len;
		n = recv(c->fd, c->in + c->in_len, space, 0);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
			conn_close(s, c, false);
			return;
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		c->in_len += (size_t)n;
		while (off < c->in_len && !c->stop_reading) {
			size_t used;
			enum hp_rc rc = hp_feed(&c->hp, c->in + off, c->in_len - off, &used);

			off += used;
			if (rc == HP_ERROR) {
				s->c.parse_errors++;
				queue_response(c, 400, NULL, true);
				break;
			}
			/* a body-less request is a head and a whole request at once */
			if ((rc == HP_HEAD || rc == HP_DONE) && !c->head_seen && on_head(s, c) < 0)
				return;
			if (rc == HP_DONE) {
				if (on_request(s, c) < 0) {
					conn_close(s, c, false);
					return;
				}
				hp_reset(&c->hp);
				c->head_seen = false;
			}
			if (rc == HP_NEED_MORE)
				break;
		}
		memmove(c->in, c->in + off, c->in_len - off);
		c->in_len -= off;
		if (c->in_len == IN_CAP) {
			s->c.parse_errors++;
			queue_response(c, 400, NULL, true);
		}
		/* a short read took all there was: the socket is level-triggered,
		 * so a recv that would only say EAGAIN is one syscall per request
		 * saved (the sink must cost the benchmark little) */
		if ((size_t)n < space)
			break;
	}
	if (s->mode != M_SLOW)
		conn_flush(s, c, SIZE_MAX);
}

static void on_accept(struct sink *s)
{
	for (;;) {
		int fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		int one = 1;
		struct sconn *c;
		struct epoll_event ev = { .events = EPOLLIN };

		if (fd < 0)
			return;
		if ((size_t)fd >= s->tab_cap) {
			size_t cap = s->tab_cap ? s->tab_cap : 1024;
			struct sconn **nt;

			while (cap <= (size_t)fd)
				cap *= 2;
			nt = realloc(s->tab, cap * sizeof(*nt));
			if (!nt) {
				close(fd);
				continue;
			}
			memset(nt + s->tab_cap, 0, (cap - s->tab_cap) * sizeof(*nt));
			s->tab = nt;
			s->tab_cap = cap;
		}
		c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			continue;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c->fd = fd;
		c->gen = ++s->next_gen;
		hp_init(&c->hp, HEAD_MAX);
		ev.data.fd = fd;
		if (epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
			close(fd);
			free(c);
			continue;
		}
		s->tab[fd] = c;
		s->c.connections++;
		s->c.active++;
	}
}

/* --mode slow: one byte per connection per tick. */
static void slow_tick(struct sink *s)
{
	uint64_t ticks;

	if (read(s->slow_tfd, &ticks, sizeof(ticks)) < 0)
		return;
	for (size_t fd = 0; fd < s->tab_cap; fd++)
		if (s->tab[fd] && s->tab[fd]->out_off < s->tab[fd]->out_len)
			conn_flush(s, s->tab[fd], 1);
}

static void on_signal(struct sink *s)
{
	struct signalfd_siginfo si;
	char buf[512];

	while (read(s->sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGUSR1) {
			counts_json(&s->c, buf, sizeof(buf));
			fprintf(stderr, "http-sink: %s\n", buf);
			write_stats(s);
		} else {
			s->running = false;
		}
	}
}

static int parse_mode(struct sink *s, const char *m)
{
	char *end;
	long v;

	if (strcmp(m, "ok") == 0)
		s->mode = M_OK;
	else if (strcmp(m, "reset") == 0)
		s->mode = M_RESET;
	else if (strcmp(m, "blackhole") == 0)
		s->mode = M_BLACKHOLE;
	else if (strcmp(m, "slow") == 0)
		s->mode = M_SLOW;
	else if (strncmp(m, "status:", 7) == 0) {
		v = strtol(m + 7, &end, 10);
		if (*end || end == m + 7 || v < 100 || v > 599)
			return -1;
		s->mode = M_STATUS;
		s->status = (int)v;
	} else if (strncmp(m, "delay:", 6) == 0) {
		v = strtol(m + 6, &end, 10);
		if (*end || end == m + 6 || v < 0 || v > 3600000)
			return -1;
		s->mode = M_DELAY;
		s->delay_ms = (unsigned)v;
	} else {
		return -1;
	}
	return 0;
}

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: http-sink [options]\n"
		"An HTTP/1.1 sink for benchmarks and tests: counts requests and body bytes.\n"
		"  -a, --address ADDR     listen address (default 127.0.0.1)\n"
		"  -p, --port PORT        listen port (default 0: a free one)\n"
		"      --port-file FILE   write the port there once listening\n"
		"      --mode MODE        ok (default) | status:NNN | reset (RST once a\n"
		"                         request's head arrived) | blackhole (never answer)\n"
		"                         | slow (answer one byte per second) | delay:MS\n"
		"      --stats-file FILE  counts as JSON, written on SIGUSR1 and at exit\n"
		"      --log FILE         one line per request: METHOD TARGET BODY_BYTES HOST\n"
		"      --max-runtime SEC  exit after SEC seconds (default 0: run until signalled)\n"
		"  -h, --help\n"
		"Prints 'PORT n' on stdout once listening. GET /__count answers the counts\n"
		"as JSON (in every mode; not counted); GET /__reset zeroes them. SIGTERM or\n"
		"SIGINT: write the stats file and exit 0.\n");
}

static int listen_on(struct sink *s, const char *addr, long port, const char *port_file)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	socklen_t len = sizeof(sa);
	int one = 1;
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = -1 };

	if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
		fprintf(stderr, "http-sink: --address '%s' is not an IPv4 address\n", addr);
		return -1;
	}
	s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->lfd < 0)
		return -1;
	setsockopt(s->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(s->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(s->lfd, 4096) < 0 ||
	    getsockname(s->lfd, (struct sockaddr *)&sa, &len) < 0) {
		fprintf(stderr, "http-sink: cannot listen on %s:%ld: %s\n", addr, port,
			strerror(errno));
		return -1;
	}
	if (epoll_ctl(s->ep, EPOLL_CTL_ADD, s->lfd, &ev) < 0)
		return -1;
	if (port_file) {
		FILE *f = fopen(port_file, "w");

		if (!f || fprintf(f, "%u\n", ntohs(sa.sin_port)) < 0 || fclose(f) != 0) {
			fprintf(stderr, "http-sink: cannot write %s\n", port_file);
			return -1;
		}
	}
	printf("PORT %u\n", ntohs(sa.sin_port));
	fflush(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "address", required_argument, NULL, 'a' },
		{ "port", required_argument, NULL, 'p' },
		{ "port-file", required_argument, NULL, 'P' },
		{ "mode", required_argument, NULL, 'm' },
		{ "stats-file", required_argument, NULL, 's' },
		{ "log", required_argument, NULL, 'l' },
		{ "max-runtime", required_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sink s = { .mode = M_OK, .ep = -1, .lfd = -1, .sfd = -1, .tfd = -1,
			  .slow_tfd = -1, .running = true };
	const char *addr = "127.0.0.1", *port_file = NULL, *log_file = NULL;
	long port = 0;
	double max_runtime = 0;
	uint64_t deadline = 0;
	sigset_t mask;
	struct epoll_event ev = { .events = EPOLLIN };
	int ch;

	while ((ch = getopt_long(argc, argv, "a:p:h", opts, NULL)) != -1) {
		char *end;

		switch (ch) {
		case 'a':
			addr = optarg;
			break;
		case 'p':
			port = strtol(optarg, &end, 10);
			if (*end || end == optarg || port < 0 || port > 65535) {
				fprintf(stderr, "http-sink: invalid --port '%s'\n", optarg);
				return 2;
			}
			break;
		case 'P':
			port_file = optarg;
			break;
		case 'm':
			if (parse_mode(&s, optarg) < 0) {
				fprintf(stderr, "http-sink: invalid --mode '%s' (see --help)\n", optarg);
				return 2;
			}
			break;
		case 's':
			s.stats_file = optarg;
			break;
		case 'l':
			log_file = optarg;
			break;
		case 'T':
			max_runtime = strtod(optarg, &end);
			if (*end || end == optarg || max_runtime < 0) {
				fprintf(stderr, "http-sink: invalid --max-runtime '%s'\n", optarg);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "http-sink: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	if (log_file && !(s.log = fopen(log_file, "w"))) {
		fprintf(stderr, "http-sink: cannot open --log %s: %s\n", log_file, strerror(errno));
		return 2;
	}
	sigemptyset(&mask);
	sigaddset(&mask, SIGUSR1);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	s.ep = epoll_create1(EPOLL_CLOEXEC);
	s.sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	s.tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	s.slow_tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (s.ep < 0 || s.sfd < 0 || s.tfd < 0 || s.slow_tfd < 0) {
		fprintf(stderr, "http-sink: cannot set up epoll: %s\n", strerror(errno));
		return 1;
	}
	ev.data.fd = -2;
	epoll_ctl(s.ep, EPOLL_CTL_ADD, s.sfd, &ev);
	ev.data.fd = -3;
	epoll_ctl(s.ep, EPOLL_CTL_ADD, s.tfd, &ev);
	if (s.mode == M_SLOW) {
		struct itimerspec its = { .it_interval = { 1, 0 }, .it_value = { 1, 0 } };

		timerfd_settime(s.slow_tfd, 0, &its, NULL);
		ev.data.fd = -4;
		epoll_ctl(s.ep, EPOLL_CTL_ADD, s.slow_tfd, &ev);
	}
	if (listen_on(&s, addr, port, port_file) < 0)
		return 1;
	if (max_runtime > 0)
		deadline = now_ns() + (uint64_t)(max_runtime * 1e9);

	while (s.running) {
		struct epoll_event evs[256];
		int n = epoll_wait(s.ep, evs, 256, 200);

		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			struct sconn *c;

			if (fd == -1) {
				on_accept(&s);
				continue;
			}
			if (fd == -2) {
				on_signal(&s);
				continue;
			}
			if (fd == -3) {
				delay_fire(&s);
				continue;
			}
			if (fd == -4) {
				slow_tick(&s);
				continue;
			}
			c = (size_t)fd < s.tab_cap ? s.tab[fd] : NULL;
			if (!c)
				continue;
			if (evs[i].events & EPOLLOUT) {
				/* slow mode writes from its timer only */
				if (s.mode == M_SLOW)
					ep_set(&s, c, false);
				else if (conn_flush(&s, c, SIZE_MAX) < 0)
					continue;
			}
			if (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))
				conn_read(&s, c);
		}
		if (deadline && now_ns() >= deadline)
			s.running = false;
	}
	write_stats(&s);
	for (size_t fd = 0; fd < s.tab_cap; fd++)
		if (s.tab[fd])
			conn_close(&s, s.tab[fd], false);
	free(s.tab);
	free(s.dq);
	if (s.log)
		fclose(s.log);
	close(s.lfd);
	return 0;
}

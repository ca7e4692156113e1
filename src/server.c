/* Listener and per-connection socket I/O on the main libev loop. */
#include "server.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "listener.h"
#include "log.h"

/* Stop reading a peer that does not read its ACKs. */
#define OUTPUT_HIGH_WATER (256u * 1024)
/* Bound the work done for one connection per loop iteration: reads, and
 * bytes, so that hundreds of peers filling big frames at once cost each
 * loop iteration milliseconds, not the whole flood (ACK latency of the
 * others). */
#define READS_PER_EVENT 16
#define READ_BYTES_PER_EVENT (64u * 1024)
/* Reads into big frame buffers (more room than a small frame needs) share
 * this many bytes per loop iteration, all connections together: peers
 * filling big frames wait a turn, peers with small frames never do. */
#define SMALL_READ (16u * 1024)
#define BIG_READ_BYTES_PER_LOOP (256u * 1024)
#define LINGER_SECONDS 5.0

struct client {
	struct server *srv;
	struct client *prev;
	struct client *next;
	int fd;
	ev_io io;
	ev_timer timer;          /* idle timeout, then linger when closing */
	ev_timer delay;          /* -t: holds output back to test HAProxy's timeouts */
	struct spop_conn *conn;
	bool writing;            /* EV_WRITE armed */
	bool reading;            /* EV_READ armed */
	bool closing_at_boundary; /* shutdown asked: DISCONNECT at next frame boundary */
	bool lingering;          /* closing, waiting for the output to drain */
	bool waiting_memory;     /* not reading until the budget has room */
	char peer[64];
};

/* repeated errors: one line, then a count, per interval (0 in settings) */
#define SERVER_DEFAULT_LOG_INTERVAL_MS 5000
/* what the rate-limited log lines' summaries call them */
#define PROTOCOL_ERRORS "SPOP protocol errors"
#define REFUSED_CONNECTIONS "refused SPOP connections"
#define ACCEPT_ERRORS "accept errors"
#define LIMIT_CLOSES "SPOP connections over the memory or frame time limits"

struct server {
	struct ev_loop *loop;
	struct server_settings settings;
	struct conn_handler handler;
	struct spop_stats *stats;
	int listen_fd;
	const char *unix_path; /* listening on this UNIX socket (settings' string) */
	struct listener_unix_file unix_file;
	ev_io accept_io;
	bool accepting;
	int spare_fd; /* given up to accept-and-close when out of descriptors */
	struct client *clients;
	unsigned n_clients;
	uint16_t bound_port;
	struct log_ratelimit refuse_log;
	struct log_ratelimit protocol_log;
	struct log_ratelimit accept_log;
	struct log_ratelimit limit_log;
	/* connections waiting for room in the memory budget, woken before
	 * the loop polls again once bytes came back */
	ev_prepare wake;
	size_t big_read_left; /* this loop iteration's, see BIG_READ_BYTES_PER_LOOP */
	unsigned n_waiting;
	uint64_t released_seen;
	/* shutdown */
	ev_timer grace;
	void (*shutdown_done)(void *);
	void *shutdown_arg;
	bool shutting_down;
};

static void client_close(struct client *cl);
static void client_io_cb(struct ev_loop *loop, ev_io *w, int revents);
static void client_delay_cb(struct ev_loop *loop, ev_timer *w, int revents);

static int set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL, 0);

	return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static void format_peer(const struct sockaddr_storage *ss, char *out, size_t len)
{
	char host[INET6_ADDRSTRLEN];
	unsigned port = listener_host((const struct sockaddr *)ss, host, sizeof(host));

	if (ss->ss_family == AF_INET6)
		snprintf(out, len, "[%s]:%u", host, port);
	else if (ss->ss_family == AF_INET)
		snprintf(out, len, "%s:%u", host, port);
	else if (ss->ss_family == AF_UNIX)
		snprintf(out, len, "unix"); /* HAProxy binds no name: the peer has none */
	else
		snprintf(out, len, "unknown");
}

/* ------------------------------------------------------------------ */
/* per connection                                                      */

static void client_set_events(struct client *cl, bool want_read, bool want_write)
{
	if (want_read == cl->reading && want_write == cl->writing)
		return;
	ev_io_stop(cl->srv->loop, &cl->io);
	cl->reading = want_read;
	cl->writing = want_write;
	if (want_read || want_write) {
		ev_io_set(&cl->io, cl->fd, (want_read ? EV_READ : 0) | (want_write ? EV_WRITE : 0));
		ev_io_start(cl->srv->loop, &cl->io);
	}
}

/* Writes what the state machine produced. False when the client is gone. */
static bool client_flush(struct client *cl)
{
	for (;;) {
		size_t len;
		const uint8_t *out = conn_output(cl->conn, &len);
		ssize_t n;

		if (len == 0)
			break;
		n = send(cl->fd, out, len, MSG_NOSIGNAL);
		if (n > 0) {
			conn_output_consume(cl->conn, (size_t)n);
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n < 0 && errno == EINTR)
			continue;
		log_debug("spop %s: write failed: %s", cl->peer, strerror(errno));
		client_close(cl);
		return false;
	}
	return true;
}

/* After any progress: flush, then decide what to wait for next. */
/* Keeps the server's count of connections waiting for memory. */
static void client_note_waiting(struct client *cl)
{
	bool waiting = conn_waiting_memory(cl->conn) && conn_phase(cl->conn) != CONN_CLOSING;

	if (waiting != cl->waiting_memory) {
		cl->waiting_memory = waiting;
		if (waiting)
			cl->srv->n_waiting++;
		else
			cl->srv->n_waiting--;
	}
}

static void client_update(struct client *cl)
{
	size_t pending;

	client_note_waiting(cl);
	if (cl->closing_at_boundary && !conn_mid_frame(cl->conn))
		conn_close(cl->conn, SPOP_STATUS_NONE, "agent shutting down");
	if (cl->srv->settings.processing_delay_ms && conn_phase(cl->conn) != CONN_CLOSING) {
		/* the incumbent's -t: answers leave after the delay */
		conn_output(cl->conn, &pending);
		if (pending && !ev_is_active(&cl->delay)) {
			ev_timer_set(&cl->delay, cl->srv->settings.processing_delay_ms / 1000.0, 0);
			ev_timer_start(cl->srv->loop, &cl->delay);
		}
		client_set_events(cl, pending < OUTPUT_HIGH_WATER && !cl->waiting_memory, false);
		return;
	}
	if (!client_flush(cl))
		return;
	conn_output(cl->conn, &pending);
	if (conn_phase(cl->conn) == CONN_CLOSING) {
		if (pending == 0) {
			client_close(cl);
			return;
		}
		if (!cl->lingering) {
			/* the timer now bounds how long we wait for the peer to
			 * take our last frame */
			cl->lingering = true;
			cl->timer.repeat = LINGER_SECONDS;
			ev_timer_again(cl->srv->loop, &cl->timer);
		}
		client_set_events(cl, false, true);
		return;
	}
	client_set_events(cl, pending < OUTPUT_HIGH_WATER && !cl->waiting_memory, pending > 0);
}

/* Seconds until the client's timer must look again: the pending frame's
 * deadline or the idle timeout, whichever is first; 0 = neither. */
static ev_tstamp client_next_check(const struct client *cl, uint64_t now)
{
	uint64_t idle_ms = cl->srv->settings.idle_timeout_ms;
	uint64_t at = idle_ms ? conn_last_frame_ns(cl->conn) + idle_ms * 1000000u : UINT64_MAX;
	uint64_t frame_at = conn_frame_deadline_ns(cl->conn);

	if (frame_at && frame_at < at)
		at = frame_at;
	if (at == UINT64_MAX)
		return 0;
	/* at least 1 ms: a repeat of 0 would stop the timer */
	return at > now + 1000000u ? (ev_tstamp)(at - now) / 1e9 : 0.001;
}

/* A frame started: its deadline may come before the timer's next look. */
static void client_watch_frame(struct client *cl)
{
	ev_tstamp next;

	if (cl->lingering || !conn_frame_deadline_ns(cl->conn))
		return;
	next = client_next_check(cl, conn_now_ns(cl->conn));
	if (!ev_is_active(&cl->timer) || next < ev_timer_remaining(cl->srv->loop, &cl->timer)) {
		cl->timer.repeat = next;
		ev_timer_again(cl->srv->loop, &cl->timer);
	}
}

static void client_read(struct client *cl)
{
	size_t got = 0;

	for (int i = 0; i < READS_PER_EVENT && got < READ_BYTES_PER_EVENT; i++) {
		size_t avail;
		uint8_t *space = conn_input_space(cl->conn, &avail);
		ssize_t n;
		bool big;

		if (!space)
			break; /* closing (out of memory), or waiting for room in the budget */
		if (avail > READ_BYTES_PER_EVENT - got)
			avail = READ_BYTES_PER_EVENT - got;
		big = avail > SMALL_READ;
		if (big && avail > cl->srv->big_read_left)
			avail = cl->srv->big_read_left;
		if (!avail)
			break; /* its turn comes next iteration (the socket stays ready) */
		n = recv(cl->fd, space, avail, 0);
		if (n > 0) {
			size_t pending;

			conn_input_commit(cl->conn, (size_t)n);
			got += (size_t)n;
			if (big)
				cl->srv->big_read_left -= (size_t)n;
			if (conn_process(cl->conn) == CONN_CLOSING)
				break;
			if ((size_t)n < avail)
				break; /* socket drained */
			conn_output(cl->conn, &pending);
			if (pending >= OUTPUT_HIGH_WATER)
				break; /* the peer does not read its ACKs: no more now */
			continue;
		}
		if (n == 0) {
			if (conn_mid_frame(cl->conn))
				log_info("spop %s: peer closed mid-frame", cl->peer);
			else
				log_debug("spop %s: peer closed", cl->peer);
			client_close(cl);
			return;
		}
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			break;
		if (errno == EINTR)
			continue;
		log_debug("spop %s: read failed: %s", cl->peer, strerror(errno));
		client_close(cl);
		return;
	}
	if (conn_phase(cl->conn) == CONN_CLOSING && conn_close_status(cl->conn) != SPOP_STATUS_NONE)
		log_limited(&cl->srv->protocol_log, LOG_LVL_WARN, PROTOCOL_ERRORS,
			    "spop %s: %s (DISCONNECT status %d)", cl->peer,
			    conn_close_reason(cl->conn), conn_close_status(cl->conn));
	else
		client_watch_frame(cl);
	client_update(cl);
}

static void client_io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct client *cl = w->data;

	if (revents & EV_WRITE) {
		if (!client_flush(cl))
			return;
		if (!(revents & EV_READ)) {
			client_update(cl);
			return;
		}
	}
	if (revents & EV_READ)
		client_read(cl);
}

static void client_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct client *cl = w->data;
	uint64_t now = conn_now_ns(cl->conn);
	uint64_t idle_ns = now - conn_last_frame_ns(cl->conn);
	unsigned idle_ms = cl->srv->settings.idle_timeout_ms;

	if (conn_phase(cl->conn) == CONN_CLOSING) {
		/* the peer would not take our last frame: give up */
		client_close(cl);
		return;
	}
	if (conn_expire(cl->conn) == CONN_CLOSING) {
		/* a frame not complete in time, or no memory for it in time */
		log_limited(&cl->srv->limit_log, LOG_LVL_WARN, LIMIT_CLOSES,
			    "spop %s: %s (DISCONNECT status %d)", cl->peer,
			    conn_close_reason(cl->conn), conn_close_status(cl->conn));
		client_update(cl);
		return;
	}
	if (!idle_ms || idle_ns < (uint64_t)idle_ms * 1000000u) {
		w->repeat = client_next_check(cl, now);
		ev_timer_again(loop, w);
		return;
	}
	cl->srv->stats->conn_idle_closed++;
	log_info("spop %s: closing after %.0f s idle", cl->peer, idle_ns / 1e9);
	conn_close(cl->conn, SPOP_STATUS_TIMEOUT, "idle timeout");
	client_update(cl);
}

/* Before the loop polls: a new iteration's share of big reads; when the
 * budget got bytes back, connections that waited for room try again,
 * oldest first (the list's order is newest first, so the walk goes from the
 * tail). */
static void wake_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
	struct server *srv = w->data;
	const struct spop_budget *b = srv->settings.conn.budget;
	struct client *cl, *tail = NULL;

	srv->big_read_left = BIG_READ_BYTES_PER_LOOP;
	if (!b || !srv->n_waiting || b->released == srv->released_seen)
		return;
	srv->released_seen = b->released;
	for (cl = srv->clients; cl; cl = cl->next)
		tail = cl;
	for (cl = tail; cl && srv->n_waiting;) {
		struct client *prev = cl->prev;

		if (cl->waiting_memory)
			client_read(cl);
		cl = prev;
	}
}

static void client_delay_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct client *cl = w->data;

	if (client_flush(cl))
		client_update(cl);
}

static void client_close(struct client *cl)
{
	struct server *srv = cl->srv;

	ev_io_stop(srv->loop, &cl->io);
	ev_timer_stop(srv->loop, &cl->timer);
	ev_timer_stop(srv->loop, &cl->delay);
	if (cl->waiting_memory)
		srv->n_waiting--;
	close(cl->fd);
	if (cl->prev)
		cl->prev->next = cl->next;
	else
		srv->clients = cl->next;
	if (cl->next)
		cl->next->prev = cl->prev;
	srv->n_clients--;
	srv->stats->conn_open--;
	conn_free(cl->conn);
	free(cl);
	if (srv->shutting_down && srv->n_clients == 0) {
		ev_timer_stop(srv->loop, &srv->grace);
		if (srv->shutdown_done) {
			void (*done)(void *) = srv->shutdown_done;
			srv->shutdown_done = NULL;
			done(srv->shutdown_arg);
		}
	}
}

/* ------------------------------------------------------------------ */
/* listener                                                            */

static void refuse(struct server *srv, int fd, const char *peer, const char *why)
{
	close(fd);
	srv->stats->conn_refused++;
	log_limited(&srv->refuse_log, LOG_LVL_WARN, REFUSED_CONNECTIONS,
		    "spop: refusing %s: %s", peer, why);
}

int server_adopt(struct server *srv, int fd, const char *peer)
{
	struct client *cl;

	if (srv->n_clients >= srv->settings.max_connections) {
		refuse(srv, fd, peer, "connection limit reached (max-connections)");
		return -1;
	}
	if (set_nonblock(fd) < 0) {
		refuse(srv, fd, peer, "cannot make the socket non-blocking");
		return -1;
	}
	cl = calloc(1, sizeof(*cl));
	if (cl)
		cl->conn = conn_new(&srv->settings.conn, &srv->handler, srv->stats);
	if (!cl || !cl->conn) {
		free(cl);
		refuse(srv, fd, peer, "out of memory");
		return -1;
	}
	cl->srv = srv;
	cl->fd = fd;
	snprintf(cl->peer, sizeof(cl->peer), "%s", peer);
	ev_io_init(&cl->io, client_io_cb, fd, EV_READ);
	cl->io.data = cl;
	cl->reading = true;
	ev_io_start(srv->loop, &cl->io);
	ev_init(&cl->timer, client_timer_cb);
	cl->timer.data = cl;
	cl->timer.repeat = srv->settings.idle_timeout_ms / 1000.0;
	ev_timer_again(srv->loop, &cl->timer);
	ev_init(&cl->delay, client_delay_cb);
	cl->delay.data = cl;
	cl->next = srv->clients;
	if (srv->clients)
		srv->clients->prev = cl;
	srv->clients = cl;
	srv->n_clients++;
	srv->stats->conn_open++;
	srv->stats->conn_total++;
	if (srv->shutting_down)
		cl->closing_at_boundary = true;
	log_debug("spop %s: connected", cl->peer);
	return 0;
}

static void accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct server *srv = w->data;

	for (int i = 0; i < 64; i++) {
		struct sockaddr_storage ss;
		char peer[64];
		int one = 1;
		int fd = listener_accept(srv->listen_fd, &ss);

		if (fd < 0) {
			if ((errno == EMFILE || errno == ENFILE) && srv->spare_fd >= 0) {
				/* Out of descriptors: free the spare to accept and close
				 * the newcomer, so it is refused instead of left hanging
				 * in the backlog. */
				close(srv->spare_fd);
				fd = listener_accept(srv->listen_fd, &ss);
				if (fd >= 0) {
					format_peer(&ss, peer, sizeof(peer));
					refuse(srv, fd, peer, "out of file descriptors");
				}
				srv->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
				continue;
			}
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				log_limited(&srv->accept_log, LOG_LVL_WARN, ACCEPT_ERRORS,
					    "spop: accept failed: %s", strerror(errno));
			return;
		}
		format_peer(&ss, peer, sizeof(peer));
		/* ACKs are small and latency is the point */
		if (ss.ss_family != AF_UNIX)
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		server_adopt(srv, fd, peer);
	}
}

struct server *server_new(struct ev_loop *loop, const struct server_settings *s,
			  const struct conn_handler *h, struct spop_stats *stats)
{
	struct server *srv = calloc(1, sizeof(*srv));
	unsigned log_ms = s->log_interval_ms ? s->log_interval_ms : SERVER_DEFAULT_LOG_INTERVAL_MS;

	if (!srv)
		return NULL;
	srv->loop = loop;
	srv->settings = *s;
	srv->handler = *h;
	srv->stats = stats;
	srv->listen_fd = -1;
	srv->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	srv->refuse_log = (struct log_ratelimit)LOG_RATELIMIT_INIT(log_ms);
	srv->protocol_log = (struct log_ratelimit)LOG_RATELIMIT_INIT(log_ms);
	srv->accept_log = (struct log_ratelimit)LOG_RATELIMIT_INIT(log_ms);
	srv->limit_log = (struct log_ratelimit)LOG_RATELIMIT_INIT(log_ms);
	srv->big_read_left = BIG_READ_BYTES_PER_LOOP;
	ev_prepare_init(&srv->wake, wake_cb);
	srv->wake.data = srv;
	ev_prepare_start(loop, &srv->wake);
	ev_unref(loop); /* the watcher alone does not keep the loop running */
	return srv;
}

static void start_accepting(struct server *srv, int fd)
{
	srv->listen_fd = fd;
	ev_io_init(&srv->accept_io, accept_cb, fd, EV_READ);
	srv->accept_io.data = srv;
	ev_io_start(srv->loop, &srv->accept_io);
	srv->accepting = true;
}

/* The default keeps the socket to its owner and group: HAProxy's user gets
 * in through --socket-owner. */
#define SERVER_DEFAULT_SOCKET_MODE 0660

static int listen_unix(struct server *srv, const char *path, char *err, size_t errlen)
{
	struct listener_unix_access acc = srv->settings.unix_access;
	int fd;

	if (!acc.mode)
		acc.mode = SERVER_DEFAULT_SOCKET_MODE;
	fd = listener_open_unix(path, srv->settings.backlog, &acc, &srv->unix_file, err, errlen);
	if (fd < 0)
		return -1;
	srv->unix_path = path;
	start_accepting(srv, fd);
	return 0;
}

int server_listen(struct server *srv, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *res = NULL, *ai;
	const char *path = listener_unix_path(srv->settings.address);
	char port[8];
	int rc, fd = -1, last_errno = 0;

	if (path)
		return listen_unix(srv, path, err, errlen);
	snprintf(port, sizeof(port), "%u", srv->settings.port);
	rc = getaddrinfo(srv->settings.address, port, &hints, &res);
	if (rc != 0) {
		snprintf(err, errlen, "cannot resolve listen address '%s': %s",
			 srv->settings.address, gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai && fd < 0; ai = ai->ai_next) {
		fd = listener_open(ai->ai_addr, ai->ai_addrlen, srv->settings.backlog);
		if (fd < 0)
			last_errno = errno;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		snprintf(err, errlen, "cannot listen on %s:%u: %s", srv->settings.address,
			 srv->settings.port, strerror(last_errno));
		return -1;
	}
	srv->bound_port = listener_port(fd);
	start_accepting(srv, fd);
	return 0;
}

uint16_t server_port(const struct server *srv)
{
	return srv->bound_port;
}

void server_name(const struct server *srv, char *out, size_t len)
{
	if (srv->unix_path)
		snprintf(out, len, "unix:%s", srv->unix_path);
	else
		snprintf(out, len, "%s:%u", srv->settings.address, srv->bound_port);
}

bool server_accepting(const struct server *srv)
{
	return srv->accepting;
}

static void stop_listening(struct server *srv)
{
	if (srv->listen_fd >= 0) {
		ev_io_stop(srv->loop, &srv->accept_io);
		/* while the socket is open its inode cannot be reused, so the
		 * file compared is really ours */
		if (srv->unix_path)
			listener_unlink_unix(srv->unix_path, &srv->unix_file);
		srv->unix_path = NULL;
		close(srv->listen_fd);
		srv->listen_fd = -1;
	}
	srv->accepting = false;
}

static void grace_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct server *srv = w->data;

	if (srv->n_clients)
		log_info("spop: closing %u connection(s) still open after the grace period",
			 srv->n_clients);
	/* closing the last one runs the done callback */
	while (srv->clients)
		client_close(srv->clients);
}

void server_shutdown(struct server *srv, unsigned grace_ms, void (*done)(void *), void *arg)
{
	stop_listening(srv);
	srv->shutting_down = true;
	srv->shutdown_done = done;
	srv->shutdown_arg = arg;
	if (srv->n_clients == 0) {
		srv->shutdown_done = NULL;
		if (done)
			done(arg);
		return;
	}
	ev_timer_init(&srv->grace, grace_cb, grace_ms / 1000.0, 0);
	srv->grace.data = srv;
	ev_timer_start(srv->loop, &srv->grace);
	for (struct client *cl = srv->clients, *next; cl; cl = next) {
		next = cl->next;
		cl->closing_at_boundary = true;
		client_update(cl);
	}
}

void server_flush_logs(struct server *srv)
{
	log_ratelimit_flush(&srv->protocol_log, LOG_LVL_WARN, PROTOCOL_ERRORS);
	log_ratelimit_flush(&srv->refuse_log, LOG_LVL_WARN, REFUSED_CONNECTIONS);
	log_ratelimit_flush(&srv->accept_log, LOG_LVL_WARN, ACCEPT_ERRORS);
	log_ratelimit_flush(&srv->limit_log, LOG_LVL_WARN, LIMIT_CLOSES);
}

void server_free(struct server *srv)
{
	if (!srv)
		return;
	stop_listening(srv);
	srv->shutdown_done = NULL;
	srv->shutting_down = false;
	while (srv->clients)
		client_close(srv->clients);
	ev_timer_stop(srv->loop, &srv->grace);
	ev_ref(srv->loop);
	ev_prepare_stop(srv->loop, &srv->wake);
	if (srv->spare_fd >= 0)
		close(srv->spare_fd);
	free(srv);
}

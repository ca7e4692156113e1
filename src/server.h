/* The SPOP listener: accepts HAProxy's connections on the main libev loop
 * and moves bytes between each socket and its connection state machine
 * (conn.c). Knows sockets, not HTTP. */
#ifndef SPOA_MIRROR_SERVER_H
#define SPOA_MIRROR_SERVER_H

#include <stdbool.h>
#include <stdint.h>

#include <ev.h>

#include "conn.h"
#include "listener.h"
#include "stats.h"

struct server_settings {
	/* IPv4 or IPv6 literal or name ("0.0.0.0", "::"), or a UNIX socket
	 * path ("unix:/run/spoa-mirror.sock" or "/run/spoa-mirror.sock") */
	const char *address;
	uint16_t port;           /* 0 = any free port (tests); unused for UNIX */
	/* a UNIX socket's mode and owner (listener.h); mode 0 takes 0660 */
	struct listener_unix_access unix_access;
	int backlog;
	unsigned max_connections;
	unsigned idle_timeout_ms;
	unsigned processing_delay_ms; /* hold ACKs this long (testing HAProxy timeouts) */
	/* Repeated protocol errors, refused connections and accept errors:
	 * the first of each interval is logged, then a count; 0 = 5 s. */
	unsigned log_interval_ms;
	struct conn_settings conn;
};

struct server;

struct server *server_new(struct ev_loop *loop, const struct server_settings *s,
			  const struct conn_handler *h, struct spop_stats *stats);
/* Binds and listens. -1 with a one-line reason in err. */
int server_listen(struct server *srv, char *err, size_t errlen);
/* The bound port (after server_listen, useful with port 0); 0 on a UNIX
 * socket. */
uint16_t server_port(const struct server *srv);
/* Where it listens, for log lines: "ADDR:PORT" or "unix:PATH". */
void server_name(const struct server *srv, char *out, size_t len);
bool server_accepting(const struct server *srv);
/* Serves an already connected stream socket (one end of a socketpair, a
 * descriptor handed over) like an accepted connection; takes fd, closed on
 * refusal (limit, memory: -1, counted and logged like at accept). peer names
 * it in logs. Call on the loop's thread. */
int server_adopt(struct server *srv, int fd, const char *peer);

/* Graceful stop: close the listener; each connection gets AGENT-DISCONNECT
 * (status 0) at its next frame boundary; connections still open after
 * grace_ms are closed. `done` runs once no connection is left. */
void server_shutdown(struct server *srv, unsigned grace_ms, void (*done)(void *), void *arg);
/* Writes the "N more" summaries of rate-limited log lines whose window is
 * over; call it periodically so a burst that stops still gets its count. */
void server_flush_logs(struct server *srv);
/* Closes everything at once and frees the server; a UNIX socket's file is
 * removed when the listener closes. */
void server_free(struct server *srv);

#endif

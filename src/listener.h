/* Listening TCP sockets for the SPOP server and the operators' endpoint:
 * open (bind and listen), accept, and name an address in log lines. The
 * callers keep their own policies (limits, what to do out of descriptors). */
#ifndef SPOA_MIRROR_LISTENER_H
#define SPOA_MIRROR_LISTENER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* "ADDR:PORT": IPv4 "127.0.0.1:9100", IPv6 "[::1]:9100", ":9100" or
 * "*:9100" (every IPv4 address), "localhost:9100" (127.0.0.1). Numeric
 * only (no DNS at start). Port 1..65535. 0, or -1 with a reason. */
int listener_parse_addr(const char *spec, struct sockaddr_storage *out, socklen_t *outlen,
			char *why, size_t n);

/* A listening socket on addr: non-blocking, close-on-exec, SO_REUSEADDR.
 * The descriptor, or -1 with errno set. */
int listener_open(const struct sockaddr *addr, socklen_t addrlen, int backlog);

/* The port fd is bound to (the one chosen when port 0 was asked). */
uint16_t listener_port(int fd);

/* The next waiting connection, non-blocking and close-on-exec, its address
 * in peer (may be NULL). -1 with errno: EAGAIN when none waits; EINTR and
 * aborted connections are retried here. */
int listener_accept(int fd, struct sockaddr_storage *peer);

/* The address as text ("127.0.0.1", "::1", "?") into host; its port. */
unsigned listener_host(const struct sockaddr *sa, char *host, size_t len);

#endif

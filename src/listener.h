/* Listening sockets for the SPOP server and the operators' endpoint: open
 * (bind and listen) on TCP or on a UNIX path, accept, and name an address in
 * log lines. The callers keep their own policies (limits, what to do out of
 * descriptors). */
#ifndef SPOA_MIRROR_LISTENER_H
#define SPOA_MIRROR_LISTENER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

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

/* A UNIX socket address: "unix:PATH" or an absolute "/PATH" (what
 * HAProxy's `server agent1 /run/spoa-mirror.sock` connects to). The path, or
 * NULL for a TCP address. */
const char *listener_unix_path(const char *address);

/* Who may connect to a UNIX socket: the file's permission bits and, when
 * set_owner, its owner (uid/gid; (uid_t)-1 or (gid_t)-1 keeps that one).
 * All zero: mode 0, the process's own user and group. */
struct listener_unix_access {
	unsigned mode;
	bool set_owner;
	uid_t uid;
	gid_t gid;
};

/* "0660" (octal, at most 0777) into *mode. 0, or -1 with a reason. */
int listener_parse_mode(const char *spec, unsigned *mode, char *why, size_t n);
/* "USER", "USER:GROUP" or ":GROUP" (names or numbers) into uid/gid; what is
 * not named stays -1. 0, or -1 with a reason. */
int listener_parse_owner(const char *spec, uid_t *uid, gid_t *gid, char *why, size_t n);

/* The file a UNIX listener created, so that closing removes that file and
 * not one a successor bound at the same path. */
struct listener_unix_file {
	dev_t dev;
	ino_t ino;
};

/* A listening UNIX socket at path: non-blocking, close-on-exec, the file
 * given acc's owner and mode before anyone can connect. A socket file left
 * by a dead process is removed first; one that still answers is not, nor is
 * a file that is not a socket. The descriptor, or -1 with a one-line reason
 * naming the path. */
int listener_open_unix(const char *path, int backlog, const struct listener_unix_access *acc,
		       struct listener_unix_file *made, char *why, size_t n);

/* Removes the socket file at path if it is still the one `made` describes.
 * Call it before closing the listener: an open socket pins its inode, so
 * a successor's file cannot carry the same number. */
void listener_unlink_unix(const char *path, const struct listener_unix_file *made);

#endif

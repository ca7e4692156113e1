/* Listening sockets (see listener.h). */
#include "listener.h"

#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

int listener_parse_addr(const char *spec, struct sockaddr_storage *out, socklen_t *outlen,
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

int listener_open(const struct sockaddr *addr, socklen_t addrlen, int backlog)
{
	int one = 1, saved;
	int fd = socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	/* a restart must not wait for the old connections' TIME_WAIT */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, addr, addrlen) < 0 || listen(fd, backlog) < 0) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

uint16_t listener_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0)
		return 0;
	return ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
					      : ((struct sockaddr_in *)&ss)->sin_port);
}

int listener_accept(int fd, struct sockaddr_storage *peer)
{
	for (;;) {
		socklen_t sl = sizeof(*peer);
		int c = accept4(fd, (struct sockaddr *)peer, peer ? &sl : NULL,
				SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (c >= 0 || (errno != EINTR && errno != ECONNABORTED))
			return c;
	}
}

unsigned listener_host(const struct sockaddr *sa, char *host, size_t len)
{
	snprintf(host, len, "?");
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *a4 = (const struct sockaddr_in *)sa;

		inet_ntop(AF_INET, &a4->sin_addr, host, (socklen_t)len);
		return ntohs(a4->sin_port);
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)sa;

		inet_ntop(AF_INET6, &a6->sin6_addr, host, (socklen_t)len);
		return ntohs(a6->sin6_port);
	}
	return 0;
}

/* ---- UNIX sockets ---- */

const char *listener_unix_path(const char *address)
{
	if (!address)
		return NULL;
	if (!strncmp(address, "unix:", 5))
		return address + 5;
	return address[0] == '/' ? address : NULL;
}

int listener_parse_mode(const char *spec, unsigned *mode, char *why, size_t n)
{
	unsigned v = 0;
	const char *p = spec;

	if (!p || !*p) {
		snprintf(why, n, "must be octal permission bits, like 0660");
		return -1;
	}
	for (; *p; p++) {
		if (*p < '0' || *p > '7' || (v = v * 8 + (unsigned)(*p - '0')) > 0777) {
			snprintf(why, n, "must be octal permission bits 0..0777, like 0660");
			return -1;
		}
	}
	*mode = v;
	return 0;
}

/* A name or a number of a user (group == false) or a group. */
static int lookup_id(const char *name, bool group, unsigned long *id)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(name, &end, 10);
	if (*name && !*end && !errno && v < (unsigned long)(uid_t)-1) {
		*id = v;
		return 0;
	}
	if (group) {
		struct group *g = getgrnam(name);

		if (!g)
			return -1;
		*id = g->gr_gid;
	} else {
		struct passwd *pw = getpwnam(name);

		if (!pw)
			return -1;
		*id = pw->pw_uid;
	}
	return 0;
}

int listener_parse_owner(const char *spec, uid_t *uid, gid_t *gid, char *why, size_t n)
{
	char user[128];
	const char *colon = spec ? strchr(spec, ':') : NULL;
	size_t ulen = colon ? (size_t)(colon - spec) : (spec ? strlen(spec) : 0);
	unsigned long id;

	*uid = (uid_t)-1;
	*gid = (gid_t)-1;
	if (!spec || (!ulen && (!colon || !colon[1]))) {
		snprintf(why, n, "must be USER, USER:GROUP or :GROUP");
		return -1;
	}
	if (ulen >= sizeof(user)) {
		snprintf(why, n, "user name too long");
		return -1;
	}
	memcpy(user, spec, ulen);
	user[ulen] = '\0';
	if (ulen) {
		if (lookup_id(user, false, &id) < 0) {
			snprintf(why, n, "no user '%s'", user);
			return -1;
		}
		*uid = (uid_t)id;
	}
	if (colon && colon[1]) {
		if (lookup_id(colon + 1, true, &id) < 0) {
			snprintf(why, n, "no group '%s'", colon + 1);
			return -1;
		}
		*gid = (gid_t)id;
	}
	return 0;
}

/* Clears the way for a new socket at path: nothing there, or a socket file
 * nobody answers on (a crashed agent's), which is removed. */
static int remove_stale(const char *path, const struct sockaddr_un *sun, char *why, size_t n)
{
	struct stat st;
	int fd, rc;

	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		snprintf(why, n, "unix socket %s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(why, n, "unix socket %s: the path exists and is not a socket", path);
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(why, n, "unix socket %s: %s", path, strerror(errno));
		return -1;
	}
	rc = connect(fd, (const struct sockaddr *)sun, sizeof(*sun));
	close(fd);
	if (rc == 0) {
		snprintf(why, n, "unix socket %s: another process listens on it", path);
		return -1;
	}
	if (errno != ECONNREFUSED) {
		snprintf(why, n, "unix socket %s: cannot tell whether it is in use: %s", path,
			 strerror(errno));
		return -1;
	}
	if (unlink(path) < 0 && errno != ENOENT) {
		snprintf(why, n, "unix socket %s: cannot remove the stale socket: %s", path,
			 strerror(errno));
		return -1;
	}
	return 0;
}

int listener_open_unix(const char *path, int backlog, const struct listener_unix_access *acc,
		       struct listener_unix_file *made, char *why, size_t n)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat st;
	mode_t old_mask;
	int fd, rc;

	if (!path || path[0] != '/') {
		snprintf(why, n, "unix socket '%s': the path must be absolute", path ? path : "");
		return -1;
	}
	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(why, n, "unix socket %s: the path is longer than %zu bytes", path,
			 sizeof(sun.sun_path) - 1);
		return -1;
	}
	strcpy(sun.sun_path, path);
	if (remove_stale(path, &sun, why, n) < 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(why, n, "unix socket %s: %s", path, strerror(errno));
		return -1;
	}
	/* Created with no permission at all, so that nobody but root connects
	 * before the owner and mode below are in place. umask is per process;
	 * this runs at start-up, before any other thread creates files. */
	old_mask = umask(0777);
	rc = bind(fd, (const struct sockaddr *)&sun, sizeof(sun));
	umask(old_mask);
	if (rc < 0) {
		snprintf(why, n, "unix socket %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (lstat(path, &st) < 0 ||
	    (acc->set_owner && chown(path, acc->uid, acc->gid) < 0) ||
	    chmod(path, (mode_t)acc->mode) < 0 || listen(fd, backlog) < 0) {
		snprintf(why, n, "unix socket %s: %s", path, strerror(errno));
		close(fd);
		unlink(path);
		return -1;
	}
	made->dev = st.st_dev;
	made->ino = st.st_ino;
	return fd;
}

void listener_unlink_unix(const char *path, const struct listener_unix_file *made)
{
	struct stat st;

	if (path && lstat(path, &st) == 0 && S_ISSOCK(st.st_mode) && st.st_dev == made->dev &&
	    st.st_ino == made->ino)
		unlink(path);
}

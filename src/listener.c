/* Listening sockets (see listener.h). */
#include "listener.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
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

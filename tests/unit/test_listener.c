/* Unit tests for src/listener.c: the numeric address parser, a listener
 * opened on 127.0.0.1 port 0 that accepts a real connection, and UNIX
 * sockets (mode, stale files, a path in use, removal at close). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "listener.h"

static void test_parse_addr_forms_and_errors(void **state)
{
	static const struct {
		const char *spec;
		int family;
		const char *addr;
		unsigned port;
	} good[] = {
		{ "127.0.0.1:9100", AF_INET, "127.0.0.1", 9100 },
		{ ":9100", AF_INET, "0.0.0.0", 9100 },
		{ "*:1", AF_INET, "0.0.0.0", 1 },
		{ "localhost:65535", AF_INET, "127.0.0.1", 65535 },
		{ "[::1]:9100", AF_INET6, "::1", 9100 },
		{ "[::]:80", AF_INET6, "::", 80 },
	};
	static const struct {
		const char *spec;
		const char *why;
	} bad[] = {
		{ "", "must be ADDR:PORT, like 127.0.0.1:9100 or [::1]:9100" },
		{ "9100", "must be ADDR:PORT, like 127.0.0.1:9100 or :9100" },
		{ "1.2.3.4:", "no port after the ':'" },
		{ "1.2.3.4:0", "port must be 1..65535" },
		{ "1.2.3.4:65536", "port must be 1..65535" },
		{ "1.2.3.4:9x", "port must be 1..65535" },
		{ "::1:9100", "IPv6 addresses go in brackets, like [::1]:9100" },
		{ "[::1]9100", "must be [IPV6]:PORT, like [::1]:9100" },
		{ "[zz]:9100", "'zz' is not an IPv6 address" },
		{ "host.example:9100", "'host.example' is not an IPv4 address (names are not resolved)" },
		{ "1.2.3.256:9100", "'1.2.3.256' is not an IPv4 address (names are not resolved)" },
	};
	struct sockaddr_storage ss;
	socklen_t len;
	char why[200], text[64];

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(listener_parse_addr(good[i].spec, &ss, &len, why, sizeof(why)),
				 0);
		assert_int_equal(ss.ss_family, good[i].family);
		if (good[i].family == AF_INET) {
			struct sockaddr_in *a = (struct sockaddr_in *)&ss;

			assert_int_equal(len, sizeof(*a));
			inet_ntop(AF_INET, &a->sin_addr, text, sizeof(text));
			assert_int_equal(ntohs(a->sin_port), good[i].port);
		} else {
			struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

			assert_int_equal(len, sizeof(*a));
			inet_ntop(AF_INET6, &a->sin6_addr, text, sizeof(text));
			assert_int_equal(ntohs(a->sin6_port), good[i].port);
		}
		assert_string_equal(text, good[i].addr);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(listener_parse_addr(bad[i].spec, &ss, &len, why, sizeof(why)),
				 -1);
		assert_string_equal(why, bad[i].why);
	}
}

static void test_open_accept_and_name_a_connection(void **state)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = 0 };
	struct sockaddr_storage peer;
	char host[64];
	uint16_t port;
	int lfd, cfd, afd;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = listener_open((struct sockaddr *)&a, sizeof(a), 8);
	assert_true(lfd >= 0);
	port = listener_port(lfd);
	assert_true(port > 0);
	/* nothing waits yet: a non-blocking listener says so */
	assert_int_equal(listener_accept(lfd, &peer), -1);
	assert_true(errno == EAGAIN || errno == EWOULDBLOCK);

	cfd = socket(AF_INET, SOCK_STREAM, 0);
	a.sin_port = htons(port);
	assert_int_equal(connect(cfd, (struct sockaddr *)&a, sizeof(a)), 0);
	do
		afd = listener_accept(lfd, &peer);
	while (afd < 0 && errno == EAGAIN);
	assert_true(afd >= 0);
	assert_true(fcntl(afd, F_GETFL) & O_NONBLOCK);
	assert_true(fcntl(afd, F_GETFD) & FD_CLOEXEC);
	assert_int_equal(listener_host((struct sockaddr *)&peer, host, sizeof(host)) > 0, 1);
	assert_string_equal(host, "127.0.0.1");

	/* the port is taken now: a second listener names the reason */
	a.sin_port = htons(port);
	assert_int_equal(listener_open((struct sockaddr *)&a, sizeof(a), 8), -1);
	assert_int_equal(errno, EADDRINUSE);
	close(afd);
	close(cfd);
	close(lfd);
}

static void test_unix_address_mode_and_owner_parsing(void **state)
{
	unsigned mode = 1;
	uid_t uid;
	gid_t gid;
	char why[200];

	assert_string_equal(listener_unix_path("unix:/run/a.sock"), "/run/a.sock");
	assert_string_equal(listener_unix_path("/run/a.sock"), "/run/a.sock");
	assert_null(listener_unix_path("127.0.0.1"));
	assert_null(listener_unix_path("::"));

	assert_int_equal(listener_parse_mode("0660", &mode, why, sizeof(why)), 0);
	assert_int_equal(mode, 0660);
	assert_int_equal(listener_parse_mode("600", &mode, why, sizeof(why)), 0);
	assert_int_equal(mode, 0600);
	assert_int_equal(listener_parse_mode("0800", &mode, why, sizeof(why)), -1);
	assert_int_equal(listener_parse_mode("01777", &mode, why, sizeof(why)), -1);
	assert_string_equal(why, "must be octal permission bits 0..0777, like 0660");
	assert_int_equal(listener_parse_mode("", &mode, why, sizeof(why)), -1);

	assert_int_equal(listener_parse_owner("root", &uid, &gid, why, sizeof(why)), 0);
	assert_int_equal(uid, 0);
	assert_int_equal(gid, (gid_t)-1);
	assert_int_equal(listener_parse_owner("0:0", &uid, &gid, why, sizeof(why)), 0);
	assert_int_equal(uid, 0);
	assert_int_equal(gid, 0);
	assert_int_equal(listener_parse_owner(":root", &uid, &gid, why, sizeof(why)), 0);
	assert_int_equal(uid, (uid_t)-1);
	assert_int_equal(gid, 0);
	assert_int_equal(listener_parse_owner("no-such-user-here", &uid, &gid, why, sizeof(why)),
			 -1);
	assert_string_equal(why, "no user 'no-such-user-here'");
	assert_int_equal(listener_parse_owner("root:no-such-group-here", &uid, &gid, why,
					      sizeof(why)),
			 -1);
	assert_string_equal(why, "no group 'no-such-group-here'");
	assert_int_equal(listener_parse_owner(":", &uid, &gid, why, sizeof(why)), -1);
}

static int connect_unix(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void test_unix_socket_mode_stale_file_in_use_and_removal(void **state)
{
	char dir[] = "/tmp/test-listener-XXXXXX", path[64], why[300], expect[300];
	struct listener_unix_access acc = { .mode = 0600 };
	struct listener_unix_file made, made2;
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct sockaddr_storage peer;
	struct stat st;
	int lfd, cfd, afd, stale;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/spop.sock", dir);

	/* a socket file left by a dead process: bound, never listening */
	stale = socket(AF_UNIX, SOCK_STREAM, 0);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	assert_int_equal(bind(stale, (struct sockaddr *)&sun, sizeof(sun)), 0);
	close(stale);

	lfd = listener_open_unix(path, 8, &acc, &made, why, sizeof(why));
	assert_true(lfd >= 0);
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_true(fcntl(lfd, F_GETFL) & O_NONBLOCK);

	cfd = connect_unix(path);
	assert_true(cfd >= 0);
	do
		afd = listener_accept(lfd, &peer);
	while (afd < 0 && errno == EAGAIN);
	assert_true(afd >= 0);
	assert_int_equal(peer.ss_family, AF_UNIX);
	assert_int_equal(write(cfd, "x", 1), 1);
	close(afd);
	close(cfd);

	/* someone answers there: not taken over */
	assert_int_equal(listener_open_unix(path, 8, &acc, &made2, why, sizeof(why)), -1);
	snprintf(expect, sizeof(expect), "unix socket %s: another process listens on it", path);
	assert_string_equal(why, expect);

	/* our file removed by hand and a successor listening at the same path:
	 * closing ours leaves the successor's file */
	assert_int_equal(unlink(path), 0);
	afd = listener_open_unix(path, 8, &acc, &made2, why, sizeof(why));
	assert_true(afd >= 0);
	listener_unlink_unix(path, &made);
	close(lfd);
	assert_int_equal(lstat(path, &st), 0);
	/* the successor's own close removes it */
	listener_unlink_unix(path, &made2);
	close(afd);
	assert_int_equal(lstat(path, &st), -1);

	/* a regular file is never removed */
	stale = open(path, O_CREAT | O_WRONLY, 0600);
	close(stale);
	assert_int_equal(listener_open_unix(path, 8, &acc, &made, why, sizeof(why)), -1);
	snprintf(expect, sizeof(expect), "unix socket %s: the path exists and is not a socket",
		 path);
	assert_string_equal(why, expect);
	assert_int_equal(lstat(path, &st), 0);
	unlink(path);
	assert_int_equal(listener_open_unix("relative.sock", 8, &acc, &made, why, sizeof(why)), -1);
	assert_string_equal(why, "unix socket 'relative.sock': the path must be absolute");
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_addr_forms_and_errors),
		cmocka_unit_test(test_open_accept_and_name_a_connection),
		cmocka_unit_test(test_unix_address_mode_and_owner_parsing),
		cmocka_unit_test(test_unix_socket_mode_stale_file_in_use_and_removal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

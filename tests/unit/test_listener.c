/* Unit tests for src/listener.c: the numeric address parser, and a
 * listener opened on 127.0.0.1 port 0 that accepts a real connection. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_addr_forms_and_errors),
		cmocka_unit_test(test_open_accept_and_name_a_connection),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for src/http_endpoint.c over real sockets on 127.0.0.1: the
 * endpoint runs on a libev loop in a second thread, the test is an
 * ordinary blocking client with receive timeouts, so nothing can hang.
 * The contract: GET only, one request per connection, answer and close;
 * out of memory, a 503 and the endpoint keeps serving (allocations of the
 * endpoint's thread fail on demand: the binary is linked with
 * --wrap=malloc,realloc,calloc). */
#include <arpa/inet.h>
#include <errno.h>
#include <ev.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "alloc_fail.h"
#include "http_endpoint.h"

#define CLIENT_TIMEOUT_MS 3000

struct server {
	struct ev_loop *loop;
	struct http_endpoint *ep;
	ev_async stop;
	pthread_t thread;
	uint16_t port;
	int ready_status; /* what /readyz answers */
};

static void metrics_handler(void *arg, struct http_reply *r)
{
	r->content_type = "text/plain; version=0.0.4; charset=utf-8";
	strbuf_puts(&r->body, "spoa_mirror_up 1\n");
}

static void readyz_handler(void *arg, struct http_reply *r)
{
	struct server *s = arg;

	r->status = s->ready_status;
	strbuf_puts(&r->body, s->ready_status == 200 ? "ready\n" : "not ready\n");
}

static void big_handler(void *arg, struct http_reply *r)
{
	for (int i = 0; i < 200000; i++)
		strbuf_puts(&r->body, "0123456789");
}

static void stop_cb(struct ev_loop *loop, ev_async *w, int revents)
{
	struct server *s = w->data;

	http_endpoint_stop(s->ep);
	s->ep = NULL;
	ev_async_stop(loop, w);
	ev_break(loop, EVBREAK_ALL);
}

static void *server_main(void *arg)
{
	struct server *s = arg;

	alloc_fail_watch_this_thread();
	ev_run(s->loop, 0);
	return NULL;
}

static struct server *server_start(unsigned timeout_ms, unsigned max_clients)
{
	struct server *s = calloc(1, sizeof(*s));
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = 0 };
	struct http_route routes[] = {
		{ "/metrics", metrics_handler, s },
		{ "/readyz", readyz_handler, s },
		{ "/big", big_handler, s },
	};
	struct http_endpoint_settings set = { timeout_ms, max_clients };
	char err[256] = "";

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s->ready_status = 200;
	s->loop = ev_loop_new(EVFLAG_AUTO);
	s->ep = http_endpoint_start(s->loop, (struct sockaddr *)&a, sizeof(a), routes, 3, &set, err,
				    sizeof(err));
	if (!s->ep)
		fail_msg("start: %s", err);
	s->port = http_endpoint_port(s->ep);
	assert_true(s->port > 0);
	ev_async_init(&s->stop, stop_cb);
	s->stop.data = s;
	ev_async_start(s->loop, &s->stop);
	pthread_create(&s->thread, NULL, server_main, s);
	return s;
}

static void server_stop(struct server *s)
{
	ev_async_send(s->loop, &s->stop);
	pthread_join(s->thread, NULL);
	ev_loop_destroy(s->loop);
	free(s);
}

static int connect_to(uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	struct timeval tv = { CLIENT_TIMEOUT_MS / 1000, 0 };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true(fd >= 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

static void send_all(int fd, const char *data, size_t len)
{
	while (len) {
		ssize_t w = send(fd, data, len, MSG_NOSIGNAL);

		assert_true(w > 0);
		data += w;
		len -= (size_t)w;
	}
}

static void send_str(int fd, const char *s)
{
	send_all(fd, s, strlen(s));
}

struct response {
	int status;
	char head[2048];
	char *body;
	size_t body_len;
};

/* Reads one response (head, then Content-Length bytes unless head_only). */
static void read_response(int fd, bool head_only, struct response *r)
{
	char buf[4096];
	size_t len = 0, clen = 0;
	char *end = NULL, *cl;

	memset(r, 0, sizeof(*r));
	/* byte by byte up to the blank line, so the next response stays unread */
	while (!end) {
		ssize_t n = recv(fd, buf + len, 1, 0);

		if (n <= 0)
			fail_msg("connection ended inside a response head (%zu bytes)", len);
		len++;
		buf[len] = '\0';
		end = len >= 4 && !memcmp(buf + len - 4, "\r\n\r\n", 4) ? buf + len : NULL;
		assert_true(len < sizeof(buf) - 1);
	}
	memcpy(r->head, buf, len < sizeof(r->head) - 1 ? len : sizeof(r->head) - 1);
	assert_int_equal(sscanf(buf, "HTTP/1.1 %d ", &r->status), 1);
	cl = strstr(r->head, "Content-Length: ");
	assert_non_null(cl);
	clen = strtoul(cl + 16, NULL, 10);
	r->body_len = head_only ? 0 : clen;
	r->body = calloc(1, r->body_len + 1);
	for (size_t got = 0; got < r->body_len;) {
		ssize_t n = recv(fd, r->body + got, r->body_len - got, 0);

		if (n <= 0)
			fail_msg("connection ended inside a body");
		got += (size_t)n;
	}
}

/* True when the peer closed: recv gives 0 (or a reset) within the timeout. */
static bool peer_closed(int fd)
{
	char c;
	ssize_t n = recv(fd, &c, 1, 0);

	return n == 0 || (n < 0 && errno == ECONNRESET);
}

static void request(uint16_t port, const char *req, bool head_only, struct response *r)
{
	int fd = connect_to(port);

	send_str(fd, req);
	read_response(fd, head_only, r);
	close(fd);
}

static void test_get_metrics_returns_handler_body_and_type(void **state)
{
	struct server *s = server_start(0, 0);
	struct response r;

	int fd = connect_to(s->port);

	send_str(fd, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
	read_response(fd, false, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.head, "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"));
	assert_non_null(strstr(r.head, "Content-Length: 17\r\n"));
	assert_non_null(strstr(r.head, "Connection: close\r\n"));
	assert_string_equal(r.body, "spoa_mirror_up 1\n");
	free(r.body);
	/* closed right after the answer: well before the 10 s deadline, within
	 * the client's 3 s receive timeout */
	assert_true(peer_closed(fd));
	close(fd);
	/* the query string does not change the route */
	request(s->port, "GET /metrics?x=1&y HTTP/1.1\r\n\r\n", false, &r);
	assert_int_equal(r.status, 200);
	free(r.body);
	server_stop(s);
}

static void test_second_request_on_a_connection_not_served(void **state)
{
	struct server *s = server_start(0, 0);
	struct response r;
	int fd = connect_to(s->port);

	s->ready_status = 503;
	send_str(fd, "GET /readyz HTTP/1.1\r\n\r\nGET /metrics HTTP/1.1\r\n\r\n");
	read_response(fd, false, &r);
	assert_int_equal(r.status, 503);
	assert_string_equal(r.body, "not ready\n");
	assert_non_null(strstr(r.head, "Connection: close\r\n"));
	free(r.body);
	/* no second answer: the next thing is the end of the connection */
	assert_true(peer_closed(fd));
	close(fd);
	server_stop(s);
}

/* A body is never read as a request: the answer ends the connection. */
static void test_request_with_a_body_answered_and_closed(void **state)
{
	struct server *s = server_start(0, 0);
	struct response r;
	int fd = connect_to(s->port);

	send_str(fd, "GET /metrics HTTP/1.0\r\nConnection: keep-alive\r\nContent-Length: 26\r\n\r\n"
		     "GET /readyz HTTP/1.1\r\n\r\n");
	read_response(fd, false, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "spoa_mirror_up 1\n");
	assert_non_null(strstr(r.head, "Connection: close\r\n"));
	free(r.body);
	assert_true(peer_closed(fd));
	close(fd);
	server_stop(s);
}

static void test_unknown_path_404_and_wrong_method_405(void **state)
{
	struct server *s = server_start(0, 0);
	struct response r;

	request(s->port, "GET /healthz HTTP/1.1\r\n\r\n", false, &r);
	assert_int_equal(r.status, 404);
	free(r.body);
	request(s->port, "DELETE /metrics HTTP/1.1\r\n\r\n", false, &r);
	assert_int_equal(r.status, 405);
	assert_non_null(strstr(r.head, "Allow: GET\r\n"));
	free(r.body);
	request(s->port, "HEAD /metrics HTTP/1.1\r\n\r\n", false, &r);
	assert_int_equal(r.status, 405);
	free(r.body);
	/* origin-form only */
	request(s->port, "GET http://host:1/metrics HTTP/1.1\r\n\r\n", false, &r);
	assert_int_equal(r.status, 400);
	free(r.body);
	server_stop(s);
}

/* Each malformed request gets its status and the connection closed. */
static void test_malformed_requests_answered_and_closed(void **state)
{
	static const struct {
		const char *req;
		int status;
	} cases[] = {
		{ "\x01\x02garbage\r\n\r\n", 400 },
		{ "GET\r\n\r\n", 400 },
		{ "GET /metrics\r\n\r\n", 400 },
		{ "GET metrics HTTP/1.1\r\n\r\n", 400 },
		{ "GET /metrics HTTP/2.0\r\n\r\n", 505 },
		{ "GET /metrics HTTP/1.1\r\nNo colon here\r\n\r\n", 400 },
		{ "GET /metrics HTTP/1.1\r\nBad Name: x\r\n\r\n", 400 },
		{ "GET /metrics HTTP/1.1\r\n: empty\r\n\r\n", 400 },
		{ "\r\n\r\n", 400 },
		{ "G(T /metrics HTTP/1.1\r\n\r\n", 400 },
	};
	struct server *s = server_start(0, 0);

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct response r;
		int fd = connect_to(s->port);

		send_str(fd, cases[i].req);
		read_response(fd, false, &r);
		if (r.status != cases[i].status)
			fail_msg("case %zu: status %d, want %d", i, r.status, cases[i].status);
		assert_non_null(strstr(r.head, "Connection: close\r\n"));
		free(r.body);
		assert_true(peer_closed(fd));
		close(fd);
	}
	server_stop(s);
}

static void test_oversized_head_gets_431(void **state)
{
	struct server *s = server_start(0, 0);
	char big[HTTP_ENDPOINT_HEAD_MAX + 100];
	struct response r;
	int fd = connect_to(s->port);

	memcpy(big, "GET /metrics HTTP/1.1\r\nX-Pad: ", 30);
	memset(big + 30, 'a', sizeof(big) - 30);
	send_all(fd, big, HTTP_ENDPOINT_HEAD_MAX);
	read_response(fd, false, &r);
	assert_int_equal(r.status, 431);
	free(r.body);
	assert_true(peer_closed(fd));
	close(fd);
	server_stop(s);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_slow_client_dropped_while_others_are_served(void **state)
{
	struct server *s = server_start(1000, 0);
	int slow = connect_to(s->port);
	int idle = connect_to(s->port);
	double t0 = now_s(), waited;
	struct response r;

	/* a head that never ends, one byte at a time */
	send_str(slow, "GET /met");
	/* the loop is not blocked: another client is served at once */
	request(s->port, "GET /metrics HTTP/1.1\r\n\r\n", false, &r);
	assert_int_equal(r.status, 200);
	free(r.body);
	/* well before the slow client's deadline: it did not hold the loop */
	assert_true(now_s() - t0 < 0.8);
	send_str(slow, "r");
	/* both the slow and the silent client are dropped at the deadline */
	assert_true(peer_closed(slow));
	waited = now_s() - t0;
	assert_true(waited >= 0.9 && waited < 2.9);
	assert_true(peer_closed(idle));
	close(slow);
	close(idle);
	server_stop(s);
}

/* The status of a GET on a new connection, or 0 when the connection was
 * closed unanswered (over the cap). */
static int try_get(uint16_t port, const char *path)
{
	char req[128], head[64] = "";
	int fd = connect_to(port), status = 0;
	ssize_t n;

	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\n\r\n", path);
	send(fd, req, strlen(req), MSG_NOSIGNAL);
	n = recv(fd, head, sizeof(head) - 1, MSG_WAITALL);
	if (n > 0 && sscanf(head, "HTTP/1.1 %d ", &status) != 1)
		status = -1;
	close(fd);
	return status;
}

/* A client that never reads its 2 MB answer holds the only place (cap 1)
 * until the answer's deadline, then is dropped and the place serves again. */
static void test_client_that_never_reads_is_dropped_at_the_deadline(void **state)
{
	struct server *s = server_start(300, 1);
	int fd = connect_to(s->port);
	int rcv = 4096, status = 0;
	double t0 = now_s();

	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	send_str(fd, "GET /big HTTP/1.1\r\n\r\n");
	/* each try is refused at once while the reader holds the place */
	while (status == 0 && now_s() - t0 < 5.0) {
		status = try_get(s->port, "/metrics");
		if (status == 0)
			usleep(20000);
	}
	assert_int_equal(status, 200);
	/* not before the deadline of 300 ms counted from the answer */
	assert_true(now_s() - t0 >= 0.29);
	close(fd);
	server_stop(s);
}

static void test_connections_over_the_cap_closed_at_once(void **state)
{
	struct server *s = server_start(0, 2);
	int a = connect_to(s->port), b = connect_to(s->port), c = connect_to(s->port);
	struct response r;

	/* accepted in order: a and b wait for their heads, c is over the cap */
	assert_true(peer_closed(c));
	close(c);
	send_str(a, "GET /metrics HTTP/1.1\r\n\r\n");
	read_response(a, false, &r);
	assert_int_equal(r.status, 200);
	free(r.body);
	send_str(b, "GET /metrics HTTP/1.1\r\n\r\n");
	read_response(b, false, &r);
	assert_int_equal(r.status, 200);
	free(r.body);
	close(a);
	close(b);
	server_stop(s);
}

static void test_large_reply_arrives_whole(void **state)
{
	struct server *s = server_start(0, 0);
	struct response r;

	request(s->port, "GET /big HTTP/1.1\r\n\r\n", false, &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.body_len, 2000000);
	for (size_t i = 0; i < r.body_len; i += 9973)
		assert_int_equal(r.body[i], '0' + (int)(i % 10));
	free(r.body);
	server_stop(s);
}

/* Every allocation of a scrape fails in turn (N = 1, 2, ... until a scrape
 * no longer reaches the Nth): the client state, the page as it grows, the
 * reply. Each scrape gets the whole page or a 503 (or, when not even the
 * client's state fits, a 503 or a close); the endpoint serves the next one. */
static void test_out_of_memory_scrape_gets_503_and_serving_goes_on(void **state)
{
	struct server *s = server_start(0, 0);
	struct response r;
	int n503 = 0, n200 = 0;

	for (long n = 1;; n++) {
		int fd, failed_before = alloc_fail_count();
		ssize_t got;
		char first;

		alloc_fail_after(n);
		fd = connect_to(s->port);
		send_str(fd, "GET /big HTTP/1.1\r\n\r\n");
		got = recv(fd, &first, 1, MSG_PEEK);

		if (got <= 0) {
			/* closed at accept without even the 503: only if the
			 * client's own state did not fit */
			assert_int_equal(alloc_fail_count(), failed_before + 1);
		} else {
			read_response(fd, false, &r);
			if (r.status == 503) {
				n503++;
				assert_string_equal(r.body, "out of memory\n");
			} else {
				assert_int_equal(r.status, 200);
				assert_int_equal(r.body_len, 2000000);
				n200++;
			}
			free(r.body);
		}
		close(fd);
		if (alloc_fail_count() == failed_before) {
			/* this scrape made fewer than n allocations: swept them all */
			alloc_fail_after(0);
			assert_int_equal(r.status, 200);
			break;
		}
		alloc_fail_after(0);
		/* still serving, allocating normally */
		request(s->port, "GET /metrics HTTP/1.1\r\n\r\n", false, &r);
		assert_int_equal(r.status, 200);
		assert_string_equal(r.body, "spoa_mirror_up 1\n");
		free(r.body);
		assert_true(n < 1000);
	}
	/* the page grows over several reallocations: most failures were in it */
	assert_true(n503 >= 5);
	server_stop(s);
}

/* Mutated requests: each gets a well-formed answer with a known status, or
 * a close; the endpoint keeps serving afterwards. */
static void test_mutated_requests_answered_or_closed(void **state)
{
	static const char base[] = "GET /metrics?a=b HTTP/1.1\r\nHost: x\r\n"
				   "Connection: keep-alive\r\nContent-Length: 0\r\n";
	static const char alphabet[] = "\r\n: /?\x00\x80\\\"AZ09GETHEAD.";
	struct server *s = server_start(300, 0);
	uint64_t rng = 0x2545F4914F6CDD1Dull;
	unsigned answered = 0;
	struct response r;

	for (int iter = 0; iter < 150; iter++) {
		char req[sizeof(base) + 8];
		char buf[4096];
		size_t len = sizeof(base) - 1, got = 0;
		int fd = connect_to(s->port), status = 0;

		memcpy(req, base, len);
		for (int m = 0; m < 1 + iter % 4; m++) {
			rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
			req[rng % len] = alphabet[(rng >> 32) % (sizeof(alphabet) - 1)];
		}
		memcpy(req + len, "\r\n", 2);
		send_all(fd, req, len + 2);
		/* read until a whole head arrived or the server closed */
		while (got < sizeof(buf) - 1) {
			ssize_t n = recv(fd, buf + got, sizeof(buf) - 1 - got, 0);

			if (n <= 0)
				break;
			got += (size_t)n;
			buf[got] = '\0';
			if (strstr(buf, "\r\n\r\n"))
				break;
		}
		buf[got] = '\0';
		if (got) {
			assert_int_equal(sscanf(buf, "HTTP/1.1 %d ", &status), 1);
			assert_true(status == 200 || status == 400 || status == 404 || status == 405 ||
				    status == 431 || status == 505);
			assert_non_null(strstr(buf, "Content-Length: "));
			answered++;
		}
		close(fd);
	}
	assert_true(answered > 100);
	request(s->port, "GET /metrics HTTP/1.1\r\n\r\n", false, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "spoa_mirror_up 1\n");
	free(r.body);
	server_stop(s);
}

static void test_start_on_a_busy_port_names_the_address(void **state)
{
	struct server *s = server_start(0, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(s->port) };
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct http_route route = { "/metrics", metrics_handler, NULL };
	char err[256] = "", want[256];

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_null(http_endpoint_start(loop, (struct sockaddr *)&a, sizeof(a), &route, 1, NULL, err,
					sizeof(err)));
	snprintf(want, sizeof(want), "metrics endpoint 127.0.0.1 port %u: Address already in use",
		 s->port);
	assert_string_equal(err, want);
	ev_loop_destroy(loop);
	server_stop(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_get_metrics_returns_handler_body_and_type),
		cmocka_unit_test(test_second_request_on_a_connection_not_served),
		cmocka_unit_test(test_request_with_a_body_answered_and_closed),
		cmocka_unit_test(test_unknown_path_404_and_wrong_method_405),
		cmocka_unit_test(test_malformed_requests_answered_and_closed),
		cmocka_unit_test(test_oversized_head_gets_431),
		cmocka_unit_test(test_slow_client_dropped_while_others_are_served),
		cmocka_unit_test(test_client_that_never_reads_is_dropped_at_the_deadline),
		cmocka_unit_test(test_connections_over_the_cap_closed_at_once),
		cmocka_unit_test(test_large_reply_arrives_whole),
		cmocka_unit_test(test_out_of_memory_scrape_gets_503_and_serving_goes_on),
		cmocka_unit_test(test_mutated_requests_answered_or_closed),
		cmocka_unit_test(test_start_on_a_busy_port_names_the_address),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

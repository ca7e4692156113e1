/* Blocking raw-SPOP test client. */
#include "spop_client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int spop_client_connect(struct spop_client *c, uint16_t port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	int one = 1;

	c->len = 0;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(c->fd);
		c->fd = -1;
		return -1;
	}
	return 0;
}

void spop_client_close(struct spop_client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

bool spop_client_send(struct spop_client *c, const void *data, size_t len)
{
	const uint8_t *p = data;

	while (len) {
		ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		p += n;
		len -= (size_t)n;
	}
	return true;
}

/* Waits for readable data and appends it: 1 got data, 0 closed, -1 timeout. */
static int fill(struct spop_client *c, long long deadline)
{
	struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
	long long left = deadline - now_ms();
	ssize_t n;

	if (left <= 0 || c->len == sizeof(c->buf))
		return -1;
	if (poll(&pfd, 1, (int)left) <= 0)
		return -1;
	n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);
	if (n == 0)
		return 0;
	if (n < 0)
		return errno == ECONNRESET ? 0 : -1;
	c->len += (size_t)n;
	return 1;
}

int spop_client_read_frame(struct spop_client *c, struct spop_frame *f, int timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;

	for (;;) {
		size_t used;
		int rc = spop_frame_decode(c->buf, c->len, sizeof(c->frame) - 4, f, &used);

		if (rc == SPOP_OK) {
			/* keep the frame stable while the buffer moves on */
			memcpy(c->frame, c->buf, used);
			f->payload.ptr = (const char *)c->frame + (f->payload.ptr - (const char *)c->buf);
			memmove(c->buf, c->buf + used, c->len - used);
			c->len -= used;
			return 1;
		}
		if (rc != SPOP_NEED_MORE)
			return -1;
		rc = fill(c, deadline);
		if (rc <= 0)
			return rc;
	}
}

bool spop_client_wait_closed(struct spop_client *c, int timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;

	for (;;) {
		int rc;

		c->len = 0;
		rc = fill(c, deadline);
		if (rc == 0)
			return true;
		if (rc < 0)
			return false;
	}
}

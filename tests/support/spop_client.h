/* A blocking raw-SPOP client for tests: connects to 127.0.0.1, sends bytes,
 * reads whole frames with a deadline. */
#ifndef SPOA_MIRROR_TEST_SPOP_CLIENT_H
#define SPOA_MIRROR_TEST_SPOP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "spop.h"

struct spop_client {
	int fd;
	uint8_t buf[1 << 16];
	size_t len;
	uint8_t frame[1 << 16]; /* the last frame read, payload points here */
};

/* -1 when the connection fails. */
int spop_client_connect(struct spop_client *c, uint16_t port);
void spop_client_close(struct spop_client *c);
/* Sends all bytes; false on error. */
bool spop_client_send(struct spop_client *c, const void *data, size_t len);
/* Next frame within timeout_ms: 1 read, 0 peer closed, -1 timeout/error. */
int spop_client_read_frame(struct spop_client *c, struct spop_frame *f, int timeout_ms);
/* True when the peer closes within timeout_ms (reading and dropping data). */
bool spop_client_wait_closed(struct spop_client *c, int timeout_ms);

#endif

/* One spop-bench load thread: its own epoll loop and connections, speaking
 * SPOP the way HAProxy does (HELLO, pipelined NOTIFY frames, DISCONNECT)
 * and checking every ACK against a NOTIFY it is waiting for. Threads share
 * only the read-only plan and a stop flag; results are merged afterwards. */
#ifndef SPOA_MIRROR_SPOP_LOAD_H
#define SPOA_MIRROR_SPOP_LOAD_H

#include <netinet/in.h>
#include <sys/socket.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lat_hist.h"

/* What every thread does, read-only once threads start. */
struct load_plan {
	struct sockaddr_storage addr; /* the agent: IPv4 or a UNIX socket */
	socklen_t addrlen;
	unsigned total_conns;     /* over all threads: stream ids encode the connection */
	unsigned window;          /* NOTIFY in flight per connection */
	uint32_t max_frame_size;  /* announced in HAPROXY-HELLO */
	const char *caps;         /* announced capabilities, comma list */
	const char *engine_id;
	bool fragment;            /* cut payloads larger than frag_size */
	size_t frag_size;         /* payload bytes per fragment; 0 = what the frame holds */
	const uint8_t *payload;   /* NOTIFY payload, same for every frame */
	size_t payload_len;
	uint64_t duration_ns;     /* send for this long (0 with a count) */
	uint64_t timeout_ns;      /* an ACK later than this is a timeout */
	uint64_t handshake_timeout_ns;
	atomic_bool *stop;        /* set by SIGINT or a fatal error in any thread */
	atomic_int *fatal;        /* first fatal condition (enum load_fatal) */
};

enum load_fatal {
	LOAD_FATAL_NONE = 0,
	LOAD_FATAL_TOO_BIG, /* payload does not fit and fragmentation is off or refused */
};

/* One thread's share and its results. */
struct load_thread {
	const struct load_plan *plan;
	unsigned first_conn;      /* global index of its first connection */
	unsigned n_conns;
	uint64_t count;           /* NOTIFY to send (0 = for duration_ns) */
	double rate;              /* NOTIFY/s offered by this thread (0 = closed loop) */

	/* results */
	uint64_t start_ns;        /* CLOCK_MONOTONIC when sending began */
	uint64_t last_ack_ns;
	uint64_t sent;            /* NOTIFY frames (a fragmented one counts once) */
	uint64_t fragments;       /* extra type-0 frames */
	uint64_t acked;
	uint64_t conn_ready;      /* connections that finished the handshake */
	uint64_t err_connect;     /* refused, reset or timed out before AGENT-HELLO */
	uint64_t err_disconnect;  /* AGENT-DISCONNECT with a non-zero status */
	uint64_t err_closed;      /* closed or reset without a DISCONNECT */
	uint64_t err_unknown_ack; /* ACK matching no NOTIFY in flight */
	uint64_t err_timeout;     /* ACK not back within timeout_ns */
	uint64_t err_protocol;    /* malformed or unexpected frame from the agent */
	uint64_t lost;            /* NOTIFY in flight when their connection died */
	uint64_t late_acks;       /* ACK for a NOTIFY already counted as timed out */
	uint64_t backlog_max;     /* rate mode: most sends due but held by full windows */
	uint32_t last_status;     /* last non-zero DISCONNECT status and message */
	char last_message[256];
	uint32_t agent_frame_size;
	char agent_caps[96];
	struct lat_hist hist;
};

/* Runs one thread's load to completion (pthread-compatible body). */
void *load_thread_run(void *arg);

uint64_t load_now_ns(void);

#endif

/* spop-bench's load engine: one epoll loop per thread driving SPOP
 * connections like HAProxy 2.6 does. Stream ids encode the connection
 * (sid = seq * total_conns + conn + 1), so an ACK finds its NOTIFY in O(1)
 * connections and, ACKs being mostly in order, O(1) ring slots. */
#include "spop_load.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "bench_msg.h"
#include "spop.h"

/* Frames from a mirror agent are HELLO, ACK and DISCONNECT: small. Small
 * buffers keep thousands of connections cheap. */
#define IN_FRAME_MAX 16384u
#define IN_CAP (IN_FRAME_MAX + 4u)
#define OUT_CAP_MIN (32u * 1024u)
#define CLOSE_GRACE_NS (1000ull * 1000 * 1000)

enum conn_state { C_CONNECTING, C_HELLO, C_READY, C_CLOSING, C_DEAD };
enum slot_state { S_FREE = 0, S_WAIT, S_DONE, S_TIMED_OUT };

struct slot {
	uint64_t sid;
	uint64_t fid;
	uint64_t t0; /* when it was sent (closed loop) or due (rate mode) */
	uint8_t state;
};

struct conn {
	int fd;
	enum conn_state state;
	unsigned gidx; /* global connection index, encoded in stream ids */
	uint64_t since_ns;
	bool want_out;

	uint8_t *in;
	size_t in_len;
	uint8_t *out;
	size_t out_off, out_len, out_cap;

	struct slot *ring; /* in send order */
	unsigned ring_cap, head, used, waiting;
	uint64_t seq;
	uint64_t timed_out_open; /* timed out, ACK not seen yet */

	uint32_t frame_size;
	unsigned caps;
	unsigned window;  /* the plan's, or 1 when the agent has no pipelining */
	size_t chunk;     /* payload bytes per frame */
	size_t wire_max;  /* bytes one NOTIFY takes on the wire, at most */
};

struct loop {
	struct load_thread *t;
	const struct load_plan *p;
	int ep;
	int tfd;
	struct conn *conns;
	unsigned rr;
	uint64_t now;
	uint64_t last_timeout_scan;
	uint64_t pacer_armed; /* absolute time the pacing timer is set for */
};

uint64_t load_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void ep_set(struct loop *l, struct conn *c, bool out)
{
	struct epoll_event ev = { .events = EPOLLIN | (out ? EPOLLOUT : 0), .data.ptr = c };

	if (c->want_out == out)
		return;
	c->want_out = out;
	epoll_ctl(l->ep, EPOLL_CTL_MOD, c->fd, &ev);
}

static void conn_kill(struct loop *l, struct conn *c, uint64_t *counter)
{
	if (c->state == C_DEAD)
		return;
	if (counter)
		(*counter)++;
	l->t->lost += c->waiting;
	c->waiting = 0;
	close(c->fd);
	c->fd = -1;
	c->state = C_DEAD;
}

static void conn_flush(struct loop *l, struct conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);

		if (n > 0) {
			c->out_off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			ep_set(l, c, true);
			return;
		}
		conn_kill(l, c, c->state == C_HELLO ? &l->t->err_connect : &l->t->err_closed);
		return;
	}
	c->out_off = c->out_len = 0;
	ep_set(l, c, false);
}

/* Room for n more bytes at the end of the output buffer. */
static bool out_reserve(struct conn *c, size_t n)
{
	if (c->out_len + n <= c->out_cap)
		return true;
	if (c->out_off) {
		memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
		c->out_len -= c->out_off;
		c->out_off = 0;
	}
	return c->out_len + n <= c->out_cap;
}

static void queue_hello(struct loop *l, struct conn *c)
{
	uint8_t buf[512];
	struct spop_writer w = spop_writer_init(buf, sizeof(buf));

	spop_encode_haproxy_hello(&w, "2.0", l->p->max_frame_size, l->p->caps, false,
				  l->p->engine_id);
	if (w.overflow || !out_reserve(c, w.len)) {
		conn_kill(l, c, &l->t->err_connect);
		return;
	}
	memcpy(c->out + c->out_len, buf, w.len);
	c->out_len += w.len;
	c->state = C_HELLO;
	c->since_ns = l->now;
	conn_flush(l, c);
}

static void queue_disconnect(struct loop *l, struct conn *c)
{
	uint8_t buf[128];
	struct spop_writer w = spop_writer_init(buf, sizeof(buf));

	spop_encode_haproxy_disconnect(&w, SPOP_STATUS_NONE, "spop-bench done");
	c->state = C_CLOSING;
	c->since_ns = l->now;
	if (w.overflow || !out_reserve(c, w.len)) {
		conn_kill(l, c, NULL);
		return;
	}
	memcpy(c->out + c->out_len, buf, w.len);
	c->out_len += w.len;
	conn_flush(l, c);
}

static bool can_send(const struct loop *l, struct conn *c)
{
	return c->state == C_READY && c->waiting < c->window && c->used < c->ring_cap &&
	       out_reserve(c, c->wire_max);
}

/* Appends one NOTIFY (fragmented when it does not fit one frame). */
static void send_notify(struct loop *l, struct conn *c, uint64_t t0)
{
	const struct load_plan *p = l->p;
	uint64_t seq = c->seq++;
	uint64_t sid = seq * p->total_conns + c->gidx + 1;
	/* frame ids cycle so that an agent which does not echo them is caught */
	uint64_t fid = 1 + seq % 4;
	struct slot *s = &c->ring[(c->head + c->used) % c->ring_cap];
	size_t off = 0;
	bool first = true;

	*s = (struct slot){ sid, fid, t0, S_WAIT };
	c->used++;
	c->waiting++;
	do {
		size_t n = p->payload_len - off < c->chunk ? p->payload_len - off : c->chunk;
		bool last = off + n == p->payload_len;
		uint8_t type = first ? SPOP_FRAME_NOTIFY : SPOP_FRAME_UNSET;

		c->out_len += bench_frame_head(c->out + c->out_len, type, last ? SPOP_FLAG_FIN : 0,
					       sid, fid, n);
		memcpy(c->out + c->out_len, p->payload + off, n);
		c->out_len += n;
		off += n;
		if (!first)
			l->t->fragments++;
		first = false;
	} while (off < p->payload_len);
	l->t->sent++;
}

static void slot_advance(struct conn *c)
{
	while (c->used && c->ring[c->head].state != S_WAIT) {
		c->ring[c->head].state = S_FREE;
		c->head = (c->head + 1) % c->ring_cap;
		c->used--;
	}
}

static int on_agent_hello(struct loop *l, struct conn *c, struct slice payload)
{
	const uint8_t *p = (const uint8_t *)payload.ptr, *end = p + payload.len;
	bool have_size = false, have_caps = false, have_version = false;
	struct slice caps = { "", 0 };
	size_t room, text_len;

	while (p < end) {
		struct spop_kv kv;
		uint64_t u;

		if (spop_kv_decode(&p, end, &kv) != SPOP_OK)
			return -1;
		if (slice_eq_cstr(kv.name, "version")) {
			if (kv.value.type != SPOP_T_STRING || kv.value.u.str.len < 2 ||
			    memcmp(kv.value.u.str.ptr, "2.", 2) != 0)
				return -1;
			have_version = true;
		} else if (slice_eq_cstr(kv.name, "max-frame-size")) {
			if (!spop_value_as_u64(&kv.value, &u) || u < SPOP_MIN_FRAME_SIZE ||
			    u > l->p->max_frame_size)
				return -1;
			c->frame_size = (uint32_t)u;
			have_size = true;
		} else if (slice_eq_cstr(kv.name, "capabilities")) {
			if (kv.value.type != SPOP_T_STRING)
				return -1;
			caps = kv.value.u.str;
			have_caps = true;
		}
	}
	if (!have_version || !have_size || !have_caps)
		return -1;
	c->caps = spop_caps_parse(caps);
	/* as HAProxy: without pipelining, one NOTIFY at a time */
	c->window = (c->caps & SPOP_CAP_PIPELINING) ? l->p->window : 1;
	if (!l->t->agent_frame_size) {
		l->t->agent_frame_size = c->frame_size;
		text_len = caps.len < sizeof(l->t->agent_caps) - 1 ? caps.len
								    : sizeof(l->t->agent_caps) - 1;
		memcpy(l->t->agent_caps, caps.ptr, text_len);
		l->t->agent_caps[text_len] = '\0';
	}

	room = bench_frame_room(c->frame_size);
	c->chunk = l->p->payload_len ? l->p->payload_len : 1;
	if (l->p->fragment && l->p->frag_size && l->p->frag_size < c->chunk)
		c->chunk = l->p->frag_size;
	if (c->chunk > room) {
		if (!l->p->fragment) {
			atomic_store(l->p->fatal, LOAD_FATAL_TOO_BIG);
			return 1;
		}
		c->chunk = room;
	}
	if (c->chunk < l->p->payload_len && !(c->caps & SPOP_CAP_FRAGMENTATION)) {
		atomic_store(l->p->fatal, LOAD_FATAL_TOO_BIG);
		return 1;
	}
	c->wire_max = bench_fragment_count(l->p->payload_len, c->chunk) * BENCH_FRAME_HEAD_MAX +
		      l->p->payload_len;
	c->out_cap = c->wire_max * 2 > OUT_CAP_MIN ? c->wire_max * 2 : OUT_CAP_MIN;
	{
		uint8_t *nb = realloc(c->out, c->out_cap);

		if (!nb)
			return -1;
		c->out = nb;
	}
	c->state = C_READY;
	l->t->conn_ready++;
	return 0;
}

static void on_ack(struct loop *l, struct conn *c, const struct spop_frame *f)
{
	const struct load_plan *p = l->p;
	struct load_thread *t = l->t;
	struct conn *owner;
	uint64_t g;
	const uint8_t *ap = (const uint8_t *)f->payload.ptr, *aend = ap + f->payload.len;
	struct spop_action a;
	int rc;

	while ((rc = spop_action_next(&ap, aend, &a)) == 1)
		;
	if (rc < 0) {
		conn_kill(l, c, &t->err_protocol);
		return;
	}
	if (f->stream_id == 0)
		goto unknown;
	g = (f->stream_id - 1) % p->total_conns;
	if (g < t->first_conn || g >= t->first_conn + t->n_conns)
		goto unknown;
	owner = &l->conns[g - t->first_conn];
	/* only an async agent may answer on another connection */
	if (owner != c && !(c->caps & SPOP_CAP_ASYNC))
		goto unknown;
	for (unsigned i = 0; i < owner->used; i++) {
		struct slot *s = &owner->ring[(owner->head + i) % owner->ring_cap];

		if (s->state != S_WAIT || s->sid != f->stream_id)
			continue;
		if (s->fid != f->frame_id)
			goto unknown;
		s->state = S_DONE;
		owner->waiting--;
		t->acked++;
		t->last_ack_ns = l->now;
		lat_hist_record(&t->hist, l->now > s->t0 ? l->now - s->t0 : 0);
		slot_advance(owner);
		return;
	}
	if (owner->timed_out_open) {
		owner->timed_out_open--;
		t->late_acks++;
		return;
	}
unknown:
	t->err_unknown_ack++;
}

static void on_disconnect(struct loop *l, struct conn *c, struct slice payload)
{
	struct spop_disconnect d;

	if (spop_disconnect_decode(payload, &d) != SPOP_OK) {
		conn_kill(l, c, &l->t->err_protocol);
		return;
	}
	if (c->state == C_CLOSING && d.status_code == SPOP_STATUS_NONE) {
		conn_kill(l, c, NULL);
		return;
	}
	l->t->last_status = d.status_code;
	{
		size_t n = d.message.len < sizeof(l->t->last_message) - 1
				   ? d.message.len
				   : sizeof(l->t->last_message) - 1;
		memcpy(l->t->last_message, d.message.ptr, n);
		l->t->last_message[n] = '\0';
	}
	conn_kill(l, c, c->state == C_HELLO ? &l->t->err_connect : &l->t->err_disconnect);
}

static void on_frame(struct loop *l, struct conn *c, const struct spop_frame *f)
{
	int rc;

	if (!(f->flags & SPOP_FLAG_FIN)) {
		/* agents never fragment: nothing they send is that big */
		conn_kill(l, c, &l->t->err_protocol);
		return;
	}
	switch (f->type) {
	case SPOP_FRAME_AGENT_HELLO:
		if (c->state != C_HELLO) {
			conn_kill(l, c, &l->t->err_protocol);
			return;
		}
		rc = on_agent_hello(l, c, f->payload);
		if (rc < 0)
			conn_kill(l, c, &l->t->err_protocol);
		else if (rc > 0)
			conn_kill(l, c, NULL); /* fatal: reported once by the caller */
		return;
	case SPOP_FRAME_ACK:
		if (c->state != C_READY && c->state != C_CLOSING) {
			conn_kill(l, c, &l->t->err_protocol);
			return;
		}
		on_ack(l, c, f);
		return;
	case SPOP_FRAME_AGENT_DISCONNECT:
		on_disconnect(l, c, f->payload);
		return;
	default:
		conn_kill(l, c, &l->t->err_protocol);
		return;
	}
}

static void conn_read(struct loop *l, struct conn *c)
{
	for (;;) {
		ssize_t n = recv(c->fd, c->in + c->in_len, IN_CAP - c->in_len, 0);
		size_t off = 0;

		if (n == 0) {
			if (c->state == C_CLOSING)
				conn_kill(l, c, NULL);
			else
				conn_kill(l, c, c->state == C_HELLO ? &l->t->err_connect
								    : &l->t->err_closed);
			return;
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			conn_kill(l, c, c->state == C_CLOSING ? NULL
				  : c->state == C_HELLO ? &l->t->err_connect : &l->t->err_closed);
			return;
		}
		c->in_len += (size_t)n;
		l->now = load_now_ns();
		while (c->state != C_DEAD) {
			struct spop_frame f;
			size_t used;
			int rc = spop_frame_decode(c->in + off, c->in_len - off, IN_FRAME_MAX, &f,
						   &used);

			if (rc == SPOP_NEED_MORE)
				break;
			if (rc != SPOP_OK) {
				conn_kill(l, c, &l->t->err_protocol);
				return;
			}
			on_frame(l, c, &f);
			off += used;
		}
		if (c->state == C_DEAD)
			return;
		memmove(c->in, c->in + off, c->in_len - off);
		c->in_len -= off;
	}
}

static void conn_event(struct loop *l, struct conn *c, uint32_t events)
{
	if (c->state == C_DEAD)
		return;
	if (c->state == C_CONNECTING) {
		int err = 0;
		socklen_t len = sizeof(err);

		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err) {
			conn_kill(l, c, &l->t->err_connect);
			return;
		}
		queue_hello(l, c);
		return;
	}
	if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
		conn_read(l, c);
	if (c->state != C_DEAD && (events & EPOLLOUT))
		conn_flush(l, c);
}

static int conn_open(struct loop *l, struct conn *c)
{
	int one = 1;
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT, .data.ptr = c };

	c->fd = socket(l->p->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -1;
	if (l->p->addr.ss_family == AF_INET) /* as HAProxy does; a UNIX socket has no Nagle */
		setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->state = C_CONNECTING;
	c->since_ns = l->now;
	c->want_out = true;
	if (epoll_ctl(l->ep, EPOLL_CTL_ADD, c->fd, &ev) < 0)
		return -1;
	/* a UNIX socket whose backlog is full says EAGAIN: counted as a
	 * connect error like a refused TCP connection */
	if (connect(c->fd, (const struct sockaddr *)&l->p->addr, l->p->addrlen) < 0 &&
	    errno != EINPROGRESS)
		conn_kill(l, c, &l->t->err_connect);
	return 0;
}

/* Marks NOTIFY older than the timeout; ring order is send order, so the
 * scan stops at the first one still in time. */
static void scan_timeouts(struct loop *l)
{
	for (unsigned i = 0; i < l->t->n_conns; i++) {
		struct conn *c = &l->conns[i];

		if (c->state == C_DEAD)
			continue;
		if ((c->state == C_CONNECTING || c->state == C_HELLO) &&
		    l->now - c->since_ns > l->p->handshake_timeout_ns) {
			conn_kill(l, c, &l->t->err_connect);
			continue;
		}
		if (c->state == C_CLOSING && l->now - c->since_ns > CLOSE_GRACE_NS) {
			conn_kill(l, c, NULL);
			continue;
		}
		for (unsigned k = 0; k < c->used; k++) {
			struct slot *s = &c->ring[(c->head + k) % c->ring_cap];

			if (s->state != S_WAIT)
				continue;
			if (l->now < s->t0 || l->now - s->t0 <= l->p->timeout_ns)
				break;
			s->state = S_TIMED_OUT;
			c->waiting--;
			c->timed_out_open++;
			l->t->err_timeout++;
		}
		slot_advance(c);
	}
}

static bool budget_left(const struct loop *l)
{
	return !l->t->count || l->t->sent < l->t->count;
}

static void fill_closed_loop(struct loop *l)
{
	for (unsigned i = 0; i < l->t->n_conns; i++) {
		struct conn *c = &l->conns[i];
		bool queued = false;

		while (budget_left(l) && can_send(l, c)) {
			send_notify(l, c, l->now);
			queued = true;
		}
		if (queued)
			conn_flush(l, c);
	}
}

static void fill_paced(struct loop *l)
{
	struct load_thread *t = l->t;
	double elapsed = (double)(l->now - t->start_ns) / 1e9;
	uint64_t due = (uint64_t)(elapsed * t->rate) + 1;

	if (t->count && due > t->count)
		due = t->count;
	while (t->sent < due) {
		struct conn *c = NULL;

		for (unsigned k = 0; k < t->n_conns; k++) {
			struct conn *cand = &l->conns[(l->rr + k) % t->n_conns];

			if (can_send(l, cand)) {
				c = cand;
				l->rr = (l->rr + k + 1) % t->n_conns;
				break;
			}
		}
		if (!c)
			break;
		/* latency counts from when the NOTIFY was due, not when a window
		 * freed up: a stalled agent cannot hide its stall (no coordinated
		 * omission) */
		send_notify(l, c, t->start_ns + (uint64_t)((double)t->sent * 1e9 / t->rate));
		conn_flush(l, c);
	}
	if (due > t->sent && due - t->sent > t->backlog_max)
		t->backlog_max = due - t->sent;
}

/* Wakes the loop when the next paced NOTIFY is due (absolute time), so the
 * latency measured from that moment is not inflated by a coarse tick. */
static void arm_pacer(struct loop *l)
{
	struct load_thread *t = l->t;
	uint64_t due = t->start_ns + (uint64_t)((double)t->sent * 1e9 / t->rate);
	struct itimerspec its = { { 0, 0 }, { 0, 0 } };

	if (due == l->pacer_armed)
		return;
	if (due <= l->now)
		due = l->now + 1000; /* held by full windows: look again soon */
	its.it_value.tv_sec = (time_t)(due / 1000000000ull);
	its.it_value.tv_nsec = (long)(due % 1000000000ull);
	timerfd_settime(l->tfd, TFD_TIMER_ABSTIME, &its, NULL);
	l->pacer_armed = due;
}

static unsigned count_state(const struct loop *l, enum conn_state st)
{
	unsigned n = 0;

	for (unsigned i = 0; i < l->t->n_conns; i++)
		n += l->conns[i].state == st;
	return n;
}

static uint64_t total_waiting(const struct loop *l)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < l->t->n_conns; i++)
		n += l->conns[i].state == C_DEAD ? 0 : l->conns[i].waiting;
	return n;
}

static int loop_setup(struct loop *l)
{
	const struct load_plan *p = l->p;
	struct load_thread *t = l->t;
	struct itimerspec its;
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };

	l->ep = epoll_create1(EPOLL_CLOEXEC);
	l->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (l->ep < 0 || l->tfd < 0)
		return -1;
	/* closed loop: a 10 ms housekeeping tick; paced: arm_pacer() sets a
	 * one-shot timer for each next NOTIFY due */
	its.it_interval.tv_sec = 0;
	its.it_interval.tv_nsec = t->rate > 0 ? 0 : 10000000L;
	its.it_value.tv_sec = 0;
	its.it_value.tv_nsec = 10000000L;
	/* paced NOTIFY leave when due, not up to 50 us later (the default slack) */
	prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
	if (timerfd_settime(l->tfd, 0, &its, NULL) < 0 ||
	    epoll_ctl(l->ep, EPOLL_CTL_ADD, l->tfd, &ev) < 0)
		return -1;

	l->conns = calloc(t->n_conns, sizeof(*l->conns));
	if (!l->conns)
		return -1;
	for (unsigned i = 0; i < t->n_conns; i++) {
		struct conn *c = &l->conns[i];

		c->fd = -1;
		c->state = C_DEAD;
		c->gidx = t->first_conn + i;
		c->ring_cap = p->window * 2;
		c->ring = calloc(c->ring_cap, sizeof(*c->ring));
		c->in = malloc(IN_CAP);
		c->out_cap = OUT_CAP_MIN;
		c->out = malloc(c->out_cap);
		if (!c->ring || !c->in || !c->out)
			return -1;
	}
	l->now = load_now_ns();
	for (unsigned i = 0; i < t->n_conns; i++)
		if (conn_open(l, &l->conns[i]) < 0)
			return -1;
	return 0;
}

static void loop_teardown(struct loop *l)
{
	if (l->conns) {
		for (unsigned i = 0; i < l->t->n_conns; i++) {
			struct conn *c = &l->conns[i];

			if (c->fd >= 0)
				close(c->fd);
			free(c->ring);
			free(c->in);
			free(c->out);
		}
		free(l->conns);
	}
	if (l->tfd >= 0)
		close(l->tfd);
	if (l->ep >= 0)
		close(l->ep);
}

enum phase { PH_RUN, PH_DRAIN, PH_CLOSE };

void *load_thread_run(void *arg)
{
	struct load_thread *t = arg;
	struct loop l = { .t = t, .p = t->plan, .ep = -1, .tfd = -1 };
	enum phase ph = PH_RUN;
	bool started = false;
	uint64_t drain_deadline = 0;
	struct epoll_event evs[256];

	lat_hist_init(&t->hist);
	if (loop_setup(&l) < 0) {
		t->err_connect += t->n_conns;
		loop_teardown(&l);
		return NULL;
	}
	t->start_ns = l.now;
	for (;;) {
		int n = epoll_wait(l.ep, evs, 256, 10);

		l.now = load_now_ns();
		for (int i = 0; i < n; i++) {
			if (!evs[i].data.ptr) {
				uint64_t ticks;

				if (read(l.tfd, &ticks, sizeof(ticks)) < 0)
					(void)0; /* EAGAIN: another thread's tick; nothing to do */
				continue;
			}
			conn_event(&l, evs[i].data.ptr, evs[i].events);
		}
		l.now = load_now_ns();
		if (l.now - l.last_timeout_scan >= 1000000ull) {
			scan_timeouts(&l);
			l.last_timeout_scan = l.now;
		}
		/* the clock starts once every handshake is over (or failed), so
		 * connection set-up is not counted as load */
		if (!started) {
			if (count_state(&l, C_CONNECTING) + count_state(&l, C_HELLO) > 0 &&
			    !atomic_load(t->plan->stop) && !atomic_load(t->plan->fatal))
				continue;
			started = true;
			t->start_ns = l.now;
		}
		if (ph == PH_RUN) {
			if (atomic_load(t->plan->stop) ||
			    (t->plan->duration_ns && l.now - t->start_ns >= t->plan->duration_ns) ||
			    (t->count && t->sent >= t->count)) {
				ph = PH_DRAIN;
				/* just past the timeout, so the scan has judged every NOTIFY */
				drain_deadline = l.now + t->plan->timeout_ns + 20000000ull;
			} else if (t->rate > 0) {
				fill_paced(&l);
				arm_pacer(&l);
			} else {
				fill_closed_loop(&l);
			}
		}
		if (ph == PH_DRAIN && (total_waiting(&l) == 0 || l.now > drain_deadline ||
				       atomic_load(t->plan->fatal))) {
			for (unsigned i = 0; i < t->n_conns; i++) {
				struct conn *c = &l.conns[i];

				if (c->state == C_READY)
					queue_disconnect(&l, c);
				else if (c->state != C_DEAD)
					conn_kill(&l, c, NULL);
			}
			ph = PH_CLOSE;
		}
		if (count_state(&l, C_DEAD) == t->n_conns)
			break;
		if (atomic_load(t->plan->fatal) && ph == PH_RUN)
			ph = PH_DRAIN, drain_deadline = l.now;
	}
	loop_teardown(&l);
	return NULL;
}

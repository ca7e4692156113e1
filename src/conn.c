/* SPOP connection state machine: frames in, ACKs and DISCONNECTs out. */
#include "conn.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* HAProxy's HELLO is well under 1 KiB: before negotiation we accept frames
 * up to this size, so a stranger cannot make us allocate our full maximum. */
#define PRE_HELLO_FRAME_MAX (64u * 1024)
#define INPUT_INITIAL (16u * 1024)
/* Idle connections give back big buffers left by large frames. */
#define INPUT_KEEP_MAX (64u * 1024)
/* Room for the largest agent frame we write (DISCONNECT with 255-byte text). */
#define OUTPUT_FRAME_MAX 512u

struct spop_conn {
	enum conn_phase phase;
	const struct conn_settings *settings;
	struct conn_handler handler;
	struct spop_stats *stats;
	uint32_t frame_size; /* limit for incoming frames */
	bool waiting_memory;       /* the budget had no room for the pending frame */
	uint64_t frames_done;      /* frames complete, a fragmented NOTIFY as one */
	uint64_t pending_since_ns; /* first byte of the pending frame; 0 = none */
	uint64_t last_frame_ns;    /* the last frame complete (or the start) */

	uint8_t *in;
	size_t in_len;
	size_t in_cap;

	uint8_t *out;
	size_t out_off; /* first byte not yet written */
	size_t out_len;
	size_t out_cap;

	/* one fragmented NOTIFY at a time: HAProxy never interlaces them */
	bool reassembling;
	bool frag_overflow;
	uint64_t frag_sid;
	uint64_t frag_fid;
	uint8_t *frag;
	size_t frag_len;
	size_t frag_cap;

	enum spop_status close_status;
	char close_reason[160];
};

struct spop_conn *conn_new(const struct conn_settings *s, const struct conn_handler *h,
			   struct spop_stats *stats)
{
	struct spop_conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->phase = CONN_HELLO;
	c->settings = s;
	c->handler = *h;
	c->stats = stats;
	c->frame_size = s->max_frame_size < PRE_HELLO_FRAME_MAX ? s->max_frame_size
								: PRE_HELLO_FRAME_MAX;
	c->last_frame_ns = conn_now_ns(c);
	return c;
}

void conn_free(struct spop_conn *c)
{
	if (!c)
		return;
	spop_budget_resize(c->settings->budget, c->in_cap + c->out_cap + c->frag_cap, 0, true);
	free(c->in);
	free(c->out);
	free(c->frag);
	free(c);
}

enum buf_resize_rc {
	BUF_OK = 0,
	BUF_NO_ROOM,  /* over the budget: wait or drop */
	BUF_NO_MEMORY, /* realloc failed */
};

/* Resizes one of the connection's buffers to `to` bytes (0 frees it),
 * charged to the budget; `force` for the small ones every connection is
 * granted. Nothing changes unless BUF_OK. */
static enum buf_resize_rc buf_resize(struct spop_conn *c, uint8_t **buf, size_t *cap, size_t to,
				     bool force)
{
	struct spop_budget *b = c->settings->budget;
	uint8_t *p = NULL;

	if (!spop_budget_resize(b, *cap, to, force))
		return BUF_NO_ROOM;
	if (to) {
		p = realloc(*buf, to);
		if (!p) {
			spop_budget_resize(b, to, *cap, true);
			return BUF_NO_MEMORY;
		}
	} else {
		free(*buf);
	}
	*buf = p;
	*cap = to;
	return BUF_OK;
}

uint64_t conn_now_ns(const struct spop_conn *c)
{
	return clock_now_ns(c->settings->clock);
}

uint64_t conn_last_frame_ns(const struct spop_conn *c)
{
	return c->last_frame_ns;
}

uint64_t conn_frame_deadline_ns(const struct spop_conn *c)
{
	if (!c->settings->frame_timeout_ms || !c->pending_since_ns || c->phase == CONN_CLOSING)
		return 0;
	return c->pending_since_ns + (uint64_t)c->settings->frame_timeout_ms * 1000000u;
}

bool conn_waiting_memory(const struct spop_conn *c)
{
	return c->waiting_memory;
}

enum conn_phase conn_phase(const struct spop_conn *c)
{
	return c->phase;
}

const char *conn_close_reason(const struct spop_conn *c)
{
	return c->close_reason;
}

enum spop_status conn_close_status(const struct spop_conn *c)
{
	return c->close_status;
}

bool conn_mid_frame(const struct spop_conn *c)
{
	return c->in_len > 0 || c->reassembling;
}

/* ------------------------------------------------------------------ */
/* output                                                              */

const uint8_t *conn_output(const struct spop_conn *c, size_t *len)
{
	static const uint8_t empty[1];

	*len = c->out_len - c->out_off;
	return c->out ? c->out + c->out_off : empty;
}

void conn_output_consume(struct spop_conn *c, size_t n)
{
	c->out_off += n;
	if (c->out_off >= c->out_len)
		c->out_off = c->out_len = 0;
}

/* A writer over the free tail of the output buffer, with room for one
 * agent frame. False when memory runs out. */
static bool output_writer(struct spop_conn *c, struct spop_writer *w)
{
	if (c->out_cap - c->out_len < OUTPUT_FRAME_MAX) {
		size_t cap = c->out_cap ? c->out_cap * 2 : 4096;

		if (c->out_off) {
			memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
			c->out_len -= c->out_off;
			c->out_off = 0;
		}
		while (cap - c->out_len < OUTPUT_FRAME_MAX)
			cap *= 2;
		/* charged but never refused: the server stops reading a peer
		 * whose ACKs pile up, which bounds this buffer */
		if (c->out_cap - c->out_len < OUTPUT_FRAME_MAX &&
		    buf_resize(c, &c->out, &c->out_cap, cap, true) != BUF_OK)
			return false;
	}
	*w = spop_writer_init(c->out + c->out_len, c->out_cap - c->out_len);
	return true;
}

static void output_commit(struct spop_conn *c, const struct spop_writer *w, uint8_t type)
{
	c->out_len += w->len;
	c->stats->frames_out[frame_kind_of(type)]++;
}

void conn_close(struct spop_conn *c, enum spop_status status, const char *reason)
{
	struct spop_writer w;

	if (c->phase == CONN_CLOSING)
		return;
	c->phase = CONN_CLOSING;
	c->close_status = status;
	snprintf(c->close_reason, sizeof(c->close_reason), "%s", reason);
	if (status != SPOP_STATUS_NONE)
		c->stats->protocol_errors++;
	if (output_writer(c, &w) && spop_encode_agent_disconnect(&w, status, reason) == SPOP_OK)
		output_commit(c, &w, SPOP_FRAME_AGENT_DISCONNECT);
}

static void fail(struct spop_conn *c, enum spop_status status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void fail(struct spop_conn *c, enum spop_status status, const char *fmt, ...)
{
	char reason[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	conn_close(c, status, reason);
}

static void fail_rc(struct spop_conn *c, int rc, const char *where)
{
	char reason[160];

	c->stats->decode_errors[spop_rc_index(rc)]++;
	snprintf(reason, sizeof(reason), "%s: %s", where, spop_strerror(rc));
	conn_close(c, spop_status_for(rc), reason);
}

/* ------------------------------------------------------------------ */
/* input                                                               */

uint8_t *conn_input_space(struct spop_conn *c, size_t *avail)
{
	size_t want = INPUT_INITIAL;

	/* a partial frame whose length is known may need a bigger buffer */
	if (c->in_len >= 4) {
		size_t flen = ((size_t)c->in[0] << 24 | (size_t)c->in[1] << 16 |
			       (size_t)c->in[2] << 8 | c->in[3]) + 4;
		if (flen <= (size_t)c->frame_size + 4 && flen > want)
			want = flen;
	}
	if (c->in_cap - c->in_len == 0 || c->in_cap < want) {
		size_t cap = c->in_cap > want ? c->in_cap : want;
		enum buf_resize_rc rc;

		if (cap == c->in_cap)
			cap *= 2; /* full of whole frames not processed yet: cannot happen after process */
		rc = buf_resize(c, &c->in, &c->in_cap, cap, cap <= INPUT_INITIAL);
		if (rc != BUF_OK) {
			*avail = 0;
			if (rc == BUF_NO_MEMORY)
				conn_close(c, SPOP_STATUS_RESOURCE, "out of memory for the read buffer");
			else if (!c->waiting_memory) {
				/* the frame's clock runs on: conn_expire() ends the wait */
				c->waiting_memory = true;
				c->stats->memory_waits++;
			}
			return NULL;
		}
		c->waiting_memory = false;
	}
	*avail = c->in_cap - c->in_len;
	return c->in + c->in_len;
}

void conn_input_commit(struct spop_conn *c, size_t n)
{
	c->in_len += n;
}

/* ------------------------------------------------------------------ */
/* frames                                                              */

static void handle_hello(struct spop_conn *c, const struct spop_frame *f)
{
	struct spop_hello h;
	struct spop_writer w;
	uint32_t size;
	int rc = spop_hello_decode(f->payload, &h);

	if (rc != SPOP_OK) {
		fail_rc(c, rc, "HAPROXY-HELLO");
		return;
	}
	if (!spop_versions_accept(h.versions)) {
		fail(c, SPOP_STATUS_BAD_VERSION, "no supported version in '%.*s' (need 2.x)",
		     (int)(h.versions.len < 40 ? h.versions.len : 40), h.versions.ptr);
		return;
	}
	if (h.max_frame_size < SPOP_MIN_FRAME_SIZE) {
		fail(c, SPOP_STATUS_BAD_FRAME_SIZE, "max-frame-size %u is below 256",
		     h.max_frame_size);
		return;
	}
	size = h.max_frame_size < c->settings->max_frame_size ? h.max_frame_size
							      : c->settings->max_frame_size;
	/* We announce what we are configured for, not the intersection: HAProxy
	 * 2.x never lists "fragmentation" in its HELLO, yet fragments only if
	 * the agent announces it. */
	if (!output_writer(c, &w) ||
	    spop_encode_agent_hello(&w, size, c->settings->caps) != SPOP_OK) {
		conn_close(c, SPOP_STATUS_RESOURCE, "out of memory for AGENT-HELLO");
		return;
	}
	output_commit(c, &w, SPOP_FRAME_AGENT_HELLO);
	c->frame_size = size;
	if (h.healthcheck) {
		/* `option spop-check`: HELLO answered, nothing else to say */
		c->stats->conn_healthchecks++;
		c->phase = CONN_CLOSING;
		snprintf(c->close_reason, sizeof(c->close_reason), "health check done");
		return;
	}
	c->phase = CONN_READY;
}

static void handle_disconnect(struct spop_conn *c, const struct spop_frame *f)
{
	struct spop_disconnect d;
	char reason[160];
	int rc = spop_disconnect_decode(f->payload, &d);

	if (rc != SPOP_OK)
		d = (struct spop_disconnect){ 0 };
	snprintf(reason, sizeof(reason), "HAProxy disconnected (status %u%s%.*s)", d.status_code,
		 d.message.len ? ": " : "", (int)(d.message.len < 100 ? d.message.len : 100),
		 d.message.ptr ? d.message.ptr : "");
	conn_close(c, SPOP_STATUS_NONE, reason);
}

static bool send_ack(struct spop_conn *c, uint64_t sid, uint64_t fid)
{
	struct spop_writer w;

	if (!output_writer(c, &w) || spop_encode_ack(&w, sid, fid, NULL, 0) != SPOP_OK) {
		conn_close(c, SPOP_STATUS_RESOURCE, "out of memory for ACK");
		return false;
	}
	output_commit(c, &w, SPOP_FRAME_ACK);
	return true;
}

/* Hands every message of a complete NOTIFY payload to the handler. */
static void dispatch(struct spop_conn *c, struct slice payload)
{
	struct spop_message_iter it = spop_message_iter_init(payload);
	struct spop_message m;
	int rc;

	while ((rc = spop_message_next(&it, &m)) == 1)
		c->handler.on_message(c->handler.arg, &m);
	if (rc < 0)
		fail_rc(c, rc, "NOTIFY payload");
}

static void reassembly_reset(struct spop_conn *c)
{
	c->reassembling = false;
	c->frag_overflow = false;
	c->frag_len = 0;
	/* a big reassembly buffer is not kept for the next one */
	if (c->frag_cap > INPUT_KEEP_MAX)
		buf_resize(c, &c->frag, &c->frag_cap, 0, true);
}

static void reassembly_append(struct spop_conn *c, struct slice data)
{
	if (c->frag_overflow)
		return;
	if (c->frag_len + data.len > c->settings->reassembly_max) {
		c->frag_overflow = true;
		return;
	}
	if (c->frag_cap - c->frag_len < data.len) {
		size_t cap = c->frag_cap ? c->frag_cap : INPUT_INITIAL;

		while (cap - c->frag_len < data.len)
			cap *= 2;
		if (cap > c->settings->reassembly_max)
			cap = c->settings->reassembly_max;
		/* no room in the budget: dropped like one over reassembly-max
		 * (still ACKed), rather than waiting with a half-held buffer */
		if (buf_resize(c, &c->frag, &c->frag_cap, cap, cap <= INPUT_INITIAL) != BUF_OK) {
			c->frag_overflow = true;
			return;
		}
	}
	if (data.len)
		memcpy(c->frag + c->frag_len, data.ptr, data.len);
	c->frag_len += data.len;
}

/* The whole fragmented NOTIFY arrived: ACK, then mirror (or count it
 * dropped when it outgrew the reassembly limit). */
static void reassembly_finish(struct spop_conn *c)
{
	if (!send_ack(c, c->frag_sid, c->frag_fid))
		return;
	if (c->frag_overflow)
		c->stats->reassembly_dropped++;
	else {
		c->stats->fragmented_notify++;
		dispatch(c, slice_make(c->frag, c->frag_len));
	}
	reassembly_reset(c);
}

static void handle_notify(struct spop_conn *c, const struct spop_frame *f)
{
	if (c->reassembling) {
		fail(c, SPOP_STATUS_INTERLACED, "NOTIFY while a fragmented NOTIFY is pending");
		return;
	}
	if (f->flags & SPOP_FLAG_ABORT) {
		/* aborted before it started: nothing to ACK or mirror */
		c->stats->aborted++;
		return;
	}
	if (!(f->flags & SPOP_FLAG_FIN)) {
		if (!(c->settings->caps & SPOP_CAP_FRAGMENTATION)) {
			fail(c, SPOP_STATUS_FRAG_NOT_SUPPORTED,
			     "fragmented NOTIFY but fragmentation was not announced");
			return;
		}
		c->reassembling = true;
		c->frag_sid = f->stream_id;
		c->frag_fid = f->frame_id;
		reassembly_append(c, f->payload);
		return;
	}
	if (send_ack(c, f->stream_id, f->frame_id))
		dispatch(c, f->payload);
}

static void handle_fragment(struct spop_conn *c, const struct spop_frame *f)
{
	c->stats->fragments++;
	if (!c->reassembling) {
		fail(c, SPOP_STATUS_INTERLACED, "fragment without a pending NOTIFY");
		return;
	}
	if (f->stream_id != c->frag_sid || f->frame_id != c->frag_fid) {
		fail(c, SPOP_STATUS_INTERLACED, "fragment ids differ from the pending NOTIFY");
		return;
	}
	if (f->flags & SPOP_FLAG_ABORT) {
		/* HAProxy gave up on this event (stream gone): no ACK expected */
		c->stats->aborted++;
		reassembly_reset(c);
		return;
	}
	reassembly_append(c, f->payload);
	if (f->flags & SPOP_FLAG_FIN)
		reassembly_finish(c);
}

/* HELLO and DISCONNECT speak for the connection, not for a stream: FIN set,
 * stream-id and frame-id 0 (doc/SPOE.txt, 3.2.5 and 3.2.7). The statuses
 * are those HAProxy 2.6 answers an agent's HELLO and DISCONNECT with
 * (flt_spoe.c): no FIN is 10, fragmentation not supported, checked first;
 * ids are 4, invalid frame. (3.x's mux_spop.c says 4 for both during its
 * handshake, 10 for no FIN on any frame after it.) */
static bool connection_frame_ok(struct spop_conn *c, const struct spop_frame *f)
{
	const char *what = f->type == SPOP_FRAME_HAPROXY_HELLO ? "HAPROXY-HELLO"
							       : "HAPROXY-DISCONNECT";

	if (!(f->flags & SPOP_FLAG_FIN)) {
		fail(c, SPOP_STATUS_FRAG_NOT_SUPPORTED, "%s without FIN", what);
		return false;
	}
	if (f->stream_id || f->frame_id) {
		fail(c, SPOP_STATUS_INVALID, "%s with stream-id %llu and frame-id %llu (must be 0)",
		     what, (unsigned long long)f->stream_id, (unsigned long long)f->frame_id);
		return false;
	}
	return true;
}

static void handle_frame(struct spop_conn *c, const struct spop_frame *f)
{
	c->stats->frames_in[frame_kind_of(f->type)]++;
	if ((f->type == SPOP_FRAME_HAPROXY_HELLO || f->type == SPOP_FRAME_HAPROXY_DISCONNECT) &&
	    !connection_frame_ok(c, f))
		return;
	if (f->type == SPOP_FRAME_HAPROXY_DISCONNECT) {
		handle_disconnect(c, f);
		return;
	}
	if (c->phase == CONN_HELLO) {
		if (f->type == SPOP_FRAME_HAPROXY_HELLO)
			handle_hello(c, f);
		else
			fail(c, SPOP_STATUS_INVALID, "%s before HELLO",
			     f->type == SPOP_FRAME_NOTIFY ? "NOTIFY" : "unexpected frame");
		return;
	}
	switch (f->type) {
	case SPOP_FRAME_NOTIFY:
		handle_notify(c, f);
		break;
	case SPOP_FRAME_UNSET:
		handle_fragment(c, f);
		break;
	case SPOP_FRAME_HAPROXY_HELLO:
		fail(c, SPOP_STATUS_INVALID, "second HELLO");
		break;
	default:
		fail(c, SPOP_STATUS_INVALID, "unknown frame type %u", f->type);
		break;
	}
}

enum conn_phase conn_expire(struct spop_conn *c)
{
	uint64_t deadline = conn_frame_deadline_ns(c);
	unsigned ms = c->settings->frame_timeout_ms;

	if (!deadline || conn_now_ns(c) < deadline)
		return c->phase;
	if (c->waiting_memory) {
		c->stats->memory_refused++;
		fail(c, SPOP_STATUS_RESOURCE,
		     "no memory for a frame within %u ms (spop-memory-max full)", ms);
	} else {
		c->stats->frame_timeouts++;
		fail(c, SPOP_STATUS_TIMEOUT, "frame not complete %u ms after its first byte", ms);
	}
	return c->phase;
}

/* The frame clocks after conn_process(): a frame complete is activity and
 * whatever follows it is a new frame; bytes of an incomplete one are not. */
static void frame_clocks_update(struct spop_conn *c, uint64_t done_before)
{
	if (c->frames_done != done_before) {
		uint64_t now = conn_now_ns(c);

		c->last_frame_ns = now;
		c->pending_since_ns = conn_mid_frame(c) ? now : 0;
	} else if (!conn_mid_frame(c)) {
		c->pending_since_ns = 0;
	} else if (!c->pending_since_ns) {
		c->pending_since_ns = conn_now_ns(c);
	}
}

enum conn_phase conn_process(struct spop_conn *c)
{
	size_t off = 0;
	uint64_t done_before = c->frames_done;

	while (c->phase != CONN_CLOSING) {
		struct spop_frame f;
		size_t used;
		int rc = spop_frame_decode(c->in + off, c->in_len - off, c->frame_size, &f, &used);

		if (rc == SPOP_NEED_MORE)
			break;
		if (rc != SPOP_OK) {
			fail_rc(c, rc, "frame");
			break;
		}
		handle_frame(c, &f);
		off += used;
		if (!c->reassembling)
			c->frames_done++;
	}
	if (c->phase == CONN_CLOSING) {
		c->in_len = 0; /* nothing more is read from a closing connection */
	} else if (off) {
		memmove(c->in, c->in + off, c->in_len - off);
		c->in_len -= off;
	}
	if (c->in_len == 0 && c->in_cap > INPUT_KEEP_MAX)
		buf_resize(c, &c->in, &c->in_cap, 0, true);
	frame_clocks_update(c, done_before);
	return c->phase;
}

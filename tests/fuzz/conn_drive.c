/* The whole-connection driver behind fuzz_conn (see conn_drive.h). Every
 * input gets fresh targets, counters and budget, so a saved input replays
 * the same way on its own. Checks are recorded, not aborted on: the fuzz
 * target aborts, the replayer prints. What the agent wrote is checked
 * against an independent scan of the input, not against conn.c's own
 * bookkeeping. */
#include "conn_drive.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "conn.h"
#include "headers.h"
#include "log.h"
#include "mirror.h"
#include "queue.h"
#include "request.h"
#include "spop.h"
#include "stats.h"
#include "target.h"
#include "response.h"
#include "verdict_expect.h"

/* ---- option tables (indexed by conn_drive_options fields) ---- */

/* index 0 (0 here) is the agent's default, as config_init() sets it */
static const uint32_t frame_sizes[4] = { 0, 16380, 1024, SPOP_MIN_FRAME_SIZE };
static const size_t reassembly_limits[4] = { 0, 65536, 2048, 256 };
static const unsigned hold_depths[4] = { 0, 1, 4, 16 };
static const size_t chunk_max[4] = { 0 /* everything at once */, 1, 16, 512 };
static const size_t budget_entries[4] = { 0, 8, 2, 1 };
static const size_t budget_bytes[4] = { 0, 65536, 4096, 600 };
static const unsigned inflight_caps[4] = { 0, 4, 2, 1 };

/* The option's value, or the default when it is 0. */
static size_t or_default(size_t option, size_t dflt)
{
	return option ? option : dflt;
}

#define HOLD_MAX 16

/* What the shadows "answer", cycled per finished target. */
static const struct {
	long status;
	enum outcome_class failure;
} outcomes[] = {
	{ 200, OUTCOME_OTHER },
	{ 503, OUTCOME_OTHER },
	{ 0, OUTCOME_TIMEOUT },
	{ 302, OUTCOME_OTHER },
	{ 0, OUTCOME_CONNECT_ERROR },
};
#define N_OUTCOMES (sizeof(outcomes) / sizeof(outcomes[0]))

/* The two targets: everything to one; half, keyed on a header by default,
 * to the other, which also replays cut bodies. */
enum { T_FULL, T_HALF, N_TARGETS };
static const struct {
	enum sample_key key;
	const char *name;
} half_keys[4] = {
	{ SAMPLE_KEY_HEADER, "x-request-id" },
	{ SAMPLE_KEY_COOKIE, "session" },
	{ SAMPLE_KEY_CLIENT, NULL },
	{ SAMPLE_KEY_RANDOM, NULL },
};
#define FULL_RATE_LIMIT 2.0 /* requests/s; the burst is as large */

void conn_drive_options_encode(const struct conn_drive_options *o,
			       uint8_t out[CONN_DRIVE_HEADER])
{
	out[0] = (uint8_t)((o->frame_size & 3) | (o->no_fragmentation ? 4 : 0) |
			   (o->no_pipelining ? 8 : 0) | (o->reassembly & 3) << 4 | (o->hold & 3) << 6);
	out[1] = (uint8_t)((o->chunking & 3) | (o->seed & 63) << 2);
	out[2] = (uint8_t)((o->entries & 3) | (o->bytes & 3) << 2 | (o->inflight & 3) << 4 |
			   (o->outcome & 3) << 6);
	out[3] = (uint8_t)((o->sample_key & 3) | (o->rate_limited ? 4 : 0) |
			   (o->slow_reader ? 8 : 0));
}

void conn_drive_options_decode(const uint8_t *in, size_t len, struct conn_drive_options *o)
{
	uint8_t b[CONN_DRIVE_HEADER] = { 0 };

	memcpy(b, in, len < CONN_DRIVE_HEADER ? len : CONN_DRIVE_HEADER);
	*o = (struct conn_drive_options){
		.frame_size = b[0] & 3,
		.no_fragmentation = (b[0] & 4) != 0,
		.no_pipelining = (b[0] & 8) != 0,
		.reassembly = (b[0] >> 4) & 3,
		.hold = (b[0] >> 6) & 3,
		.chunking = b[1] & 3,
		.seed = (b[1] >> 2) & 63,
		.entries = b[2] & 3,
		.bytes = (b[2] >> 2) & 3,
		.inflight = (b[2] >> 4) & 3,
		.outcome = (b[2] >> 6) & 3,
		.sample_key = b[3] & 3,
		.rate_limited = (b[3] & 4) != 0,
		.slow_reader = (b[3] & 8) != 0,
	};
}

/* ---- the driver's state ---- */

struct notify_id {
	uint64_t sid, fid;
};

struct drive {
	struct conn_drive_options o;
	struct conn_settings settings;
	struct agent_config cfg;
	struct stats_registry reg;
	struct target_set *set;
	struct queue_budget budget;
	struct spop_stats stats;
	struct mirror_dispatch dispatch;
	struct verdict_stats verdict_stats;
	struct spop_conn *conn;

	/* the replay side: requests kept unfinished, and what was finished */
	struct mirror_request *held[HOLD_MAX];
	unsigned n_held;
	unsigned outcome_next;
	uint64_t finished[N_TARGETS];
	uint64_t answered[N_TARGETS];
	uint64_t handler_calls;
	uint64_t submitted;

	/* everything the agent wrote, in order */
	uint8_t *out;
	size_t out_len;
	size_t out_cap;

	/* independent scan of the input */
	struct notify_id *notifies;
	size_t n_notifies;
	struct spop_hello hello;
	bool have_hello;
	uint32_t agent_frame_size; /* the max-frame-size of our AGENT-HELLO */
	size_t leftover;   /* bytes after the last whole frame */
	bool frag_pending; /* the last NOTIFY began a fragmented one, not ended */
	struct timespec started;

	uint32_t rng;
	const char *fail;
};

static char fail_text[256];

static void check(struct drive *d, bool ok, const char *what)
{
	if (!ok && !d->fail)
		d->fail = what;
}

static void checkf(struct drive *d, bool ok, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void checkf(struct drive *d, bool ok, const char *fmt, ...)
{
	va_list ap;

	if (ok || d->fail)
		return;
	va_start(ap, fmt);
	vsnprintf(fail_text, sizeof(fail_text), fmt, ap);
	va_end(ap);
	d->fail = fail_text;
}

/* xorshift32: piece and drain sizes, reproducible from the option byte */
static uint32_t next_rand(struct drive *d)
{
	uint32_t x = d->rng;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	d->rng = x;
	return x;
}

/* ---- the replay side ---- */

/* Like a replay worker: every target in the mask ends (answered or not),
 * and the last one frees the request. */
static void finish(struct drive *d, struct mirror_request *r)
{
	struct target_set *set = r->set;
	uint32_t mask = r->target_mask; /* r is gone after its last done */

	for (size_t i = 0; i < set->count && i < N_TARGETS; i++) {
		if (!(mask & (1u << i)))
			continue;
		unsigned k = d->outcome_next++ % N_OUTCOMES;

		target_finish(&set->targets[i], outcomes[k].status, outcomes[k].failure, 1500);
		d->finished[i]++;
		if (outcomes[k].status > 0)
			d->answered[i]++;
		request_target_done(r);
	}
}

static bool token_char(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       (ch != 0 && strchr("!#$%&'*+-.^_`|~", ch) != NULL);
}

/* What a submitted request must look like, whatever the input was. */
static void check_request(struct drive *d, const struct mirror_request *r)
{
	uint32_t mask = r->target_mask;
	unsigned bits = 0;

	check(d, r->set == d->set, "request points at another target set");
	check(d, mask != 0 && (mask >> N_TARGETS) == 0, "request target mask empty or out of range");
	for (unsigned i = 0; i < N_TARGETS; i++)
		bits += (mask >> i) & 1;
	check(d, atomic_load(&r->pending) == bits, "request pending count differs from its mask");
	check(d, r->budget == &d->budget && r->charge > 0, "request not charged to the budget");
	check(d, atomic_load(&d->budget.entries) == 1 + d->n_held &&
			 atomic_load(&d->budget.bytes) >= r->charge,
	      "budget entries differ from the live requests");
	check(d, atomic_load(&d->budget.entries) <= d->budget.max_entries &&
			 atomic_load(&d->budget.bytes) <= d->budget.max_bytes,
	      "budget over its limits");
	check(d, r->method.len > 0 && r->uri.len > 0, "request without method or uri");
	check(d, r->n_headers <= MIRROR_MAX_HEADERS, "request with too many headers");
	for (size_t i = 0; i < r->n_headers && i < MIRROR_MAX_HEADERS; i++) {
		const struct http_header *h = &r->headers[i];

		check(d, h->name.len > 0, "request header with an empty name");
		for (size_t k = 0; k < h->name.len; k++)
			check(d, token_char((unsigned char)h->name.ptr[k]),
			      "request header name not a token");
		for (size_t k = 0; k < h->value.len; k++)
			check(d, h->value.ptr[k] != '\r' && h->value.ptr[k] != '\n' &&
					 h->value.ptr[k] != '\0',
			      "request header value holds CR, LF or NUL");
	}
	check(d, !(r->truncated && (mask & (1u << T_FULL))),
	      "cut body sent to a target that does not replay them");
	for (unsigned i = 0; i < N_TARGETS; i++)
		if (mask & (1u << i))
			check(d, atomic_load(&d->set->targets[i].stats->inflight) <=
					 (int64_t)d->set->targets[i].cfg.max_inflight,
			      "target over its max in flight");
}

static void submit(void *arg, struct mirror_request *r)
{
	struct drive *d = arg;
	unsigned depth = hold_depths[d->o.hold];

	check_request(d, r);
	d->submitted++;
	if (depth == 0) {
		finish(d, r);
		return;
	}
	if (d->n_held == depth) {
		finish(d, d->held[0]);
		memmove(d->held, d->held + 1, (depth - 1) * sizeof(d->held[0]));
		d->n_held--;
	}
	d->held[d->n_held++] = r;
}

/* Shadow verdicts' half on the SPOP thread: whatever the input, a
 * registration names only targets that compare, and a primary's answer
 * has an id and a status. */
static void verdict_item(void *arg, struct verdict_item *it)
{
	struct drive *d = arg;

	if (it->kind == VERDICT_ITEM_EXPECT) {
		const struct verdict_expect *x = (const struct verdict_expect *)it;

		check(d, x->expected && !(x->expected & ~d->set->compare_mask),
		      "registration for a target that does not compare");
		check(d, x->id.len > 0, "registration without id");
	} else {
		const struct primary_answer *p = (const struct primary_answer *)it;

		check(d, it->kind == VERDICT_ITEM_PRIMARY, "unknown verdict item");
		check(d, p->id.len > 0 && p->answer.status >= 100 && p->answer.status <= 999,
		      "primary answer without id or status");
		check(d, p->answer.nheaders <= MIRROR_MAX_HEADERS, "too many headers kept");
	}
	verdict_item_free(it);
}

static void on_message(void *arg, const struct spop_message *m)
{
	struct drive *d = arg;

	check(d, conn_phase(d->conn) == CONN_READY, "message handled while not READY");
	check(d, d->stats.frames_out[FRAME_KIND_ACK] > 0, "message handled before its ACK");
	d->handler_calls++;
	mirror_on_message(&d->dispatch, m);
}

/* ---- setup and teardown ---- */

static bool drive_init(struct drive *d, const uint8_t *data, size_t len)
{
	struct target_config *t;
	char err[256];

	conn_drive_options_decode(data, len, &d->o);
	config_init(&d->cfg);
	d->settings = (struct conn_settings){
		.max_frame_size = (uint32_t)or_default(frame_sizes[d->o.frame_size],
						       d->cfg.max_frame_size),
		.caps = (d->o.no_fragmentation ? 0 : SPOP_CAP_FRAGMENTATION) |
			(d->o.no_pipelining ? 0 : SPOP_CAP_PIPELINING | SPOP_CAP_ASYNC),
		.reassembly_max = or_default(reassembly_limits[d->o.reassembly],
					     d->cfg.reassembly_max),
	};
	clock_gettime(CLOCK_MONOTONIC, &d->started);
	t = config_add_target(&d->cfg, "full", "http://127.0.0.1:1/");
	t->max_inflight = (unsigned)or_default(inflight_caps[d->o.inflight], t->max_inflight);
	if (d->o.rate_limited)
		t->rate_limit = FULL_RATE_LIMIT;
	t = config_add_target(&d->cfg, "half", "http://127.0.0.1:2/half");
	t->sample_percent = 50;
	t->sample_key = half_keys[d->o.sample_key].key;
	t->sample_key_name = half_keys[d->o.sample_key].name
				     ? strdup(half_keys[d->o.sample_key].name)
				     : NULL;
	t->max_inflight = (unsigned)or_default(inflight_caps[d->o.inflight], t->max_inflight);
	t->replay_truncated = true;
	t->compare = VERDICT_LEVEL_BODY;
	d->set = target_set_new(&d->cfg, &d->reg, err, sizeof(err));
	if (!d->set || (half_keys[d->o.sample_key].name && !t->sample_key_name)) {
		check(d, false, "cannot build the target set");
		return false;
	}
	queue_budget_init(&d->budget,
			  or_default(budget_entries[d->o.entries], d->cfg.queue_max_entries),
			  or_default(budget_bytes[d->o.bytes], d->cfg.queue_max_bytes));
	d->dispatch = (struct mirror_dispatch){
		.message_names = d->cfg.message_names,
		.n_message_names = d->cfg.n_message_names,
		.targets = &d->set,
		.budget = &d->budget,
		.submit = submit,
		.submit_arg = d,
		.stats = &d->stats,
		.invalid_log = LOG_RATELIMIT_INIT(60000),
		.truncated_log = LOG_RATELIMIT_INIT(60000),
		.response_names = d->cfg.response_message_names,
		.n_response_names = d->cfg.n_response_message_names,
		.verdict = verdict_item,
		.verdict_arg = d,
		.verdict_stats = &d->verdict_stats,
		.response_log = LOG_RATELIMIT_INIT(60000),
	};
	d->outcome_next = d->o.outcome;
	d->rng = 0x9E3779B9u ^ ((uint32_t)d->o.seed * 2654435761u);
	d->conn = conn_new(&d->settings, &(struct conn_handler){ on_message, d }, &d->stats);
	if (!d->conn) {
		check(d, false, "conn_new failed");
		return false;
	}
	return true;
}

static void drive_free(struct drive *d)
{
	conn_free(d->conn);
	target_set_unref(d->set);
	stats_registry_free(&d->reg);
	config_free(&d->cfg);
	free(d->out);
	free(d->notifies);
}

/* ---- the independent scan of the input ---- */

/* Frames as HAProxy's bytes split, with no size limit: the connection
 * handles a prefix of these. Keeps the first frame's HELLO and the ids of
 * every NOTIFY, fragmented or not, in order. */
static void scan_input(struct drive *d, const uint8_t *p, size_t len)
{
	size_t off = 0, used;
	struct spop_frame f;

	/* the smallest frame is 11 bytes */
	d->notifies = malloc((len / 11 + 1) * sizeof(*d->notifies));
	if (!d->notifies) {
		check(d, false, "out of memory for the input scan");
		return;
	}
	while (spop_frame_decode(p + off, len - off, UINT32_MAX, &f, &used) == SPOP_OK) {
		/* a HELLO counts only with FIN and ids 0 (conn.c refuses others) */
		if (off == 0 && f.type == SPOP_FRAME_HAPROXY_HELLO)
			d->have_hello = (f.flags & SPOP_FLAG_FIN) && !f.stream_id && !f.frame_id &&
					spop_hello_decode(f.payload, &d->hello) == SPOP_OK;
		if (f.type == SPOP_FRAME_NOTIFY) {
			d->notifies[d->n_notifies++] =
				(struct notify_id){ f.stream_id, f.frame_id };
			d->frag_pending = !(f.flags & (SPOP_FLAG_FIN | SPOP_FLAG_ABORT));
		} else if (f.type == SPOP_FRAME_UNSET && (f.flags & (SPOP_FLAG_FIN | SPOP_FLAG_ABORT))) {
			d->frag_pending = false;
		}
		off += used;
	}
	d->leftover = len - off;
}

/* ---- feeding and draining ---- */

static void keep_output(struct drive *d, const uint8_t *p, size_t n)
{
	if (d->out_cap - d->out_len < n) {
		size_t cap = d->out_cap ? d->out_cap : 1024;
		uint8_t *q;

		while (cap - d->out_len < n)
			cap *= 2;
		q = realloc(d->out, cap);
		if (!q) {
			check(d, false, "out of memory for the output copy");
			return;
		}
		d->out = q;
		d->out_cap = cap;
	}
	memcpy(d->out + d->out_len, p, n);
	d->out_len += n;
}

/* Takes what the agent wrote: all of it, or a random part as a slow
 * socket would, or (slow reader) mostly nothing and never more than half,
 * so the output piles up with a consumed head. */
static void drain(struct drive *d, bool all)
{
	size_t len, n;
	const uint8_t *p = conn_output(d->conn, &len);

	if (all || len == 0)
		n = len;
	else if (d->o.slow_reader)
		n = next_rand(d) % 8 ? 0 : next_rand(d) % (len / 2 + 1);
	else
		n = next_rand(d) % (len + 1);
	if (n) {
		keep_output(d, p, n);
		conn_output_consume(d->conn, n);
	}
}

static uint64_t frames_in_total(const struct spop_stats *s)
{
	uint64_t n = 0;

	for (unsigned k = 0; k < FRAME_KIND_COUNT; k++)
		n += s->frames_in[k];
	return n;
}

static void feed(struct drive *d, const uint8_t *in, size_t left)
{
	size_t piece_max = chunk_max[d->o.chunking];

	while (left && !d->fail) {
		bool closing = conn_phase(d->conn) == CONN_CLOSING;
		uint64_t frames_before = frames_in_total(&d->stats);
		uint64_t calls_before = d->handler_calls;
		size_t out_before, out_after, avail, n;
		uint8_t *space;

		conn_output(d->conn, &out_before);
		space = conn_input_space(d->conn, &avail);
		if (!space || avail == 0) {
			check(d, false, "conn_input_space gave no room");
			return;
		}
		n = piece_max ? 1 + next_rand(d) % piece_max : left;
		if (n > left)
			n = left;
		if (n > avail)
			n = avail;
		memcpy(space, in, n);
		conn_input_commit(d->conn, n);
		in += n;
		left -= n;
		check(d, conn_process(d->conn) == conn_phase(d->conn),
		      "conn_process returned another phase than conn_phase");
		if (closing) {
			/* the owner stops reading; bytes that still arrive change nothing */
			conn_output(d->conn, &out_after);
			check(d, conn_phase(d->conn) == CONN_CLOSING, "left CLOSING");
			check(d, frames_in_total(&d->stats) == frames_before,
			      "frame handled after CLOSING");
			check(d, d->handler_calls == calls_before, "message handled after CLOSING");
			check(d, out_after == out_before, "output written after CLOSING");
		}
		drain(d, piece_max == 0);
	}
}

/* ---- checks on the output ---- */

static void check_agent_hello(struct drive *d, struct slice payload)
{
	const uint8_t *p = (const uint8_t *)payload.ptr, *end = p + payload.len;
	bool version = false, size = false, caps = false;
	uint32_t expect;

	if (!d->have_hello) {
		check(d, false, "AGENT-HELLO without a valid HAPROXY-HELLO first");
		return;
	}
	expect = d->hello.max_frame_size < d->settings.max_frame_size ? d->hello.max_frame_size
								       : d->settings.max_frame_size;
	d->agent_frame_size = expect; /* what the ACKs must fit, once checked below */
	check(d, expect >= SPOP_MIN_FRAME_SIZE, "negotiated frame size below 256");
	while (p < end) {
		struct spop_kv kv;

		if (spop_kv_decode(&p, end, &kv) != SPOP_OK) {
			check(d, false, "AGENT-HELLO payload does not decode");
			return;
		}
		if (slice_eq_cstr(kv.name, "version")) {
			check(d, !version && kv.value.type == SPOP_T_STRING &&
					 slice_eq_cstr(kv.value.u.str, "2.0"),
			      "AGENT-HELLO version is not one string \"2.0\"");
			version = true;
		} else if (slice_eq_cstr(kv.name, "max-frame-size")) {
			check(d, !size && kv.value.type == SPOP_T_UINT32 && kv.value.u.u32 == expect,
			      "AGENT-HELLO max-frame-size is not min(ours, HAProxy's)");
			size = true;
		} else if (slice_eq_cstr(kv.name, "capabilities")) {
			check(d, !caps && kv.value.type == SPOP_T_STRING &&
					 spop_caps_parse(kv.value.u.str) == d->settings.caps,
			      "AGENT-HELLO capabilities are not the configured ones");
			caps = true;
		} else {
			check(d, false, "AGENT-HELLO holds an unknown item");
		}
	}
	check(d, version && size && caps, "AGENT-HELLO misses an item");
}

static void check_agent_disconnect(struct drive *d, const struct spop_frame *f)
{
	struct spop_disconnect dc;
	struct slice reason = slice_from_cstr(conn_close_reason(d->conn));

	check(d, f->stream_id == 0 && f->frame_id == 0, "AGENT-DISCONNECT ids are not 0");
	if (spop_disconnect_decode(f->payload, &dc) != SPOP_OK) {
		check(d, false, "AGENT-DISCONNECT payload does not decode");
		return;
	}
	if (reason.len > SPOP_MAX_MESSAGE_LEN)
		reason.len = SPOP_MAX_MESSAGE_LEN;
	check(d, dc.status_code == (uint32_t)conn_close_status(d->conn),
	      "AGENT-DISCONNECT status differs from conn_close_status");
	check(d, dc.message.len == reason.len &&
			 (reason.len == 0 || !memcmp(dc.message.ptr, reason.ptr, reason.len)),
	      "AGENT-DISCONNECT message differs from conn_close_reason");
	check(d, dc.message.len > 0, "AGENT-DISCONNECT without a reason");
}

static void check_output(struct drive *d, struct conn_drive_tally *t)
{
	size_t off = 0, used, next_notify = 0;
	unsigned hellos = 0, acks = 0, disconnects = 0;
	struct spop_frame f;

	while (off < d->out_len) {
		if (spop_frame_decode(d->out + off, d->out_len - off, UINT32_MAX, &f, &used) !=
		    SPOP_OK) {
			check(d, false, "agent output holds a cut or malformed frame");
			return;
		}
		check(d, disconnects == 0, "agent wrote a frame after AGENT-DISCONNECT");
		check(d, f.flags == SPOP_FLAG_FIN, "agent frame flags are not exactly FIN");
		switch (f.type) {
		case SPOP_FRAME_AGENT_HELLO:
			check(d, off == 0 && f.stream_id == 0 && f.frame_id == 0,
			      "AGENT-HELLO is not the first frame or has ids");
			check_agent_hello(d, f.payload);
			hellos++;
			break;
		case SPOP_FRAME_ACK:
			check(d, hellos == 1, "ACK before AGENT-HELLO");
			check(d, f.payload.len == 0, "ACK carries actions");
			check(d, used - 4 <= d->agent_frame_size, "ACK over the frame size");
			/* ACKs answer NOTIFYs sent, once each, in their order */
			while (next_notify < d->n_notifies &&
			       (d->notifies[next_notify].sid != f.stream_id ||
				d->notifies[next_notify].fid != f.frame_id))
				next_notify++;
			check(d, next_notify < d->n_notifies,
			      "ACK for no NOTIFY sent, or out of order, or twice");
			next_notify++;
			acks++;
			break;
		case SPOP_FRAME_AGENT_DISCONNECT:
			/* must fit the smallest frame size any HAProxy accepts */
			check(d, used - 4 <= SPOP_MIN_FRAME_SIZE, "AGENT-DISCONNECT over 256 bytes");
			check_agent_disconnect(d, &f);
			disconnects++;
			break;
		default:
			checkf(d, false, "agent wrote a frame of type %u", f.type);
			break;
		}
		off += used;
	}
	check(d, hellos == d->stats.frames_out[FRAME_KIND_AGENT_HELLO] &&
			 acks == d->stats.frames_out[FRAME_KIND_ACK] &&
			 disconnects == d->stats.frames_out[FRAME_KIND_AGENT_DISCONNECT],
	      "frames_out counters differ from the frames written");
	check(d, acks <= d->stats.frames_in[FRAME_KIND_NOTIFY], "more ACKs than NOTIFY frames");
	check(d, conn_phase(d->conn) == CONN_CLOSING, "not CLOSING after conn_close");
	if (d->stats.conn_healthchecks)
		check(d, hellos == 1 && acks == 0 && disconnects == 0 && d->hello.healthcheck,
		      "health check not answered by AGENT-HELLO alone");
	else
		check(d, disconnects == 1, "closed without exactly one AGENT-DISCONNECT");
	check(d, d->stats.protocol_errors ==
			 (conn_close_status(d->conn) != SPOP_STATUS_NONE ? 1u : 0u),
	      "protocol_errors differs from the close status");
	if (t)
		t->acks = acks;
}

/* ---- checks on the counters ---- */

static double elapsed_s(const struct drive *d)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - d->started.tv_sec) +
	       (double)(now.tv_nsec - d->started.tv_nsec) / 1e9;
}

static void check_target(struct drive *d, unsigned i)
{
	const struct target *tg = &d->set->targets[i];
	const struct target_stats *s = tg->stats;
	uint64_t received = stat_get(&s->received);
	uint64_t accounted = stat_get(&s->mirrored) + stat_get(&s->failed) +
			     target_stats_dropped_total(s) + stat_get(&s->sampled_out) +
			     (uint64_t)atomic_load(&s->inflight);

	checkf(d, received == accounted,
	       "target '%s': received %llu != mirrored+failed+dropped+sampled_out+inflight %llu",
	       tg->cfg.name, (unsigned long long)received, (unsigned long long)accounted);
	checkf(d, atomic_load(&s->inflight) == 0, "target '%s': %lld still in flight at the end",
	       tg->cfg.name, (long long)atomic_load(&s->inflight));
	checkf(d, received == d->stats.messages_mirror,
	       "target '%s': received %llu, messages mirrored %llu", tg->cfg.name,
	       (unsigned long long)received, (unsigned long long)d->stats.messages_mirror);
	checkf(d, stat_get(&s->mirrored) == d->answered[i] &&
			  stat_get(&s->failed) == d->finished[i] - d->answered[i],
	       "target '%s': mirrored/failed %llu/%llu, finished %llu answered %llu", tg->cfg.name,
	       (unsigned long long)stat_get(&s->mirrored), (unsigned long long)stat_get(&s->failed),
	       (unsigned long long)d->finished[i], (unsigned long long)d->answered[i]);
	check(d, stat_get(&s->dropped[DROP_SHUTDOWN]) == 0 &&
			 (stat_get(&s->dropped[DROP_RATE_LIMITED]) == 0 ||
			  (i == T_FULL && d->o.rate_limited)),
	      "drop counted for a reason that cannot happen here");
	if (i == T_FULL) {
		check(d, stat_get(&s->sampled_out) == 0, "a 100% target sampled a request out");
		if (d->o.rate_limited)
			checkf(d, d->finished[i] <= FULL_RATE_LIMIT + FULL_RATE_LIMIT * elapsed_s(d) + 1,
			       "rate-limited target took %llu requests in %.3f s",
			       (unsigned long long)d->finished[i], elapsed_s(d));
		check(d, stat_get(&s->dropped[DROP_TRUNCATED]) == d->stats.requests_truncated,
		      "truncated drops differ from truncated requests");
	} else {
		check(d, stat_get(&s->dropped[DROP_TRUNCATED]) == 0,
		      "truncated drop on a target that replays cut bodies");
	}
}

static void check_counters(struct drive *d, struct conn_drive_tally *t)
{
	check(d, d->handler_calls == d->stats.messages_mirror + d->stats.messages_invalid +
					     d->stats.messages_ignored + d->stats.messages_response,
	      "messages mirrored+invalid+response+ignored differ from messages handled");
	check(d, d->stats.requests_alloc_failed == 0, "request allocation failed");
	check(d, d->submitted <= d->stats.messages_mirror, "more requests than messages");
	for (unsigned i = 0; i < N_TARGETS; i++)
		check_target(d, i);
	checkf(d, atomic_load(&d->budget.entries) == 0 && atomic_load(&d->budget.bytes) == 0,
	       "queue budget not back to zero: %zu entries, %zu bytes",
	       (size_t)atomic_load(&d->budget.entries), (size_t)atomic_load(&d->budget.bytes));
	check(d, atomic_load(&d->budget.peak_bytes) <= d->budget.max_bytes,
	      "queue budget peak over its limit");
	check(d, atomic_load(&d->set->refs) == 1, "a request still holds the target set");
	if (t) {
		t->frames_in = (unsigned long)frames_in_total(&d->stats);
		t->messages = (unsigned long)d->handler_calls;
		t->submitted = (unsigned long)d->submitted;
	}
}

const char *conn_drive_check(const uint8_t *data, size_t len, struct conn_drive_tally *t)
{
	struct drive *d = calloc(1, sizeof(*d));
	size_t head = len < CONN_DRIVE_HEADER ? len : CONN_DRIVE_HEADER;
	const char *fail;
	size_t rest;

	if (!d)
		return "out of memory for the driver";
	if (t)
		*t = (struct conn_drive_tally){ 0 };
	/* invalid messages and cut bodies are logged at WARN, rate limited */
	log_set_level(LOG_LVL_ERROR);
	if (drive_init(d, data, len)) {
		scan_input(d, data + head, len - head);
		feed(d, data + head, len - head);
		if (conn_phase(d->conn) != CONN_CLOSING)
			/* every whole frame was taken: what is left is a partial
			 * frame or a fragmented NOTIFY not yet ended */
			check(d, conn_mid_frame(d->conn) == (d->leftover > 0 || d->frag_pending),
			      "conn_mid_frame differs from the input's last frames");
		if (t)
			t->closed_by_peer_or_error = conn_phase(d->conn) == CONN_CLOSING;
		/* the server's shutdown: a normal close once the input is over */
		conn_close(d->conn, SPOP_STATUS_NONE, "end of input");
		drain(d, true);
		conn_close(d->conn, SPOP_STATUS_IO, "closed twice");
		conn_output(d->conn, &rest);
		check(d, rest == 0, "a second conn_close wrote more");
		while (d->n_held)
			finish(d, d->held[--d->n_held]);
		check_output(d, t);
		check_counters(d, t);
	}
	fail = d->fail;
	drive_free(d);
	free(d);
	return fail;
}

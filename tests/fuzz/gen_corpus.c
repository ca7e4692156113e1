/* Writes the fuzz seed corpora under one directory (default
 * tests/fuzz/corpus), run by `make fuzz-corpus`; the output is committed:
 *   decode/  one file per sample stream of sample_frames.c, plus the two
 *            header blocks alone (fuzz_decode);
 *   conn/    whole connections for fuzz_conn: option bytes, then samples
 *            strung together as HAProxy would send them. Each is run
 *            through conn_drive_check before it is written, so a seed that
 *            breaks a check fails here, not later. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn_drive.h"
#include "sample_frames.h"
#include "spop.h"

static int write_file(const char *dir, const char *name, const uint8_t *buf, size_t len)
{
	char path[4096];
	FILE *f;
	int n = snprintf(path, sizeof(path), "%s/%s.bin", dir, name);

	if (n < 0 || (size_t)n >= sizeof(path)) {
		fprintf(stderr, "gen_corpus: path too long for %s in %s\n", name, dir);
		return -1;
	}
	f = fopen(path, "wb");
	if (!f) {
		fprintf(stderr, "gen_corpus: cannot create %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (fwrite(buf, 1, len, f) != len || fclose(f) != 0) {
		fprintf(stderr, "gen_corpus: cannot write %s: %s\n", path, strerror(errno));
		return -1;
	}
	printf("%s %zu bytes\n", path, len);
	return 0;
}

static int write_decode_corpus(const char *dir)
{
	static uint8_t buf[SAMPLE_MAX_LEN];
	size_t len;

	for (int k = 0; k < SAMPLE_COUNT; k++) {
		len = sample_build((enum sample_kind)k, buf, sizeof(buf));
		if (len == 0) {
			fprintf(stderr, "gen_corpus: sample %s does not fit in %d bytes\n",
				sample_name((enum sample_kind)k), SAMPLE_MAX_LEN);
			return -1;
		}
		if (write_file(dir, sample_name((enum sample_kind)k), buf, len) != 0)
			return -1;
	}
	len = sample_header_block(true, buf, sizeof(buf));
	if (len == 0 || write_file(dir, "hdrs_bin_block", buf, len) != 0)
		return -1;
	len = sample_header_block(false, buf, sizeof(buf));
	if (len == 0 || write_file(dir, "hdrs_text_block", buf, len) != 0)
		return -1;
	return 0;
}

/* ---- conn corpus ---- */

/* Pieces only the connection cares about, so not samples of their own
 * (the codec's sweeps over every sample are quadratic in frame size). */
enum {
	/* a NOTIFY with ABORT on its first frame: HAProxy gave up at once */
	PART_NOTIFY_ABORTED_AT_START = SAMPLE_COUNT,
	/* HELLO of an HAProxy with tune.bufsize raised: 1 MiB frames */
	PART_HELLO_BIG_FRAMES,
	/* one 70000-byte-body NOTIFY: past the 64 KiB the read buffer keeps */
	PART_NOTIFY_70K,
	/* an 80000-byte-body NOTIFY in 16000-byte fragments: past the 64 KiB
	 * the reassembly buffer keeps */
	PART_NOTIFY_FRAGMENTED_80K,
	/* 400 NOTIFYs without messages, ids as HAProxy 3.x numbers them: the
	 * ACKs outgrow the first output buffer */
	PART_NOTIFY_BURST,
	/* HELLO and DISCONNECT with metadata HAProxy never sends: no FIN
	 * (status 10), a stream-id or frame-id (status 4) */
	PART_HELLO_NO_FIN,
	PART_HELLO_WITH_IDS,
	PART_DISCONNECT_NO_FIN,
	PART_DISCONNECT_WITH_IDS,
	/* shadow verdicts: a request with its unique-id, then the primary's
	 * answer (id, status, res.hdrs_bin, body, time) in its own NOTIFY */
	PART_NOTIFY_REQUEST_WITH_ID,
	PART_NOTIFY_RESPONSE,
};

#define BIG_PART_MAX (256u * 1024)

/* One piece of a stream: a sample, or `frames` of its frames (0: all)
 * from frame `first` on, minus `cut` bytes at the end (an input that stops
 * mid-frame). */
struct part {
	int kind;
	unsigned first;
	unsigned frames;
	size_t cut;
};

#define MAX_PARTS 10

struct conn_seed {
	const char *name;
	struct conn_drive_options o;
	struct part parts[MAX_PARTS];
};

#define P(k) { (k), 0, 0, 0 }
#define END { -1, 0, 0, 0 }

/* The stream most seeds share: every argument naming and header format
 * the mirror path knows, then HAProxy's goodbye. */
#define SESSION P(SAMPLE_HELLO), P(SAMPLE_NOTIFY_GET_HDRS_BIN), P(SAMPLE_NOTIFY_GET_HDRS_TEXT), \
		P(SAMPLE_NOTIFY_POST_BODY), P(SAMPLE_NOTIFY_UNNAMED_ARGS),                   \
		P(SAMPLE_NOTIFY_TRUNCATED_BODY), P(SAMPLE_HAPROXY_DISCONNECT), END

static const struct conn_seed conn_seeds[] = {
	{ "verdict_request_then_response", { .chunking = 2, .seed = 11 },
	  { P(SAMPLE_HELLO), P(PART_NOTIFY_REQUEST_WITH_ID), P(PART_NOTIFY_RESPONSE),
	    P(SAMPLE_NOTIFY_GET_HDRS_BIN), P(PART_NOTIFY_RESPONSE), END } },
	{ "session_whole", { 0 }, { SESSION } },
	{ "session_bytewise", { .chunking = 1, .seed = 5 }, { SESSION } },
	{ "session_pieces_held", { .chunking = 2, .seed = 17, .hold = 2, .inflight = 3,
				   .outcome = 2 },
	  { SESSION } },
	{ "session_tight_budget", { .chunking = 3, .seed = 40, .hold = 1, .entries = 3,
				    .bytes = 3 },
	  { SESSION } },
	{ "session_no_caps_small_frames", { .frame_size = 2, .no_fragmentation = true,
					    .no_pipelining = true, .chunking = 2, .seed = 3 },
	  { SESSION } },
	{ "large_body_truncated", { .chunking = 3, .seed = 9 },
	  { P(SAMPLE_HELLO_ENGINE_ID), P(SAMPLE_NOTIFY_LARGE_BODY), P(SAMPLE_NOTIFY_POST_BODY),
	    END } },
	{ "large_body_too_big", { .frame_size = 2 },
	  { P(SAMPLE_HELLO), P(SAMPLE_NOTIFY_LARGE_BODY), P(SAMPLE_NOTIFY_POST_BODY), END } },
	{ "truncated_bodies_held", { .hold = 3, .inflight = 2 },
	  { P(SAMPLE_HELLO), P(SAMPLE_NOTIFY_TRUNCATED_BODY), P(SAMPLE_NOTIFY_TRUNCATED_BODY),
	    P(SAMPLE_NOTIFY_POST_BODY), P(SAMPLE_NOTIFY_TRUNCATED_BODY), END } },
	{ "healthcheck", { 0 },
	  { P(SAMPLE_HELLO_HEALTHCHECK), P(SAMPLE_NOTIFY_GET_HDRS_BIN), END } },
	{ "fragmented", { .chunking = 2, .seed = 33 },
	  { P(SAMPLE_HELLO), P(SAMPLE_NOTIFY_FRAGMENTED), P(SAMPLE_NOTIFY_GET_HDRS_BIN), END } },
	{ "fragmented_not_announced", { .no_fragmentation = true },
	  { P(SAMPLE_HELLO), P(SAMPLE_NOTIFY_FRAGMENTED), P(SAMPLE_NOTIFY_GET_HDRS_BIN), END } },
	{ "fragmented_over_reassembly_limit", { .reassembly = 3 },
	  { P(SAMPLE_HELLO), P(SAMPLE_NOTIFY_FRAGMENTED), P(SAMPLE_NOTIFY_POST_BODY), END } },
	{ "fragment_aborted", { 0 },
	  { P(SAMPLE_HELLO), P(SAMPLE_NOTIFY_ABORTED), P(SAMPLE_NOTIFY_GET_HDRS_TEXT), END } },
	{ "notify_aborted_at_start", { 0 },
	  { P(SAMPLE_HELLO), P(PART_NOTIFY_ABORTED_AT_START), P(SAMPLE_NOTIFY_POST_BODY), END } },
	{ "fragment_interlaced", { 0 },
	  { P(SAMPLE_HELLO), { SAMPLE_NOTIFY_FRAGMENTED, 0, 1, 0 }, P(SAMPLE_NOTIFY_GET_HDRS_BIN),
	    END } },
	{ "fragment_without_notify", { 0 },
	  { P(SAMPLE_HELLO), { SAMPLE_NOTIFY_FRAGMENTED, 1, 1, 0 }, END } },
	{ "haproxy_disconnect", { 0 },
	  { P(SAMPLE_HELLO), P(SAMPLE_NOTIFY_UNNAMED_ARGS), P(SAMPLE_HAPROXY_DISCONNECT),
	    P(SAMPLE_NOTIFY_GET_HDRS_BIN), END } },
	{ "disconnect_before_hello", { 0 }, { P(SAMPLE_HAPROXY_DISCONNECT), END } },
	{ "notify_before_hello", { 0 },
	  { P(SAMPLE_NOTIFY_GET_HDRS_BIN), P(SAMPLE_HELLO), END } },
	{ "second_hello", { 0 },
	  { P(SAMPLE_HELLO), P(SAMPLE_NOTIFY_GET_HDRS_TEXT), P(SAMPLE_HELLO), END } },
	{ "agent_frame_from_haproxy", { 0 },
	  { P(SAMPLE_HELLO), P(SAMPLE_ACK_EMPTY), END } },
	{ "large_frame_buffer_given_back", { 0 },
	  { P(PART_HELLO_BIG_FRAMES), P(PART_NOTIFY_70K), P(SAMPLE_NOTIFY_GET_HDRS_BIN), END } },
	{ "large_reassembly_buffer_given_back", { .chunking = 3, .seed = 21 },
	  { P(SAMPLE_HELLO), P(PART_NOTIFY_FRAGMENTED_80K), P(SAMPLE_NOTIFY_FRAGMENTED),
	    P(SAMPLE_NOTIFY_GET_HDRS_BIN), END } },
	{ "large_fragmented_over_limit", { .reassembly = 1 },
	  { P(SAMPLE_HELLO), P(PART_NOTIFY_FRAGMENTED_80K), P(SAMPLE_NOTIFY_GET_HDRS_BIN), END } },
	{ "pipelined_burst_slow_reader", { .chunking = 3, .seed = 1, .slow_reader = true },
	  { P(SAMPLE_HELLO), P(PART_NOTIFY_BURST), P(SAMPLE_NOTIFY_GET_HDRS_BIN), END } },
	{ "session_cookie_sampling_rate_limited", { .sample_key = 1, .rate_limited = true },
	  { SESSION } },
	{ "session_client_sampling_slow_reader", { .chunking = 2, .seed = 60, .sample_key = 2,
						   .slow_reader = true },
	  { SESSION } },
	{ "session_random_sampling_held", { .chunking = 3, .seed = 2, .sample_key = 3, .hold = 2,
					    .inflight = 2 },
	  { SESSION } },
	{ "input_ends_mid_frame", { .chunking = 2, .seed = 1 },
	  { P(SAMPLE_HELLO), P(SAMPLE_NOTIFY_GET_HDRS_BIN), { SAMPLE_NOTIFY_POST_BODY, 0, 0, 20 },
	    END } },
	{ "input_ends_mid_fragmented_notify", { 0 },
	  { P(SAMPLE_HELLO), { SAMPLE_NOTIFY_FRAGMENTED, 0, 2, 0 }, END } },
	{ "hello_without_fin", { 0 }, { P(PART_HELLO_NO_FIN), P(SAMPLE_NOTIFY_GET_HDRS_BIN), END } },
	{ "hello_with_ids", { .chunking = 1, .seed = 8 },
	  { P(PART_HELLO_WITH_IDS), P(SAMPLE_NOTIFY_GET_HDRS_BIN), END } },
	{ "disconnect_without_fin", { 0 },
	  { P(SAMPLE_HELLO), P(SAMPLE_NOTIFY_POST_BODY), P(PART_DISCONNECT_NO_FIN),
	    P(SAMPLE_NOTIFY_GET_HDRS_BIN), END } },
	{ "disconnect_with_ids", { .chunking = 2, .seed = 12 },
	  { P(SAMPLE_HELLO), P(PART_DISCONNECT_WITH_IDS), P(SAMPLE_NOTIFY_GET_HDRS_BIN), END } },
	{ "disconnect_with_ids_before_hello", { 0 },
	  { P(PART_DISCONNECT_WITH_IDS), P(SAMPLE_HELLO), END } },
};

/* A HAPROXY-HELLO or HAPROXY-DISCONNECT sample re-framed with other flags
 * and ids. */
static size_t connection_frame_meta(uint8_t *buf, size_t cap, enum sample_kind kind,
				    uint32_t flags, uint64_t sid, uint64_t fid)
{
	static uint8_t tmp[4096];
	size_t n = sample_build(kind, tmp, sizeof(tmp)), used;
	struct spop_writer w = spop_writer_init(buf, cap);
	struct spop_frame f;
	size_t start;

	if (n == 0 || spop_frame_decode(tmp, n, UINT32_MAX, &f, &used) != SPOP_OK)
		return 0;
	start = spop_frame_begin(&w, f.type, flags, sid, fid);
	spop_put_bytes(&w, f.payload.ptr, f.payload.len);
	spop_frame_end(&w, start);
	return w.overflow ? 0 : w.len;
}

/* Writes a NOTIFY frame with FIN and ABORT and an empty payload. */
static size_t aborted_at_start(uint8_t *buf, size_t cap)
{
	struct spop_writer w = spop_writer_init(buf, cap);
	size_t start = spop_frame_begin(&w, SPOP_FRAME_NOTIFY, SPOP_FLAG_FIN | SPOP_FLAG_ABORT,
					 4001, 12);

	spop_frame_end(&w, start);
	return w.overflow ? 0 : w.len;
}

/* A mirror-request message with text headers and a body of body_len bytes. */
static size_t big_payload(uint8_t *buf, size_t cap, size_t body_len)
{
	static uint8_t body[100000];
	char hdrs[256];
	struct spop_writer w = spop_writer_init(buf, cap);
	struct spop_value v;
	int n = snprintf(hdrs, sizeof(hdrs),
			 "Host: upload.example.com\r\nContent-Length: %zu\r\n"
			 "X-Request-Id: big-%zu\r\n\r\n",
			 body_len, body_len);

	if (body_len > sizeof(body) || n < 0 || (size_t)n >= sizeof(hdrs))
		return 0;
	for (size_t i = 0; i < body_len; i++)
		body[i] = (uint8_t)('a' + i % 26);
	spop_put_string(&w, SLICE_LIT("mirror-request"));
	spop_put_u8(&w, 5);
	v = spop_str_value(SLICE_LIT("PUT"));
	spop_put_kv(&w, "method", &v);
	v = spop_str_value(SLICE_LIT("/blobs/big"));
	spop_put_kv(&w, "path", &v);
	v = spop_str_value(SLICE_LIT("1.1"));
	spop_put_kv(&w, "version", &v);
	v = spop_str_value(slice_make(hdrs, (size_t)n));
	spop_put_kv(&w, "headers", &v);
	v = spop_bin_value(slice_make(body, body_len));
	spop_put_kv(&w, "body", &v);
	return w.overflow ? 0 : w.len;
}

/* A NOTIFY with one message: the request (with its unique-id) or the
 * primary's answer to it, as the comparison configurations send them. */
static size_t verdict_notify(uint8_t *buf, size_t cap, bool response)
{
	static const uint8_t hdrs[] = "\x0c" "content-type" "\x10" "application/json"
				      "\x0e" "content-length" "\x01" "7"
				      "\x04" "date" "\x03" "now" "\x00\x00";
	struct spop_writer w = spop_writer_init(buf, cap);
	size_t start = spop_frame_begin(&w, SPOP_FRAME_NOTIFY, SPOP_FLAG_FIN, 7001,
					response ? 2 : 1);
	struct spop_value v;

	if (response) {
		spop_put_string(&w, SLICE_LIT("mirror-response"));
		spop_put_u8(&w, 5);
		v = spop_str_value(SLICE_LIT("7f3a-1"));
		spop_put_kv(&w, "id", &v);
		v = spop_u32_value(200);
		spop_put_kv(&w, "status", &v);
		v = spop_bin_value(slice_make(hdrs, sizeof(hdrs) - 1));
		spop_put_kv(&w, "headers", &v);
		v = spop_bin_value(SLICE_LIT("{\"a\":1}"));
		spop_put_kv(&w, "body", &v);
		v = spop_u32_value(12);
		spop_put_kv(&w, "time", &v);
	} else {
		spop_put_string(&w, SLICE_LIT("mirror-request"));
		spop_put_u8(&w, 3);
		v = spop_str_value(SLICE_LIT("GET"));
		spop_put_kv(&w, "method", &v);
		v = spop_str_value(SLICE_LIT("/users/42"));
		spop_put_kv(&w, "path", &v);
		v = spop_str_value(SLICE_LIT("7f3a-1"));
		spop_put_kv(&w, "unique-id", &v);
	}
	spop_frame_end(&w, start);
	return w.overflow ? 0 : w.len;
}

/* The payload in one NOTIFY, or cut into frames of at most `piece` bytes:
 * a NOTIFY without FIN, then type-0 frames, the last with FIN. */
static size_t big_notify(uint8_t *buf, size_t cap, size_t body_len, size_t piece)
{
	static uint8_t payload[BIG_PART_MAX];
	size_t n = big_payload(payload, sizeof(payload), body_len), off = 0;
	struct spop_writer w = spop_writer_init(buf, cap);

	if (n == 0)
		return 0;
	if (!piece)
		piece = n;
	while (off < n) {
		size_t len = n - off < piece ? n - off : piece;
		uint8_t type = off == 0 ? SPOP_FRAME_NOTIFY : SPOP_FRAME_UNSET;
		size_t start = spop_frame_begin(&w, type, off + len == n ? SPOP_FLAG_FIN : 0, 6001,
						 77);

		spop_put_bytes(&w, payload + off, len);
		spop_frame_end(&w, start);
		off += len;
	}
	return w.overflow ? 0 : w.len;
}

static size_t build_part(int kind, uint8_t *buf, size_t cap)
{
	struct spop_writer w = spop_writer_init(buf, cap);

	switch (kind) {
	case PART_NOTIFY_BURST:
		for (unsigned i = 0; i < 400; i++)
			spop_frame_end(&w, spop_frame_begin(&w, SPOP_FRAME_NOTIFY, SPOP_FLAG_FIN,
							    2 * i + 1, 1));
		return w.overflow ? 0 : w.len;
	case PART_NOTIFY_ABORTED_AT_START:
		return aborted_at_start(buf, cap);
	case PART_HELLO_NO_FIN:
		return connection_frame_meta(buf, cap, SAMPLE_HELLO, 0, 0, 0);
	case PART_HELLO_WITH_IDS:
		return connection_frame_meta(buf, cap, SAMPLE_HELLO, SPOP_FLAG_FIN, 1, 1);
	case PART_DISCONNECT_NO_FIN:
		return connection_frame_meta(buf, cap, SAMPLE_HAPROXY_DISCONNECT, 0, 0, 0);
	case PART_DISCONNECT_WITH_IDS:
		return connection_frame_meta(buf, cap, SAMPLE_HAPROXY_DISCONNECT, SPOP_FLAG_FIN,
					     0, 3);
	case PART_HELLO_BIG_FRAMES:
		spop_encode_haproxy_hello(&w, "2.0", 1u << 20, "pipelining,async", false, NULL);
		return w.overflow ? 0 : w.len;
	case PART_NOTIFY_70K:
		return big_notify(buf, cap, 70000, 0);
	case PART_NOTIFY_FRAGMENTED_80K:
		return big_notify(buf, cap, 80000, 16000);
	case PART_NOTIFY_REQUEST_WITH_ID:
		return verdict_notify(buf, cap, false);
	case PART_NOTIFY_RESPONSE:
		return verdict_notify(buf, cap, true);
	default:
		return sample_build((enum sample_kind)kind, buf, cap);
	}
}

/* Appends one part to out; returns the new length, or 0 when it fails. */
static size_t append_part(const struct part *p, uint8_t *out, size_t len, size_t cap)
{
	static uint8_t buf[BIG_PART_MAX];
	size_t n = build_part(p->kind, buf, sizeof(buf));

	if (n == 0)
		return 0;
	if (p->first || p->frames) {
		size_t off = 0, start = 0, used;
		struct spop_frame f;

		for (unsigned i = 0; off < n && (!p->frames || i < p->first + p->frames); i++) {
			if (spop_frame_decode(buf + off, n - off, UINT32_MAX, &f, &used) != SPOP_OK)
				return 0;
			off += used;
			if (i + 1 == p->first)
				start = off;
		}
		memmove(buf, buf + start, off - start);
		n = off - start;
	}
	if (p->cut >= n || cap - len < n - p->cut)
		return 0;
	memcpy(out + len, buf, n - p->cut);
	return len + n - p->cut;
}

static int write_conn_corpus(const char *dir)
{
	static uint8_t stream[4 * BIG_PART_MAX];

	for (size_t s = 0; s < sizeof(conn_seeds) / sizeof(conn_seeds[0]); s++) {
		const struct conn_seed *seed = &conn_seeds[s];
		struct conn_drive_tally t;
		const char *fail;
		size_t len = CONN_DRIVE_HEADER;

		conn_drive_options_encode(&seed->o, stream);
		for (unsigned i = 0; i < MAX_PARTS && seed->parts[i].kind >= 0; i++) {
			len = append_part(&seed->parts[i], stream, len, sizeof(stream));
			if (len == 0) {
				fprintf(stderr, "gen_corpus: seed %s: part %u does not fit\n",
					seed->name, i);
				return -1;
			}
		}
		fail = conn_drive_check(stream, len, &t);
		if (fail) {
			fprintf(stderr, "gen_corpus: seed %s breaks a check: %s\n", seed->name, fail);
			return -1;
		}
		printf("  %s: %lu frames, %lu ACKs, %lu messages, %lu requests\n", seed->name,
		       t.frames_in, t.acks, t.messages, t.submitted);
		if (write_file(dir, seed->name, stream, len) != 0)
			return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *top = argc > 1 ? argv[1] : "tests/fuzz/corpus";
	char dir[4096];

	if ((size_t)snprintf(dir, sizeof(dir), "%s/decode", top) >= sizeof(dir) ||
	    write_decode_corpus(dir) != 0)
		return 1;
	if ((size_t)snprintf(dir, sizeof(dir), "%s/conn", top) >= sizeof(dir) ||
	    write_conn_corpus(dir) != 0)
		return 1;
	return 0;
}

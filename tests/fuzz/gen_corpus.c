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

/* A NOTIFY with ABORT set on its first frame: HAProxy gave up before it
 * sent anything; no ACK is due. Not a sample of its own: only the
 * connection cares. */
#define PART_NOTIFY_ABORTED_AT_START SAMPLE_COUNT

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
	{ "input_ends_mid_frame", { .chunking = 2, .seed = 1 },
	  { P(SAMPLE_HELLO), P(SAMPLE_NOTIFY_GET_HDRS_BIN), { SAMPLE_NOTIFY_POST_BODY, 0, 0, 20 },
	    END } },
};

/* Writes a NOTIFY frame with FIN and ABORT and an empty payload. */
static size_t aborted_at_start(uint8_t *buf, size_t cap)
{
	struct spop_writer w = spop_writer_init(buf, cap);
	size_t start = spop_frame_begin(&w, SPOP_FRAME_NOTIFY, SPOP_FLAG_FIN | SPOP_FLAG_ABORT,
					 4001, 12);

	spop_frame_end(&w, start);
	return w.overflow ? 0 : w.len;
}

/* Appends one part to out; returns the new length, or 0 when it fails. */
static size_t append_part(const struct part *p, uint8_t *out, size_t len, size_t cap)
{
	static uint8_t buf[SAMPLE_MAX_LEN];
	size_t n = p->kind == PART_NOTIFY_ABORTED_AT_START
			   ? aborted_at_start(buf, sizeof(buf))
			   : sample_build((enum sample_kind)p->kind, buf, sizeof(buf));

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
	static uint8_t stream[8 * SAMPLE_MAX_LEN];

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

/* Builders for the sample SPOP streams (see sample_frames.h). The message
 * and argument names follow the seeds' `spoe-message mirror-request`
 * configs; header blocks follow what HAProxy's req.hdrs_bin / req.hdrs emit. */
#include "sample_frames.h"

#include <string.h>

#include "spop.h"

static const char *const names[SAMPLE_COUNT] = {
	[SAMPLE_HELLO] = "hello",
	[SAMPLE_HELLO_HEALTHCHECK] = "hello_healthcheck",
	[SAMPLE_HELLO_ENGINE_ID] = "hello_engine_id",
	[SAMPLE_NOTIFY_GET_HDRS_BIN] = "notify_get_hdrs_bin",
	[SAMPLE_NOTIFY_GET_HDRS_TEXT] = "notify_get_hdrs_text",
	[SAMPLE_NOTIFY_POST_BODY] = "notify_post_body",
	[SAMPLE_NOTIFY_LARGE_BODY] = "notify_large_body",
	[SAMPLE_NOTIFY_UNNAMED_ARGS] = "notify_unnamed_args",
	[SAMPLE_NOTIFY_FRAGMENTED] = "notify_fragmented",
	[SAMPLE_NOTIFY_ABORTED] = "notify_aborted",
	[SAMPLE_HAPROXY_DISCONNECT] = "haproxy_disconnect",
	[SAMPLE_AGENT_HELLO] = "agent_hello",
	[SAMPLE_AGENT_DISCONNECT] = "agent_disconnect",
	[SAMPLE_ACK_EMPTY] = "ack_empty",
	[SAMPLE_ACK_ACTIONS] = "ack_actions",
	[SAMPLE_SESSION] = "session",
};

const char *sample_name(enum sample_kind k)
{
	return (unsigned)k < SAMPLE_COUNT ? names[k] : "unknown";
}

/* ---- argument values ---- */

static const char *const get_headers[] = {
	"host", "www.example.com",
	"user-agent", "curl/7.88.1",
	"accept", "*/*",
	"x-request-id", "4f1c2a9e-7b7d-4c1e-9d43-0a6d7c0f1b22",
	"cookie", "session=abc123; theme=dark",
};

static const char *const post_headers[] = {
	"host", "api.example.com",
	"content-type", "application/json",
	"content-length", "26",
	"authorization", "Bearer eyJhbGciOiJIUzI1NiJ9.e30.x",
	"accept-encoding", "gzip, deflate, br",
};

#define N_PAIRS(a) (sizeof(a) / sizeof((a)[0]) / 2)

/* req.hdrs_bin: name/value strings, closed by two empty strings. */
static size_t hdrs_bin(uint8_t *out, size_t cap, const char *const *pairs, size_t n_pairs)
{
	struct spop_writer w = spop_writer_init(out, cap);

	for (size_t i = 0; i < 2 * n_pairs; i++)
		spop_put_string(&w, slice_from_cstr(pairs[i]));
	spop_put_string(&w, SLICE_LIT(""));
	spop_put_string(&w, SLICE_LIT(""));
	return w.overflow ? 0 : w.len;
}

/* req.hdrs: an HTTP/1 header block closed by an empty line. */
static size_t hdrs_text(char *out, size_t cap, const char *const *pairs, size_t n_pairs)
{
	struct spop_writer w = spop_writer_init((uint8_t *)out, cap);

	for (size_t i = 0; i < n_pairs; i++) {
		spop_put_bytes(&w, pairs[2 * i], strlen(pairs[2 * i]));
		spop_put_bytes(&w, ": ", 2);
		spop_put_bytes(&w, pairs[2 * i + 1], strlen(pairs[2 * i + 1]));
		spop_put_bytes(&w, "\r\n", 2);
	}
	spop_put_bytes(&w, "\r\n", 2);
	return w.overflow ? 0 : w.len;
}

static void put_str_arg(struct spop_writer *w, const char *name, const char *s)
{
	struct spop_value v = spop_str_value(slice_from_cstr(s));

	spop_put_kv(w, name, &v);
}

static void put_bin_arg(struct spop_writer *w, const char *name, const void *p, size_t n)
{
	struct spop_value v = spop_bin_value(slice_make(p, n));

	spop_put_kv(w, name, &v);
}

/* ---- NOTIFY payloads (message lists) ---- */

static void payload_get_hdrs_bin(struct spop_writer *w)
{
	uint8_t blk[512];
	size_t n = hdrs_bin(blk, sizeof(blk), get_headers, N_PAIRS(get_headers));

	spop_put_string(w, SLICE_LIT("mirror-request"));
	spop_put_u8(w, 5);
	put_str_arg(w, "method", "GET");
	put_str_arg(w, "path", "/search?q=haproxy&page=2");
	put_str_arg(w, "version", "1.1");
	put_bin_arg(w, "headers", blk, n);
	put_bin_arg(w, "body", "", 0);
}

static void payload_get_hdrs_text(struct spop_writer *w)
{
	char blk[512];
	size_t n = hdrs_text(blk, sizeof(blk), get_headers, N_PAIRS(get_headers));
	struct spop_value v = spop_str_value(slice_make(blk, n));

	spop_put_string(w, SLICE_LIT("mirror-request"));
	spop_put_u8(w, 4);
	put_str_arg(w, "method", "GET");
	put_str_arg(w, "uri", "/static/app.js");
	put_str_arg(w, "version", "2.0");
	spop_put_kv(w, "headers", &v);
}

static void payload_post_body(struct spop_writer *w)
{
	static const char body[] = "{\"user\":\"alice\",\"qty\":3}\r\n";
	uint8_t blk[512];
	size_t n = hdrs_bin(blk, sizeof(blk), post_headers, N_PAIRS(post_headers));
	struct spop_value src = { .type = SPOP_T_IPV4, .u.ipv4 = { 192, 0, 2, 17 } };

	spop_put_string(w, SLICE_LIT("mirror-request"));
	spop_put_u8(w, 6);
	put_str_arg(w, "arg_method", "POST");
	put_str_arg(w, "arg_path", "/api/v1/orders?dry_run=1");
	put_str_arg(w, "arg_ver", "1.1");
	put_bin_arg(w, "arg_hdrs", blk, n);
	put_bin_arg(w, "arg_body", body, sizeof(body) - 1);
	spop_put_kv(w, "src", &src);
}

static void payload_large_body(struct spop_writer *w)
{
	static uint8_t body[15000];
	static const char *const hdrs[] = { "host", "upload.example.com", "content-type",
					    "application/octet-stream", "content-length", "20000" };
	uint8_t blk[256];
	size_t n = hdrs_bin(blk, sizeof(blk), hdrs, N_PAIRS(hdrs));
	struct spop_value src = { .type = SPOP_T_IPV6 };
	struct spop_value len = { .type = SPOP_T_INT64, .u.i64 = 20000 };

	/* A cut body, as HAProxy hands over when it exceeds tune.bufsize. */
	for (size_t i = 0; i < sizeof(body); i++)
		body[i] = (uint8_t)(i * 31 + 7);
	src.u.ipv6[0] = 0x20;
	src.u.ipv6[1] = 0x01;
	src.u.ipv6[2] = 0x0d;
	src.u.ipv6[3] = 0xb8;
	src.u.ipv6[15] = 0x42;
	spop_put_string(w, SLICE_LIT("mirror-request"));
	spop_put_u8(w, 8);
	put_str_arg(w, "method", "PUT");
	put_str_arg(w, "url", "http://upload.example.com/files/blob.bin?overwrite=true");
	put_str_arg(w, "version", "1.1");
	put_bin_arg(w, "headers", blk, n);
	put_bin_arg(w, "body", body, sizeof(body));
	spop_put_kv(w, "src", &src);
	put_str_arg(w, "unique-id", "7F000001:C0A4_7F000001:1F90_65A1B2C3_0001:1234");
	spop_put_kv(w, "body-len", &len);
}

/* Two messages, the first with args the SPOE config left unnamed. */
static void payload_unnamed_args(struct spop_writer *w)
{
	struct spop_value t = spop_bool_value(true);
	struct spop_value neg = { .type = SPOP_T_INT32, .u.i32 = -1 };
	struct spop_value nul = { .type = SPOP_T_NULL };

	spop_put_string(w, SLICE_LIT("mirror-request"));
	spop_put_u8(w, 3);
	put_str_arg(w, "", "DELETE");
	put_str_arg(w, "", "/items/42");
	put_str_arg(w, "", "1.1");
	spop_put_string(w, SLICE_LIT("check-client"));
	spop_put_u8(w, 3);
	spop_put_kv(w, "sampled", &t);
	spop_put_kv(w, "score", &neg);
	spop_put_kv(w, "missing", &nul);
	spop_put_string(w, SLICE_LIT("noop"));
	spop_put_u8(w, 0);
}

/* ---- frames ---- */

static void notify_frame(struct spop_writer *w, uint64_t sid, uint64_t fid,
			 void (*payload)(struct spop_writer *))
{
	size_t start = spop_frame_begin(w, SPOP_FRAME_NOTIFY, SPOP_FLAG_FIN, sid, fid);

	payload(w);
	spop_frame_end(w, start);
}

static void raw_frame(struct spop_writer *w, uint8_t type, uint32_t flags, uint64_t sid,
		      uint64_t fid, const uint8_t *payload, size_t n)
{
	size_t start = spop_frame_begin(w, type, flags, sid, fid);

	spop_put_bytes(w, payload, n);
	spop_frame_end(w, start);
}

/* The POST payload cut in three: inside the header block and inside the
 * body, as a 2.6 HAProxy with fragmentation negotiated would send it. */
static void fragmented(struct spop_writer *w, bool abort)
{
	static uint8_t whole[2048];
	struct spop_writer pw = spop_writer_init(whole, sizeof(whole));
	size_t cut1, cut2;

	payload_post_body(&pw);
	if (pw.overflow) {
		w->overflow = true;
		return;
	}
	cut1 = pw.len / 3;
	cut2 = 2 * pw.len / 3;
	raw_frame(w, SPOP_FRAME_NOTIFY, 0, 1021, 7, whole, cut1);
	if (abort) {
		raw_frame(w, SPOP_FRAME_UNSET, SPOP_FLAG_FIN | SPOP_FLAG_ABORT, 1021, 7, NULL, 0);
		return;
	}
	raw_frame(w, SPOP_FRAME_UNSET, 0, 1021, 7, whole + cut1, cut2 - cut1);
	raw_frame(w, SPOP_FRAME_UNSET, SPOP_FLAG_FIN, 1021, 7, whole + cut2, pw.len - cut2);
}

static void ack_actions(struct spop_writer *w)
{
	const struct spop_action acts[] = {
		{ .type = SPOP_ACT_SET_VAR, .scope = SPOP_SCOPE_TXN, .name = SLICE_LIT("mirrored"),
		  .value = { .type = SPOP_T_BOOL, .u.b = true } },
		{ .type = SPOP_ACT_SET_VAR, .scope = SPOP_SCOPE_SESS, .name = SLICE_LIT("targets"),
		  .value = { .type = SPOP_T_UINT32, .u.u32 = 3 } },
		{ .type = SPOP_ACT_SET_VAR, .scope = SPOP_SCOPE_REQ, .name = SLICE_LIT("why"),
		  .value = { .type = SPOP_T_STRING, .u.str = SLICE_LIT("sampled") } },
		{ .type = SPOP_ACT_UNSET_VAR, .scope = SPOP_SCOPE_PROC, .name = SLICE_LIT("old") },
	};

	spop_encode_ack(w, 1021, 7, acts, sizeof(acts) / sizeof(acts[0]));
}

size_t sample_build(enum sample_kind k, uint8_t *buf, size_t cap)
{
	struct spop_writer w = spop_writer_init(buf, cap);

	switch (k) {
	case SAMPLE_HELLO:
		spop_encode_haproxy_hello(&w, "2.0", 16380, "pipelining,async", false, NULL);
		break;
	case SAMPLE_HELLO_HEALTHCHECK:
		spop_encode_haproxy_hello(&w, "2.0", 16380, "", true, NULL);
		break;
	case SAMPLE_HELLO_ENGINE_ID:
		spop_encode_haproxy_hello(&w, "1.0, 2.0", 65532, "pipelining, async, fragmentation",
					  false, "8A2B3C4D-0000-4E5F-9A8B-112233445566");
		break;
	case SAMPLE_NOTIFY_GET_HDRS_BIN:
		notify_frame(&w, 117, 1, payload_get_hdrs_bin);
		break;
	case SAMPLE_NOTIFY_GET_HDRS_TEXT:
		notify_frame(&w, 118, 2, payload_get_hdrs_text);
		break;
	case SAMPLE_NOTIFY_POST_BODY:
		notify_frame(&w, 2049, 300, payload_post_body);
		break;
	case SAMPLE_NOTIFY_LARGE_BODY:
		notify_frame(&w, 77777, 123456, payload_large_body);
		break;
	case SAMPLE_NOTIFY_UNNAMED_ARGS:
		notify_frame(&w, 5, 9, payload_unnamed_args);
		break;
	case SAMPLE_NOTIFY_FRAGMENTED:
		fragmented(&w, false);
		break;
	case SAMPLE_NOTIFY_ABORTED:
		fragmented(&w, true);
		break;
	case SAMPLE_HAPROXY_DISCONNECT:
		spop_encode_haproxy_disconnect(&w, SPOP_STATUS_TIMEOUT, "idle timeout");
		break;
	case SAMPLE_AGENT_HELLO:
		spop_encode_agent_hello(&w, 16380, SPOP_CAP_PIPELINING | SPOP_CAP_ASYNC);
		break;
	case SAMPLE_AGENT_DISCONNECT:
		spop_encode_agent_disconnect(&w, SPOP_STATUS_TOO_BIG,
					     "frame too big: 20000 bytes, max-frame-size 16380");
		break;
	case SAMPLE_ACK_EMPTY:
		spop_encode_ack(&w, 117, 1, NULL, 0);
		break;
	case SAMPLE_ACK_ACTIONS:
		ack_actions(&w);
		break;
	case SAMPLE_SESSION:
		spop_encode_haproxy_hello(&w, "2.0", 16380, "pipelining,async", false, NULL);
		notify_frame(&w, 1, 1, payload_get_hdrs_bin);
		notify_frame(&w, 3, 2, payload_post_body);
		spop_encode_haproxy_disconnect(&w, SPOP_STATUS_NONE, "");
		break;
	default:
		return 0;
	}
	return w.overflow ? 0 : w.len;
}

size_t sample_header_block(bool bin, uint8_t *buf, size_t cap)
{
	if (bin)
		return hdrs_bin(buf, cap, post_headers, N_PAIRS(post_headers));
	return hdrs_text((char *)buf, cap, post_headers, N_PAIRS(post_headers));
}

/* SPOP wire format (HAProxy doc/SPOE.txt, protocol 2.0): varints, typed data,
 * KV-lists, messages, actions and frames. Pure functions over (pointer,
 * length): no sockets, no allocation, no HTTP. Every decoder returns a
 * status and never reads past the end it was given. */
#ifndef SPOA_MIRROR_SPOP_H
#define SPOA_MIRROR_SPOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slice.h"

/* ---- status of codec calls ---- */
enum spop_rc {
	SPOP_OK = 0,
	SPOP_NEED_MORE = 1,         /* frame-level only: buffer holds a prefix */
	SPOP_E_TRUNCATED = -1,      /* a value runs past the end of its frame */
	SPOP_E_VARINT = -2,         /* varint longer than 64 bits */
	SPOP_E_TYPE = -3,           /* reserved typed-data type (10..15) */
	SPOP_E_RANGE = -4,          /* integer does not fit its declared type */
	SPOP_E_FRAME_TOO_BIG = -5,  /* length prefix above the negotiated size */
	SPOP_E_FRAME = -6,          /* frame metadata malformed */
	SPOP_E_NO_VERSION = -7,     /* HELLO without supported-versions */
	SPOP_E_NO_FRAME_SIZE = -8,  /* HELLO without max-frame-size */
	SPOP_E_NO_CAPS = -9,        /* HELLO without capabilities */
	SPOP_E_FIELD_TYPE = -10,    /* a known KV item with the wrong type */
	SPOP_E_NOSPACE = -11,       /* encoder: output buffer too small */
	SPOP_E_TOO_MANY = -12,      /* more items than the caller can hold */
	SPOP_E_SYNTAX = -13,        /* header text block malformed */
	SPOP_E_ACTION = -14,        /* unknown action type or bad arg count */
};

#define SPOP_RC_COUNT 16 /* number of distinct rc values, for per-reason counters */

const char *spop_strerror(int rc);
/* Index in [0, SPOP_RC_COUNT) of an rc, for arrays of per-reason counters. */
unsigned spop_rc_index(int rc);

/* ---- protocol constants ---- */
enum spop_frame_type {
	SPOP_FRAME_UNSET = 0, /* continuation fragment */
	SPOP_FRAME_HAPROXY_HELLO = 1,
	SPOP_FRAME_HAPROXY_DISCONNECT = 2,
	SPOP_FRAME_NOTIFY = 3,
	SPOP_FRAME_AGENT_HELLO = 101,
	SPOP_FRAME_AGENT_DISCONNECT = 102,
	SPOP_FRAME_ACK = 103,
};

#define SPOP_FLAG_FIN 0x00000001u
#define SPOP_FLAG_ABORT 0x00000002u

/* Status codes carried by DISCONNECT frames. */
enum spop_status {
	SPOP_STATUS_NONE = 0,
	SPOP_STATUS_IO = 1,
	SPOP_STATUS_TIMEOUT = 2,
	SPOP_STATUS_TOO_BIG = 3,
	SPOP_STATUS_INVALID = 4,
	SPOP_STATUS_NO_VERSION = 5,
	SPOP_STATUS_NO_FRAME_SIZE = 6,
	SPOP_STATUS_NO_CAPS = 7,
	SPOP_STATUS_BAD_VERSION = 8,
	SPOP_STATUS_BAD_FRAME_SIZE = 9,
	SPOP_STATUS_FRAG_NOT_SUPPORTED = 10,
	SPOP_STATUS_INTERLACED = 11,
	SPOP_STATUS_FRAMEID_NOTFOUND = 12,
	SPOP_STATUS_RESOURCE = 13,
	SPOP_STATUS_UNKNOWN = 99,
};

/* The one place where codec errors become protocol status codes. */
enum spop_status spop_status_for(int rc);

/* The smallest max-frame-size the protocol allows. */
#define SPOP_MIN_FRAME_SIZE 256u
/* Disconnect messages are cut to this many bytes. */
#define SPOP_MAX_MESSAGE_LEN 255u
/* 4-byte length, type, 4-byte flags, two varints of at most 10 bytes. */
#define SPOP_FRAME_HEADER_MAX (4 + 1 + 4 + 10 + 10)
#define SPOP_VARINT_MAX 10

enum spop_cap {
	SPOP_CAP_PIPELINING = 1u << 0,
	SPOP_CAP_ASYNC = 1u << 1,
	SPOP_CAP_FRAGMENTATION = 1u << 2,
};
#define SPOP_CAP_ALL (SPOP_CAP_PIPELINING | SPOP_CAP_ASYNC | SPOP_CAP_FRAGMENTATION)

/* ---- varint ---- */
/* Decode at *p (not past end); advances *p on success. */
int spop_varint_decode(const uint8_t **p, const uint8_t *end, uint64_t *out);
/* Encode into out (room for SPOP_VARINT_MAX); returns bytes written. */
size_t spop_varint_encode(uint64_t v, uint8_t *out);

/* ---- typed data ---- */
enum spop_type {
	SPOP_T_NULL = 0,
	SPOP_T_BOOL = 1,
	SPOP_T_INT32 = 2,
	SPOP_T_UINT32 = 3,
	SPOP_T_INT64 = 4,
	SPOP_T_UINT64 = 5,
	SPOP_T_IPV4 = 6,
	SPOP_T_IPV6 = 7,
	SPOP_T_STRING = 8,
	SPOP_T_BINARY = 9,
};

struct spop_value {
	enum spop_type type;
	union {
		bool b;
		int32_t i32;
		uint32_t u32;
		int64_t i64;
		uint64_t u64;
		uint8_t ipv4[4];
		uint8_t ipv6[16];
		struct slice str; /* STRING and BINARY: a view, not a copy */
	} u;
};

int spop_value_decode(const uint8_t **p, const uint8_t *end, struct spop_value *v);
/* Non-negative integer of any integer type, for sizes and counts. */
bool spop_value_as_u64(const struct spop_value *v, uint64_t *out);

/* ---- KV-list items (HELLO, DISCONNECT payloads) ---- */
struct spop_kv {
	struct slice name;
	struct spop_value value;
};

/* One KV item at *p; advances *p. */
int spop_kv_decode(const uint8_t **p, const uint8_t *end, struct spop_kv *kv);

/* ---- frames ---- */
struct spop_frame {
	uint8_t type;
	uint32_t flags;
	uint64_t stream_id;
	uint64_t frame_id;
	struct slice payload; /* view into the caller's buffer */
};

/* Decode one frame from the start of buf. SPOP_OK fills *f and sets
 * *consumed to the whole frame's size (length prefix included);
 * SPOP_NEED_MORE means buf holds only a prefix; SPOP_E_FRAME_TOO_BIG is
 * reported as soon as the length prefix is readable. */
int spop_frame_decode(const uint8_t *buf, size_t len, uint32_t max_frame_size,
		      struct spop_frame *f, size_t *consumed);

/* ---- HAPROXY-HELLO ---- */
struct spop_hello {
	struct slice versions;     /* "2.0" or a comma list, spaces allowed */
	uint32_t max_frame_size;
	struct slice capabilities; /* comma list */
	unsigned caps;             /* capabilities as SPOP_CAP_* bits */
	bool healthcheck;
	struct slice engine_id;    /* empty when absent */
};

/* Missing items are reported as SPOP_E_NO_VERSION, SPOP_E_NO_FRAME_SIZE,
 * SPOP_E_NO_CAPS, checked in that order. Unknown items are skipped. */
int spop_hello_decode(struct slice payload, struct spop_hello *h);
/* True when a comma list of versions holds a 2.x entry. */
bool spop_versions_accept(struct slice versions);
/* Capability names in a comma list as SPOP_CAP_* bits (unknown ignored). */
unsigned spop_caps_parse(struct slice list);
/* Bits as a NUL-terminated comma list ("pipelining,async,fragmentation");
 * returns its length. A name that does not fit in cap is left out whole. */
size_t spop_caps_format(unsigned caps, char *out, size_t cap);

/* ---- HAPROXY-DISCONNECT / AGENT-DISCONNECT payload ---- */
struct spop_disconnect {
	uint32_t status_code;
	struct slice message;
};
int spop_disconnect_decode(struct slice payload, struct spop_disconnect *d);

/* ---- NOTIFY messages ---- */
#define SPOP_MAX_ARGS 255

struct spop_arg {
	struct slice name; /* may be empty when the SPOE config names no arg */
	struct spop_value value;
};

struct spop_message {
	struct slice name;
	unsigned nb_args;
	struct spop_arg args[SPOP_MAX_ARGS];
};

/* Walks the messages of one NOTIFY payload. */
struct spop_message_iter {
	const uint8_t *p;
	const uint8_t *end;
};

static inline struct spop_message_iter spop_message_iter_init(struct slice payload)
{
	return (struct spop_message_iter){ (const uint8_t *)payload.ptr,
					   (const uint8_t *)payload.ptr + payload.len };
}

/* Decodes the next message into *m (args are views, no copy).
 * Returns 1 when a message was decoded, 0 at the end of the payload, or a
 * negative spop_rc when the bytes are malformed. */
int spop_message_next(struct spop_message_iter *it, struct spop_message *m);

/* ---- ACK actions ---- */
enum spop_action_type {
	SPOP_ACT_SET_VAR = 1,
	SPOP_ACT_UNSET_VAR = 2,
};

enum spop_scope {
	SPOP_SCOPE_PROC = 0,
	SPOP_SCOPE_SESS = 1,
	SPOP_SCOPE_TXN = 2,
	SPOP_SCOPE_REQ = 3,
	SPOP_SCOPE_RES = 4,
};

struct spop_action {
	enum spop_action_type type;
	enum spop_scope scope;
	struct slice name;
	struct spop_value value; /* SET_VAR only */
};

/* Next action of an ACK payload: 1 decoded, 0 end, negative on error. */
int spop_action_next(const uint8_t **p, const uint8_t *end, struct spop_action *a);

/* ---- encoding ---- */
/* Appends into a fixed buffer; a write that does not fit sets `overflow`
 * and writes nothing more, so callers check once at the end. */
struct spop_writer {
	uint8_t *buf;
	size_t cap;
	size_t len;
	bool overflow;
};

static inline struct spop_writer spop_writer_init(uint8_t *buf, size_t cap)
{
	return (struct spop_writer){ buf, cap, 0, false };
}

void spop_put_bytes(struct spop_writer *w, const void *data, size_t n);
void spop_put_u8(struct spop_writer *w, uint8_t v);
void spop_put_varint(struct spop_writer *w, uint64_t v);
/* varint length + bytes (names, message names: no type byte) */
void spop_put_string(struct spop_writer *w, struct slice s);
void spop_put_value(struct spop_writer *w, const struct spop_value *v);
void spop_put_kv(struct spop_writer *w, const char *name, const struct spop_value *v);
void spop_put_action(struct spop_writer *w, const struct spop_action *a);

/* Frame framing: begin writes a placeholder length and the metadata;
 * end patches the length. Returns the frame's start offset. */
size_t spop_frame_begin(struct spop_writer *w, uint8_t type, uint32_t flags, uint64_t sid,
			uint64_t fid);
void spop_frame_end(struct spop_writer *w, size_t start);

/* Agent frames. Each returns SPOP_OK or SPOP_E_NOSPACE (w->overflow set). */
int spop_encode_agent_hello(struct spop_writer *w, uint32_t max_frame_size, unsigned caps);
int spop_encode_ack(struct spop_writer *w, uint64_t sid, uint64_t fid,
		    const struct spop_action *actions, size_t n_actions);
/* The message is cut to SPOP_MAX_MESSAGE_LEN bytes. */
int spop_encode_agent_disconnect(struct spop_writer *w, uint32_t status, const char *message);

/* HAProxy-side frames, for tests, the fuzz corpus and spop-bench. */
int spop_encode_haproxy_hello(struct spop_writer *w, const char *versions,
			      uint32_t max_frame_size, const char *caps, bool healthcheck,
			      const char *engine_id);
int spop_encode_haproxy_disconnect(struct spop_writer *w, uint32_t status, const char *message);

/* Value constructors for encoders and tests. */
static inline struct spop_value spop_str_value(struct slice s)
{
	struct spop_value v = { .type = SPOP_T_STRING };
	v.u.str = s;
	return v;
}

static inline struct spop_value spop_bin_value(struct slice s)
{
	struct spop_value v = { .type = SPOP_T_BINARY };
	v.u.str = s;
	return v;
}

static inline struct spop_value spop_u32_value(uint32_t n)
{
	struct spop_value v = { .type = SPOP_T_UINT32 };
	v.u.u32 = n;
	return v;
}

static inline struct spop_value spop_bool_value(bool b)
{
	struct spop_value v = { .type = SPOP_T_BOOL };
	v.u.b = b;
	return v;
}

#endif

/* The decode-everything driver behind the fuzz target and the corruption
 * sweeps (see decode_all.h). Checks are recorded, not aborted on, so one
 * caller can print the failure and another can assert on it; a loop that a
 * broken count could overrun is bounded before it runs. */
#include "decode_all.h"

#include <stdbool.h>
#include <string.h>

#include "headers.h"
#include "spop.h"

#define HEADER_SLOTS 64
#define FEW_HEADER_SLOTS 2

struct ctx {
	uintptr_t lo, hi; /* the input: every view a decoder returns lies inside */
	struct decode_tally *t;
	const char *fail;  /* first broken check */
};

static void check(struct ctx *c, bool ok, const char *what)
{
	if (!ok && !c->fail)
		c->fail = what;
}

static bool inside(const struct ctx *c, struct slice s)
{
	uintptr_t p = (uintptr_t)s.ptr;

	if (s.len == 0 && s.ptr == NULL)
		return true; /* an absent item */
	return p >= c->lo && p <= c->hi && s.len <= c->hi - p;
}

static bool value_inside(const struct ctx *c, const struct spop_value *v)
{
	if (v->type == SPOP_T_STRING || v->type == SPOP_T_BINARY)
		return inside(c, v->u.str);
	return true;
}

static bool is_value_error(int rc)
{
	return rc == SPOP_E_TRUNCATED || rc == SPOP_E_VARINT || rc == SPOP_E_TYPE ||
	       rc == SPOP_E_RANGE;
}

static bool values_equal(const struct spop_value *a, const struct spop_value *b)
{
	if (a->type != b->type)
		return false;
	switch (a->type) {
	case SPOP_T_NULL:
		return true;
	case SPOP_T_BOOL:
		return a->u.b == b->u.b;
	case SPOP_T_INT32:
		return a->u.i32 == b->u.i32;
	case SPOP_T_UINT32:
		return a->u.u32 == b->u.u32;
	case SPOP_T_INT64:
		return a->u.i64 == b->u.i64;
	case SPOP_T_UINT64:
		return a->u.u64 == b->u.u64;
	case SPOP_T_IPV4:
		return memcmp(a->u.ipv4, b->u.ipv4, 4) == 0;
	case SPOP_T_IPV6:
		return memcmp(a->u.ipv6, b->u.ipv6, 16) == 0;
	case SPOP_T_STRING:
	case SPOP_T_BINARY:
		return a->u.str.len == b->u.str.len &&
		       (a->u.str.len == 0 || memcmp(a->u.str.ptr, b->u.str.ptr, a->u.str.len) == 0);
	default:
		return false; /* reserved types never decode */
	}
}

static uint32_t be32(const uint8_t *b)
{
	return ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) | ((uint32_t)b[2] << 8) | b[3];
}

/* ---- header blocks ---- */

/* Written apart from headers.c on purpose: an independent statement of
 * what a decoded header may hold. */
static bool token_char(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       (ch != 0 && strchr("!#$%&'*+-.^_`|~", ch) != NULL);
}

static void check_header_list(struct ctx *c, const struct header_list *l)
{
	check(c, l->count <= l->max, "header list holds more than its max");
	for (size_t i = 0; i < l->count && i < l->max; i++) {
		const struct http_header *h = &l->items[i];
		const struct http_header *first;

		check(c, inside(c, h->name) && inside(c, h->value), "header view outside the input");
		check(c, h->name.len > 0, "header with an empty name");
		for (size_t k = 0; k < h->name.len; k++)
			check(c, token_char((unsigned char)h->name.ptr[k]), "header name not a token");
		check(c, h->value.len == 0 || (!memchr(h->value.ptr, '\r', h->value.len) &&
					       !memchr(h->value.ptr, '\n', h->value.len) &&
					       !memchr(h->value.ptr, '\0', h->value.len)),
		      "header value holds CR, LF or NUL");
		first = headers_find(l, h->name);
		check(c, first != NULL && first <= h, "headers_find missed a header");
	}
}

typedef int (*header_decoder)(struct slice, struct header_list *);

static void check_header_block(struct ctx *c, struct slice blk, header_decoder decode, bool bin)
{
	struct http_header items[HEADER_SLOTS], few[FEW_HEADER_SLOTS];
	struct header_list l = header_list_init(items, HEADER_SLOTS);
	struct header_list s = header_list_init(few, FEW_HEADER_SLOTS);
	int rc = decode(blk, &l);
	int rc_few = decode(blk, &s);

	if (bin)
		check(c, rc == SPOP_OK || rc == SPOP_E_TRUNCATED || rc == SPOP_E_VARINT ||
				 rc == SPOP_E_SYNTAX || rc == SPOP_E_TOO_MANY,
		      "headers_decode_bin status outside its set");
	else
		check(c, rc == SPOP_OK || rc == SPOP_E_SYNTAX || rc == SPOP_E_TOO_MANY,
		      "headers_decode_text status outside its set");
	check_header_list(c, &l);
	check_header_list(c, &s);
	/* A smaller list changes the outcome only by running out of room. */
	if (rc == SPOP_OK && l.count <= FEW_HEADER_SLOTS)
		check(c, rc_few == SPOP_OK && s.count == l.count, "header decode depends on list size");
	if (rc == SPOP_OK && l.count > FEW_HEADER_SLOTS)
		check(c, rc_few == SPOP_E_TOO_MANY, "small header list did not report too many");
	if (rc == SPOP_OK)
		c->t->header_blocks++;
}

static void check_header_blocks(struct ctx *c, struct slice blk)
{
	check_header_block(c, blk, headers_decode_bin, true);
	check_header_block(c, blk, headers_decode_text, false);
}

/* ---- payloads ---- */

static void check_hello(struct ctx *c, struct slice payload)
{
	struct spop_hello h;
	int rc = spop_hello_decode(payload, &h);
	char text[64];
	size_t n;

	check(c, rc == SPOP_OK || is_value_error(rc) || rc == SPOP_E_NO_VERSION ||
			 rc == SPOP_E_NO_FRAME_SIZE || rc == SPOP_E_NO_CAPS || rc == SPOP_E_FIELD_TYPE,
	      "spop_hello_decode status outside its set");
	if (rc != SPOP_OK) {
		c->t->payload_errors++;
		return;
	}
	c->t->payload_ok++;
	check(c, inside(c, h.versions) && inside(c, h.capabilities) && inside(c, h.engine_id),
	      "HELLO view outside the input");
	check(c, (h.caps & ~(unsigned)SPOP_CAP_ALL) == 0, "HELLO caps hold unknown bits");
	check(c, h.caps == spop_caps_parse(h.capabilities), "HELLO caps differ from their text");
	(void)spop_versions_accept(h.versions);
	n = spop_caps_format(h.caps, text, sizeof(text));
	check(c, n == strlen(text) && spop_caps_parse(slice_make(text, n)) == h.caps,
	      "caps do not survive format and parse");
}

static bool slices_equal(struct slice a, struct slice b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

static void check_disconnect(struct ctx *c, struct slice payload)
{
	struct spop_disconnect d, again;
	uint8_t buf[512];
	struct spop_writer w = spop_writer_init(buf, sizeof(buf));
	struct spop_value v;
	int rc = spop_disconnect_decode(payload, &d);

	check(c, rc == SPOP_OK || is_value_error(rc) || rc == SPOP_E_FIELD_TYPE,
	      "spop_disconnect_decode status outside its set");
	if (rc != SPOP_OK) {
		c->t->payload_errors++;
		return;
	}
	c->t->payload_ok++;
	check(c, inside(c, d.message), "DISCONNECT message outside the input");
	if (d.message.len > SPOP_MAX_MESSAGE_LEN)
		return; /* the encoders cut it; nothing to compare */
	v = spop_u32_value(d.status_code);
	spop_put_kv(&w, "status-code", &v);
	v = spop_str_value(d.message);
	spop_put_kv(&w, "message", &v);
	check(c, !w.overflow && spop_disconnect_decode(slice_make(buf, w.len), &again) == SPOP_OK &&
			 again.status_code == d.status_code && slices_equal(again.message, d.message),
	      "DISCONNECT does not survive encode and decode");
}

/* Encodes m again (varints are bijective, tags one byte) and decodes it:
 * same length, same content. */
static void check_message_reencodes(struct ctx *c, const struct spop_message *m, size_t used)
{
	static uint8_t buf[DECODE_ALL_MAX_FRAME_SIZE * 2];
	static struct spop_message again;
	struct spop_writer w = spop_writer_init(buf, sizeof(buf));
	struct spop_message_iter it;

	spop_put_string(&w, m->name);
	spop_put_u8(&w, (uint8_t)m->nb_args);
	for (unsigned i = 0; i < m->nb_args; i++) {
		spop_put_string(&w, m->args[i].name);
		spop_put_value(&w, &m->args[i].value);
	}
	if (w.overflow)
		return; /* an input larger than the driver's frames */
	check(c, w.len == used, "message re-encodes to another length");
	it = spop_message_iter_init(slice_make(buf, w.len));
	check(c, spop_message_next(&it, &again) == 1 && it.p == it.end, "re-encoded message fails");
	check(c, slices_equal(again.name, m->name), "re-encoded message name differs");
	check(c, again.nb_args == m->nb_args, "re-encoded message arg count differs");
	for (unsigned i = 0; i < m->nb_args && i < again.nb_args; i++)
		check(c, slices_equal(again.args[i].name, m->args[i].name) &&
				 values_equal(&again.args[i].value, &m->args[i].value),
		      "re-encoded message arg differs");
}

static void check_messages(struct ctx *c, struct slice payload)
{
	static struct spop_message m;
	struct spop_message_iter it = spop_message_iter_init(payload);

	/* each message takes at least two bytes, so this bounds the walk */
	for (size_t n = 0; n <= payload.len / 2 + 1; n++) {
		const uint8_t *before = it.p;
		int rc = spop_message_next(&it, &m);

		if (rc == 0) {
			check(c, it.p == it.end, "message walk ended early");
			c->t->payload_ok++;
			return;
		}
		if (rc < 0) {
			check(c, is_value_error(rc), "spop_message_next status outside its set");
			check(c, it.p == before, "failed message moved the iterator");
			c->t->payload_errors++;
			return;
		}
		check(c, rc == 1 && it.p > before && it.p <= it.end, "message walk did not advance");
		check(c, inside(c, m.name), "message name outside the input");
		check(c, m.nb_args <= SPOP_MAX_ARGS, "message with more than 255 args");
		if (c->fail)
			return;
		c->t->messages++;
		for (unsigned i = 0; i < m.nb_args; i++) {
			const struct spop_value *v = &m.args[i].value;

			c->t->args++;
			check(c, inside(c, m.args[i].name) && value_inside(c, v),
			      "message arg outside the input");
			if (v->type == SPOP_T_STRING || v->type == SPOP_T_BINARY)
				check_header_blocks(c, v->u.str);
		}
		check_message_reencodes(c, &m, (size_t)(it.p - before));
	}
	check(c, false, "message walk did not end");
}

static void check_actions(struct ctx *c, struct slice payload)
{
	const uint8_t *p = (const uint8_t *)payload.ptr;
	const uint8_t *end = p + payload.len;

	/* each action takes at least four bytes */
	for (size_t n = 0; n <= payload.len / 4 + 1; n++) {
		const uint8_t *before = p, *q;
		struct spop_action a, again;
		uint8_t buf[1024];
		struct spop_writer w = spop_writer_init(buf, sizeof(buf));
		int rc = spop_action_next(&p, end, &a);

		if (rc == 0) {
			check(c, p == end, "action walk ended early");
			c->t->payload_ok++;
			return;
		}
		if (rc < 0) {
			check(c, is_value_error(rc) || rc == SPOP_E_ACTION,
			      "spop_action_next status outside its set");
			check(c, p == before, "failed action moved the cursor");
			c->t->payload_errors++;
			return;
		}
		check(c, rc == 1 && p > before && p <= end, "action walk did not advance");
		check(c, a.type == SPOP_ACT_SET_VAR || a.type == SPOP_ACT_UNSET_VAR,
		      "action of an unknown type decoded");
		check(c, a.scope <= SPOP_SCOPE_RES, "action scope out of range");
		check(c, inside(c, a.name), "action name outside the input");
		check(c, a.type != SPOP_ACT_SET_VAR || value_inside(c, &a.value),
		      "action value outside the input");
		c->t->actions++;
		spop_put_action(&w, &a);
		if (w.overflow)
			continue;
		check(c, w.len == (size_t)(p - before), "action re-encodes to another length");
		q = buf;
		check(c, spop_action_next(&q, buf + w.len, &again) == 1 && q == buf + w.len &&
				 again.type == a.type && again.scope == a.scope &&
				 slices_equal(again.name, a.name) &&
				 (a.type != SPOP_ACT_SET_VAR || values_equal(&again.value, &a.value)),
		      "action does not survive encode and decode");
	}
	check(c, false, "action walk did not end");
}

/* Every payload goes through every payload decoder, whatever its frame
 * type: a fuzzer then reaches them all without guessing type bytes. */
static void check_payload(struct ctx *c, struct slice payload)
{
	check_hello(c, payload);
	check_disconnect(c, payload);
	check_messages(c, payload);
	check_actions(c, payload);
}

/* ---- frames ---- */

static void check_frame_header(struct ctx *c, const uint8_t *b, const struct spop_frame *f)
{
	uint8_t hdr[SPOP_FRAME_HEADER_MAX];
	struct spop_writer w = spop_writer_init(hdr, sizeof(hdr));
	size_t meta = (size_t)((const uint8_t *)f->payload.ptr - b);

	check(c, f->type == b[4] && f->flags == be32(b + 5), "frame type or flags misread");
	spop_frame_begin(&w, f->type, f->flags, f->stream_id, f->frame_id);
	check(c, !w.overflow && w.len == meta && memcmp(hdr + 4, b + 4, meta - 4) == 0,
	      "frame metadata does not re-encode to its bytes");
}

static void check_frames(struct ctx *c, const uint8_t *data, size_t len)
{
	size_t off = 0;
	struct spop_frame f;
	size_t used;

	while (off < len) {
		const uint8_t *b = data + off;
		size_t rem = len - off;
		int rc = spop_frame_decode(b, rem, DECODE_ALL_MAX_FRAME_SIZE, &f, &used);

		if (rc == SPOP_NEED_MORE) {
			check(c, rem < 4 || rem - 4 < be32(b), "NEED_MORE with the whole frame there");
			c->t->need_more++;
			return;
		}
		if (rc != SPOP_OK) {
			check(c, rc == SPOP_E_FRAME_TOO_BIG || rc == SPOP_E_FRAME || rc == SPOP_E_VARINT,
			      "spop_frame_decode status outside its set");
			check(c, rem >= 4, "frame error before the length was readable");
			if (rc == SPOP_E_FRAME_TOO_BIG)
				check(c, be32(b) > DECODE_ALL_MAX_FRAME_SIZE, "TOO_BIG for a frame that fits");
			c->t->frame_errors++;
			return;
		}
		check(c, used >= 4 + 7 && used <= rem && used == 4 + (size_t)be32(b),
		      "frame size misreported");
		check(c, inside(c, f.payload) &&
				 (const uint8_t *)f.payload.ptr + f.payload.len == b + used,
		      "frame payload does not end with the frame");
		if (c->fail)
			return;
		check_frame_header(c, b, &f);
		check(c, spop_frame_decode(b, used - 1, DECODE_ALL_MAX_FRAME_SIZE, &f, &(size_t){ 0 }) ==
				 SPOP_NEED_MORE,
		      "a frame missing its last byte did not need more");
		/* f was clobbered by the prefix check: decode it again */
		spop_frame_decode(b, rem, DECODE_ALL_MAX_FRAME_SIZE, &f, &used);
		c->t->frames++;
		check_payload(c, f.payload);
		off += used;
	}
}

const char *decode_all_check(const uint8_t *data, size_t len, struct decode_tally *t)
{
	struct decode_tally scratch = { 0 };
	struct ctx c;
	struct spop_frame f;
	size_t used;
	int rc;

	if (len == 0)
		data = (const uint8_t *)""; /* libFuzzer may pass NULL for no bytes */
	c = (struct ctx){ (uintptr_t)data, (uintptr_t)data + len, t ? t : &scratch, NULL };
	check_frames(&c, data, len);

	/* The smallest legal limit: anything longer must be refused up front. */
	rc = spop_frame_decode(data, len, SPOP_MIN_FRAME_SIZE, &f, &used);
	if (len >= 4 && be32(data) > SPOP_MIN_FRAME_SIZE)
		check(&c, rc == SPOP_E_FRAME_TOO_BIG, "frame over the limit not refused");

	/* The raw input as a payload and as header blocks, so the fuzzer
	 * reaches these decoders without building a frame first. */
	check_payload(&c, slice_make(data, len));
	check_header_blocks(&c, slice_make(data, len));
	return c.fail;
}

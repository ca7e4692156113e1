/* SPOP wire format: decoders and encoders for frames and their payloads.
 * Bounds discipline: every read checks `p < end` (or `end - p >= n`) first,
 * so any byte sequence yields a status, never a read past the end. */
#include "spop.h"

#include <stdio.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* status                                                              */

static const struct {
	int rc;
	const char *text;
} rc_texts[SPOP_RC_COUNT] = {
	{ SPOP_OK, "ok" },
	{ SPOP_NEED_MORE, "incomplete frame" },
	{ SPOP_E_TRUNCATED, "value runs past the end of the frame" },
	{ SPOP_E_VARINT, "varint longer than 64 bits" },
	{ SPOP_E_TYPE, "reserved data type" },
	{ SPOP_E_RANGE, "integer out of range for its type" },
	{ SPOP_E_FRAME_TOO_BIG, "frame longer than the negotiated max-frame-size" },
	{ SPOP_E_FRAME, "malformed frame header" },
	{ SPOP_E_NO_VERSION, "HELLO without supported-versions" },
	{ SPOP_E_NO_FRAME_SIZE, "HELLO without max-frame-size" },
	{ SPOP_E_NO_CAPS, "HELLO without capabilities" },
	{ SPOP_E_FIELD_TYPE, "known item with the wrong data type" },
	{ SPOP_E_NOSPACE, "output buffer too small" },
	{ SPOP_E_TOO_MANY, "too many items" },
	{ SPOP_E_SYNTAX, "malformed header block" },
	{ SPOP_E_ACTION, "unknown action type or argument count" },
};

unsigned spop_rc_index(int rc)
{
	/* rc runs from 1 down to -(SPOP_RC_COUNT - 2); map it onto 0.. */
	if (rc == SPOP_OK)
		return 0;
	if (rc == SPOP_NEED_MORE)
		return 1;
	if (rc < 0 && -rc <= SPOP_RC_COUNT - 2)
		return (unsigned)(1 - rc);
	return 0;
}

const char *spop_strerror(int rc)
{
	for (size_t i = 0; i < SPOP_RC_COUNT; i++)
		if (rc_texts[i].rc == rc)
			return rc_texts[i].text;
	return "unknown codec error";
}

enum spop_status spop_status_for(int rc)
{
	switch (rc) {
	case SPOP_OK:
		return SPOP_STATUS_NONE;
	case SPOP_E_FRAME_TOO_BIG:
		return SPOP_STATUS_TOO_BIG;
	case SPOP_E_NO_VERSION:
		return SPOP_STATUS_NO_VERSION;
	case SPOP_E_NO_FRAME_SIZE:
		return SPOP_STATUS_NO_FRAME_SIZE;
	case SPOP_E_NO_CAPS:
		return SPOP_STATUS_NO_CAPS;
	case SPOP_E_NOSPACE:
		return SPOP_STATUS_RESOURCE;
	default:
		return SPOP_STATUS_INVALID;
	}
}

/* ------------------------------------------------------------------ */
/* varint                                                              */

int spop_varint_decode(const uint8_t **p, const uint8_t *end, uint64_t *out)
{
	const uint8_t *q = *p;
	uint64_t v;
	unsigned shift = 4;

	if (q >= end)
		return SPOP_E_TRUNCATED;
	v = *q++;
	if (v >= 240) {
		for (;;) {
			uint64_t b, term;

			if (q >= end)
				return SPOP_E_TRUNCATED;
			/* The 10th byte is shifted by 60; an 11th cannot carry bits. */
			if (shift > 60)
				return SPOP_E_VARINT;
			b = *q++;
			term = b << shift;
			if ((term >> shift) != b || v + term < v)
				return SPOP_E_VARINT;
			v += term;
			if (b < 128)
				break;
			shift += 7;
		}
	}
	*out = v;
	*p = q;
	return SPOP_OK;
}

size_t spop_varint_encode(uint64_t v, uint8_t *out)
{
	size_t n = 0;

	if (v < 240) {
		out[0] = (uint8_t)v;
		return 1;
	}
	out[n++] = (uint8_t)(v | 240);
	v = (v - 240) >> 4;
	while (v >= 128) {
		out[n++] = (uint8_t)(v | 128);
		v = (v - 128) >> 7;
	}
	out[n++] = (uint8_t)v;
	return n;
}

/* ------------------------------------------------------------------ */
/* typed data                                                          */

/* varint length + that many bytes, as a view */
static int decode_bytes(const uint8_t **p, const uint8_t *end, struct slice *s)
{
	const uint8_t *q = *p;
	uint64_t n;
	int rc = spop_varint_decode(&q, end, &n);

	if (rc != SPOP_OK)
		return rc;
	if (n > (uint64_t)(end - q))
		return SPOP_E_TRUNCATED;
	*s = slice_make(q, (size_t)n);
	*p = q + n;
	return SPOP_OK;
}

int spop_value_decode(const uint8_t **p, const uint8_t *end, struct spop_value *v)
{
	const uint8_t *q = *p;
	uint64_t n;
	uint8_t tag;
	int rc = SPOP_OK;

	if (q >= end)
		return SPOP_E_TRUNCATED;
	tag = *q++;
	v->type = (enum spop_type)(tag & 0x0F);
	switch (v->type) {
	case SPOP_T_NULL:
		break;
	case SPOP_T_BOOL:
		v->u.b = (tag >> 4) & 1;
		break;
	case SPOP_T_INT32:
		/* HAProxy sends signed integers as the two's complement of a
		 * 64-bit value, so -1 arrives as a 10-byte varint. */
		rc = spop_varint_decode(&q, end, &n);
		if (rc == SPOP_OK) {
			int64_t s = (int64_t)n;
			if (s < INT32_MIN || s > INT32_MAX)
				return SPOP_E_RANGE;
			v->u.i32 = (int32_t)s;
		}
		break;
	case SPOP_T_UINT32:
		rc = spop_varint_decode(&q, end, &n);
		if (rc == SPOP_OK) {
			if (n > UINT32_MAX)
				return SPOP_E_RANGE;
			v->u.u32 = (uint32_t)n;
		}
		break;
	case SPOP_T_INT64:
		rc = spop_varint_decode(&q, end, &n);
		v->u.i64 = (int64_t)n;
		break;
	case SPOP_T_UINT64:
		rc = spop_varint_decode(&q, end, &n);
		v->u.u64 = n;
		break;
	case SPOP_T_IPV4:
		if (end - q < 4)
			return SPOP_E_TRUNCATED;
		memcpy(v->u.ipv4, q, 4);
		q += 4;
		break;
	case SPOP_T_IPV6:
		if (end - q < 16)
			return SPOP_E_TRUNCATED;
		memcpy(v->u.ipv6, q, 16);
		q += 16;
		break;
	case SPOP_T_STRING:
	case SPOP_T_BINARY:
		rc = decode_bytes(&q, end, &v->u.str);
		break;
	default:
		return SPOP_E_TYPE;
	}
	if (rc != SPOP_OK)
		return rc;
	*p = q;
	return SPOP_OK;
}

bool spop_value_as_u64(const struct spop_value *v, uint64_t *out)
{
	switch (v->type) {
	case SPOP_T_INT32:
		if (v->u.i32 < 0)
			return false;
		*out = (uint64_t)v->u.i32;
		return true;
	case SPOP_T_UINT32:
		*out = v->u.u32;
		return true;
	case SPOP_T_INT64:
		if (v->u.i64 < 0)
			return false;
		*out = (uint64_t)v->u.i64;
		return true;
	case SPOP_T_UINT64:
		*out = v->u.u64;
		return true;
	default:
		return false;
	}
}

int spop_kv_decode(const uint8_t **p, const uint8_t *end, struct spop_kv *kv)
{
	const uint8_t *q = *p;
	int rc = decode_bytes(&q, end, &kv->name);

	if (rc == SPOP_OK)
		rc = spop_value_decode(&q, end, &kv->value);
	if (rc == SPOP_OK)
		*p = q;
	return rc;
}

/* ------------------------------------------------------------------ */
/* frames                                                              */

static uint32_t get_be32(const uint8_t *b)
{
	return ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) | ((uint32_t)b[2] << 8) | b[3];
}

static void put_be32(uint8_t *b, uint32_t v)
{
	b[0] = (uint8_t)(v >> 24);
	b[1] = (uint8_t)(v >> 16);
	b[2] = (uint8_t)(v >> 8);
	b[3] = (uint8_t)v;
}

int spop_frame_decode(const uint8_t *buf, size_t len, uint32_t max_frame_size,
		      struct spop_frame *f, size_t *consumed)
{
	const uint8_t *p, *end;
	uint32_t flen;
	int rc;

	if (len < 4)
		return SPOP_NEED_MORE;
	flen = get_be32(buf);
	if (flen > max_frame_size)
		return SPOP_E_FRAME_TOO_BIG;
	/* type + flags + two one-byte varints at least */
	if (flen < 1 + 4 + 1 + 1)
		return SPOP_E_FRAME;
	if (len - 4 < flen)
		return SPOP_NEED_MORE;

	p = buf + 4;
	end = p + flen;
	f->type = *p++;
	f->flags = get_be32(p);
	p += 4;
	rc = spop_varint_decode(&p, end, &f->stream_id);
	if (rc == SPOP_OK)
		rc = spop_varint_decode(&p, end, &f->frame_id);
	if (rc != SPOP_OK)
		return rc == SPOP_E_TRUNCATED ? SPOP_E_FRAME : rc;
	f->payload = slice_make(p, (size_t)(end - p));
	*consumed = 4 + (size_t)flen;
	return SPOP_OK;
}

/* ------------------------------------------------------------------ */
/* HELLO, DISCONNECT                                                   */

static bool item_eq(struct slice item, struct slice want)
{
	return slice_case_eq(slice_trim(item), want);
}

bool spop_versions_accept(struct slice versions)
{
	struct slice rest = versions;

	while (rest.len) {
		struct slice v = slice_trim(slice_split(&rest, ','));

		/* Protocol 2.x: the agent replies "2.0" whatever the minor. */
		if (v.len >= 2 && v.ptr[0] == '2' && v.ptr[1] == '.')
			return true;
	}
	return false;
}

unsigned spop_caps_parse(struct slice list)
{
	struct slice rest = list;
	unsigned caps = 0;

	while (rest.len) {
		struct slice item = slice_split(&rest, ',');

		if (item_eq(item, SLICE_LIT("pipelining")))
			caps |= SPOP_CAP_PIPELINING;
		else if (item_eq(item, SLICE_LIT("async")))
			caps |= SPOP_CAP_ASYNC;
		else if (item_eq(item, SLICE_LIT("fragmentation")))
			caps |= SPOP_CAP_FRAGMENTATION;
	}
	return caps;
}

size_t spop_caps_format(unsigned caps, char *out, size_t cap)
{
	static const struct {
		unsigned bit;
		const char *name;
	} names[] = {
		{ SPOP_CAP_PIPELINING, "pipelining" },
		{ SPOP_CAP_ASYNC, "async" },
		{ SPOP_CAP_FRAGMENTATION, "fragmentation" },
	};
	size_t len = 0;

	if (cap == 0)
		return 0;
	out[0] = '\0';
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		int n;

		if (!(caps & names[i].bit))
			continue;
		n = snprintf(out + len, cap - len, "%s%s", len ? "," : "", names[i].name);
		if (n < 0 || (size_t)n >= cap - len) {
			/* drop the partial name snprintf left behind */
			out[len] = '\0';
			return len;
		}
		len += (size_t)n;
	}
	return len;
}

int spop_hello_decode(struct slice payload, struct spop_hello *h)
{
	const uint8_t *p = (const uint8_t *)payload.ptr;
	const uint8_t *end = p + payload.len;
	bool have_vsn = false, have_size = false, have_caps = false;

	*h = (struct spop_hello){ 0 };
	while (p < end) {
		struct spop_kv kv;
		int rc = spop_kv_decode(&p, end, &kv);

		if (rc != SPOP_OK)
			return rc;
		if (slice_eq_cstr(kv.name, "supported-versions")) {
			if (kv.value.type != SPOP_T_STRING)
				return SPOP_E_FIELD_TYPE;
			h->versions = kv.value.u.str;
			have_vsn = true;
		} else if (slice_eq_cstr(kv.name, "max-frame-size")) {
			uint64_t n;

			if (!spop_value_as_u64(&kv.value, &n))
				return SPOP_E_FIELD_TYPE;
			h->max_frame_size = n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
			have_size = true;
		} else if (slice_eq_cstr(kv.name, "capabilities")) {
			if (kv.value.type != SPOP_T_STRING)
				return SPOP_E_FIELD_TYPE;
			h->capabilities = kv.value.u.str;
			h->caps = spop_caps_parse(kv.value.u.str);
			have_caps = true;
		} else if (slice_eq_cstr(kv.name, "healthcheck")) {
			if (kv.value.type != SPOP_T_BOOL)
				return SPOP_E_FIELD_TYPE;
			h->healthcheck = kv.value.u.b;
		} else if (slice_eq_cstr(kv.name, "engine-id")) {
			if (kv.value.type != SPOP_T_STRING)
				return SPOP_E_FIELD_TYPE;
			h->engine_id = kv.value.u.str;
		}
	}
	if (!have_vsn)
		return SPOP_E_NO_VERSION;
	if (!have_size)
		return SPOP_E_NO_FRAME_SIZE;
	if (!have_caps)
		return SPOP_E_NO_CAPS;
	return SPOP_OK;
}

int spop_disconnect_decode(struct slice payload, struct spop_disconnect *d)
{
	const uint8_t *p = (const uint8_t *)payload.ptr;
	const uint8_t *end = p + payload.len;

	*d = (struct spop_disconnect){ 0 };
	while (p < end) {
		struct spop_kv kv;
		int rc = spop_kv_decode(&p, end, &kv);

		if (rc != SPOP_OK)
			return rc;
		if (slice_eq_cstr(kv.name, "status-code")) {
			uint64_t n;

			if (!spop_value_as_u64(&kv.value, &n) || n > UINT32_MAX)
				return SPOP_E_FIELD_TYPE;
			d->status_code = (uint32_t)n;
		} else if (slice_eq_cstr(kv.name, "message")) {
			if (kv.value.type != SPOP_T_STRING)
				return SPOP_E_FIELD_TYPE;
			d->message = kv.value.u.str;
		}
	}
	return SPOP_OK;
}

/* ------------------------------------------------------------------ */
/* NOTIFY messages, ACK actions                                        */

int spop_message_next(struct spop_message_iter *it, struct spop_message *m)
{
	const uint8_t *p = it->p;
	int rc;

	if (p >= it->end)
		return 0;
	rc = decode_bytes(&p, it->end, &m->name);
	if (rc != SPOP_OK)
		return rc;
	if (p >= it->end)
		return SPOP_E_TRUNCATED;
	m->nb_args = *p++;
	for (unsigned i = 0; i < m->nb_args; i++) {
		struct spop_kv kv;

		rc = spop_kv_decode(&p, it->end, &kv);
		if (rc != SPOP_OK)
			return rc;
		m->args[i].name = kv.name;
		m->args[i].value = kv.value;
	}
	it->p = p;
	return 1;
}

int spop_action_next(const uint8_t **p, const uint8_t *end, struct spop_action *a)
{
	const uint8_t *q = *p;
	uint8_t nb_args, scope;
	int rc;

	if (q >= end)
		return 0;
	if (end - q < 3)
		return SPOP_E_TRUNCATED;
	a->type = (enum spop_action_type)q[0];
	nb_args = q[1];
	scope = q[2];
	q += 3;
	if (scope > SPOP_SCOPE_RES)
		return SPOP_E_ACTION;
	a->scope = (enum spop_scope)scope;
	if ((a->type == SPOP_ACT_SET_VAR && nb_args != 3) ||
	    (a->type == SPOP_ACT_UNSET_VAR && nb_args != 2) ||
	    (a->type != SPOP_ACT_SET_VAR && a->type != SPOP_ACT_UNSET_VAR))
		return SPOP_E_ACTION;
	rc = decode_bytes(&q, end, &a->name);
	if (rc == SPOP_OK && a->type == SPOP_ACT_SET_VAR)
		rc = spop_value_decode(&q, end, &a->value);
	if (rc != SPOP_OK)
		return rc;
	*p = q;
	return 1;
}

/* ------------------------------------------------------------------ */
/* encoding                                                            */

void spop_put_bytes(struct spop_writer *w, const void *data, size_t n)
{
	if (w->overflow || w->cap - w->len < n) {
		w->overflow = true;
		return;
	}
	if (n)
		memcpy(w->buf + w->len, data, n);
	w->len += n;
}

void spop_put_u8(struct spop_writer *w, uint8_t v)
{
	spop_put_bytes(w, &v, 1);
}

void spop_put_varint(struct spop_writer *w, uint64_t v)
{
	uint8_t tmp[SPOP_VARINT_MAX];

	spop_put_bytes(w, tmp, spop_varint_encode(v, tmp));
}

void spop_put_string(struct spop_writer *w, struct slice s)
{
	spop_put_varint(w, s.len);
	spop_put_bytes(w, s.ptr, s.len);
}

void spop_put_value(struct spop_writer *w, const struct spop_value *v)
{
	uint8_t tag = (uint8_t)v->type;

	if (v->type == SPOP_T_BOOL && v->u.b)
		tag |= 0x10;
	spop_put_u8(w, tag);
	switch (v->type) {
	case SPOP_T_INT32:
		spop_put_varint(w, (uint64_t)(int64_t)v->u.i32);
		break;
	case SPOP_T_UINT32:
		spop_put_varint(w, v->u.u32);
		break;
	case SPOP_T_INT64:
		spop_put_varint(w, (uint64_t)v->u.i64);
		break;
	case SPOP_T_UINT64:
		spop_put_varint(w, v->u.u64);
		break;
	case SPOP_T_IPV4:
		spop_put_bytes(w, v->u.ipv4, 4);
		break;
	case SPOP_T_IPV6:
		spop_put_bytes(w, v->u.ipv6, 16);
		break;
	case SPOP_T_STRING:
	case SPOP_T_BINARY:
		spop_put_string(w, v->u.str);
		break;
	default:
		break;
	}
}

void spop_put_kv(struct spop_writer *w, const char *name, const struct spop_value *v)
{
	spop_put_string(w, slice_from_cstr(name));
	spop_put_value(w, v);
}

void spop_put_action(struct spop_writer *w, const struct spop_action *a)
{
	spop_put_u8(w, (uint8_t)a->type);
	spop_put_u8(w, a->type == SPOP_ACT_SET_VAR ? 3 : 2);
	spop_put_u8(w, (uint8_t)a->scope);
	spop_put_string(w, a->name);
	if (a->type == SPOP_ACT_SET_VAR)
		spop_put_value(w, &a->value);
}

size_t spop_frame_begin(struct spop_writer *w, uint8_t type, uint32_t flags, uint64_t sid,
			uint64_t fid)
{
	size_t start = w->len;
	uint8_t be[4];

	spop_put_bytes(w, "\0\0\0\0", 4);
	spop_put_u8(w, type);
	put_be32(be, flags);
	spop_put_bytes(w, be, 4);
	spop_put_varint(w, sid);
	spop_put_varint(w, fid);
	return start;
}

void spop_frame_end(struct spop_writer *w, size_t start)
{
	if (w->overflow)
		return;
	put_be32(w->buf + start, (uint32_t)(w->len - start - 4));
}

static int finish(struct spop_writer *w, size_t start)
{
	spop_frame_end(w, start);
	return w->overflow ? SPOP_E_NOSPACE : SPOP_OK;
}

int spop_encode_agent_hello(struct spop_writer *w, uint32_t max_frame_size, unsigned caps)
{
	char caps_text[64];
	size_t start = spop_frame_begin(w, SPOP_FRAME_AGENT_HELLO, SPOP_FLAG_FIN, 0, 0);
	struct spop_value v;

	v = spop_str_value(SLICE_LIT("2.0"));
	spop_put_kv(w, "version", &v);
	v = spop_u32_value(max_frame_size);
	spop_put_kv(w, "max-frame-size", &v);
	v = spop_str_value(slice_make(caps_text, spop_caps_format(caps, caps_text, sizeof(caps_text))));
	spop_put_kv(w, "capabilities", &v);
	return finish(w, start);
}

int spop_encode_ack(struct spop_writer *w, uint64_t sid, uint64_t fid,
		    const struct spop_action *actions, size_t n_actions)
{
	size_t start = spop_frame_begin(w, SPOP_FRAME_ACK, SPOP_FLAG_FIN, sid, fid);

	for (size_t i = 0; i < n_actions; i++)
		spop_put_action(w, &actions[i]);
	return finish(w, start);
}

static int encode_disconnect(struct spop_writer *w, uint8_t type, uint32_t status,
			     const char *message)
{
	size_t start = spop_frame_begin(w, type, SPOP_FLAG_FIN, 0, 0);
	struct slice msg = slice_from_cstr(message ? message : "");
	struct spop_value v;

	if (msg.len > SPOP_MAX_MESSAGE_LEN)
		msg.len = SPOP_MAX_MESSAGE_LEN;
	v = spop_u32_value(status);
	spop_put_kv(w, "status-code", &v);
	v = spop_str_value(msg);
	spop_put_kv(w, "message", &v);
	return finish(w, start);
}

int spop_encode_agent_disconnect(struct spop_writer *w, uint32_t status, const char *message)
{
	return encode_disconnect(w, SPOP_FRAME_AGENT_DISCONNECT, status, message);
}

int spop_encode_haproxy_disconnect(struct spop_writer *w, uint32_t status, const char *message)
{
	return encode_disconnect(w, SPOP_FRAME_HAPROXY_DISCONNECT, status, message);
}

int spop_encode_haproxy_hello(struct spop_writer *w, const char *versions,
			      uint32_t max_frame_size, const char *caps, bool healthcheck,
			      const char *engine_id)
{
	size_t start = spop_frame_begin(w, SPOP_FRAME_HAPROXY_HELLO, SPOP_FLAG_FIN, 0, 0);
	struct spop_value v;

	if (versions) {
		v = spop_str_value(slice_from_cstr(versions));
		spop_put_kv(w, "supported-versions", &v);
	}
	if (max_frame_size) {
		v = spop_u32_value(max_frame_size);
		spop_put_kv(w, "max-frame-size", &v);
	}
	if (caps) {
		v = spop_str_value(slice_from_cstr(caps));
		spop_put_kv(w, "capabilities", &v);
	}
	if (healthcheck) {
		v = spop_bool_value(true);
		spop_put_kv(w, "healthcheck", &v);
	}
	if (engine_id) {
		v = spop_str_value(slice_from_cstr(engine_id));
		spop_put_kv(w, "engine-id", &v);
	}
	return finish(w, start);
}

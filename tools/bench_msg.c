/* Builds spop-bench's NOTIFY payload with the project's codec, so the bench
 * exercises exactly the encoding the tests check. */
#include "bench_msg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spop.h"

void bench_msg_spec_defaults(struct bench_msg_spec *s)
{
	s->message = "mirror-request";
	s->naming = BENCH_NAMING_NAMED;
	s->hdrs = BENCH_HDRS_BIN;
	s->method = "GET";
	s->path = "/bench/item?id=12345&view=full";
	s->version = "1.1";
	s->n_headers = 8;
	s->header_size = 32;
	s->body_size = 0;
}

static const char *const naming_names[] = { "named", "seed", "incumbent", "unnamed" };

int bench_naming_parse(const char *text)
{
	for (size_t i = 0; i < sizeof(naming_names) / sizeof(naming_names[0]); i++)
		if (strcmp(text, naming_names[i]) == 0)
			return (int)i;
	return -1;
}

const char *bench_naming_name(enum bench_naming n)
{
	return (unsigned)n < sizeof(naming_names) / sizeof(naming_names[0]) ? naming_names[n] : "?";
}

/* Arg names per naming, in the order the args are sent. NULL ends a list. */
enum arg_kind { ARG_METHOD, ARG_PATH, ARG_VERSION, ARG_HEADERS, ARG_BODY_LEN, ARG_BODY, ARG_SRC };

struct arg_def {
	const char *name;
	enum arg_kind kind;
};

static const struct arg_def args_named[] = {
	{ "method", ARG_METHOD },   { "path", ARG_PATH }, { "version", ARG_VERSION },
	{ "headers", ARG_HEADERS }, { "body", ARG_BODY }, { "src", ARG_SRC },
	{ NULL, ARG_METHOD },
};
static const struct arg_def args_seed[] = {
	{ "method", ARG_METHOD },   { "uri", ARG_PATH },       { "version", ARG_VERSION },
	{ "headers", ARG_HEADERS }, { "body_len", ARG_BODY_LEN }, { "body", ARG_BODY },
	{ NULL, ARG_METHOD },
};
static const struct arg_def args_incumbent[] = {
	{ "arg_method", ARG_METHOD },  { "arg_path", ARG_PATH }, { "arg_ver", ARG_VERSION },
	{ "arg_hdrs", ARG_HEADERS },   { "arg_body", ARG_BODY }, { NULL, ARG_METHOD },
};
static const struct arg_def args_unnamed[] = {
	{ "", ARG_METHOD },  { "", ARG_PATH }, { "", ARG_VERSION },
	{ "", ARG_HEADERS }, { "", ARG_BODY }, { NULL, ARG_METHOD },
};

static const struct arg_def *args_for(enum bench_naming n)
{
	switch (n) {
	case BENCH_NAMING_SEED:
		return args_seed;
	case BENCH_NAMING_INCUMBENT:
		return args_incumbent;
	case BENCH_NAMING_UNNAMED:
		return args_unnamed;
	default:
		return args_named;
	}
}

/* The header list a browser-ish client would send: host first, then
 * content-length when there is a body, then fillers x-bench-N. */
struct gen_header {
	char name[32];
	const char *value;
	size_t value_len;
};

static size_t gen_headers(const struct bench_msg_spec *s, struct gen_header *h, size_t max,
			  char *cl_text, const char *filler)
{
	size_t n = 0;

	if (n < max) {
		snprintf(h[n].name, sizeof(h[n].name), "host");
		h[n].value = "bench.example";
		h[n].value_len = strlen(h[n].value);
		n++;
	}
	if (s->body_size && n < max) {
		snprintf(h[n].name, sizeof(h[n].name), "content-length");
		h[n].value = cl_text;
		h[n].value_len = strlen(cl_text);
		n++;
	}
	for (unsigned i = 1; n < max; i++) {
		snprintf(h[n].name, sizeof(h[n].name), "x-bench-%u", i);
		h[n].value = filler;
		h[n].value_len = s->header_size;
		n++;
	}
	return n;
}

static void put_headers_bin(struct spop_writer *w, const struct gen_header *h, size_t n)
{
	size_t len = 0;
	uint8_t tmp[SPOP_VARINT_MAX];

	/* the block is BINARY typed data: its length first, then the pairs */
	for (size_t i = 0; i < n; i++)
		len += spop_varint_encode(strlen(h[i].name), tmp) + strlen(h[i].name) +
		       spop_varint_encode(h[i].value_len, tmp) + h[i].value_len;
	len += 2; /* two empty strings end the list */
	spop_put_u8(w, SPOP_T_BINARY);
	spop_put_varint(w, len);
	for (size_t i = 0; i < n; i++) {
		spop_put_string(w, slice_from_cstr(h[i].name));
		spop_put_string(w, slice_make(h[i].value, h[i].value_len));
	}
	spop_put_varint(w, 0);
	spop_put_varint(w, 0);
}

static void put_headers_text(struct spop_writer *w, const struct gen_header *h, size_t n)
{
	size_t len = 2; /* final empty line */

	for (size_t i = 0; i < n; i++)
		len += strlen(h[i].name) + 2 + h[i].value_len + 2;
	spop_put_u8(w, SPOP_T_STRING);
	spop_put_varint(w, len);
	for (size_t i = 0; i < n; i++) {
		spop_put_bytes(w, h[i].name, strlen(h[i].name));
		spop_put_bytes(w, ": ", 2);
		spop_put_bytes(w, h[i].value, h[i].value_len);
		spop_put_bytes(w, "\r\n", 2);
	}
	spop_put_bytes(w, "\r\n", 2);
}

static void build_into(struct spop_writer *w, const struct bench_msg_spec *s,
		       const struct gen_header *h, size_t nh, const char *body)
{
	const struct arg_def *args = args_for(s->naming);
	size_t nargs = 0;
	struct spop_value v;

	while (args[nargs].name)
		nargs++;
	spop_put_string(w, slice_from_cstr(s->message));
	spop_put_u8(w, (uint8_t)nargs);
	for (size_t i = 0; i < nargs; i++) {
		spop_put_string(w, slice_from_cstr(args[i].name));
		switch (args[i].kind) {
		case ARG_METHOD:
			v = spop_str_value(slice_from_cstr(s->method));
			spop_put_value(w, &v);
			break;
		case ARG_PATH:
			v = spop_str_value(slice_from_cstr(s->path));
			spop_put_value(w, &v);
			break;
		case ARG_VERSION:
			v = spop_str_value(slice_from_cstr(s->version));
			spop_put_value(w, &v);
			break;
		case ARG_HEADERS:
			if (s->hdrs == BENCH_HDRS_TEXT)
				put_headers_text(w, h, nh);
			else
				put_headers_bin(w, h, nh);
			break;
		case ARG_BODY_LEN:
			/* req.body_len is an integer sample: HAProxy sends it as INT64 */
			v = (struct spop_value){ .type = SPOP_T_INT64 };
			v.u.i64 = (int64_t)s->body_size;
			spop_put_value(w, &v);
			break;
		case ARG_BODY:
			v = spop_bin_value(slice_make(body, s->body_size));
			spop_put_value(w, &v);
			break;
		case ARG_SRC:
			v = (struct spop_value){ .type = SPOP_T_IPV4 };
			memcpy(v.u.ipv4, "\x7f\x00\x00\x01", 4);
			spop_put_value(w, &v);
			break;
		}
	}
}

int bench_msg_build(const struct bench_msg_spec *s, uint8_t **out, size_t *len)
{
	unsigned n_headers = s->n_headers ? s->n_headers : 1;
	struct gen_header *h = calloc(n_headers, sizeof(*h));
	char *filler = malloc(s->header_size + 1);
	char *body = malloc(s->body_size + 1);
	char cl_text[32];
	size_t cap = s->body_size + (size_t)n_headers * (s->header_size + 48) + 1024;
	uint8_t *buf = NULL;
	size_t nh;
	int rc = -1;

	if (!h || !filler || !body)
		goto out;
	memset(filler, 'v', s->header_size);
	/* a recognisable, non-constant body: the sink can check what it got */
	for (size_t i = 0; i < s->body_size; i++)
		body[i] = (char)('a' + i % 26);
	snprintf(cl_text, sizeof(cl_text), "%zu", s->body_size);
	nh = gen_headers(s, h, n_headers, cl_text, filler);
	for (;;) {
		struct spop_writer w;
		uint8_t *nb = realloc(buf, cap);

		if (!nb)
			goto out;
		buf = nb;
		w = spop_writer_init(buf, cap);
		build_into(&w, s, h, nh, body);
		if (!w.overflow) {
			*out = buf;
			*len = w.len;
			buf = NULL;
			rc = 0;
			break;
		}
		cap *= 2;
	}
out:
	free(buf);
	free(body);
	free(filler);
	free(h);
	return rc;
}

size_t bench_frame_head(uint8_t *out, uint8_t type, uint32_t flags, uint64_t sid, uint64_t fid,
			size_t payload_len)
{
	struct spop_writer w = spop_writer_init(out, BENCH_FRAME_HEAD_MAX);
	size_t start = spop_frame_begin(&w, type, flags, sid, fid);
	uint32_t frame_len = (uint32_t)(w.len - start - 4 + payload_len);

	out[0] = (uint8_t)(frame_len >> 24);
	out[1] = (uint8_t)(frame_len >> 16);
	out[2] = (uint8_t)(frame_len >> 8);
	out[3] = (uint8_t)frame_len;
	return w.len;
}

size_t bench_frame_room(uint32_t max_frame_size)
{
	/* metadata after the length prefix: type, flags, two worst-case varints */
	const size_t meta = BENCH_FRAME_HEAD_MAX - 4;

	return max_frame_size > meta ? max_frame_size - meta : 0;
}

size_t bench_fragment_count(size_t payload_len, size_t chunk)
{
	if (payload_len <= chunk)
		return 1;
	return (payload_len + chunk - 1) / chunk;
}

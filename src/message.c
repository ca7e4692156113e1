/* Argument mapping from SPOE messages to mirror request parts. */
#include "message.h"

#include <arpa/inet.h>
#include <string.h>

enum field_id {
	F_METHOD,
	F_URI,
	F_VERSION,
	F_HEADERS = MESSAGE_PAYLOAD_HEADERS,
	F_BODY = MESSAGE_PAYLOAD_BODY,
	F_DECLARED_LENGTH = MESSAGE_PAYLOAD_DECLARED_LENGTH,
	F_CLIENT,
	F_UNIQUE_ID,
	F_COMPARE,
	F_UNKNOWN,
};

/* Lengths are stored so a lookup compares bytes only when they match. */
#define ARG MESSAGE_ARG
static const struct message_arg arg_names[] = {
	ARG("method", F_METHOD),       ARG("arg_method", F_METHOD),
	ARG("uri", F_URI),             ARG("url", F_URI),
	ARG("path", F_URI),            ARG("pathq", F_URI),
	ARG("arg_path", F_URI),        ARG("version", F_VERSION),
	ARG("ver", F_VERSION),         ARG("arg_ver", F_VERSION),
	ARG("headers", F_HEADERS),     ARG("hdrs", F_HEADERS),
	ARG("arg_hdrs", F_HEADERS),    ARG("body", F_BODY),
	ARG("arg_body", F_BODY),       ARG("body_len", F_DECLARED_LENGTH),
	ARG("body_size", F_DECLARED_LENGTH),
	ARG("src", F_CLIENT),          ARG("client", F_CLIENT),
	ARG("unique-id", F_UNIQUE_ID), ARG("unique_id", F_UNIQUE_ID),
	ARG("id", F_UNIQUE_ID), /* the name the response message uses too */
	ARG("compare", F_COMPARE),
};
#undef ARG

/* The incumbent's positional order, for args the SPOE config left unnamed. */
static const enum field_id positional[] = { F_METHOD, F_URI, F_VERSION, F_HEADERS, F_BODY };

static enum field_id field_of(const struct spop_arg *a, unsigned index)
{
	if (a->name.len == 0)
		return index < sizeof(positional) / sizeof(positional[0]) ? positional[index]
									  : F_UNKNOWN;
	return (enum field_id)message_arg_field(arg_names, sizeof(arg_names) / sizeof(arg_names[0]),
						a->name, F_UNKNOWN);
}

int message_arg_field(const struct message_arg *table, size_t n, struct slice name,
		      int unknown)
{
	for (size_t i = 0; i < n; i++)
		if (name.len == table[i].len && !memcmp(name.ptr, table[i].name, name.len))
			return table[i].field;
	return unknown;
}

bool message_value_is_text(const struct spop_value *v)
{
	return v->type == SPOP_T_STRING || v->type == SPOP_T_BINARY;
}


void message_payload_take(struct message_payload *p, int field, const struct spop_value *v)
{
	switch (field) {
	case MESSAGE_PAYLOAD_HEADERS:
		if (message_value_is_text(v)) {
			p->headers = v->u.str;
			p->headers_binary = v->type == SPOP_T_BINARY;
		}
		break;
	case MESSAGE_PAYLOAD_BODY:
		if (message_value_is_text(v))
			p->body = v->u.str;
		break;
	case MESSAGE_PAYLOAD_DECLARED_LENGTH:
		p->has_declared_length = spop_value_as_u64(v, &p->declared_length);
		break;
	}
}

int message_payload_headers(const struct message_payload *p, struct header_list *h)
{
	if (!p->headers.len)
		return SPOP_OK;
	return p->headers_binary ? headers_decode_bin(p->headers, h)
				 : headers_decode_text(p->headers, h);
}

static bool compare_asked(const struct spop_value *v)
{
	uint64_t n;

	if (v->type == SPOP_T_BOOL)
		return v->u.b;
	return spop_value_as_u64(v, &n) && n != 0;
}

static void set_client(struct message_fields *f, const struct spop_value *v)
{
	if (v->type == SPOP_T_IPV4) {
		inet_ntop(AF_INET, v->u.ipv4, f->client_buf, sizeof(f->client_buf));
		f->client = slice_from_cstr(f->client_buf);
	} else if (v->type == SPOP_T_IPV6) {
		inet_ntop(AF_INET6, v->u.ipv6, f->client_buf, sizeof(f->client_buf));
		f->client = slice_from_cstr(f->client_buf);
	} else if (v->type == SPOP_T_STRING) {
		f->client = v->u.str;
	}
}

int message_extract(const struct spop_message *m, struct message_fields *f)
{
	memset(f, 0, sizeof(*f));
	for (unsigned i = 0; i < m->nb_args; i++) {
		const struct spop_value *v = &m->args[i].value;

		/* A NULL value is a sample fetch that found nothing: leave the
		 * field empty whatever its name. */
		enum field_id field = field_of(&m->args[i], i);

		switch (field) {
		case F_METHOD:
			if (message_value_is_text(v))
				f->method = v->u.str;
			break;
		case F_URI:
			if (message_value_is_text(v))
				f->uri = v->u.str;
			break;
		case F_VERSION:
			if (message_value_is_text(v))
				f->version = v->u.str;
			break;
		case F_HEADERS:
		case F_BODY:
		case F_DECLARED_LENGTH:
			message_payload_take(&f->payload, field, v);
			break;
		case F_CLIENT:
			set_client(f, v);
			break;
		case F_UNIQUE_ID:
			if (message_value_is_text(v))
				f->unique_id = v->u.str;
			break;
		case F_COMPARE: /* NULL: var(txn.compare) unset, so not compared */
			f->compare_given = true;
			f->compare = compare_asked(v);
			break;
		case F_UNKNOWN:
			break;
		}
	}
	if (f->method.len == 0)
		return MESSAGE_NO_METHOD;
	if (f->uri.len == 0)
		return MESSAGE_NO_URI;
	return MESSAGE_OK;
}

const char *message_strerror(int rc)
{
	switch (rc) {
	case MESSAGE_OK:
		return "ok";
	case MESSAGE_NO_METHOD:
		return "message has no method argument";
	case MESSAGE_NO_URI:
		return "message has no path/uri argument";
	default:
		return "invalid message";
	}
}

bool message_name_accepted(char *const *names, size_t n, struct slice name)
{
	for (size_t i = 0; i < n; i++)
		if (slice_eq_cstr(name, names[i]))
			return true;
	return false;
}

/* The primary's answer: message arguments -> one owned allocation. */
#include "response.h"

#include "message.h"

#include <stdlib.h>
#include <string.h>

enum field_id {
	F_ID,
	F_STATUS,
	F_HEADERS = MESSAGE_PAYLOAD_HEADERS,
	F_BODY = MESSAGE_PAYLOAD_BODY,
	F_DECLARED_LENGTH = MESSAGE_PAYLOAD_DECLARED_LENGTH,
	F_TIME,
	F_UNKNOWN,
};

#define ARG MESSAGE_ARG
static const struct message_arg arg_names[] = {
	ARG("id", F_ID),		ARG("unique-id", F_ID),
	ARG("unique_id", F_ID),		ARG("status", F_STATUS),
	ARG("headers", F_HEADERS),	ARG("hdrs", F_HEADERS),
	ARG("body", F_BODY),		ARG("body_len", F_DECLARED_LENGTH),
	ARG("body_size", F_DECLARED_LENGTH), ARG("time", F_TIME),
	ARG("res_time", F_TIME),	ARG("timer_hdr", F_TIME),
};
#undef ARG

static enum field_id field_of(struct slice name)
{
	return (enum field_id)message_arg_field(arg_names, sizeof(arg_names) / sizeof(arg_names[0]),
						name, F_UNKNOWN);
}


/* HAProxy sends `status` as an integer; a string of three digits is
 * accepted too (str(...) in a hand-written configuration). */
static int status_of(const struct spop_value *v)
{
	uint64_t n = 0;

	if (v->type == SPOP_T_STRING && v->u.str.len == 3) {
		if (!slice_to_u64(v->u.str, 3, &n))
			return 0;
	} else if (!spop_value_as_u64(v, &n)) {
		return 0;
	}
	return n >= 100 && n <= 999 ? (int)n : 0;
}

int response_extract(const struct spop_message *m, struct response_fields *f,
		     struct header_list *h)
{
	memset(f, 0, sizeof(*f));
	h->count = 0;
	for (unsigned i = 0; i < m->nb_args; i++) {
		const struct spop_value *v = &m->args[i].value;

		enum field_id field = field_of(m->args[i].name);

		switch (field) {
		case F_ID:
			if (message_value_is_text(v))
				f->id = v->u.str;
			break;
		case F_STATUS:
			f->status = status_of(v);
			break;
		case F_HEADERS:
		case F_BODY:
		case F_DECLARED_LENGTH:
			message_payload_take(&f->payload, field, v);
			break;
		case F_TIME:
			/* HAProxy gives -1 when the timer never started */
			f->has_time = spop_value_as_u64(v, &f->time_ms);
			break;
		case F_UNKNOWN:
			break;
		}
	}
	if (f->id.len == 0)
		return RESPONSE_NO_ID;
	if (f->status == 0)
		return RESPONSE_NO_STATUS;
	return message_payload_headers(&f->payload, h);
}

const char *response_strerror(int rc)
{
	switch (rc) {
	case RESPONSE_OK:
		return "ok";
	case RESPONSE_NO_ID:
		return "response message without id (unique-id)";
	case RESPONSE_NO_STATUS:
		return "response message without a status in 100..999";
	default:
		return spop_strerror(rc);
	}
}

void answer_body_settle(struct verdict_answer *a, bool has_declared, uint64_t declared,
			bool head)
{
	if (a->body_state != VERDICT_BODY_COMPLETE || !has_declared || head)
		return;
	if (a->status < 200 || a->status == 204 || a->status == 304)
		return;
	if (declared > a->body.len)
		a->body_state = VERDICT_BODY_PARTIAL;
}

static void primary_item_free(struct verdict_item *it)
{
	primary_answer_free((struct primary_answer *)it);
}

struct primary_answer *primary_answer_new(const struct response_fields *f,
					  const struct header_list *h)
{
	size_t size = sizeof(struct primary_answer) + h->count * sizeof(struct http_header) +
		      f->id.len + f->payload.body.len;
	struct primary_answer *p;
	char *cursor;

	for (size_t i = 0; i < h->count; i++)
		size += h->items[i].name.len + h->items[i].value.len;
	p = verdict_item_new(sizeof(*p), size, VERDICT_ITEM_PRIMARY, primary_item_free);
	if (!p)
		return NULL;
	cursor = (char *)(p->headers + h->count);
	p->id = slice_copy_to(&cursor, f->id);
	p->n_headers = h->count;
	for (size_t i = 0; i < h->count; i++) {
		p->headers[i].name = slice_copy_to(&cursor, h->items[i].name);
		p->headers[i].value = slice_copy_to(&cursor, h->items[i].value);
	}
	p->has_time = f->has_time;
	p->time_us = f->time_ms * 1000;
	p->has_declared_length = f->payload.has_declared_length ||
				 headers_content_length(p->headers, p->n_headers, &p->declared_length);
	if (f->payload.has_declared_length)
		p->declared_length = f->payload.declared_length;
	p->answer = (struct verdict_answer){
		.status = f->status,
		.headers = p->headers,
		.nheaders = p->n_headers,
		.body = slice_copy_to(&cursor, f->payload.body),
		.body_state = VERDICT_BODY_COMPLETE,
	};
	return p;
}

void primary_answer_free(struct primary_answer *p)
{
	free(p);
}

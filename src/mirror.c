/* Message -> admitted mirror request -> replay pool. */
#include "mirror.h"

#include <stdlib.h>
#include <time.h>

#include "grpc.h"
#include "headers.h"
#include "message.h"
#include "queue.h"
#include "request.h"
#include "response.h"
#include "target.h"
#include "clock.h"
#include "verdict_expect.h"

/* what the rate-limited log lines' summaries call them */
#define INVALID_MESSAGES "invalid mirror messages"
#define TRUNCATED_BODIES "truncated bodies"
#define GRPC_NOT_HTTP2 "gRPC calls for targets without http2"
#define BAD_RESPONSES "response messages not compared"

/* HAProxy cuts bodies beyond tune.bufsize without a flag: compare what
 * arrived with what the request declared. */
static bool body_truncated(const struct message_payload *p, const struct header_list *h)
{
	uint64_t declared;

	if (headers_content_length(h->items, h->count, &declared) && declared > p->body.len)
		return true;
	return p->has_declared_length && p->declared_length > p->body.len;
}

static void cancel_all(struct target_set *set, uint32_t mask, enum drop_reason reason)
{
	for (size_t i = 0; i < set->count; i++)
		if (mask & (1u << i))
			target_cancel(&set->targets[i], reason);
}

void mirror_dispatch_flush_logs(struct mirror_dispatch *d)
{
	log_ratelimit_flush(&d->invalid_log, LOG_LVL_WARN, INVALID_MESSAGES);
	log_ratelimit_flush(&d->truncated_log, LOG_LVL_WARN, TRUNCATED_BODIES);
	log_ratelimit_flush(&d->grpc_log, LOG_LVL_WARN, GRPC_NOT_HTTP2);
	log_ratelimit_flush(&d->response_log, LOG_LVL_WARN, BAD_RESPONSES);
}

/* The primary's answer: decoded here (the frame goes away with the ACK),
 * joined and compared on the verdict thread. */
static void on_response(struct mirror_dispatch *d, const struct spop_message *m)
{
	struct http_header items[MIRROR_MAX_HEADERS];
	struct header_list headers = header_list_init(items, MIRROR_MAX_HEADERS);
	struct response_fields f;
	struct primary_answer *p;
	int rc;

	if (!d->verdict || !(*d->targets)->compare_mask) {
		d->stats->messages_ignored++; /* nothing compares: HAProxy may send it anyway */
		return;
	}
	d->stats->messages_response++;
	rc = response_extract(m, &f, &headers);
	if (rc != RESPONSE_OK) {
		stat_inc(rc == RESPONSE_NO_ID ? &d->verdict_stats->no_id : &d->verdict_stats->invalid);
		log_limited(&d->response_log, LOG_LVL_WARN, BAD_RESPONSES, "message '%.*s': %s",
			    (int)m->name.len, m->name.ptr, response_strerror(rc));
		return;
	}
	p = primary_answer_new(&f, &headers);
	if (!p) {
		stat_inc(&d->verdict_stats->no_memory);
		return;
	}
	d->verdict(d->verdict_arg, &p->item);
}

/* Registers r with the verdict thread when a target it goes to compares
 * and HAProxy did not leave it out (`compare` argument false or unset):
 * before r reaches a worker, so the registration is in the verdict inbox
 * before any answer. Returns the targets whose answers are captured. */
static uint32_t expect_answers(struct mirror_dispatch *d, struct target_set *set,
			       const struct mirror_request *r, uint32_t mask,
			       const struct message_fields *f)
{
	uint32_t compare = mask & set->compare_mask;
	struct verdict_expect *x;

	if (!compare || !d->verdict)
		return 0;
	if (f->compare_given && !f->compare) {
		stat_inc(&d->verdict_stats->not_asked);
		return 0;
	}
	if (!r->unique_id.len) {
		stat_inc(&d->verdict_stats->no_id);
		log_limited(&d->response_log, LOG_LVL_WARN, BAD_RESPONSES,
			    "%.*s %.*s: request message without id (unique-id): not compared",
			    (int)r->method.len, r->method.ptr, (int)r->uri.len, r->uri.ptr);
		return 0;
	}
	x = verdict_expect_new(set, compare, r->unique_id, r->method, r->uri);
	if (!x) {
		stat_inc(&d->verdict_stats->no_memory);
		return 0;
	}
	d->verdict(d->verdict_arg, &x->item);
	return compare;
}

void mirror_on_message(void *arg, const struct spop_message *m)
{
	struct mirror_dispatch *d = arg;
	struct target_set *set = *d->targets;
	struct http_header hdr_items[MIRROR_MAX_HEADERS];
	struct header_list headers = header_list_init(hdr_items, MIRROR_MAX_HEADERS);
	struct message_fields f;
	struct admit_input in;
	struct request_parts parts;
	struct mirror_request *r;
	uint32_t mask = 0;
	unsigned n_send = 0;
	int rc;

	if (!message_name_accepted(d->message_names, d->n_message_names, m->name)) {
		if (message_name_accepted(d->response_names, d->n_response_names, m->name))
			on_response(d, m);
		else
			d->stats->messages_ignored++;
		return;
	}
	rc = message_extract(m, &f);
	if (rc == MESSAGE_OK)
		rc = message_payload_headers(&f.payload, &headers);
	if (rc != MESSAGE_OK) {
		d->stats->messages_invalid++;
		log_limited(&d->invalid_log, LOG_LVL_WARN, INVALID_MESSAGES,
			    "message '%.*s' not mirrored: %s", (int)m->name.len, m->name.ptr,
			    rc == MESSAGE_NO_METHOD || rc == MESSAGE_NO_URI ? message_strerror(rc)
									    : spop_strerror(rc));
		return;
	}
	d->stats->messages_mirror++;

	in = (struct admit_input){
		.headers = &headers,
		.client = f.client,
		.truncated = body_truncated(&f.payload, &headers),
		.grpc = grpc_call(headers.items, headers.count),
		.now_ns = clock_monotonic_ns(),
	};
	if (in.truncated) {
		d->stats->requests_truncated++;
		log_limited(&d->truncated_log, LOG_LVL_WARN, TRUNCATED_BODIES,
			    "%.*s %.*s: body of %zu bytes is shorter than declared "
			    "(raise HAProxy's tune.bufsize); not replayed",
			    (int)f.method.len, f.method.ptr, (int)f.uri.len, f.uri.ptr, f.payload.body.len);
	}
	for (size_t i = 0; i < set->count; i++) {
		enum admit_verdict v = target_admit(&set->targets[i], &in);

		if (v == ADMIT_SEND) {
			mask |= 1u << i;
			n_send++;
		} else if (v == ADMIT_DROP_GRPC_NEEDS_HTTP2) {
			log_limited(&d->grpc_log, LOG_LVL_WARN, GRPC_NOT_HTTP2,
				    "target '%s': gRPC call %.*s not mirrored: gRPC needs "
				    "HTTP/2 (set http2 = yes); counted dropped (grpc_needs_http2)",
				    set->targets[i].cfg.name, (int)f.uri.len, f.uri.ptr);
		}
	}
	if (!mask)
		return;

	parts = (struct request_parts){
		.method = f.method,
		.uri = f.uri,
		.version = f.version,
		.body = f.payload.body,
		.client = f.client,
		.unique_id = f.unique_id,
		.headers = &headers,
		.truncated = in.truncated,
	};
	size_t size = request_alloc_size(&parts);
	if (!queue_budget_reserve(d->budget, size)) {
		cancel_all(set, mask, DROP_QUEUE_FULL);
		return;
	}
	r = request_new(&parts);
	if (!r) {
		queue_budget_release(d->budget, size);
		d->stats->requests_alloc_failed++;
		cancel_all(set, mask, DROP_QUEUE_FULL);
		return;
	}
	r->budget = d->budget;
	r->charge = size;
	r->set = set;
	target_set_ref(set);
	r->target_mask = mask;
	atomic_init(&r->pending, n_send);
	r->received_ns = in.now_ns;
	r->compare_mask = expect_answers(d, set, r, mask, &f);
	d->submit(d->submit_arg, r);
}

/* Shadow answers: capture while the transfer runs, then one allocation. */
#include "shadow_answer.h"

#include <stdlib.h>
#include <string.h>

#include "queue_budget.h"
#include "response.h"
#include "spop.h"

void shadow_capture_begin(struct shadow_capture *c, size_t body_max,
			  struct queue_budget *budget)
{
	c->body_max = body_max;
	c->budget = budget;
	/* the buffers kept from the last capture count like new ones */
	if (budget && c->head_cap + c->body_cap &&
	    !queue_budget_charge(budget, c->head_cap + c->body_cap)) {
		free(c->head);
		free(c->body);
		c->head = c->body = NULL;
		c->head_cap = c->body_cap = 0;
	}
	c->head_len = 0;
	c->body_len = 0;
	c->body_total = 0;
	c->digest = VERDICT_DIGEST_INIT;
	c->overflow = false;
	c->body_cut = false;
	c->short_of_budget = false;
}

/* Grows *buf to hold `need` bytes, doubling, up to `max`; the growth is
 * charged to c's budget first. False: over max, out of memory or budget. */
static bool reserve(struct shadow_capture *c, char **buf, size_t *cap, size_t need, size_t max)
{
	size_t n = *cap ? *cap : 1024;
	char *p;

	if (need <= *cap)
		return true;
	if (need > max)
		return false;
	while (n < need)
		n = n > max / 2 ? max : n * 2;
	if (c->budget && !queue_budget_charge(c->budget, n - *cap)) {
		c->short_of_budget = true;
		return false;
	}
	p = realloc(*buf, n);
	if (!p) {
		if (c->budget)
			queue_budget_discharge(c->budget, n - *cap);
		return false;
	}
	*buf = p;
	*cap = n;
	return true;
}

/* Gives *buf's charge back to the budget, and frees it when it holds more
 * than `keep` bytes. */
static void give_back(struct shadow_capture *c, char **buf, size_t *cap, size_t keep)
{
	if (c->budget && *cap)
		queue_budget_discharge(c->budget, *cap);
	if (*cap <= keep)
		return;
	free(*buf);
	*buf = NULL;
	*cap = 0;
}

size_t shadow_capture_header(struct shadow_capture *c, const char *line, size_t len)
{
	if (len >= 5 && !memcmp(line, "HTTP/", 5)) {
		c->head_len = 0; /* a new (final or interim) answer begins */
		return len;
	}
	if (c->overflow)
		return len;
	if (!reserve(c, &c->head, &c->head_cap, c->head_len + len, SHADOW_ANSWER_HEADERS_MAX)) {
		c->overflow = true;
		return len;
	}
	memcpy(c->head + c->head_len, line, len);
	c->head_len += len;
	return len;
}

size_t shadow_capture_body(struct shadow_capture *c, const char *buf, size_t len)
{
	size_t keep = 0;

	c->digest = verdict_digest_update(c->digest, buf, len);
	c->body_total += len;
	if (!c->body_cut && c->body_len < c->body_max) {
		keep = c->body_max - c->body_len < len ? c->body_max - c->body_len : len;
		if (!reserve(c, &c->body, &c->body_cap, c->body_len + keep, c->body_max)) {
			/* what is kept is useless now: its room goes to others */
			c->body_cut = true;
			c->body_len = 0;
			give_back(c, &c->body, &c->body_cap, 0);
			return len;
		}
		memcpy(c->body + c->body_len, buf, keep);
		c->body_len += keep;
	}
	return len;
}

void shadow_capture_end(struct shadow_capture *c)
{
	give_back(c, &c->head, &c->head_cap, SHADOW_CAPTURE_KEEP);
	give_back(c, &c->body, &c->body_cap, SHADOW_CAPTURE_KEEP);
	c->budget = NULL;
	c->head_len = c->body_len = 0;
}

void shadow_capture_free(struct shadow_capture *c)
{
	shadow_capture_end(c);
	free(c->head);
	free(c->body);
	memset(c, 0, sizeof(*c));
}

static void shadow_item_free(struct verdict_item *it)
{
	shadow_answer_free((struct shadow_answer *)it);
}

struct shadow_answer *shadow_answer_new(const struct shadow_capture *c,
					const struct shadow_answer_key *k, int status,
					bool complete)
{
	struct http_header items[SHADOW_ANSWER_MAX_HEADERS];
	struct header_list h = header_list_init(items, SHADOW_ANSWER_MAX_HEADERS);
	bool usable = status > 0 && !c->overflow;
	struct slice body = usable ? slice_make(c->body, c->body_len) : (struct slice){ 0 };
	struct shadow_answer *a;
	size_t size;
	uint64_t declared = 0;
	char *cursor;

	/* curl hands well-formed lines; one it does not (a folded line, a
	 * block over SHADOW_ANSWER_MAX_HEADERS) makes the answer incomparable */
	if (usable && c->head_len && headers_decode_text(slice_make(c->head, c->head_len), &h) != SPOP_OK) {
		usable = false;
		h.count = 0;
		body = (struct slice){ 0 };
	}
	size = sizeof(*a) + h.count * sizeof(struct http_header) + k->id.len + body.len;
	for (size_t i = 0; i < h.count; i++)
		size += items[i].name.len + items[i].value.len;
	a = verdict_item_new(sizeof(*a), size, VERDICT_ITEM_SHADOW, shadow_item_free);
	if (!a)
		return NULL;
	a->generation = k->generation;
	a->target = k->target;
	a->expected = k->expected;
	a->latency_us = k->latency_us;
	cursor = (char *)(a->headers + h.count);
	a->id = slice_copy_to(&cursor, k->id);
	a->n_headers = h.count;
	for (size_t i = 0; i < h.count; i++) {
		a->headers[i].name = slice_copy_to(&cursor, items[i].name);
		a->headers[i].value = slice_copy_to(&cursor, items[i].value);
	}
	a->answer = (struct verdict_answer){
		.status = status > 0 ? status : 0,
		.headers = a->headers,
		.nheaders = a->n_headers,
		.body = slice_copy_to(&cursor, body),
		.body_state = VERDICT_BODY_COMPLETE,
		.body_total = c->body_total,
		.body_digest = c->digest,
	};
	a->answer.lost = status > 0 && !usable;
	if (!usable || !complete || c->body_cut)
		a->answer.body_state = VERDICT_BODY_PARTIAL;
	else if (c->body_total > c->body_len)
		a->answer.body_state = VERDICT_BODY_OVER_CAP;
	else if (headers_content_length(a->headers, a->n_headers, &declared))
		answer_body_settle(&a->answer, true, declared, k->head);
	return a;
}

void shadow_answer_free(struct shadow_answer *a)
{
	free(a);
}

/* From a request to its transfers and back to the targets' counters (see
 * replay_send.h). Every target of a request ends in exactly one of
 * target_finish() or target_cancel(), so the counters add up. */
#include "replay_send.h"

#include "clock.h"
#include "grpc.h"
#include "log.h"
#include "queue_budget.h"
#include "replay_types.h"
#include "request.h"
#include "shadow_answer.h"
#include "stats.h"
#include "target.h"

static enum outcome_class failure_class(CURLcode rc)
{
	switch (rc) {
	case CURLE_OPERATION_TIMEDOUT:
		return OUTCOME_TIMEOUT;
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
		return OUTCOME_CONNECT_ERROR;
	default:
		return OUTCOME_OTHER;
	}
}

/* A CURLMcode that is not OK: counted and logged (rate-limited). */
static void check_multi(struct worker *w, const char *call, CURLMcode rc)
{
	if (rc != CURLM_OK)
		replay_log_multi_error(&w->pool->log, call, curl_multi_strerror(rc));
}

static void recycle(struct worker *w, struct transfer *x)
{
	transfer_put(&w->transfers, x, !atomic_load(&w->pool->stopping));
}

static unsigned target_index(const struct mirror_request *r, const struct target *t)
{
	return (unsigned)(t - r->set->targets);
}

static bool compares(const struct worker *w, const struct mirror_request *r,
		     const struct target *t)
{
	return w->pool->answer && (r->compare_mask & (1u << target_index(r, t)));
}

/* The shadow's answer (or its absence: status 0) to the verdict thread. */
static void post_answer(struct worker *w, const struct mirror_request *r, const struct target *t,
			const struct shadow_capture *c, int status, bool complete,
			uint64_t latency_us)
{
	static const struct shadow_capture nothing = { 0 };
	struct shadow_answer_key k = {
		.id = r->unique_id,
		.generation = r->set->generation,
		.target = target_index(r, t),
		.expected = r->compare_mask,
		.latency_us = latency_us,
		.head = slice_eq_cstr(r->method, "HEAD"),
	};
	struct shadow_answer *a = shadow_answer_new(c ? c : &nothing, &k, status, complete);

	if (c && c->short_of_budget) {
		if (w->pool->capture_short)
			stat_inc(w->pool->capture_short);
		replay_log_capture_short(&w->pool->log, r, t, w->pool->capture_budget->max_bytes);
	}

	/* out of memory: the join counts the request as not comparable */
	if (a)
		w->pool->answer(w->pool->answer_arg, &a->item);
}

/* A transfer that never reached curl: counted failed ("other"). */
static void fail_to_start(struct worker *w, struct mirror_request *r, struct target *t,
			  const char *why)
{
	if (compares(w, r, t))
		post_answer(w, r, t, NULL, 0, false, 0);
	replay_log_error(&w->pool->log, r, t, why);
	target_finish(t, 0, OUTCOME_OTHER, 0);
	request_target_done(r);
}

/* Hands (r, win->t) to curl; win's place is taken already. */
static void start(struct worker *w, struct mirror_request *r, struct target_window *win)
{
	struct target *t = win->t;
	struct transfer *x = transfer_get(&w->transfers);
	const char *why;
	CURLMcode mrc;

	if (!x) {
		why = "out of memory for a transfer";
		goto failed;
	}
	x->r = r;
	x->t = t;
	x->win = win;
	x->errbuf[0] = '\0';
	why = replay_options_prepare(x, r, t, &w->pool->options);
	if (why) {
		recycle(w, x);
		goto failed;
	}
	if (compares(w, r, t))
		replay_options_capture(x, w->pool->capture_budget);
	replay_loop_adopt(&w->curl, x->easy);
	x->start_ns = clock_monotonic_ns();
	mrc = curl_multi_add_handle(w->curl.multi, x->easy);
	if (mrc != CURLM_OK) {
		check_multi(w, "curl_multi_add_handle", mrc);
		recycle(w, x);
		why = curl_multi_strerror(mrc);
		goto failed;
	}
	transfer_activate(&w->transfers, x);
	return;
failed:
	replay_window_leave(win);
	fail_to_start(w, r, t, why);
}

/* Starts the transfers waiting for win while it has room. */
static void start_waiting(struct worker *w, struct target_window *win)
{
	struct mirror_request *r;

	while ((r = replay_window_next(win)))
		start(w, r, win);
}

/* (r, t) goes to curl now if t's window has room, else waits its turn. */
static void submit(struct worker *w, struct mirror_request *r, struct target *t)
{
	struct target_window *win =
		replay_window_of(&w->windows, t, t->generation,
				 replay_options_window(t, &w->pool->options));

	if (!win) {
		fail_to_start(w, r, t, "out of memory for a transfer");
		return;
	}
	if (replay_window_enter(win)) {
		start(w, r, win);
		return;
	}
	if (replay_window_wait(win, r) < 0)
		fail_to_start(w, r, t, "out of memory for a transfer");
}

void replay_send(struct worker *w, struct mirror_request *r)
{
	struct target_set *set = r->set;
	uint32_t mask = r->target_mask;

	/* by generation: a reload's new set may reuse a freed set's address */
	if (set->generation != w->sized_for) {
		long total;

		check_multi(w, "curl_multi_setopt(connection limits)",
			    replay_options_connections(w->curl.multi, set, &w->pool->options,
						       &total));
		w->transfers.max_idle = (size_t)total;
		w->sized_for = set->generation;
	}
	/* r may be freed by its last transfer: read the mask first */
	for (unsigned i = 0; mask && i < set->count; i++) {
		if (!(mask & (1u << i)))
			continue;
		mask &= ~(1u << i);
		submit(w, r, &set->targets[i]);
	}
}

/* What HAProxy's res.timer.hdr (%Tr) measures on the primary's side: from
 * the connection being ready to the answer's headers. */
static uint64_t answer_time_us(CURL *e)
{
	curl_off_t first = 0, ready = 0;

	curl_easy_getinfo(e, CURLINFO_STARTTRANSFER_TIME_T, &first);
	curl_easy_getinfo(e, CURLINFO_PRETRANSFER_TIME_T, &ready);
	return first > ready ? (uint64_t)(first - ready) : 0;
}

void replay_send_done(struct worker *w, struct transfer *x, CURLcode rc)
{
	struct target_window *win;
	uint64_t us = (clock_monotonic_ns() - x->start_ns) / 1000;
	long status = 0;

	check_multi(w, "curl_multi_remove_handle", curl_multi_remove_handle(w->curl.multi, x->easy));
	transfer_deactivate(&w->transfers, x);
	if (rc == CURLE_OK)
		curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
	if (rc == CURLE_OK && status > 0) {
		target_finish(x->t, status, OUTCOME_OTHER, us);
		if (x->grpc)
			target_count_grpc_status(x->t, x->grpc_status == GRPC_STATUS_NONE
							       ? GRPC_SLOT_MISSING
							       : (unsigned)x->grpc_status);
	} else {
		const char *why = rc != CURLE_OK ? (x->errbuf[0] ? x->errbuf : curl_easy_strerror(rc))
						 : "no HTTP status in the answer";

		replay_log_error(&w->pool->log, x->r, x->t, why);
		target_finish(x->t, 0, rc == CURLE_OK ? OUTCOME_OTHER : failure_class(rc), 0);
	}
	if (x->capturing) {
		long got = status;

		/* cut after the status line (reset, timeout in the body): an
		 * answer, but a partial one */
		if (rc != CURLE_OK)
			curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &got);
		post_answer(w, x->r, x->t, &x->capture, (int)got, rc == CURLE_OK,
			    answer_time_us(x->easy));
	}
	if (w->pool->access_log && log_enabled(LOG_LVL_INFO))
		replay_log_access(x->r, x->t, status, rc == CURLE_OK ? "ok" : curl_easy_strerror(rc),
				  us);
	request_target_done(x->r);
	win = x->win;
	recycle(w, x);
	replay_window_leave(win);
	start_waiting(w, win);
}

void replay_send_abort(struct worker *w, struct transfer *x)
{
	check_multi(w, "curl_multi_remove_handle", curl_multi_remove_handle(w->curl.multi, x->easy));
	transfer_deactivate(&w->transfers, x);
	replay_window_leave(x->win);
	w->n_aborted++;
	target_finish(x->t, 0, OUTCOME_OTHER, 0);
	request_target_done(x->r);
}

void replay_send_drop(struct mirror_request *r)
{
	struct target_set *set = r->set;
	uint32_t mask = r->target_mask;

	/* r is freed by its last request_target_done(): read set and mask first */
	for (unsigned i = 0; mask && i < set->count; i++) {
		if (!(mask & (1u << i)))
			continue;
		mask &= ~(1u << i);
		target_cancel(&set->targets[i], DROP_SHUTDOWN);
		request_target_done(r);
	}
}

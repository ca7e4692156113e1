/* Worker lifecycle and drain (see replay_worker.h). The loop wakes for new
 * requests (ev_async from the queue), for curl (replay_loop.c), for the
 * stop signal and for the drain deadline. */
#include "replay_worker.h"

#include <stdio.h>

#include "replay_send.h"
#include "replay_types.h"
#include "request.h"
#include "target.h"

static void check_drained(struct worker *w)
{
	if (w->draining && !w->transfers.active && !request_queue_len(&w->queue) &&
	    !replay_windows_waiting(&w->windows)) {
		ev_timer_stop(w->loop, &w->drain_timer);
		ev_break(w->loop, EVBREAK_ALL);
	}
}

static void on_curl_done(void *arg, CURL *easy, CURLcode rc)
{
	struct worker *w = arg;
	char *x = NULL;

	curl_easy_getinfo(easy, CURLINFO_PRIVATE, &x);
	replay_send_done(w, (struct transfer *)x, rc);
	check_drained(w);
}

static void on_curl_error(void *arg, const char *call, CURLMcode rc)
{
	struct worker *w = arg;

	replay_log_multi_error(&w->pool->log, call, curl_multi_strerror(rc));
}

static void drop_queued(struct worker *w, struct mirror_request *list)
{
	while (list) {
		struct mirror_request *r = list;

		list = r->next;
		w->n_dropped++;
		replay_send_drop(r);
	}
}

/* Transfers waiting for a place in curl that will never get one. */
static void drop_waiting(struct worker *w)
{
	for (struct target_window *win = w->windows.list; win; win = win->next) {
		struct mirror_request *r;

		while ((r = replay_window_pop(win))) {
			w->n_dropped++;
			target_cancel(win->t, DROP_SHUTDOWN);
			request_target_done(r);
		}
	}
}

static void start_queued(struct worker *w)
{
	struct mirror_request *list = request_queue_take_all(&w->queue);

	if (w->aborted) {
		drop_queued(w, list);
		return;
	}
	while (list) {
		struct mirror_request *r = list;

		list = r->next;
		replay_send(w, r);
	}
}

static void on_wake(struct ev_loop *loop, ev_async *a, int revents)
{
	struct worker *w = a->data;

	start_queued(w);
	check_drained(w);
}

/* Drain timeout: abort whatever is still queued or in curl. */
static void abort_all(struct worker *w)
{
	w->aborted = true;
	drop_queued(w, request_queue_take_all(&w->queue));
	drop_waiting(w);
	while (w->transfers.active) {
		struct transfer *x = w->transfers.active;

		replay_send_abort(w, x);
		transfer_put(&w->transfers, x, false);
	}
	ev_timer_stop(w->loop, &w->drain_timer);
	replay_loop_stop(&w->curl);
	ev_break(w->loop, EVBREAK_ALL);
}

static void on_drain_timeout(struct ev_loop *loop, ev_timer *tm, int revents)
{
	abort_all(tm->data);
}

static void on_stop(struct ev_loop *loop, ev_async *a, int revents)
{
	struct worker *w = a->data;
	unsigned drain_ms = atomic_load(&w->pool->drain_ms);

	w->draining = true;
	if (!drain_ms) {
		abort_all(w);
		return;
	}
	start_queued(w);
	ev_timer_set(&w->drain_timer, (double)drain_ms / 1000.0, 0.);
	ev_timer_start(w->loop, &w->drain_timer);
	check_drained(w);
}

static void wake_worker(void *arg)
{
	struct worker *w = arg;

	ev_async_send(w->loop, &w->wake);
}

int replay_worker_init(struct replay_pool *p, struct worker *w, unsigned index, char *err,
		       size_t errlen)
{
	w->pool = p;
	w->index = index;
	transfer_pool_init(&w->transfers, REPLAY_MAX_TARGET_TRANSFERS);
	replay_windows_init(&w->windows);
	atomic_init(&w->alive, false);
	request_queue_init(&w->queue, wake_worker, w);
	w->loop = ev_loop_new(EVFLAG_AUTO);
	if (!w->loop) {
		snprintf(err, errlen, "replay worker %u: cannot create an event loop", index);
		return -1;
	}
	if (replay_loop_init(&w->curl, w->loop, on_curl_done, on_curl_error, w) < 0) {
		snprintf(err, errlen, "replay worker %u: curl_multi_init failed", index);
		return -1;
	}
	ev_async_init(&w->wake, on_wake);
	w->wake.data = w;
	ev_async_start(w->loop, &w->wake);
	ev_async_init(&w->stop, on_stop);
	w->stop.data = w;
	ev_async_start(w->loop, &w->stop);
	ev_timer_init(&w->drain_timer, on_drain_timeout, 0., 0.);
	w->drain_timer.data = w;
	return 0;
}

void *replay_worker_main(void *arg)
{
	struct worker *w = arg;

	ev_run(w->loop, 0);
	atomic_store(&w->alive, false);
	return NULL;
}

void replay_worker_stop(struct worker *w)
{
	ev_async_send(w->loop, &w->stop);
}

void replay_worker_free(struct worker *w)
{
	struct mirror_request *left = request_queue_take_all(&w->queue);

	/* submitted after the worker stopped (a caller racing stop) */
	if (left)
		drop_queued(w, left);
	drop_waiting(w);
	while (w->transfers.active) { /* only if the thread never ran */
		struct transfer *x = w->transfers.active;

		replay_send_abort(w, x);
		transfer_destroy(x);
	}
	transfer_pool_free(&w->transfers);
	replay_loop_free(&w->curl);
	if (w->loop)
		ev_loop_destroy(w->loop);
	request_queue_destroy(&w->queue);
	replay_windows_destroy(&w->windows);
}

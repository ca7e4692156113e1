/* The verdict thread (see verdict_worker.h): a mutex-guarded list as the
 * inbox, drained in batches. Verdicts need no haste, and waking the thread
 * for every item cost up to three wakeups per compared request
 * (registration, primary's answer, shadow's answer: an eventfd write, an
 * epoll_wait return and a read each); bench/run (v) measured agent CPU per
 * compared request at 1.76x mirroring alone with them, 1.48x without
 * (compare = headers, same machine load). So a timer drains the
 * inbox every BATCH_MS, and a poster wakes the thread only when a batch
 * has grown to BATCH_WAKE items (or a quarter of a smaller inbox) or a
 * quarter of the inbox's bytes. */
#include "verdict_worker.h"

#include <ev.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "diff_log.h"
#include "log.h"

#define BATCH_MS 5
#define BATCH_WAKE 256

struct verdict_worker {
	pthread_t thread;
	bool thread_started;
	struct ev_loop *loop;
	ev_async wake, stop, reopen;
	ev_timer expiry, batch;
	struct verdict_join *join;
	struct verdict_stats *stats;
	struct diff_log *diff_log;

	pthread_mutex_t lock; /* the inbox and the sync counters */
	pthread_cond_t synced;
	struct verdict_item *head, *tail;
	size_t entries, bytes, max_entries, max_bytes;
	size_t wake_entries; /* BATCH_WAKE, or a quarter of a smaller inbox */
	uint64_t sync_asked, sync_done;
};

static uint64_t monotonic_ms(void)
{
	return clock_monotonic_ns() / 1000000;
}

/* Joins everything in the inbox, then decides what expired meanwhile. */
static void drain(struct verdict_worker *w)
{
	struct verdict_item *it;
	uint64_t asked;

	pthread_mutex_lock(&w->lock);
	it = w->head;
	w->head = w->tail = NULL;
	w->entries = w->bytes = 0;
	asked = w->sync_asked;
	pthread_mutex_unlock(&w->lock);
	while (it) {
		struct verdict_item *next = it->next;

		it->next = NULL;
		verdict_join_take(w->join, it);
		it = next;
	}
	verdict_join_expire(w->join);
	pthread_mutex_lock(&w->lock);
	if (w->sync_done < asked) {
		w->sync_done = asked;
		pthread_cond_broadcast(&w->synced);
	}
	pthread_mutex_unlock(&w->lock);
}

static void wake_cb(struct ev_loop *loop, ev_async *a, int revents)
{
	drain(a->data);
}

static void batch_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	drain(t->data);
}

static void expiry_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct verdict_worker *w = t->data;

	verdict_join_expire(w->join);
	verdict_join_flush_logs(w->join);
}

static void reopen_cb(struct ev_loop *loop, ev_async *a, int revents)
{
	struct verdict_worker *w = a->data;
	int rc;

	if (!w->diff_log)
		return;
	rc = diff_log_reopen(w->diff_log);
	if (rc < 0)
		log_error("SIGHUP: reopening the diff log failed, writing on to the old one: %s",
			  strerror(-rc));
}

static void stop_cb(struct ev_loop *loop, ev_async *a, int revents)
{
	drain(a->data);
	ev_break(loop, EVBREAK_ALL);
}

static void *run(void *arg)
{
	struct verdict_worker *w = arg;

	ev_run(w->loop, 0);
	return NULL;
}

struct verdict_worker *verdict_worker_start(const struct verdict_worker_settings *s, char *err,
					    size_t errlen)
{
	struct verdict_worker *w = calloc(1, sizeof(*w));
	/* a quarter of the timeout: an expired request waits at most 25 % more */
	double every = s->timeout_ms / 4000.0;
	sigset_t all, old;

	if (!w) {
		snprintf(err, errlen, "out of memory for the verdict thread");
		return NULL;
	}
	w->stats = s->stats;
	w->diff_log = s->outputs.diff_log;
	w->max_entries = s->max_entries;
	w->max_bytes = s->max_bytes;
	w->wake_entries = s->max_entries / 4 < BATCH_WAKE ? s->max_entries / 4 + 1 : BATCH_WAKE;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->synced, NULL);
	w->join = verdict_join_new(s->max_entries, s->max_bytes, s->timeout_ms,
				   s->now_ms ? s->now_ms : monotonic_ms, s->stats, &s->outputs);
	w->loop = ev_loop_new(EVFLAG_AUTO);
	if (!w->join || !w->loop) {
		snprintf(err, errlen, "out of memory for the verdict thread");
		goto fail;
	}
	ev_async_init(&w->wake, wake_cb);
	ev_async_init(&w->stop, stop_cb);
	ev_async_init(&w->reopen, reopen_cb);
	w->wake.data = w->stop.data = w->reopen.data = w;
	ev_async_start(w->loop, &w->wake);
	ev_async_start(w->loop, &w->stop);
	ev_async_start(w->loop, &w->reopen);
	if (every < 0.01)
		every = 0.01;
	if (every > 1.0)
		every = 1.0;
	ev_timer_init(&w->expiry, expiry_cb, every, every);
	w->expiry.data = w;
	ev_timer_start(w->loop, &w->expiry);
	ev_timer_init(&w->batch, batch_cb, BATCH_MS / 1000.0, BATCH_MS / 1000.0);
	w->batch.data = w;
	ev_timer_start(w->loop, &w->batch);
	/* signals belong to the main loop */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	w->thread_started = pthread_create(&w->thread, NULL, run, w) == 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!w->thread_started) {
		snprintf(err, errlen, "cannot start the verdict thread");
		goto fail;
	}
	return w;
fail:
	if (w->loop)
		ev_loop_destroy(w->loop);
	verdict_join_free(w->join);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->synced);
	free(w);
	return NULL;
}

void verdict_worker_post_take(struct verdict_worker *w, struct verdict_item *it)
{
	bool wake;

	pthread_mutex_lock(&w->lock);
	if (w->entries >= w->max_entries || w->bytes + it->bytes > w->max_bytes) {
		pthread_mutex_unlock(&w->lock);
		stat_inc(&w->stats->inbox_dropped[it->kind]);
		verdict_item_free(it);
		return;
	}
	it->next = NULL;
	if (w->tail)
		w->tail->next = it;
	else
		w->head = it;
	w->tail = it;
	w->entries++;
	w->bytes += it->bytes;
	/* once per batch that outgrows the timer (a burst); the timer drains
	 * the rest */
	wake = w->entries == w->wake_entries ||
	       (w->bytes > w->max_bytes / 4 && w->bytes - it->bytes <= w->max_bytes / 4);
	pthread_mutex_unlock(&w->lock);
	if (wake)
		ev_async_send(w->loop, &w->wake);
}

void verdict_worker_reopen(struct verdict_worker *w)
{
	if (!w)
		return;
	ev_async_send(w->loop, &w->reopen);
}

void verdict_worker_sync(struct verdict_worker *w)
{
	uint64_t mine;

	pthread_mutex_lock(&w->lock);
	mine = ++w->sync_asked;
	pthread_mutex_unlock(&w->lock);
	ev_async_send(w->loop, &w->wake);
	pthread_mutex_lock(&w->lock);
	while (w->sync_done < mine)
		pthread_cond_wait(&w->synced, &w->lock);
	pthread_mutex_unlock(&w->lock);
}

void verdict_worker_stop(struct verdict_worker *w)
{
	if (!w)
		return;
	ev_async_send(w->loop, &w->stop);
	pthread_join(w->thread, NULL);
	drain(w); /* posted after the thread's last drain */
	verdict_join_free(w->join);
	ev_loop_destroy(w->loop);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->synced);
	free(w);
}

/* The replay pool (see replay.h): starts the workers, hands them requests
 * round robin, reports what they hold, and stops them. A worker's life is
 * in replay_worker.c, what it does with a request in replay_send.c, and
 * the libcurl-on-libev loop in replay_loop.c. */
#include "replay.h"

#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "replay_send.h"
#include "replay_types.h"
#include "replay_worker.h"
#include "xalloc.h"

/* Pending "N more" summaries of shadow errors are checked this many times
 * per monitor interval, so one comes out at most a quarter interval after
 * its window ended, even when no further error arrives. */
#define ERROR_LOG_CHECKS_PER_INTERVAL 4

static void on_log_timer(struct ev_loop *loop, ev_timer *tm, int revents)
{
	struct replay_pool *p = tm->data;

	replay_log_flush(&p->log, false);
}

/* Before the threads start: worker 0's loop is not running yet. */
static void start_log_timer(struct replay_pool *p)
{
	double every = p->log.interval_ms / 1000.0 / ERROR_LOG_CHECKS_PER_INTERVAL;

	ev_timer_init(&p->log_timer, on_log_timer, every, every);
	p->log_timer.data = p;
	ev_timer_start(p->workers[0].loop, &p->log_timer);
}

static void pool_free(struct replay_pool *p)
{
	for (unsigned i = 0; i < p->n_workers; i++)
		replay_worker_free(&p->workers[i]);
	replay_log_free(&p->log);
	free(p->options.interface);
	free(p);
	curl_global_cleanup();
}

/* Stops and joins the workers started so far (start failed half-way). */
static void abandon(struct replay_pool *p, unsigned started)
{
	atomic_store(&p->drain_ms, 0);
	atomic_store(&p->stopping, true);
	for (unsigned j = 0; j < started; j++) {
		replay_worker_stop(&p->workers[j]);
		pthread_join(p->workers[j].thread, NULL);
	}
	pool_free(p);
}

static int start_threads(struct replay_pool *p, char *err, size_t errlen)
{
	sigset_t all, old;

	/* workers take no signals: the main loop handles them */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (unsigned i = 0; i < p->n_workers; i++) {
		struct worker *w = &p->workers[i];
		char name[16];
		int rc;

		/* alive from creation, so a caller checking right after start sees it */
		atomic_store(&w->alive, true);
		rc = pthread_create(&w->thread, NULL, replay_worker_main, w);
		if (rc) {
			atomic_store(&w->alive, false);
			pthread_sigmask(SIG_SETMASK, &old, NULL);
			snprintf(err, errlen, "replay worker %u: pthread_create: %s", i, strerror(rc));
			abandon(p, i);
			return -1;
		}
		w->thread_started = true;
		/* named for top -H and perf */
		snprintf(name, sizeof(name), "replay-%u", i % 10000u);
		pthread_setname_np(w->thread, name);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return 0;
}

void replay_pool_check_targets(const struct replay_pool *p, const struct target_set *set)
{
	replay_options_warn(set, &p->options);
}

struct replay_pool *replay_pool_start(const struct replay_settings *s, char *err, size_t errlen)
{
	struct replay_pool *p;
	unsigned n = s->num_workers;

	if (n < 1) {
		snprintf(err, errlen, "replay needs at least one worker");
		return NULL;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		snprintf(err, errlen, "curl_global_init failed");
		return NULL;
	}
	p = calloc(1, sizeof(*p) + n * sizeof(struct worker));
	if (!p) {
		curl_global_cleanup();
		snprintf(err, errlen, "out of memory for %u replay workers", n);
		return NULL;
	}
	p->access_log = s->access_log;
	p->answer = s->answer;
	p->answer_arg = s->answer_arg;
	p->capture_budget = s->capture_budget;
	p->capture_short = s->capture_short;
	p->options.h2c_reuse_broken = curl_version_info(CURLVERSION_NOW)->version_num < 0x080000;
	p->options.n_workers = n;
	p->options.interface = xstrdup_or_null(s->mirror_interface);
	if (s->local_port_low) {
		p->options.local_port = s->local_port_low;
		p->options.local_port_range = (long)s->local_port_high - s->local_port_low + 1;
	}
	replay_log_init(&p->log, s->monitor_interval_ms);
	for (unsigned i = 0; i < n; i++) {
		p->n_workers = i + 1; /* pool_free() frees the workers begun */
		if (replay_worker_init(p, &p->workers[i], i, err, errlen) < 0) {
			pool_free(p);
			return NULL;
		}
	}
	start_log_timer(p);
	return start_threads(p, err, errlen) < 0 ? NULL : p;
}

void replay_pool_submit_take(struct replay_pool *p, struct mirror_request *r)
{
	unsigned i = atomic_fetch_add_explicit(&p->next_worker, 1, memory_order_relaxed);
	struct worker *w = &p->workers[i % p->n_workers];

	/* after replay_pool_stop() began, the worker may be gone */
	if (atomic_load_explicit(&p->stopping, memory_order_relaxed)) {
		replay_send_drop(r);
		return;
	}
	request_queue_push_take(&w->queue, r);
}

size_t replay_pool_queued(struct replay_pool *p)
{
	size_t n = 0;

	for (unsigned i = 0; i < p->n_workers; i++)
		n += request_queue_len(&p->workers[i].queue) +
		     replay_windows_waiting(&p->workers[i].windows);
	return n;
}

size_t replay_pool_active(struct replay_pool *p)
{
	size_t n = 0;

	for (unsigned i = 0; i < p->n_workers; i++)
		n += atomic_load_explicit(&p->workers[i].transfers.n_active, memory_order_relaxed);
	return n;
}

uint64_t replay_pool_multi_errors(struct replay_pool *p)
{
	return atomic_load_explicit(&p->log.multi_errors, memory_order_relaxed);
}

bool replay_pool_alive(struct replay_pool *p)
{
	for (unsigned i = 0; i < p->n_workers; i++)
		if (!atomic_load(&p->workers[i].alive))
			return false;
	return true;
}

void replay_pool_stop(struct replay_pool *p, unsigned drain_ms)
{
	size_t aborted = 0, dropped = 0;

	if (!p)
		return;
	atomic_store(&p->drain_ms, drain_ms);
	atomic_store(&p->stopping, true);
	for (unsigned i = 0; i < p->n_workers; i++)
		replay_worker_stop(&p->workers[i]);
	for (unsigned i = 0; i < p->n_workers; i++) {
		struct worker *w = &p->workers[i];

		if (w->thread_started)
			pthread_join(w->thread, NULL);
	}
	/* a burst whose window is still open is reported before we go */
	replay_log_flush(&p->log, true);
	for (unsigned i = 0; i < p->n_workers; i++) {
		replay_worker_free(&p->workers[i]);
		aborted += p->workers[i].n_aborted;
		dropped += p->workers[i].n_dropped;
	}
	if (aborted || dropped)
		log_warn("replay: drain ended after %u ms: %zu mirrors aborted in flight, "
			 "%zu dropped from the queue",
			 drain_ms, aborted, dropped);
	p->n_workers = 0;
	pool_free(p);
}

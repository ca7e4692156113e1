/* Replay workers: each thread owns a libev loop, a curl multi handle and a
 * request queue. Curl tells the loop which sockets and which timeout to
 * watch (socket and timer callbacks); the loop tells curl what happened
 * (curl_multi_socket_action); finished transfers are read with
 * curl_multi_info_read. The layout follows curl's evhiperfifo.c example. */
#include "replay.h"

#include <curl/curl.h>
#include <errno.h>
#include <ev.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "queue.h"
#include "replay_window.h"
#include "request.h"
#include "shadow.h"
#include "target.h"
#include "xalloc.h"
#include "clock.h"

/* Answers are discarded, so a small receive buffer per easy handle saves
 * memory; 4 KiB still takes a typical status line and headers in one read. */
#define REPLAY_RECV_BUFFER 4096
/* Bodies over 64 KiB are sent through an upload buffer each easy handle
 * keeps; libcurl's minimum (16 KiB) instead of its 64 KiB default. */
#define REPLAY_UPLOAD_BUFFER (16 * 1024)
/* Scratch buffers that grew past this (huge cookies) are not kept. */
#define REPLAY_SCRATCH_KEEP (64 * 1024)
#define REPLAY_MAX_CACHED_CONNS 4096
/* Pending "N more" summaries of shadow errors are checked this many times
 * per monitor interval, so one comes out at most a quarter interval after
 * its window ended, even when no further error arrives. */
#define ERROR_LOG_CHECKS_PER_INTERVAL 4
#define SHADOW_ERROR_LEVEL LOG_LVL_WARN

struct worker;

/* One shadow transfer: one (request, target) pair in curl, recycled with
 * its easy handle and scratch memory through the worker's idle list. */
struct transfer {
	struct transfer *next;
	struct transfer *prev; /* active list only */
	struct worker *w;
	CURL *easy;
	struct mirror_request *r;
	struct target *t;
	struct target_window *win; /* the place in curl it holds */
	uint64_t start_ns;
	void *scratch; /* curl_slist nodes, then shadow_build()'s buffer */
	size_t scratch_cap;
	char errbuf[CURL_ERROR_SIZE];
};

/* One socket curl asked us to watch. */
struct socket_watch {
	ev_io io;
	struct worker *w;
	curl_socket_t fd;
	struct socket_watch *next, *prev;
};

struct worker {
	struct replay_pool *pool;
	unsigned index;
	pthread_t thread;
	bool thread_started;
	struct ev_loop *loop;
	CURLM *multi;
	struct request_queue queue;
	ev_async wake;
	ev_async stop;
	ev_timer curl_timer;
	ev_timer drain_timer;
	struct transfer *idle;
	size_t n_idle;
	size_t max_idle;
	struct transfer *active;
	atomic_size_t n_active;
	struct replay_windows windows;
	struct socket_watch *sockets;
	const struct target_set *sized_for; /* connection limits follow this set */
	atomic_bool alive;
	bool draining;
	bool aborted;
	/* what the drain timeout cut short, reported once by replay_pool_stop() */
	size_t n_aborted;
	size_t n_dropped;
};

/* Per-target error log rate limit, keyed by the target's counters (which
 * survive reloads). Nodes are never freed before the pool. */
struct error_log {
	struct error_log *next;
	const struct target_stats *stats;
	struct log_ratelimit rl;
	char what[160];
};

struct replay_pool {
	unsigned n_workers;
	bool access_log;
	char *interface;
	long local_port;
	long local_port_range;
	unsigned monitor_interval_ms;
	/* libcurl before 8.0.0 fails every transfer that reuses an HTTP/2
	 * prior-knowledge connection ("Error in the HTTP2 framing layer",
	 * curl issue #10634): h2c then gets a fresh connection per transfer */
	bool h2c_reuse_broken;
	atomic_bool h2c_warned;
	atomic_uint drain_ms;
	atomic_uint next_worker;
	atomic_bool stopping;
	pthread_mutex_t error_logs_lock;
	struct error_log *error_logs;
	ev_timer error_log_timer; /* on worker 0's loop: flushes the summaries */
	struct worker workers[];
};

/* ------------------------------------------------------------------ */
/* error logging                                                       */

static struct log_ratelimit *error_log_for(struct replay_pool *p, const struct target *t,
					   const char **what)
{
	struct error_log *e;

	pthread_mutex_lock(&p->error_logs_lock);
	for (e = p->error_logs; e; e = e->next)
		if (e->stats == t->stats)
			break;
	if (!e) {
		e = calloc(1, sizeof(*e));
		if (e) {
			e->stats = t->stats;
			e->rl.interval_ms = p->monitor_interval_ms;
			snprintf(e->what, sizeof(e->what), "shadow '%s' errors", t->cfg.name);
			e->next = p->error_logs;
			p->error_logs = e;
		}
	}
	pthread_mutex_unlock(&p->error_logs_lock);
	if (!e)
		return NULL;
	*what = e->what;
	return &e->rl;
}

/* Client bytes in a log line: at most n-1 of them, control and non-ASCII
 * bytes shown as '?', so a crafted method or uri cannot forge log lines. */
static const char *printable(char *out, size_t n, struct slice s)
{
	size_t len = s.len < n - 1 ? s.len : n - 1;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s.ptr[i];
		out[i] = c < 0x20 || c >= 0x7f ? '?' : (char)c;
	}
	out[len] = '\0';
	return out;
}

static void log_shadow_error(struct replay_pool *p, const struct mirror_request *r,
			     const struct target *t, const char *why)
{
	const char *what = NULL;
	struct log_ratelimit *rl = error_log_for(p, t, &what);
	char method[33], uri[257];

	if (!rl) {
		log_error("shadow '%s': %s", t->cfg.name, why);
		return;
	}
	log_limited(rl, SHADOW_ERROR_LEVEL, what, "shadow '%s' (%s): %s %s: %s", t->cfg.name,
		    t->url.origin, printable(method, sizeof(method), r->method),
		    printable(uri, sizeof(uri), r->uri), why);
}

/* Writes the summaries of the windows that are over; with `now`, of every
 * window that suppressed something (shutdown). */
static void flush_error_logs(struct replay_pool *p, bool now)
{
	pthread_mutex_lock(&p->error_logs_lock);
	for (struct error_log *e = p->error_logs; e; e = e->next) {
		if (now)
			log_ratelimit_flush_now(&e->rl, SHADOW_ERROR_LEVEL, e->what);
		else
			log_ratelimit_flush(&e->rl, SHADOW_ERROR_LEVEL, e->what);
	}
	pthread_mutex_unlock(&p->error_logs_lock);
}

static void on_error_log_timer(struct ev_loop *loop, ev_timer *tm, int revents)
{
	flush_error_logs(tm->data, false);
}

/* Before the threads start: worker 0's loop is not running yet. */
static void start_error_log_timer(struct replay_pool *p)
{
	double every = p->monitor_interval_ms / 1000.0 / ERROR_LOG_CHECKS_PER_INTERVAL;

	ev_timer_init(&p->error_log_timer, on_error_log_timer, every, every);
	p->error_log_timer.data = p;
	ev_timer_start(p->workers[0].loop, &p->error_log_timer);
}

/* ------------------------------------------------------------------ */
/* outcomes                                                            */

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

/* A transfer that never reached curl: counted failed ("other"). */
static void fail_to_start(struct worker *w, struct mirror_request *r, struct target *t,
			  const char *why)
{
	log_shadow_error(w->pool, r, t, why);
	target_finish(t, 0, OUTCOME_OTHER, 0);
	request_target_done(r);
}

/* ------------------------------------------------------------------ */
/* transfers                                                           */

static size_t discard_body(char *ptr, size_t size, size_t nmemb, void *arg)
{
	return size * nmemb;
}

static struct transfer *transfer_get(struct worker *w)
{
	struct transfer *x = w->idle;

	if (x) {
		w->idle = x->next;
		w->n_idle--;
		curl_easy_reset(x->easy);
		return x;
	}
	x = calloc(1, sizeof(*x));
	if (!x)
		return NULL;
	x->easy = curl_easy_init();
	if (!x->easy) {
		free(x);
		return NULL;
	}
	x->w = w;
	return x;
}

static void transfer_destroy(struct transfer *x)
{
	curl_easy_cleanup(x->easy);
	free(x->scratch);
	free(x);
}

static void transfer_put(struct worker *w, struct transfer *x)
{
	x->r = NULL;
	x->t = NULL;
	if (w->n_idle >= w->max_idle || w->pool->stopping) {
		transfer_destroy(x);
		return;
	}
	if (x->scratch_cap > REPLAY_SCRATCH_KEEP) {
		free(x->scratch);
		x->scratch = NULL;
		x->scratch_cap = 0;
	}
	x->next = w->idle;
	w->idle = x;
	w->n_idle++;
}

static void active_link(struct worker *w, struct transfer *x)
{
	x->prev = NULL;
	x->next = w->active;
	if (w->active)
		w->active->prev = x;
	w->active = x;
	atomic_fetch_add_explicit(&w->n_active, 1, memory_order_relaxed);
}

static void active_unlink(struct worker *w, struct transfer *x)
{
	if (x->prev)
		x->prev->next = x->next;
	else
		w->active = x->next;
	if (x->next)
		x->next->prev = x->prev;
	x->next = x->prev = NULL;
	atomic_fetch_sub_explicit(&w->n_active, 1, memory_order_relaxed);
}

/* Ensures the scratch holds `n_nodes` slist nodes plus `bytes` for shadow_build(). */
static bool scratch_reserve(struct transfer *x, size_t n_nodes, size_t bytes)
{
	size_t need = n_nodes * sizeof(struct curl_slist) + bytes;
	void *p;

	if (need <= x->scratch_cap)
		return true;
	p = malloc(need);
	if (!p)
		return false;
	free(x->scratch);
	x->scratch = p;
	x->scratch_cap = need;
	return true;
}

/* Connection limits from the targets' windows: curl never has to park a
 * transfer for want of a connection (targets may share a host), and enough
 * connections stay cached that keep-alive survives a full window. */
static void size_connections(struct worker *w, const struct target_set *set)
{
	long total = 0;

	for (size_t i = 0; i < set->count; i++) {
		total += replay_target_window(set->targets[i].cfg.max_inflight);
		if (w->pool->h2c_reuse_broken && set->targets[i].cfg.http2 &&
		    !set->targets[i].url.https && !atomic_exchange(&w->pool->h2c_warned, true))
			log_warn("target '%s': libcurl %s cannot reuse HTTP/2 prior-knowledge "
				 "connections (fixed in 8.0.0): one connection per mirror",
				 set->targets[i].cfg.name, curl_version_info(CURLVERSION_NOW)->version);
	}
	if (total > REPLAY_MAX_CACHED_CONNS)
		total = REPLAY_MAX_CACHED_CONNS;
	if (total < 1)
		total = 1;
	curl_multi_setopt(w->multi, CURLMOPT_MAX_HOST_CONNECTIONS, total);
	curl_multi_setopt(w->multi, CURLMOPT_MAXCONNECTS, total);
	w->max_idle = (size_t)total;
	w->sized_for = set;
}

static void configure_target(struct transfer *x, const struct target *t,
			     const struct replay_pool *p)
{
	const struct target_config *c = &t->cfg;
	CURL *e = x->easy;

	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	/* Shadows are reached directly: an http_proxy in the agent's
	 * environment must not divert mirrored traffic (and libcurl would
	 * otherwise read the proxy variables on every transfer). */
	curl_easy_setopt(e, CURLOPT_PROXY, "");
	curl_easy_setopt(e, CURLOPT_PATH_AS_IS, 1L);
	curl_easy_setopt(e, CURLOPT_BUFFERSIZE, (long)REPLAY_RECV_BUFFER);
	curl_easy_setopt(e, CURLOPT_UPLOAD_BUFFERSIZE, (long)REPLAY_UPLOAD_BUFFER);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard_body);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(e, CURLOPT_PRIVATE, x);
	if (c->timeout_ms)
		curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)c->timeout_ms);
	if (c->connect_timeout_ms)
		curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)c->connect_timeout_ms);
	if (c->http2 && t->url.https) {
		/* negotiated by ALPN; wait for a connection to multiplex on rather
		 * than open a new one per transfer */
		curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
		curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
	} else if (c->http2) {
		/* h2c: prior knowledge, no Upgrade dance */
		curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE);
		if (p->h2c_reuse_broken) {
			curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
			curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
		} else {
			curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
		}
	} else {
		curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	}
	if (t->url.https) {
		if (c->ca_file)
			curl_easy_setopt(e, CURLOPT_CAINFO, c->ca_file);
		if (!c->tls_verify) {
			curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
			curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
		}
	}
	if (p->interface)
		curl_easy_setopt(e, CURLOPT_INTERFACE, p->interface);
	if (p->local_port) {
		curl_easy_setopt(e, CURLOPT_LOCALPORT, p->local_port);
		curl_easy_setopt(e, CURLOPT_LOCALPORTRANGE, p->local_port_range);
	}
}

/* Sets up the shadow request on x->easy; NULL or the reason it cannot go. */
static const char *prepare(struct transfer *x, const struct mirror_request *r,
			   const struct target *t)
{
	size_t max_lines = shadow_lines_max(r, t);
	size_t bytes = shadow_size_max(r, t);
	struct shadow_request s;
	struct curl_slist *nodes;
	CURL *e = x->easy;
	int rc;

	if (!scratch_reserve(x, max_lines, bytes))
		return "out of memory";
	nodes = x->scratch;
	rc = shadow_build(r, t, nodes + max_lines, bytes, &s);
	switch (rc) {
	case SHADOW_OK:
		break;
	case SHADOW_E_METHOD:
		return "method is not an HTTP token";
	case SHADOW_E_URI:
		return "uri holds a space or control byte";
	default:
		return "shadow request larger than its bound (bug)";
	}
	/* the slist is ours, in the scratch: curl only reads CURLOPT_HTTPHEADER */
	for (size_t i = 0; i < s.n_lines; i++) {
		nodes[i].data = (char *)s.lines[i];
		nodes[i].next = i + 1 < s.n_lines ? &nodes[i + 1] : NULL;
	}
	configure_target(x, t, x->w->pool);
	curl_easy_setopt(e, CURLOPT_URL, s.url);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, s.n_lines ? nodes : NULL);
	switch (s.body_mode) {
	case SHADOW_BODY_HEAD:
		curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
		break;
	case SHADOW_BODY_SEND:
		/* POSTFIELDS does not copy: the body lives in r until we are done */
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)s.body.len);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, s.body.ptr ? s.body.ptr : "");
		if (strcmp(s.method, "POST"))
			curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, s.method);
		break;
	case SHADOW_BODY_NONE:
		if (strcmp(s.method, "GET"))
			curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, s.method);
		break;
	}
	return NULL;
}

/* Hands (r, win->t) to curl; win's place is taken already. */
static void transfer_start(struct worker *w, struct mirror_request *r, struct target_window *win)
{
	struct target *t = win->t;
	struct transfer *x = transfer_get(w);
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
	why = prepare(x, r, t);
	if (why) {
		transfer_put(w, x);
		goto failed;
	}
	x->start_ns = clock_monotonic_ns();
	mrc = curl_multi_add_handle(w->multi, x->easy);
	if (mrc != CURLM_OK) {
		transfer_put(w, x);
		why = curl_multi_strerror(mrc);
		goto failed;
	}
	active_link(w, x);
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
		transfer_start(w, r, win);
}

/* (r, t) goes to curl now if t's window has room, else waits its turn. */
static void transfer_submit(struct worker *w, struct mirror_request *r, struct target *t)
{
	struct target_window *win = replay_window_of(&w->windows, t, replay_target_window(t->cfg.max_inflight));

	if (!win) {
		fail_to_start(w, r, t, "out of memory for a transfer");
		return;
	}
	if (replay_window_enter(win)) {
		transfer_start(w, r, win);
		return;
	}
	if (replay_window_wait(win, r) < 0)
		fail_to_start(w, r, t, "out of memory for a transfer");
}

static void access_log_line(const struct transfer *x, long status, const char *result,
			    uint64_t us)
{
	char method[33], uri[1025];

	log_info("mirror target=%s %s %s status=%ld result=%s time_us=%llu", x->t->cfg.name,
		 printable(method, sizeof(method), x->r->method),
		 printable(uri, sizeof(uri), x->r->uri), status, result, (unsigned long long)us);
}

/* Records the outcome, releases the request and recycles the transfer. */
static void transfer_done(struct worker *w, struct transfer *x, CURLcode rc)
{
	struct target_window *win;
	uint64_t us = (clock_monotonic_ns() - x->start_ns) / 1000;
	long status = 0;

	curl_multi_remove_handle(w->multi, x->easy);
	active_unlink(w, x);
	if (rc == CURLE_OK)
		curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
	if (rc == CURLE_OK && status > 0) {
		target_finish(x->t, status, OUTCOME_OTHER, us);
	} else {
		const char *why = rc != CURLE_OK ? (x->errbuf[0] ? x->errbuf : curl_easy_strerror(rc))
						 : "no HTTP status in the answer";

		log_shadow_error(w->pool, x->r, x->t, why);
		target_finish(x->t, 0, rc == CURLE_OK ? OUTCOME_OTHER : failure_class(rc), 0);
	}
	if (w->pool->access_log && log_enabled(LOG_LVL_INFO))
		access_log_line(x, status, rc == CURLE_OK ? "ok" : curl_easy_strerror(rc), us);
	request_target_done(x->r);
	win = x->win;
	transfer_put(w, x);
	replay_window_leave(win);
	start_waiting(w, win);
}

/* ------------------------------------------------------------------ */
/* the loop                                                            */

/* Cuts a transfer short (drain timeout, teardown): counted failed/other. */
static void abort_transfer(struct worker *w, struct transfer *x)
{
	curl_multi_remove_handle(w->multi, x->easy);
	active_unlink(w, x);
	replay_window_leave(x->win);
	w->n_aborted++;
	target_finish(x->t, 0, OUTCOME_OTHER, 0);
	request_target_done(x->r);
}

static void check_drained(struct worker *w)
{
	if (w->draining && !w->active && !request_queue_len(&w->queue) &&
	    !replay_windows_waiting(&w->windows)) {
		ev_timer_stop(w->loop, &w->drain_timer);
		ev_break(w->loop, EVBREAK_ALL);
	}
}

static void read_completions(struct worker *w)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(w->multi, &left))) {
		char *priv = NULL;
		CURLcode rc;

		if (m->msg != CURLMSG_DONE)
			continue;
		rc = m->data.result; /* m is invalid once the handle is removed */
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &priv);
		transfer_done(w, (struct transfer *)priv, rc);
	}
	check_drained(w);
}

static void on_socket_ready(struct ev_loop *loop, ev_io *io, int revents)
{
	struct socket_watch *sw = io->data;
	struct worker *w = sw->w;
	int action = (revents & EV_READ ? CURL_CSELECT_IN : 0) |
		     (revents & EV_WRITE ? CURL_CSELECT_OUT : 0);
	int running;

	curl_multi_socket_action(w->multi, sw->fd, action, &running);
	read_completions(w); /* sw may be gone now */
}

static void on_curl_timer(struct ev_loop *loop, ev_timer *tm, int revents)
{
	struct worker *w = tm->data;
	int running;

	curl_multi_socket_action(w->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	read_completions(w);
}

/* CURLMOPT_SOCKETFUNCTION: watch, change or forget one socket. */
static int curl_socket_cb(CURL *e, curl_socket_t fd, int what, void *arg, void *sockp)
{
	struct worker *w = arg;
	struct socket_watch *sw = sockp;
	int events = (what & CURL_POLL_IN ? EV_READ : 0) | (what & CURL_POLL_OUT ? EV_WRITE : 0);

	if (what == CURL_POLL_REMOVE) {
		if (sw) {
			ev_io_stop(w->loop, &sw->io);
			if (sw->prev)
				sw->prev->next = sw->next;
			else
				w->sockets = sw->next;
			if (sw->next)
				sw->next->prev = sw->prev;
			free(sw);
			curl_multi_assign(w->multi, fd, NULL);
		}
		return 0;
	}
	if (!sw) {
		sw = calloc(1, sizeof(*sw));
		if (!sw)
			return -1;
		sw->w = w;
		sw->fd = fd;
		sw->next = w->sockets;
		if (w->sockets)
			w->sockets->prev = sw;
		w->sockets = sw;
		ev_io_init(&sw->io, on_socket_ready, fd, events);
		sw->io.data = sw;
		curl_multi_assign(w->multi, fd, sw);
	} else {
		ev_io_stop(w->loop, &sw->io);
		ev_io_set(&sw->io, fd, events);
	}
	ev_io_start(w->loop, &sw->io);
	return 0;
}

/* CURLMOPT_TIMERFUNCTION: curl wants to be called after timeout_ms (-1: never). */
static int curl_timer_cb(CURLM *multi, long timeout_ms, void *arg)
{
	struct worker *w = arg;

	ev_timer_stop(w->loop, &w->curl_timer);
	if (timeout_ms >= 0) {
		ev_timer_set(&w->curl_timer, (double)timeout_ms / 1000.0, 0.);
		ev_timer_start(w->loop, &w->curl_timer);
	}
	return 0;
}

/* A request that will never be sent: each of its targets drops it. */
static void drop_for_shutdown(struct mirror_request *r)
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

static void drop_queued(struct worker *w, struct mirror_request *list)
{
	while (list) {
		struct mirror_request *r = list;

		list = r->next;
		w->n_dropped++;
		drop_for_shutdown(r);
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
		struct target_set *set = r->set;
		uint32_t mask = r->target_mask;

		list = r->next;
		if (set != w->sized_for)
			size_connections(w, set);
		/* r may be freed by its last transfer_start: read the mask first */
		for (unsigned i = 0; mask && i < set->count; i++) {
			if (!(mask & (1u << i)))
				continue;
			mask &= ~(1u << i);
			transfer_submit(w, r, &set->targets[i]);
		}
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
	while (w->active) {
		struct transfer *x = w->active;

		abort_transfer(w, x);
		transfer_put(w, x);
	}
	ev_timer_stop(w->loop, &w->drain_timer);
	ev_timer_stop(w->loop, &w->curl_timer);
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

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	ev_run(w->loop, 0);
	atomic_store(&w->alive, false);
	return NULL;
}

static void wake_worker(void *arg)
{
	struct worker *w = arg;

	ev_async_send(w->loop, &w->wake);
}

/* ------------------------------------------------------------------ */
/* the pool                                                            */

/* "PORT" or "LOW-HIGH" into CURLOPT_LOCALPORT / CURLOPT_LOCALPORTRANGE. */
static int parse_local_port(const char *spec, long *port, long *range)
{
	unsigned long low, high;
	char *end;

	errno = 0;
	low = strtoul(spec, &end, 10);
	if (end == spec || errno || low < 1 || low > 65535)
		return -1;
	high = low;
	if (*end == '-') {
		const char *h = end + 1;

		high = strtoul(h, &end, 10);
		if (end == h || errno || high < low || high > 65535)
			return -1;
	}
	if (*end)
		return -1;
	*port = (long)low;
	*range = (long)(high - low + 1);
	return 0;
}

static int worker_init(struct replay_pool *p, struct worker *w, unsigned index, char *err,
		       size_t errlen)
{
	w->pool = p;
	w->index = index;
	w->max_idle = REPLAY_MAX_TARGET_TRANSFERS;
	atomic_init(&w->n_active, 0);
	replay_windows_init(&w->windows);
	atomic_init(&w->alive, false);
	request_queue_init(&w->queue, wake_worker, w);
	w->loop = ev_loop_new(EVFLAG_AUTO);
	if (!w->loop) {
		snprintf(err, errlen, "replay worker %u: cannot create an event loop", index);
		return -1;
	}
	w->multi = curl_multi_init();
	if (!w->multi) {
		snprintf(err, errlen, "replay worker %u: curl_multi_init failed", index);
		return -1;
	}
	curl_multi_setopt(w->multi, CURLMOPT_SOCKETFUNCTION, curl_socket_cb);
	curl_multi_setopt(w->multi, CURLMOPT_SOCKETDATA, w);
	curl_multi_setopt(w->multi, CURLMOPT_TIMERFUNCTION, curl_timer_cb);
	curl_multi_setopt(w->multi, CURLMOPT_TIMERDATA, w);
	ev_async_init(&w->wake, on_wake);
	w->wake.data = w;
	ev_async_start(w->loop, &w->wake);
	ev_async_init(&w->stop, on_stop);
	w->stop.data = w;
	ev_async_start(w->loop, &w->stop);
	ev_timer_init(&w->curl_timer, on_curl_timer, 0., 0.);
	w->curl_timer.data = w;
	ev_timer_init(&w->drain_timer, on_drain_timeout, 0., 0.);
	w->drain_timer.data = w;
	return 0;
}

/* After the thread ended: nothing runs on the loop any more. */
static void worker_free(struct worker *w)
{
	struct mirror_request *left = request_queue_take_all(&w->queue);

	/* submitted after the worker stopped (a caller racing stop) */
	if (left)
		drop_queued(w, left);
	drop_waiting(w);
	while (w->active) { /* only if the thread never ran */
		struct transfer *x = w->active;

		abort_transfer(w, x);
		transfer_destroy(x);
	}
	while (w->idle) {
		struct transfer *x = w->idle;

		w->idle = x->next;
		transfer_destroy(x);
	}
	if (w->multi)
		curl_multi_cleanup(w->multi); /* may still call curl_socket_cb(REMOVE) */
	while (w->sockets) {
		struct socket_watch *sw = w->sockets;

		w->sockets = sw->next;
		if (w->loop)
			ev_io_stop(w->loop, &sw->io);
		free(sw);
	}
	if (w->loop)
		ev_loop_destroy(w->loop);
	request_queue_destroy(&w->queue);
	replay_windows_destroy(&w->windows);
}

static void pool_free(struct replay_pool *p)
{
	for (unsigned i = 0; i < p->n_workers; i++)
		worker_free(&p->workers[i]);
	while (p->error_logs) {
		struct error_log *e = p->error_logs;

		p->error_logs = e->next;
		free(e);
	}
	pthread_mutex_destroy(&p->error_logs_lock);
	free(p->interface);
	free(p);
	curl_global_cleanup();
}

struct replay_pool *replay_pool_start(const struct replay_settings *s, char *err, size_t errlen)
{
	struct replay_pool *p;
	unsigned n = s->num_workers;
	sigset_t all, old;

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
	p->h2c_reuse_broken = curl_version_info(CURLVERSION_NOW)->version_num < 0x080000;
	p->monitor_interval_ms = s->monitor_interval_ms ? s->monitor_interval_ms
							: CFG_DEFAULT_MONITOR_INTERVAL_MS;
	pthread_mutex_init(&p->error_logs_lock, NULL);
	p->interface = xstrdup_or_null(s->mirror_interface);
	if (s->mirror_local_port &&
	    parse_local_port(s->mirror_local_port, &p->local_port, &p->local_port_range) < 0) {
		snprintf(err, errlen, "mirror local port '%s' is not PORT or LOW-HIGH within 1-65535",
			 s->mirror_local_port);
		pool_free(p);
		return NULL;
	}
	for (unsigned i = 0; i < n; i++) {
		p->n_workers = i + 1; /* pool_free() frees the workers begun */
		if (worker_init(p, &p->workers[i], i, err, errlen) < 0) {
			pool_free(p);
			return NULL;
		}
	}
	start_error_log_timer(p);
	/* workers take no signals: the main loop handles them */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (unsigned i = 0; i < n; i++) {
		struct worker *w = &p->workers[i];
		int rc;

		/* alive from creation, so a caller checking right after start sees it */
		atomic_store(&w->alive, true);
		rc = pthread_create(&w->thread, NULL, worker_main, w);
		if (rc) {
			atomic_store(&w->alive, false);
			pthread_sigmask(SIG_SETMASK, &old, NULL);
			snprintf(err, errlen, "replay worker %u: pthread_create: %s", i, strerror(rc));
			atomic_store(&p->drain_ms, 0);
			atomic_store(&p->stopping, true);
			for (unsigned j = 0; j < i; j++) {
				ev_async_send(p->workers[j].loop, &p->workers[j].stop);
				pthread_join(p->workers[j].thread, NULL);
			}
			pool_free(p);
			return NULL;
		}
		w->thread_started = true;
		{
			/* named for top -H and perf */
			char name[16];

			snprintf(name, sizeof(name), "replay-%u", i % 10000u);
			pthread_setname_np(w->thread, name);
		}
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return p;
}

void replay_pool_submit_take(struct replay_pool *p, struct mirror_request *r)
{
	unsigned i = atomic_fetch_add_explicit(&p->next_worker, 1, memory_order_relaxed);
	struct worker *w = &p->workers[i % p->n_workers];

	/* after replay_pool_stop() began, the worker may be gone */
	if (atomic_load_explicit(&p->stopping, memory_order_relaxed)) {
		drop_for_shutdown(r);
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
		n += atomic_load_explicit(&p->workers[i].n_active, memory_order_relaxed);
	return n;
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
		ev_async_send(p->workers[i].loop, &p->workers[i].stop);
	for (unsigned i = 0; i < p->n_workers; i++) {
		struct worker *w = &p->workers[i];

		if (w->thread_started)
			pthread_join(w->thread, NULL);
	}
	/* a burst whose window is still open is reported before we go */
	flush_error_logs(p, true);
	for (unsigned i = 0; i < p->n_workers; i++) {
		worker_free(&p->workers[i]);
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

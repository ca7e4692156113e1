/* The curl-libev glue (see replay_loop.h), as in evhiperfifo.c. */
#include "replay_loop.h"

#include <stdlib.h>

/* One socket curl asked us to watch. */
struct socket_watch {
	ev_io io;
	struct replay_loop *l;
	curl_socket_t fd;
	struct socket_watch *next, *prev;
};

/* Every CURLMcode ends here: what is not OK goes to the error callback. */
static void check(struct replay_loop *l, const char *call, CURLMcode rc)
{
	if (rc != CURLM_OK)
		l->error(l->arg, call, rc);
}

static void read_completions(struct replay_loop *l)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(l->multi, &left))) {
		if (m->msg == CURLMSG_DONE) /* m is invalid once done() removes it */
			l->done(l->arg, m->easy_handle, m->data.result);
	}
}

static void on_socket_ready(struct ev_loop *loop, ev_io *io, int revents)
{
	struct socket_watch *sw = io->data;
	struct replay_loop *l = sw->l;
	int action = (revents & EV_READ ? CURL_CSELECT_IN : 0) |
		     (revents & EV_WRITE ? CURL_CSELECT_OUT : 0);
	int running;

	check(l, "curl_multi_socket_action", curl_multi_socket_action(l->multi, sw->fd, action,
								      &running));
	read_completions(l); /* sw may be gone now */
}

static void on_timeout(struct ev_loop *loop, ev_timer *tm, int revents)
{
	struct replay_loop *l = tm->data;
	int running;

	check(l, "curl_multi_socket_action(timeout)",
	      curl_multi_socket_action(l->multi, CURL_SOCKET_TIMEOUT, 0, &running));
	read_completions(l);
}

static void forget(struct replay_loop *l, struct socket_watch *sw)
{
	ev_io_stop(l->loop, &sw->io);
	if (sw->prev)
		sw->prev->next = sw->next;
	else
		l->sockets = sw->next;
	if (sw->next)
		sw->next->prev = sw->prev;
	free(sw);
}

/* CURLMOPT_SOCKETFUNCTION: watch, change or forget one socket. */
static int socket_cb(CURL *e, curl_socket_t fd, int what, void *arg, void *sockp)
{
	struct replay_loop *l = arg;
	struct socket_watch *sw = sockp;
	int events = (what & CURL_POLL_IN ? EV_READ : 0) | (what & CURL_POLL_OUT ? EV_WRITE : 0);

	if (what == CURL_POLL_REMOVE) {
		if (sw) {
			forget(l, sw);
			check(l, "curl_multi_assign", curl_multi_assign(l->multi, fd, NULL));
		}
		return 0;
	}
	if (!sw) {
		sw = calloc(1, sizeof(*sw));
		if (!sw)
			return -1;
		sw->l = l;
		sw->fd = fd;
		sw->next = l->sockets;
		if (l->sockets)
			l->sockets->prev = sw;
		l->sockets = sw;
		ev_io_init(&sw->io, on_socket_ready, fd, events);
		sw->io.data = sw;
		check(l, "curl_multi_assign", curl_multi_assign(l->multi, fd, sw));
	} else {
		ev_io_stop(l->loop, &sw->io);
		ev_io_set(&sw->io, fd, events);
	}
	ev_io_start(l->loop, &sw->io);
	return 0;
}

/* CURLMOPT_TIMERFUNCTION: curl wants to be called after timeout_ms (-1: never). */
static int timer_cb(CURLM *multi, long timeout_ms, void *arg)
{
	struct replay_loop *l = arg;

	ev_timer_stop(l->loop, &l->timer);
	if (timeout_ms >= 0) {
		ev_timer_set(&l->timer, (double)timeout_ms / 1000.0, 0.);
		ev_timer_start(l->loop, &l->timer);
	}
	return 0;
}

int replay_loop_init(struct replay_loop *l, struct ev_loop *loop,
		     void (*done)(void *arg, CURL *easy, CURLcode rc),
		     void (*error)(void *arg, const char *call, CURLMcode rc), void *arg)
{
	l->loop = loop;
	l->sockets = NULL;
	l->done = done;
	l->error = error;
	l->arg = arg;
	ev_timer_init(&l->timer, on_timeout, 0., 0.);
	l->timer.data = l;
	l->multi = curl_multi_init();
	if (!l->multi)
		return -1;
	/* without these callbacks nothing would ever run: a start-up error */
	if (curl_multi_setopt(l->multi, CURLMOPT_SOCKETFUNCTION, socket_cb) != CURLM_OK ||
	    curl_multi_setopt(l->multi, CURLMOPT_SOCKETDATA, l) != CURLM_OK ||
	    curl_multi_setopt(l->multi, CURLMOPT_TIMERFUNCTION, timer_cb) != CURLM_OK ||
	    curl_multi_setopt(l->multi, CURLMOPT_TIMERDATA, l) != CURLM_OK) {
		curl_multi_cleanup(l->multi);
		l->multi = NULL;
		return -1;
	}
	return 0;
}

void replay_loop_stop(struct replay_loop *l)
{
	ev_timer_stop(l->loop, &l->timer);
}

void replay_loop_free(struct replay_loop *l)
{
	if (l->multi) /* may still call socket_cb(REMOVE) */
		check(l, "curl_multi_cleanup", curl_multi_cleanup(l->multi));
	l->multi = NULL;
	while (l->sockets)
		forget(l, l->sockets);
}

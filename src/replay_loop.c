/* The curl-libev glue (see replay_loop.h), as in evhiperfifo.c, with one
 * difference: the watcher of a kept-alive connection outlives curl's
 * CURL_POLL_REMOVE.
 *
 * Why: curl says REMOVE when a transfer ends and its connection goes back
 * to the cache, then asks for the same socket again when the next transfer
 * reuses it. Stopping the ev_io on REMOVE and starting it again costs an
 * epoll_ctl per transfer (libev skips the DEL, so the next ADD fails with
 * EEXIST). So a socket whose close we are sure to see stays watched for
 * reading while idle ("parked"); reused, it costs nothing when curl wants
 * the same events. "Sure to see" means: we opened it
 * (CURLOPT_OPENSOCKETFUNCTION) and curl closes it through
 * CURLOPT_CLOSESOCKETFUNCTION, which it does for every socket that carried
 * a request (libcurl 7.88 closes a socket still connecting with a plain
 * close(); such a socket never wanted reading alone, so is never parked).
 * A parked watcher on a socket closed behind our back would sit on a dead
 * epoll registration, and the next socket given that number would never
 * be heard: hence the care about which sockets are ours. */
#include "replay_loop.h"

#include <stdbool.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

/* One socket curl asked us to watch, or one we opened for it. */
struct socket_watch {
	ev_io io;
	struct replay_loop *l;
	curl_socket_t fd;
	/* opened by open_socket() for `opener` in curl call `epoch`; until
	 * curl first watches it, it may have been closed without a word */
	bool ours;
	bool watched; /* curl has asked for it at least once */
	bool parked;  /* curl said REMOVE; io still watches reading */
	CURL *opener;
	unsigned long epoch;
};

/* The loop whose curl call runs on this thread: open_socket() is called
 * from inside curl_multi_socket_action() without a pointer to it. */
static _Thread_local struct replay_loop *calling;

/* Every CURLMcode ends here: what is not OK goes to the error callback. */
static void check(struct replay_loop *l, const char *call, CURLMcode rc)
{
	if (rc != CURLM_OK)
		l->error(l->arg, call, rc);
}

static void socket_action(struct replay_loop *l, const char *call, curl_socket_t fd, int action)
{
	int running;

	l->epoch++;
	calling = l;
	check(l, call, curl_multi_socket_action(l->multi, fd, action, &running));
	calling = NULL;
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

/* The slot of fd in l->by_fd, grown to hold it; NULL when out of memory. */
static struct socket_watch **slot(struct replay_loop *l, curl_socket_t fd)
{
	if (fd < 0)
		return NULL;
	if ((size_t)fd >= l->n_by_fd) {
		size_t n = l->n_by_fd ? l->n_by_fd : 64;
		struct socket_watch **grown;

		while (n <= (size_t)fd)
			n *= 2;
		grown = realloc(l->by_fd, n * sizeof(*grown));
		if (!grown)
			return NULL;
		for (size_t i = l->n_by_fd; i < n; i++)
			grown[i] = NULL;
		l->by_fd = grown;
		l->n_by_fd = n;
	}
	return &l->by_fd[fd];
}

static struct socket_watch *find(struct replay_loop *l, curl_socket_t fd)
{
	return fd >= 0 && (size_t)fd < l->n_by_fd ? l->by_fd[fd] : NULL;
}

static void forget(struct replay_loop *l, struct socket_watch *sw)
{
	ev_io_stop(l->loop, &sw->io);
	l->by_fd[sw->fd] = NULL;
	free(sw);
}

static void on_socket_ready(struct ev_loop *loop, ev_io *io, int revents)
{
	struct socket_watch *sw = io->data;
	struct replay_loop *l = sw->l;
	int action = (revents & EV_READ ? CURL_CSELECT_IN : 0) |
		     (revents & EV_WRITE ? CURL_CSELECT_OUT : 0);

	if (sw->parked) {
		/* an idle connection spoke (the server closed it, most likely):
		 * curl finds out when it next checks the connection; we stop
		 * listening rather than spin on it */
		forget(l, sw);
		return;
	}
	socket_action(l, "curl_multi_socket_action", sw->fd, action);
	read_completions(l); /* sw may be gone now */
}

static void on_timeout(struct ev_loop *loop, ev_timer *tm, int revents)
{
	struct replay_loop *l = tm->data;

	socket_action(l, "curl_multi_socket_action(timeout)", CURL_SOCKET_TIMEOUT, 0);
	read_completions(l);
}

/* A watcher for fd, not started, stored in its slot s; NULL when out of
 * memory. */
static struct socket_watch *new_watch(struct replay_loop *l, curl_socket_t fd,
				      struct socket_watch **s)
{
	struct socket_watch *sw = calloc(1, sizeof(*sw));

	if (!sw)
		return NULL;
	sw->l = l;
	sw->fd = fd;
	ev_init(&sw->io, on_socket_ready);
	sw->io.data = sw;
	*s = sw;
	return sw;
}

/* CURLOPT_OPENSOCKETFUNCTION: the socket, and a note that it is ours. */
static curl_socket_t open_socket(void *clientp, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct replay_loop *l = calling;
	curl_socket_t fd = socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
	struct socket_watch **s, *sw;

	if (fd < 0 || !l)
		return fd < 0 ? CURL_SOCKET_BAD : fd;
	s = slot(l, fd);
	if (!s)
		return fd; /* not noted: watched as any other socket */
	if (*s) /* its last holder was closed behind our back */
		forget(l, *s);
	sw = new_watch(l, fd, s);
	if (sw) {
		sw->ours = true;
		sw->opener = clientp;
		sw->epoch = l->epoch;
	}
	return fd;
}

/* CURLOPT_CLOSESOCKETFUNCTION: the watcher goes before the descriptor. */
static int close_socket(void *clientp, curl_socket_t fd)
{
	struct replay_loop *l = clientp;
	struct socket_watch *sw = find(l, fd);

	if (sw)
		forget(l, sw);
	return close(fd);
}

void replay_loop_adopt(struct replay_loop *l, CURL *easy)
{
	curl_easy_setopt(easy, CURLOPT_OPENSOCKETFUNCTION, open_socket);
	curl_easy_setopt(easy, CURLOPT_OPENSOCKETDATA, easy);
	curl_easy_setopt(easy, CURLOPT_CLOSESOCKETFUNCTION, close_socket);
	curl_easy_setopt(easy, CURLOPT_CLOSESOCKETDATA, l);
}

/* The watcher curl means by fd: a new one, or the one we hold. NULL when
 * out of memory. */
static struct socket_watch *watch_of(struct replay_loop *l, CURL *e, curl_socket_t fd)
{
	struct socket_watch **s = slot(l, fd), *sw;

	if (!s)
		return NULL;
	sw = *s;
	if (sw && !sw->watched && sw->ours && (sw->opener != e || sw->epoch != l->epoch)) {
		/* noted when opened, but not by this transfer in this call: that
		 * socket was closed unseen and fd is another one now */
		forget(l, sw);
		sw = NULL;
	}
	return sw ? sw : new_watch(l, fd, s);
}

/* CURLMOPT_SOCKETFUNCTION: watch, change or forget one socket. */
static int socket_cb(CURL *e, curl_socket_t fd, int what, void *arg, void *sockp)
{
	struct replay_loop *l = arg;
	struct socket_watch *sw = sockp;
	int events = (what & CURL_POLL_IN ? EV_READ : 0) | (what & CURL_POLL_OUT ? EV_WRITE : 0);

	if (what == CURL_POLL_REMOVE) {
		if (!sw)
			sw = find(l, fd);
		if (sw && sw->ours && ev_is_active(&sw->io) &&
		    (sw->io.events & (EV_READ | EV_WRITE)) == EV_READ)
			sw->parked = true;
		else if (sw)
			forget(l, sw);
		return 0; /* curl forgets the assignment itself */
	}
	if (!sw) {
		sw = watch_of(l, e, fd);
		if (!sw)
			return -1;
		check(l, "curl_multi_assign", curl_multi_assign(l->multi, fd, sw));
	}
	sw->watched = true;
	sw->parked = false;
	if (ev_is_active(&sw->io)) {
		if ((sw->io.events & (EV_READ | EV_WRITE)) == events)
			return 0; /* the kept-alive case: nothing to tell the kernel */
		ev_io_stop(l->loop, &sw->io);
		ev_io_modify(&sw->io, events);
	} else {
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
	l->by_fd = NULL;
	l->n_by_fd = 0;
	l->epoch = 0;
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
	if (l->multi) /* may still call socket_cb(REMOVE) and close_socket() */
		check(l, "curl_multi_cleanup", curl_multi_cleanup(l->multi));
	l->multi = NULL;
	for (size_t i = 0; i < l->n_by_fd; i++) {
		if (l->by_fd[i])
			forget(l, l->by_fd[i]);
	}
	free(l->by_fd);
	l->by_fd = NULL;
	l->n_by_fd = 0;
}

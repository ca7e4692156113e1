/* libcurl's multi interface on a libev loop, the way curl's
 * docs/examples/evhiperfifo.c does it: curl says which sockets and which
 * timeout to watch (socket and timer callbacks), the loop says what
 * happened (curl_multi_socket_action), finished transfers are read with
 * curl_multi_info_read and handed to `done`. */
#ifndef SPOA_MIRROR_REPLAY_LOOP_H
#define SPOA_MIRROR_REPLAY_LOOP_H

#include <curl/curl.h>
#include <ev.h>

struct socket_watch;

struct replay_loop {
	struct ev_loop *loop;
	CURLM *multi;
	ev_timer timer; /* curl's timeout */
	/* one ev_io per socket curl watches or we opened, by descriptor */
	struct socket_watch **by_fd;
	size_t n_by_fd;
	unsigned long epoch; /* counts the calls into curl */
	void (*done)(void *arg, CURL *easy, CURLcode rc);
	/* a curl_multi_* call, named by `call`, did not return CURLM_OK */
	void (*error)(void *arg, const char *call, CURLMcode rc);
	void *arg;
};

/* Creates the multi handle and wires it to loop. -1: out of memory or a
 * callback curl refused. */
int replay_loop_init(struct replay_loop *l, struct ev_loop *loop,
		     void (*done)(void *arg, CURL *easy, CURLcode rc),
		     void (*error)(void *arg, const char *call, CURLMcode rc), void *arg);
/* Gives easy the socket callbacks that let a kept-alive connection keep
 * its watcher between transfers; after every curl_easy_reset, before
 * curl_multi_add_handle. */
void replay_loop_adopt(struct replay_loop *l, CURL *easy);
/* Stops curl's timer (the loop is about to end). */
void replay_loop_stop(struct replay_loop *l);
/* Cleans the multi handle up (its easy handles removed first) and forgets
 * the sockets; the ev_loop must not be running. */
void replay_loop_free(struct replay_loop *l);

#endif

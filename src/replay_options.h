/* The curl options of a shadow transfer and of a worker's multi handle:
 * what a target's settings and the agent's outgoing interface and ports
 * mean to libcurl. Knows nothing of threads or the loop. */
#ifndef SPOA_MIRROR_REPLAY_OPTIONS_H
#define SPOA_MIRROR_REPLAY_OPTIONS_H

#include <curl/curl.h>
#include <stdatomic.h>
#include <stdbool.h>

struct mirror_request;
struct queue_budget;
struct target;
struct target_set;
struct transfer;

struct replay_options {
	char *interface;       /* CURLOPT_INTERFACE, NULL = default */
	long local_port;       /* CURLOPT_LOCALPORT, 0 = any */
	long local_port_range; /* CURLOPT_LOCALPORTRANGE */
	/* libcurl before 8.0.0 fails every transfer that reuses an HTTP/2
	 * prior-knowledge connection ("Error in the HTTP2 framing layer",
	 * curl issue #10634): h2c then gets a fresh connection per transfer */
	bool h2c_reuse_broken;
	unsigned n_workers; /* a target's max-connections is shared by them */
};

/* Sets up the shadow request of (r, t) on x->easy, its header list and
 * body in x's scratch; NULL or the reason it cannot go. */
const char *replay_options_prepare(struct transfer *x, const struct mirror_request *r,
				   const struct target *t, const struct replay_options *o);

/* Keeps the answer of x's transfer (status, headers, body up to the
 * target's compare-body-max) instead of discarding it, its buffers
 * charged to `budget` (NULL: no limit). */
void replay_options_capture(struct transfer *x, struct queue_budget *budget);

/* Transfers of t one worker lets into curl at once: the in-flight window,
 * and with max-connections, that share of connections (HTTP/1.1: one
 * transfer each; HTTP/2: REPLAY_H2_STREAMS each). */
unsigned replay_options_window(const struct target *t, const struct replay_options *o);

/* Warns about each h2c target this libcurl cannot reuse connections for
 * (at start and on reload, so the warning is there before any mirror). */
void replay_options_warn(const struct target_set *set, const struct replay_options *o);

/* Sizes the multi handle's connection limits for the targets of set; the
 * count goes to *total, which is also how many idle transfers are worth
 * keeping.
 * What curl_multi_setopt returned (the first that is not CURLM_OK). */
CURLMcode replay_options_connections(CURLM *multi, const struct target_set *set,
				     struct replay_options *o, long *total);

#endif

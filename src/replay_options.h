/* The curl options of a shadow transfer and of a worker's multi handle:
 * what a target's settings and the agent's outgoing interface and ports
 * mean to libcurl. Knows nothing of threads or the loop. */
#ifndef SPOA_MIRROR_REPLAY_OPTIONS_H
#define SPOA_MIRROR_REPLAY_OPTIONS_H

#include <curl/curl.h>
#include <stdatomic.h>
#include <stdbool.h>

struct mirror_request;
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
	atomic_bool h2c_warned;
};

/* Sets up the shadow request of (r, t) on x->easy, its header list and
 * body in x's scratch; NULL or the reason it cannot go. */
const char *replay_options_prepare(struct transfer *x, const struct mirror_request *r,
				   const struct target *t, const struct replay_options *o);

/* Keeps the answer of x's transfer (status, headers, body up to the
 * target's compare-body-max) instead of discarding it. */
void replay_options_capture(struct transfer *x);

/* Sizes the multi handle's connection limits for the targets of set; the
 * count goes to *total, which is also how many idle transfers are worth
 * keeping. Warns once about h2c targets a broken libcurl cannot reuse.
 * What curl_multi_setopt returned (the first that is not CURLM_OK). */
CURLMcode replay_options_connections(CURLM *multi, const struct target_set *set,
				     struct replay_options *o, long *total);

#endif

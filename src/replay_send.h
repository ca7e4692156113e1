/* What a replay worker does with a request: one transfer per target of its
 * mask, let into curl through the target's window, and the outcome counted
 * on the target when curl is done or the transfer is cut short. */
#ifndef SPOA_MIRROR_REPLAY_SEND_H
#define SPOA_MIRROR_REPLAY_SEND_H

#include <curl/curl.h>

struct mirror_request;
struct transfer;
struct worker;

/* Starts or queues a transfer for each target in r's mask; r is owned by
 * its pending count from here on. */
void replay_send(struct worker *w, struct mirror_request *r);
/* curl finished x with rc: counts the outcome, frees the place in curl and
 * lets the next waiting transfer of that target in. */
void replay_send_done(struct worker *w, struct transfer *x, CURLcode rc);
/* Cuts x short (drain timeout, teardown): counted failed "other"; x is
 * out of curl and of the active list, for the caller to put or destroy. */
void replay_send_abort(struct worker *w, struct transfer *x);
/* A request that will never be sent: each target of its mask drops it. */
void replay_send_drop(struct mirror_request *r);

#endif

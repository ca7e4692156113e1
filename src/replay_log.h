/* What the replay workers log: shadow errors, at most one line per target
 * per monitor interval then an "N more" summary, and one access line per
 * finished mirror when asked. Shared by every worker of a pool. */
#ifndef SPOA_MIRROR_REPLAY_LOG_H
#define SPOA_MIRROR_REPLAY_LOG_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "log.h"

struct mirror_request;
struct target;
struct error_log;

struct replay_log {
	pthread_mutex_t lock;
	struct error_log *targets; /* one rate limit per target, kept across reloads */
	unsigned interval_ms;
	/* curl_multi_* calls that did not return CURLM_OK, all workers */
	struct log_ratelimit multi_log;
	atomic_uint_fast64_t multi_errors;
	/* answers compare-capture-max had no room for, all workers */
	struct log_ratelimit capture_log;
};

void replay_log_init(struct replay_log *l, unsigned interval_ms);
void replay_log_free(struct replay_log *l);

/* A mirror of r to t failed for `why`: logged unless t's window is full. */
void replay_log_error(struct replay_log *l, const struct mirror_request *r,
		      const struct target *t, const char *why);
/* A curl_multi_* call (named by `call`) failed for `why`: counted, logged at
 * most once per interval. Any worker may call it. */
void replay_log_multi_error(struct replay_log *l, const char *call, const char *why);

/* The capture of r's answer from t found no room in the capture budget of
 * `limit` bytes: logged at most once per interval. Any worker may call it. */
void replay_log_capture_short(struct replay_log *l, const struct mirror_request *r,
			      const struct target *t, size_t limit);

/* Writes the summaries of the windows that are over; with `now`, of every
 * window that suppressed something (shutdown). */
void replay_log_flush(struct replay_log *l, bool now);

/* The access log line of one finished mirror. */
void replay_log_access(const struct mirror_request *r, const struct target *t, long status,
		       const char *result, uint64_t us);

#endif

/* Shadow error lines, rate-limited per target, and access lines (see
 * replay_log.h). The rate limits are keyed by the target's counters, which
 * survive reloads, so a reload does not reopen every window. */
#include "replay_log.h"

#include <stdio.h>
#include <stdlib.h>

#include "request.h"
#include "target.h"

#define SHADOW_ERROR_LEVEL LOG_LVL_WARN
#define MULTI_ERRORS "curl multi errors"
#define CAPTURE_SHORT "answers over compare-capture-max"

/* One target's window; nodes are never freed before the pool. */
struct error_log {
	struct error_log *next;
	const struct target_stats *stats;
	struct log_ratelimit rl;
	char what[160];
};

void replay_log_init(struct replay_log *l, unsigned interval_ms)
{
	pthread_mutex_init(&l->lock, NULL);
	l->targets = NULL;
	l->interval_ms = interval_ms;
	l->multi_log = (struct log_ratelimit)LOG_RATELIMIT_INIT(interval_ms);
	atomic_init(&l->multi_errors, 0);
	l->capture_log = (struct log_ratelimit)LOG_RATELIMIT_INIT(interval_ms);
}

void replay_log_free(struct replay_log *l)
{
	while (l->targets) {
		struct error_log *e = l->targets;

		l->targets = e->next;
		free(e);
	}
	pthread_mutex_destroy(&l->lock);
}

static struct error_log *error_log_for(struct replay_log *l, const struct target *t)
{
	struct error_log *e;

	pthread_mutex_lock(&l->lock);
	for (e = l->targets; e; e = e->next)
		if (e->stats == t->stats)
			break;
	if (!e) {
		e = calloc(1, sizeof(*e));
		if (e) {
			e->stats = t->stats;
			e->rl.interval_ms = l->interval_ms;
			snprintf(e->what, sizeof(e->what), "shadow '%s' errors", t->cfg.name);
			e->next = l->targets;
			l->targets = e;
		}
	}
	pthread_mutex_unlock(&l->lock);
	return e;
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

void replay_log_error(struct replay_log *l, const struct mirror_request *r,
		      const struct target *t, const char *why)
{
	struct error_log *e = error_log_for(l, t);
	char method[33], uri[257];

	if (!e) {
		log_error("shadow '%s': %s", t->cfg.name, why);
		return;
	}
	log_limited(&e->rl, SHADOW_ERROR_LEVEL, e->what, "shadow '%s' (%s): %s %s: %s",
		    t->cfg.name, t->url.origin, printable(method, sizeof(method), r->method),
		    printable(uri, sizeof(uri), r->uri), why);
}

void replay_log_multi_error(struct replay_log *l, const char *call, const char *why)
{
	atomic_fetch_add_explicit(&l->multi_errors, 1, memory_order_relaxed);
	log_limited(&l->multi_log, LOG_LVL_ERROR, MULTI_ERRORS, "replay: %s: %s", call, why);
}

void replay_log_capture_short(struct replay_log *l, const struct mirror_request *r,
			      const struct target *t, size_t limit)
{
	log_limited(&l->capture_log, LOG_LVL_WARN, CAPTURE_SHORT,
		    "shadow '%s': answer to id '%.*s' not kept whole, compare-capture-max (%zu bytes) "
		    "is full: not comparable",
		    t->cfg.name, (int)(r->unique_id.len > 64 ? 64 : r->unique_id.len),
		    r->unique_id.ptr, limit);
}

void replay_log_flush(struct replay_log *l, bool now)
{
	if (now) {
		log_ratelimit_flush_now(&l->multi_log, LOG_LVL_ERROR, MULTI_ERRORS);
		log_ratelimit_flush_now(&l->capture_log, LOG_LVL_WARN, CAPTURE_SHORT);
	} else {
		log_ratelimit_flush(&l->multi_log, LOG_LVL_ERROR, MULTI_ERRORS);
		log_ratelimit_flush(&l->capture_log, LOG_LVL_WARN, CAPTURE_SHORT);
	}
	pthread_mutex_lock(&l->lock);
	for (struct error_log *e = l->targets; e; e = e->next) {
		if (now)
			log_ratelimit_flush_now(&e->rl, SHADOW_ERROR_LEVEL, e->what);
		else
			log_ratelimit_flush(&e->rl, SHADOW_ERROR_LEVEL, e->what);
	}
	pthread_mutex_unlock(&l->lock);
}

void replay_log_access(const struct mirror_request *r, const struct target *t, long status,
		       const char *result, uint64_t us)
{
	char method[33], uri[1025];

	log_info("mirror target=%s %s %s status=%ld result=%s time_us=%llu", t->cfg.name,
		 printable(method, sizeof(method), r->method), printable(uri, sizeof(uri), r->uri),
		 status, result, (unsigned long long)us);
}

/* Per-target admission into libcurl for one replay worker.
 * libcurl 7.88 handles a transfer that finds no free connection badly: it
 * allocates a connection, parses the URL, scans the host's connections, and
 * parks the transfer, again and again as connections free up; under a burst
 * the worker spends its time there and the backlog grows (bench/run (b)).
 * So a worker keeps at most `limit` transfers per target inside curl and
 * lets the rest wait here, in arrival order, until one finishes. The memory
 * they hold is already charged to the queue budget and the target's
 * in-flight cap; this file only orders them. It knows nothing of curl. */
#ifndef SPOA_MIRROR_REPLAY_WINDOW_H
#define SPOA_MIRROR_REPLAY_WINDOW_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Transfers one worker has in curl for one target at once (for HTTP/1.1,
 * connections to it); more wait in the worker, in arrival order. */
#define REPLAY_MAX_TARGET_TRANSFERS 256

/* Transfers of one target a worker lets into curl at once (and so its
 * connections to it): the target's in-flight cap, at most the constant
 * above; 0 (no cap) takes the constant. */
static inline unsigned replay_target_window(unsigned max_inflight)
{
	return max_inflight && max_inflight < REPLAY_MAX_TARGET_TRANSFERS
		       ? max_inflight
		       : REPLAY_MAX_TARGET_TRANSFERS;
}

struct mirror_request;
struct target;

struct window_wait;

/* One target's window; found by the target's address and its set's
 * generation (a reload may put a new target where a freed one was). Its
 * address stays valid until replay_windows_destroy(): transfers keep it. */
struct target_window {
	struct target_window *next;
	struct replay_windows *owner;
	struct target *t;
	uint64_t generation;
	unsigned limit;     /* transfers in curl at most */
	unsigned in_curl;   /* transfers in curl now */
	struct window_wait *head, *tail; /* waiting, in arrival order */
};

struct replay_windows {
	struct target_window *list;
	atomic_size_t n_waiting; /* in all windows; read by other threads */
};

void replay_windows_init(struct replay_windows *ws);
/* Frees the windows; waiting entries must have been taken out first. */
void replay_windows_destroy(struct replay_windows *ws);

/* The window of t, created empty with `limit` when new (a reload brings new
 * targets; an empty window of a target gone is reused). NULL: out of memory. */
struct target_window *replay_window_of(struct replay_windows *ws, struct target *t,
				       uint64_t generation, unsigned limit);

/* Takes a place in curl if one is free. */
bool replay_window_enter(struct target_window *win);
/* A transfer of this window left curl. */
void replay_window_leave(struct target_window *win);
/* Puts (r, win->t) at the back of the line; r stays owned by its pending
 * count, the window only points to it. -1: out of memory (nothing queued). */
int replay_window_wait(struct target_window *win, struct mirror_request *r);
/* The request first in line if a place in curl is free, which it takes;
 * NULL otherwise. */
struct mirror_request *replay_window_next(struct target_window *win);
/* The request first in line whatever the window holds (drain, abort). */
struct mirror_request *replay_window_pop(struct target_window *win);

/* Requests waiting in all windows; any thread may ask. */
size_t replay_windows_waiting(const struct replay_windows *ws);

#endif

/* Per-target admission into libcurl for one replay worker: see replay_window.h. */
#include "replay_window.h"

#include <stdlib.h>

struct window_wait {
	struct window_wait *next;
	struct mirror_request *r;
};

void replay_windows_init(struct replay_windows *ws)
{
	ws->list = NULL;
	atomic_init(&ws->n_waiting, 0);
}

void replay_windows_destroy(struct replay_windows *ws)
{
	while (ws->list) {
		struct target_window *win = ws->list;

		ws->list = win->next;
		while (replay_window_pop(win))
			;
		free(win);
	}
}

static bool window_idle(const struct target_window *win)
{
	return win->in_curl == 0 && !win->head;
}

struct target_window *replay_window_of(struct replay_windows *ws, struct target *t,
				       uint64_t generation, unsigned limit)
{
	struct target_window *win, *reuse = NULL;

	for (win = ws->list; win && (win->t != t || win->generation != generation);
	     win = win->next)
		if (!reuse && window_idle(win))
			reuse = win;
	if (!win && !reuse) {
		reuse = calloc(1, sizeof(*reuse));
		if (!reuse)
			return NULL;
		reuse->next = ws->list;
		reuse->owner = ws;
		ws->list = reuse;
	}
	if (!win) {
		win = reuse;
		win->t = t;
		win->generation = generation;
		win->in_curl = 0;
	}
	/* a reload may change the limit; it applies from now on */
	win->limit = limit ? limit : 1;
	return win;
}

bool replay_window_enter(struct target_window *win)
{
	/* nobody jumps the line: waiting requests go first */
	if (win->in_curl >= win->limit || win->head)
		return false;
	win->in_curl++;
	return true;
}

void replay_window_leave(struct target_window *win)
{
	if (win->in_curl)
		win->in_curl--;
}

int replay_window_wait(struct target_window *win, struct mirror_request *r)
{
	struct window_wait *e = malloc(sizeof(*e));

	if (!e)
		return -1;
	e->next = NULL;
	e->r = r;
	if (win->tail)
		win->tail->next = e;
	else
		win->head = e;
	win->tail = e;
	atomic_fetch_add_explicit(&win->owner->n_waiting, 1, memory_order_relaxed);
	return 0;
}

struct mirror_request *replay_window_pop(struct target_window *win)
{
	struct window_wait *e = win->head;
	struct mirror_request *r;

	if (!e)
		return NULL;
	win->head = e->next;
	if (!win->head)
		win->tail = NULL;
	atomic_fetch_sub_explicit(&win->owner->n_waiting, 1, memory_order_relaxed);
	r = e->r;
	free(e);
	return r;
}

struct mirror_request *replay_window_next(struct target_window *win)
{
	if (!win->head || win->in_curl >= win->limit)
		return NULL;
	win->in_curl++;
	return replay_window_pop(win);
}

size_t replay_windows_waiting(const struct replay_windows *ws)
{
	return atomic_load_explicit(&ws->n_waiting, memory_order_relaxed);
}

/* Logging: one line per event, "timestamp level message", to stderr or a
 * file opened with the incumbent's [MODE:]FILE syntax. Thread-safe: each
 * line is written with a single write(2). */
#ifndef SPOA_MIRROR_LOG_H
#define SPOA_MIRROR_LOG_H

#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

enum log_level {
	LOG_LVL_ERROR = 0,
	LOG_LVL_WARN = 1,
	LOG_LVL_INFO = 2,
	LOG_LVL_DEBUG = 3,
};

const char *log_level_name(enum log_level level);

void log_set_level(enum log_level level);
enum log_level log_get_level(void);
static inline bool log_enabled(enum log_level level)
{
	return level <= log_get_level();
}

/* [MODE:]FILE, MODE one of a, w (append, truncate); A and W line-buffer
 * (we always write whole lines, so they mean the same). Returns 0 or -errno;
 * on error the previous destination stays. */
int log_open(const char *spec);
/* The FILE part of such a spec and, in *open_flags, the open(2) flags its
 * MODE asks for; NULL when MODE is unknown or FILE empty. Shared with the
 * diff log, which takes the same syntax. */
const char *log_spec_path(const char *spec, int *open_flags);
/* Reopen the current file by its path (after logrotate moved it away: the
 * SIGHUP handler calls it); no-op on stderr. Returns 0 or -errno; on error
 * the old file stays. */
int log_reopen(void);
void log_close(void);

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_vmsg(enum log_level level, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

#define log_error(...) log_msg(LOG_LVL_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...)                                   \
	do {                                             \
		if (log_enabled(LOG_LVL_DEBUG))          \
			log_msg(LOG_LVL_DEBUG, __VA_ARGS__); \
	} while (0)

/* Rate limit for repetitive errors (a dead shadow at 10k req/s): the first
 * event of a window logs its line and opens a window of interval_ms; the
 * events inside it are counted. The count is reported once, in a summary
 * line "WHAT: N more in the last T ms", written by whichever comes first
 * after the window ends: the next event (before its own line) or
 * log_ratelimit_flush(), which the owner calls periodically so a burst
 * that stops still gets its summary. Shared across threads: the window's
 * start and count live in one atomic word (see log.c). */
struct log_ratelimit {
	atomic_uint_fast64_t state;
	uint64_t interval_ms;
};

#define LOG_RATELIMIT_INIT(ms) { 0, (ms) }

/* Logs (level, fmt) unless suppressed; `what` names the event in the
 * summary line ("shadow 'v2' errors"). */
void log_limited(struct log_ratelimit *rl, enum log_level level, const char *what,
		 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* If rl's window is over, closes it and writes its summary line (when
 * anything was suppressed) at `level`, naming `what` as log_limited() does.
 * Returns how many suppressed events the summary counted (0: no line).
 * Safe against concurrent log_limited() and flushes: each suppressed event
 * is counted in exactly one summary. */
uint64_t log_ratelimit_flush(struct log_ratelimit *rl, enum log_level level, const char *what);
/* The same without waiting for the window to end (shutdown): the count so
 * far is reported and the window stays, so later events in it are still
 * suppressed and counted afresh. */
uint64_t log_ratelimit_flush_now(struct log_ratelimit *rl, enum log_level level,
				 const char *what);

/* Monotonic milliseconds, shared by log and rate limits. */
uint64_t log_now_ms(void);

/* For tests that drive time: replaces the clock behind log_now_ms() and
 * the rate limits; NULL restores CLOCK_MONOTONIC. */
typedef uint64_t (*log_clock_fn)(void);
void log_set_clock(log_clock_fn now_ms);

#endif

/* Line logger with a timestamp and level, and a per-event rate limit. */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static atomic_int current_level = LOG_LVL_INFO;
static int log_fd = STDERR_FILENO;
static char log_path[4096];
static int log_flags;

static const char *const level_names[] = { "error", "warn", "info", "debug" };

const char *log_level_name(enum log_level level)
{
	return level <= LOG_LVL_DEBUG ? level_names[level] : "?";
}

void log_set_level(enum log_level level)
{
	atomic_store(&current_level, (int)level);
}

enum log_level log_get_level(void)
{
	return (enum log_level)atomic_load_explicit(&current_level, memory_order_relaxed);
}

const char *log_spec_path(const char *spec, int *open_flags)
{
	*open_flags = O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC;
	if (spec[0] && spec[1] == ':') {
		switch (spec[0]) {
		case 'a':
		case 'A':
			break;
		case 'w':
		case 'W':
			*open_flags = O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC;
			break;
		default:
			return NULL;
		}
		spec += 2;
	}
	return spec[0] ? spec : NULL;
}

int log_open(const char *spec)
{
	int flags;
	const char *path = log_spec_path(spec, &flags);
	int fd;

	if (!path || strlen(path) >= sizeof(log_path))
		return -EINVAL;
	fd = open(path, flags, 0644);
	if (fd < 0)
		return -errno;
	if (log_fd != STDERR_FILENO)
		close(log_fd);
	log_fd = fd;
	strcpy(log_path, path);
	/* a reopen after rotation appends, whatever the first open did */
	log_flags = (flags & ~O_TRUNC) | O_APPEND;
	return 0;
}

int log_reopen(void)
{
	int fd;

	if (log_fd == STDERR_FILENO)
		return 0;
	fd = open(log_path, log_flags, 0644);
	if (fd < 0)
		return -errno;
	/* Swapped under the same descriptor number in one step, so a line
	 * another thread writes meanwhile lands whole in one file or the
	 * other. dup3 keeps close-on-exec, which dup2 would drop. */
	if (dup3(fd, log_fd, O_CLOEXEC) < 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	close(fd);
	return 0;
}

void log_close(void)
{
	if (log_fd != STDERR_FILENO)
		close(log_fd);
	log_fd = STDERR_FILENO;
}

void log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
	char line[2048];
	struct timespec ts;
	struct tm tm;
	size_t n;
	int m;

	if (!log_enabled(level))
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
	n += (size_t)snprintf(line + n, sizeof(line) - n, ".%03ldZ %-5s ", ts.tv_nsec / 1000000,
			      log_level_name(level));
	m = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	if (m < 0)
		m = 0;
	n += (size_t)m < sizeof(line) - n - 1 ? (size_t)m : sizeof(line) - n - 2;
	line[n++] = '\n';
	/* one write per line keeps lines whole across threads */
	if (write(log_fd, line, n) < 0) {
		/* nowhere left to report it */
	}
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

static _Atomic(log_clock_fn) clock_override;

void log_set_clock(log_clock_fn now_ms)
{
	atomic_store(&clock_override, now_ms);
}

uint64_t log_now_ms(void)
{
	log_clock_fn override = atomic_load_explicit(&clock_override, memory_order_relaxed);
	struct timespec ts;

	if (override)
		return override();
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* A rate limit's state is one word, so that "is the window still open" and
 * "count this event in it" happen in one compare-and-swap: an event is
 * counted in exactly the window it saw, and whoever swaps a window out
 * (the next window's first event, a flush) takes its whole count. No count
 * is lost or reported twice, whatever the threads' interleaving.
 *
 *   bit 63      window open
 *   bits 62-25  start, in ms, modulo 2^38 (8.7 years)
 *   bits 24-0   events suppressed so far (a full counter is reported early)
 *
 * 0 is "no window". Start is compared modulo 2^38: an age in the upper half
 * of that range means the window opened after our clock reading (another
 * thread was quicker), which counts as inside it. */
#define RL_OPEN (UINT64_C(1) << 63)
#define RL_COUNT_BITS 25
#define RL_COUNT_MAX ((UINT64_C(1) << RL_COUNT_BITS) - 1)
#define RL_TIME_BITS 38
#define RL_TIME_MASK ((UINT64_C(1) << RL_TIME_BITS) - 1)
/* longer intervals would reach the "opened after now" half of the range */
#define RL_INTERVAL_MAX (RL_TIME_MASK >> 2)

static uint64_t rl_open_at(uint64_t now)
{
	return RL_OPEN | (now & RL_TIME_MASK) << RL_COUNT_BITS;
}

static uint64_t rl_count(uint64_t s)
{
	return s & RL_COUNT_MAX;
}

/* Milliseconds since s's window opened; 0 if it opened after `now`. */
static uint64_t rl_age(uint64_t s, uint64_t now)
{
	uint64_t start = (s >> RL_COUNT_BITS) & RL_TIME_MASK;
	uint64_t age = (now - start) & RL_TIME_MASK;

	return age <= RL_TIME_MASK >> 1 ? age : 0;
}

static bool rl_inside(const struct log_ratelimit *rl, uint64_t s, uint64_t now)
{
	uint64_t interval = rl->interval_ms < RL_INTERVAL_MAX ? rl->interval_ms : RL_INTERVAL_MAX;

	return (s & RL_OPEN) && rl_age(s, now) < interval;
}

static void rl_summary(enum log_level level, const char *what, uint64_t n, uint64_t age_ms)
{
	log_msg(level, "%s: %llu more in the last %llu ms", what, (unsigned long long)n,
		(unsigned long long)age_ms);
}

void log_limited(struct log_ratelimit *rl, enum log_level level, const char *what,
		 const char *fmt, ...)
{
	uint64_t now, s;
	va_list ap;

	if (!log_enabled(level))
		return;
	now = log_now_ms();
	s = atomic_load(&rl->state);
	for (;;) {
		if (rl_inside(rl, s, now)) {
			/* suppressed; a full counter is reported now and restarts */
			bool full = rl_count(s) == RL_COUNT_MAX;
			uint64_t next = full ? (s & ~RL_COUNT_MAX) + 1 : s + 1;

			if (!atomic_compare_exchange_weak(&rl->state, &s, next))
				continue;
			if (full)
				rl_summary(level, what, RL_COUNT_MAX, rl_age(s, now));
			return;
		}
		/* a new window: one thread wins it, the others retry and land inside */
		if (atomic_compare_exchange_weak(&rl->state, &s, rl_open_at(now)))
			break;
	}
	if (rl_count(s))
		rl_summary(level, what, rl_count(s), rl_age(s, now));
	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

uint64_t log_ratelimit_flush(struct log_ratelimit *rl, enum log_level level, const char *what)
{
	uint64_t now = log_now_ms();
	uint64_t s = atomic_load(&rl->state);

	do {
		if (!(s & RL_OPEN) || rl_inside(rl, s, now))
			return 0;
	} while (!atomic_compare_exchange_weak(&rl->state, &s, 0));
	if (rl_count(s))
		rl_summary(level, what, rl_count(s), rl_age(s, now));
	return rl_count(s);
}

uint64_t log_ratelimit_flush_now(struct log_ratelimit *rl, enum log_level level,
				 const char *what)
{
	uint64_t now = log_now_ms();
	uint64_t s = atomic_load(&rl->state);

	do {
		if (!rl_count(s))
			return 0;
	} while (!atomic_compare_exchange_weak(&rl->state, &s, s & ~RL_COUNT_MAX));
	rl_summary(level, what, rl_count(s), rl_age(s, now));
	return rl_count(s);
}

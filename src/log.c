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

int log_level_parse(const char *name)
{
	if (!name)
		return -1;
	if (!strcasecmp(name, "warning"))
		return LOG_LVL_WARN;
	for (int i = 0; i <= LOG_LVL_DEBUG; i++)
		if (!strcasecmp(name, level_names[i]))
			return i;
	return -1;
}

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

int log_open(const char *spec)
{
	const char *path = spec;
	int flags = O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC;
	int fd;

	if (spec[0] && spec[1] == ':') {
		switch (spec[0]) {
		case 'a':
		case 'A':
			break;
		case 'w':
		case 'W':
			flags = O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC;
			break;
		default:
			return -EINVAL;
		}
		path = spec + 2;
	}
	if (!path[0] || strlen(path) >= sizeof(log_path))
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
	dup2(fd, log_fd);
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

uint64_t log_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void log_limited(struct log_ratelimit *rl, enum log_level level, const char *what,
		 const char *fmt, ...)
{
	uint64_t now = log_now_ms();
	uint64_t start = atomic_load(&rl->window_start_ms);
	va_list ap;

	if (!log_enabled(level))
		return;
	if (start && now - start < rl->interval_ms) {
		atomic_fetch_add(&rl->suppressed, 1);
		return;
	}
	/* one thread wins the new window; the others count as suppressed */
	if (!atomic_compare_exchange_strong(&rl->window_start_ms, &start, now)) {
		atomic_fetch_add(&rl->suppressed, 1);
		return;
	}
	uint64_t missed = atomic_exchange(&rl->suppressed, 0);
	if (missed)
		log_msg(level, "%s: %llu more in the last %llu ms", what, (unsigned long long)missed,
			(unsigned long long)(now - start));
	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

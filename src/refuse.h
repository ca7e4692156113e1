/* One line for a refused value: writes the reason into why[n] and returns
 * -1, so each check of a configuration value reads
 *     if (bad) return refuse(why, n, "must be ...");
 * The caller adds which option, key or line it was. */
#ifndef SPOA_MIRROR_REFUSE_H
#define SPOA_MIRROR_REFUSE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

static inline int refuse(char *why, size_t n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static inline int refuse(char *why, size_t n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, n, fmt, ap);
	va_end(ap);
	return -1;
}

#endif

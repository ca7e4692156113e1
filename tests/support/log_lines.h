/* Reading a log file back in tests: lines holding a string, and the
 * "WHAT: N more in the last T ms" summaries of src/log.c's rate limits. */
#ifndef SPOA_MIRROR_TEST_LOG_LINES_H
#define SPOA_MIRROR_TEST_LOG_LINES_H

#include <stddef.h>
#include <stdint.h>

/* Lines of the file at path that contain needle. */
size_t log_lines_count(const char *path, const char *needle);
/* Sum of N over the summary lines for what; their number in *lines, the
 * largest T in *max_age_ms when not NULL. */
uint64_t log_summaries_sum(const char *path, const char *what, size_t *lines,
			   uint64_t *max_age_ms);

#endif

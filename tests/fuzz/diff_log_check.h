/* What fuzz_diff_log checks on one input (shared with its corpus replay
 * under `make check`): the input becomes one verdict record whose every
 * text comes from the input bytes (diff_log_check.c says how); its diff
 * log line and the /compare report and page made from it must be valid. */
#ifndef SPOA_MIRROR_FUZZ_DIFF_LOG_CHECK_H
#define SPOA_MIRROR_FUZZ_DIFF_LOG_CHECK_H

#include <stddef.h>
#include <stdint.h>

/* NULL when the input passes, else a one-line reason. */
const char *diff_log_check(const uint8_t *data, size_t len);

#endif

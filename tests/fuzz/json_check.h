/* What fuzz_json_compare checks on one input (shared with its corpus replay
 * under `make check`): the input is two documents split at the first NUL
 * byte (or one document compared with itself). */
#ifndef SPOA_MIRROR_FUZZ_JSON_CHECK_H
#define SPOA_MIRROR_FUZZ_JSON_CHECK_H

#include <stddef.h>
#include <stdint.h>

/* NULL when the input passes, else a one-line reason. */
const char *json_check(const uint8_t *data, size_t len);

#endif

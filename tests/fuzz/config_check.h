/* What fuzz_config checks on one input (shared with its corpus replay
 * under `make check`): the input is an INI configuration file, as -f FILE
 * would read it. */
#ifndef SPOA_MIRROR_FUZZ_CONFIG_CHECK_H
#define SPOA_MIRROR_FUZZ_CONFIG_CHECK_H

#include <stddef.h>
#include <stdint.h>

/* NULL when the input passes, else a one-line reason. */
const char *config_check(const uint8_t *data, size_t len);

#endif

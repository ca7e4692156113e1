/* What fuzz_grpc checks on one input (shared with its corpus replay under
 * `make check`): the input is a header line from a shadow's answer, as
 * libcurl's header callback hands it over, and a content-type value. */
#ifndef SPOA_MIRROR_FUZZ_GRPC_CHECK_H
#define SPOA_MIRROR_FUZZ_GRPC_CHECK_H

#include <stddef.h>
#include <stdint.h>

/* NULL when the input passes, else a one-line reason. */
const char *grpc_check(const uint8_t *data, size_t len);

#endif

/* libFuzzer target: gRPC recognition and grpc-status lines (grpc_check.c).
 * A broken property aborts, so libFuzzer keeps the input. Build and run:
 * see tests/fuzz/README.md. */
#include <stdio.h>
#include <stdlib.h>

#include "grpc_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *fail = grpc_check(data, size);

	if (fail) {
		fprintf(stderr, "fuzz_grpc: %s\n", fail);
		abort();
	}
	return 0;
}

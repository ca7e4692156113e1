/* libFuzzer target: json_compare on two documents split at the first NUL
 * (json_check.c). A broken property aborts, so libFuzzer keeps the input.
 * Build and run: see tests/fuzz/README.md. */
#include <stdio.h>
#include <stdlib.h>

#include "json_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *fail = json_check(data, size);

	if (fail) {
		fprintf(stderr, "fuzz_json_compare: %s\n", fail);
		abort();
	}
	return 0;
}

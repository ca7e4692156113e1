/* libFuzzer target: a verdict record made of the input's bytes through the
 * diff log's line and the /compare report and page (diff_log_check.c). A
 * broken property aborts, so libFuzzer keeps the input. Build and run: see
 * tests/fuzz/README.md. */
#include <stdio.h>
#include <stdlib.h>

#include "diff_log_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *fail = diff_log_check(data, size);

	if (fail) {
		fprintf(stderr, "fuzz_diff_log: %s\n", fail);
		abort();
	}
	return 0;
}

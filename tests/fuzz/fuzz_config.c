/* libFuzzer target: the INI configuration file, read, written as
 * --check-config prints it and read back (config_check.c). A broken
 * property aborts, so libFuzzer keeps the input. Build and run: see
 * tests/fuzz/README.md. */
#include <stdio.h>
#include <stdlib.h>

#include "config_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *fail = config_check(data, size);

	if (fail) {
		fprintf(stderr, "fuzz_config: %s\n", fail);
		abort();
	}
	return 0;
}

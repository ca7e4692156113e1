/* libFuzzer target: one whole SPOP connection through conn.c and the real
 * mirror path (message mapping, header blocks, target admission, queue
 * budget), with the agent's output and counters checked after each input
 * (conn_drive.c). A broken check aborts, so libFuzzer keeps the input as a
 * crash. Build and run: see tests/fuzz/README.md. */
#include <stdio.h>
#include <stdlib.h>

#include "conn_drive.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *fail = conn_drive_check(data, size, NULL);

	if (fail) {
		fprintf(stderr, "fuzz_conn: %s\n", fail);
		abort();
	}
	return 0;
}

/* libFuzzer target: every SPOP and header-block decoder over one input
 * (frames, HELLO, DISCONNECT, NOTIFY messages with all args, ACK actions,
 * req.hdrs_bin and req.hdrs). A broken check aborts, so libFuzzer keeps the
 * input as a crash. Build and run: see tests/fuzz/README.md. */
#include <stdio.h>
#include <stdlib.h>

#include "decode_all.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *fail = decode_all_check(data, size, NULL);

	if (fail) {
		fprintf(stderr, "fuzz_decode: %s\n", fail);
		abort();
	}
	return 0;
}

/* Replays corpus files through fuzz_grpc's checks (grpc_check.c) under
 * `make check`; the main is corpus_replay.c. */
#include "corpus_replay.h"
#include "grpc_check.h"

const char *corpus_replay_check(const uint8_t *data, size_t len)
{
	return grpc_check(data, len);
}

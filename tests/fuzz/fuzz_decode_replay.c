/* Replays corpus files through fuzz_decode's checks (decode_all.c) under
 * `make check`; the main is corpus_replay.c. */
#include "corpus_replay.h"
#include "decode_all.h"

const char *corpus_replay_check(const uint8_t *data, size_t len)
{
	return decode_all_check(data, len, NULL);
}

/* Replays corpus files through fuzz_json_compare's checks (json_check.c)
 * under `make check`; the main is corpus_replay.c. */
#include "corpus_replay.h"
#include "json_check.h"

const char *corpus_replay_check(const uint8_t *data, size_t len)
{
	return json_check(data, len);
}

/* Replays corpus files through fuzz_config's checks (config_check.c) under
 * `make check`; the main is corpus_replay.c. */
#include "config_check.h"
#include "corpus_replay.h"

const char *corpus_replay_check(const uint8_t *data, size_t len)
{
	return config_check(data, len);
}

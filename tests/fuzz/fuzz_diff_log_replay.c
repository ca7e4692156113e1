/* Replays corpus files through fuzz_diff_log's checks (diff_log_check.c)
 * under `make check`; the main is corpus_replay.c. */
#include "corpus_replay.h"
#include "diff_log_check.h"

const char *corpus_replay_check(const uint8_t *data, size_t len)
{
	return diff_log_check(data, len);
}

/* Replays corpus files through fuzz_conn's checks (conn_drive.c) under
 * `make check`; the main is corpus_replay.c. */
#include "conn_drive.h"
#include "corpus_replay.h"

const char *corpus_replay_check(const uint8_t *data, size_t len)
{
	return conn_drive_check(data, len, NULL);
}

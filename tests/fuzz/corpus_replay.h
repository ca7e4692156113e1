/* The corpus replayer (corpus_replay.c) is one main for every fuzz target:
 * each replay program supplies the check its libFuzzer target runs. */
#ifndef SPOA_MIRROR_CORPUS_REPLAY_H
#define SPOA_MIRROR_CORPUS_REPLAY_H

#include <stddef.h>
#include <stdint.h>

/* NULL when the input passes, else a one-line reason. */
const char *corpus_replay_check(const uint8_t *data, size_t len);

#endif

/* What SIGHUP builds: the configuration re-read from the command line and
 * the file it names, and the target set made from it. Nothing running is
 * touched until the caller swaps the result in, so a refused reload (an
 * invalid file, memory exhausted) keeps the running configuration. */
#ifndef SPOA_MIRROR_RELOAD_H
#define SPOA_MIRROR_RELOAD_H

#include <stddef.h>

#include "log.h"
#include "target.h"

struct reload_result {
	struct target_set *targets; /* refs 1, the caller's */
	enum log_level log_level;
};

/* Re-reads argv (and its file), validates, builds the targets; their
 * counters are found or added in reg. 0 and *out filled, or -1 with a
 * one-line reason in err. Never aborts: out of memory is a refusal. */
int reload_build(int argc, char **argv, struct stats_registry *reg, struct reload_result *out,
		 char *err, size_t errlen);

#endif

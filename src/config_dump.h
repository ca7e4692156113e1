/* The configuration written as the INI file the agent reads: [mirror],
 * then one [target NAME] section per target, every key of settings.c with
 * its value in the text its setting accepts (32m, 5s, yes, "A: 1, B: 2").
 * Fed back with -f, the output gives the same configuration; this is what
 * --check-config prints. */
#ifndef SPOA_MIRROR_CONFIG_DUMP_H
#define SPOA_MIRROR_CONFIG_DUMP_H

#include <stddef.h>

#include "config.h"
#include "strbuf.h"

/* Appends cfg as INI text to out. On error appends nothing and returns -1
 * with one line in err naming the section and key: a value the INI format
 * cannot hold (a line break) or a value with no exact text form. */
int config_dump_ini(const struct agent_config *cfg, struct strbuf *out, char *err,
		    size_t errlen);

#endif

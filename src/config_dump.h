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

/* Appends cfg as INI text to out, after reading that text back and
 * comparing it with cfg field by field (config_diff). On error appends
 * nothing and returns -1 with one line in err: a value the INI format
 * cannot hold (a line break), a value with no exact text form, or text
 * that reads back as something else, naming the section and key. */
int config_dump_ini(const struct agent_config *cfg, struct strbuf *out, char *err,
		    size_t errlen);

#endif

/* The command line, compatible with haproxytech/spoa-mirror (-r0 -u URL -p
 * PORT ...) plus long-only options for what is new. The configuration file
 * (-f/--config) is read first wherever it appears, then every other option
 * overrides it; list options (-u, -c, --message, --mirror-header) replace
 * the file's list at their first use and append after. */
#ifndef SPOA_MIRROR_CLI_H
#define SPOA_MIRROR_CLI_H

#include <stddef.h>
#include <stdio.h>

#include "config.h"

enum cli_result {
	CLI_RUN = 0,   /* cfg is complete and valid: start */
	CLI_EXIT = 1,  /* --help, --version or --check-config done: exit 0 */
	CLI_ERROR = -1 /* err holds one line naming the option (or FILE:LINE) and value: exit 2 */
};

/* Parses argv into cfg, which the caller initialised with config_init()
 * and frees with config_free() whatever the result. argv is not modified.
 * --help and --version print to stdout; --check-config prints the
 * effective configuration as INI (ini_write) to stdout, or fails
 * with CLI_ERROR when it cannot be written exactly. Re-running it on the
 * saved argv is how a reload keeps the command-line overrides. Uses
 * getopt_long: main thread only. */
int cli_parse(int argc, char **argv, struct agent_config *cfg, char *err, size_t errlen);

#endif

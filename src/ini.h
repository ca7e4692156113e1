/* The INI configuration file (-f FILE, and what --check-config prints): a
 * [mirror] section with the agent's settings and one [target NAME] section
 * per shadow target; keys are the names in settings.c. Errors are one line naming file, line and key:
 *     FILE:LINE: key 'K': reason
 * The format is documented in doc/spoa-mirror.ini.example. */
#ifndef SPOA_MIRROR_INI_H
#define SPOA_MIRROR_INI_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "strbuf.h"

/* Files larger than this are refused (a configuration is a few KiB). */
#define INI_MAX_FILE_SIZE (1024 * 1024)

/* Reads `text` (named `name` in errors) into cfg, which holds defaults
 * (config_init) or earlier values that the file replaces. With
 * require_target, a file that defines no target is an error. On error
 * returns -1 with one line in err; cfg is then half-filled and only fit for
 * config_free(). */
int ini_load_buffer(const char *name, const char *text, size_t len, struct agent_config *cfg,
		    bool require_target, char *err, size_t errlen);

/* Same, reading the file at path. */
int ini_load(const char *path, struct agent_config *cfg, bool require_target, char *err,
	     size_t errlen);

/* Appends cfg as INI text to out: [mirror], then one [target NAME] section
 * per target, every key with its value in the text its setting reads (32m,
 * 5s, yes, "A: 1, B: 2"). Fed back with -f, the text gives the same
 * configuration; this is what --check-config prints. On error appends
 * nothing and returns -1 with one line in err naming the section and key:
 * a value the INI format cannot hold (a line break) or a value with no
 * exact text form. */
int ini_write(const struct agent_config *cfg, struct strbuf *out, char *err, size_t errlen);

#endif

/* SIGHUP's configuration and target set (see reload.h). The parser and the
 * target builder are start-up code that allocates with the x*() helpers;
 * here they run inside xalloc_try(), so exhaustion refuses the reload
 * instead of aborting, and what the refused attempt had built is freed
 * (see xalloc.h). */
#include "reload.h"

#include <stdio.h>

#include "cli.h"
#include "config.h"
#include "settings.h"
#include "xalloc.h"

struct attempt {
	int argc;
	char **argv;
	struct stats_registry *reg;
	struct agent_config fresh;
	struct reload_result *out;
	char *err;
	size_t errlen;
};

static int build(void *arg)
{
	struct attempt *at = arg;

	config_init(&at->fresh);
	if (cli_parse(at->argc, at->argv, &at->fresh, at->err, at->errlen) != 0 ||
	    settings_validate(&at->fresh, at->err, at->errlen) != 0)
		return -1;
	at->out->targets = target_set_new(&at->fresh, at->reg, at->err, at->errlen);
	if (!at->out->targets)
		return -1;
	at->out->log_level = at->fresh.log_level;
	return 0;
}

int reload_build(int argc, char **argv, struct stats_registry *reg, struct reload_result *out,
		 char *err, size_t errlen)
{
	struct attempt at = { argc, argv, reg, { 0 }, out, err, errlen };
	int oom, rc;

	out->targets = NULL;
	rc = xalloc_try(build, &at, &oom);
	if (oom) {
		snprintf(err, errlen, "out of memory while reading the configuration");
		return -1;
	}
	config_free(&at.fresh);
	return rc;
}

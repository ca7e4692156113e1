/* Field-by-field comparison of two configurations. --check-config uses it
 * to prove that what it prints reads back as the configuration it came
 * from; the tests use it for the same round trips. */
#ifndef SPOA_MIRROR_CONFIG_COMPARE_H
#define SPOA_MIRROR_CONFIG_COMPARE_H

#include <stddef.h>

#include "config.h"

/* 0 when a and b configure the agent the same way; otherwise 1 with the
 * first differing field named in what ("queue_max_bytes",
 * "targets[1].add_headers"). Fields that record where a value came from or
 * how this run was started are not compared: config_file, check_only,
 * daemonize (-D exists on the command line only), and each target's
 * origin and from_mirror_url. Strings compare exactly (NULL is not ""),
 * decimals bit for bit, lists in order. */
int config_diff(const struct agent_config *a, const struct agent_config *b, char *what,
		size_t n);

/* The same for one target. */
int target_config_diff(const struct target_config *a, const struct target_config *b, char *what,
		       size_t n);

#endif

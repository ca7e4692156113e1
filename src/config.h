/* The agent's configuration: its making (config_init from the table's
 * defaults), its targets and its freeing. Filled by cli.c and ini.c
 * through the table of settings.c, read-only once the agent runs (a reload
 * builds a new one). */
#ifndef SPOA_MIRROR_CONFIG_H
#define SPOA_MIRROR_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "config_types.h"

struct setting;

/* Fill with the table's defaults (no targets). */
void config_init(struct agent_config *cfg);
void config_free(struct agent_config *cfg);

/* Append a target with defaults for `url`; returns it (owned by cfg). */
struct target_config *config_add_target(struct agent_config *cfg, const char *name,
					 const char *url);
void target_config_init(struct target_config *t);
void target_config_free(struct target_config *t);
/* Deep copy. */
void target_config_copy(struct target_config *dst, const struct target_config *src);

/* Adds the target `name` with the table's defaults and url (NULL: its
 * section sets it), defined at `origin` (for messages). -1 with a reason
 * when the name is taken or there are TARGET_MAX targets already. */
int config_new_target(struct agent_config *cfg, const char *name, const char *url,
		      const char *origin, char *why, size_t n);

/* The targets made from mirror-url ("default") and -u (u1, u2, ...):
 * with `replace`, drops those made before; then adds `name` for url (a
 * valid target URL), with the mirror headers. 0, or -1 with a reason. */
int config_add_url_target(struct agent_config *cfg, const char *name, const char *url,
			  const char *origin, bool replace, char *why, size_t n);

/* setting_apply(), and for mirror-url config_add_url_target() of the
 * target "default" (an empty URL drops it and makes none); the value came
 * from `origin`. 0, or -1 with a reason in why. */
int config_apply(const struct setting *s, struct agent_config *cfg, struct target_config *t,
		 const char *value, bool append, const char *origin, char *why, size_t n);

/* Gives every target made from mirror-url or -u a copy of mirror_headers
 * as its add_headers (replacing what it had). */
void config_apply_mirror_headers(struct agent_config *cfg);

/* The target that `mirror-url` in [mirror] stands for when the
 * configuration is written out: the first target, named "default", made
 * from mirror-url, with nothing of its own but its URL and the mirror
 * headers. NULL otherwise: then every target needs a [target NAME]
 * section to be written exactly. */
const struct target_config *config_mirror_url_target(const struct agent_config *cfg);

#endif

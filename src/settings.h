/* The table of settings, one row each: its INI key, its command-line
 * option, its type, where it is stored, its limits, its default and its
 * help. The INI reader, the command line, --help, --check-config, the
 * checks and config_init() all go through it, so `--max-connections 0`
 * and `max-connections = 0` fail with the same reason. Agent settings live
 * in [mirror] and on the command line, target settings in [target NAME];
 * a few options exist on the command line only. */
#ifndef SPOA_MIRROR_SETTINGS_H
#define SPOA_MIRROR_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>

#include "config_types.h"
#include "setting_types.h"

struct strbuf;

/* The setting named `key` (or its alias) in `scope`; '_' and '-' are the
 * same in keys. NULL when unknown. */
const struct setting *settings_find(enum setting_scope scope, const char *key);
size_t settings_count(void);
const struct setting *settings_at(size_t i);
/* A repeated key appends instead of being an error; the first occurrence
 * replaces the default list. */
bool setting_is_list(const struct setting *s);
/* The long option ("num-workers"), NULL for none. */
const char *setting_option(const struct setting *s);

/* Checks `value` and stores it in cfg (agent and command-line scopes) or
 * t (target scope); `append` is false for the first occurrence of a list
 * in a file or on the command line. 0, or -1 with a reason in why. Not for
 * TYPE_MIRROR_URL, which makes a target (config_apply). */
int setting_apply(const struct setting *s, struct agent_config *cfg, struct target_config *t,
		  const char *value, bool append, char *why, size_t n);

/* Appends the stored value as the text setting_apply() reads back to the
 * same value (empty when unset). -1 with a reason when it has none. */
int setting_format(const struct setting *s, const struct agent_config *cfg,
		   const struct target_config *t, struct strbuf *out, char *why, size_t n);

/* The fields of one scope's rows in base (an agent_config for
 * SETTING_AGENT, a target_config for SETTING_TARGET): set to the table's
 * defaults over zeroed memory, freed (the caller zeroes the struct),
 * deep-copied after a shallow copy, compared as the text they print. */
void settings_set_defaults(enum setting_scope scope, void *base);
void settings_free_fields(enum setting_scope scope, void *base);
void settings_copy_fields(enum setting_scope scope, void *dst, const void *src);
bool settings_same(enum setting_scope scope, const void *a, const void *b);

/* Cross-field rules (at least one target, unique names, valid URLs). On
 * error writes one line into err and returns -1. */
int settings_validate(const struct agent_config *cfg, char *err, size_t errlen);

/* A target URL as the configuration accepts it (target_url_parse). */
int settings_check_url(const char *url, char *why, size_t n);

/* libev backend names (select, poll, epoll, linux_aio, io_uring, kqueue,
 * devpoll, port) as EVBACKEND_* flags for ev_default_loop(); 0 for NULL
 * (libev's own choice). -1 when unknown. */
int settings_libev_backend_flags(const char *name);

#endif

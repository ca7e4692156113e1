/* The named settings, one table shared by the INI file and the command line:
 * a key ("max-connections") maps to one function that checks the text and
 * stores it in the configuration, so `--max-connections 0` and
 * `max-connections = 0` fail with the same reason. Agent settings live in
 * [mirror]; target settings in [target NAME]. */
#ifndef SPOA_MIRROR_SETTINGS_H
#define SPOA_MIRROR_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

struct strbuf;

enum setting_scope {
	SETTING_AGENT,  /* [mirror] and command-line options */
	SETTING_TARGET, /* [target NAME] */
};

struct setting {
	const char *name;  /* INI key, and long option where one exists */
	const char *alias; /* also accepted (the incumbent's option name), or NULL */
	enum setting_scope scope;
	/* A list: a repeated key appends instead of being an error, and the
	 * first occurrence replaces the default list. */
	bool list;
	/* exactly one of these, by scope; `append` is false for the first
	 * occurrence in a file or on the command line */
	int (*set_agent)(struct agent_config *cfg, const char *value, bool append, char *why,
			 size_t n);
	int (*set_target)(struct target_config *t, const char *value, bool append, char *why,
			  size_t n);
	/* and the reverse, by scope: appends the stored value as text that the
	 * setter reads back to the same value (empty when unset). -1 with a
	 * reason when the value has no such text. */
	int (*get_agent)(const struct agent_config *cfg, struct strbuf *out, char *why, size_t n);
	int (*get_target)(const struct target_config *t, struct strbuf *out, char *why, size_t n);
};

/* The setting named `key` (or its alias) in `scope`; '_' and '-' are the
 * same in keys. NULL when unknown. */
const struct setting *settings_find(enum setting_scope scope, const char *key);

/* Every setting, for documentation checks. */
size_t settings_count(void);
const struct setting *settings_at(size_t i);

/* Checks `value` and stores it. 0, or -1 with a reason in why. */
int setting_apply(const struct setting *s, struct agent_config *cfg, struct target_config *t,
		  const char *value, bool append, char *why, size_t n);

/* Appends the value of `s` in cfg (agent scope) or t (target scope), as
 * the text setting_apply() takes. 0, or -1 with a reason in why. */
int setting_format(const struct setting *s, const struct agent_config *cfg,
		   const struct target_config *t, struct strbuf *out, char *why, size_t n);

/* A target URL as the configuration accepts it: target_url_parse() plus
 * no control characters (they would end up in the Host header) and a
 * non-empty host. 0, or -1 with a reason. */
int settings_check_url(const char *url, char *why, size_t n);

/* libev backend names (select, poll, epoll, linux_aio, io_uring, kqueue,
 * devpoll, port) as EVBACKEND_* flags for ev_default_loop(); 0 for NULL
 * (libev's own choice). -1 when unknown. */
int settings_libev_backend_flags(const char *name);

#endif

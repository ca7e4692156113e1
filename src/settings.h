/* The table of settings, one row each: its INI key, its command-line
 * option, its type, where it is stored, its limits and its help. The INI
 * reader, the command line, --help, --check-config and the checks all go
 * through it, so `--max-connections 0` and `max-connections = 0` fail with
 * the same reason. Agent settings live in [mirror] and on the command line,
 * target settings in [target NAME]; a few options exist on the command
 * line only. Defaults live in config.c (config_init). */
#ifndef SPOA_MIRROR_SETTINGS_H
#define SPOA_MIRROR_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

struct strbuf;

enum setting_scope {
	SETTING_AGENT,  /* [mirror] and the command line */
	SETTING_TARGET, /* [target NAME] */
	SETTING_CLI,    /* the command line only */
};

/* Each type has one parser and one printer in settings.c. */
enum setting_type {
	TYPE_HEADING,    /* --help only: `help` is a group title */
	TYPE_CLI,        /* an option cli.c handles itself: -f, -h, -V */
	TYPE_FLAG,       /* an option without a value: sets a bool */
	TYPE_UINT,       /* integer in [lo, hi], stored in 2, 4 or 8 bytes */
	TYPE_SIZE,       /* bytes, with k, m or g, in [lo, hi], stored in 4 or 8 bytes */
	TYPE_TIME,       /* unsigned ms; lo 1: must be longer than 0 */
	TYPE_BOOL,       /* on the command line the value is optional: true */
	TYPE_DECIMAL,    /* double in [lo, hi] */
	TYPE_PERCENT,    /* the same, and a trailing '%' is allowed */
	TYPE_STRING,     /* char *, NULL when empty, vetted by `check` */
	TYPE_LIST,       /* comma list, char ** + count; `check` vets each item; lo 1: not empty */
	TYPE_HEADERS,    /* "Name: value" list, struct header_pair * + count */
	TYPE_CAPS,       /* SPOP capability names as bits */
	TYPE_LOG_LEVEL,  /* enum log_level */
	TYPE_SAMPLE_KEY, /* sample_key and sample_key_name */
	TYPE_HOST,       /* enum host_policy */
	TYPE_MIRROR_URL, /* the target "default" */
	TYPE_MODE,       /* unsigned permission bits, written in octal */
	TYPE_COMPARE,    /* enum verdict_level: off, status, headers, body */
};

struct setting {
	const char *name;  /* INI key; the long option unless alias */
	const char *alias; /* also accepted as key; the long option when set */
	enum setting_scope scope;
	int letter;        /* short option, 0 for none */
	enum setting_type type;
	size_t off, size;  /* the field in agent_config or target_config */
	size_t count_off;  /* lists: the field holding their length */
	double lo, hi;
	/* strings and list items: -1 with a reason, 0 to keep, 1 to store NULL */
	int (*check)(const char *value, char *why, size_t n);
	const char *arg;   /* --help: the value's name; NULL for no value */
	const char *help;
};

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
 * in a file or on the command line. 0, or -1 with a reason in why. */
int setting_apply(const struct setting *s, struct agent_config *cfg, struct target_config *t,
		  const char *value, bool append, char *why, size_t n);

/* Appends the stored value as the text setting_apply() reads back to the
 * same value (empty when unset). -1 with a reason when it has none. */
int setting_format(const struct setting *s, const struct agent_config *cfg,
		   const struct target_config *t, struct strbuf *out, char *why, size_t n);

/* Cross-field rules (at least one target, unique names, valid URLs). On
 * error writes one line into err and returns -1. */
int settings_validate(const struct agent_config *cfg, char *err, size_t errlen);

/* A target URL as the configuration accepts it (target_url_parse). */
int settings_check_url(const char *url, char *why, size_t n);

/* The target that `mirror-url` in [mirror] stands for when the
 * configuration is written out: the first target, named "default", made
 * from mirror-url, with nothing of its own but its URL and the mirror
 * headers. NULL otherwise: then every target needs a [target NAME]
 * section to be written exactly. */
const struct target_config *settings_mirror_url_target(const struct agent_config *cfg);

/* libev backend names (select, poll, epoll, linux_aio, io_uring, kqueue,
 * devpoll, port) as EVBACKEND_* flags for ev_default_loop(); 0 for NULL
 * (libev's own choice). -1 when unknown. */
int settings_libev_backend_flags(const char *name);

#endif

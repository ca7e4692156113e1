/* A setting's type: what a row of the table of settings (settings.c)
 * says about one field, and for each type how its text is read into the
 * field, written back as the same text, freed and copied. The field is
 * found by its offset in `base`, an agent_config or a target_config. */
#ifndef SPOA_MIRROR_SETTING_TYPES_H
#define SPOA_MIRROR_SETTING_TYPES_H

#include <stdbool.h>
#include <stddef.h>

#include "config_types.h"

struct strbuf;

enum setting_scope {
	SETTING_AGENT,  /* [mirror] and the command line */
	SETTING_TARGET, /* [target NAME] */
	SETTING_CLI,    /* the command line only */
};

/* Each type has one parser and one printer in setting_types.c. */
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
	TYPE_ENUM,       /* one of `names`, stored as an enum */
	TYPE_BITS,       /* a comma list of `names`, their values or'ed into an unsigned */
	TYPE_SAMPLE_KEY, /* sample_key and sample_key_name */
	TYPE_MIRROR_URL, /* the target "default": config_apply() makes it */
	TYPE_MODE,       /* unsigned permission bits, written in octal */
	TYPE_PORTS,      /* struct port_range: "PORT" or "LOW-HIGH"; empty: any */
};

/* A value's name for TYPE_ENUM and TYPE_BITS; a list ends with a NULL
 * name. A later name for an earlier value is an alias: read, never
 * written or offered. */
struct setting_name {
	const char *name;
	int value;
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
	const struct setting_name *names; /* TYPE_ENUM, TYPE_BITS */
	const char *dflt;  /* the default, as the INI file writes it; NULL: zero */
	const char *arg;   /* --help: the value's name; NULL for no value */
	const char *help;
};

/* Reads v (NULL: empty) into s's field of base; `append` is false for the
 * first occurrence of a list. 0, or -1 with a reason in why. */
int setting_parse(const struct setting *s, void *base, const char *v, bool append, char *why,
		  size_t n);
/* Appends the field as the text setting_parse() reads back to the same
 * value; nothing for a type without text (flags, mirror-url). -1 with a
 * reason when the value has no such text. */
int setting_print(const struct setting *s, const void *base, struct strbuf *out, char *why,
		  size_t n);
bool setting_has_text(const struct setting *s);
/* Frees what the field owns; copies it deep after a shallow copy. */
void setting_free(const struct setting *s, void *base);
void setting_copy(const struct setting *s, void *dst, const void *src);

/* The value named `name` (any case), or -1. */
int setting_name_value(const struct setting_name *t, const char *name);

void header_pairs_free(struct header_pair *pairs, size_t n);
struct header_pair *header_pairs_copy(const struct header_pair *src, size_t n);

#endif

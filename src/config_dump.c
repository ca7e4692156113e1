/* Writes a configuration as INI text (see config_dump.h). The keys and
 * their text come from the settings table, so a new setting is written as
 * soon as it has a row there; the test suite proves for every row that the
 * text reads back as the same value. */
#include "config_dump.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "settings.h"

/* ini.c trims blanks around a value, then drops one pair of surrounding
 * double quotes. A value that either would change is written inside
 * quotes, which the reader drops again: "  x" stays "  x", "\"x\"" stays
 * "\"x\"". */
static bool needs_quotes(const char *v, size_t len)
{
	if (!len)
		return false;
	return v[0] == ' ' || v[0] == '\t' || v[len - 1] == ' ' || v[len - 1] == '\t' ||
	       (len >= 2 && v[0] == '"' && v[len - 1] == '"');
}

/* The keys of one scope, "key = value" each; t is NULL for [mirror]. */
static int write_keys(struct strbuf *out, const struct agent_config *cfg,
		      const struct target_config *t, const char *section, char *err,
		      size_t errlen)
{
	enum setting_scope scope = t ? SETTING_TARGET : SETTING_AGENT;
	struct strbuf value = STRBUF_INIT;
	int rc = 0;

	for (size_t i = 0; i < settings_count() && rc == 0; i++) {
		const struct setting *s = settings_at(i);
		const char *v;
		char why[300];

		if (s->scope != scope)
			continue;
		strbuf_reset(&value);
		if (setting_format(s, cfg, t, &value, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "%s key '%s': %s", section, s->name, why);
			rc = -1;
			break;
		}
		v = value.len ? value.data : "";
		/* an INI value ends at the line's end: a line break cannot be in one */
		if (strpbrk(v, "\r\n")) {
			snprintf(err, errlen,
				 "%s key '%s': value '%.100s' has a line break, which an INI "
				 "file cannot hold",
				 section, s->name, v);
			rc = -1;
			break;
		}
		if (needs_quotes(v, value.len))
			strbuf_printf(out, "%s = \"%s\"\n", s->name, v);
		else if (value.len)
			strbuf_printf(out, "%s = %s\n", s->name, v);
		else
			strbuf_printf(out, "%s =\n", s->name);
	}
	strbuf_free(&value);
	return rc;
}

int config_dump_ini(const struct agent_config *cfg, struct strbuf *out, char *err,
		    size_t errlen)
{
	const struct target_config *url_target = settings_mirror_url_target(cfg);
	struct strbuf text = STRBUF_INIT;
	int rc;

	strbuf_puts(&text, "[mirror]\n");
	rc = write_keys(&text, cfg, NULL, "[mirror]", err, errlen);
	for (size_t i = 0; i < cfg->n_targets && rc == 0; i++) {
		const struct target_config *t = &cfg->targets[i];
		char section[128];

		if (t == url_target) /* written as mirror-url in [mirror] */
			continue;
		if (!t->name || strpbrk(t->name, "\r\n")) {
			snprintf(err, errlen, "target %zu: name '%.80s' cannot be a section header",
				 i + 1, t->name ? t->name : "");
			rc = -1;
			break;
		}
		snprintf(section, sizeof(section), "[target %.80s]", t->name);
		strbuf_printf(&text, "\n[target %s]\n", t->name);
		rc = write_keys(&text, cfg, t, section, err, errlen);
	}
	if (rc == 0)
		strbuf_append(out, text.data, text.len);
	strbuf_free(&text);
	return rc;
}

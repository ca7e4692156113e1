/* The configuration's memory: made from the table's defaults, freed and
 * copied field by field through the table, plus what the table does not
 * hold (target names, where they were defined, the targets made from
 * mirror-url). */
#include "config.h"

#include <string.h>

#include "refuse.h"
#include "settings.h"
#include "xalloc.h"

void target_config_init(struct target_config *t)
{
	memset(t, 0, sizeof(*t));
	settings_set_defaults(SETTING_TARGET, t);
}

void target_config_free(struct target_config *t)
{
	settings_free_fields(SETTING_TARGET, t);
	xfree(t->name);
	xfree(t->origin);
	memset(t, 0, sizeof(*t));
}

void target_config_copy(struct target_config *dst, const struct target_config *src)
{
	*dst = *src;
	settings_copy_fields(SETTING_TARGET, dst, src);
	dst->name = xstrdup_or_null(src->name);
	dst->origin = xstrdup_or_null(src->origin);
}

void config_init(struct agent_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	settings_set_defaults(SETTING_AGENT, cfg);
}

void config_free(struct agent_config *cfg)
{
	settings_free_fields(SETTING_AGENT, cfg);
	for (size_t i = 0; i < cfg->n_targets; i++)
		target_config_free(&cfg->targets[i]);
	xfree(cfg->targets);
	xfree(cfg->config_file);
	memset(cfg, 0, sizeof(*cfg));
}

struct target_config *config_add_target(struct agent_config *cfg, const char *name,
					 const char *url)
{
	struct target_config *t;

	cfg->targets = xrealloc(cfg->targets, (cfg->n_targets + 1) * sizeof(*cfg->targets));
	t = &cfg->targets[cfg->n_targets++];
	target_config_init(t);
	t->name = xstrdup(name);
	t->url = xstrdup_or_null(url);
	return t;
}

/* Removes the targets made from mirror-url or -u (a -u on the command line
 * replaces the file's mirror-url). */
static void drop_url_targets(struct agent_config *cfg)
{
	size_t kept = 0;

	for (size_t i = 0; i < cfg->n_targets; i++) {
		if (cfg->targets[i].from_mirror_url)
			target_config_free(&cfg->targets[i]);
		else
			cfg->targets[kept++] = cfg->targets[i];
	}
	cfg->n_targets = kept;
}

int config_new_target(struct agent_config *cfg, const char *name, const char *url,
		      const char *origin, char *why, size_t n)
{
	for (size_t i = 0; i < cfg->n_targets; i++)
		if (!strcmp(cfg->targets[i].name, name))
			return refuse(why, n, "target name '%s' already defined at %s", name,
				      cfg->targets[i].origin ? cfg->targets[i].origin : "?");
	if (cfg->n_targets >= TARGET_MAX)
		return refuse(why, n, "too many targets (at most %d)", TARGET_MAX);
	config_add_target(cfg, name, url)->origin = xstrdup(origin);
	return 0;
}

int config_add_url_target(struct agent_config *cfg, const char *name, const char *url,
			  const char *origin, bool replace, char *why, size_t n)
{
	if (settings_check_url(url, why, n) < 0)
		return -1;
	if (replace)
		drop_url_targets(cfg);
	if (config_new_target(cfg, name, url, origin, why, n) < 0)
		return -1;
	cfg->targets[cfg->n_targets - 1].from_mirror_url = true;
	config_apply_mirror_headers(cfg);
	return 0;
}

int config_apply(const struct setting *s, struct agent_config *cfg, struct target_config *t,
		 const char *value, bool append, const char *origin, char *why, size_t n)
{
	if (s->type == TYPE_MIRROR_URL && (!value || !*value)) {
		/* no target "default": what the dump writes when the targets all
		 * have sections */
		drop_url_targets(cfg);
		return 0;
	}
	if (s->type == TYPE_MIRROR_URL)
		return config_add_url_target(cfg, "default", value, origin, true, why, n);
	if (setting_apply(s, cfg, t, value, append, why, n) < 0)
		return -1;
	if (s->type == TYPE_HEADERS && s->scope == SETTING_AGENT) /* mirror-headers */
		config_apply_mirror_headers(cfg);
	return 0;
}


void config_apply_mirror_headers(struct agent_config *cfg)
{
	for (size_t i = 0; i < cfg->n_targets; i++) {
		struct target_config *t = &cfg->targets[i];

		if (!t->from_mirror_url)
			continue;
		header_pairs_free(t->add_headers, t->n_add_headers);
		t->add_headers = header_pairs_copy(cfg->mirror_headers, cfg->n_mirror_headers);
		t->n_add_headers = cfg->n_mirror_headers;
	}
}

const struct target_config *config_mirror_url_target(const struct agent_config *cfg)
{
	const struct target_config *t = cfg->n_targets ? &cfg->targets[0] : NULL;
	struct target_config plain;
	bool same;

	/* first: the dump writes [mirror] before any section, so that is where
	 * mirror-url's target lands when the dump is read back */
	if (!t || !t->from_mirror_url || !t->name || strcmp(t->name, "default") || !t->url)
		return NULL;
	target_config_init(&plain);
	plain.url = t->url; /* borrowed, with cfg's headers: not freed */
	plain.add_headers = cfg->mirror_headers;
	plain.n_add_headers = cfg->n_mirror_headers;
	same = settings_same(SETTING_TARGET, &plain, t);
	plain.url = NULL;
	plain.add_headers = NULL;
	plain.n_add_headers = 0;
	target_config_free(&plain);
	return same ? t : NULL;
}

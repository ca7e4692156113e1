/* Command-line parsing in two passes: the first finds -f, -h, -V and
 * whether -u is used (so the file is read before anything it could
 * override), the second applies every option through the settings table,
 * which also gives getopt its options and --help its lines. */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "ini.h"
#include "settings.h"
#include "strbuf.h"
#include "units.h"
#include "version.h"
#include "xalloc.h"

/* getopt's value for a row: its letter, or 256 + its index. */
static int option_val(const struct setting *s)
{
	return s->letter ? s->letter : 256 + (int)(s - settings_at(0));
}

static const struct setting *find_option(int val)
{
	for (size_t i = 0; i < settings_count(); i++)
		if (setting_option(settings_at(i)) && option_val(settings_at(i)) == val)
			return settings_at(i);
	return NULL;
}

static int has_arg(const struct setting *s)
{
	if (!s->arg)
		return no_argument;
	return s->type == TYPE_BOOL ? optional_argument : required_argument;
}

/* "-p/--port" or "--metrics", for messages. */
static void option_label(const struct setting *s, char *out, size_t n)
{
	if (s->letter)
		snprintf(out, n, "-%c/--%s", s->letter, setting_option(s));
	else
		snprintf(out, n, "--%s", setting_option(s));
}

static int bad_value(const struct setting *s, const char *value, const char *why, char *err,
		     size_t errlen)
{
	char label[64];

	option_label(s, label, sizeof(label));
	snprintf(err, errlen, "option '%s': bad value '%.200s': %s", label, value, why);
	return CLI_ERROR;
}

/* Reports getopt's complaint about argv[optind - 1]. */
static int getopt_error(int c, char **args, char *err, size_t errlen)
{
	const char *word = optind > 0 ? args[optind - 1] : "?";
	const struct setting *s = find_option(optopt);
	char label[64];

	if (c == ':') {
		if (s)
			option_label(s, label, sizeof(label));
		snprintf(err, errlen, "option '%s' needs a value", s ? label : word);
	} else if (optopt && optopt < 256 && strncmp(word, "--", 2)) {
		snprintf(err, errlen, "unknown option '-%c' (see --help)", optopt);
	} else {
		snprintf(err, errlen, "unknown or ambiguous option '%.100s' (see --help)", word);
	}
	return CLI_ERROR;
}

struct options {
	struct option *lo;
	char shorts[80];
};

static void build_options(struct options *o)
{
	size_t n = 0, k = 0;

	o->lo = xcalloc(settings_count() + 1, sizeof(*o->lo));
	o->shorts[k++] = ':';
	for (size_t i = 0; i < settings_count(); i++) {
		const struct setting *s = settings_at(i);

		if (!setting_option(s))
			continue;
		o->lo[n++] = (struct option){ setting_option(s), has_arg(s), NULL, option_val(s) };
		if (s->letter) {
			o->shorts[k++] = (char)s->letter;
			if (has_arg(s) == required_argument)
				o->shorts[k++] = ':';
		}
	}
	o->shorts[k] = '\0';
}

struct first_pass {
	bool help, version, has_url;
	const char *config;
};

static int add_url_target(struct agent_config *cfg, const struct setting *s, const char *url,
			  size_t nth, char *err, size_t errlen)
{
	char why[700], name[32];

	snprintf(name, sizeof(name), "u%zu", nth);
	if (config_add_url_target(cfg, name, url, "command line (-u)", nth == 1, why,
				  sizeof(why)) < 0)
		return bad_value(s, url, why, err, errlen);
	return CLI_RUN;
}

/* --mirror-header: one header per option, commas and all. */
static int add_mirror_header(struct agent_config *cfg, const struct setting *s,
			     const char *value, bool first, char *err, size_t errlen)
{
	struct header_pair h;
	char why[300];

	if (units_parse_header(value, &h, why, sizeof(why)) < 0)
		return bad_value(s, value, why, err, errlen);
	if (first) {
		header_pairs_free(cfg->mirror_headers, cfg->n_mirror_headers);
		cfg->mirror_headers = NULL;
		cfg->n_mirror_headers = 0;
	}
	cfg->mirror_headers =
		xrealloc(cfg->mirror_headers, (cfg->n_mirror_headers + 1) * sizeof(h));
	cfg->mirror_headers[cfg->n_mirror_headers++] = h;
	return CLI_RUN;
}

/* --check-config: the effective configuration as INI on stdout, nothing
 * when it cannot be written exactly. */
static int print_effective_config(const struct agent_config *cfg, char *err, size_t errlen)
{
	struct strbuf text = STRBUF_INIT;
	char why[512];
	int rc = CLI_EXIT;

	if (ini_write(cfg, &text, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "--check-config: cannot write the configuration: %s", why);
		rc = CLI_ERROR;
	} else if (fwrite(text.data, 1, text.len, stdout) != text.len || fflush(stdout) != 0) {
		/* a saved copy cut short must not look like success */
		snprintf(err, errlen, "--check-config: cannot write to standard output: %s",
			 strerror(errno));
		rc = CLI_ERROR;
	}
	strbuf_free(&text);
	return rc;
}

/* One walk over the options. The first (cfg NULL) checks them and notes
 * -f, -h, -V and -u; the second applies the others through the table. */
static int walk(int argc, char **args, const struct options *o, struct first_pass *fp,
		struct agent_config *cfg, char *err, size_t errlen)
{
	bool *list_seen = xcalloc(settings_count(), sizeof(bool));
	size_t n_urls = 0, n_headers = 0;
	int c, rc = CLI_RUN;

	optind = 0; /* glibc: full re-initialisation */
	opterr = 0;
	while (rc == CLI_RUN && (c = getopt_long(argc, args, o->shorts, o->lo, NULL)) != -1) {
		const struct setting *s = find_option(c);
		char why[400];

		if (c == '?' || c == ':') {
			rc = getopt_error(c, args, err, errlen);
		} else if (!cfg) {
			fp->help |= c == 'h';
			fp->version |= c == 'V';
			fp->has_url |= c == 'u';
			if (c == 'f')
				fp->config = optarg;
		} else if (s->type == TYPE_CLI) {
			continue; /* -f, -h, -V: done by the first pass */
		} else if (c == 'u') {
			rc = add_url_target(cfg, s, optarg, ++n_urls, err, errlen);
		} else if (s->type == TYPE_HEADERS) { /* --mirror-header: not a list */
			rc = add_mirror_header(cfg, s, optarg, n_headers++ == 0, err, errlen);
		} else {
			size_t idx = (size_t)(s - settings_at(0));

			/* --access-log alone switches it on */
			if (setting_apply(s, cfg, NULL, optarg ? optarg : "true",
					  setting_is_list(s) && list_seen[idx], why, sizeof(why)) < 0)
				rc = bad_value(s, optarg ? optarg : "", why, err, errlen);
			list_seen[idx] = true;
		}
	}
	if (rc == CLI_RUN && optind < argc) {
		snprintf(err, errlen, "unexpected argument '%.100s' (options start with '-'; see --help)",
			 args[optind]);
		rc = CLI_ERROR;
	}
	xfree(list_seen);
	return rc;
}

/* One option: its names in the first 30 columns, then its help and its
 * default in words wrapped at column 80. */
static void print_option(FILE *out, const struct setting *s, const struct agent_config *def)
{
	struct strbuf text = STRBUF_INIT, dflt = STRBUF_INIT;
	char why[200];
	int col = 0;

	if (s->letter)
		col += fprintf(out, "  -%c, ", s->letter);
	else
		col += fprintf(out, "      ");
	col += fprintf(out, "--%s%s%s%s", setting_option(s), s->arg ? (has_arg(s) ==
		       optional_argument ? "[=" : "=") : "", s->arg ? s->arg : "",
		       has_arg(s) == optional_argument ? "]" : "");
	strbuf_puts(&text, s->help);
	if (s->scope == SETTING_AGENT && setting_format(s, def, NULL, &dflt, why, sizeof(why)) == 0 &&
	    dflt.len)
		strbuf_printf(&text, " (default: %s)", dflt.data);
	if (col > 30) {
		fputc('\n', out);
		col = 0;
	}
	for (char *w = strtok(text.data, " "); w; w = strtok(NULL, " ")) {
		int len = (int)strlen(w);

		if (col >= 32 && col + 1 + len > 80) {
			fputc('\n', out);
			col = 0;
		}
		if (col < 32)
			col += fprintf(out, "%*s", 32 - col, "");
		else
			col += fprintf(out, " ");
		col += fprintf(out, "%s", w);
	}
	fputc('\n', out);
	strbuf_free(&text);
	strbuf_free(&dflt);
}

static void print_help(FILE *out)
{
	struct agent_config def;

	config_init(&def);
	fprintf(out, "Usage: spoa-mirror [OPTION]... -u URL\n"
		     "       spoa-mirror -f FILE [OPTION]...\n"
		     "Receives HTTP requests from HAProxy over SPOP and replays copies to shadow\n"
		     "backends, fire-and-forget.\n");
	for (size_t i = 0; i < settings_count(); i++) {
		const struct setting *s = settings_at(i);

		if (s->type == TYPE_HEADING)
			fprintf(out, "\n%s\n", s->help);
		else if (setting_option(s))
			print_option(out, s, &def);
	}
	fprintf(out, "\n"
		     "TIME is milliseconds, or a number with a unit us, ms, s, m, h or d (500, 1.5s, 2m).\n"
		     "SIZE is bytes, or a number with k, m or g (512k, 4m).\n"
		     "Exit status: 0 after a clean stop, 1 on a runtime error, 2 on a configuration\n"
		     "error. See spoa-mirror(8) and spoa-mirror.ini.example for the INI file.\n");
	config_free(&def);
}

int cli_parse(int argc, char **argv, struct agent_config *cfg, char *err, size_t errlen)
{
	/* getopt_long permutes its array: work on a copy, so argv can be parsed
	 * again on reload */
	char **args = xcalloc((size_t)argc + 1, sizeof(char *));
	struct first_pass fp = { 0 };
	struct options o;
	char why[512];
	int rc;

	build_options(&o);
	memcpy(args, argv, (size_t)argc * sizeof(char *));
	rc = walk(argc, args, &o, &fp, NULL, err, errlen);
	if (rc == CLI_RUN && (fp.help || fp.version)) {
		if (fp.help)
			print_help(stdout);
		else
			printf("spoa-mirror %s\n", version_string());
		rc = CLI_EXIT;
	}
	/* with -u on the command line the file need not name a target */
	if (rc == CLI_RUN && fp.config) {
		rc = ini_load(fp.config, cfg, !fp.has_url, err, errlen) < 0 ? CLI_ERROR : CLI_RUN;
		xfree(cfg->config_file);
		cfg->config_file = xstrdup(fp.config);
	}
	if (rc == CLI_RUN) {
		memcpy(args, argv, (size_t)argc * sizeof(char *));
		rc = walk(argc, args, &o, &fp, cfg, err, errlen);
	}
	if (rc == CLI_RUN) {
		config_apply_mirror_headers(cfg);
		if (settings_validate(cfg, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "%s", why);
			rc = CLI_ERROR;
		}
	}
	if (rc == CLI_RUN && cfg->check_only)
		rc = print_effective_config(cfg, err, errlen);
	if (rc == CLI_ERROR)
		units_one_line(err);
	xfree(o.lo);
	xfree(args);
	fflush(stdout);
	return rc;
}

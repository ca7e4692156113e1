/* The INI file, read and written. Reading: sections, "key = value" lines,
 * whole-line comments. Every value goes through the table of settings
 * (config_apply), so the file and the command line share one set of
 * checks; this file adds what only a file has: sections, line numbers,
 * duplicate keys and targets defined by name. Writing: every key of the settings table with its value in the text
 * its setting reads; the test suite proves for every row that the text
 * reads back as the same value. */
#include "ini.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "settings.h"
#include "slice.h"
#include "strbuf.h"
#include "units.h"
#include "xalloc.h"

#define TARGET_NAME_MAX 64

struct ini_state {
	const char *name; /* file name for messages */
	struct agent_config *cfg;
	unsigned line;
	enum { SEC_NONE, SEC_MIRROR, SEC_TARGET } section;
	unsigned section_line;
	unsigned mirror_line;  /* where [mirror] started, 0 = not seen */
	size_t target;         /* index in cfg->targets while in [target] */
	unsigned *seen;        /* per setting: line it was set on in this section */
	char *err;
	size_t errlen;
};

static int fail(struct ini_state *st, unsigned line, const char *key, size_t key_len,
		const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int fail(struct ini_state *st, unsigned line, const char *key, size_t key_len,
		const char *fmt, ...)
{
	char reason[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	snprintf(st->err, st->errlen, "%s:%u: key '%.*s': %s", st->name, line,
		 (int)(key_len > 80 ? 80 : key_len), key, reason);
	units_one_line(st->err);
	return -1;
}

static bool valid_target_name(struct slice s)
{
	if (!s.len || s.len > TARGET_NAME_MAX)
		return false;
	for (size_t i = 0; i < s.len; i++) {
		char c = s.ptr[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.'))
			return false;
	}
	return true;
}

/* The first byte no INI line holds, or -1: controls but tab. A CR that
 * does not end the line (old Mac line ends) would glue the next line into
 * a value. */
static int control_byte(const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return c;
	}
	return -1;
}

/* "FILE:LINE", where a target was defined, for messages. */
static void origin_text(const struct ini_state *st, char *buf, size_t n)
{
	snprintf(buf, n, "%s:%u", st->name, st->line);
}

/* Closes the current section: a target must have its url. */
static int end_section(struct ini_state *st)
{
	if (st->section == SEC_TARGET && !st->cfg->targets[st->target].url)
		return fail(st, st->section_line, "url", 3,
			    "missing: [target %s] needs url = http://HOST[:PORT][/PREFIX]",
			    st->cfg->targets[st->target].name);
	return 0;
}

static int begin_section(struct ini_state *st, struct slice inner)
{
	struct agent_config *cfg = st->cfg;

	if (end_section(st) < 0)
		return -1;
	memset(st->seen, 0, settings_count() * sizeof(*st->seen));
	st->section_line = st->line;
	inner = slice_trim(inner);
	if (slice_eq_cstr(inner, "mirror")) {
		if (st->mirror_line)
			return fail(st, st->line, "[mirror]", 8,
				    "section appears twice (first at line %u)", st->mirror_line);
		st->mirror_line = st->line;
		st->section = SEC_MIRROR;
		return 0;
	}
	if (inner.len >= 6 && !memcmp(inner.ptr, "target", 6) &&
	    (inner.len == 6 || inner.ptr[6] == ' ' || inner.ptr[6] == '\t')) {
		struct slice name = slice_trim(slice_make(inner.ptr + 6, inner.len - 6));
		char *cname, origin[600], why[700];
		int rc;

		if (!name.len)
			return fail(st, st->line, "[target]", 8,
				    "a target section needs a name: [target NAME]");
		if (!valid_target_name(name))
			return fail(st, st->line, inner.ptr, inner.len,
				    "target name '%.*s' must be 1-%d letters, digits, '-', '_' or '.'",
				    (int)(name.len > 80 ? 80 : name.len), name.ptr, TARGET_NAME_MAX);
		cname = xstrndup(name.ptr, name.len);
		origin_text(st, origin, sizeof(origin));
		rc = config_new_target(cfg, cname, NULL, origin, why, sizeof(why));
		xfree(cname);
		if (rc < 0)
			return fail(st, st->line, inner.ptr, inner.len, "%s", why);
		st->target = cfg->n_targets - 1;
		st->section = SEC_TARGET;
		return 0;
	}
	return fail(st, st->line, inner.ptr, inner.len,
		    "unknown section (expected [mirror] or [target NAME])");
}

/* The value as written, with one pair of surrounding double quotes removed. */
static char *value_copy(struct slice v)
{
	v = slice_trim(v);
	if (v.len >= 2 && v.ptr[0] == '"' && v.ptr[v.len - 1] == '"') {
		v.ptr++;
		v.len -= 2;
	}
	return xstrndup(v.ptr, v.len);
}

static int key_value(struct ini_state *st, struct slice line)
{
	struct agent_config *cfg = st->cfg;
	const char *eq = memchr(line.ptr, '=', line.len);
	struct slice key;
	const struct setting *s;
	char *ckey, *value, why[700], origin[600];
	size_t idx;
	int rc;

	if (!eq)
		return fail(st, st->line, line.ptr, line.len,
			    "line has no '=' (expected: key = value)");
	key = slice_trim(slice_make(line.ptr, (size_t)(eq - line.ptr)));
	if (!key.len)
		return fail(st, st->line, "", 0, "line has no key before '='");
	if (st->section == SEC_NONE)
		return fail(st, st->line, key.ptr, key.len,
			    "outside any section (start the file with [mirror])");
	ckey = xstrndup(key.ptr, key.len);
	s = settings_find(st->section == SEC_MIRROR ? SETTING_AGENT : SETTING_TARGET, ckey);
	if (!s) {
		const char *hint = "";

		if (st->section == SEC_MIRROR && settings_find(SETTING_TARGET, ckey))
			hint = " (a target setting: put it in a [target NAME] section)";
		else if (st->section == SEC_TARGET && settings_find(SETTING_AGENT, ckey))
			hint = " (an agent setting: put it in [mirror])";
		rc = fail(st, st->line, key.ptr, key.len, "unknown key in %s%s",
			  st->section == SEC_MIRROR ? "[mirror]" : "a [target] section", hint);
		xfree(ckey);
		return rc;
	}
	xfree(ckey);
	idx = (size_t)(s - settings_at(0));
	if (st->seen[idx] && !setting_is_list(s))
		return fail(st, st->line, key.ptr, key.len,
			    "set twice in this section (first at line %u)", st->seen[idx]);
	value = value_copy(slice_make(eq + 1, line.len - (size_t)(eq + 1 - line.ptr)));
	origin_text(st, origin, sizeof(origin));
	rc = config_apply(s, cfg, st->section == SEC_TARGET ? &cfg->targets[st->target] : NULL,
			  value, st->seen[idx] != 0, origin, why, sizeof(why));
	if (rc < 0)
		rc = fail(st, st->line, key.ptr, key.len, "bad value '%.100s': %s", value, why);
	st->seen[idx] = st->line;
	xfree(value);
	return rc;
}

int ini_load_buffer(const char *name, const char *text, size_t len, struct agent_config *cfg,
		    bool require_target, char *err, size_t errlen)
{
	struct ini_state st = {
		.name = name,
		.cfg = cfg,
		.err = err,
		.errlen = errlen,
	};
	struct slice rest = slice_make(text, len);
	int rc = 0;

	st.seen = xcalloc(settings_count(), sizeof(*st.seen));
	/* a UTF-8 byte order mark is not part of the first key */
	if (len >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3))
		rest = slice_make(text + 3, len - 3);
	while (rest.len) {
		struct slice line = slice_split(&rest, '\n');
		int bad;

		st.line++;
		if (line.len && line.ptr[line.len - 1] == '\r')
			line.len--;
		bad = control_byte(line.ptr, line.len);
		if (bad >= 0) {
			if (bad == 0)
				rc = fail(&st, st.line, "", 0, "NUL byte in the line: not a text file");
			else if (bad == '\r')
				rc = fail(&st, st.line, "", 0,
					  "CR inside the line: end lines with LF or CR LF");
			else
				rc = fail(&st, st.line, "", 0, "control character 0x%02x in the line",
					  (unsigned)bad);
			goto out;
		}
		line = slice_trim(line);
		if (!line.len || line.ptr[0] == '#' || line.ptr[0] == ';')
			continue;
		if (line.ptr[0] == '[') {
			if (line.ptr[line.len - 1] != ']') {
				rc = fail(&st, st.line, line.ptr, line.len,
					  "section header without closing ']'");
				goto out;
			}
			rc = begin_section(&st, slice_make(line.ptr + 1, line.len - 2));
		} else {
			rc = key_value(&st, line);
		}
		if (rc < 0)
			goto out;
	}
	rc = end_section(&st);
	if (rc < 0)
		goto out;
	if (require_target && cfg->n_targets == 0)
		rc = fail(&st, st.line ? st.line : 1, "mirror-url", 10,
			  "no mirror target: set mirror-url in [mirror] or add a [target NAME] "
			  "section");
out:
	xfree(st.seen);
	return rc;
}

int ini_load(const char *path, struct agent_config *cfg, bool require_target, char *err,
	     size_t errlen)
{
	/* before the file is open: on a reload out of memory (xalloc_try) the
	 * allocation does not return, and the FILE would be lost */
	char *buf = xmalloc(INI_MAX_FILE_SIZE + 1);
	FILE *f = fopen(path, "rb");
	size_t len = 0;
	int rc;

	if (!f) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		xfree(buf);
		return -1;
	}
	len = fread(buf, 1, INI_MAX_FILE_SIZE + 1, f);
	if (ferror(f)) {
		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
		fclose(f);
		xfree(buf);
		return -1;
	}
	fclose(f);
	if (len > INI_MAX_FILE_SIZE) {
		snprintf(err, errlen, "%s: larger than %d bytes: not a configuration file", path,
			 INI_MAX_FILE_SIZE);
		xfree(buf);
		return -1;
	}
	rc = ini_load_buffer(path, buf, len, cfg, require_target, err, errlen);
	xfree(buf);
	return rc;
}

/* ---- writing ---------------------------------------------------------- */

/* The reader trims blanks around a value, then drops one pair of
 * surrounding double quotes (value_copy). A value that either would change
 * is written inside quotes, which the reader drops again: "  x" stays "  x", "\"x\"" stays
 * "\"x\"". */
static bool needs_quotes(const char *v, size_t len)
{
	if (!len)
		return false;
	return v[0] == ' ' || v[0] == '\t' || v[len - 1] == ' ' || v[len - 1] == '\t' ||
	       (len >= 2 && v[0] == '"' && v[len - 1] == '"');
}

/* The keys of one scope, "key = value" each; t is NULL for [mirror], where
 * mirror-url is url_target's URL (config_mirror_url_target), or empty. */
static int write_keys(struct strbuf *out, const struct agent_config *cfg,
		      const struct target_config *t, const struct target_config *url_target,
		      const char *section, char *err, size_t errlen)
{
	enum setting_scope scope = t ? SETTING_TARGET : SETTING_AGENT;
	struct strbuf value = STRBUF_INIT;
	int rc = 0;

	for (size_t i = 0; i < settings_count() && rc == 0; i++) {
		const struct setting *s = settings_at(i);
		const char *v;
		char why[300];
		int bad;

		if (s->scope != scope)
			continue;
		strbuf_reset(&value);
		if (s->type == TYPE_MIRROR_URL && url_target)
			strbuf_puts(&value, url_target->url);
		else if (setting_format(s, cfg, t, &value, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "%s key '%s': %s", section, s->name, why);
			rc = -1;
			break;
		}
		v = value.len ? value.data : "";
		/* what the reader refuses in a line (a line break ends the value) */
		bad = control_byte(v, value.len);
		if (bad >= 0) {
			if (bad == '\r' || bad == '\n')
				snprintf(err, errlen, "%s key '%s': value '%.100s' has a line break, "
					 "which an INI file cannot hold", section, s->name, v);
			else
				snprintf(err, errlen, "%s key '%s': value has the control character "
					 "0x%02x, which an INI file cannot hold", section, s->name,
					 (unsigned)bad);
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

int ini_write(const struct agent_config *cfg, struct strbuf *out, char *err, size_t errlen)
{
	const struct target_config *url_target = config_mirror_url_target(cfg);
	struct strbuf text = STRBUF_INIT;
	int rc;

	strbuf_puts(&text, "[mirror]\n");
	rc = write_keys(&text, cfg, NULL, url_target, "[mirror]", err, errlen);
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
		rc = write_keys(&text, cfg, t, NULL, section, err, errlen);
	}
	if (rc == 0)
		strbuf_append(out, text.data, text.len);
	strbuf_free(&text);
	return rc;
}

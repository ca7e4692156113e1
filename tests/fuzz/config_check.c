/* fuzz_config's properties. A file the INI reader refuses gets one
 * printable line "NAME:LINE: key 'K': reason" with LINE inside the file.
 * A file it takes is written out the way --check-config prints it, and
 * that text must read back to the same configuration (every setting of the
 * agent and of each target, the targets' names and order) and write out as
 * the same bytes: operators save --check-config's output and start the
 * agent from it. Leaks are the sanitizer's to find. */
#include "config_check.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "ini.h"
#include "settings.h"
#include "strbuf.h"

#define FILE_NAME "fuzz.ini"

static char reason[1024];

static const char *explain(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static const char *explain(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	return reason;
}

static const char *check_refusal(const char *err, const uint8_t *data, size_t len)
{
	const size_t prefix = strlen(FILE_NAME ":");
	size_t lines = 1, line = 0;
	const char *p;

	for (size_t i = 0; i < len; i++)
		lines += data[i] == '\n';
	for (p = err; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return explain("the refusal is not one printable line: %s", err);
	if (strncmp(err, FILE_NAME ":", prefix))
		return explain("the refusal does not start with the file's name: %s", err);
	for (p = err + prefix; *p >= '0' && *p <= '9' && line <= lines; p++)
		line = line * 10 + (size_t)(*p - '0');
	if (p == err + prefix || strncmp(p, ": key '", 7))
		return explain("the refusal does not name a line and a key: %s", err);
	if (line < 1 || line > lines)
		return explain("the refusal names line %zu of a file of %zu: %s", line, lines, err);
	return NULL;
}

static const char *same_configuration(const struct agent_config *a, const struct agent_config *b)
{
	if (!settings_same(SETTING_AGENT, a, b))
		return "[mirror] reads back with a different value";
	if (a->n_targets != b->n_targets)
		return explain("%zu targets read back as %zu", a->n_targets, b->n_targets);
	for (size_t i = 0; i < a->n_targets; i++) {
		if (strcmp(a->targets[i].name, b->targets[i].name))
			return explain("target %zu '%s' reads back as '%s'", i + 1, a->targets[i].name,
				       b->targets[i].name);
		if (!settings_same(SETTING_TARGET, &a->targets[i], &b->targets[i]))
			return explain("target '%s' reads back with a different value",
				       a->targets[i].name);
	}
	return NULL;
}

const char *config_check(const uint8_t *data, size_t len)
{
	struct agent_config first, second;
	struct strbuf text = STRBUF_INIT, again = STRBUF_INIT;
	char err[600] = "";
	const char *fail = NULL;

	config_init(&first);
	config_init(&second);
	if (ini_load_buffer(FILE_NAME, (const char *)data, len, &first, false, err, sizeof(err)) < 0)
		fail = check_refusal(err, data, len);
	else if (ini_write(&first, &text, err, sizeof(err)) < 0)
		fail = explain("a configuration read from a file cannot be written: %s", err);
	else if (ini_load_buffer("written.ini", text.data, text.len, &second, false, err,
				 sizeof(err)) < 0)
		fail = explain("--check-config's text does not read back: %s", err);
	else if ((fail = same_configuration(&first, &second)) != NULL)
		; /* said */
	else if (ini_write(&second, &again, err, sizeof(err)) < 0)
		fail = explain("the text read back cannot be written: %s", err);
	else if (again.len != text.len || memcmp(again.data, text.data, text.len))
		fail = "the text read back writes out differently";
	strbuf_free(&text);
	strbuf_free(&again);
	config_free(&first);
	config_free(&second);
	return fail;
}

/* Unit tests for the INI writer (ini_write), the proof of --check-config: a
 * configuration written as INI reads back setting for setting (the
 * shipped example, the seed's file, command-line overrides, every target
 * key, and a sweep of every row of the settings table through values at
 * its limits), and values that INI cannot hold are refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "capture.h"
#include "cli.h"
#include "config.h"
#include "ini.h"
#include "settings.h"
#include "spop.h"
#include "strbuf.h"

#define EXAMPLE TOP_SRCDIR "/doc/spoa-mirror.ini.example"
/* the INI block of seed 000, byte for byte (test_ini.c checks the bytes) */
#define SEED TOP_SRCDIR "/tests/fixtures/seed-spoa-mirror.conf"

#define ARGV(...) ((char *[]){ "spoa-mirror", __VA_ARGS__, NULL })
#define ARGC(...) ((int)(sizeof((char *[]){ "spoa-mirror", __VA_ARGS__ }) / sizeof(char *)))
#define PARSE(cfg, err, ...) \
	cli_parse(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), (cfg), (err), sizeof(err))

/* The file as the agent loads it at start (-f FILE). */
static int load_file(const char *path, struct agent_config *cfg, char *err, size_t n)
{
	return ini_load(path, cfg, true, err, n) < 0 ? -1 : settings_validate(cfg, err, n);
}

/* 0 when every setting of the table reads the same in a and b (as text,
 * which is exact: decimals print their shortest exact form), and the
 * targets have the same names; otherwise 1 with the first differing
 * setting in what. */
static int config_diff(const struct agent_config *a, const struct agent_config *b, char *what,
		       size_t n)
{
	struct strbuf x = STRBUF_INIT, y = STRBUF_INIT;
	char why[300];
	int diff = 0;

	if (a->n_targets != b->n_targets) {
		snprintf(what, n, "n_targets");
		return 1;
	}
	for (size_t k = 0; k <= a->n_targets && !diff; k++) {
		const struct target_config *ta = k ? &a->targets[k - 1] : NULL;
		const struct target_config *tb = k ? &b->targets[k - 1] : NULL;

		if (ta && strcmp(ta->name, tb->name)) {
			snprintf(what, n, "targets[%zu].name", k - 1);
			diff = 1;
		}
		for (size_t i = 0; i < settings_count() && !diff; i++) {
			const struct setting *s = settings_at(i);

			if (s->scope != (k ? SETTING_TARGET : SETTING_AGENT))
				continue;
			strbuf_reset(&x);
			strbuf_reset(&y);
			if (setting_format(s, a, ta, &x, why, sizeof(why)) < 0 ||
			    setting_format(s, b, tb, &y, why, sizeof(why)) < 0)
				fail_msg("%s: %s", s->name, why);
			if (x.len != y.len || (x.len && memcmp(x.data, y.data, x.len))) {
				if (k)
					snprintf(what, n, "targets[%zu].%s", k - 1, s->name);
				else
					snprintf(what, n, "%s", s->name);
				diff = 1;
			}
		}
	}
	strbuf_free(&x);
	strbuf_free(&y);
	return diff;
}

/* cfg as INI text; fails the test when it cannot be written. Caller frees. */
static char *dump(const struct agent_config *cfg)
{
	struct strbuf out = STRBUF_INIT;
	char err[512] = "";

	if (ini_write(cfg, &out, err, sizeof(err)) < 0)
		fail_msg("ini_write: %s", err);
	assert_non_null(out.data);
	return out.data;
}

/* Reads text into a fresh configuration, as -f would; fails the test on
 * error. */
static void load_text(const char *text, struct agent_config *cfg)
{
	char err[512] = "";

	config_init(cfg);
	if (ini_load_buffer("dump.ini", text, strlen(text), cfg, true, err, sizeof(err)) < 0)
		fail_msg("the dump does not load: %s\n%s", err, text);
}

static void assert_same_config(const struct agent_config *a, const struct agent_config *b,
			       const char *text)
{
	char what[128] = "";

	if (config_diff(a, b, what, sizeof(what)))
		fail_msg("read back with a different %s from:\n%s", what, text);
}

/* Dumps cfg, reads the dump back, compares every field, and checks that
 * dumping what was read gives the same text. Returns the dump. */
static char *round_trip(const struct agent_config *cfg)
{
	struct agent_config back;
	char *text = dump(cfg), *again;

	load_text(text, &back);
	assert_same_config(cfg, &back, text);
	again = dump(&back);
	assert_string_equal(again, text);
	free(again);
	config_free(&back);
	return text;
}

static bool has_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = text; (p = strstr(p, line)); p++)
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return true;
	return false;
}

static void assert_line(const char *text, const char *line)
{
	if (!has_line(text, line))
		fail_msg("no line '%s' in:\n%s", line, text);
}

static void test_example_file_round_trips_field_by_field(void **state)
{
	struct agent_config cfg;
	char err[512] = "";
	char *text;

	config_init(&cfg);
	if (load_file(EXAMPLE, &cfg, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	text = round_trip(&cfg);
	/* the example's values, in the example's units */
	assert_int_equal(strncmp(text, "[mirror]\n", 9), 0);
	assert_line(text, "max-frame-size = 4m");
	assert_line(text, "idle-timeout = 5m");
	assert_line(text, "queue-max-bytes = 32m");
	assert_line(text, "capabilities = pipelining, async, fragmentation");
	assert_line(text, "messages = mirror-request, mirror");
	assert_line(text, "mirror-url = http://shadow.example.internal:8080");
	assert_line(text, "mirror-headers = X-Mirror: true, X-Shadow-Version: v2");
	assert_line(text, "metrics =");
	assert_line(text, "[target v2-canary]");
	assert_line(text, "url = http://canary.example.internal:8081/shadow");
	assert_line(text, "connect-timeout = 1s");
	assert_line(text, "sample = 100");
	/* mirror-url's target is [mirror]'s, not a section of its own */
	assert_null(strstr(text, "[target default]"));
	free(text);
	config_free(&cfg);
}

static void test_seed_file_round_trips_field_by_field(void **state)
{
	struct agent_config cfg, back;
	char err[512] = "";
	char *text;

	config_init(&cfg);
	if (load_file(SEED, &cfg, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	text = round_trip(&cfg);
	load_text(text, &back);
	/* the seed's one target stays the mirror-url target, headers included */
	assert_int_equal(back.n_targets, 1);
	assert_string_equal(back.targets[0].name, "default");
	assert_true(back.targets[0].from_mirror_url);
	assert_int_equal(back.targets[0].n_add_headers, 2);
	assert_string_equal(back.targets[0].add_headers[1].value, "v2");
	assert_line(text, "mirror-url = http://shadow-api-v2.internal:8080");
	assert_line(text, "log-level = info");
	config_free(&back);
	free(text);
	config_free(&cfg);
}

/* Everything the command line can change on top of the example file. */
static void test_command_line_overrides_round_trip_through_the_file(void **state)
{
	struct agent_config cfg, back;
	char err[512] = "";
	char *text, *path;

	config_init(&cfg);
	if (PARSE(&cfg, err, "-f", EXAMPLE, "-u", "http://one:81/a", "-u", "https://two:8443",
		  "--mirror-header", "X-Mirror: cli", "--mirror-header",
		  "Accept: text/html, X-Not: a header\\, c:\\d\\", "-n", "3", "--queue-max-bytes",
		  "8m", "--queue-max-entries", "77", "-p", "4000", "-a", "127.0.0.1", "-b", "64",
		  "-c", "async", "-m", "65536", "--reassembly-max", "1536", "--max-connections",
		  "9", "--idle-timeout", "1500ms", "--drain-timeout", "0", "--message", "m1",
		  "--message", "m2", "-t", "1us", "-B", "poll", "-I", "lo", "-P", "40000-40100",
		  "--metrics", "127.0.0.1:9100", "--log-level", "debug", "-l", "w:/tmp/spoa.log",
		  "--access-log", "-i", "2m", "-r", "1d", "-F", "  /run/spoa mirror.pid "),
		  CLI_RUN)
		fail_msg("%s", err);
	text = round_trip(&cfg);
	assert_line(text, "workers = 3");
	assert_line(text, "queue-max-bytes = 8m");
	assert_line(text, "queue-max-entries = 77");
	assert_line(text, "reassembly-max = 1536");
	assert_line(text, "max-frame-size = 64k");
	assert_line(text, "idle-timeout = 1500ms");
	assert_line(text, "drain-timeout = 0");
	assert_line(text, "processing-delay = 1ms");
	assert_line(text, "runtime = 1d");
	assert_line(text, "capabilities = async");
	assert_line(text, "messages = m1, m2");
	assert_line(text, "access-log = yes");
	assert_line(text, "libev-backend = poll");
	assert_line(text, "pidfile = \"  /run/spoa mirror.pid \"");
	/* -u replaced the file's mirror-url; each -u is a section of its own
	 * with the mirror headers; the file's [target] section stays */
	assert_line(text, "mirror-url =");
	assert_line(text, "mirror-headers = X-Mirror: cli, "
			  "Accept: text/html\\, X-Not: a header\\\\\\, c:\\\\d\\\\");
	assert_line(text, "[target v2-canary]");
	assert_line(text, "[target u1]");
	assert_line(text, "url = http://one:81/a");
	assert_line(text, "[target u2]");
	assert_line(text, "url = https://two:8443");
	assert_non_null(strstr(text, "[target u2]\nurl = https://two:8443\n"));
	assert_true(strstr(text, "[target v2-canary]") < strstr(text, "[target u1]"));

	/* and fed back with -f, as an operator would */
	path = temp_file_with(text);
	assert_non_null(path);
	config_init(&back);
	if (PARSE(&back, err, "-f", path) != CLI_RUN)
		fail_msg("%s", err);
	assert_same_config(&cfg, &back, text);
	assert_int_equal(back.n_targets, 3);
	assert_string_equal(back.mirror_headers[1].value,
			    "text/html, X-Not: a header\\, c:\\d\\");
	assert_string_equal(back.targets[2].add_headers[1].value,
			    "text/html, X-Not: a header\\, c:\\d\\");
	config_free(&back);
	unlink(path);
	free(path);
	free(text);
	config_free(&cfg);
}

static void test_every_target_key_round_trips_with_values_off_default(void **state)
{
	char *ca = temp_file_with("not really a CA bundle\n");
	struct agent_config cfg;
	char text[2048], err[512] = "", want[600];
	char *out;

	assert_non_null(ca);
	snprintf(text, sizeof(text),
		 "[target shadow_1.v2]\n"
		 "url = https://shadow:8443/prefix/\n"
		 "sample = 0.3\n"
		 "sample-key = header:X-User-Id\n"
		 "timeout = 2.5s\n"
		 "connect-timeout = 300\n"
		 "add-headers = X-Mirror: yes, Accept: a/b, c/d, X-Empty:\n"
		 "remove-headers = Authorization, Cookie\n"
		 "host = client\n"
		 "send-body = off\n"
		 "send-headers = 0\n"
		 "replay-truncated = YES\n"
		 "max-inflight = 0\n"
		 "rate-limit = 123456.789\n"
		 "http2 = on\n"
		 "tls-verify = false\n"
		 "ca-file = %s\n"
		 "[target c]\n"
		 "url = http://c:1\n"
		 "sample = 12.5%%\n"
		 "sample-key = cookie:sid\n"
		 "[target d]\n"
		 "url = http://d:1\n"
		 "sample = 0.000000000000001\n"
		 "sample-key = client\n",
		 ca);
	config_init(&cfg);
	if (ini_load_buffer("t.ini", text, strlen(text), &cfg, true, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	out = round_trip(&cfg);
	assert_line(out, "mirror-url =");
	assert_line(out, "sample = 0.3");
	assert_line(out, "sample-key = header:X-User-Id");
	assert_line(out, "timeout = 2500ms");
	assert_line(out, "connect-timeout = 300ms");
	assert_line(out, "add-headers = X-Mirror: yes, Accept: a/b\\, c/d, X-Empty:");
	assert_line(out, "remove-headers = Authorization, Cookie");
	assert_line(out, "host = client");
	assert_line(out, "send-body = no");
	assert_line(out, "replay-truncated = yes");
	assert_line(out, "max-inflight = 0");
	assert_line(out, "rate-limit = 123456.789");
	assert_line(out, "http2 = yes");
	assert_line(out, "tls-verify = no");
	snprintf(want, sizeof(want), "ca-file = %s", ca);
	assert_line(out, want);
	assert_line(out, "sample = 12.5");
	assert_line(out, "sample-key = cookie:sid");
	assert_line(out, "sample = 0.000000000000001");
	assert_line(out, "sample-key = client");
	free(out);
	config_free(&cfg);
	unlink(ca);
	free(ca);
}

/* The target "default" comes first when read back, so when it is not
 * first it is written as a section, keeping the order of the targets. */
static void test_mirror_url_target_after_a_section_keeps_its_place(void **state)
{
	static const char text[] = "[target a]\nurl = http://a:1\n"
				   "[mirror]\nmirror-url = http://b:2\nmirror-headers = X-M: 1\n";
	struct agent_config cfg;
	char err[512] = "";
	char *out;

	config_init(&cfg);
	if (ini_load_buffer("t.ini", text, sizeof(text) - 1, &cfg, true, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	assert_string_equal(cfg.targets[1].name, "default");
	out = round_trip(&cfg);
	assert_line(out, "mirror-url =");
	assert_line(out, "mirror-headers = X-M: 1");
	assert_non_null(strstr(out, "\n[target a]\nurl = http://a:1\n"));
	assert_non_null(strstr(out, "\n[target default]\nurl = http://b:2\n"));
	assert_line(out, "add-headers = X-M: 1");
	assert_true(strstr(out, "[target a]") < strstr(out, "[target default]"));
	free(out);
	config_free(&cfg);
}

/* mirror-url makes a target with nothing of its own; one that has more
 * is written as a section, so nothing is lost. */
static void test_mirror_url_target_with_own_settings_gets_a_section(void **state)
{
	struct agent_config cfg;
	char err[512] = "";
	char *out;

	config_init(&cfg);
	if (load_file(SEED, &cfg, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	cfg.targets[0].timeout_ms = 1234;
	out = round_trip(&cfg);
	assert_line(out, "mirror-url =");
	assert_non_null(
		strstr(out, "\n[target default]\nurl = http://shadow-api-v2.internal:8080\n"));
	assert_line(out, "timeout = 1234ms");
	assert_line(out, "add-headers = X-Mirror: true, X-Shadow-Version: v2");
	free(out);
	config_free(&cfg);
}

static void test_values_ini_would_trim_or_unquote_are_quoted(void **state)
{
	static const char *const values[] = { " lead", "trail\t", "\"quoted\"", "\"", "\"\"",
					      "a \"b\" c", "x=y#z;w" };

	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		struct agent_config cfg, back;
		char *text;

		config_init(&cfg);
		config_add_target(&cfg, "t", "http://t:1");
		cfg.pidfile = strdup(values[i]);
		text = round_trip(&cfg);
		load_text(text, &back);
		assert_string_equal(back.pidfile, values[i]);
		config_free(&back);
		free(text);
		config_free(&cfg);
	}
}

/* An INI value ends at the line's end: a value holding a line break
 * cannot be written, and nothing half-written comes out. */
static void test_value_with_line_break_refused(void **state)
{
	static const char *const values[] = { "/run/a\nb.pid", "/run/a\rb.pid", "\n" };

	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		struct agent_config cfg;
		struct strbuf out = STRBUF_INIT;
		char err[512] = "";

		config_init(&cfg);
		config_add_target(&cfg, "t", "http://t:1");
		cfg.pidfile = strdup(values[i]);
		strbuf_puts(&out, "before");
		assert_int_equal(ini_write(&cfg, &out, err, sizeof(err)), -1);
		assert_string_equal(out.data, "before");
		assert_non_null(strstr(err, "[mirror] key 'pidfile': value '"));
		assert_non_null(strstr(err, "has a line break, which an INI file cannot hold"));
		strbuf_free(&out);
		config_free(&cfg);
	}
}

/* The reader refuses a line holding a control character (ini.c), so the
 * writer must not write one: the text would not read back. */
static void test_value_with_control_character_refused(void **state)
{
	struct agent_config cfg;
	struct strbuf out = STRBUF_INIT;
	char err[512] = "";

	config_init(&cfg);
	config_add_target(&cfg, "t", "http://t:1");
	cfg.pidfile = strdup("/run/a\x01.pid");
	assert_int_equal(ini_write(&cfg, &out, err, sizeof(err)), -1);
	assert_null(out.data);
	assert_string_equal(err, "[mirror] key 'pidfile': value has the control character 0x01, "
				 "which an INI file cannot hold");
	strbuf_free(&out);
	config_free(&cfg);
}

static void test_check_config_with_line_break_fails_with_one_line(void **state)
{
	struct agent_config cfg;
	struct capture cap;
	char err[512] = "";
	char *out;
	int rc;

	config_init(&cfg);
	capture_begin(&cap);
	rc = PARSE(&cfg, err, "--check-config", "-u", "http://a:1", "-I", "eth0\nport=1");
	out = capture_end(&cap);
	assert_int_equal(rc, CLI_ERROR);
	assert_string_equal(out, "");
	assert_string_equal(err, "--check-config: cannot write the configuration: [mirror] key "
				 "'mirror-interface': value 'eth0?port=1' has a line break, "
				 "which an INI file cannot hold");
	free(out);
	config_free(&cfg);
}

/* What no exact text exists for is refused. */
static void test_value_without_exact_text_refused(void **state)
{
	struct agent_config cfg;
	struct target_config *t;
	struct strbuf out = STRBUF_INIT;
	char err[512] = "";

	config_init(&cfg);
	t = config_add_target(&cfg, "t", "http://t:1");
	/* 17 significant digits: more than the parser's 15 decimals can reach */
	t->sample_percent = 0.5000000000000001;
	assert_int_equal(ini_write(&cfg, &out, err, sizeof(err)), -1);
	assert_int_equal(out.len, 0);
	assert_string_equal(err, "[target t] key 'sample': 0.50000000000000011 has no exact "
				 "decimal form this setting reads");

	strbuf_free(&out);
	config_free(&cfg);
}

/* Values for every row of the table, at its limits and in between:
 * a setting added without values here fails the sweep. */
static const struct {
	const char *key;
	const char *values[6];
} samples[] = {
	{ "address", { "127.0.0.1", "::", "\"x\"" } },
	{ "port", { "1", "65535", "8080" } },
	{ "socket-mode", { "0", "0660", "0777", "600" } },
	{ "socket-owner", { "", "root", "0:0", ":0" } },
	{ "backlog", { "1", "65535" } },
	{ "capabilities", { "async", "fragmentation, pipelining", "PIPELINING" } },
	{ "max-frame-size", { "256", "1g", "65536", "1.5k" } },
	{ "reassembly-max", { "0", "256", "1g", "3m" } },
	{ "spop-memory-max", { "0", "256", "64g", "96m" } },
	{ "frame-timeout", { "0", "1us", "1500ms", "5s", "4294967295" } },
	{ "max-connections", { "1", "1000000" } }, /* [mirror] and [target] */
	{ "idle-timeout", { "0", "1us", "1500ms", "2.5s", "49d", "4294967295" } },
	{ "messages", { "a", "a, b,c", "m-1" } },
	{ "processing-delay", { "0", "7", "1h" } },
	{ "libev-backend", { "", "auto", "poll", "select", "epoll" } },
	{ "workers", { "1", "256" } },
	{ "queue-max-entries", { "1", "100000000" } },
	{ "queue-max-bytes", { "1024", "1g", "1025" } },
	{ "drain-timeout", { "0", "61s" } },
	{ "mirror-url", { "", "http://a:1", "https://[::1]:8443/p/" } },
	{ "mirror-headers", { "", "A: 1", "A: x\\, y, B:", "C: a\\\\b" } },
	{ "mirror-interface", { "", "eth0", "host!x" } },
	{ "mirror-local-port", { "", "1", "40000-40100" } },
	{ "metrics", { "", "off", ":9100", "[::1]:1" } },
	{ "log-level", { "error", "warn", "warning", "info", "debug" } },
	{ "logfile", { "", "/x", "w:/x", "A:x" } },
	{ "access-log", { "yes", "off" } },
	{ "monitor-interval", { "1us", "1d" } },
	{ "runtime", { "0", "1ms" } },
	{ "pidfile", { "", " p ", "/run/p" } },
	{ "url", { "http://h", "https://h:1/a/b/" } },
	{ "sample", { "0", "100", "0.1", "12.5%", "0.000000000000001", "99.999999999999986" } },
	{ "sample-key", { "random", "client", "header:X-A", "cookie:s" } },
	{ "timeout", { "1us", "49d" } },
	{ "connect-timeout", { "1", "3s" } },
	{ "add-headers", { "", "A: 1, B: 2", "X: a\\, b" } },
	{ "remove-headers", { "", "A", "A, B-c" } },
	{ "host", { "target", "client" } },
	{ "send-body", { "no", "1" } },
	{ "send-headers", { "false", "on" } },
	{ "replay-truncated", { "yes", "0" } },
	{ "max-inflight", { "0", "1000000" } },
	{ "rate-limit", { "0", "1000000000", "0.5", "123456.789" } },
	{ "http2", { "yes", "no" } },
	{ "tls-verify", { "no", "yes" } },
	{ "ca-file", { "", "/dev/null" } },
	{ "response-messages", { "a", "mirror-response, r2" } },
	{ "join-max-entries", { "1", "10000000" } },
	{ "join-max-bytes", { "64k", "1g", "65537" } },
	{ "compare-capture-max", { "64k", "1g", "1000000" } },
	{ "join-timeout", { "1ms", "10s", "1h" } },
	{ "diff-log", { "", "/x", "w:/x" } },
	{ "diff-log-bodies", { "yes", "no" } },
	{ "diff-log-rate", { "0", "10", "0.5", "1000000" } },
	{ "compare", { "off", "status", "headers", "BODY" } },
	{ "compare-ignore-headers", { "", "X-Req", "A, B-c" } },
	{ "compare-ignore-json", { "", "/meta/at", "/items/*/u, /a~1b" } },
	{ "compare-body-max", { "0", "1m", "1g", "4097" } },
};

/* The proof --check-config relies on: for every row of the table and each
 * of its sample values, the dump reads back as the same configuration,
 * and dumping that gives the same text. */
static void test_every_setting_round_trips_at_its_limits(void **state)
{
	size_t swept = 0;

	for (size_t i = 0; i < settings_count(); i++) {
		const struct setting *s = settings_at(i);
		size_t k;

		if (s->scope == SETTING_CLI)
			continue;
		for (k = 0; k < sizeof(samples) / sizeof(samples[0]); k++)
			if (!strcmp(samples[k].key, s->name))
				break;
		if (k == sizeof(samples) / sizeof(samples[0]))
			fail_msg("setting '%s' has no sample values in %s", s->name, __FILE__);
		for (size_t v = 0; v < 6 && samples[k].values[v]; v++) {
			struct agent_config cfg;
			struct target_config *t;
			char why[300];
			char *text;

			config_init(&cfg);
			t = config_add_target(&cfg, "t", "http://t:1");
			if (config_apply(s, &cfg, t, samples[k].values[v], false, "sweep", why,
					 sizeof(why)) < 0)
				fail_msg("%s = %s: %s", s->name, samples[k].values[v], why);
			free(round_trip(&cfg));
			swept++;
			/* and once more, appended to itself where it is a list */
			if (setting_is_list(s) &&
			    config_apply(s, &cfg, t, samples[k].values[v], true, "sweep", why,
					 sizeof(why)) == 0) {
				text = round_trip(&cfg);
				free(text);
			}
			config_free(&cfg);
		}
	}
	assert_true(swept > 100);
}

/* Each row's default is what config_init() stores, and the table holds it
 * in the form --check-config writes (so the table, --help and the dump say
 * the same thing); a row without one is zero, empty or off. */
static void test_every_default_is_stored_and_written_as_the_table_holds_it(void **state)
{
	struct agent_config cfg;
	struct target_config *t;
	size_t with_default = 0;

	config_init(&cfg);
	t = config_add_target(&cfg, "t", NULL);
	for (size_t i = 0; i < settings_count(); i++) {
		const struct setting *s = settings_at(i);
		struct strbuf text = STRBUF_INIT;
		char why[300];

		if (s->scope == SETTING_CLI || s->type == TYPE_MIRROR_URL)
			continue;
		if (setting_format(s, &cfg, t, &text, why, sizeof(why)) < 0)
			fail_msg("%s: %s", s->name, why);
		if (s->dflt) {
			with_default++;
			if (strcmp(text.data ? text.data : "", s->dflt))
				fail_msg("%s: the table says '%s', config_init() stored '%s'", s->name,
					 s->dflt, text.data ? text.data : "");
		} else if (text.len && strcmp(text.data, "0") && strcmp(text.data, "no")) {
			fail_msg("%s: no default in the table, yet '%s'", s->name, text.data);
		}
		strbuf_free(&text);
	}
	assert_true(with_default > 40);
	assert_string_equal(cfg.address, "0.0.0.0");
	assert_int_equal(cfg.queue_max_bytes, 32u << 20);
	assert_int_equal(t->timeout_ms, 5000);
	assert_true(t->send_body && t->tls_verify && !t->http2);
	config_free(&cfg);
}

/* The comparison notices a change in each setting. */
static void test_config_diff_names_each_changed_setting(void **state)
{
	struct agent_config a, b;
	char err[512] = "", what[128];

	config_init(&a);
	config_init(&b);
	if (load_file(EXAMPLE, &a, err, sizeof(err)) < 0 ||
	    load_file(EXAMPLE, &b, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	assert_int_equal(config_diff(&a, &b, what, sizeof(what)), 0);
	b.queue_max_bytes++;
	assert_int_equal(config_diff(&a, &b, what, sizeof(what)), 1);
	assert_string_equal(what, "queue-max-bytes");
	b.queue_max_bytes--;
	b.targets[1].rate_limit = 0.25;
	assert_int_equal(config_diff(&a, &b, what, sizeof(what)), 1);
	assert_string_equal(what, "targets[1].rate-limit");
	b.targets[1].rate_limit = 0;
	b.targets[1].sample_percent = 99.99999999999999;
	assert_int_equal(config_diff(&a, &b, what, sizeof(what)), 1);
	assert_string_equal(what, "targets[1].sample");
	config_free(&a);
	config_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_example_file_round_trips_field_by_field),
		cmocka_unit_test(test_seed_file_round_trips_field_by_field),
		cmocka_unit_test(test_command_line_overrides_round_trip_through_the_file),
		cmocka_unit_test(test_every_target_key_round_trips_with_values_off_default),
		cmocka_unit_test(test_mirror_url_target_after_a_section_keeps_its_place),
		cmocka_unit_test(test_mirror_url_target_with_own_settings_gets_a_section),
		cmocka_unit_test(test_values_ini_would_trim_or_unquote_are_quoted),
		cmocka_unit_test(test_value_with_line_break_refused),
		cmocka_unit_test(test_value_with_control_character_refused),
		cmocka_unit_test(test_check_config_with_line_break_fails_with_one_line),
		cmocka_unit_test(test_value_without_exact_text_refused),
		cmocka_unit_test(test_every_setting_round_trips_at_its_limits),
		cmocka_unit_test(test_every_default_is_stored_and_written_as_the_table_holds_it),
		cmocka_unit_test(test_config_diff_names_each_changed_setting),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

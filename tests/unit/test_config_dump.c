/* Unit tests for src/config_dump.c and src/config_compare.c: a
 * configuration written as INI reads back field for field (the shipped
 * example, the seed's file, command-line overrides, every target key),
 * values that INI cannot hold are refused, and the comparison notices
 * every field. */
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
#include "config_compare.h"
#include "config_dump.h"
#include "ini.h"
#include "spop.h"
#include "strbuf.h"

#define EXAMPLE TOP_SRCDIR "/doc/spoa-mirror.ini.example"
/* the INI block of seed 000, byte for byte (test_ini.c checks the bytes) */
#define SEED TOP_SRCDIR "/tests/fixtures/seed-spoa-mirror.conf"

#define ARGV(...) ((char *[]){ "spoa-mirror", __VA_ARGS__, NULL })
#define ARGC(...) ((int)(sizeof((char *[]){ "spoa-mirror", __VA_ARGS__ }) / sizeof(char *)))
#define PARSE(cfg, err, ...) \
	cli_parse(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), (cfg), (err), sizeof(err))

/* cfg as INI text; fails the test when it cannot be written. Caller frees. */
static char *dump(const struct agent_config *cfg)
{
	struct strbuf out = STRBUF_INIT;
	char err[512] = "";

	if (config_dump_ini(cfg, &out, err, sizeof(err)) < 0)
		fail_msg("config_dump_ini: %s", err);
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
	if (config_load_file(EXAMPLE, &cfg, err, sizeof(err)) < 0)
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
	if (config_load_file(SEED, &cfg, err, sizeof(err)) < 0)
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
	if (config_load_file(SEED, &cfg, err, sizeof(err)) < 0)
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
		assert_int_equal(config_dump_ini(&cfg, &out, err, sizeof(err)), -1);
		assert_string_equal(out.data, "before");
		assert_non_null(strstr(err, "[mirror] key 'pidfile': value '"));
		assert_non_null(strstr(err, "has a line break, which an INI file cannot hold"));
		strbuf_free(&out);
		config_free(&cfg);
	}
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

/* What no exact text exists for is refused, and so is text that would
 * read back as something else: the dump proves itself by reading back. */
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
	assert_int_equal(config_dump_ini(&cfg, &out, err, sizeof(err)), -1);
	assert_int_equal(out.len, 0);
	assert_string_equal(err, "[target t] key 'sample': 0.50000000000000011 has no exact "
				 "decimal form this setting reads");
	t->sample_percent = 50;

	/* no message names: "messages =" would not read back */
	for (size_t i = 0; i < cfg.n_message_names; i++)
		free(cfg.message_names[i]);
	cfg.n_message_names = 0;
	assert_int_equal(config_dump_ini(&cfg, &out, err, sizeof(err)), -1);
	assert_int_equal(out.len, 0);
	assert_non_null(strstr(err, "the written configuration does not read back: (written "
				    "configuration):"));
	assert_non_null(strstr(err, "key 'messages'"));

	/* a target name no section header can hold */
	cfg.n_message_names = 1;
	cfg.message_names[0] = strdup("m");
	free(t->name);
	t->name = strdup("bad name");
	assert_int_equal(config_dump_ini(&cfg, &out, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "target name 'bad name' must be"));
	strbuf_free(&out);
	config_free(&cfg);
}

/* b differs from a in `field` (and, the changes being undone one by one,
 * in no field before it). */
static void expect_diff_in(const struct agent_config *a, const struct agent_config *b,
			   const char *field)
{
	char what[128] = "";

	assert_int_equal(config_diff(a, b, what, sizeof(what)), 1);
	assert_string_equal(what, field);
}

/* The comparison notices a change in each compared field, and ignores
 * only where values came from. */
static void test_config_diff_names_each_changed_field(void **state)
{
	struct agent_config a, b;
	struct target_config *t;
	char err[512] = "", what[128];

	config_init(&a);
	config_init(&b);
	if (config_load_file(EXAMPLE, &a, err, sizeof(err)) < 0 ||
	    config_load_file(EXAMPLE, &b, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	assert_int_equal(config_diff(&a, &b, what, sizeof(what)), 0);
	t = &b.targets[1];

	b.address[0] = '1';
	expect_diff_in(&a, &b, "address");
	b.address[0] = '0';
	b.port++;
	expect_diff_in(&a, &b, "port");
	b.port--;
	b.backlog++;
	expect_diff_in(&a, &b, "backlog");
	b.backlog--;
	b.caps ^= SPOP_CAP_ASYNC;
	expect_diff_in(&a, &b, "caps");
	b.caps ^= SPOP_CAP_ASYNC;
	b.max_frame_size++;
	expect_diff_in(&a, &b, "max_frame_size");
	b.max_frame_size--;
	b.reassembly_max++;
	expect_diff_in(&a, &b, "reassembly_max");
	b.reassembly_max--;
	b.max_connections++;
	expect_diff_in(&a, &b, "max_connections");
	b.max_connections--;
	b.idle_timeout_ms++;
	expect_diff_in(&a, &b, "idle_timeout_ms");
	b.idle_timeout_ms--;
	b.libev_backend = "poll";
	expect_diff_in(&a, &b, "libev_backend");
	b.libev_backend = NULL;
	b.processing_delay_ms++;
	expect_diff_in(&a, &b, "processing_delay_ms");
	b.processing_delay_ms--;
	b.n_message_names--;
	expect_diff_in(&a, &b, "message_names");
	b.n_message_names++;
	b.message_names[1][0] = 'M';
	expect_diff_in(&a, &b, "message_names");
	b.message_names[1][0] = 'm';
	b.num_workers++;
	expect_diff_in(&a, &b, "num_workers");
	b.num_workers--;
	b.queue_max_entries++;
	expect_diff_in(&a, &b, "queue_max_entries");
	b.queue_max_entries--;
	b.queue_max_bytes++;
	expect_diff_in(&a, &b, "queue_max_bytes");
	b.queue_max_bytes--;
	b.drain_timeout_ms++;
	expect_diff_in(&a, &b, "drain_timeout_ms");
	b.drain_timeout_ms--;
	b.mirror_interface = "";
	expect_diff_in(&a, &b, "mirror_interface");
	b.mirror_interface = NULL;
	b.mirror_local_port = "1";
	expect_diff_in(&a, &b, "mirror_local_port");
	b.mirror_local_port = NULL;
	b.n_targets--;
	expect_diff_in(&a, &b, "n_targets");
	b.n_targets++;
	b.mirror_headers[0].value[0] = 'T';
	expect_diff_in(&a, &b, "mirror_headers");
	b.mirror_headers[0].value[0] = 't';
	b.mirror_headers[1].name[0] = 'x';
	expect_diff_in(&a, &b, "mirror_headers");
	b.mirror_headers[1].name[0] = 'X';
	b.metrics_address = ":1";
	expect_diff_in(&a, &b, "metrics_address");
	b.metrics_address = NULL;
	b.log_level = LOG_LVL_DEBUG;
	expect_diff_in(&a, &b, "log_level");
	b.log_level = LOG_LVL_INFO;
	b.logfile = "x";
	expect_diff_in(&a, &b, "logfile");
	b.logfile = NULL;
	b.access_log = true;
	expect_diff_in(&a, &b, "access_log");
	b.access_log = false;
	b.monitor_interval_ms++;
	expect_diff_in(&a, &b, "monitor_interval_ms");
	b.monitor_interval_ms--;
	b.runtime_ms++;
	expect_diff_in(&a, &b, "runtime_ms");
	b.runtime_ms--;
	b.pidfile = "p";
	expect_diff_in(&a, &b, "pidfile");
	b.pidfile = NULL;
	t->name[0] = 'V';
	expect_diff_in(&a, &b, "targets[1].name");
	t->name[0] = 'v';
	t->url[0] = 'H';
	expect_diff_in(&a, &b, "targets[1].url");
	t->url[0] = 'h';
	t->sample_percent = 99.99999999999999;
	expect_diff_in(&a, &b, "targets[1].sample_percent");
	t->sample_percent = 100;
	t->sample_key = SAMPLE_KEY_CLIENT;
	expect_diff_in(&a, &b, "targets[1].sample_key");
	t->sample_key = SAMPLE_KEY_RANDOM;
	t->sample_key_name = "";
	expect_diff_in(&a, &b, "targets[1].sample_key_name");
	t->sample_key_name = NULL;
	t->timeout_ms++;
	expect_diff_in(&a, &b, "targets[1].timeout_ms");
	t->timeout_ms--;
	t->connect_timeout_ms++;
	expect_diff_in(&a, &b, "targets[1].connect_timeout_ms");
	t->connect_timeout_ms--;
	b.targets[0].n_add_headers--;
	expect_diff_in(&a, &b, "targets[0].add_headers");
	b.targets[0].n_add_headers++;
	t->n_remove_headers++;
	expect_diff_in(&a, &b, "targets[1].remove_headers");
	t->n_remove_headers--;
	t->host_policy = HOST_FROM_CLIENT;
	expect_diff_in(&a, &b, "targets[1].host_policy");
	t->host_policy = HOST_FROM_TARGET;
	t->send_body = false;
	expect_diff_in(&a, &b, "targets[1].send_body");
	t->send_body = true;
	t->send_headers = false;
	expect_diff_in(&a, &b, "targets[1].send_headers");
	t->send_headers = true;
	t->replay_truncated = true;
	expect_diff_in(&a, &b, "targets[1].replay_truncated");
	t->replay_truncated = false;
	t->max_inflight++;
	expect_diff_in(&a, &b, "targets[1].max_inflight");
	t->max_inflight--;
	t->rate_limit = 1e-300;
	expect_diff_in(&a, &b, "targets[1].rate_limit");
	t->rate_limit = 0;
	t->http2 = true;
	expect_diff_in(&a, &b, "targets[1].http2");
	t->http2 = false;
	t->tls_verify = false;
	expect_diff_in(&a, &b, "targets[1].tls_verify");
	t->tls_verify = true;
	t->ca_file = "/ca";
	expect_diff_in(&a, &b, "targets[1].ca_file");
	t->ca_file = NULL;
	assert_int_equal(config_diff(&a, &b, what, sizeof(what)), 0);

	/* where values came from is not configuration */
	b.daemonize = true;
	b.check_only = true;
	free(b.config_file);
	b.config_file = NULL;
	b.targets[1].from_mirror_url = true;
	free(b.targets[1].origin);
	b.targets[1].origin = NULL;
	assert_int_equal(config_diff(&a, &b, what, sizeof(what)), 0);
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
		cmocka_unit_test(test_check_config_with_line_break_fails_with_one_line),
		cmocka_unit_test(test_value_without_exact_text_refused),
		cmocka_unit_test(test_config_diff_names_each_changed_field),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for src/ini.c: the seed's file, the shipped example, every
 * target key, and the exact one-line message of every configuration
 * error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "capture.h"
#include "config.h"
#include "ini.h"
#include "settings.h"
#include "spop.h"
#include "target.h"

/* The INI block of seed 000 (REQUEST_MIRRORING guide), byte for byte. */
static const char seed_conf[] = "# spoa-mirror.conf (f\xc3\xbcr spoa-mirror binary)\n"
				"[mirror]\n"
				"# Shadow Backend URL\n"
				"mirror-url = http://shadow-api-v2.internal:8080\n"
				"\n"
				"# Custom Headers f\xc3\xbcr gespiegelte Requests\n"
				"mirror-headers = X-Mirror: true, X-Shadow-Version: v2\n"
				"\n"
				"# Logging\n"
				"log-level = info\n";

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (!f)
		fail_msg("cannot open %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* The file as the agent loads it at start (-f FILE). */
static int load_file(const char *path, struct agent_config *cfg, char *err, size_t n)
{
	return ini_load(path, cfg, true, err, n) < 0 ? -1 : settings_validate(cfg, err, n);
}

static void check_seed_config(const struct agent_config *cfg)
{
	assert_int_equal(cfg->n_targets, 1);
	assert_string_equal(cfg->targets[0].name, "default");
	assert_string_equal(cfg->targets[0].url, "http://shadow-api-v2.internal:8080");
	assert_int_equal(cfg->targets[0].n_add_headers, 2);
	assert_string_equal(cfg->targets[0].add_headers[0].name, "X-Mirror");
	assert_string_equal(cfg->targets[0].add_headers[0].value, "true");
	assert_string_equal(cfg->targets[0].add_headers[1].name, "X-Shadow-Version");
	assert_string_equal(cfg->targets[0].add_headers[1].value, "v2");
	assert_int_equal(cfg->log_level, LOG_LVL_INFO);
	assert_true(cfg->targets[0].sample_percent == 100.0);
}

static void test_seed_file_loads_as_written(void **state)
{
	const char *path = TOP_SRCDIR "/tests/fixtures/seed-spoa-mirror.conf";
	struct agent_config cfg;
	char err[512] = "";
	size_t len;
	char *text = read_file(path, &len);

	/* the fixture is still the seed's bytes */
	assert_int_equal(len, sizeof(seed_conf) - 1);
	assert_memory_equal(text, seed_conf, len);
	free(text);

	config_init(&cfg);
	if (load_file(path, &cfg, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	check_seed_config(&cfg);
	config_free(&cfg);
}

static void test_seed_four_line_form_loads(void **state)
{
	static const char text[] = "[mirror]\n"
				   "mirror-url = http://shadow-api-v2.internal:8080\n"
				   "mirror-headers = X-Mirror: true, X-Shadow-Version: v2\n"
				   "log-level = info\n";
	struct agent_config cfg;
	char err[512] = "";

	config_init(&cfg);
	assert_int_equal(ini_load_buffer("s.ini", text, sizeof(text) - 1, &cfg, true, err,
					 sizeof(err)),
			 0);
	check_seed_config(&cfg);
	config_free(&cfg);
}

static void test_example_file_sets_every_key_to_its_default(void **state)
{
	const char *path = TOP_SRCDIR "/doc/spoa-mirror.ini.example";
	struct agent_config cfg, def;
	struct target_config tdef;
	const struct target_config *t;
	char err[512] = "";

	config_init(&cfg);
	config_init(&def);
	target_config_init(&tdef);
	if (load_file(path, &cfg, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	assert_string_equal(cfg.address, def.address);
	assert_int_equal(cfg.port, def.port);
	assert_int_equal(cfg.backlog, def.backlog);
	assert_int_equal(cfg.caps, def.caps);
	assert_int_equal(cfg.max_frame_size, def.max_frame_size);
	assert_int_equal(cfg.reassembly_max, def.reassembly_max);
	assert_int_equal(cfg.max_connections, def.max_connections);
	assert_int_equal(cfg.idle_timeout_ms, def.idle_timeout_ms);
	assert_null(cfg.libev_backend);
	assert_int_equal(cfg.processing_delay_ms, def.processing_delay_ms);
	assert_int_equal(cfg.n_message_names, def.n_message_names);
	for (size_t i = 0; i < def.n_message_names; i++)
		assert_string_equal(cfg.message_names[i], def.message_names[i]);
	assert_int_equal(cfg.num_workers, def.num_workers);
	assert_int_equal(cfg.queue_max_entries, def.queue_max_entries);
	assert_int_equal(cfg.queue_max_bytes, def.queue_max_bytes);
	assert_int_equal(cfg.drain_timeout_ms, def.drain_timeout_ms);
	assert_null(cfg.mirror_interface);
	assert_int_equal(cfg.mirror_local_port.low, 0);
	assert_null(cfg.metrics_address);
	assert_int_equal(cfg.log_level, def.log_level);
	assert_null(cfg.logfile);
	assert_int_equal(cfg.access_log, def.access_log);
	assert_int_equal(cfg.monitor_interval_ms, def.monitor_interval_ms);
	assert_int_equal(cfg.runtime_ms, def.runtime_ms);
	assert_null(cfg.pidfile);

	assert_int_equal(cfg.n_targets, 2);
	assert_string_equal(cfg.targets[0].name, "default");
	t = &cfg.targets[1];
	assert_string_equal(t->name, "v2-canary");
	assert_string_equal(t->url, "http://canary.example.internal:8081/shadow");
	assert_true(t->sample_percent == tdef.sample_percent);
	assert_int_equal(t->sample_key, tdef.sample_key);
	assert_null(t->sample_key_name);
	assert_int_equal(t->timeout_ms, tdef.timeout_ms);
	assert_int_equal(t->connect_timeout_ms, tdef.connect_timeout_ms);
	assert_int_equal(t->n_add_headers, 0);
	assert_int_equal(t->n_remove_headers, 0);
	assert_int_equal(t->host_policy, tdef.host_policy);
	assert_int_equal(t->send_body, tdef.send_body);
	assert_int_equal(t->send_headers, tdef.send_headers);
	assert_int_equal(t->replay_truncated, tdef.replay_truncated);
	assert_int_equal(t->max_inflight, tdef.max_inflight);
	assert_true(t->rate_limit == tdef.rate_limit);
	assert_int_equal(t->http2, tdef.http2);
	assert_int_equal(t->tls_verify, tdef.tls_verify);
	assert_null(t->ca_file);
	config_free(&cfg);
	config_free(&def);
	target_config_free(&tdef);
}

static void test_every_setting_documented_in_example_and_man_page(void **state)
{
	size_t len;
	char *example = read_file(TOP_SRCDIR "/doc/spoa-mirror.ini.example", &len);
	char *man = read_file(TOP_SRCDIR "/doc/spoa-mirror.8", &len);

	for (size_t i = 0; i < settings_count(); i++) {
		const struct setting *s = settings_at(i);
		char key[80];

		if (s->scope == SETTING_CLI) /* options, checked below */
			continue;
		snprintf(key, sizeof(key), "\n%s =", s->name);
		if (!strstr(example, key))
			fail_msg("doc/spoa-mirror.ini.example does not set '%s'", s->name);
		/* the man page lists keys as \fBname\fR; groff escapes '-' as \- */
		{
			char want[120], *w = want;

			w += sprintf(w, "\\fB");
			for (const char *p = s->name; *p; p++)
				w += *p == '-' ? sprintf(w, "\\-") : sprintf(w, "%c", *p);
			sprintf(w, "\\fR");
			if (!strstr(man, want))
				fail_msg("doc/spoa-mirror.8 does not describe '%s' (%s)", s->name, want);
		}
	}
	free(example);
	free(man);
}

/* The OPTIONS section of the man page has one tagged paragraph per option
 * of the table, with its letter, and no other. */
static void test_man_page_lists_exactly_the_tables_options(void **state)
{
	size_t len, n_options = 0;
	char *man = read_file(TOP_SRCDIR "/doc/spoa-mirror.8", &len);
	char *p = strstr(man, "\n.SH OPTIONS\n"), *end;
	bool *seen = calloc(settings_count(), sizeof(bool));

	assert_non_null(p);
	end = strstr(p + 1, "\n.SH ");
	assert_non_null(end);
	*end = '\0';
	for (; (p = strstr(p, "\n.TP\n")); p += 4) {
		char *tag = p + 5, *q = strstr(tag, "\\-\\-"), name[80], want[100];
		const struct setting *s = NULL;
		size_t n = 0;

		if (!q || q > strchr(tag, '\n'))
			fail_msg("man page: a tag without a long option: %.60s", tag);
		for (q += 4; n < sizeof(name) - 1; q++) {
			if (q[0] == '\\' && q[1] == '-')
				name[n++] = *++q;
			else if ((*q >= 'a' && *q <= 'z') || (*q >= '0' && *q <= '9'))
				name[n++] = *q;
			else
				break;
		}
		name[n] = '\0';
		for (size_t i = 0; i < settings_count() && !s; i++)
			if (setting_option(settings_at(i)) && !strcmp(setting_option(settings_at(i)), name))
				s = settings_at(i);
		if (!s)
			fail_msg("doc/spoa-mirror.8 lists --%s, which is no option of the table", name);
		if (seen[s - settings_at(0)])
			fail_msg("doc/spoa-mirror.8 lists --%s twice", name);
		seen[s - settings_at(0)] = true;
		snprintf(want, sizeof(want), ".BR \\-%c \", \" \\-\\-", s->letter);
		if (s->letter && strncmp(tag, want, strlen(want)))
			fail_msg("doc/spoa-mirror.8 lists --%s without -%c", name, s->letter);
	}
	for (size_t i = 0; i < settings_count(); i++) {
		if (!setting_option(settings_at(i)))
			continue;
		n_options++;
		if (!seen[i])
			fail_msg("doc/spoa-mirror.8 does not list --%s", setting_option(settings_at(i)));
	}
	assert_true(n_options > 30);
	free(seen);
	free(man);
}

static int load(const char *text, struct agent_config *cfg, char *err, size_t n)
{
	return ini_load_buffer("t.ini", text, strlen(text), cfg, true, err, n);
}

static void test_target_section_sets_every_target_key(void **state)
{
	char *ca = temp_file_with("not really a CA bundle\n");
	char text[2048];
	struct agent_config cfg;
	const struct target_config *t;
	char err[512] = "";

	assert_non_null(ca);
	snprintf(text, sizeof(text),
		 "[target shadow_1.v2]\n"
		 "url = https://shadow:8443/prefix/\n"
		 "sample = 12.5\n"
		 "sample-key = cookie:session\n"
		 "timeout = 2.5s\n"
		 "connect-timeout = 300\n"
		 "add-headers = X-Mirror: yes, Accept: a/b, c/d\n"
		 "remove-headers = Authorization, Cookie\n"
		 "host = client\n"
		 "send-body = off\n"
		 "send-headers = 0\n"
		 "replay-truncated = YES\n"
		 "max-inflight = 0\n"
		 "rate-limit = 2.5\n"
		 "http2 = on\n"
		 "tls-verify = false\n"
		 "ca-file = %s\n",
		 ca);
	config_init(&cfg);
	if (load(text, &cfg, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	assert_int_equal(cfg.n_targets, 1);
	t = &cfg.targets[0];
	assert_string_equal(t->name, "shadow_1.v2");
	assert_string_equal(t->url, "https://shadow:8443/prefix/");
	assert_true(t->sample_percent == 12.5);
	assert_int_equal(t->sample_key, SAMPLE_KEY_COOKIE);
	assert_string_equal(t->sample_key_name, "session");
	assert_int_equal(t->timeout_ms, 2500);
	assert_int_equal(t->connect_timeout_ms, 300);
	assert_int_equal(t->n_add_headers, 2);
	assert_string_equal(t->add_headers[1].name, "Accept");
	assert_string_equal(t->add_headers[1].value, "a/b, c/d");
	assert_int_equal(t->n_remove_headers, 2);
	assert_string_equal(t->remove_headers[0], "Authorization");
	assert_string_equal(t->remove_headers[1], "Cookie");
	assert_int_equal(t->host_policy, HOST_FROM_CLIENT);
	assert_false(t->send_body);
	assert_false(t->send_headers);
	assert_true(t->replay_truncated);
	assert_int_equal(t->max_inflight, 0);
	assert_true(t->rate_limit == 2.5);
	assert_true(t->http2);
	assert_false(t->tls_verify);
	assert_string_equal(t->ca_file, ca);
	assert_string_equal(t->origin, "t.ini:1");
	assert_false(t->from_mirror_url);
	config_free(&cfg);
	unlink(ca);
	free(ca);
}

static void test_sample_key_forms(void **state)
{
	static const struct {
		const char *value;
		enum sample_key kind;
		const char *name;
	} cases[] = {
		{ "random", SAMPLE_KEY_RANDOM, NULL },
		{ "client", SAMPLE_KEY_CLIENT, NULL },
		{ "header:X-User-Id", SAMPLE_KEY_HEADER, "X-User-Id" },
		{ "cookie:sid", SAMPLE_KEY_COOKIE, "sid" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char text[256], err[512] = "";
		struct agent_config cfg;

		snprintf(text, sizeof(text), "[target a]\nurl = http://a:1\nsample-key = %s\n",
			 cases[i].value);
		config_init(&cfg);
		if (load(text, &cfg, err, sizeof(err)) < 0)
			fail_msg("%s", err);
		assert_int_equal(cfg.targets[0].sample_key, cases[i].kind);
		if (cases[i].name)
			assert_string_equal(cfg.targets[0].sample_key_name, cases[i].name);
		else
			assert_null(cfg.targets[0].sample_key_name);
		config_free(&cfg);
	}
}

static void test_comments_crlf_bom_quotes_and_underscores(void **state)
{
	static const char text[] = "\xEF\xBB\xBF; semicolon comment\r\n"
				   "# hash comment\r\n"
				   "  [mirror]  \r\n"
				   "\t mirror_url\t=  \"http://q:1/p\"  \r\n"
				   "   ; indented comment\r\n"
				   "Log-Level = DEBUG\r\n"
				   "messages = a\r\n"
				   "messages = b, c\r\n"
				   "[target  t2 ]\r\n"
				   "url=http://t2:2\r\n"
				   "add-headers = A: 1\r\n"
				   "add-headers = B: 2\r\n";
	struct agent_config cfg;
	char err[512] = "";

	config_init(&cfg);
	if (load(text, &cfg, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	assert_int_equal(cfg.n_targets, 2);
	assert_string_equal(cfg.targets[0].url, "http://q:1/p");
	assert_string_equal(cfg.targets[1].name, "t2");
	assert_int_equal(cfg.log_level, LOG_LVL_DEBUG);
	assert_int_equal(cfg.n_message_names, 3);
	assert_string_equal(cfg.message_names[0], "a");
	assert_string_equal(cfg.message_names[2], "c");
	assert_int_equal(cfg.targets[1].n_add_headers, 2);
	assert_string_equal(cfg.targets[1].add_headers[1].name, "B");
	config_free(&cfg);
}

static void test_empty_mirror_url_makes_no_target(void **state)
{
	struct agent_config cfg;
	char err[512] = "";

	/* what --check-config writes when every target has its own section */
	config_init(&cfg);
	if (load("[mirror]\nmirror-url =\n[target a]\nurl = http://a:1\n", &cfg, err,
		 sizeof(err)) < 0)
		fail_msg("%s", err);
	assert_int_equal(cfg.n_targets, 1);
	assert_string_equal(cfg.targets[0].name, "a");
	assert_string_equal(cfg.targets[0].origin, "t.ini:3");
	config_free(&cfg);

	/* read over a configuration that had one, it removes it */
	config_init(&cfg);
	if (load("[mirror]\nmirror-url = http://old:1\n", &cfg, err, sizeof(err)) < 0 ||
	    load("[mirror]\nmirror-url = \"\"\n[target a]\nurl = http://a:1\n", &cfg, err,
		 sizeof(err)) < 0)
		fail_msg("%s", err);
	assert_int_equal(cfg.n_targets, 1);
	assert_string_equal(cfg.targets[0].name, "a");
	config_free(&cfg);

	/* and alone it leaves no target */
	config_init(&cfg);
	assert_int_equal(load("[mirror]\nmirror-url =\n", &cfg, err, sizeof(err)), -1);
	assert_string_equal(err, "t.ini:2: key 'mirror-url': no mirror target: set mirror-url in "
				 "[mirror] or add a [target NAME] section");
	config_free(&cfg);
}

static void test_mirror_headers_apply_whatever_the_key_order(void **state)
{
	static const char text[] = "[mirror]\n"
				   "mirror-headers = X-A: 1\n"
				   "mirror-url = http://a:1\n"
				   "capabilities = pipelining\n"
				   "capabilities = async\n";
	struct agent_config cfg;
	char err[512] = "";

	config_init(&cfg);
	if (load(text, &cfg, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	assert_int_equal(cfg.targets[0].n_add_headers, 1);
	assert_string_equal(cfg.targets[0].add_headers[0].value, "1");
	assert_true(cfg.targets[0].from_mirror_url);
	assert_int_equal(cfg.caps, SPOP_CAP_PIPELINING | SPOP_CAP_ASYNC);
	config_free(&cfg);
}

static void test_file_keeps_values_it_does_not_set(void **state)
{
	struct agent_config cfg;
	char err[512] = "";

	config_init(&cfg);
	cfg.port = 4242;
	if (load("[mirror]\nmirror-url = http://a:1\nworkers = 3\n", &cfg, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	assert_int_equal(cfg.port, 4242);
	assert_int_equal(cfg.num_workers, 3);
	config_free(&cfg);
}

struct error_case {
	const char *text;
	const char *expect;
};

static void test_every_error_is_one_line_with_file_line_and_key(void **state)
{
	static const struct error_case cases[] = {
		{ "[mirror]\nmirror-url = http://a:1\nfrobnicate = 1\n",
		  "t.ini:3: key 'frobnicate': unknown key in [mirror]" },
		{ "[mirror]\nmirror-url = http://a:1\nsample = 5\n",
		  "t.ini:3: key 'sample': unknown key in [mirror] (a target setting: put it in a "
		  "[target NAME] section)" },
		{ "[target a]\nurl = http://a:1\nport = 5\n",
		  "t.ini:3: key 'port': unknown key in a [target] section (an agent setting: put it "
		  "in [mirror])" },
		{ "[target a]\nurl = http://a:1\nsample = 150\n",
		  "t.ini:3: key 'sample': bad value '150': must be a number between 0 and 100" },
		{ "[target a]\nurl = http://a:1\ntimeout = abc\n",
		  "t.ini:3: key 'timeout': bad value 'abc': not a duration: give milliseconds or a "
		  "number with a unit us, ms, s, m, h or d (e.g. 500ms, 5s)" },
		{ "[target a]\nurl = http://a:1\ntimeout = 0\n",
		  "t.ini:3: key 'timeout': bad value '0': must be longer than 0" },
		{ "[target a]\nurl = htp://a:1\n",
		  "t.ini:2: key 'url': bad value 'htp://a:1': URL 'htp://a:1' must start with http:// "
		  "or https://" },
		{ "[target a]\nurl = http://a b/\n",
		  "t.ini:2: key 'url': bad value 'http://a b/': URL has a control character or "
		  "space at offset 8" },
		{ "[mirror]\nmirror-url = http://a:1/x?q=1\n",
		  "t.ini:2: key 'mirror-url': bad value 'http://a:1/x?q=1': URL 'http://a:1/x?q=1': a "
		  "base URL takes no query or fragment" },
		{ "[target a]\nurl = http://a:1\n[target b]\nurl = http://b:1\n[target a]\n",
		  "t.ini:5: key 'target a': target name 'a' already defined at t.ini:1" },
		{ "[target default]\nurl = http://a:1\n[mirror]\nmirror-url = http://b:1\n",
		  "t.ini:4: key 'mirror-url': bad value 'http://b:1': target name 'default' already "
		  "defined at t.ini:1" },
		{ "[mirror]\nport = 1\n",
		  "t.ini:2: key 'mirror-url': no mirror target: set mirror-url in [mirror] or add a "
		  "[target NAME] section" },
		{ "", "t.ini:1: key 'mirror-url': no mirror target: set mirror-url in [mirror] or add "
		      "a [target NAME] section" },
		{ "[mirrors]\n",
		  "t.ini:1: key 'mirrors': unknown section (expected [mirror] or [target NAME])" },
		{ "[mirror]\nmirror-url http://a:1\n",
		  "t.ini:2: key 'mirror-url http://a:1': line has no '=' (expected: key = value)" },
		{ "[mirror]\n= 5\n", "t.ini:2: key '': line has no key before '='" },
		{ "[mirror]\nmirror-url = http://a:1\nport = 1\n\nport = 2\n",
		  "t.ini:5: key 'port': set twice in this section (first at line 3)" },
		{ "port = 1\n",
		  "t.ini:1: key 'port': outside any section (start the file with [mirror])" },
		{ "[target a]\nsample = 5\n[mirror]\n",
		  "t.ini:1: key 'url': missing: [target a] needs url = http://HOST[:PORT][/PREFIX]" },
		{ "[mirror]\nmirror-url = http://a:1\n[target z]\n",
		  "t.ini:3: key 'url': missing: [target z] needs url = http://HOST[:PORT][/PREFIX]" },
		{ "[mirror\n", "t.ini:1: key '[mirror': section header without closing ']'" },
		{ "[target]\n", "t.ini:1: key '[target]': a target section needs a name: [target NAME]" },
		{ "[target a/b]\n",
		  "t.ini:1: key 'target a/b': target name 'a/b' must be 1-64 letters, digits, '-', "
		  "'_' or '.'" },
		{ "[mirror]\n[mirror]\n",
		  "t.ini:2: key '[mirror]': section appears twice (first at line 1)" },
		{ "[target a]\nurl = http://a:1\nca-file = /nonexistent/ca.pem\n",
		  "t.ini:3: key 'ca-file': bad value '/nonexistent/ca.pem': cannot read "
		  "'/nonexistent/ca.pem': No such file or directory" },
		{ "[target a]\nurl = http://a:1\nsample-key = header:\n",
		  "t.ini:3: key 'sample-key': bad value 'header:': '' is not a valid header name" },
		{ "[target a]\nurl = http://a:1\nsample-key = session\n",
		  "t.ini:3: key 'sample-key': bad value 'session': must be random, client, "
		  "header:NAME or cookie:NAME" },
		{ "[target a]\nurl = http://a:1\nhost = backend\n",
		  "t.ini:3: key 'host': bad value 'backend': must be target or client" },
		{ "[target a]\nurl = http://a:1\nsend-body = si\n",
		  "t.ini:3: key 'send-body': bad value 'si': must be true/false, yes/no, on/off or 1/0" },
		{ "[target a]\nurl = http://a:1\nrate-limit = -1\n",
		  "t.ini:3: key 'rate-limit': bad value '-1': must be a number between 0 and 1e+09" },
		{ "[target a]\nurl = http://a:1\nremove-headers = Bad Header\n",
		  "t.ini:3: key 'remove-headers': bad value 'Bad Header': 'Bad Header' is not a valid "
		  "header name" },
		{ "[mirror]\nmirror-url = http://a:1\nmirror-headers = X-A\n",
		  "t.ini:3: key 'mirror-headers': bad value 'X-A': expected 'Name: value' at 'X-A'" },
		{ "[mirror]\nmirror-url = http://a:1\nmessages =\n",
		  "t.ini:3: key 'messages': bad value '': needs at least one SPOE message name" },
		{ "[target a]\nurl = http://a:1\ncompare = json\n",
		  "t.ini:3: key 'compare': bad value 'json': must be off, status, headers or body" },
		{ "[target a]\nurl = http://a:1\ncompare-ignore-json = /ok, meta/at\n",
		  "t.ini:3: key 'compare-ignore-json': bad value '/ok, meta/at': JSON pointer "
		  "'meta/at' does not start with '/'" },
		{ "[mirror]\nmirror-url = http://a:1\nresponse-messages =\n",
		  "t.ini:3: key 'response-messages': bad value '': needs at least one SPOE message "
		  "name" },
		{ "[mirror]\nmirror-url = http://a:1\njoin-max-bytes = 1k\n",
		  "t.ini:3: key 'join-max-bytes': bad value '1k': must be between 64k and 1g" },
		{ "[mirror]\nmirror-url = http://a:1\nmetrics = localhost\n",
		  "t.ini:3: key 'metrics': bad value 'localhost': must be ADDR:PORT, like "
		  "127.0.0.1:9100 or :9100" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct agent_config cfg;
		char err[512] = "";

		config_init(&cfg);
		if (load(cases[i].text, &cfg, err, sizeof(err)) != -1)
			fail_msg("case %zu loaded: %s", i, cases[i].text);
		assert_string_equal(err, cases[i].expect);
		config_free(&cfg);
	}
}

static void test_nul_byte_reported_on_its_line(void **state)
{
	static const char text[] = "[mirror]\nmirror-url = http://a:1\nport = 1\0\n";
	struct agent_config cfg;
	char err[512] = "";

	config_init(&cfg);
	assert_int_equal(ini_load_buffer("t.ini", text, sizeof(text) - 1, &cfg, true, err,
					 sizeof(err)),
			 -1);
	assert_string_equal(err, "t.ini:3: key '': NUL byte in the line: not a text file");
	config_free(&cfg);
}

/* Found by fuzz_config: a CR that does not end its line was kept inside
 * the value, which --check-config then could not write. Such a line, or
 * one with any control character but tab, is refused where it is; a CR
 * LF line end is not. */
static void test_control_characters_in_a_line_refused_on_it(void **state)
{
	static const struct {
		const char *text, *expect;
	} cases[] = {
		{ "[mirror]\r\nmirror-url = http://a:1/x\r[target b]\r\n",
		  "t.ini:2: key '': CR inside the line: end lines with LF or CR LF" },
		{ "[mirror]\nmirror-url = http://a:1\npidfile = /run/\x1b[1m.pid\n",
		  "t.ini:3: key '': control character 0x1b in the line" },
		{ "# \x7f in a comment\n[mirror]\n", "t.ini:1: key '': control character 0x7f in the line" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct agent_config cfg;
		char err[512] = "";

		config_init(&cfg);
		assert_int_equal(load(cases[i].text, &cfg, err, sizeof(err)), -1);
		assert_string_equal(err, cases[i].expect);
		config_free(&cfg);
	}
}

static void test_tab_and_crlf_line_ends_accepted(void **state)
{
	struct agent_config cfg;
	char err[512] = "";

	config_init(&cfg);
	assert_int_equal(load("[mirror]\r\nmirror-url =\thttp://a:1/x\r\n", &cfg, err, sizeof(err)),
			 0);
	assert_string_equal(cfg.targets[0].url, "http://a:1/x");
	config_free(&cfg);
}

static void test_too_many_targets_rejected_at_the_extra_section(void **state)
{
	char text[8192];
	size_t n = 0;
	struct agent_config cfg;
	char err[512] = "";
	char want[128];

	for (int i = 0; i <= TARGET_MAX; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "[target t%d]\nurl = http://h:%d\n",
				      i, i + 1);
	config_init(&cfg);
	assert_int_equal(load(text, &cfg, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "t.ini:%d: key 'target t%d': too many targets (at most %d)",
		 2 * TARGET_MAX + 1, TARGET_MAX, TARGET_MAX);
	assert_string_equal(err, want);
	config_free(&cfg);
}

static void test_missing_and_oversized_files_reported(void **state)
{
	struct agent_config cfg;
	char err[512] = "";
	char *big = malloc(INI_MAX_FILE_SIZE + 2);
	char *path, want[600];

	memset(big, '#', INI_MAX_FILE_SIZE + 1);
	big[INI_MAX_FILE_SIZE + 1] = '\0';
	path = temp_file_with(big);
	free(big);
	if (!path) {
		fail_msg("cannot write a temporary file");
		return;
	}
	config_init(&cfg);
	assert_int_equal(load_file("/nonexistent/x.ini", &cfg, err, sizeof(err)), -1);
	assert_string_equal(err, "/nonexistent/x.ini: cannot open: No such file or directory");
	assert_int_equal(load_file(path, &cfg, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s: larger than %d bytes: not a configuration file", path,
		 INI_MAX_FILE_SIZE);
	assert_string_equal(err, want);
	config_free(&cfg);
	unlink(path);
	free(path);
}

/* Mutated and truncated copies of the example: each loads or fails with
 * one line naming the file, never crashes (run it under ASan). */
static void test_mutated_files_load_or_fail_cleanly(void **state)
{
	static const char alphabet[] = "\n\n\r=[]#;,:\"\\ \tatx9-_\0\xff";
	size_t len;
	char *example = read_file(TOP_SRCDIR "/doc/spoa-mirror.ini.example", &len);
	char *buf = malloc(len + 1);
	uint64_t rng = 0x9E3779B97F4A7C15ull;
	unsigned loaded = 0, failed = 0;

	for (int iter = 0; iter < 3000; iter++) {
		struct agent_config cfg;
		char err[512] = "";
		size_t n = len;
		int muts;

		memcpy(buf, example, len);
		rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
		muts = (int)(rng % 8);
		for (int m = 0; m < muts; m++) {
			rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
			buf[rng % len] = alphabet[(rng >> 32) % (sizeof(alphabet) - 1)];
		}
		rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
		if (rng % 4 == 0)
			n = (size_t)(rng >> 20) % len;
		config_init(&cfg);
		if (ini_load_buffer("t.ini", buf, n, &cfg, true, err, sizeof(err)) == 0) {
			loaded++;
		} else {
			failed++;
			assert_int_equal(strncmp(err, "t.ini:", 6), 0);
			assert_null(strpbrk(err, "\r\n"));
		}
		config_free(&cfg);
	}
	/* both outcomes were exercised */
	assert_true(loaded > 100);
	assert_true(failed > 100);
	free(buf);
	free(example);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seed_file_loads_as_written),
		cmocka_unit_test(test_seed_four_line_form_loads),
		cmocka_unit_test(test_example_file_sets_every_key_to_its_default),
		cmocka_unit_test(test_every_setting_documented_in_example_and_man_page),
		cmocka_unit_test(test_man_page_lists_exactly_the_tables_options),
		cmocka_unit_test(test_target_section_sets_every_target_key),
		cmocka_unit_test(test_sample_key_forms),
		cmocka_unit_test(test_comments_crlf_bom_quotes_and_underscores),
		cmocka_unit_test(test_mirror_headers_apply_whatever_the_key_order),
		cmocka_unit_test(test_empty_mirror_url_makes_no_target),
		cmocka_unit_test(test_file_keeps_values_it_does_not_set),
		cmocka_unit_test(test_every_error_is_one_line_with_file_line_and_key),
		cmocka_unit_test(test_nul_byte_reported_on_its_line),
		cmocka_unit_test(test_control_characters_in_a_line_refused_on_it),
		cmocka_unit_test(test_tab_and_crlf_line_ends_accepted),
		cmocka_unit_test(test_too_many_targets_rejected_at_the_extra_section),
		cmocka_unit_test(test_missing_and_oversized_files_reported),
		cmocka_unit_test(test_mutated_files_load_or_fail_cleanly),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

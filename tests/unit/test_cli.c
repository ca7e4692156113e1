/* Unit tests for src/cli.c: the incumbent's command lines, every option and
 * its errors, help and version, and how -f combines with the other
 * options. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "capture.h"
#include "cli.h"
#include "config.h"
#include "spop.h"

#define ARGV(...) ((char *[]){ "spoa-mirror", __VA_ARGS__, NULL })
#define ARGC(...) ((int)(sizeof((char *[]){ "spoa-mirror", __VA_ARGS__ }) / sizeof(char *)))
/* parse a literal command line into cfg */
#define PARSE(cfg, err, ...) \
	cli_parse(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), (cfg), (err), sizeof(err))

static void test_incumbent_r0_u_p_command_line_runs(void **state)
{
	struct agent_config cfg;
	char err[512] = "";

	config_init(&cfg);
	assert_int_equal(PARSE(&cfg, err, "-r0", "-u", "http://shadow:8080/", "-p", "12345"),
			 CLI_RUN);
	assert_int_equal(cfg.runtime_ms, 0);
	assert_int_equal(cfg.port, 12345);
	assert_int_equal(cfg.n_targets, 1);
	assert_string_equal(cfg.targets[0].name, "u1");
	assert_string_equal(cfg.targets[0].url, "http://shadow:8080/");
	assert_true(cfg.targets[0].from_mirror_url);
	config_free(&cfg);
}

static void test_seed_u_p_command_line_runs(void **state)
{
	struct agent_config cfg;
	char err[512] = "";

	config_init(&cfg);
	assert_int_equal(PARSE(&cfg, err, "-u", "http://backend-shadow:8080", "-p", "12345"),
			 CLI_RUN);
	assert_int_equal(cfg.port, 12345);
	assert_int_equal(cfg.n_targets, 1);
	assert_string_equal(cfg.targets[0].url, "http://backend-shadow:8080");
	/* untouched settings keep their defaults */
	assert_string_equal(cfg.address, "0.0.0.0");
	assert_int_equal(cfg.backlog, 1024);
	assert_int_equal(cfg.caps, SPOP_CAP_ALL);
	assert_int_equal(cfg.n_message_names, 2);
	assert_string_equal(cfg.message_names[0], "mirror-request");
	assert_string_equal(cfg.message_names[1], "mirror");
	config_free(&cfg);
}

static void test_attached_short_values_and_long_equals_forms(void **state)
{
	struct agent_config cfg;
	char err[512] = "";

	config_init(&cfg);
	assert_int_equal(PARSE(&cfg, err, "-uhttp://a:1/", "-p4000", "--num-workers=3",
			       "--address", "127.0.0.1"),
			 CLI_RUN);
	assert_string_equal(cfg.targets[0].url, "http://a:1/");
	assert_int_equal(cfg.port, 4000);
	assert_int_equal(cfg.num_workers, 3);
	assert_string_equal(cfg.address, "127.0.0.1");
	config_free(&cfg);
}

/* One option, its value, and what must land in the configuration. */
struct option_case {
	const char *opt;
	const char *value;
	void (*check)(const struct agent_config *cfg);
};

static void chk_address(const struct agent_config *c) { assert_string_equal(c->address, "::1"); }
static void chk_backend(const struct agent_config *c) { assert_string_equal(c->libev_backend, "poll"); }
static void chk_backlog(const struct agent_config *c) { assert_int_equal(c->backlog, 4096); }
static void chk_cap(const struct agent_config *c) { assert_int_equal(c->caps, SPOP_CAP_PIPELINING); }
static void chk_pidfile(const struct agent_config *c) { assert_string_equal(c->pidfile, "/run/x.pid"); }
static void chk_monitor(const struct agent_config *c) { assert_int_equal(c->monitor_interval_ms, 2500); }
static void chk_logfile(const struct agent_config *c) { assert_string_equal(c->logfile, "W:/tmp/l.log"); }
static void chk_frame(const struct agent_config *c) { assert_int_equal(c->max_frame_size, 16384); }
static void chk_workers(const struct agent_config *c) { assert_int_equal(c->num_workers, 8); }
static void chk_port(const struct agent_config *c) { assert_int_equal(c->port, 1); }
static void chk_runtime(const struct agent_config *c) { assert_int_equal(c->runtime_ms, 7200000); }
static void chk_delay(const struct agent_config *c) { assert_int_equal(c->processing_delay_ms, 10); }
static void chk_iface(const struct agent_config *c) { assert_string_equal(c->mirror_interface, "eth0"); }
static void chk_lport(const struct agent_config *c) { assert_int_equal(c->mirror_local_port.low, 4000); assert_int_equal(c->mirror_local_port.high, 4100); }
static void chk_metrics(const struct agent_config *c) { assert_string_equal(c->metrics_address, "[::1]:9100"); }
static void chk_unix(const struct agent_config *c) { assert_string_equal(c->address, "unix:/run/a.sock"); }
static void chk_sock_mode(const struct agent_config *c) { assert_int_equal(c->socket_mode, 0600); }
static void chk_sock_owner(const struct agent_config *c) { assert_string_equal(c->socket_owner, "root:0"); }
static void chk_level(const struct agent_config *c) { assert_int_equal(c->log_level, LOG_LVL_DEBUG); }
static void chk_access(const struct agent_config *c) { assert_true(c->access_log); }
static void chk_maxconn(const struct agent_config *c) { assert_int_equal(c->max_connections, 50); }
static void chk_idle(const struct agent_config *c) { assert_int_equal(c->idle_timeout_ms, 90000); }
static void chk_qentries(const struct agent_config *c) { assert_int_equal(c->queue_max_entries, 77); }
static void chk_qbytes(const struct agent_config *c) { assert_int_equal(c->queue_max_bytes, 64u << 20); }
static void chk_reasm(const struct agent_config *c) { assert_int_equal(c->reassembly_max, 512 * 1024); }
static void chk_drain(const struct agent_config *c) { assert_int_equal(c->drain_timeout_ms, 0); }
static void chk_spopmem(const struct agent_config *c) { assert_int_equal(c->spop_memory_max, 96u << 20); }
static void chk_ftimeout(const struct agent_config *c) { assert_int_equal(c->frame_timeout_ms, 1500); }
static void chk_message(const struct agent_config *c)
{
	assert_int_equal(c->n_message_names, 1);
	assert_string_equal(c->message_names[0], "shadow");
}
static void chk_daemon(const struct agent_config *c) { assert_true(c->daemonize); }

static void test_each_option_sets_its_field(void **state)
{
	static const struct option_case cases[] = {
		{ "-a", "::1", chk_address },
		{ "--address", "::1", chk_address },
		{ "-B", "poll", chk_backend },
		{ "--libev-backend", "poll", chk_backend },
		{ "-b", "4096", chk_backlog },
		{ "--connection-backlog", "4096", chk_backlog },
		{ "-c", "pipelining", chk_cap },
		{ "--capability", "pipelining", chk_cap },
		{ "-F", "/run/x.pid", chk_pidfile },
		{ "--pidfile", "/run/x.pid", chk_pidfile },
		{ "-i", "2.5s", chk_monitor },
		{ "--monitor-interval", "2500", chk_monitor },
		{ "-l", "W:/tmp/l.log", chk_logfile },
		{ "--logfile", "W:/tmp/l.log", chk_logfile },
		{ "-m", "16k", chk_frame },
		{ "--max-frame-size", "16384", chk_frame },
		{ "-n", "8", chk_workers },
		{ "--num-workers", "8", chk_workers },
		{ "-p", "1", chk_port },
		{ "--port", "1", chk_port },
		{ "-r", "2h", chk_runtime },
		{ "--runtime", "7200s", chk_runtime },
		{ "-t", "10", chk_delay },
		{ "--processing-delay", "10ms", chk_delay },
		{ "-I", "eth0", chk_iface },
		{ "--mirror-interface", "eth0", chk_iface },
		{ "-P", "4000-4100", chk_lport },
		{ "--mirror-local-port", "4000-4100", chk_lport },
		{ "--metrics", "[::1]:9100", chk_metrics },
		{ "-a", "unix:/run/a.sock", chk_unix },
		{ "--socket-mode", "0600", chk_sock_mode },
		{ "--socket-owner", "root:0", chk_sock_owner },
		{ "--log-level", "debug", chk_level },
		{ "--access-log", NULL, chk_access },
		{ "--access-log=yes", NULL, chk_access },
		{ "--max-connections", "50", chk_maxconn },
		{ "--idle-timeout", "90s", chk_idle },
		{ "--queue-max-entries", "77", chk_qentries },
		{ "--queue-max-bytes", "64m", chk_qbytes },
		{ "--reassembly-max", "512k", chk_reasm },
		{ "--spop-memory-max", "96m", chk_spopmem },
		{ "--frame-timeout", "1.5s", chk_ftimeout },
		{ "--drain-timeout", "0", chk_drain },
		{ "--message", "shadow", chk_message },
		{ "-D", NULL, chk_daemon },
		{ "--daemonize", NULL, chk_daemon },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct agent_config cfg;
		char err[512] = "";
		char *argv[6] = { "spoa-mirror", "-u", "http://s:1", (char *)cases[i].opt,
				  (char *)cases[i].value, NULL };
		int argc = cases[i].value ? 5 : 4;
		int rc;

		config_init(&cfg);
		rc = cli_parse(argc, argv, &cfg, err, sizeof(err));
		if (rc != CLI_RUN)
			fail_msg("%s %s: %s", cases[i].opt, cases[i].value ? cases[i].value : "", err);
		cases[i].check(&cfg);
		config_free(&cfg);
	}
}

/* A bad value must fail with one line naming the option and the value. */
struct error_case {
	const char *opt;
	const char *value;
	const char *expect; /* the whole message */
};

static void test_bad_values_fail_with_one_line_naming_option_and_value(void **state)
{
	static const struct error_case cases[] = {
		{ "-p", "70000",
		  "option '-p/--port': bad value '70000': must be an integer between 1 and 65535" },
		{ "--port", "0",
		  "option '-p/--port': bad value '0': must be an integer between 1 and 65535" },
		{ "-p", "12a",
		  "option '-p/--port': bad value '12a': must be an integer between 1 and 65535" },
		{ "-b", "0",
		  "option '-b/--connection-backlog': bad value '0': must be an integer between 1 and "
		  "65535" },
		{ "-c", "telepathy",
		  "option '-c/--capability': bad value 'telepathy': unknown 'telepathy': must be "
		  "pipelining, async or fragmentation" },
		{ "-B", "epol",
		  "option '-B/--libev-backend': bad value 'epol': unknown libev backend (select, poll, "
		  "epoll, linux_aio, io_uring, kqueue, devpoll or port)" },
		{ "-B", "kqueue",
		  "option '-B/--libev-backend': bad value 'kqueue': libev backend 'kqueue' is not "
		  "available on this system" },
		{ "-i", "0", "option '-i/--monitor-interval': bad value '0': must be longer than 0" },
		{ "-i", "soon",
		  "option '-i/--monitor-interval': bad value 'soon': not a duration: give milliseconds "
		  "or a number with a unit us, ms, s, m, h or d (e.g. 500ms, 5s)" },
		{ "-l", "x:/tmp/f",
		  "option '-l/--logfile': bad value 'x:/tmp/f': unknown log file mode 'x' (a, w, A or W "
		  "before the ':')" },
		{ "-l", "a:", "option '-l/--logfile': bad value 'a:': no file name after the mode" },
		{ "-m", "100",
		  "option '-m/--max-frame-size': bad value '100': must be between 256 and 1g" },
		{ "-n", "0",
		  "option '-n/--num-workers': bad value '0': must be an integer between 1 and 256" },
		{ "-r", "1w",
		  "option '-r/--runtime': bad value '1w': unknown time unit 'w' (use us, ms, s, m, h or "
		  "d)" },
		{ "-t", "-5",
		  "option '-t/--processing-delay': bad value '-5': not a duration: give milliseconds "
		  "or a number with a unit us, ms, s, m, h or d (e.g. 500ms, 5s)" },
		{ "-u", "ftp://x/",
		  "option '-u/--mirror-url': bad value 'ftp://x/': URL 'ftp://x/' must start with "
		  "http:// or https://" },
		{ "-u", "http://:8080",
		  "option '-u/--mirror-url': bad value 'http://:8080': URL 'http://:8080' has no "
		  "host" },
		{ "-u", "http://a:0/",
		  "option '-u/--mirror-url': bad value 'http://a:0/': URL 'http://a:0/' has an "
		  "invalid port" },
		{ "-P", "5000-4000",
		  "option '-P/--mirror-local-port': bad value '5000-4000': range 5000-4000 is empty: "
		  "the low port comes first" },
		{ "-I", "eth 0",
		  "option '-I/--mirror-interface': bad value 'eth 0': must be an interface name, an "
		  "address, or if!NAME / host!NAME" },
		{ "--metrics", "9100",
		  "option '--metrics': bad value '9100': must be ADDR:PORT, like 127.0.0.1:9100 or "
		  ":9100" },
		{ "--metrics", "::1:9100",
		  "option '--metrics': bad value '::1:9100': IPv6 addresses go in brackets, like "
		  "[::1]:9100" },
		{ "--metrics", "example.com:9100",
		  "option '--metrics': bad value 'example.com:9100': 'example.com' is not an IPv4 "
		  "address (names are not resolved)" },
		{ "--log-level", "loud",
		  "option '--log-level': bad value 'loud': must be error, warn, info or debug" },
		{ "--access-log=perhaps", NULL,
		  "option '--access-log': bad value 'perhaps': must be true/false, yes/no, on/off or "
		  "1/0" },
		{ "--max-connections", "0",
		  "option '--max-connections': bad value '0': must be an integer between 1 and "
		  "1000000" },
		{ "--idle-timeout", "5 s",
		  "option '--idle-timeout': bad value '5 s': unknown time unit ' s' (use us, ms, s, m, h "
		  "or d)" },
		{ "--queue-max-entries", "-1",
		  "option '--queue-max-entries': bad value '-1': must be an integer between 1 and "
		  "100000000" },
		{ "--queue-max-bytes", "2t",
		  "option '--queue-max-bytes': bad value '2t': unknown size suffix 't' (use k, m or g)" },
		{ "--reassembly-max", "2g",
		  "option '--reassembly-max': bad value '2g': must be between 0 and 1g" },
		{ "--reassembly-max", "100",
		  "option '--reassembly-max': bad value '100': must be 0 or at least 256" },
		{ "--spop-memory-max", "65g",
		  "option '--spop-memory-max': bad value '65g': must be between 0 and 64g" },
		{ "--frame-timeout", "soon",
		  "option '--frame-timeout': bad value 'soon': not a duration: give milliseconds or "
		  "a number with a unit us, ms, s, m, h or d (e.g. 500ms, 5s)" },
		{ "--drain-timeout", "forever",
		  "option '--drain-timeout': bad value 'forever': not a duration: give milliseconds or "
		  "a number with a unit us, ms, s, m, h or d (e.g. 500ms, 5s)" },
		{ "--message", "a,,b",
		  "option '--message': bad value 'a,,b': empty item in the comma list" },
		{ "--mirror-header", "NoColon",
		  "option '--mirror-header': bad value 'NoColon': expected 'Name: value' at 'NoColon'" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct agent_config cfg;
		char err[512] = "";
		char *argv[6] = { "spoa-mirror", "-u", "http://s:1", (char *)cases[i].opt,
				  (char *)cases[i].value, NULL };
		int argc = cases[i].value ? 5 : 4;

		config_init(&cfg);
		assert_int_equal(cli_parse(argc, argv, &cfg, err, sizeof(err)), CLI_ERROR);
		assert_string_equal(err, cases[i].expect);
		config_free(&cfg);
	}
}

static void test_unknown_option_missing_value_and_stray_argument_rejected(void **state)
{
	struct agent_config cfg;
	char err[512];

	config_init(&cfg);
	assert_int_equal(PARSE(&cfg, err, "-u", "http://s:1", "-x"), CLI_ERROR);
	assert_string_equal(err, "unknown option '-x' (see --help)");
	assert_int_equal(PARSE(&cfg, err, "-u", "http://s:1", "--frobnicate"), CLI_ERROR);
	assert_string_equal(err, "unknown or ambiguous option '--frobnicate' (see --help)");
	assert_int_equal(PARSE(&cfg, err, "-u", "http://s:1", "-p"), CLI_ERROR);
	assert_string_equal(err, "option '-p/--port' needs a value");
	assert_int_equal(PARSE(&cfg, err, "-u", "http://s:1", "--metrics"), CLI_ERROR);
	assert_string_equal(err, "option '--metrics' needs a value");
	assert_int_equal(PARSE(&cfg, err, "-u", "http://s:1", "extra"), CLI_ERROR);
	assert_string_equal(err, "unexpected argument 'extra' (options start with '-'; see --help)");
	config_free(&cfg);
}

static void test_error_quoting_a_line_break_stays_one_line(void **state)
{
	struct agent_config cfg;
	char err[512];

	config_init(&cfg);
	assert_int_equal(PARSE(&cfg, err, "-u", "http://s:1", "-p", "1\n2"), CLI_ERROR);
	assert_string_equal(err, "option '-p/--port': bad value '1?2': must be an integer between 1 "
				 "and 65535");
	/* a line break in a URL would be a line break in the Host header */
	assert_int_equal(PARSE(&cfg, err, "-u", "http://s\r\nX: y/"), CLI_ERROR);
	assert_string_equal(err, "option '-u/--mirror-url': bad value 'http://s??X: y/': URL has a "
				 "control character");
	config_free(&cfg);
}

static void test_no_target_is_an_error(void **state)
{
	struct agent_config cfg;
	char err[512];

	config_init(&cfg);
	assert_int_equal(PARSE(&cfg, err, "-p", "12345"), CLI_ERROR);
	assert_string_equal(err, "no mirror target: give -u URL or a [target NAME] section");
	config_free(&cfg);
}

static void test_repeated_u_makes_one_target_each_with_mirror_headers(void **state)
{
	struct agent_config cfg;
	char err[512] = "";

	config_init(&cfg);
	assert_int_equal(PARSE(&cfg, err, "-u", "http://a:1", "--mirror-header", "X-Mirror: true",
			       "-u", "https://b/pre", "--mirror-header", "X-List: a, b"),
			 CLI_RUN);
	assert_int_equal(cfg.n_targets, 2);
	assert_string_equal(cfg.targets[0].name, "u1");
	assert_string_equal(cfg.targets[1].name, "u2");
	assert_string_equal(cfg.targets[1].url, "https://b/pre");
	for (int t = 0; t < 2; t++) {
		assert_int_equal(cfg.targets[t].n_add_headers, 2);
		assert_string_equal(cfg.targets[t].add_headers[0].name, "X-Mirror");
		assert_string_equal(cfg.targets[t].add_headers[0].value, "true");
		assert_string_equal(cfg.targets[t].add_headers[1].name, "X-List");
		assert_string_equal(cfg.targets[t].add_headers[1].value, "a, b");
	}
	config_free(&cfg);
}

static void test_capability_repeated_announces_only_those_given(void **state)
{
	struct agent_config cfg;
	char err[512] = "";

	config_init(&cfg);
	assert_int_equal(PARSE(&cfg, err, "-u", "http://a:1", "-c", "fragmentation", "-c", "async"),
			 CLI_RUN);
	assert_int_equal(cfg.caps, SPOP_CAP_FRAGMENTATION | SPOP_CAP_ASYNC);
	config_free(&cfg);
}

static void test_message_repeated_replaces_default_list(void **state)
{
	struct agent_config cfg;
	char err[512] = "";

	config_init(&cfg);
	assert_int_equal(PARSE(&cfg, err, "-u", "http://a:1", "--message", "m1", "--message",
			       "m2,m3"),
			 CLI_RUN);
	assert_int_equal(cfg.n_message_names, 3);
	assert_string_equal(cfg.message_names[0], "m1");
	assert_string_equal(cfg.message_names[1], "m2");
	assert_string_equal(cfg.message_names[2], "m3");
	config_free(&cfg);
}

static char *must_temp(const char *text)
{
	char *p = temp_file_with(text);

	assert_non_null(p);
	return p;
}

static void test_config_file_read_first_whatever_its_position(void **state)
{
	char *path = must_temp("[mirror]\nport = 1111\nworkers = 4\n"
			       "mirror-url = http://file:8080\n");
	struct agent_config cfg;
	char err[512] = "";

	/* -p before -f still overrides the file */
	config_init(&cfg);
	assert_int_equal(PARSE(&cfg, err, "-p", "2222", "-f", path), CLI_RUN);
	assert_int_equal(cfg.port, 2222);
	assert_int_equal(cfg.num_workers, 4);
	assert_string_equal(cfg.config_file, path);
	assert_int_equal(cfg.n_targets, 1);
	assert_string_equal(cfg.targets[0].name, "default");
	config_free(&cfg);

	config_init(&cfg);
	assert_int_equal(PARSE(&cfg, err, "--config", path, "-n", "2"), CLI_RUN);
	assert_int_equal(cfg.port, 1111);
	assert_int_equal(cfg.num_workers, 2);
	config_free(&cfg);
	unlink(path);
	free(path);
}

static void test_seed_p_f_command_line_reads_the_seed_file(void **state)
{
	struct agent_config cfg;
	char err[512] = "";

	config_init(&cfg);
	assert_int_equal(PARSE(&cfg, err, "-p", "12345", "-f",
			       TOP_SRCDIR "/tests/fixtures/seed-spoa-mirror.conf"),
			 CLI_RUN);
	assert_int_equal(cfg.port, 12345);
	assert_int_equal(cfg.n_targets, 1);
	assert_string_equal(cfg.targets[0].url, "http://shadow-api-v2.internal:8080");
	assert_int_equal(cfg.targets[0].n_add_headers, 2);
	config_free(&cfg);
}

static void test_u_replaces_file_mirror_url_keeps_target_sections(void **state)
{
	char *path = must_temp("[mirror]\n"
			       "mirror-url = http://file:8080\n"
			       "mirror-headers = X-From-File: 1\n"
			       "[target named]\n"
			       "url = http://named:9000\n");
	struct agent_config cfg;
	char err[512] = "";

	config_init(&cfg);
	assert_int_equal(PARSE(&cfg, err, "-f", path, "-u", "http://cli:7000"), CLI_RUN);
	assert_int_equal(cfg.n_targets, 2);
	assert_string_equal(cfg.targets[0].name, "named");
	assert_int_equal(cfg.targets[0].n_add_headers, 0);
	assert_string_equal(cfg.targets[1].name, "u1");
	assert_string_equal(cfg.targets[1].url, "http://cli:7000");
	/* the file's mirror-headers still apply to the -u target */
	assert_int_equal(cfg.targets[1].n_add_headers, 1);
	assert_string_equal(cfg.targets[1].add_headers[0].name, "X-From-File");
	config_free(&cfg);

	/* --mirror-header replaces the file's list */
	config_init(&cfg);
	assert_int_equal(PARSE(&cfg, err, "-f", path, "--mirror-header", "X-Cli: 2"), CLI_RUN);
	assert_int_equal(cfg.n_targets, 2);
	assert_string_equal(cfg.targets[0].name, "default");
	assert_int_equal(cfg.targets[0].n_add_headers, 1);
	assert_string_equal(cfg.targets[0].add_headers[0].name, "X-Cli");
	config_free(&cfg);
	unlink(path);
	free(path);
}

static void test_file_without_target_is_fine_when_u_given(void **state)
{
	char *path = must_temp("[mirror]\nport = 1111\n");
	struct agent_config cfg;
	char err[512] = "";
	char want[600];

	config_init(&cfg);
	assert_int_equal(PARSE(&cfg, err, "-f", path, "-u", "http://cli:7000"), CLI_RUN);
	assert_int_equal(cfg.n_targets, 1);
	config_free(&cfg);

	config_init(&cfg);
	assert_int_equal(PARSE(&cfg, err, "-f", path), CLI_ERROR);
	snprintf(want, sizeof(want),
		 "%s:2: key 'mirror-url': no mirror target: set mirror-url in [mirror] or add a "
		 "[target NAME] section",
		 path);
	assert_string_equal(err, want);
	config_free(&cfg);
	unlink(path);
	free(path);
}

static void test_file_errors_come_back_with_file_and_line(void **state)
{
	char *path = must_temp("[mirror]\nport = 99999\n");
	struct agent_config cfg;
	char err[512] = "";
	char want[600];

	config_init(&cfg);
	assert_int_equal(PARSE(&cfg, err, "-f", path, "-u", "http://a:1"), CLI_ERROR);
	snprintf(want, sizeof(want),
		 "%s:2: key 'port': bad value '99999': must be an integer between 1 and 65535", path);
	assert_string_equal(err, want);
	config_free(&cfg);

	config_init(&cfg);
	assert_int_equal(PARSE(&cfg, err, "-f", "/nonexistent/spoa.ini"), CLI_ERROR);
	assert_string_equal(err, "/nonexistent/spoa.ini: cannot open: No such file or directory");
	config_free(&cfg);
	unlink(path);
	free(path);
}

static void test_help_covers_every_option_with_defaults(void **state)
{
	static const char *const wanted[] = {
		"-a, --address", "-B, --libev-backend", "-b, --connection-backlog",
		"-c, --capability", "-D, --daemonize", "-F, --pidfile", "-h, --help",
		"-i, --monitor-interval", "-l, --logfile", "-m, --max-frame-size",
		"-n, --num-workers", "-p, --port", "-r, --runtime", "-t, --processing-delay",
		"-u, --mirror-url", "-I, --mirror-interface", "-P, --mirror-local-port",
		"-V, --version", "-f, --config", "--check-config", "--metrics", "--log-level",
		"--access-log", "--max-connections", "--idle-timeout", "--queue-max-entries",
		"--queue-max-bytes", "--reassembly-max", "--spop-memory-max", "--frame-timeout",
		"--drain-timeout", "--message",
		"--mirror-header",
		/* defaults */
		"(default: 0.0.0.0)", "(default: 12345)", "(default: 1024)", "(default: 4m",
		"(default: 256m)", "(default: 1000)", "(default: 5m)", "(default: 10000)",
		"(default: 32m)", "(default: 5s)", "(default: info)", "(default: 1)",
		"mirror-request, mirror",
		/* what --check-config does */
		"print it as an INI file",
	};
	struct agent_config cfg;
	struct capture cap;
	char err[512] = "";
	char *out;
	int rc;

	config_init(&cfg);
	capture_begin(&cap);
	rc = PARSE(&cfg, err, "-p", "1", "--help");
	out = capture_end(&cap);
	assert_int_equal(rc, CLI_EXIT);
	for (size_t i = 0; i < sizeof(wanted) / sizeof(wanted[0]); i++)
		if (!strstr(out, wanted[i]))
			fail_msg("--help lacks '%s'", wanted[i]);
	/* -h works even with an unreadable config file */
	free(out);
	capture_begin(&cap);
	rc = PARSE(&cfg, err, "-f", "/nonexistent", "-h");
	out = capture_end(&cap);
	assert_int_equal(rc, CLI_EXIT);
	assert_non_null(strstr(out, "Usage: spoa-mirror"));
	free(out);
	config_free(&cfg);
}

static void test_version_prints_package_version(void **state)
{
	struct agent_config cfg;
	struct capture cap;
	char err[512] = "";
	char want[64];
	char *out;

	config_init(&cfg);
	capture_begin(&cap);
	assert_int_equal(PARSE(&cfg, err, "-V"), CLI_EXIT);
	out = capture_end(&cap);
	/* configure.ac's version, then "(git DESCRIBE)" when built from git */
	snprintf(want, sizeof(want), "spoa-mirror %s", PACKAGE_VERSION);
	assert_memory_equal(out, want, strlen(want));
	assert_true(!strcmp(out + strlen(want), "\n") ||
		    (!strncmp(out + strlen(want), " (git ", 6) && strstr(out, ")\n") &&
		     strstr(out, ")\n")[2] == '\0'));
	free(out);
	config_free(&cfg);
}

static void test_check_config_prints_effective_config_as_ini(void **state)
{
	struct agent_config cfg;
	struct capture cap;
	char err[512] = "";
	char *out;

	config_init(&cfg);
	capture_begin(&cap);
	assert_int_equal(PARSE(&cfg, err, "--check-config", "-f",
			       TOP_SRCDIR "/doc/spoa-mirror.ini.example", "-u", "http://a:1",
			       "-u", "http://b:2", "-p", "7", "--queue-max-bytes", "8m"),
			 CLI_EXIT);
	out = capture_end(&cap);
	/* INI, [mirror] first, then every target; overrides included */
	assert_int_equal(strncmp(out, "[mirror]\naddress = 0.0.0.0\nport = 7\n", 36), 0);
	assert_non_null(strstr(out, "\nqueue-max-bytes = 8m\n"));
	assert_non_null(strstr(out, "\nmirror-url =\n"));
	assert_non_null(strstr(out, "\n\n[target v2-canary]\nurl = "
				    "http://canary.example.internal:8081/shadow\n"));
	assert_non_null(strstr(out, "\n\n[target u1]\nurl = http://a:1\n"));
	assert_non_null(strstr(out, "\n\n[target u2]\nurl = http://b:2\n"));
	assert_null(strstr(out, "configuration OK"));
	free(out);
	config_free(&cfg);

	/* the one target made from -u */
	config_init(&cfg);
	capture_begin(&cap);
	assert_int_equal(PARSE(&cfg, err, "--check-config", "-u", "http://a:1"), CLI_EXIT);
	out = capture_end(&cap);
	assert_int_equal(strncmp(out, "[mirror]\n", 9), 0);
	assert_non_null(strstr(out, "\n\n[target u1]\nurl = http://a:1\n"));
	free(out);
	config_free(&cfg);

	/* an invalid configuration is still an error, and prints nothing */
	config_init(&cfg);
	capture_begin(&cap);
	assert_int_equal(PARSE(&cfg, err, "--check-config"), CLI_ERROR);
	out = capture_end(&cap);
	assert_string_equal(out, "");
	assert_string_equal(err, "no mirror target: give -u URL or a [target NAME] section");
	free(out);
	config_free(&cfg);
}

static void test_argv_untouched_so_reparse_gives_same_config(void **state)
{
	char *args[] = { "spoa-mirror", "-u", "http://a:1", "-p", "9", "-c", "async", NULL };
	char *copy[8];
	struct agent_config a, b;
	char err[512] = "";

	memcpy(copy, args, sizeof(args));
	config_init(&a);
	config_init(&b);
	assert_int_equal(cli_parse(7, args, &a, err, sizeof(err)), CLI_RUN);
	assert_memory_equal(copy, args, sizeof(args));
	assert_int_equal(cli_parse(7, args, &b, err, sizeof(err)), CLI_RUN);
	assert_int_equal(a.port, b.port);
	assert_int_equal(a.caps, b.caps);
	assert_int_equal(b.caps, SPOP_CAP_ASYNC);
	assert_string_equal(a.targets[0].url, b.targets[0].url);
	config_free(&a);
	config_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_incumbent_r0_u_p_command_line_runs),
		cmocka_unit_test(test_seed_u_p_command_line_runs),
		cmocka_unit_test(test_attached_short_values_and_long_equals_forms),
		cmocka_unit_test(test_each_option_sets_its_field),
		cmocka_unit_test(test_bad_values_fail_with_one_line_naming_option_and_value),
		cmocka_unit_test(test_unknown_option_missing_value_and_stray_argument_rejected),
		cmocka_unit_test(test_error_quoting_a_line_break_stays_one_line),
		cmocka_unit_test(test_no_target_is_an_error),
		cmocka_unit_test(test_repeated_u_makes_one_target_each_with_mirror_headers),
		cmocka_unit_test(test_capability_repeated_announces_only_those_given),
		cmocka_unit_test(test_message_repeated_replaces_default_list),
		cmocka_unit_test(test_config_file_read_first_whatever_its_position),
		cmocka_unit_test(test_seed_p_f_command_line_reads_the_seed_file),
		cmocka_unit_test(test_u_replaces_file_mirror_url_keeps_target_sections),
		cmocka_unit_test(test_file_without_target_is_fine_when_u_given),
		cmocka_unit_test(test_file_errors_come_back_with_file_and_line),
		cmocka_unit_test(test_help_covers_every_option_with_defaults),
		cmocka_unit_test(test_version_prints_package_version),
		cmocka_unit_test(test_check_config_prints_effective_config_as_ini),
		cmocka_unit_test(test_argv_untouched_so_reparse_gives_same_config),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Command-line parsing in two passes: the first finds -f, -h, -V and
 * whether -u is used (so the file is read before anything it could
 * override), the second applies every option through settings.c. */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "config_dump.h"
#include "ini.h"
#include "settings.h"
#include "strbuf.h"
#include "target.h"
#include "units.h"
#include "xalloc.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

enum {
	OPT_CHECK_CONFIG = 256,
	OPT_METRICS,
	OPT_LOG_LEVEL,
	OPT_ACCESS_LOG,
	OPT_MAX_CONNECTIONS,
	OPT_IDLE_TIMEOUT,
	OPT_QUEUE_MAX_ENTRIES,
	OPT_QUEUE_MAX_BYTES,
	OPT_REASSEMBLY_MAX,
	OPT_DRAIN_TIMEOUT,
	OPT_MESSAGE,
	OPT_MIRROR_HEADER,
	OPT_SOCKET_MODE,
	OPT_SOCKET_OWNER,
};

struct cli_option {
	int val;             /* short letter, or OPT_* for long-only options */
	const char *name;    /* long name */
	int has_arg;         /* no_argument, required_argument, optional_argument */
	const char *setting; /* settings.c key it stores, NULL when handled here */
};

static const struct cli_option cli_options[] = {
	{ 'a', "address", required_argument, "address" },
	{ 'B', "libev-backend", required_argument, "libev-backend" },
	{ 'b', "connection-backlog", required_argument, "backlog" },
	{ 'c', "capability", required_argument, "capabilities" },
	{ 'D', "daemonize", no_argument, NULL },
	{ 'f', "config", required_argument, NULL },
	{ 'F', "pidfile", required_argument, "pidfile" },
	{ 'h', "help", no_argument, NULL },
	{ 'i', "monitor-interval", required_argument, "monitor-interval" },
	{ 'l', "logfile", required_argument, "logfile" },
	{ 'm', "max-frame-size", required_argument, "max-frame-size" },
	{ 'n', "num-workers", required_argument, "workers" },
	{ 'p', "port", required_argument, "port" },
	{ 'r', "runtime", required_argument, "runtime" },
	{ 't', "processing-delay", required_argument, "processing-delay" },
	{ 'u', "mirror-url", required_argument, NULL },
	{ 'I', "mirror-interface", required_argument, "mirror-interface" },
	{ 'P', "mirror-local-port", required_argument, "mirror-local-port" },
	{ 'V', "version", no_argument, NULL },
	{ OPT_CHECK_CONFIG, "check-config", no_argument, NULL },
	{ OPT_METRICS, "metrics", required_argument, "metrics" },
	{ OPT_LOG_LEVEL, "log-level", required_argument, "log-level" },
	{ OPT_ACCESS_LOG, "access-log", optional_argument, "access-log" },
	{ OPT_MAX_CONNECTIONS, "max-connections", required_argument, "max-connections" },
	{ OPT_IDLE_TIMEOUT, "idle-timeout", required_argument, "idle-timeout" },
	{ OPT_QUEUE_MAX_ENTRIES, "queue-max-entries", required_argument, "queue-max-entries" },
	{ OPT_QUEUE_MAX_BYTES, "queue-max-bytes", required_argument, "queue-max-bytes" },
	{ OPT_REASSEMBLY_MAX, "reassembly-max", required_argument, "reassembly-max" },
	{ OPT_DRAIN_TIMEOUT, "drain-timeout", required_argument, "drain-timeout" },
	{ OPT_MESSAGE, "message", required_argument, "messages" },
	{ OPT_MIRROR_HEADER, "mirror-header", required_argument, NULL },
	{ OPT_SOCKET_MODE, "socket-mode", required_argument, "socket-mode" },
	{ OPT_SOCKET_OWNER, "socket-owner", required_argument, "socket-owner" },
};

#define N_OPTIONS (sizeof(cli_options) / sizeof(cli_options[0]))
#define SHORT_OPTIONS ":a:B:b:c:Df:F:hi:l:m:n:p:r:t:u:I:P:V"

static const struct cli_option *find_option(int val)
{
	for (size_t i = 0; i < N_OPTIONS; i++)
		if (cli_options[i].val == val)
			return &cli_options[i];
	return NULL;
}

/* "-p/--port" or "--metrics", for messages. */
static void option_label(const struct cli_option *o, char *out, size_t n)
{
	if (o->val < 256)
		snprintf(out, n, "-%c/--%s", o->val, o->name);
	else
		snprintf(out, n, "--%s", o->name);
}

static int bad_value(const struct cli_option *o, const char *value, const char *why, char *err,
		     size_t errlen)
{
	char label[64];

	option_label(o, label, sizeof(label));
	snprintf(err, errlen, "option '%s': bad value '%.200s': %s", label, value, why);
	return CLI_ERROR;
}

/* Reports getopt's complaint about argv[optind - 1]. */
static int getopt_error(int c, char **args, char *err, size_t errlen)
{
	const char *word = optind > 0 ? args[optind - 1] : "?";
	const struct cli_option *o;

	if (c == ':') {
		o = find_option(optopt);
		if (o) {
			char label[64];

			option_label(o, label, sizeof(label));
			snprintf(err, errlen, "option '%s' needs a value", label);
		} else {
			snprintf(err, errlen, "option '%s' needs a value", word);
		}
		return CLI_ERROR;
	}
	if (optopt && optopt < 256 && strncmp(word, "--", 2))
		snprintf(err, errlen, "unknown option '-%c' (see --help)", optopt);
	else
		snprintf(err, errlen, "unknown or ambiguous option '%.100s' (see --help)", word);
	return CLI_ERROR;
}

static struct option *long_options(void)
{
	struct option *lo = xcalloc(N_OPTIONS + 1, sizeof(*lo));

	for (size_t i = 0; i < N_OPTIONS; i++)
		lo[i] = (struct option){ cli_options[i].name, cli_options[i].has_arg, NULL,
					 cli_options[i].val };
	return lo;
}

struct first_pass {
	bool help, version, has_url;
	const char *config;
};

static int scan(int argc, char **args, const struct option *lo, struct first_pass *fp, char *err,
		size_t errlen)
{
	int c;

	optind = 0; /* glibc: full re-initialisation */
	opterr = 0;
	while ((c = getopt_long(argc, args, SHORT_OPTIONS, lo, NULL)) != -1) {
		switch (c) {
		case 'h':
			fp->help = true;
			break;
		case 'V':
			fp->version = true;
			break;
		case 'f':
			fp->config = optarg;
			break;
		case 'u':
			fp->has_url = true;
			break;
		case '?':
		case ':':
			return getopt_error(c, args, err, errlen);
		default:
			break;
		}
	}
	if (optind < argc) {
		snprintf(err, errlen, "unexpected argument '%.100s' (options start with '-'; see --help)",
			 args[optind]);
		return CLI_ERROR;
	}
	return CLI_RUN;
}

static int add_url_target(struct agent_config *cfg, const struct cli_option *o, const char *url,
			  size_t nth, char *err, size_t errlen)
{
	struct target_config *t;
	char why[300], name[32];

	if (settings_check_url(url, why, sizeof(why)) < 0)
		return bad_value(o, url, why, err, errlen);
	if (nth == 1)
		config_drop_mirror_url_targets(cfg);
	snprintf(name, sizeof(name), "u%zu", nth);
	for (size_t i = 0; i < cfg->n_targets; i++) {
		if (!strcmp(cfg->targets[i].name, name)) {
			snprintf(why, sizeof(why), "makes target '%s', already defined at %s", name,
				 cfg->targets[i].origin ? cfg->targets[i].origin : "?");
			return bad_value(o, url, why, err, errlen);
		}
	}
	if (cfg->n_targets >= TARGET_MAX) {
		snprintf(why, sizeof(why), "too many targets (at most %d)", TARGET_MAX);
		return bad_value(o, url, why, err, errlen);
	}
	t = config_add_target(cfg, name, url);
	t->from_mirror_url = true;
	t->origin = xstrdup("command line (-u)");
	return CLI_RUN;
}

static int add_mirror_header(struct agent_config *cfg, const struct cli_option *o,
			     const char *value, bool first, char *err, size_t errlen)
{
	struct header_pair h;
	char why[300];

	if (units_parse_header(value, &h, why, sizeof(why)) < 0)
		return bad_value(o, value, why, err, errlen);
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

	if (config_dump_ini(cfg, &text, why, sizeof(why)) < 0) {
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

static int apply(int argc, char **args, const struct option *lo, struct agent_config *cfg,
		 char *err, size_t errlen)
{
	bool *list_seen = xcalloc(settings_count(), sizeof(bool));
	size_t n_urls = 0, n_headers = 0;
	int c, rc = CLI_RUN;

	optind = 0;
	opterr = 0;
	while (rc == CLI_RUN && (c = getopt_long(argc, args, SHORT_OPTIONS, lo, NULL)) != -1) {
		const struct cli_option *o = find_option(c);
		const struct setting *s;
		char why[400];
		size_t idx;

		if (!o) /* cannot happen: the first pass rejected it */
			continue;
		switch (c) {
		case 'D':
			cfg->daemonize = true;
			continue;
		case OPT_CHECK_CONFIG:
			cfg->check_only = true;
			continue;
		case 'f':
		case 'h':
		case 'V':
			continue;
		case 'u':
			rc = add_url_target(cfg, o, optarg, ++n_urls, err, errlen);
			continue;
		case OPT_MIRROR_HEADER:
			rc = add_mirror_header(cfg, o, optarg, n_headers++ == 0, err, errlen);
			continue;
		default:
			break;
		}
		s = settings_find(SETTING_AGENT, o->setting);
		idx = (size_t)(s - settings_at(0));
		/* --access-log alone switches it on */
		if (setting_apply(s, cfg, NULL, optarg ? optarg : "true", s->list && list_seen[idx],
				  why, sizeof(why)) < 0)
			rc = bad_value(o, optarg ? optarg : "", why, err, errlen);
		list_seen[idx] = true;
	}
	free(list_seen);
	return rc;
}

int cli_parse(int argc, char **argv, struct agent_config *cfg, char *err, size_t errlen)
{
	/* getopt_long permutes its array: work on a copy, so argv can be parsed
	 * again on reload */
	char **args = xcalloc((size_t)argc + 1, sizeof(char *));
	struct option *lo = long_options();
	struct first_pass fp = { 0 };
	char why[512];
	int rc;

	memcpy(args, argv, (size_t)argc * sizeof(char *));
	rc = scan(argc, args, lo, &fp, err, errlen);
	if (rc != CLI_RUN)
		goto out;
	if (fp.help) {
		cli_print_help(stdout);
		rc = CLI_EXIT;
		goto out;
	}
	if (fp.version) {
		cli_print_version(stdout);
		rc = CLI_EXIT;
		goto out;
	}
	if (fp.config) {
		/* with -u on the command line the file need not name a target */
		if (ini_load(fp.config, cfg, !fp.has_url, err, errlen) < 0) {
			rc = CLI_ERROR;
			goto out;
		}
		free(cfg->config_file);
		cfg->config_file = xstrdup(fp.config);
	}
	memcpy(args, argv, (size_t)argc * sizeof(char *));
	rc = apply(argc, args, lo, cfg, err, errlen);
	if (rc != CLI_RUN)
		goto out;
	config_apply_mirror_headers(cfg);
	if (config_validate(cfg, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "%s", why);
		rc = CLI_ERROR;
		goto out;
	}
	if (cfg->check_only)
		rc = print_effective_config(cfg, err, errlen);
out:
	if (rc == CLI_ERROR)
		units_one_line(err);
	free(lo);
	free(args);
	fflush(stdout);
	return rc;
}

void cli_print_version(FILE *out)
{
	fprintf(out, "spoa-mirror %s\n", PACKAGE_VERSION);
}

void cli_print_help(FILE *out)
{
	char idle[32], drain[32], monitor[32], frame[32], reasm[32], qbytes[32];

	units_format_time_ms(CFG_DEFAULT_IDLE_TIMEOUT_MS, idle, sizeof(idle));
	units_format_time_ms(CFG_DEFAULT_DRAIN_TIMEOUT_MS, drain, sizeof(drain));
	units_format_time_ms(CFG_DEFAULT_MONITOR_INTERVAL_MS, monitor, sizeof(monitor));
	units_format_size(CFG_DEFAULT_MAX_FRAME_SIZE, frame, sizeof(frame));
	units_format_size(CFG_DEFAULT_REASSEMBLY_MAX, reasm, sizeof(reasm));
	units_format_size(CFG_DEFAULT_QUEUE_MAX_BYTES, qbytes, sizeof(qbytes));
	fprintf(out,
		"Usage: spoa-mirror [OPTION]... -u URL\n"
		"       spoa-mirror -f FILE [OPTION]...\n"
		"Receives HTTP requests from HAProxy over SPOP and replays copies to shadow\n"
		"backends, fire-and-forget.\n"
		"\n"
		"SPOP listener:\n"
		"  -a, --address=ADDR            address to listen on (default: %s), or\n"
		"                                unix:PATH (or /PATH) for a UNIX socket\n"
		"  -p, --port=PORT               port to listen on (default: %u)\n"
		"      --socket-mode=MODE        the UNIX socket's permission bits, octal\n"
		"                                (default: %04o)\n"
		"      --socket-owner=USER[:GROUP]\n"
		"                                the UNIX socket's owner and group, e.g. HAProxy's\n"
		"                                (default: the agent's own)\n"
		"  -b, --connection-backlog=N    listen backlog (default: %u)\n"
		"  -c, --capability=NAME         announce only the capabilities given: fragmentation,\n"
		"                                pipelining, async; repeatable (default: all three)\n"
		"  -m, --max-frame-size=SIZE     largest SPOP frame (default: %s; HAProxy's is used\n"
		"                                when smaller)\n"
		"      --reassembly-max=SIZE     largest fragmented NOTIFY put back together (default: %s)\n"
		"      --max-connections=N       SPOP connections open at once (default: %u)\n"
		"      --idle-timeout=TIME       close SPOP connections idle this long, 0 = never\n"
		"                                (default: %s)\n"
		"      --message=NAME            SPOE message to mirror; repeatable; replaces the\n"
		"                                default list (mirror-request, mirror)\n"
		"  -t, --processing-delay=TIME   wait before handling each message, for tests\n"
		"                                (default: 0)\n"
		"  -B, --libev-backend=NAME      select, poll, epoll, linux_aio, io_uring, kqueue,\n"
		"                                devpoll or port (default: libev's choice)\n"
		"\n"
		"Mirroring:\n"
		"  -u, --mirror-url=URL          mirror to http(s)://HOST[:PORT][/PREFIX]; repeatable,\n"
		"                                one target each, named u1, u2, ... (replaces the\n"
		"                                file's mirror-url)\n"
		"      --mirror-header='N: V'    add this header to the -u and mirror-url targets;\n"
		"                                repeatable (replaces the file's mirror-headers)\n"
		"  -n, --num-workers=N           replay worker threads (default: %u)\n"
		"      --queue-max-entries=N     requests alive at once, beyond that dropped\n"
		"                                (default: %u)\n"
		"      --queue-max-bytes=SIZE    bytes of requests alive at once (default: %s)\n"
		"      --drain-timeout=TIME      on stop, time left to queued and running mirrors\n"
		"                                (default: %s)\n"
		"  -I, --mirror-interface=NAME   interface or address for connections to targets\n"
		"                                (default: any)\n"
		"  -P, --mirror-local-port=PORT[-PORT]\n"
		"                                local port or range for connections to targets\n"
		"                                (default: any)\n"
		"\n"
		"Operation:\n"
		"  -f, --config=FILE             read an INI file first; other options override it\n"
		"      --check-config            check the configuration, print it as an INI file\n"
		"                                (defaults, file and options merged; feed it back\n"
		"                                with -f) and exit\n"
		"      --metrics=ADDR:PORT       serve /metrics, /healthz and /readyz over HTTP on\n"
		"                                ADDR:PORT, [IPV6]:PORT or :PORT (default: off)\n"
		"      --log-level=LEVEL         error, warn, info or debug (default: info)\n"
		"  -l, --logfile=[MODE:]FILE     log to FILE instead of stderr; MODE a appends\n"
		"                                (default), w truncates; A and W also accepted\n"
		"      --access-log[=BOOL]       log one line per finished mirror (default: off)\n"
		"  -i, --monitor-interval=TIME   repeated errors (shadow, SPOP) are logged once per interval\n"
		"                                (default: %s)\n"
		"  -D, --daemonize               run in the background\n"
		"  -F, --pidfile=FILE            write the process id to FILE (and lock it)\n"
		"  -r, --runtime=TIME            stop after TIME, 0 = unlimited (default: 0)\n"
		"  -h, --help                    show this text and exit\n"
		"  -V, --version                 show the version and exit\n"
		"\n"
		"TIME is milliseconds, or a number with a unit us, ms, s, m, h or d (500, 1.5s, 2m).\n"
		"SIZE is bytes, or a number with k, m or g (512k, 4m).\n"
		"Exit status: 0 after a clean stop, 1 on a runtime error, 2 on a configuration\n"
		"error. See spoa-mirror(8) and spoa-mirror.ini.example for the INI file.\n",
		CFG_DEFAULT_ADDRESS, CFG_DEFAULT_PORT, CFG_DEFAULT_SOCKET_MODE, CFG_DEFAULT_BACKLOG,
		frame, reasm,
		CFG_DEFAULT_MAX_CONNECTIONS, idle, CFG_DEFAULT_WORKERS, CFG_DEFAULT_QUEUE_MAX_ENTRIES,
		qbytes, drain, monitor);
}

/* The table of settings (see settings.h): the names its rows use, the
 * checks of single values, the table itself, then what walks it. Ranges
 * and defaults live in the table, once; each type's reading and writing
 * lives in setting_types.c. */
#include "settings.h"

#include <ctype.h>
#include <errno.h>
#include <ev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "http_token.h"
#include "refuse.h"
#include "json_compare.h"
#include "listener.h"
#include "spop.h"
#include "strbuf.h"
#include "units.h"
#include "url.h"
#include "xalloc.h"

/* Names for values (struct setting_name): SPOP capabilities, log levels,
 * host policies, compare levels, libev backends. TYPE_ENUM stores an int. */
_Static_assert(sizeof(enum log_level) == sizeof(int) && sizeof(enum host_policy) == sizeof(int) &&
		       sizeof(enum verdict_level) == sizeof(int),
	       "TYPE_ENUM fields are int-sized");

static const struct setting_name caps[] = {
	{ "pipelining", SPOP_CAP_PIPELINING },
	{ "async", SPOP_CAP_ASYNC },
	{ "fragmentation", SPOP_CAP_FRAGMENTATION },
	{ NULL, 0 },
};

static const struct setting_name log_levels[] = {
	{ "error", LOG_LVL_ERROR }, { "warn", LOG_LVL_WARN },
	{ "info", LOG_LVL_INFO },   { "debug", LOG_LVL_DEBUG },
	{ "warning", LOG_LVL_WARN }, { NULL, 0 },
};

static const struct setting_name hosts[] = {
	{ "target", HOST_FROM_TARGET },
	{ "client", HOST_FROM_CLIENT },
	{ NULL, 0 },
};

static const struct setting_name compare_levels[] = {
	{ "off", VERDICT_LEVEL_OFF },         { "status", VERDICT_LEVEL_STATUS },
	{ "headers", VERDICT_LEVEL_HEADERS }, { "body", VERDICT_LEVEL_BODY },
	{ NULL, 0 },
};

/* ---- checks of single values ------------------------------------------ */

static int check_socket_owner(const char *v, char *why, size_t n)
{
	uid_t uid;
	gid_t gid;

	return *v && listener_parse_owner(v, &uid, &gid, why, n) < 0 ? -1 : 0;
}

static int check_address(const char *v, char *why, size_t n)
{
	if (!*v || strpbrk(v, " \t"))
		return refuse(why, n, "must be an address to listen on, like 0.0.0.0 or ::");
	return 0;
}

static int check_message(const char *v, char *why, size_t n)
{
	if (strpbrk(v, " \t"))
		return refuse(why, n, "message name '%s' has a space", v);
	return 0;
}

static int check_libev_backend(const char *v, char *why, size_t n)
{
	int flags;

	if (!*v || !strcasecmp(v, "auto"))
		return 1;
	flags = settings_libev_backend_flags(v);
	if (flags < 0)
		return refuse(why, n, "unknown libev backend (select, poll, epoll, linux_aio, "
				      "io_uring, kqueue, devpoll or port)");
	if (!((unsigned)flags & ev_supported_backends()))
		return refuse(why, n, "libev backend '%s' is not available on this system", v);
	return 0;
}

static int check_interface(const char *v, char *why, size_t n)
{
	if (strpbrk(v, " \t"))
		return refuse(why, n,
			      "must be an interface name, an address, or if!NAME / host!NAME");
	return 0;
}

/* 0 follows max-frame-size; anything else must hold at least one frame */
static int check_reassembly_max(const char *v, char *why, size_t n)
{
	size_t x;

	if (units_parse_size(v, 0, SIZE_MAX, &x, why, n) < 0)
		return -1;
	if (x && x < SPOP_MIN_FRAME_SIZE)
		return refuse(why, n, "must be 0 or at least %u", SPOP_MIN_FRAME_SIZE);
	return 0;
}

static int check_metrics(const char *v, char *why, size_t n)
{
	struct sockaddr_storage ss;
	socklen_t len;

	if (!strcasecmp(v, "off"))
		return 1;
	return *v && listener_parse_addr(v, &ss, &len, why, n) < 0 ? -1 : 0;
}

static int check_logfile(const char *v, char *why, size_t n)
{
	if (v[0] && v[1] == ':') {
		if (!strchr("awAW", v[0]))
			return refuse(why, n, "unknown log file mode '%c' (a, w, A or W before "
					      "the ':')", v[0]);
		if (!v[2])
			return refuse(why, n, "no file name after the mode");
	}
	return 0;
}

static int check_header_name(const char *v, char *why, size_t n)
{
	if (!http_token(slice_from_cstr(v)))
		return refuse(why, n, "'%s' is not a valid header name", v);
	return 0;
}

static int check_ca_file(const char *v, char *why, size_t n)
{
	/* checked now: a typo should stop the start, not fail every mirror */
	if (*v && access(v, R_OK) < 0)
		return refuse(why, n, "cannot read '%s': %s", v, strerror(errno));
	return 0;
}

/* ---- the table ---------------------------------------------------------- */

/* Upper bounds that keep a typo from asking for absurd memory or threads. */
#define MAX_SIZE ((double)(1u << 30)) /* 1 GiB: frame, reassembly, queue bytes */
#define MIN_FRAME ((double)SPOP_MIN_FRAME_SIZE)

#define FIELD(st, f) .off = offsetof(struct st, f), .size = sizeof(((struct st *)0)->f)
#define AGENT(key, alias_, c, type_, f) \
	.name = key, .alias = alias_, .scope = SETTING_AGENT, .letter = c, .type = type_, \
	FIELD(agent_config, f)
#define TARGET(key, type_, f) .name = key, .scope = SETTING_TARGET, .type = type_, \
	FIELD(target_config, f)
#define COUNT(st, f) .count_off = offsetof(struct st, f)
#define CLI_OWN(key, c, arg_, help_)                                                     \
	{ .name = key, .scope = SETTING_CLI, .letter = c, .type = TYPE_CLI, .arg = arg_, \
	  .help = help_ }
#define HEADING(title) { .scope = SETTING_CLI, .type = TYPE_HEADING, .help = title }

/* The INI rows in the order of doc/spoa-mirror.ini.example, which the
 * configuration dump follows; --help follows the table. A default is the
 * text the INI file would hold; none is zero, empty or off. */
static const struct setting table[] = {
	HEADING("SPOP listener:"),
	{ AGENT("address", NULL, 'a', TYPE_STRING, address), .check = check_address,
	  .dflt = "0.0.0.0", .arg = "ADDR",
	  .help = "address to listen on; unix:PATH or /PATH: a UNIX socket" },
	{ AGENT("port", NULL, 'p', TYPE_UINT, port), .lo = 1, .hi = 65535, .dflt = "12345",
	  .arg = "PORT", .help = "port to listen on" },
	/* its owner and group only */
	{ AGENT("socket-mode", NULL, 0, TYPE_MODE, socket_mode), .dflt = "0660", .arg = "MODE",
	  .help = "a UNIX socket's permission bits, in octal" },
	{ AGENT("socket-owner", NULL, 0, TYPE_STRING, socket_owner), .check = check_socket_owner,
	  .arg = "USER[:GROUP]",
	  .help = "a UNIX socket's owner and group, names or numbers (default: ours)" },
	/* HAProxy opens many SPOP connections at once; the incumbent's backlog
	 * of 10 resets them under bursts */
	{ AGENT("backlog", "connection-backlog", 'b', TYPE_UINT, backlog), .lo = 1, .hi = 65535,
	  .dflt = "1024", .arg = "N", .help = "listen backlog" },
	{ AGENT("capabilities", "capability", 'c', TYPE_BITS, caps), .names = caps,
	  .dflt = "pipelining, async, fragmentation", .arg = "NAME",
	  .help = "announce only the capabilities given: fragmentation, pipelining, async; "
		  "repeatable" },
	/* high enough that HAProxy's tune.bufsize is the only knob for big
	 * bodies: the frame size used is min(this, HAProxy's) */
	{ AGENT("max-frame-size", NULL, 'm', TYPE_SIZE, max_frame_size), .lo = MIN_FRAME,
	  .hi = MAX_SIZE, .dflt = "4m", .arg = "SIZE",
	  .help = "largest SPOP frame; HAProxy's is used when smaller" },
	{ AGENT("reassembly-max", NULL, 0, TYPE_SIZE, reassembly_max), .hi = MAX_SIZE,
	  .check = check_reassembly_max, .dflt = "0", .arg = "SIZE",
	  .help = "largest fragmented NOTIFY put back together, 0 = four frames" },
	{ AGENT("max-connections", NULL, 0, TYPE_UINT, max_connections), .lo = 1, .hi = 1e6,
	  .dflt = "1000", .arg = "N", .help = "SPOP connections open at once" },
	{ AGENT("idle-timeout", NULL, 0, TYPE_TIME, idle_timeout_ms), .dflt = "5m", .arg = "TIME",
	  .help = "close SPOP connections idle this long, 0 = never" },
	/* 64 frames of the default size; with the queue's 32 MiB and the idle
	 * process it keeps the agent under 512 MiB whatever peers send */
	{ AGENT("spop-memory-max", NULL, 0, TYPE_SIZE, spop_memory_max), .hi = 64.0 * MAX_SIZE,
	  .dflt = "256m", .arg = "SIZE",
	  .help = "read, reassembly and output buffers of all SPOP connections, 0 = no limit" },
	/* a frame still incomplete this long after its first byte belongs to
	 * an event HAProxy gave up on (timeout processing is far shorter) */
	{ AGENT("frame-timeout", NULL, 0, TYPE_TIME, frame_timeout_ms), .dflt = "5s",
	  .arg = "TIME",
	  .help = "a frame must be complete this long after its first byte, 0 = no limit" },
	{ AGENT("messages", "message", 0, TYPE_LIST, message_names), .lo = 1,
	  COUNT(agent_config, n_message_names), .check = check_message,
	  .dflt = "mirror-request, mirror", .arg = "NAME",
	  .help = "SPOE message to mirror; repeatable; replaces the default list" },
	{ AGENT("processing-delay", NULL, 't', TYPE_TIME, processing_delay_ms), .dflt = "0",
	  .arg = "TIME", .help = "wait before handling each message, for tests" },
	{ AGENT("libev-backend", NULL, 'B', TYPE_STRING, libev_backend),
	  .check = check_libev_backend, .arg = "NAME",
	  .help = "select, poll, epoll, linux_aio, io_uring, kqueue, devpoll or port (default: "
		  "libev's choice)" },
	HEADING("Mirroring:"),
	{ AGENT("workers", "num-workers", 'n', TYPE_UINT, num_workers), .lo = 1, .hi = 256,
	  .dflt = "1", .arg = "N", .help = "replay worker threads" },
	{ AGENT("queue-max-entries", NULL, 0, TYPE_UINT, queue_max_entries), .lo = 1, .hi = 1e8,
	  .dflt = "10000", .arg = "N", .help = "requests alive at once, beyond that dropped" },
	{ AGENT("queue-max-bytes", NULL, 0, TYPE_SIZE, queue_max_bytes), .lo = 1024,
	  .hi = MAX_SIZE, .dflt = "32m", .arg = "SIZE", .help = "bytes of requests alive at once" },
	{ AGENT("drain-timeout", NULL, 0, TYPE_TIME, drain_timeout_ms), .dflt = "5s",
	  .arg = "TIME", .help = "on stop, time left to queued and running mirrors" },
	{ AGENT("mirror-url", NULL, 'u', TYPE_MIRROR_URL, targets), .arg = "URL",
	  .help = "mirror to http(s)://HOST[:PORT][/PREFIX]; repeatable, one target each, named "
		  "u1, u2, ... (replaces the file's mirror-url)" },
	{ AGENT("mirror-headers", "mirror-header", 0, TYPE_HEADERS, mirror_headers),
	  COUNT(agent_config, n_mirror_headers), .arg = "'N: V'",
	  .help = "add this header to the -u and mirror-url targets; repeatable (replaces the "
		  "file's mirror-headers)" },
	{ AGENT("mirror-interface", NULL, 'I', TYPE_STRING, mirror_interface),
	  .check = check_interface, .arg = "NAME",
	  .help = "interface or address for connections to targets (default: any)" },
	{ AGENT("mirror-local-port", NULL, 'P', TYPE_PORTS, mirror_local_port),
	  .arg = "PORT[-PORT]",
	  .help = "local port or range for connections to targets (default: any)" },
	HEADING("Shadow verdicts (targets with compare on):"),
	{ AGENT("response-messages", "response-message", 0, TYPE_LIST, response_message_names),
	  .lo = 1, COUNT(agent_config, n_response_message_names), .check = check_message,
	  .dflt = "mirror-response", .arg = "NAME",
	  .help = "SPOE message carrying the primary's answer; repeatable; replaces the default "
		  "list" },
	/* a second of traffic at 10k req/s */
	{ AGENT("join-max-entries", NULL, 0, TYPE_UINT, join_max_entries), .lo = 1, .hi = 1e7,
	  .dflt = "10000", .arg = "N",
	  .help = "requests waiting for their answers at once, beyond that dropped" },
	/* 10000 entries of two 3 KiB answers; bigger answers fill it first */
	{ AGENT("join-max-bytes", NULL, 0, TYPE_SIZE, join_max_bytes), .lo = 64 * 1024,
	  .hi = MAX_SIZE, .dflt = "64m", .arg = "SIZE",
	  .help = "bytes of answers waiting for their other side" },
	/* 64 answers at the default compare-body-max, or some 8000 typical 4
	 * KiB ones (10k req/s at a 0.8 s answer time); without it capture
	 * memory would be transfers in flight x compare-body-max */
	{ AGENT("compare-capture-max", NULL, 0, TYPE_SIZE, compare_capture_max), .lo = 64 * 1024,
	  .hi = MAX_SIZE, .dflt = "64m", .arg = "SIZE",
	  .help = "bytes of shadows' answers being captured at once; beyond, not comparable" },
	/* the target's default timeout (5 s) plus time for the primary's
	 * answer to come back */
	{ AGENT("join-timeout", NULL, 0, TYPE_TIME, join_timeout_ms), .lo = 1, .dflt = "10s",
	  .arg = "TIME",
	  .help = "an answer's other side must come within TIME of the request, else not "
		  "comparable" },
	{ AGENT("diff-log", NULL, 0, TYPE_STRING, diff_log), .check = check_logfile,
	  .arg = "[MODE:]FILE",
	  .help = "write one JSON line per differing answer to FILE (default: off)" },
	{ AGENT("diff-log-bodies", NULL, 0, TYPE_BOOL, diff_log_bodies), .dflt = "no",
	  .arg = "BOOL",
	  .help = "put both bodies, shortened, in the diff log (they may hold personal data)" },
	/* enough to read, not enough to fill a disk when a release breaks
	 * every answer */
	{ AGENT("diff-log-rate", NULL, 0, TYPE_DECIMAL, diff_log_rate), .hi = 1e6, .dflt = "10",
	  .arg = "N", .help = "diff-log lines per second per target, 0 = unlimited" },
	HEADING("Operation:"),
	CLI_OWN("config", 'f', "FILE", "read an INI file first; the options override it"),
	{ .name = "check-config", .scope = SETTING_CLI, .type = TYPE_FLAG,
	  FIELD(agent_config, check_only),
	  .help = "check the configuration, print it as an INI file (defaults, file and options "
		  "merged; feed it back with -f) and exit" },
	{ AGENT("metrics", NULL, 0, TYPE_STRING, metrics_address), .check = check_metrics,
	  .arg = "ADDR:PORT",
	  .help = "serve /metrics, /healthz, /readyz, /compare and /compare.html over HTTP on "
		  "ADDR:PORT, [IPV6]:PORT or :PORT (default: off)" },
	{ AGENT("log-level", NULL, 0, TYPE_ENUM, log_level), .names = log_levels, .dflt = "info",
	  .arg = "LEVEL", .help = "error, warn, info or debug" },
	{ AGENT("logfile", NULL, 'l', TYPE_STRING, logfile), .check = check_logfile,
	  .arg = "[MODE:]FILE",
	  .help = "log to FILE instead of stderr; MODE a appends (default), w truncates; A and W "
		  "also accepted" },
	{ AGENT("access-log", NULL, 0, TYPE_BOOL, access_log), .dflt = "no", .arg = "BOOL",
	  .help = "log one line per finished mirror" },
	{ AGENT("monitor-interval", NULL, 'i', TYPE_TIME, monitor_interval_ms), .lo = 1,
	  .dflt = "5s", .arg = "TIME",
	  .help = "repeated errors (shadow, SPOP) are logged once per interval" },
	{ .name = "daemonize", .scope = SETTING_CLI, .letter = 'D', .type = TYPE_FLAG,
	  FIELD(agent_config, daemonize), .help = "run in the background" },
	{ AGENT("runtime", NULL, 'r', TYPE_TIME, runtime_ms), .dflt = "0", .arg = "TIME",
	  .help = "stop after TIME, 0 = unlimited" },
	{ AGENT("pidfile", NULL, 'F', TYPE_STRING, pidfile), .arg = "FILE",
	  .help = "write the process id to FILE (and lock it)" },
	CLI_OWN("help", 'h', NULL, "show this text and exit"),
	CLI_OWN("version", 'V', NULL, "show the version and exit"),

	{ TARGET("url", TYPE_STRING, url), .check = settings_check_url },
	{ TARGET("sample", TYPE_PERCENT, sample_percent), .hi = 100, .dflt = "100" },
	{ TARGET("sample-key", TYPE_SAMPLE_KEY, sample_key), .dflt = "random" },
	{ TARGET("timeout", TYPE_TIME, timeout_ms), .lo = 1, .dflt = "5s" },
	{ TARGET("connect-timeout", TYPE_TIME, connect_timeout_ms), .lo = 1, .dflt = "1s" },
	{ TARGET("add-headers", TYPE_HEADERS, add_headers), COUNT(target_config, n_add_headers) },
	{ TARGET("remove-headers", TYPE_LIST, remove_headers),
	  COUNT(target_config, n_remove_headers), .check = check_header_name },
	{ TARGET("host", TYPE_ENUM, host_policy), .names = hosts, .dflt = "target" },
	{ TARGET("send-body", TYPE_BOOL, send_body), .dflt = "yes" },
	{ TARGET("send-headers", TYPE_BOOL, send_headers), .dflt = "yes" },
	{ TARGET("replay-truncated", TYPE_BOOL, replay_truncated), .dflt = "no" },
	/* absorbs bursts; libcurl opens at most 256 connections per worker */
	{ TARGET("max-inflight", TYPE_UINT, max_inflight), .hi = 1e6, .dflt = "4096" },
	{ TARGET("max-connections", TYPE_UINT, max_connections), .hi = 1e6, .dflt = "0" },
	{ TARGET("rate-limit", TYPE_DECIMAL, rate_limit), .hi = 1e9, .dflt = "0" },
	{ TARGET("http2", TYPE_BOOL, http2), .dflt = "no" },
	{ TARGET("tls-verify", TYPE_BOOL, tls_verify), .dflt = "yes" },
	{ TARGET("ca-file", TYPE_STRING, ca_file), .check = check_ca_file },
	{ TARGET("compare", TYPE_ENUM, compare), .names = compare_levels, .dflt = "off" },
	{ TARGET("compare-ignore-headers", TYPE_LIST, compare_ignore_headers),
	  COUNT(target_config, n_compare_ignore_headers), .check = check_header_name },
	/* compiled, all together, with the target set */
	{ TARGET("compare-ignore-json", TYPE_LIST, compare_ignore_json),
	  COUNT(target_config, n_compare_ignore_json), .check = json_pointer_check },
	/* holds nearly every API answer whole; at most one such buffer per
	 * transfer in flight to a target with compare = body */
	{ TARGET("compare-body-max", TYPE_SIZE, compare_body_max), .hi = MAX_SIZE, .dflt = "1m" },
};

#define N_SETTINGS (sizeof(table) / sizeof(table[0]))

/* Key comparison where '_' and '-' match and case does not matter. */
static bool key_eq(const char *a, const char *b)
{
	for (; *a && *b; a++, b++) {
		char x = *a == '_' ? '-' : (char)tolower((unsigned char)*a), y = *b;

		if (x != y)
			return false;
	}
	return *a == *b;
}

const struct setting *settings_find(enum setting_scope scope, const char *key)
{
	for (size_t i = 0; i < N_SETTINGS; i++) {
		const struct setting *s = &table[i];

		if (s->scope == scope && s->name &&
		    (key_eq(key, s->name) || (s->alias && key_eq(key, s->alias))))
			return s;
	}
	return NULL;
}

size_t settings_count(void)
{
	return N_SETTINGS;
}

const struct setting *settings_at(size_t i)
{
	return i < N_SETTINGS ? &table[i] : NULL;
}

bool setting_is_list(const struct setting *s)
{
	return s->type == TYPE_LIST || s->type == TYPE_HEADERS || s->type == TYPE_BITS;
}

const char *setting_option(const struct setting *s)
{
	if (s->scope == SETTING_TARGET || !s->name)
		return NULL;
	return s->alias ? s->alias : s->name;
}

int setting_apply(const struct setting *s, struct agent_config *cfg, struct target_config *t,
		  const char *value, bool append, char *why, size_t n)
{
	return setting_parse(s, s->scope == SETTING_TARGET ? (void *)t : (void *)cfg, value, append,
			     why, n);
}

int setting_format(const struct setting *s, const struct agent_config *cfg,
		   const struct target_config *t, struct strbuf *out, char *why, size_t n)
{
	return setting_print(s, s->scope == SETTING_TARGET ? (const void *)t : (const void *)cfg,
			     out, why, n);
}

/* The rows that hold a field of `scope`'s struct (command-line flags are
 * agent_config fields too). */
static bool holds_field(const struct setting *s, enum setting_scope scope)
{
	return s->size &&
	       (s->scope == scope || (scope == SETTING_AGENT && s->scope == SETTING_CLI));
}

void settings_set_defaults(enum setting_scope scope, void *base)
{
	for (size_t i = 0; i < N_SETTINGS; i++) {
		const struct setting *s = &table[i];
		char why[200];

		if (!holds_field(s, scope) || !s->dflt)
			continue;
		/* the table's own text: a failure is a bug, caught by every test */
		if (setting_parse(s, base, s->dflt, false, why, sizeof(why)) < 0) {
			fprintf(stderr, "spoa-mirror: default of '%s' refused: %s\n", s->name, why);
			abort();
		}
	}
}

void settings_free_fields(enum setting_scope scope, void *base)
{
	for (size_t i = 0; i < N_SETTINGS; i++)
		if (holds_field(&table[i], scope))
			setting_free(&table[i], base);
}

void settings_copy_fields(enum setting_scope scope, void *dst, const void *src)
{
	for (size_t i = 0; i < N_SETTINGS; i++)
		if (holds_field(&table[i], scope))
			setting_copy(&table[i], dst, src);
}

bool settings_same(enum setting_scope scope, const void *a, const void *b)
{
	struct strbuf x = STRBUF_INIT, y = STRBUF_INIT;
	char why[200];
	bool same = true;

	for (size_t i = 0; i < N_SETTINGS && same; i++) {
		const struct setting *s = &table[i];

		if (s->scope != scope || !setting_has_text(s))
			continue;
		strbuf_reset(&x);
		strbuf_reset(&y);
		same = setting_print(s, a, &x, why, sizeof(why)) == 0 &&
		       setting_print(s, b, &y, why, sizeof(why)) == 0 && x.len == y.len &&
		       (!x.len || !memcmp(x.data, y.data, x.len));
	}
	strbuf_free(&x);
	strbuf_free(&y);
	return same;
}

int settings_check_url(const char *url, char *why, size_t n)
{
	struct target_url u;

	if (target_url_parse(url, &u, why, n) < 0)
		return -1;
	target_url_free(&u);
	return 0;
}

int settings_validate(const struct agent_config *cfg, char *err, size_t errlen)
{
	if (cfg->n_targets == 0)
		return refuse(err, errlen,
			      "no mirror target: give -u URL or a [target NAME] section");
	if (cfg->max_frame_size < SPOP_MIN_FRAME_SIZE)
		return refuse(err, errlen, "max-frame-size %u is below the protocol minimum %u",
			      cfg->max_frame_size, SPOP_MIN_FRAME_SIZE);
	/* one connection's largest frame and reassembly must fit, or it
	 * would wait for room that never comes */
	if (cfg->spop_memory_max &&
	    cfg->spop_memory_max < (size_t)cfg->max_frame_size + config_reassembly_max(cfg))
		return refuse(err, errlen,
			      "spop-memory-max %zu is below max-frame-size + reassembly-max (%zu)",
			      cfg->spop_memory_max,
			      (size_t)cfg->max_frame_size + config_reassembly_max(cfg));
	for (size_t i = 0; i < cfg->n_targets; i++) {
		const struct target_config *t = &cfg->targets[i];
		char why[256];

		if (settings_check_url(t->url, why, sizeof(why)) < 0)
			return refuse(err, errlen, "target '%s': %s", t->name, why);
		for (size_t j = 0; j < i; j++)
			if (!strcmp(cfg->targets[j].name, t->name))
				return refuse(err, errlen, "duplicate target name '%s'", t->name);
	}
	return 0;
}

int settings_libev_backend_flags(const char *name)
{
	static const struct setting_name backends[] = {
		{ "select", EVBACKEND_SELECT },
		{ "poll", EVBACKEND_POLL },
		{ "epoll", EVBACKEND_EPOLL },
#ifdef EVBACKEND_LINUXAIO
		{ "linux_aio", EVBACKEND_LINUXAIO },
#endif
#ifdef EVBACKEND_IOURING
		{ "io_uring", EVBACKEND_IOURING },
#endif
		{ "kqueue", EVBACKEND_KQUEUE },
		{ "devpoll", EVBACKEND_DEVPOLL },
		{ "port", EVBACKEND_PORT },
		{ NULL, 0 },
	};

	return name ? setting_name_value(backends, name) : 0;
}

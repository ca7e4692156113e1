/* The table of settings (see settings.h): typed parsers and printers,
 * the checks of single values, then the table itself. Ranges live in the
 * table, once; defaults live in config.c. */
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
#include "json_compare.h"
#include "listener.h"
#include "spop.h"
#include "strbuf.h"
#include "units.h"
#include "url.h"
#include "xalloc.h"

#define AT(base, off, type) ((type *)(void *)((char *)(base) + (off)))
#define CAT(base, off, type) ((const type *)(const void *)((const char *)(base) + (off)))

/* Each type's parser stores v in its field of base (an agent_config or a
 * target_config); its printer appends the field as text the parser reads
 * back. */
#define PARSE(name) \
	static int name(const struct setting *s, void *base, const char *v, bool append, char *why, \
			size_t n)
#define PRINT(name) \
	static int name(const struct setting *s, const void *base, struct strbuf *out, char *why, \
			size_t n)
typedef int parse_fn(const struct setting *s, void *base, const char *v, bool append, char *why,
		     size_t n);
typedef int print_fn(const struct setting *s, const void *base, struct strbuf *out, char *why,
		     size_t n);

static void free_strv(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		xfree(v[i]);
	xfree(v);
}

/* ---- one parser and one printer per type ------------------------------ */

PARSE(parse_flag)
{
	*AT(base, s->off, bool) = true;
	return 0;
}

static void store_uint(void *p, size_t size, unsigned long long x)
{
	if (size == sizeof(uint16_t))
		*(uint16_t *)p = (uint16_t)x;
	else if (size == sizeof(uint32_t))
		*(uint32_t *)p = (uint32_t)x;
	else
		*(uint64_t *)p = (uint64_t)x;
}

static unsigned long long load_uint(const void *p, size_t size)
{
	if (size == sizeof(uint16_t))
		return *(const uint16_t *)p;
	if (size == sizeof(uint32_t))
		return *(const uint32_t *)p;
	return *(const uint64_t *)p;
}

PARSE(parse_uint)
{
	unsigned long long x;

	if (units_parse_uint(v, (unsigned long long)s->lo, (unsigned long long)s->hi, &x, why, n) < 0)
		return -1;
	store_uint(AT(base, s->off, char), s->size, x);
	return 0;
}

PRINT(print_uint)
{
	strbuf_printf(out, "%llu", load_uint(CAT(base, s->off, char), s->size));
	return 0;
}

PARSE(parse_mode)
{
	return listener_parse_mode(v, AT(base, s->off, unsigned), why, n);
}

PRINT(print_mode)
{
	strbuf_printf(out, "%04o", *CAT(base, s->off, unsigned));
	return 0;
}

PARSE(parse_size)
{
	size_t x;

	if (s->check && s->check(v, why, n) < 0)
		return -1;
	if (units_parse_size(v, (size_t)s->lo, (size_t)s->hi, &x, why, n) < 0)
		return -1;
	store_uint(AT(base, s->off, char), s->size, x);
	return 0;
}

PRINT(print_size)
{
	char buf[32];

	units_format_size((size_t)load_uint(CAT(base, s->off, char), s->size), buf, sizeof(buf));
	strbuf_puts(out, buf);
	return 0;
}

PARSE(parse_time)
{
	unsigned ms;

	if (units_parse_time_ms(v, &ms, why, n) < 0)
		return -1;
	if (ms < s->lo) {
		snprintf(why, n, "must be longer than 0");
		return -1;
	}
	*AT(base, s->off, unsigned) = ms;
	return 0;
}

PRINT(print_time)
{
	char buf[32];

	units_format_time_ms(*CAT(base, s->off, unsigned), buf, sizeof(buf));
	strbuf_puts(out, buf);
	return 0;
}

PARSE(parse_bool)
{
	return units_parse_bool(v, AT(base, s->off, bool), why, n);
}

PRINT(print_bool)
{
	strbuf_puts(out, *CAT(base, s->off, bool) ? "yes" : "no");
	return 0;
}

PARSE(parse_decimal)
{
	return units_parse_decimal(v, s->lo, s->hi, s->type == TYPE_PERCENT, AT(base, s->off, double),
				   why, n);
}

PRINT(print_decimal)
{
	double v = *CAT(base, s->off, double);
	char buf[64];

	if (units_format_decimal(v, buf, sizeof(buf)) < 0) {
		snprintf(why, n, "%.17g has no exact decimal form this setting reads", v);
		return -1;
	}
	strbuf_puts(out, buf);
	return 0;
}

PARSE(parse_string)
{
	char **slot = AT(base, s->off, char *);
	int keep = s->check ? s->check(v, why, n) : 0;

	if (keep < 0)
		return -1;
	xfree(*slot);
	*slot = keep == 0 && *v ? xstrdup(v) : NULL;
	return 0;
}

PRINT(print_string)
{
	const char *v = *CAT(base, s->off, char *);

	if (v)
		strbuf_puts(out, v);
	return 0;
}

PARSE(parse_list)
{
	char ***list = AT(base, s->off, char **);
	size_t *count = AT(base, s->count_off, size_t), first;

	if (!append) { /* the first value replaces the default list */
		free_strv(*list, *count);
		*list = NULL;
		*count = 0;
	}
	first = *count;
	if (units_parse_list(v, list, count, why, n) < 0)
		return -1;
	if (!*count && s->lo >= 1) {
		snprintf(why, n, "needs at least one SPOE message name");
		return -1;
	}
	for (size_t i = first; i < *count; i++)
		if (s->check((*list)[i], why, n) < 0)
			return -1;
	return 0;
}

PRINT(print_list)
{
	char *const *items = *(char **const *)(const void *)((const char *)base + s->off);

	if (units_format_list(items, *CAT(base, s->count_off, size_t), out) < 0) {
		snprintf(why, n, "a list item is empty, has a comma or blanks at its ends");
		return -1;
	}
	return 0;
}

PARSE(parse_headers)
{
	struct header_pair **list = AT(base, s->off, struct header_pair *);
	size_t *count = AT(base, s->count_off, size_t);

	if (!append) {
		header_pairs_free(*list, *count);
		*list = NULL;
		*count = 0;
	}
	if (units_parse_header_list(v, list, count, why, n) < 0)
		return -1;
	if (s->scope == SETTING_AGENT) /* mirror-headers */
		config_apply_mirror_headers(base);
	return 0;
}

PRINT(print_headers)
{
	units_format_header_list(*CAT(base, s->off, struct header_pair *),
				 *CAT(base, s->count_off, size_t), out);
	return 0;
}

/* Names for values: SPOP capabilities, host policies, libev backends. */
struct named {
	const char *name;
	int value;
};

static const struct named caps[] = {
	{ "pipelining", SPOP_CAP_PIPELINING },
	{ "async", SPOP_CAP_ASYNC },
	{ "fragmentation", SPOP_CAP_FRAGMENTATION },
	{ NULL, 0 },
};

static const struct named hosts[] = {
	{ "target", HOST_FROM_TARGET },
	{ "client", HOST_FROM_CLIENT },
	{ NULL, 0 },
};

static const struct named compare_levels[] = {
	{ "off", VERDICT_LEVEL_OFF },
	{ "status", VERDICT_LEVEL_STATUS },
	{ "headers", VERDICT_LEVEL_HEADERS },
	{ "body", VERDICT_LEVEL_BODY },
	{ NULL, 0 },
};

/* The value named `name` (any case), or -1. */
static int named_value(const struct named *t, const char *name)
{
	for (; t->name; t++)
		if (!strcasecmp(t->name, name))
			return t->value;
	return -1;
}

PARSE(parse_caps)
{
	unsigned *slot = AT(base, s->off, unsigned), bits = 0;
	char **items = NULL;
	size_t count = 0;
	int bit = 0;

	if (units_parse_list(v, &items, &count, why, n) < 0)
		return -1;
	for (size_t i = 0; i < count && bit >= 0; i++) {
		bit = named_value(caps, items[i]);
		if (bit < 0)
			snprintf(why, n, "unknown capability '%s' (fragmentation, pipelining or async)",
				 items[i]);
		bits |= (unsigned)bit;
	}
	free_strv(items, count);
	if (bit < 0)
		return -1;
	*slot = append ? *slot | bits : bits;
	return 0;
}

PRINT(print_caps)
{
	unsigned bits = *CAT(base, s->off, unsigned), left = bits;
	const char *sep = "";

	for (const struct named *c = caps; c->name; c++) {
		if (bits & (unsigned)c->value) {
			strbuf_printf(out, "%s%s", sep, c->name);
			sep = ", ";
			left &= ~(unsigned)c->value;
		}
	}
	if (left) {
		snprintf(why, n, "unknown capability bits 0x%x", left);
		return -1;
	}
	return 0;
}

PARSE(parse_log_level)
{
	int lvl = log_level_parse(v);

	if (lvl < 0) {
		snprintf(why, n, "must be error, warn, info or debug");
		return -1;
	}
	*AT(base, s->off, enum log_level) = (enum log_level)lvl;
	return 0;
}

PRINT(print_log_level)
{
	enum log_level lvl = *CAT(base, s->off, enum log_level);

	if (lvl > LOG_LVL_DEBUG) {
		snprintf(why, n, "unknown log level %d", (int)lvl);
		return -1;
	}
	strbuf_puts(out, log_level_name(lvl));
	return 0;
}

PARSE(parse_sample_key)
{
	struct target_config *t = base;
	enum sample_key kind;
	const char *name = NULL;

	if (!strcasecmp(v, "random")) {
		kind = SAMPLE_KEY_RANDOM;
	} else if (!strcasecmp(v, "client")) {
		kind = SAMPLE_KEY_CLIENT;
	} else if (!strncasecmp(v, "header:", 7) || !strncasecmp(v, "cookie:", 7)) {
		kind = tolower((unsigned char)v[0]) == 'h' ? SAMPLE_KEY_HEADER : SAMPLE_KEY_COOKIE;
		name = v + 7;
	} else {
		snprintf(why, n, "must be random, client, header:NAME or cookie:NAME");
		return -1;
	}
	if (name && !http_token(slice_from_cstr(name))) {
		snprintf(why, n, "'%s' is not a valid %s name", name,
			 kind == SAMPLE_KEY_HEADER ? "header" : "cookie");
		return -1;
	}
	t->sample_key = kind;
	xfree(t->sample_key_name);
	t->sample_key_name = name ? xstrdup(name) : NULL;
	return 0;
}

PRINT(print_sample_key)
{
	const struct target_config *t = base;
	const char *name = t->sample_key_name ? t->sample_key_name : "";

	switch (t->sample_key) {
	case SAMPLE_KEY_RANDOM:
		strbuf_puts(out, "random");
		return 0;
	case SAMPLE_KEY_CLIENT:
		strbuf_puts(out, "client");
		return 0;
	case SAMPLE_KEY_HEADER:
		strbuf_printf(out, "header:%s", name);
		return 0;
	case SAMPLE_KEY_COOKIE:
		strbuf_printf(out, "cookie:%s", name);
		return 0;
	}
	snprintf(why, n, "unknown sample key kind %d", (int)t->sample_key);
	return -1;
}

PARSE(parse_host)
{
	int policy = named_value(hosts, v);

	if (policy < 0) {
		snprintf(why, n, "must be target or client");
		return -1;
	}
	*AT(base, s->off, enum host_policy) = (enum host_policy)policy;
	return 0;
}

PRINT(print_host)
{
	strbuf_puts(out, hosts[*CAT(base, s->off, enum host_policy) == HOST_FROM_CLIENT].name);
	return 0;
}

PARSE(parse_compare)
{
	int level = named_value(compare_levels, v);

	if (level < 0) {
		snprintf(why, n, "must be off, status, headers or body");
		return -1;
	}
	*AT(base, s->off, enum verdict_level) = (enum verdict_level)level;
	return 0;
}

PRINT(print_compare)
{
	enum verdict_level level = *CAT(base, s->off, enum verdict_level);

	if ((unsigned)level > VERDICT_LEVEL_BODY) {
		snprintf(why, n, "unknown compare level %d", (int)level);
		return -1;
	}
	strbuf_puts(out, compare_levels[level].name);
	return 0;
}

PARSE(parse_mirror_url)
{
	struct agent_config *c = base;
	struct target_config *t;

	/* empty: no target "default", what the dump writes when the targets
	 * all have sections */
	if (*v && settings_check_url(v, why, n) < 0)
		return -1;
	config_drop_mirror_url_targets(c);
	if (!*v)
		return 0;
	t = config_add_target(c, "default", v);
	t->from_mirror_url = true;
	config_apply_mirror_headers(c);
	return 0;
}

PRINT(print_mirror_url)
{
	const struct target_config *t = settings_mirror_url_target(base);

	if (t)
		strbuf_puts(out, t->url);
	return 0;
}

static const struct {
	parse_fn *parse;
	print_fn *print;
} types[] = {
	[TYPE_HEADING] = { NULL, NULL },
	[TYPE_CLI] = { NULL, NULL },
	[TYPE_FLAG] = { parse_flag, NULL },
	[TYPE_UINT] = { parse_uint, print_uint },
	[TYPE_SIZE] = { parse_size, print_size },
	[TYPE_TIME] = { parse_time, print_time },
	[TYPE_BOOL] = { parse_bool, print_bool },
	[TYPE_DECIMAL] = { parse_decimal, print_decimal },
	[TYPE_PERCENT] = { parse_decimal, print_decimal },
	[TYPE_STRING] = { parse_string, print_string },
	[TYPE_LIST] = { parse_list, print_list },
	[TYPE_HEADERS] = { parse_headers, print_headers },
	[TYPE_CAPS] = { parse_caps, print_caps },
	[TYPE_LOG_LEVEL] = { parse_log_level, print_log_level },
	[TYPE_SAMPLE_KEY] = { parse_sample_key, print_sample_key },
	[TYPE_HOST] = { parse_host, print_host },
	[TYPE_MIRROR_URL] = { parse_mirror_url, print_mirror_url },
	[TYPE_MODE] = { parse_mode, print_mode },
	[TYPE_COMPARE] = { parse_compare, print_compare },
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
	if (!*v || strpbrk(v, " \t")) {
		snprintf(why, n, "must be an address to listen on, like 0.0.0.0 or ::");
		return -1;
	}
	return 0;
}

static int check_message(const char *v, char *why, size_t n)
{
	if (strpbrk(v, " \t")) {
		snprintf(why, n, "message name '%s' has a space", v);
		return -1;
	}
	return 0;
}

static int check_libev_backend(const char *v, char *why, size_t n)
{
	int flags;

	if (!*v || !strcasecmp(v, "auto"))
		return 1;
	flags = settings_libev_backend_flags(v);
	if (flags < 0) {
		snprintf(why, n, "unknown libev backend (select, poll, epoll, linux_aio, io_uring, "
				 "kqueue, devpoll or port)");
		return -1;
	}
	if (!((unsigned)flags & ev_supported_backends())) {
		snprintf(why, n, "libev backend '%s' is not available on this system", v);
		return -1;
	}
	return 0;
}

static int check_interface(const char *v, char *why, size_t n)
{
	if (strpbrk(v, " \t")) {
		snprintf(why, n, "must be an interface name, an address, or if!NAME / host!NAME");
		return -1;
	}
	return 0;
}

/* 0 follows max-frame-size; anything else must hold at least one frame */
static int check_reassembly_max(const char *v, char *why, size_t n)
{
	size_t x;

	if (units_parse_size(v, 0, SIZE_MAX, &x, why, n) < 0)
		return -1;
	if (x && x < SPOP_MIN_FRAME_SIZE) {
		snprintf(why, n, "must be 0 or at least %u", SPOP_MIN_FRAME_SIZE);
		return -1;
	}
	return 0;
}

static int check_local_port(const char *v, char *why, size_t n)
{
	unsigned lo, hi;

	return *v && units_parse_port_range(v, &lo, &hi, why, n) < 0 ? -1 : 0;
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
		if (!strchr("awAW", v[0])) {
			snprintf(why, n, "unknown log file mode '%c' (a, w, A or W before the ':')",
				 v[0]);
			return -1;
		}
		if (!v[2]) {
			snprintf(why, n, "no file name after the mode");
			return -1;
		}
	}
	return 0;
}

static int check_header_name(const char *v, char *why, size_t n)
{
	if (!http_token(slice_from_cstr(v))) {
		snprintf(why, n, "'%s' is not a valid header name", v);
		return -1;
	}
	return 0;
}

static int check_ca_file(const char *v, char *why, size_t n)
{
	/* checked now: a typo should stop the start, not fail every mirror */
	if (*v && access(v, R_OK) < 0) {
		snprintf(why, n, "cannot read '%s': %s", v, strerror(errno));
		return -1;
	}
	return 0;
}

/* ---- the table ---------------------------------------------------------- */

/* Upper bounds that keep a typo from asking for absurd memory or threads. */
#define MAX_SIZE ((double)(1u << 30)) /* 1 GiB: frame, reassembly, queue bytes */
#define MIN_FRAME ((double)SPOP_MIN_FRAME_SIZE)

#define FIELD(st, f) offsetof(struct st, f), sizeof(((struct st *)0)->f)
/* agent: key, alias (the long option when set), letter, type, field, limits, check, help */
#define A(key, alias, c, type, f, lo, hi, check, arg, help) \
	{ key, alias, SETTING_AGENT, c, type, FIELD(agent_config, f), 0, lo, hi, check, arg, help }
#define AL(key, alias, c, type, f, nf, lo, check, arg, help)                                 \
	{ key, alias, SETTING_AGENT, c, type, FIELD(agent_config, f),                        \
	  offsetof(struct agent_config, nf), lo, 0, check, arg, help }
#define T(key, type, f, lo, hi, check) \
	{ key, NULL, SETTING_TARGET, 0, type, FIELD(target_config, f), 0, lo, hi, check, NULL, NULL }
#define TL(key, type, f, nf, check)                                                      \
	{ key, NULL, SETTING_TARGET, 0, type, FIELD(target_config, f),                   \
	  offsetof(struct target_config, nf), 0, 0, check, NULL, NULL }
#define CLI(key, c, f, help) \
	{ key, NULL, SETTING_CLI, c, TYPE_FLAG, FIELD(agent_config, f), 0, 0, 0, NULL, NULL, help }
#define CLI_OWN(key, c, arg, help) \
	{ key, NULL, SETTING_CLI, c, TYPE_CLI, 0, 0, 0, 0, 0, NULL, arg, help }
#define HEADING(title) \
	{ NULL, NULL, SETTING_CLI, 0, TYPE_HEADING, 0, 0, 0, 0, 0, NULL, NULL, title }

/* The INI rows in the order of doc/spoa-mirror.ini.example, which the
 * configuration dump follows; --help follows the table. */
static const struct setting table[] = {
	HEADING("SPOP listener:"),
	A("address", NULL, 'a', TYPE_STRING, address, 0, 0, check_address, "ADDR",
	  "address to listen on; unix:PATH or /PATH: a UNIX socket"),
	A("port", NULL, 'p', TYPE_UINT, port, 1, 65535, NULL, "PORT", "port to listen on"),
	A("socket-mode", NULL, 0, TYPE_MODE, socket_mode, 0, 0, NULL, "MODE",
	  "a UNIX socket's permission bits, in octal"),
	A("socket-owner", NULL, 0, TYPE_STRING, socket_owner, 0, 0, check_socket_owner,
	  "USER[:GROUP]", "a UNIX socket's owner and group, names or numbers (default: ours)"),
	A("backlog", "connection-backlog", 'b', TYPE_UINT, backlog, 1, 65535, NULL, "N",
	  "listen backlog"),
	A("capabilities", "capability", 'c', TYPE_CAPS, caps, 0, 0, NULL, "NAME",
	  "announce only the capabilities given: fragmentation, pipelining, async; repeatable"),
	A("max-frame-size", NULL, 'm', TYPE_SIZE, max_frame_size, MIN_FRAME, MAX_SIZE, NULL, "SIZE",
	  "largest SPOP frame; HAProxy's is used when smaller"),
	A("reassembly-max", NULL, 0, TYPE_SIZE, reassembly_max, 0, MAX_SIZE, check_reassembly_max,
	  "SIZE", "largest fragmented NOTIFY put back together, 0 = four frames"),
	A("max-connections", NULL, 0, TYPE_UINT, max_connections, 1, 1000000, NULL, "N",
	  "SPOP connections open at once"),
	A("idle-timeout", NULL, 0, TYPE_TIME, idle_timeout_ms, 0, 0, NULL, "TIME",
	  "close SPOP connections idle this long, 0 = never"),
	A("spop-memory-max", NULL, 0, TYPE_SIZE, spop_memory_max, 0, 64.0 * MAX_SIZE, NULL, "SIZE",
	  "read, reassembly and output buffers of all SPOP connections, 0 = no limit"),
	A("frame-timeout", NULL, 0, TYPE_TIME, frame_timeout_ms, 0, 0, NULL, "TIME",
	  "a frame must be complete this long after its first byte, 0 = no limit"),
	AL("messages", "message", 0, TYPE_LIST, message_names, n_message_names, 1, check_message,
	   "NAME", "SPOE message to mirror; repeatable; replaces the default list"),
	A("processing-delay", NULL, 't', TYPE_TIME, processing_delay_ms, 0, 0, NULL, "TIME",
	  "wait before handling each message, for tests"),
	A("libev-backend", NULL, 'B', TYPE_STRING, libev_backend, 0, 0, check_libev_backend, "NAME",
	  "select, poll, epoll, linux_aio, io_uring, kqueue, devpoll or port (default: libev's "
	  "choice)"),
	HEADING("Mirroring:"),
	A("workers", "num-workers", 'n', TYPE_UINT, num_workers, 1, 256, NULL, "N",
	  "replay worker threads"),
	A("queue-max-entries", NULL, 0, TYPE_UINT, queue_max_entries, 1, 1e8, NULL, "N",
	  "requests alive at once, beyond that dropped"),
	A("queue-max-bytes", NULL, 0, TYPE_SIZE, queue_max_bytes, 1024, MAX_SIZE, NULL, "SIZE",
	  "bytes of requests alive at once"),
	A("drain-timeout", NULL, 0, TYPE_TIME, drain_timeout_ms, 0, 0, NULL, "TIME",
	  "on stop, time left to queued and running mirrors"),
	A("mirror-url", NULL, 'u', TYPE_MIRROR_URL, targets, 0, 0, NULL, "URL",
	  "mirror to http(s)://HOST[:PORT][/PREFIX]; repeatable, one target each, named u1, u2, "
	  "... (replaces the file's mirror-url)"),
	AL("mirror-headers", "mirror-header", 0, TYPE_HEADERS, mirror_headers, n_mirror_headers, 0,
	   NULL, "'N: V'",
	   "add this header to the -u and mirror-url targets; repeatable (replaces the file's "
	   "mirror-headers)"),
	A("mirror-interface", NULL, 'I', TYPE_STRING, mirror_interface, 0, 0, check_interface,
	  "NAME", "interface or address for connections to targets (default: any)"),
	A("mirror-local-port", NULL, 'P', TYPE_STRING, mirror_local_port, 0, 0, check_local_port,
	  "PORT[-PORT]", "local port or range for connections to targets (default: any)"),
	HEADING("Shadow verdicts (targets with compare on):"),
	AL("response-messages", "response-message", 0, TYPE_LIST, response_message_names,
	   n_response_message_names, 1, check_message, "NAME",
	   "SPOE message carrying the primary's answer; repeatable; replaces the default list"),
	A("join-max-entries", NULL, 0, TYPE_UINT, join_max_entries, 1, 1e7, NULL, "N",
	  "requests waiting for their answers at once, beyond that dropped"),
	A("join-max-bytes", NULL, 0, TYPE_SIZE, join_max_bytes, 64 * 1024, MAX_SIZE, NULL, "SIZE",
	  "bytes of answers waiting for their other side"),
	A("compare-capture-max", NULL, 0, TYPE_SIZE, compare_capture_max, 64 * 1024, MAX_SIZE, NULL,
	  "SIZE", "bytes of shadows' answers being captured at once; beyond, not comparable"),
	A("join-timeout", NULL, 0, TYPE_TIME, join_timeout_ms, 1, 0, NULL, "TIME",
	  "an answer's other side must come within TIME of the request, else not comparable"),
	A("diff-log", NULL, 0, TYPE_STRING, diff_log, 0, 0, check_logfile, "[MODE:]FILE",
	  "write one JSON line per differing answer to FILE (default: off)"),
	A("diff-log-bodies", NULL, 0, TYPE_BOOL, diff_log_bodies, 0, 0, NULL, "BOOL",
	  "put both bodies, shortened, in the diff log (they may hold personal data)"),
	A("diff-log-rate", NULL, 0, TYPE_DECIMAL, diff_log_rate, 0, 1e6, NULL, "N",
	  "diff-log lines per second per target, 0 = unlimited"),
	HEADING("Operation:"),
	CLI_OWN("config", 'f', "FILE", "read an INI file first; the options override it"),
	CLI("check-config", 0, check_only,
	    "check the configuration, print it as an INI file (defaults, file and options merged; "
	    "feed it back with -f) and exit"),
	A("metrics", NULL, 0, TYPE_STRING, metrics_address, 0, 0, check_metrics, "ADDR:PORT",
	  "serve /metrics, /healthz, /readyz, /compare and /compare.html over HTTP on "
	  "ADDR:PORT, [IPV6]:PORT or :PORT (default: off)"),
	A("log-level", NULL, 0, TYPE_LOG_LEVEL, log_level, 0, 0, NULL, "LEVEL",
	  "error, warn, info or debug"),
	A("logfile", NULL, 'l', TYPE_STRING, logfile, 0, 0, check_logfile, "[MODE:]FILE",
	  "log to FILE instead of stderr; MODE a appends (default), w truncates; A and W also "
	  "accepted"),
	A("access-log", NULL, 0, TYPE_BOOL, access_log, 0, 0, NULL, "BOOL",
	  "log one line per finished mirror"),
	A("monitor-interval", NULL, 'i', TYPE_TIME, monitor_interval_ms, 1, 0, NULL, "TIME",
	  "repeated errors (shadow, SPOP) are logged once per interval"),
	CLI("daemonize", 'D', daemonize, "run in the background"),
	A("runtime", NULL, 'r', TYPE_TIME, runtime_ms, 0, 0, NULL, "TIME",
	  "stop after TIME, 0 = unlimited"),
	A("pidfile", NULL, 'F', TYPE_STRING, pidfile, 0, 0, NULL, "FILE",
	  "write the process id to FILE (and lock it)"),
	CLI_OWN("help", 'h', NULL, "show this text and exit"),
	CLI_OWN("version", 'V', NULL, "show the version and exit"),

	T("url", TYPE_STRING, url, 0, 0, settings_check_url),
	T("sample", TYPE_PERCENT, sample_percent, 0, 100, NULL),
	T("sample-key", TYPE_SAMPLE_KEY, sample_key, 0, 0, NULL),
	T("timeout", TYPE_TIME, timeout_ms, 1, 0, NULL),
	T("connect-timeout", TYPE_TIME, connect_timeout_ms, 1, 0, NULL),
	TL("add-headers", TYPE_HEADERS, add_headers, n_add_headers, NULL),
	TL("remove-headers", TYPE_LIST, remove_headers, n_remove_headers, check_header_name),
	T("host", TYPE_HOST, host_policy, 0, 0, NULL),
	T("send-body", TYPE_BOOL, send_body, 0, 0, NULL),
	T("send-headers", TYPE_BOOL, send_headers, 0, 0, NULL),
	T("replay-truncated", TYPE_BOOL, replay_truncated, 0, 0, NULL),
	T("max-inflight", TYPE_UINT, max_inflight, 0, 1000000, NULL),
	T("max-connections", TYPE_UINT, max_connections, 0, 1000000, NULL),
	T("rate-limit", TYPE_DECIMAL, rate_limit, 0, 1e9, NULL),
	T("http2", TYPE_BOOL, http2, 0, 0, NULL),
	T("tls-verify", TYPE_BOOL, tls_verify, 0, 0, NULL),
	T("ca-file", TYPE_STRING, ca_file, 0, 0, check_ca_file),
	T("compare", TYPE_COMPARE, compare, 0, 0, NULL),
	TL("compare-ignore-headers", TYPE_LIST, compare_ignore_headers, n_compare_ignore_headers,
	   check_header_name),
	TL("compare-ignore-json", TYPE_LIST, compare_ignore_json, n_compare_ignore_json,
	   json_pointer_check), /* compiled, all together, with the target set */
	T("compare-body-max", TYPE_SIZE, compare_body_max, 0, MAX_SIZE, NULL),
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
	return s->type == TYPE_LIST || s->type == TYPE_HEADERS || s->type == TYPE_CAPS;
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
	return types[s->type].parse(s, s->scope == SETTING_TARGET ? (void *)t : (void *)cfg,
				    value ? value : "", append, why, n);
}

int setting_format(const struct setting *s, const struct agent_config *cfg,
		   const struct target_config *t, struct strbuf *out, char *why, size_t n)
{
	return types[s->type].print(s, s->scope == SETTING_TARGET ? (const void *)t
								  : (const void *)cfg,
				    out, why, n);
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
	if (cfg->n_targets == 0) {
		snprintf(err, errlen, "no mirror target: give -u URL or a [target NAME] section");
		return -1;
	}
	if (cfg->max_frame_size < SPOP_MIN_FRAME_SIZE) {
		snprintf(err, errlen, "max-frame-size %u is below the protocol minimum %u",
			 cfg->max_frame_size, SPOP_MIN_FRAME_SIZE);
		return -1;
	}
	/* one connection's largest frame and reassembly must fit, or it
	 * would wait for room that never comes */
	if (cfg->spop_memory_max &&
	    cfg->spop_memory_max < (size_t)cfg->max_frame_size + config_reassembly_max(cfg)) {
		snprintf(err, errlen,
			 "spop-memory-max %zu is below max-frame-size + reassembly-max (%zu)",
			 cfg->spop_memory_max,
			 (size_t)cfg->max_frame_size + config_reassembly_max(cfg));
		return -1;
	}
	for (size_t i = 0; i < cfg->n_targets; i++) {
		const struct target_config *t = &cfg->targets[i];
		char why[256];

		if (settings_check_url(t->url, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "target '%s': %s", t->name, why);
			return -1;
		}
		for (size_t j = 0; j < i; j++) {
			if (!strcmp(cfg->targets[j].name, t->name)) {
				snprintf(err, errlen, "duplicate target name '%s'", t->name);
				return -1;
			}
		}
	}
	return 0;
}

/* Whether every target setting prints the same for a and b. */
static bool same_target_settings(const struct target_config *a, const struct target_config *b)
{
	struct strbuf x = STRBUF_INIT, y = STRBUF_INIT;
	char why[200];
	bool same = true;

	for (size_t i = 0; i < N_SETTINGS && same; i++) {
		if (table[i].scope != SETTING_TARGET)
			continue;
		strbuf_reset(&x);
		strbuf_reset(&y);
		same = setting_format(&table[i], NULL, a, &x, why, sizeof(why)) == 0 &&
		       setting_format(&table[i], NULL, b, &y, why, sizeof(why)) == 0 &&
		       x.len == y.len && (!x.len || !memcmp(x.data, y.data, x.len));
	}
	strbuf_free(&x);
	strbuf_free(&y);
	return same;
}

const struct target_config *settings_mirror_url_target(const struct agent_config *cfg)
{
	const struct target_config *t = cfg->n_targets ? &cfg->targets[0] : NULL;
	struct target_config plain;

	/* first: the dump writes [mirror] before any section, so that is where
	 * mirror-url's target lands when the dump is read back */
	if (!t || !t->from_mirror_url || !t->name || strcmp(t->name, "default") || !t->url)
		return NULL;
	/* borrows t's URL and cfg's headers: not freed */
	target_config_init(&plain);
	plain.url = t->url;
	plain.add_headers = cfg->mirror_headers;
	plain.n_add_headers = cfg->n_mirror_headers;
	return same_target_settings(&plain, t) ? t : NULL;
}

int settings_libev_backend_flags(const char *name)
{
	static const struct named backends[] = {
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

	return name ? named_value(backends, name) : 0;
}

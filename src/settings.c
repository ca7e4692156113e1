/* Every named setting: its key, its checks and where it is stored. Ranges
 * live here, once; defaults live in config.c. */
#include "settings.h"

#include <errno.h>
#include <ev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "listener.h"
#include "spop.h"
#include "strbuf.h"
#include "target.h"
#include "units.h"
#include "xalloc.h"

/* Upper bounds that keep a typo from asking for absurd memory or threads. */
#define MAX_SIZE_SETTING ((size_t)1 << 30) /* 1 GiB: frame, reassembly, queue bytes */
#define MAX_WORKERS 256
#define MAX_CONNECTIONS 1000000
#define MAX_QUEUE_ENTRIES 100000000ull
#define MAX_INFLIGHT 1000000
#define MAX_RATE_LIMIT 1e9

static void replace_str(char **slot, const char *value)
{
	free(*slot);
	*slot = value && *value ? xstrdup(value) : NULL;
}

static void free_strv(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* ---- agent settings ---------------------------------------------------- */

/* An integer in [lo, hi] into an unsigned slot. */
static int parse_unsigned(const char *v, unsigned long long lo, unsigned long long hi,
			  unsigned *slot, char *why, size_t n)
{
	unsigned long long x;

	if (units_parse_uint(v, lo, hi, &x, why, n) < 0)
		return -1;
	*slot = (unsigned)x;
	return 0;
}

/* Appends `count` parsed header pairs to a list, or replaces the list when
 * this is the first value seen for the key (`append` false). Takes the
 * pairs' strings; frees the array that held them. */
static void merge_header_pairs(struct header_pair **list, size_t *len, struct header_pair *pairs,
			       size_t count, bool append)
{
	if (!append) {
		header_pairs_free(*list, *len);
		*list = NULL;
		*len = 0;
	}
	if (count) {
		*list = xrealloc(*list, (*len + count) * sizeof(**list));
		memcpy(*list + *len, pairs, count * sizeof(*pairs));
		*len += count;
	}
	free(pairs);
}

/* The same for a list of strings. */
static void merge_strv(char ***list, size_t *len, char **items, size_t count, bool append)
{
	if (!append) {
		free_strv(*list, *len);
		*list = NULL;
		*len = 0;
	}
	if (count) {
		*list = xrealloc(*list, (*len + count) * sizeof(char *));
		memcpy(*list + *len, items, count * sizeof(char *));
		*len += count;
	}
	free(items);
}

static int set_address(struct agent_config *c, const char *v, bool append, char *why, size_t n)
{
	if (!*v || strpbrk(v, " \t")) {
		snprintf(why, n, "must be an address to listen on, like 0.0.0.0 or ::");
		return -1;
	}
	replace_str(&c->address, v);
	return 0;
}

static int set_socket_mode(struct agent_config *c, const char *v, bool append, char *why,
			   size_t n)
{
	return listener_parse_mode(v, &c->socket_mode, why, n);
}

static int set_socket_owner(struct agent_config *c, const char *v, bool append, char *why,
			    size_t n)
{
	uid_t uid;
	gid_t gid;

	if (*v && listener_parse_owner(v, &uid, &gid, why, n) < 0)
		return -1;
	replace_str(&c->socket_owner, v);
	return 0;
}

static int set_port(struct agent_config *c, const char *v, bool append, char *why, size_t n)
{
	unsigned long long x;

	if (units_parse_uint(v, 1, 65535, &x, why, n) < 0)
		return -1;
	c->port = (uint16_t)x;
	return 0;
}

static int set_backlog(struct agent_config *c, const char *v, bool append, char *why, size_t n)
{
	unsigned long long x;

	if (units_parse_uint(v, 1, 65535, &x, why, n) < 0)
		return -1;
	c->backlog = (int)x;
	return 0;
}

static const struct {
	const char *name;
	unsigned bit;
} caps[] = {
	{ "pipelining", SPOP_CAP_PIPELINING },
	{ "async", SPOP_CAP_ASYNC },
	{ "fragmentation", SPOP_CAP_FRAGMENTATION },
};

#define N_CAPS (sizeof(caps) / sizeof(caps[0]))

static int set_capabilities(struct agent_config *c, const char *v, bool append, char *why,
			    size_t n)
{
	char **items = NULL;
	size_t count = 0;
	unsigned bits = 0;

	if (units_parse_list(v, &items, &count, why, n) < 0)
		return -1;
	for (size_t i = 0; i < count; i++) {
		size_t k;

		for (k = 0; k < N_CAPS; k++)
			if (!strcasecmp(items[i], caps[k].name))
				break;
		if (k == N_CAPS) {
			snprintf(why, n, "unknown capability '%s' (fragmentation, pipelining or async)",
				 items[i]);
			free_strv(items, count);
			return -1;
		}
		bits |= caps[k].bit;
	}
	free_strv(items, count);
	c->caps = append ? c->caps | bits : bits;
	return 0;
}

static int set_max_frame_size(struct agent_config *c, const char *v, bool append, char *why,
			      size_t n)
{
	size_t x;

	if (units_parse_size(v, SPOP_MIN_FRAME_SIZE, MAX_SIZE_SETTING, &x, why, n) < 0)
		return -1;
	c->max_frame_size = (uint32_t)x;
	return 0;
}

static int set_reassembly_max(struct agent_config *c, const char *v, bool append, char *why,
			      size_t n)
{
	return units_parse_size(v, SPOP_MIN_FRAME_SIZE, MAX_SIZE_SETTING, &c->reassembly_max, why,
				n);
}

static int set_max_connections(struct agent_config *c, const char *v, bool append, char *why,
			       size_t n)
{
	return parse_unsigned(v, 1, MAX_CONNECTIONS, &c->max_connections, why, n);
}

static int set_idle_timeout(struct agent_config *c, const char *v, bool append, char *why,
			    size_t n)
{
	return units_parse_time_ms(v, &c->idle_timeout_ms, why, n);
}

static int set_workers(struct agent_config *c, const char *v, bool append, char *why, size_t n)
{
	return parse_unsigned(v, 1, MAX_WORKERS, &c->num_workers, why, n);
}

static int set_queue_max_entries(struct agent_config *c, const char *v, bool append, char *why,
				 size_t n)
{
	unsigned long long x;

	if (units_parse_uint(v, 1, MAX_QUEUE_ENTRIES, &x, why, n) < 0)
		return -1;
	c->queue_max_entries = (size_t)x;
	return 0;
}

static int set_queue_max_bytes(struct agent_config *c, const char *v, bool append, char *why,
			       size_t n)
{
	return units_parse_size(v, 1024, MAX_SIZE_SETTING, &c->queue_max_bytes, why, n);
}

static int set_drain_timeout(struct agent_config *c, const char *v, bool append, char *why,
			     size_t n)
{
	return units_parse_time_ms(v, &c->drain_timeout_ms, why, n);
}

static int set_metrics(struct agent_config *c, const char *v, bool append, char *why, size_t n)
{
	struct sockaddr_storage ss;
	socklen_t len;

	if (*v && strcasecmp(v, "off") && listener_parse_addr(v, &ss, &len, why, n) < 0)
		return -1;
	replace_str(&c->metrics_address, strcasecmp(v, "off") ? v : NULL);
	return 0;
}

static int set_log_level(struct agent_config *c, const char *v, bool append, char *why,
			 size_t n)
{
	int lvl = log_level_parse(v);

	if (lvl < 0) {
		snprintf(why, n, "must be error, warn, info or debug");
		return -1;
	}
	c->log_level = (enum log_level)lvl;
	return 0;
}

static int set_logfile(struct agent_config *c, const char *v, bool append, char *why, size_t n)
{
	const char *path = v;

	if (v[0] && v[1] == ':') {
		if (!strchr("awAW", v[0])) {
			snprintf(why, n, "unknown log file mode '%c' (a, w, A or W before the ':')",
				 v[0]);
			return -1;
		}
		path = v + 2;
		if (!*path) {
			snprintf(why, n, "no file name after the mode");
			return -1;
		}
	}
	replace_str(&c->logfile, v);
	return 0;
}

static int set_access_log(struct agent_config *c, const char *v, bool append, char *why,
			  size_t n)
{
	return units_parse_bool(v, &c->access_log, why, n);
}

static int set_monitor_interval(struct agent_config *c, const char *v, bool append, char *why,
				size_t n)
{
	unsigned ms;

	if (units_parse_time_ms(v, &ms, why, n) < 0)
		return -1;
	if (ms == 0) {
		snprintf(why, n, "must be longer than 0");
		return -1;
	}
	c->monitor_interval_ms = ms;
	return 0;
}

static int set_messages(struct agent_config *c, const char *v, bool append, char *why, size_t n)
{
	char **items = NULL;
	size_t count = 0;

	if (units_parse_list(v, &items, &count, why, n) < 0)
		return -1;
	if (!count && !append) {
		snprintf(why, n, "needs at least one SPOE message name");
		return -1;
	}
	for (size_t i = 0; i < count; i++) {
		if (strpbrk(items[i], " \t")) {
			snprintf(why, n, "message name '%s' has a space", items[i]);
			free_strv(items, count);
			return -1;
		}
	}
	merge_strv(&c->message_names, &c->n_message_names, items, count, append);
	return 0;
}

int settings_check_url(const char *url, char *why, size_t n)
{
	struct target_url u;
	const char *host;

	for (const char *p = url; *p; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			snprintf(why, n, "URL has a control character");
			return -1;
		}
	}
	if (target_url_parse(url, &u, why, n) < 0)
		return -1;
	host = strstr(url, "://") + 3;
	target_url_free(&u);
	if (*host == ':') {
		snprintf(why, n, "URL '%s' has no host", url);
		return -1;
	}
	return 0;
}

static int set_mirror_url(struct agent_config *c, const char *v, bool append, char *why,
			  size_t n)
{
	struct target_config *t;

	if (!*v) {
		/* no target "default": what the configuration dump writes when
		 * the targets all have sections */
		config_drop_mirror_url_targets(c);
		return 0;
	}
	if (settings_check_url(v, why, n) < 0)
		return -1;
	config_drop_mirror_url_targets(c);
	t = config_add_target(c, "default", v);
	t->from_mirror_url = true;
	config_apply_mirror_headers(c);
	return 0;
}

static int set_mirror_headers(struct agent_config *c, const char *v, bool append, char *why,
			      size_t n)
{
	struct header_pair *pairs = NULL;
	size_t count = 0;

	if (units_parse_header_list(v, &pairs, &count, why, n) < 0)
		return -1;
	merge_header_pairs(&c->mirror_headers, &c->n_mirror_headers, pairs, count, append);
	config_apply_mirror_headers(c);
	return 0;
}

static int set_mirror_interface(struct agent_config *c, const char *v, bool append, char *why,
				size_t n)
{
	if (strpbrk(v, " \t")) {
		snprintf(why, n, "must be an interface name, an address, or if!NAME / host!NAME");
		return -1;
	}
	replace_str(&c->mirror_interface, v);
	return 0;
}

static int set_mirror_local_port(struct agent_config *c, const char *v, bool append, char *why,
				 size_t n)
{
	unsigned lo, hi;

	if (*v && units_parse_port_range(v, &lo, &hi, why, n) < 0)
		return -1;
	replace_str(&c->mirror_local_port, v);
	return 0;
}

static int set_processing_delay(struct agent_config *c, const char *v, bool append, char *why,
				size_t n)
{
	return units_parse_time_ms(v, &c->processing_delay_ms, why, n);
}

static int set_pidfile(struct agent_config *c, const char *v, bool append, char *why, size_t n)
{
	replace_str(&c->pidfile, v);
	return 0;
}

static int set_libev_backend(struct agent_config *c, const char *v, bool append, char *why,
			     size_t n)
{
	int flags;

	if (!*v || !strcasecmp(v, "auto")) {
		replace_str(&c->libev_backend, NULL);
		return 0;
	}
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
	replace_str(&c->libev_backend, v);
	return 0;
}

static int set_runtime(struct agent_config *c, const char *v, bool append, char *why, size_t n)
{
	return units_parse_time_ms(v, &c->runtime_ms, why, n);
}

/* ---- target settings --------------------------------------------------- */

static int set_url(struct target_config *t, const char *v, bool append, char *why, size_t n)
{
	if (settings_check_url(v, why, n) < 0)
		return -1;
	replace_str(&t->url, v);
	return 0;
}

static int set_sample(struct target_config *t, const char *v, bool append, char *why, size_t n)
{
	return units_parse_decimal(v, 0, 100, true, &t->sample_percent, why, n);
}

static int set_sample_key(struct target_config *t, const char *v, bool append, char *why,
			  size_t n)
{
	enum sample_key kind;
	const char *name = NULL;

	if (!strcasecmp(v, "random")) {
		kind = SAMPLE_KEY_RANDOM;
	} else if (!strcasecmp(v, "client")) {
		kind = SAMPLE_KEY_CLIENT;
	} else if (!strncasecmp(v, "header:", 7)) {
		kind = SAMPLE_KEY_HEADER;
		name = v + 7;
	} else if (!strncasecmp(v, "cookie:", 7)) {
		kind = SAMPLE_KEY_COOKIE;
		name = v + 7;
	} else {
		snprintf(why, n, "must be random, client, header:NAME or cookie:NAME");
		return -1;
	}
	if (name && !units_is_token(name, strlen(name))) {
		snprintf(why, n, "'%s' is not a valid %s name", name,
			 kind == SAMPLE_KEY_HEADER ? "header" : "cookie");
		return -1;
	}
	t->sample_key = kind;
	replace_str(&t->sample_key_name, name);
	return 0;
}

static int set_positive_time(unsigned *slot, const char *v, char *why, size_t n)
{
	unsigned ms;

	if (units_parse_time_ms(v, &ms, why, n) < 0)
		return -1;
	if (ms == 0) {
		snprintf(why, n, "must be longer than 0");
		return -1;
	}
	*slot = ms;
	return 0;
}

static int set_timeout(struct target_config *t, const char *v, bool append, char *why, size_t n)
{
	return set_positive_time(&t->timeout_ms, v, why, n);
}

static int set_connect_timeout(struct target_config *t, const char *v, bool append, char *why,
			       size_t n)
{
	return set_positive_time(&t->connect_timeout_ms, v, why, n);
}

static int set_add_headers(struct target_config *t, const char *v, bool append, char *why,
			   size_t n)
{
	struct header_pair *pairs = NULL;
	size_t count = 0;

	if (units_parse_header_list(v, &pairs, &count, why, n) < 0)
		return -1;
	merge_header_pairs(&t->add_headers, &t->n_add_headers, pairs, count, append);
	return 0;
}

static int set_remove_headers(struct target_config *t, const char *v, bool append, char *why,
			      size_t n)
{
	char **items = NULL;
	size_t count = 0;

	if (units_parse_list(v, &items, &count, why, n) < 0)
		return -1;
	for (size_t i = 0; i < count; i++) {
		if (!units_is_token(items[i], strlen(items[i]))) {
			snprintf(why, n, "'%s' is not a valid header name", items[i]);
			free_strv(items, count);
			return -1;
		}
	}
	merge_strv(&t->remove_headers, &t->n_remove_headers, items, count, append);
	return 0;
}

static int set_host(struct target_config *t, const char *v, bool append, char *why, size_t n)
{
	if (!strcasecmp(v, "target")) {
		t->host_policy = HOST_FROM_TARGET;
	} else if (!strcasecmp(v, "client")) {
		t->host_policy = HOST_FROM_CLIENT;
	} else {
		snprintf(why, n, "must be target or client");
		return -1;
	}
	return 0;
}

static int set_send_body(struct target_config *t, const char *v, bool append, char *why,
			 size_t n)
{
	return units_parse_bool(v, &t->send_body, why, n);
}

static int set_send_headers(struct target_config *t, const char *v, bool append, char *why,
			    size_t n)
{
	return units_parse_bool(v, &t->send_headers, why, n);
}

static int set_replay_truncated(struct target_config *t, const char *v, bool append, char *why,
				size_t n)
{
	return units_parse_bool(v, &t->replay_truncated, why, n);
}

static int set_max_inflight(struct target_config *t, const char *v, bool append, char *why,
			    size_t n)
{
	return parse_unsigned(v, 0, MAX_INFLIGHT, &t->max_inflight, why, n);
}

static int set_rate_limit(struct target_config *t, const char *v, bool append, char *why,
			  size_t n)
{
	return units_parse_decimal(v, 0, MAX_RATE_LIMIT, false, &t->rate_limit, why, n);
}

static int set_http2(struct target_config *t, const char *v, bool append, char *why, size_t n)
{
	return units_parse_bool(v, &t->http2, why, n);
}

static int set_tls_verify(struct target_config *t, const char *v, bool append, char *why,
			  size_t n)
{
	return units_parse_bool(v, &t->tls_verify, why, n);
}

static int set_ca_file(struct target_config *t, const char *v, bool append, char *why, size_t n)
{
	/* checked now: a typo should stop the start, not fail every mirror */
	if (*v && access(v, R_OK) < 0) {
		snprintf(why, n, "cannot read '%s': %s", v, strerror(errno));
		return -1;
	}
	replace_str(&t->ca_file, v);
	return 0;
}

/* ---- values back as text, for the configuration dump ----------------- */

static int put_str(struct strbuf *out, const char *v)
{
	if (v)
		strbuf_puts(out, v);
	return 0;
}

static int put_uint(struct strbuf *out, unsigned long long v)
{
	strbuf_printf(out, "%llu", v);
	return 0;
}

static int put_time(struct strbuf *out, unsigned ms)
{
	char buf[32];

	units_format_time_ms(ms, buf, sizeof(buf));
	strbuf_puts(out, buf);
	return 0;
}

static int put_size(struct strbuf *out, size_t bytes)
{
	char buf[32];

	units_format_size(bytes, buf, sizeof(buf));
	strbuf_puts(out, buf);
	return 0;
}

static int put_bool(struct strbuf *out, bool v)
{
	strbuf_puts(out, v ? "yes" : "no");
	return 0;
}

static int put_decimal(struct strbuf *out, double v, char *why, size_t n)
{
	char buf[64];

	if (units_format_decimal(v, buf, sizeof(buf)) < 0) {
		snprintf(why, n, "%.17g has no exact decimal form this setting reads", v);
		return -1;
	}
	strbuf_puts(out, buf);
	return 0;
}

static int put_list(struct strbuf *out, char *const *items, size_t count, char *why, size_t n)
{
	if (units_format_list(items, count, out) < 0) {
		snprintf(why, n, "a list item is empty, has a comma or blanks at its ends");
		return -1;
	}
	return 0;
}

static int get_address(const struct agent_config *c, struct strbuf *out, char *why, size_t n)
{
	return put_str(out, c->address);
}

static int get_port(const struct agent_config *c, struct strbuf *out, char *why, size_t n)
{
	return put_uint(out, c->port);
}

static int get_backlog(const struct agent_config *c, struct strbuf *out, char *why, size_t n)
{
	return put_uint(out, (unsigned long long)c->backlog);
}

static int get_capabilities(const struct agent_config *c, struct strbuf *out, char *why,
			    size_t n)
{
	unsigned left = c->caps;
	const char *sep = "";

	for (size_t k = 0; k < N_CAPS; k++) {
		if (c->caps & caps[k].bit) {
			strbuf_printf(out, "%s%s", sep, caps[k].name);
			sep = ", ";
			left &= ~caps[k].bit;
		}
	}
	if (left) {
		snprintf(why, n, "unknown capability bits 0x%x", left);
		return -1;
	}
	return 0;
}

static int get_max_frame_size(const struct agent_config *c, struct strbuf *out, char *why,
			      size_t n)
{
	return put_size(out, c->max_frame_size);
}

static int get_reassembly_max(const struct agent_config *c, struct strbuf *out, char *why,
			      size_t n)
{
	return put_size(out, c->reassembly_max);
}

static int get_max_connections(const struct agent_config *c, struct strbuf *out, char *why,
			       size_t n)
{
	return put_uint(out, c->max_connections);
}

static int get_idle_timeout(const struct agent_config *c, struct strbuf *out, char *why,
			    size_t n)
{
	return put_time(out, c->idle_timeout_ms);
}

static int get_workers(const struct agent_config *c, struct strbuf *out, char *why, size_t n)
{
	return put_uint(out, c->num_workers);
}

static int get_queue_max_entries(const struct agent_config *c, struct strbuf *out, char *why,
				 size_t n)
{
	return put_uint(out, c->queue_max_entries);
}

static int get_queue_max_bytes(const struct agent_config *c, struct strbuf *out, char *why,
			       size_t n)
{
	return put_size(out, c->queue_max_bytes);
}

static int get_drain_timeout(const struct agent_config *c, struct strbuf *out, char *why,
			     size_t n)
{
	return put_time(out, c->drain_timeout_ms);
}

static int get_socket_mode(const struct agent_config *c, struct strbuf *out, char *why,
			   size_t n)
{
	strbuf_printf(out, "%04o", c->socket_mode);
	return 0;
}

static int get_socket_owner(const struct agent_config *c, struct strbuf *out, char *why,
			    size_t n)
{
	return put_str(out, c->socket_owner);
}

static int get_metrics(const struct agent_config *c, struct strbuf *out, char *why, size_t n)
{
	return put_str(out, c->metrics_address);
}

static int get_log_level(const struct agent_config *c, struct strbuf *out, char *why, size_t n)
{
	if (c->log_level > LOG_LVL_DEBUG) {
		snprintf(why, n, "unknown log level %d", (int)c->log_level);
		return -1;
	}
	return put_str(out, log_level_name(c->log_level));
}

static int get_logfile(const struct agent_config *c, struct strbuf *out, char *why, size_t n)
{
	return put_str(out, c->logfile);
}

static int get_access_log(const struct agent_config *c, struct strbuf *out, char *why, size_t n)
{
	return put_bool(out, c->access_log);
}

static int get_monitor_interval(const struct agent_config *c, struct strbuf *out, char *why,
				size_t n)
{
	return put_time(out, c->monitor_interval_ms);
}

static int get_messages(const struct agent_config *c, struct strbuf *out, char *why, size_t n)
{
	return put_list(out, c->message_names, c->n_message_names, why, n);
}

static int get_mirror_url(const struct agent_config *c, struct strbuf *out, char *why, size_t n)
{
	const struct target_config *t = config_mirror_url_target(c);

	return put_str(out, t ? t->url : NULL);
}

static int get_mirror_headers(const struct agent_config *c, struct strbuf *out, char *why,
			      size_t n)
{
	units_format_header_list(c->mirror_headers, c->n_mirror_headers, out);
	return 0;
}

static int get_mirror_interface(const struct agent_config *c, struct strbuf *out, char *why,
				size_t n)
{
	return put_str(out, c->mirror_interface);
}

static int get_mirror_local_port(const struct agent_config *c, struct strbuf *out, char *why,
				 size_t n)
{
	return put_str(out, c->mirror_local_port);
}

static int get_processing_delay(const struct agent_config *c, struct strbuf *out, char *why,
				size_t n)
{
	return put_time(out, c->processing_delay_ms);
}

static int get_pidfile(const struct agent_config *c, struct strbuf *out, char *why, size_t n)
{
	return put_str(out, c->pidfile);
}

static int get_libev_backend(const struct agent_config *c, struct strbuf *out, char *why,
			     size_t n)
{
	return put_str(out, c->libev_backend);
}

static int get_runtime(const struct agent_config *c, struct strbuf *out, char *why, size_t n)
{
	return put_time(out, c->runtime_ms);
}

static int get_url(const struct target_config *t, struct strbuf *out, char *why, size_t n)
{
	return put_str(out, t->url);
}

static int get_sample(const struct target_config *t, struct strbuf *out, char *why, size_t n)
{
	return put_decimal(out, t->sample_percent, why, n);
}

static int get_sample_key(const struct target_config *t, struct strbuf *out, char *why,
			  size_t n)
{
	switch (t->sample_key) {
	case SAMPLE_KEY_RANDOM:
		return put_str(out, "random");
	case SAMPLE_KEY_CLIENT:
		return put_str(out, "client");
	case SAMPLE_KEY_HEADER:
		strbuf_printf(out, "header:%s", t->sample_key_name ? t->sample_key_name : "");
		return 0;
	case SAMPLE_KEY_COOKIE:
		strbuf_printf(out, "cookie:%s", t->sample_key_name ? t->sample_key_name : "");
		return 0;
	}
	snprintf(why, n, "unknown sample key kind %d", (int)t->sample_key);
	return -1;
}

static int get_timeout(const struct target_config *t, struct strbuf *out, char *why, size_t n)
{
	return put_time(out, t->timeout_ms);
}

static int get_connect_timeout(const struct target_config *t, struct strbuf *out, char *why,
			       size_t n)
{
	return put_time(out, t->connect_timeout_ms);
}

static int get_add_headers(const struct target_config *t, struct strbuf *out, char *why,
			   size_t n)
{
	units_format_header_list(t->add_headers, t->n_add_headers, out);
	return 0;
}

static int get_remove_headers(const struct target_config *t, struct strbuf *out, char *why,
			      size_t n)
{
	return put_list(out, t->remove_headers, t->n_remove_headers, why, n);
}

static int get_host(const struct target_config *t, struct strbuf *out, char *why, size_t n)
{
	return put_str(out, t->host_policy == HOST_FROM_CLIENT ? "client" : "target");
}

static int get_send_body(const struct target_config *t, struct strbuf *out, char *why, size_t n)
{
	return put_bool(out, t->send_body);
}

static int get_send_headers(const struct target_config *t, struct strbuf *out, char *why,
			    size_t n)
{
	return put_bool(out, t->send_headers);
}

static int get_replay_truncated(const struct target_config *t, struct strbuf *out, char *why,
				size_t n)
{
	return put_bool(out, t->replay_truncated);
}

static int get_max_inflight(const struct target_config *t, struct strbuf *out, char *why,
			    size_t n)
{
	return put_uint(out, t->max_inflight);
}

static int get_rate_limit(const struct target_config *t, struct strbuf *out, char *why,
			  size_t n)
{
	return put_decimal(out, t->rate_limit, why, n);
}

static int get_http2(const struct target_config *t, struct strbuf *out, char *why, size_t n)
{
	return put_bool(out, t->http2);
}

static int get_tls_verify(const struct target_config *t, struct strbuf *out, char *why,
			  size_t n)
{
	return put_bool(out, t->tls_verify);
}

static int get_ca_file(const struct target_config *t, struct strbuf *out, char *why, size_t n)
{
	return put_str(out, t->ca_file);
}

/* ---- the table --------------------------------------------------------- */

/* One row per key, with the function that stores its value and the one
 * that writes it back as text. */
#define AGENT(name, alias, list, set, get) \
	{ name, alias, SETTING_AGENT, list, set, NULL, get, NULL }
#define TARGET(name, list, set, get) { name, NULL, SETTING_TARGET, list, NULL, set, NULL, get }

/* In the order of doc/spoa-mirror.ini.example, which the configuration
 * dump follows. */
static const struct setting table[] = {
	AGENT("address", NULL, false, set_address, get_address),
	AGENT("port", NULL, false, set_port, get_port),
	AGENT("socket-mode", NULL, false, set_socket_mode, get_socket_mode),
	AGENT("socket-owner", NULL, false, set_socket_owner, get_socket_owner),
	AGENT("backlog", "connection-backlog", false, set_backlog, get_backlog),
	AGENT("capabilities", "capability", true, set_capabilities, get_capabilities),
	AGENT("max-frame-size", NULL, false, set_max_frame_size, get_max_frame_size),
	AGENT("reassembly-max", NULL, false, set_reassembly_max, get_reassembly_max),
	AGENT("max-connections", NULL, false, set_max_connections, get_max_connections),
	AGENT("idle-timeout", NULL, false, set_idle_timeout, get_idle_timeout),
	AGENT("messages", "message", true, set_messages, get_messages),
	AGENT("processing-delay", NULL, false, set_processing_delay, get_processing_delay),
	AGENT("libev-backend", NULL, false, set_libev_backend, get_libev_backend),
	AGENT("workers", "num-workers", false, set_workers, get_workers),
	AGENT("queue-max-entries", NULL, false, set_queue_max_entries, get_queue_max_entries),
	AGENT("queue-max-bytes", NULL, false, set_queue_max_bytes, get_queue_max_bytes),
	AGENT("drain-timeout", NULL, false, set_drain_timeout, get_drain_timeout),
	AGENT("mirror-url", NULL, false, set_mirror_url, get_mirror_url),
	AGENT("mirror-headers", "mirror-header", true, set_mirror_headers, get_mirror_headers),
	AGENT("mirror-interface", NULL, false, set_mirror_interface, get_mirror_interface),
	AGENT("mirror-local-port", NULL, false, set_mirror_local_port, get_mirror_local_port),
	AGENT("metrics", NULL, false, set_metrics, get_metrics),
	AGENT("log-level", NULL, false, set_log_level, get_log_level),
	AGENT("logfile", NULL, false, set_logfile, get_logfile),
	AGENT("access-log", NULL, false, set_access_log, get_access_log),
	AGENT("monitor-interval", NULL, false, set_monitor_interval, get_monitor_interval),
	AGENT("runtime", NULL, false, set_runtime, get_runtime),
	AGENT("pidfile", NULL, false, set_pidfile, get_pidfile),

	TARGET("url", false, set_url, get_url),
	TARGET("sample", false, set_sample, get_sample),
	TARGET("sample-key", false, set_sample_key, get_sample_key),
	TARGET("timeout", false, set_timeout, get_timeout),
	TARGET("connect-timeout", false, set_connect_timeout, get_connect_timeout),
	TARGET("add-headers", true, set_add_headers, get_add_headers),
	TARGET("remove-headers", true, set_remove_headers, get_remove_headers),
	TARGET("host", false, set_host, get_host),
	TARGET("send-body", false, set_send_body, get_send_body),
	TARGET("send-headers", false, set_send_headers, get_send_headers),
	TARGET("replay-truncated", false, set_replay_truncated, get_replay_truncated),
	TARGET("max-inflight", false, set_max_inflight, get_max_inflight),
	TARGET("rate-limit", false, set_rate_limit, get_rate_limit),
	TARGET("http2", false, set_http2, get_http2),
	TARGET("tls-verify", false, set_tls_verify, get_tls_verify),
	TARGET("ca-file", false, set_ca_file, get_ca_file),
};

#define N_SETTINGS (sizeof(table) / sizeof(table[0]))

/* Key comparison where '_' and '-' match and case does not matter. */
static bool key_eq(const char *a, const char *b)
{
	for (; *a && *b; a++, b++) {
		char x = *a == '_' ? '-' : *a, y = *b == '_' ? '-' : *b;

		if (x >= 'A' && x <= 'Z')
			x = (char)(x - 'A' + 'a');
		if (x != y)
			return false;
	}
	return *a == *b;
}

const struct setting *settings_find(enum setting_scope scope, const char *key)
{
	for (size_t i = 0; i < N_SETTINGS; i++) {
		if (table[i].scope != scope)
			continue;
		if (key_eq(key, table[i].name) || (table[i].alias && key_eq(key, table[i].alias)))
			return &table[i];
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

int setting_apply(const struct setting *s, struct agent_config *cfg, struct target_config *t,
		  const char *value, bool append, char *why, size_t n)
{
	if (!value)
		value = "";
	if (s->scope == SETTING_AGENT)
		return s->set_agent(cfg, value, append, why, n);
	return s->set_target(t, value, append, why, n);
}

int setting_format(const struct setting *s, const struct agent_config *cfg,
		   const struct target_config *t, struct strbuf *out, char *why, size_t n)
{
	if (s->scope == SETTING_AGENT)
		return s->get_agent(cfg, out, why, n);
	return s->get_target(t, out, why, n);
}

int settings_libev_backend_flags(const char *name)
{
	static const struct {
		const char *name;
		int flag;
	} backends[] = {
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
	};

	if (!name)
		return 0;
	for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
		if (!strcasecmp(name, backends[i].name))
			return backends[i].flag;
	return -1;
}

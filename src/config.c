/* Defaults and ownership of the configuration. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spop.h"
#include "xalloc.h"

static const char *const default_message_names[] = { "mirror-request", "mirror" };
static const char *const default_response_message_names[] = { "mirror-response" };

static char **strv_copy(char *const *src, size_t n)
{
	char **dst = n ? xcalloc(n, sizeof(char *)) : NULL;

	for (size_t i = 0; i < n; i++)
		dst[i] = xstrdup(src[i]);
	return dst;
}

static void strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		xfree(v[i]);
	xfree(v);
}

static struct header_pair *header_pairs_copy(const struct header_pair *src, size_t n)
{
	struct header_pair *dst = n ? xcalloc(n, sizeof(*dst)) : NULL;

	for (size_t i = 0; i < n; i++) {
		dst[i].name = xstrdup(src[i].name);
		dst[i].value = xstrdup(src[i].value);
	}
	return dst;
}

void target_config_init(struct target_config *t)
{
	*t = (struct target_config){
		.sample_percent = 100.0,
		.sample_key = SAMPLE_KEY_RANDOM,
		.timeout_ms = CFG_DEFAULT_TARGET_TIMEOUT_MS,
		.connect_timeout_ms = CFG_DEFAULT_TARGET_CONNECT_TIMEOUT_MS,
		.host_policy = HOST_FROM_TARGET,
		.send_body = true,
		.send_headers = true,
		.replay_truncated = false,
		.max_inflight = CFG_DEFAULT_TARGET_MAX_INFLIGHT,
		.rate_limit = 0,
		.http2 = false,
		.tls_verify = true,
		.compare = VERDICT_LEVEL_OFF,
		.compare_body_max = CFG_DEFAULT_COMPARE_BODY_MAX,
	};
}

void target_config_free(struct target_config *t)
{
	xfree(t->name);
	xfree(t->url);
	xfree(t->sample_key_name);
	header_pairs_free(t->add_headers, t->n_add_headers);
	for (size_t i = 0; i < t->n_remove_headers; i++)
		xfree(t->remove_headers[i]);
	xfree(t->remove_headers);
	xfree(t->ca_file);
	xfree(t->origin);
	strv_free(t->compare_ignore_headers, t->n_compare_ignore_headers);
	strv_free(t->compare_ignore_json, t->n_compare_ignore_json);
	memset(t, 0, sizeof(*t));
}

void target_config_copy(struct target_config *dst, const struct target_config *src)
{
	*dst = *src;
	dst->name = xstrdup_or_null(src->name);
	dst->url = xstrdup_or_null(src->url);
	dst->sample_key_name = xstrdup_or_null(src->sample_key_name);
	dst->ca_file = xstrdup_or_null(src->ca_file);
	dst->origin = xstrdup_or_null(src->origin);
	dst->add_headers = header_pairs_copy(src->add_headers, src->n_add_headers);
	dst->remove_headers = src->n_remove_headers ? xcalloc(src->n_remove_headers, sizeof(char *)) : NULL;
	for (size_t i = 0; i < src->n_remove_headers; i++)
		dst->remove_headers[i] = xstrdup(src->remove_headers[i]);
	dst->compare_ignore_headers = strv_copy(src->compare_ignore_headers,
						src->n_compare_ignore_headers);
	dst->compare_ignore_json = strv_copy(src->compare_ignore_json, src->n_compare_ignore_json);
}

void config_init(struct agent_config *cfg)
{
	*cfg = (struct agent_config){
		.address = xstrdup(CFG_DEFAULT_ADDRESS),
		.port = CFG_DEFAULT_PORT,
		.backlog = CFG_DEFAULT_BACKLOG,
		.socket_mode = CFG_DEFAULT_SOCKET_MODE,
		.caps = SPOP_CAP_ALL,
		.max_frame_size = CFG_DEFAULT_MAX_FRAME_SIZE,
		.reassembly_max = CFG_DEFAULT_REASSEMBLY_MAX,
		.spop_memory_max = CFG_DEFAULT_SPOP_MEMORY_MAX,
		.frame_timeout_ms = CFG_DEFAULT_FRAME_TIMEOUT_MS,
		.max_connections = CFG_DEFAULT_MAX_CONNECTIONS,
		.idle_timeout_ms = CFG_DEFAULT_IDLE_TIMEOUT_MS,
		.num_workers = CFG_DEFAULT_WORKERS,
		.queue_max_entries = CFG_DEFAULT_QUEUE_MAX_ENTRIES,
		.queue_max_bytes = CFG_DEFAULT_QUEUE_MAX_BYTES,
		.drain_timeout_ms = CFG_DEFAULT_DRAIN_TIMEOUT_MS,
		.log_level = LOG_LVL_INFO,
		.monitor_interval_ms = CFG_DEFAULT_MONITOR_INTERVAL_MS,
		.join_max_entries = CFG_DEFAULT_JOIN_MAX_ENTRIES,
		.join_max_bytes = CFG_DEFAULT_JOIN_MAX_BYTES,
		.compare_capture_max = CFG_DEFAULT_COMPARE_CAPTURE_MAX,
		.join_timeout_ms = CFG_DEFAULT_JOIN_TIMEOUT_MS,
		.diff_log_rate = CFG_DEFAULT_DIFF_LOG_RATE,
	};
	cfg->n_message_names = sizeof(default_message_names) / sizeof(default_message_names[0]);
	cfg->message_names = xcalloc(cfg->n_message_names, sizeof(char *));
	for (size_t i = 0; i < cfg->n_message_names; i++)
		cfg->message_names[i] = xstrdup(default_message_names[i]);
	cfg->n_response_message_names = sizeof(default_response_message_names) /
					 sizeof(default_response_message_names[0]);
	cfg->response_message_names =
		strv_copy((char *const *)default_response_message_names,
			  cfg->n_response_message_names);
}

void config_free(struct agent_config *cfg)
{
	xfree(cfg->address);
	xfree(cfg->libev_backend);
	for (size_t i = 0; i < cfg->n_message_names; i++)
		xfree(cfg->message_names[i]);
	xfree(cfg->message_names);
	strv_free(cfg->response_message_names, cfg->n_response_message_names);
	xfree(cfg->diff_log);
	xfree(cfg->mirror_interface);
	xfree(cfg->mirror_local_port);
	for (size_t i = 0; i < cfg->n_targets; i++)
		target_config_free(&cfg->targets[i]);
	xfree(cfg->targets);
	header_pairs_free(cfg->mirror_headers, cfg->n_mirror_headers);
	xfree(cfg->metrics_address);
	xfree(cfg->socket_owner);
	xfree(cfg->logfile);
	xfree(cfg->pidfile);
	xfree(cfg->config_file);
	memset(cfg, 0, sizeof(*cfg));
}

size_t config_reassembly_max(const struct agent_config *cfg)
{
	return cfg->reassembly_max ? cfg->reassembly_max
				   : (size_t)CFG_REASSEMBLY_FRAMES * cfg->max_frame_size;
}

struct target_config *config_add_target(struct agent_config *cfg, const char *name,
					 const char *url)
{
	struct target_config *t;

	cfg->targets = xrealloc(cfg->targets, (cfg->n_targets + 1) * sizeof(*cfg->targets));
	t = &cfg->targets[cfg->n_targets++];
	target_config_init(t);
	t->name = xstrdup(name);
	t->url = xstrdup_or_null(url);
	return t;
}

void header_pairs_free(struct header_pair *pairs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		xfree(pairs[i].name);
		xfree(pairs[i].value);
	}
	xfree(pairs);
}

void config_drop_mirror_url_targets(struct agent_config *cfg)
{
	size_t kept = 0;

	for (size_t i = 0; i < cfg->n_targets; i++) {
		if (cfg->targets[i].from_mirror_url)
			target_config_free(&cfg->targets[i]);
		else
			cfg->targets[kept++] = cfg->targets[i];
	}
	cfg->n_targets = kept;
}

void config_apply_mirror_headers(struct agent_config *cfg)
{
	for (size_t i = 0; i < cfg->n_targets; i++) {
		struct target_config *t = &cfg->targets[i];

		if (!t->from_mirror_url)
			continue;
		header_pairs_free(t->add_headers, t->n_add_headers);
		t->add_headers = header_pairs_copy(cfg->mirror_headers, cfg->n_mirror_headers);
		t->n_add_headers = cfg->n_mirror_headers;
	}
}

/* Comparison of configurations, field by field (see config_compare.h). */
#include "config_compare.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* A field added to the configuration must be compared below (or listed as
 * not compared in config_compare.h); these sizes change with most
 * additions and stop the build until then. Checked where they are known. */
#if defined(__x86_64__) && defined(__LP64__)
_Static_assert(sizeof(struct target_config) == 136,
	       "struct target_config changed: update target_config_diff()");
_Static_assert(sizeof(struct agent_config) == 232,
	       "struct agent_config changed: update config_diff()");
#endif

static bool str_ne(const char *a, const char *b)
{
	if (!a || !b)
		return a != b;
	return strcmp(a, b) != 0;
}

static bool strv_ne(char *const *a, size_t na, char *const *b, size_t nb)
{
	if (na != nb)
		return true;
	for (size_t i = 0; i < na; i++)
		if (str_ne(a[i], b[i]))
			return true;
	return false;
}

static bool headers_ne(const struct header_pair *a, size_t na, const struct header_pair *b,
		       size_t nb)
{
	if (na != nb)
		return true;
	for (size_t i = 0; i < na; i++)
		if (str_ne(a[i].name, b[i].name) || str_ne(a[i].value, b[i].value))
			return true;
	return false;
}

/* Bit for bit: 0.1 + 0.2 is not 0.3 here, which is the point. */
static bool double_ne(double a, double b)
{
	return memcmp(&a, &b, sizeof(a)) != 0;
}

/* The first differing field's name, or NULL. */
static const char *target_field_ne(const struct target_config *a, const struct target_config *b)
{
	if (str_ne(a->name, b->name))
		return "name";
	if (str_ne(a->url, b->url))
		return "url";
	if (double_ne(a->sample_percent, b->sample_percent))
		return "sample_percent";
	if (a->sample_key != b->sample_key)
		return "sample_key";
	if (str_ne(a->sample_key_name, b->sample_key_name))
		return "sample_key_name";
	if (a->timeout_ms != b->timeout_ms)
		return "timeout_ms";
	if (a->connect_timeout_ms != b->connect_timeout_ms)
		return "connect_timeout_ms";
	if (headers_ne(a->add_headers, a->n_add_headers, b->add_headers, b->n_add_headers))
		return "add_headers";
	if (strv_ne(a->remove_headers, a->n_remove_headers, b->remove_headers,
		    b->n_remove_headers))
		return "remove_headers";
	if (a->host_policy != b->host_policy)
		return "host_policy";
	if (a->send_body != b->send_body)
		return "send_body";
	if (a->send_headers != b->send_headers)
		return "send_headers";
	if (a->replay_truncated != b->replay_truncated)
		return "replay_truncated";
	if (a->max_inflight != b->max_inflight)
		return "max_inflight";
	if (double_ne(a->rate_limit, b->rate_limit))
		return "rate_limit";
	if (a->http2 != b->http2)
		return "http2";
	if (a->tls_verify != b->tls_verify)
		return "tls_verify";
	if (str_ne(a->ca_file, b->ca_file))
		return "ca_file";
	return NULL;
}

static const char *agent_field_ne(const struct agent_config *a, const struct agent_config *b)
{
	if (str_ne(a->address, b->address))
		return "address";
	if (a->port != b->port)
		return "port";
	if (a->backlog != b->backlog)
		return "backlog";
	if (a->caps != b->caps)
		return "caps";
	if (a->max_frame_size != b->max_frame_size)
		return "max_frame_size";
	if (a->reassembly_max != b->reassembly_max)
		return "reassembly_max";
	if (a->max_connections != b->max_connections)
		return "max_connections";
	if (a->socket_mode != b->socket_mode)
		return "socket_mode";
	if (str_ne(a->socket_owner, b->socket_owner))
		return "socket_owner";
	if (a->idle_timeout_ms != b->idle_timeout_ms)
		return "idle_timeout_ms";
	if (str_ne(a->libev_backend, b->libev_backend))
		return "libev_backend";
	if (a->processing_delay_ms != b->processing_delay_ms)
		return "processing_delay_ms";
	if (strv_ne(a->message_names, a->n_message_names, b->message_names, b->n_message_names))
		return "message_names";
	if (a->num_workers != b->num_workers)
		return "num_workers";
	if (a->queue_max_entries != b->queue_max_entries)
		return "queue_max_entries";
	if (a->queue_max_bytes != b->queue_max_bytes)
		return "queue_max_bytes";
	if (a->drain_timeout_ms != b->drain_timeout_ms)
		return "drain_timeout_ms";
	if (str_ne(a->mirror_interface, b->mirror_interface))
		return "mirror_interface";
	if (str_ne(a->mirror_local_port, b->mirror_local_port))
		return "mirror_local_port";
	if (a->n_targets != b->n_targets)
		return "n_targets";
	if (headers_ne(a->mirror_headers, a->n_mirror_headers, b->mirror_headers,
		       b->n_mirror_headers))
		return "mirror_headers";
	if (str_ne(a->metrics_address, b->metrics_address))
		return "metrics_address";
	if (a->log_level != b->log_level)
		return "log_level";
	if (str_ne(a->logfile, b->logfile))
		return "logfile";
	if (a->access_log != b->access_log)
		return "access_log";
	if (a->monitor_interval_ms != b->monitor_interval_ms)
		return "monitor_interval_ms";
	if (a->runtime_ms != b->runtime_ms)
		return "runtime_ms";
	if (str_ne(a->pidfile, b->pidfile))
		return "pidfile";
	return NULL;
}

int target_config_diff(const struct target_config *a, const struct target_config *b, char *what,
		       size_t n)
{
	const char *field = target_field_ne(a, b);

	if (!field)
		return 0;
	snprintf(what, n, "%s", field);
	return 1;
}

int config_diff(const struct agent_config *a, const struct agent_config *b, char *what,
		size_t n)
{
	const char *field = agent_field_ne(a, b);

	if (field) {
		snprintf(what, n, "%s", field);
		return 1;
	}
	for (size_t i = 0; i < a->n_targets; i++) {
		field = target_field_ne(&a->targets[i], &b->targets[i]);
		if (field) {
			snprintf(what, n, "targets[%zu].%s", i, field);
			return 1;
		}
	}
	return 0;
}

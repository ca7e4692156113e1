/* The agent's configuration as data: every limit and knob, for the agent
 * itself ([mirror] section, command line) and for each shadow target
 * ([target NAME] sections, -u). The table of settings.c says which text
 * sets each field and holds its default; config.c owns the memory. */
#ifndef SPOA_MIRROR_CONFIG_TYPES_H
#define SPOA_MIRROR_CONFIG_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "log.h"
#include "verdict.h"

/* A request goes to at most this many targets (one bit each in a mask). */
#define TARGET_MAX 32
/* reassembly-max 0: this many frames of max-frame-size. HAProxy 2.x
 * fragments only messages bigger than the frame size, and its messages are
 * bounded by its own tune.bufsize. */
#define CFG_REASSEMBLY_FRAMES 4

enum host_policy {
	HOST_FROM_TARGET = 0, /* default: Host of the target URL; client's in X-Forwarded-Host */
	HOST_FROM_CLIENT = 1, /* keep the client's Host header */
};

enum sample_key {
	SAMPLE_KEY_RANDOM = 0, /* independent draw per request */
	SAMPLE_KEY_HEADER,     /* hash of a header's value */
	SAMPLE_KEY_COOKIE,     /* hash of a cookie's value */
	SAMPLE_KEY_CLIENT,     /* hash of the client address */
};

/* Local ports low..high; low 0: any port. */
struct port_range {
	unsigned low, high;
};

struct header_pair {
	char *name;
	char *value;
};

struct target_config {
	char *name;                 /* unique; "default" for the [mirror] URL, "uN" for -u */
	char *url;                  /* http(s)://host[:port][/prefix] */
	double sample_percent;      /* 0..100, decimals allowed; default 100 */
	enum sample_key sample_key;
	char *sample_key_name;      /* header or cookie name */
	unsigned timeout_ms;
	unsigned connect_timeout_ms;
	struct header_pair *add_headers; /* added, replacing same-named ones */
	size_t n_add_headers;
	char **remove_headers;
	size_t n_remove_headers;
	enum host_policy host_policy;
	bool send_body;             /* default true */
	bool send_headers;          /* default true: forward the client's headers */
	bool replay_truncated;      /* default false: drop bodies HAProxy cut */
	unsigned max_inflight;      /* queued + in flight for this target */
	unsigned max_connections;   /* open to this target, all workers; 0 = no cap */
	double rate_limit;          /* requests/s, 0 = unlimited */
	bool http2;
	bool tls_verify;            /* default true */
	char *ca_file;
	/* where this target was defined, for error messages */
	char *origin;
	/* shadow verdicts: compare this target's answers with the primary's */
	enum verdict_level compare; /* default off */
	char **compare_ignore_headers; /* beside verdict.c's defaults */
	size_t n_compare_ignore_headers;
	char **compare_ignore_json;    /* JSON Pointer patterns, `*` = any */
	size_t n_compare_ignore_json;
	size_t compare_body_max;       /* bytes of the shadow's body kept */
	/* made from [mirror] mirror-url or -u: takes agent_config.mirror_headers,
	 * and a -u on the command line replaces it */
	bool from_mirror_url;
};

struct agent_config {
	/* SPOP listener */
	char *address;              /* or unix:PATH, /PATH: a UNIX socket */
	uint16_t port;
	int backlog;
	unsigned socket_mode;       /* UNIX socket's permission bits */
	char *socket_owner;         /* UNIX socket's USER[:GROUP], NULL = ours */
	unsigned caps;              /* SPOP_CAP_* announced */
	uint32_t max_frame_size;
	size_t reassembly_max;      /* 0 = CFG_REASSEMBLY_FRAMES x max_frame_size */
	size_t spop_memory_max;     /* 0 = no limit */
	unsigned frame_timeout_ms;  /* 0 = no limit */
	unsigned max_connections;
	unsigned idle_timeout_ms;
	char *libev_backend;        /* NULL = libev's choice */
	unsigned processing_delay_ms;
	char **message_names;       /* accepted SPOE message names */
	size_t n_message_names;

	/* replay */
	unsigned num_workers;
	size_t queue_max_entries;
	size_t queue_max_bytes;
	unsigned drain_timeout_ms;
	char *mirror_interface;     /* -I: CURLOPT_INTERFACE */
	struct port_range mirror_local_port; /* -P: CURLOPT_LOCALPORT(RANGE) */
	struct target_config *targets;
	size_t n_targets;
	/* mirror-headers / --mirror-header: added to the targets made from
	 * mirror-url and -u (see config_apply_mirror_headers) */
	struct header_pair *mirror_headers;
	size_t n_mirror_headers;

	/* shadow verdicts */
	char **response_message_names; /* SPOE messages carrying the primary's answer */
	size_t n_response_message_names;
	size_t join_max_entries;
	size_t join_max_bytes;
	size_t compare_capture_max; /* bytes of shadows' answers being captured */
	unsigned join_timeout_ms;
	char *diff_log;             /* [MODE:]FILE, NULL = no diff log */
	bool diff_log_bodies;
	double diff_log_rate;       /* lines/s per target, 0 = unlimited */

	/* operations */
	char *metrics_address;      /* ADDR:PORT, NULL = off */
	enum log_level log_level;
	char *logfile;              /* [MODE:]FILE, NULL = stderr */
	bool access_log;
	unsigned monitor_interval_ms;
	unsigned runtime_ms;        /* 0 = unlimited */
	bool daemonize;
	char *pidfile;
	char *config_file;
	bool check_only;
};

/* reassembly-max as it applies (0 follows max-frame-size). */
static inline size_t config_reassembly_max(const struct agent_config *cfg)
{
	return cfg->reassembly_max ? cfg->reassembly_max
				   : (size_t)CFG_REASSEMBLY_FRAMES * cfg->max_frame_size;
}

#endif

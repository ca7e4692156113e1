/* The agent's configuration: every limit and knob with its default, for the
 * agent itself ([mirror] section, command line) and for each shadow target
 * ([target NAME] sections, -u). Filled by cli.c and ini.c through the
 * table of settings.c, read-only once the agent runs (a reload builds a new
 * one). */
#ifndef SPOA_MIRROR_CONFIG_H
#define SPOA_MIRROR_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "log.h"
#include "verdict.h"

/* ---- defaults (documented in doc/spoa-mirror.ini.example) ---- */
#define CFG_DEFAULT_ADDRESS "0.0.0.0"
#define CFG_DEFAULT_PORT 12345
/* HAProxy opens many SPOP connections at once; the incumbent's backlog of 10
 * resets them under bursts. */
#define CFG_DEFAULT_BACKLOG 1024
/* a UNIX socket listener's permission bits: its owner and group only */
#define CFG_DEFAULT_SOCKET_MODE 0660
/* High enough that HAProxy's tune.bufsize is the only knob for big bodies:
 * the frame size actually used is min(this, HAProxy's). */
#define CFG_DEFAULT_MAX_FRAME_SIZE (4u * 1024 * 1024)
/* 0: four frames. HAProxy 2.x fragments only messages bigger than the
 * frame size, and its messages are bounded by its own tune.bufsize. */
#define CFG_DEFAULT_REASSEMBLY_MAX 0
#define CFG_REASSEMBLY_FRAMES 4
/* Read, reassembly and output buffers of all SPOP connections: 64 frames of
 * the default size; with the queue's 32 MiB and the idle process it keeps
 * the agent under 512 MiB whatever peers send. */
#define CFG_DEFAULT_SPOP_MEMORY_MAX (256u * 1024 * 1024)
/* A frame still incomplete this long after its first byte belongs to an
 * event HAProxy gave up on (timeout processing is far shorter). */
#define CFG_DEFAULT_FRAME_TIMEOUT_MS 5000
#define CFG_DEFAULT_MAX_CONNECTIONS 1000
#define CFG_DEFAULT_IDLE_TIMEOUT_MS (300u * 1000)
#define CFG_DEFAULT_WORKERS 1
#define CFG_DEFAULT_QUEUE_MAX_ENTRIES 10000
#define CFG_DEFAULT_QUEUE_MAX_BYTES (32u * 1024 * 1024)
#define CFG_DEFAULT_DRAIN_TIMEOUT_MS 5000
#define CFG_DEFAULT_MONITOR_INTERVAL_MS 5000
#define CFG_DEFAULT_TARGET_TIMEOUT_MS 5000
#define CFG_DEFAULT_TARGET_CONNECT_TIMEOUT_MS 1000
/* A request goes to at most this many targets (one bit each in a mask). */
#define TARGET_MAX 32
/* Requests admitted to one target and not finished (queued or sending):
 * absorbs bursts; libcurl opens at most 256 connections per worker to it. */
#define CFG_DEFAULT_TARGET_MAX_INFLIGHT 4096

/* ---- shadow verdicts ---- */
/* A shadow's body is kept up to this for comparison, a digest covers the
 * rest: 1 MiB holds nearly every API answer whole, and at most one such
 * buffer exists per transfer in flight to a target with `compare = body`. */
#define CFG_DEFAULT_COMPARE_BODY_MAX (1024u * 1024)
/* Shadows' answers being captured at once, all targets and workers: 64
 * answers at the default compare-body-max, or some 8000 typical 4 KiB
 * ones (enough for 10k req/s at a 0.8 s answer time). Without it the
 * capture memory would be transfers in flight x compare-body-max; an
 * answer it has no room for is not compared (not_comparable), counted. */
#define CFG_DEFAULT_COMPARE_CAPTURE_MAX (64u * 1024 * 1024)
/* Requests waiting for the other side of their join: a second of traffic
 * at 10k req/s; beyond it they are dropped and counted. */
#define CFG_DEFAULT_JOIN_MAX_ENTRIES 10000
/* Bytes of those answers: 10000 entries of ~6 KiB (two 3 KiB answers);
 * bigger answers fill it first and are counted as join overflow. */
#define CFG_DEFAULT_JOIN_MAX_BYTES (64u * 1024 * 1024)
/* From the request's admission until its last answer: the target's default
 * timeout (5 s) plus time for the primary's answer to come back. */
#define CFG_DEFAULT_JOIN_TIMEOUT_MS 10000
/* Diff-log lines per second per target: enough to read, not enough to fill
 * a disk when a release breaks every answer. */
#define CFG_DEFAULT_DIFF_LOG_RATE 10.0

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
	char *mirror_local_port;    /* -P: "PORT" or "LOW-HIGH" */
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

/* Fill with defaults (no targets). */
void config_init(struct agent_config *cfg);
void config_free(struct agent_config *cfg);

/* Append a target with defaults for `url`; returns it (owned by cfg). */
struct target_config *config_add_target(struct agent_config *cfg, const char *name,
					 const char *url);
void target_config_init(struct target_config *t);
void target_config_free(struct target_config *t);
/* Deep copy. */
void target_config_copy(struct target_config *dst, const struct target_config *src);

void header_pairs_free(struct header_pair *pairs, size_t n);
/* Removes the targets made from mirror-url or -u (a -u on the command line
 * replaces the file's mirror-url). */
void config_drop_mirror_url_targets(struct agent_config *cfg);
/* Gives every target made from mirror-url or -u a copy of mirror_headers
 * as its add_headers (replacing what it had). */
void config_apply_mirror_headers(struct agent_config *cfg);

/* reassembly-max as it applies (0 follows max-frame-size). */
size_t config_reassembly_max(const struct agent_config *cfg);

#endif

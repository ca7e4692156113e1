/* A shadow target at run time: its settings (a copy of target_config), its
 * parsed URL, and the admission decisions made on the SPOP thread for every
 * request (sampling, truncated bodies, in-flight cap, rate limit). Targets
 * come in immutable, refcounted sets so a reload (SIGHUP) can swap them
 * while old requests still point at the old set. Counters live in a
 * registry keyed by name so they survive reloads. */
#ifndef SPOA_MIRROR_TARGET_H
#define SPOA_MIRROR_TARGET_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "headers.h"
#include "slice.h"
#include "stats.h"
#include "url.h"
#include "verdict.h"

struct target {
	uint64_t generation;      /* its set's */
	struct target_config cfg; /* owned copy */
	struct target_url url;
	struct target_stats *stats; /* owned by the registry */
	uint64_t sample_threshold;  /* sample_percent scaled to [0, 2^32] */
	/* compare != off: the rules its verdicts use, built with the set so a
	 * reload swaps them with the targets (views into cfg) */
	struct verdict_rules rules;
	struct slice *ignore_headers;
	/* token bucket, touched by the SPOP thread only */
	double tokens;
	uint64_t tokens_ns;
};

struct target_set {
	atomic_uint refs;
	/* 1, 2, ... in creation order: what workers compare, since a reload's
	 * new set may get the address of a set freed before */
	uint64_t generation;
	size_t count;
	uint32_t compare_mask; /* bit i: targets[i] compares its answers */
	struct target targets[];
};

/* Per-name counters that outlive target sets. Main thread creates entries;
 * any thread bumps the counters inside. */
struct stats_registry {
	struct stats_entry {
		char *name;
		struct target_stats *stats;
	} *entries;
	size_t count;
};

struct target_stats *stats_registry_get(struct stats_registry *reg, const char *name);
void stats_registry_free(struct stats_registry *reg);

/* Builds a set from the configuration (URLs parsed, counters looked up by
 * name). NULL with a one-line reason in err on failure. refs starts at 1. */
struct target_set *target_set_new(const struct agent_config *cfg, struct stats_registry *reg,
				  char *err, size_t errlen);
void target_set_ref(struct target_set *set);
void target_set_unref(struct target_set *set);

/* What the SPOP thread knows about a request when it decides. */
struct admit_input {
	const struct header_list *headers;
	struct slice client;
	bool truncated;
	uint64_t now_ns; /* CLOCK_MONOTONIC */
};

enum admit_verdict {
	ADMIT_SEND = 0,
	ADMIT_SAMPLED_OUT,
	ADMIT_DROP_TRUNCATED,
	ADMIT_DROP_SHADOW_DOWN,
	ADMIT_DROP_BUSY,
	ADMIT_DROP_RATE_LIMITED,
};

/* A target whose last TARGET_BACKOFF_FAILURES mirrors all went unanswered
 * (refused, reset, timed out, name unknown) rests: requests for it are
 * dropped (reason shadow_down) for TARGET_BACKOFF_FIRST_MS, then mirrors
 * flow again; each new run of failures doubles the rest, up to
 * TARGET_BACKOFF_MAX_MS. Any answer ends it. Without it a dead shadow costs
 * a connection attempt (and a resolver thread) per mirrored request. */
#define TARGET_BACKOFF_FAILURES 5
#define TARGET_BACKOFF_FIRST_MS 1000u
#define TARGET_BACKOFF_MAX_MS 30000u

/* Counts the request as received by t and decides. Every verdict is counted
 * here; ADMIT_SEND also counts it in flight, to be closed later by
 * target_finish() or target_cancel(). SPOP thread only. */
enum admit_verdict target_admit(struct target *t, const struct admit_input *in);

/* An admitted request could not be queued or sent: dropped for `reason`. */
void target_cancel(struct target *t, enum drop_reason reason);

/* The shadow answered with `status` (> 0), or did not (`status` 0 and
 * `failure` says why). Any thread. */
void target_finish(struct target *t, long status, enum outcome_class failure,
		   uint64_t latency_us);

/* 32-bit hash used by consistent sampling (exposed for tests). */
uint32_t target_sample_hash(struct slice target_name, struct slice key);

#endif

/* Shadow targets: refcounted sets and per-request admission. */
#include "target.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "xalloc.h"
#include "clock.h"

/* ------------------------------------------------------------------ */
/* stats registry                                                      */

struct target_stats *stats_registry_get(struct stats_registry *reg, const char *name)
{
	struct stats_entry e;

	for (size_t i = 0; i < reg->count; i++)
		if (!strcmp(reg->entries[i].name, name))
			return reg->entries[i].stats;
	/* the registry outlives a reload that runs out of memory here (see
	 * xalloc_try): it changes only once everything is allocated */
	e.name = xstrdup(name);
	e.stats = xcalloc(1, sizeof(*e.stats));
	reg->entries = xrealloc(reg->entries, (reg->count + 1) * sizeof(*reg->entries));
	reg->entries[reg->count++] = e;
	/* the registry's now, whatever becomes of a reload that made them */
	xalloc_keep(e.name);
	xalloc_keep(e.stats);
	xalloc_keep(reg->entries);
	return e.stats;
}

void stats_registry_free(struct stats_registry *reg)
{
	for (size_t i = 0; i < reg->count; i++) {
		xfree(reg->entries[i].name);
		xfree(reg->entries[i].stats);
	}
	xfree(reg->entries);
	reg->entries = NULL;
	reg->count = 0;
}

/* ------------------------------------------------------------------ */
/* sets                                                                */

static atomic_uint_fast64_t set_generations;

/* Every compare-ignore-json pattern well formed: compiling them can then
 * fail only for memory. */
static bool json_ignore_valid(const struct target_config *c)
{
	char why[8];

	for (size_t i = 0; i < c->n_compare_ignore_json; i++)
		if (json_pointer_check(c->compare_ignore_json[i], why, sizeof(why)) < 0)
			return false;
	return true;
}

/* The verdict rules of a target that compares: header names as slices,
 * JSON Pointer patterns compiled (checked one by one at configuration
 * time, so a failure here is out of memory or a bug). */
static int target_rules_build(struct target *t, char *why, size_t n)
{
	const struct target_config *c = &t->cfg;

	t->rules = (struct verdict_rules){ .level = c->compare, .max_diffs = JSON_CMP_MAX_DIFFS };
	if (c->compare == VERDICT_LEVEL_OFF)
		return 0;
	if (c->n_compare_ignore_headers) {
		t->ignore_headers = xcalloc(c->n_compare_ignore_headers, sizeof(struct slice));
		for (size_t i = 0; i < c->n_compare_ignore_headers; i++)
			t->ignore_headers[i] = slice_from_cstr(c->compare_ignore_headers[i]);
		t->rules.ignore_headers = t->ignore_headers;
		t->rules.nignore_headers = c->n_compare_ignore_headers;
	}
	if (c->n_compare_ignore_json) {
		char reason[200];
		struct json_ignore *ig = json_ignore_compile(
			(const char *const *)c->compare_ignore_json, c->n_compare_ignore_json,
			reason, sizeof(reason));

		if (!ig && json_ignore_valid(c))
			ig = xalloc_adopt(NULL); /* out of memory: as for any x*() */
		if (!ig) {
			snprintf(why, n, "compare-ignore-json: %s", reason);
			return -1;
		}
		/* one malloc'd block: a reload out of memory frees it too */
		t->rules.ignore_json = xalloc_adopt(ig);
	}
	return 0;
}

struct target_set *target_set_new(const struct agent_config *cfg, struct stats_registry *reg,
				  char *err, size_t errlen)
{
	struct target_set *set;

	if (cfg->n_targets > TARGET_MAX) {
		snprintf(err, errlen, "%zu targets configured, at most %d are supported",
			 cfg->n_targets, TARGET_MAX);
		return NULL;
	}
	set = xcalloc(1, sizeof(*set) + cfg->n_targets * sizeof(struct target));
	atomic_init(&set->refs, 1);
	set->generation = atomic_fetch_add_explicit(&set_generations, 1, memory_order_relaxed) + 1;
	for (size_t i = 0; i < cfg->n_targets; i++) {
		struct target *t = &set->targets[i];
		char why[256];

		if (target_url_parse(cfg->targets[i].url, &t->url, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "target '%s': %s", cfg->targets[i].name, why);
			set->count = i;
			target_set_unref(set);
			return NULL;
		}
		t->generation = set->generation;
		target_config_copy(&t->cfg, &cfg->targets[i]);
		t->stats = stats_registry_get(reg, t->cfg.name);
		t->sample_threshold = (uint64_t)(t->cfg.sample_percent / 100.0 * 4294967296.0);
		t->tokens = t->cfg.rate_limit > 1.0 ? t->cfg.rate_limit : 1.0;
		t->tokens_ns = clock_monotonic_ns();
		set->count = i + 1;
		if (target_rules_build(t, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "target '%s': %s", t->cfg.name, why);
			target_set_unref(set);
			return NULL;
		}
		if (t->cfg.compare != VERDICT_LEVEL_OFF)
			set->compare_mask |= 1u << i;
	}
	return set;
}

void target_set_ref(struct target_set *set)
{
	atomic_fetch_add_explicit(&set->refs, 1, memory_order_relaxed);
}

void target_set_unref(struct target_set *set)
{
	if (!set || atomic_fetch_sub_explicit(&set->refs, 1, memory_order_acq_rel) != 1)
		return;
	for (size_t i = 0; i < set->count; i++) {
		target_config_free(&set->targets[i].cfg);
		target_url_free(&set->targets[i].url);
		xfree(set->targets[i].ignore_headers);
		/* json_ignore_free() is free(); xfree keeps a reload's count */
		xfree((void *)set->targets[i].rules.ignore_json);
	}
	xfree(set);
}

/* ------------------------------------------------------------------ */
/* admission                                                           */

/* FNV-1a over the target name then the key, finished with a mixer so that
 * nearby keys spread; mixing the name in keeps two targets' samples
 * independent. */
uint32_t target_sample_hash(struct slice target_name, struct slice key)
{
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < target_name.len; i++)
		h = (h ^ (uint8_t)target_name.ptr[i]) * 1099511628211ull;
	h = (h ^ 0xFF) * 1099511628211ull;
	for (size_t i = 0; i < key.len; i++)
		h = (h ^ (uint8_t)key.ptr[i]) * 1099511628211ull;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return (uint32_t)h;
}

/* xorshift64*: SPOP thread only, so no lock. */
static uint32_t random_u32(void)
{
	static uint64_t s;

	if (!s)
		s = clock_monotonic_ns() ^ ((uint64_t)getpid() << 32) ^ 0x9E3779B97F4A7C15ull;
	s ^= s >> 12;
	s ^= s << 25;
	s ^= s >> 27;
	return (uint32_t)((s * 2685821657736338717ull) >> 32);
}

/* Value of cookie `name` in the request's Cookie headers. */
static bool find_cookie(const struct header_list *h, const char *name, struct slice *out)
{
	struct slice want = slice_from_cstr(name);

	for (size_t i = 0; h && i < h->count; i++) {
		struct slice rest;

		if (!slice_case_eq_cstr(h->items[i].name, "cookie"))
			continue;
		rest = h->items[i].value;
		while (rest.len) {
			struct slice pair = slice_trim(slice_split(&rest, ';'));
			struct slice key = slice_trim(slice_split(&pair, '='));

			if (key.len == want.len && !memcmp(key.ptr, want.ptr, key.len)) {
				*out = slice_trim(pair);
				return true;
			}
		}
	}
	return false;
}

static bool sample_key(const struct target *t, const struct admit_input *in, struct slice *key)
{
	const struct http_header *h;

	switch (t->cfg.sample_key) {
	case SAMPLE_KEY_HEADER:
		h = in->headers ? headers_find(in->headers, slice_from_cstr(t->cfg.sample_key_name))
				: NULL;
		if (!h)
			return false;
		*key = h->value;
		return true;
	case SAMPLE_KEY_COOKIE:
		return find_cookie(in->headers, t->cfg.sample_key_name, key);
	case SAMPLE_KEY_CLIENT:
		*key = in->client;
		return in->client.len > 0;
	default:
		return false;
	}
}

static bool sampled_in(const struct target *t, const struct admit_input *in)
{
	struct slice key;
	uint32_t draw;

	if (t->sample_threshold >= 4294967296ull)
		return true;
	if (t->sample_threshold == 0)
		return false;
	/* requests without the key fall back to an independent draw */
	if (sample_key(t, in, &key))
		draw = target_sample_hash(slice_from_cstr(t->cfg.name), key);
	else
		draw = random_u32();
	return draw < t->sample_threshold;
}

static bool take_token(struct target *t, uint64_t now_ns)
{
	double burst = t->cfg.rate_limit > 1.0 ? t->cfg.rate_limit : 1.0;

	if (now_ns > t->tokens_ns) {
		t->tokens += (double)(now_ns - t->tokens_ns) * t->cfg.rate_limit / 1e9;
		if (t->tokens > burst)
			t->tokens = burst;
		t->tokens_ns = now_ns;
	}
	if (t->tokens < 1.0)
		return false;
	t->tokens -= 1.0;
	return true;
}

enum admit_verdict target_admit(struct target *t, const struct admit_input *in)
{
	struct target_stats *s = t->stats;

	stat_inc(&s->received);
	if (!sampled_in(t, in)) {
		stat_inc(&s->sampled_out);
		return ADMIT_SAMPLED_OUT;
	}
	/* a cut body first: it is the request's own fault, whatever the target
	 * (and every truncated request is counted as such once) */
	if (in->truncated && !t->cfg.replay_truncated) {
		stat_inc(&s->dropped[DROP_TRUNCATED]);
		return ADMIT_DROP_TRUNCATED;
	}
	/* gRPC needs HTTP/2 end to end (trailers, te: trailers, which HTTP/1.1
	 * calls hop-by-hop): over HTTP/1.1 a gRPC server only answers with an
	 * error, which would read as the shadow failing. */
	if (in->grpc && !t->cfg.http2) {
		stat_inc(&s->dropped[DROP_GRPC_NEEDS_HTTP2]);
		return ADMIT_DROP_GRPC_NEEDS_HTTP2;
	}
	if (in->now_ns < atomic_load_explicit(&s->down_until_ns, memory_order_relaxed)) {
		stat_inc(&s->dropped[DROP_SHADOW_DOWN]);
		return ADMIT_DROP_SHADOW_DOWN;
	}
	if (t->cfg.max_inflight &&
	    atomic_load_explicit(&s->inflight, memory_order_relaxed) >= (int64_t)t->cfg.max_inflight) {
		stat_inc(&s->dropped[DROP_TARGET_BUSY]);
		return ADMIT_DROP_BUSY;
	}
	if (t->cfg.rate_limit > 0 && !take_token(t, in->now_ns)) {
		stat_inc(&s->dropped[DROP_RATE_LIMITED]);
		return ADMIT_DROP_RATE_LIMITED;
	}
	atomic_fetch_add_explicit(&s->inflight, 1, memory_order_relaxed);
	return ADMIT_SEND;
}

void target_count_grpc_status(struct target *t, unsigned slot)
{
	stat_inc(&t->stats->grpc_status[slot < GRPC_SLOTS ? slot : GRPC_SLOT_INVALID]);
}

void target_cancel(struct target *t, enum drop_reason reason)
{
	stat_inc(&t->stats->dropped[reason]);
	atomic_fetch_sub_explicit(&t->stats->inflight, 1, memory_order_relaxed);
}

/* One more unanswered mirror: past the threshold, start a rest unless one
 * runs already (mirrors sent before it began still come back failing). */
static void note_failure(struct target *t)
{
	struct target_stats *s = t->stats;
	unsigned n = atomic_fetch_add_explicit(&s->consecutive_failures, 1, memory_order_relaxed) + 1;
	uint64_t now, until;
	unsigned rest, next;

	if (n < TARGET_BACKOFF_FAILURES)
		return;
	now = clock_monotonic_ns();
	until = atomic_load_explicit(&s->down_until_ns, memory_order_relaxed);
	if (now < until)
		return;
	rest = atomic_load_explicit(&s->backoff_ms, memory_order_relaxed);
	if (rest == 0)
		rest = TARGET_BACKOFF_FIRST_MS;
	/* one thread starts the rest; the others see it running */
	if (!atomic_compare_exchange_strong(&s->down_until_ns, &until,
					    now + (uint64_t)rest * 1000000u))
		return;
	next = rest * 2 > TARGET_BACKOFF_MAX_MS ? TARGET_BACKOFF_MAX_MS : rest * 2;
	atomic_store_explicit(&s->backoff_ms, next, memory_order_relaxed);
	atomic_store_explicit(&s->consecutive_failures, 0, memory_order_relaxed);
	stat_inc(&s->backoffs);
	log_warn("target '%s': %u mirrors in a row unanswered; not mirroring to it for %u ms "
		 "(dropped as shadow_down)", t->cfg.name, TARGET_BACKOFF_FAILURES, rest);
}

void target_finish(struct target *t, long status, enum outcome_class failure,
		   uint64_t latency_us)
{
	struct target_stats *s = t->stats;

	if (status > 0) {
		enum outcome_class c = status < 200 ? OUTCOME_1XX
				     : status < 300 ? OUTCOME_2XX
				     : status < 400 ? OUTCOME_3XX
				     : status < 500 ? OUTCOME_4XX
				     : status < 600 ? OUTCOME_5XX
						    : OUTCOME_OTHER;
		stat_inc(&s->outcome[c]);
		stat_inc(&s->mirrored);
		target_stats_record_latency(s, latency_us);
		atomic_store_explicit(&s->consecutive_failures, 0, memory_order_relaxed);
		atomic_store_explicit(&s->backoff_ms, 0, memory_order_relaxed);
	} else {
		stat_inc(&s->outcome[failure]);
		stat_inc(&s->failed);
		note_failure(t);
	}
	atomic_fetch_sub_explicit(&s->inflight, 1, memory_order_relaxed);
}

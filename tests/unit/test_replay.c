/* Tests for src/replay.c against a real local HTTP server (http_recorder):
 * what reaches the shadow byte for byte, sampling, limits, failures and
 * shutdown, with the per-target counters checked exactly. Requests are
 * admitted the way the SPOP thread does it: request_new, target_admit per
 * target, a budget charge, then replay_pool_submit_take. */
#include <setjmp.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "config.h"
#include "http_recorder.h"
#include "fake_clock.h"
#include "grpc.h"
#include "log.h"
#include "log_lines.h"
#include "queue.h"
#include "replay.h"
#include "replay_log.h"
#include "request.h"
#include "shadow_answer.h"
#include "target.h"

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif

/* ---- fixture ---- */

struct fx {
	struct agent_config cfg;
	struct stats_registry reg;
	struct target_set *set;
	struct replay_pool *pool;
	struct replay_settings settings;
	struct queue_budget budget;
	struct http_recorder *rec[2];
	/* shadow verdicts: requests carry this id and capture these targets */
	const char *unique_id;
	uint32_t compare_mask;
};

struct spec {
	const char *method;
	const char *uri;
	const char *body;
	size_t body_len;
	const char *client;
	const char *const *hdrs; /* name, value, ..., NULL */
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t mono_ms(void)
{
	return mono_ns() / 1000000u;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static struct fx *fx_new(void)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	config_init(&f->cfg);
	queue_budget_init(&f->budget, f->cfg.queue_max_entries, f->cfg.queue_max_bytes);
	f->settings = (struct replay_settings){ .num_workers = 1, .monitor_interval_ms = 1000 };
	return f;
}

static struct http_recorder *fx_recorder(struct fx *f, int i, const struct recorder_options *o)
{
	struct recorder_options dflt = { 0 };

	f->rec[i] = recorder_start(o ? o : &dflt);
	assert_non_null(f->rec[i]);
	return f->rec[i];
}

static struct target_config *fx_target(struct fx *f, const char *name, const char *url)
{
	return config_add_target(&f->cfg, name, url);
}

static void fx_go(struct fx *f)
{
	char err[256];

	f->set = target_set_new(&f->cfg, &f->reg, err, sizeof(err));
	if (!f->set)
		fail_msg("target_set_new: %s", err);
	f->pool = replay_pool_start(&f->settings, err, sizeof(err));
	if (!f->pool)
		fail_msg("replay_pool_start: %s", err);
	assert_true(replay_pool_alive(f->pool));
}

static struct target_stats *fx_stats(struct fx *f, size_t i)
{
	return f->set->targets[i].stats;
}

static void fx_free(struct fx *f)
{
	if (f->pool)
		replay_pool_stop(f->pool, 2000);
	target_set_unref(f->set);
	for (int i = 0; i < 2; i++)
		recorder_stop(f->rec[i]);
	config_free(&f->cfg);
	stats_registry_free(&f->reg);
	free(f);
}

/* Admits and submits one request as the SPOP thread would; returns the
 * number of targets it went to. */
static unsigned mirror_with_set(struct fx *f, struct target_set *set, const struct spec *q)
{
	struct http_header items[64];
	struct header_list list = header_list_init(items, 64);
	struct request_parts p = {
		.method = slice_from_cstr(q->method),
		.uri = slice_from_cstr(q->uri),
		.version = SLICE_LIT("1.1"),
		.body = slice_make(q->body ? q->body : "", q->body_len),
		.client = slice_from_cstr(q->client ? q->client : "192.0.2.10"),
		.unique_id = slice_from_cstr(f->unique_id ? f->unique_id : ""),
		.headers = &list,
	};
	struct admit_input in;
	struct mirror_request *r;
	uint32_t mask = 0;
	unsigned n = 0;

	for (size_t i = 0; q->hdrs && q->hdrs[i]; i += 2) {
		items[list.count].name = slice_from_cstr(q->hdrs[i]);
		items[list.count].value = slice_from_cstr(q->hdrs[i + 1]);
		list.count++;
	}
	r = request_new(&p);
	assert_non_null(r);
	in = (struct admit_input){ .headers = &list, .client = p.client,
				   .grpc = grpc_call(list.items, list.count), .now_ns = mono_ns() };
	for (size_t i = 0; i < set->count; i++) {
		if (target_admit(&set->targets[i], &in) == ADMIT_SEND) {
			mask |= 1u << i;
			n++;
		}
	}
	if (!n) {
		request_free(r);
		return 0;
	}
	if (!queue_budget_reserve(&f->budget, r->charge)) {
		for (size_t i = 0; i < set->count; i++)
			if (mask & (1u << i))
				target_cancel(&set->targets[i], DROP_QUEUE_FULL);
		request_free(r);
		return 0;
	}
	r->budget = &f->budget;
	r->set = set;
	target_set_ref(set);
	r->target_mask = mask;
	r->compare_mask = mask & f->compare_mask;
	atomic_store(&r->pending, n);
	replay_pool_submit_take(f->pool, r);
	return n;
}

static unsigned mirror(struct fx *f, const struct spec *q)
{
	return mirror_with_set(f, f->set, q);
}

static int64_t inflight(struct target_stats *s)
{
	return atomic_load(&s->inflight);
}

/* Until no target has anything in flight. */
static bool fx_wait_idle(struct fx *f, unsigned timeout_ms)
{
	uint64_t until = mono_ms() + timeout_ms;

	for (;;) {
		bool idle = true;

		for (size_t i = 0; i < f->set->count; i++)
			if (inflight(fx_stats(f, i)))
				idle = false;
		if (idle)
			return true;
		if (mono_ms() > until)
			return false;
		sleep_ms(2);
	}
}

/* Keeps at most `max` in flight on target 0, like a closed-loop client. */
static void fx_pace(struct fx *f, int64_t max)
{
	uint64_t until = mono_ms() + 10000;

	while (inflight(fx_stats(f, 0)) >= max && mono_ms() < until)
		usleep(200);
}

static void assert_accounted(const struct target_stats *s)
{
	uint64_t received = stat_get(&s->received);
	uint64_t parts = stat_get(&s->mirrored) + stat_get(&s->failed) +
			 target_stats_dropped_total(s) + stat_get(&s->sampled_out) +
			 (uint64_t)atomic_load(&s->inflight);
	uint64_t outcomes = 0;

	assert_int_equal(received, parts);
	for (int i = 0; i < OUTCOME_COUNT; i++)
		outcomes += stat_get(&s->outcome[i]);
	assert_int_equal(outcomes, stat_get(&s->mirrored) + stat_get(&s->failed));
}

static const struct recorded_request *find_target(struct http_recorder *rec, const char *target)
{
	for (size_t i = 0; i < recorder_count(rec); i++) {
		const struct recorded_request *q = recorder_get(rec, i);
		if (q && !strcmp(q->target, target))
			return q;
	}
	fail_msg("no request for %s at the shadow", target);
	return NULL;
}

static void host_of(struct http_recorder *rec, char *out, size_t n)
{
	snprintf(out, n, "127.0.0.1:%u", recorder_port(rec));
}

/* ---- what reaches the shadow ---- */

static void test_replay_every_method_forwarded_exactly(void **state)
{
	struct fx *f = fx_new();
	struct http_recorder *rec = fx_recorder(f, 0, NULL);
	const char *form_h[] = { "Host", "front.example", "Content-Type",
				 "application/x-www-form-urlencoded", "Content-Length", "7",
				 "Accept", "*/*", "X-Trace", "t-1", NULL };
	const char *plain_h[] = { "Host", "front.example", "X-Trace", "t-2", NULL };
	const char *json_h[] = { "Host", "front.example", "Content-Type", "application/json", NULL };
	const struct spec specs[] = {
		{ "GET", "/search?q=a%20b&x=1&x=2", NULL, 0, NULL, plain_h },
		{ "HEAD", "/head?h=1", NULL, 0, NULL, plain_h },
		{ "POST", "/post", "a=1&b=2", 7, NULL, form_h },
		{ "POST", "/post-empty", NULL, 0, NULL, plain_h },
		{ "PUT", "/put", "{\"k\":[1,2]}", 11, NULL, json_h },
		{ "PATCH", "/patch", "{\"op\":\"x\"}", 10, NULL, json_h },
		{ "DELETE", "/delete/7", NULL, 0, NULL, plain_h },
		{ "DELETE", "/delete-body", "why", 3, NULL, plain_h },
		{ "OPTIONS", "/options", NULL, 0, NULL, plain_h },
		{ "GET", "/get-body", "{\"q\":1}", 7, NULL, json_h },
		{ "PURGE", "/cache/item", NULL, 0, NULL, plain_h },
		{ "REPORT", "/dav", "<r/>", 4, NULL, plain_h },
	};
	size_t n = sizeof(specs) / sizeof(specs[0]);
	char host[64];

	host_of(rec, host, sizeof(host));
	fx_target(f, "s1", recorder_url(rec, ""));
	fx_go(f);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(mirror(f, &specs[i]), 1);
	assert_true(recorder_wait(rec, n, 5000));
	assert_true(fx_wait_idle(f, 5000));

	for (size_t i = 0; i < n; i++) {
		const struct spec *s = &specs[i];
		const struct recorded_request *q = find_target(rec, s->uri);
		bool has_body = s->body_len || !strcmp(s->method, "POST") ||
				!strcmp(s->method, "PUT") || !strcmp(s->method, "PATCH");
		char len[32];

		assert_string_equal(q->method, s->method);
		assert_string_equal(q->version, "HTTP/1.1");
		assert_string_equal(recorded_header(q, "Host"), host);
		assert_int_equal(recorded_header_count(q, "Host"), 1);
		assert_string_equal(recorded_header(q, "X-Forwarded-Host"), "front.example");
		assert_string_equal(recorded_header(q, "X-Forwarded-For"), "192.0.2.10");
		assert_null(recorded_header(q, "Expect"));
		assert_null(recorded_header(q, "Transfer-Encoding"));
		assert_null(recorded_header(q, "User-Agent"));
		assert_int_equal(q->body_len, s->body_len);
		if (s->body_len)
			assert_memory_equal(q->body, s->body, s->body_len);
		if (has_body && strcmp(s->method, "HEAD")) {
			snprintf(len, sizeof(len), "%zu", s->body_len);
			assert_string_equal(recorded_header(q, "Content-Length"), len);
		} else {
			assert_null(recorded_header(q, "Content-Length"));
		}
		/* only what the client sent: no curl defaults */
		if (s->hdrs == form_h) {
			assert_string_equal(recorded_header(q, "Accept"), "*/*");
			assert_string_equal(recorded_header(q, "Content-Type"),
					    "application/x-www-form-urlencoded");
		} else {
			assert_null(recorded_header(q, "Accept"));
		}
		if (s->hdrs == plain_h)
			assert_null(recorded_header(q, "Content-Type"));
		if (s->hdrs == json_h)
			assert_string_equal(recorded_header(q, "Content-Type"), "application/json");
	}
	assert_int_equal(stat_get(&fx_stats(f, 0)->mirrored), n);
	assert_int_equal(stat_get(&fx_stats(f, 0)->outcome[OUTCOME_2XX]), n);
	assert_accounted(fx_stats(f, 0));
	fx_free(f);
}

static void test_replay_1mib_body_byte_exact(void **state)
{
	struct fx *f = fx_new();
	struct http_recorder *rec = fx_recorder(f, 0, NULL);
	size_t len = 1024 * 1024;
	char *body = malloc(len);
	const char *h[] = { "Content-Type", "application/octet-stream", NULL };
	const struct recorded_request *q;

	assert_non_null(body);
	for (size_t i = 0; i < len; i++)
		body[i] = (char)(i * 7 + (i >> 9)); /* every byte value, NULs included */
	fx_target(f, "big", recorder_url(rec, "/up/"));
	fx_go(f);
	assert_int_equal(mirror(f, &(struct spec){ "PUT", "/blob?v=2", body, len, NULL, h }), 1);
	assert_true(recorder_wait(rec, 1, 10000));
	assert_true(fx_wait_idle(f, 10000));
	q = recorder_get(rec, 0);
	assert_string_equal(q->target, "/up/blob?v=2");
	assert_string_equal(recorded_header(q, "Content-Length"), "1048576");
	assert_null(recorded_header(q, "Expect"));
	assert_int_equal(q->body_len, len);
	assert_memory_equal(q->body, body, len);
	assert_int_equal(stat_get(&fx_stats(f, 0)->mirrored), 1);
	free(body);
	fx_free(f);
}

static void test_replay_hop_by_hop_headers_not_on_the_wire(void **state)
{
	struct fx *f = fx_new();
	struct http_recorder *rec = fx_recorder(f, 0, NULL);
	const char *h[] = { "Host", "front", "Connection", "close, X-Secret", "X-Secret", "s",
			    "Keep-Alive", "timeout=5", "Proxy-Connection", "keep-alive",
			    "TE", "trailers", "Trailer", "X-T", "Upgrade", "websocket",
			    "Transfer-Encoding", "chunked", "Expect", "100-continue",
			    "X-Kept", "k", NULL };
	static const char *gone[] = { "Connection", "X-Secret", "Keep-Alive", "Proxy-Connection",
				      "TE", "Trailer", "Upgrade", "Transfer-Encoding", "Expect" };
	const struct recorded_request *q;

	fx_target(f, "s", recorder_url(rec, ""));
	fx_go(f);
	mirror(f, &(struct spec){ "POST", "/hop", "data", 4, NULL, h });
	assert_true(fx_wait_idle(f, 5000));
	/* the second one reuses the connection: the client's "close" was not obeyed */
	mirror(f, &(struct spec){ "GET", "/hop2", NULL, 0, NULL, h });
	assert_true(recorder_wait(rec, 2, 5000));
	assert_true(fx_wait_idle(f, 5000));
	q = find_target(rec, "/hop");
	for (size_t i = 0; i < sizeof(gone) / sizeof(gone[0]); i++)
		if (recorded_header(q, gone[i]))
			fail_msg("%s reached the shadow", gone[i]);
	assert_string_equal(recorded_header(q, "X-Kept"), "k");
	assert_string_equal(recorded_header(q, "Content-Length"), "4");
	assert_memory_equal(q->body, "data", 4);
	assert_int_equal(recorder_connections(rec), 1);
	fx_free(f);
}

static void test_replay_added_and_removed_headers(void **state)
{
	struct fx *f = fx_new();
	struct http_recorder *rec = fx_recorder(f, 0, NULL);
	const char *h[] = { "Cookie", "session=prod", "Authorization", "Bearer prod", "X-Keep", "1",
			    NULL };
	struct target_config *t;
	const struct recorded_request *q;

	t = fx_target(f, "s", recorder_url(rec, ""));
	t->remove_headers = calloc(1, sizeof(char *));
	t->remove_headers[0] = strdup("cookie");
	t->n_remove_headers = 1;
	t->add_headers = calloc(2, sizeof(*t->add_headers));
	t->add_headers[0] = (struct header_pair){ strdup("Authorization"), strdup("Bearer shadow") };
	t->add_headers[1] = (struct header_pair){ strdup("X-Mirrored-By"), strdup("spoa-mirror") };
	t->n_add_headers = 2;
	fx_go(f);
	mirror(f, &(struct spec){ "GET", "/h", NULL, 0, NULL, h });
	assert_true(recorder_wait(rec, 1, 5000));
	q = recorder_get(rec, 0);
	assert_null(recorded_header(q, "Cookie"));
	assert_int_equal(recorded_header_count(q, "Authorization"), 1);
	assert_string_equal(recorded_header(q, "Authorization"), "Bearer shadow");
	assert_string_equal(recorded_header(q, "X-Mirrored-By"), "spoa-mirror");
	assert_string_equal(recorded_header(q, "X-Keep"), "1");
	fx_free(f);
}

static void test_replay_host_policy_both_ways(void **state)
{
	struct fx *f = fx_new();
	struct http_recorder *by_target = fx_recorder(f, 0, NULL);
	struct http_recorder *by_client = fx_recorder(f, 1, NULL);
	const char *h[] = { "Host", "www.front.example", NULL };
	const struct recorded_request *q;
	char host[64];

	fx_target(f, "t", recorder_url(by_target, ""));
	fx_target(f, "c", recorder_url(by_client, ""))->host_policy = HOST_FROM_CLIENT;
	fx_go(f);
	assert_int_equal(mirror(f, &(struct spec){ "GET", "/", NULL, 0, NULL, h }), 2);
	assert_true(recorder_wait(by_target, 1, 5000));
	assert_true(recorder_wait(by_client, 1, 5000));

	q = recorder_get(by_target, 0);
	host_of(by_target, host, sizeof(host));
	assert_string_equal(recorded_header(q, "Host"), host);
	assert_string_equal(recorded_header(q, "X-Forwarded-Host"), "www.front.example");

	q = recorder_get(by_client, 0);
	assert_string_equal(recorded_header(q, "Host"), "www.front.example");
	assert_null(recorded_header(q, "X-Forwarded-Host"));
	fx_free(f);
}

static void test_replay_prefix_and_trailing_slash_joins(void **state)
{
	struct fx *f = fx_new();
	struct http_recorder *rec = fx_recorder(f, 0, NULL);
	const char *const uris[] = { "/v1/x?y=1", "/", "", "http://front.example/abs?q=%2F" };
	const char *const want[] = { "/api/v1/x?y=1", "/api/", "/api/", "/api/abs?q=%2F" };

	fx_target(f, "s", recorder_url(rec, "/api/"));
	fx_go(f);
	for (size_t i = 0; i < 4; i++) {
		mirror(f, &(struct spec){ "GET", uris[i], NULL, 0, NULL, NULL });
		/* one at a time so arrival order is request order */
		assert_true(recorder_wait(rec, i + 1, 5000));
		assert_string_equal(recorder_get(rec, i)->target, want[i]);
	}
	fx_free(f);
}

/* ---- sampling (admission in target_admit, delivery here) ---- */

static void test_replay_two_targets_sampled_within_binomial_bounds(void **state)
{
	struct fx *f = fx_new();
	struct http_recorder *all = fx_recorder(f, 0, NULL);
	struct http_recorder *half = fx_recorder(f, 1, NULL);
	const unsigned n = 2000;
	uint64_t got;

	f->settings.num_workers = 2;
	fx_target(f, "all", recorder_url(all, ""));
	fx_target(f, "half", recorder_url(half, ""))->sample_percent = 50;
	fx_go(f);
	for (unsigned i = 0; i < n; i++) {
		char uri[32];

		snprintf(uri, sizeof(uri), "/r/%u", i);
		fx_pace(f, 64);
		mirror(f, &(struct spec){ "GET", uri, NULL, 0, NULL, NULL });
	}
	assert_true(fx_wait_idle(f, 20000));
	assert_int_equal(stat_get(&fx_stats(f, 0)->mirrored), n);
	assert_int_equal(recorder_count(all), n);
	got = stat_get(&fx_stats(f, 1)->mirrored);
	/* Binomial(2000, 0.5): mean 1000, sd 22.4; +-5 sd */
	assert_in_range(got, 888, 1112);
	assert_int_equal(recorder_count(half), got);
	assert_int_equal(stat_get(&fx_stats(f, 1)->sampled_out), n - got);
	assert_int_equal(target_stats_dropped_total(fx_stats(f, 0)), 0);
	assert_accounted(fx_stats(f, 0));
	assert_accounted(fx_stats(f, 1));
	fx_free(f);
}

static void test_replay_consistent_sampling_stable_per_key(void **state)
{
	struct fx *f = fx_new();
	struct http_recorder *rec = fx_recorder(f, 0, NULL);
	enum { USERS = 100, ROUNDS = 6 };
	unsigned seen[USERS] = { 0 }, in = 0;
	struct target_config *t;
	struct target_set *reloaded;
	char err[256];

	t = fx_target(f, "keyed", recorder_url(rec, ""));
	t->sample_percent = 50;
	t->sample_key = SAMPLE_KEY_HEADER;
	t->sample_key_name = strdup("X-User");
	fx_go(f);
	/* a reload builds a new set from the same configuration: same decisions */
	reloaded = target_set_new(&f->cfg, &f->reg, err, sizeof(err));
	assert_non_null(reloaded);
	for (unsigned round = 0; round < ROUNDS; round++) {
		for (unsigned u = 0; u < USERS; u++) {
			char user[16];
			const char *h[] = { "X-User", user, NULL };

			snprintf(user, sizeof(user), "user-%u", u);
			fx_pace(f, 64);
			mirror_with_set(f, round < ROUNDS / 2 ? f->set : reloaded,
					&(struct spec){ "GET", "/k", NULL, 0, NULL, h });
		}
	}
	assert_true(fx_wait_idle(f, 10000));
	assert_int_equal(recorder_count(rec), stat_get(&fx_stats(f, 0)->mirrored));
	for (size_t i = 0; i < recorder_count(rec); i++) {
		unsigned u;

		assert_int_equal(sscanf(recorded_header(recorder_get(rec, i), "X-User"), "user-%u", &u),
				 1);
		assert_true(u < USERS);
		seen[u]++;
	}
	for (unsigned u = 0; u < USERS; u++) {
		if (seen[u] != 0 && seen[u] != ROUNDS)
			fail_msg("user-%u sampled in %u of %u times", u, seen[u], ROUNDS);
		in += seen[u] == ROUNDS;
	}
	/* Binomial(100, 0.5) users in: sd 5, +-5 sd */
	assert_in_range(in, 25, 75);
	target_set_unref(reloaded);
	fx_free(f);
}

/* ---- limits ---- */

static size_t rss_kib(void)
{
	FILE *fp = fopen("/proc/self/statm", "r");
	unsigned long size = 0, resident = 0;

	if (!fp)
		return 0;
	if (fscanf(fp, "%lu %lu", &size, &resident) != 2)
		resident = 0;
	fclose(fp);
	return resident * (size_t)sysconf(_SC_PAGESIZE) / 1024;
}

static void test_replay_slow_sink_keeps_memory_bounded(void **state)
{
	struct fx *f = fx_new();
	struct recorder_options slow = { .delay_ms = 3000 };
	struct http_recorder *rec = fx_recorder(f, 0, &slow);
	const size_t max_bytes = 256 * 1024;
	const int64_t cap = 32;
	size_t big_len = 16 * 1024, rss_before, rss_peak = 0, active_peak = 0;
	char *big = calloc(1, big_len);
	struct target_stats *s;
	unsigned submitted = 0, admitted = 0;
	uint64_t until;

	assert_non_null(big);
	queue_budget_init(&f->budget, 1000, max_bytes);
	f->settings.num_workers = 2;
	fx_target(f, "slow", recorder_url(rec, ""))->max_inflight = (unsigned)cap;
	fx_go(f);
	s = fx_stats(f, 0);
	rss_before = rss_kib();
	/* one second of as-fast-as-possible load, big and small bodies mixed */
	until = mono_ms() + 1000;
	while (mono_ms() < until) {
		bool big_one = submitted % 2 == 0;

		admitted += mirror(f, &(struct spec){ "POST", "/slow", big_one ? big : NULL,
						      big_one ? big_len : 0, NULL, NULL });
		submitted++;
		if (replay_pool_active(f->pool) > active_peak)
			active_peak = replay_pool_active(f->pool);
		if (submitted % 256 == 0) {
			size_t rss = rss_kib();
			if (rss > rss_peak)
				rss_peak = rss;
			usleep(100);
		}
	}
	assert_true(inflight(s) <= cap);
	assert_true(active_peak <= (size_t)cap);
	assert_true(atomic_load(&f->budget.peak_bytes) <= max_bytes);
	assert_true(stat_get(&s->dropped[DROP_QUEUE_FULL]) > 0);
	assert_true(stat_get(&s->dropped[DROP_TARGET_BUSY]) > 0);
	/* a few MiB of slack for allocator and curl, far below the load offered
	 * (AddressSanitizer keeps freed memory in quarantine: not checked there) */
	if (!SANITIZED)
		assert_true(rss_peak < rss_before + 32 * 1024);
	assert_true(submitted > 1000);

	assert_true(fx_wait_idle(f, 8000));
	assert_int_equal(stat_get(&s->received), submitted);
	assert_int_equal(stat_get(&s->mirrored), admitted);
	assert_int_equal(stat_get(&s->failed), 0);
	assert_int_equal(recorder_count(rec), admitted);
	assert_accounted(s);
	assert_int_equal(atomic_load(&f->budget.entries), 0);
	assert_int_equal(atomic_load(&f->budget.bytes), 0);
	free(big);
	fx_free(f);
}

/* ---- failures ---- */

static uint16_t closed_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
	close(fd); /* bound, never listened: connections are refused */
	return ntohs(a.sin_port);
}

static void test_replay_connection_refused_counted_as_connect_error(void **state)
{
	struct fx *f = fx_new();
	char url[64];
	struct target_stats *s;

	snprintf(url, sizeof(url), "http://127.0.0.1:%u", closed_port());
	fx_target(f, "dead", url);
	fx_go(f);
	/* fewer than make a target rest: how many fail before the rest
	 * starts would depend on the threads' timing */
	for (int i = 0; i < TARGET_BACKOFF_FAILURES - 1; i++)
		mirror(f, &(struct spec){ "GET", "/", NULL, 0, NULL, NULL });
	assert_true(fx_wait_idle(f, 5000));
	s = fx_stats(f, 0);
	assert_int_equal(stat_get(&s->failed), TARGET_BACKOFF_FAILURES - 1);
	assert_int_equal(stat_get(&s->outcome[OUTCOME_CONNECT_ERROR]), TARGET_BACKOFF_FAILURES - 1);
	assert_int_equal(stat_get(&s->dropped[DROP_SHADOW_DOWN]), 0);
	assert_int_equal(stat_get(&s->mirrored), 0);
	assert_accounted(s);
	fx_free(f);
}

static void test_replay_timeout_counted(void **state)
{
	struct fx *f = fx_new();
	struct recorder_options hang = { .mode = RECORDER_HANG };
	struct http_recorder *rec = fx_recorder(f, 0, &hang);
	struct target_stats *s;
	uint64_t t0;

	fx_target(f, "hung", recorder_url(rec, ""))->timeout_ms = 300;
	fx_go(f);
	t0 = mono_ms();
	for (int i = 0; i < 5; i++)
		mirror(f, &(struct spec){ "POST", "/t", "x", 1, NULL, NULL });
	assert_true(fx_wait_idle(f, 5000));
	assert_true(mono_ms() - t0 >= 300);
	s = fx_stats(f, 0);
	assert_int_equal(recorder_count(rec), 5);
	assert_int_equal(stat_get(&s->outcome[OUTCOME_TIMEOUT]), 5);
	assert_int_equal(stat_get(&s->failed), 5);
	assert_accounted(s);
	fx_free(f);
}

static void test_replay_answer_status_classes_counted_as_mirrored(void **state)
{
	struct fx *f = fx_new();
	struct recorder_options o503 = { .status = 503 };
	struct http_recorder *rec = fx_recorder(f, 0, &o503);
	struct target_stats *s;

	fx_target(f, "sad", recorder_url(rec, ""));
	fx_go(f);
	for (int i = 0; i < 3; i++)
		mirror(f, &(struct spec){ "GET", "/", NULL, 0, NULL, NULL });
	assert_true(fx_wait_idle(f, 5000));
	s = fx_stats(f, 0);
	assert_int_equal(stat_get(&s->mirrored), 3);
	assert_int_equal(stat_get(&s->outcome[OUTCOME_5XX]), 3);
	assert_int_equal(stat_get(&s->failed), 0);
	fx_free(f);
}

/* Answers the workers hand to the verdict thread, captured. */
static struct {
	pthread_mutex_t lock;
	struct shadow_answer *got[8];
	unsigned n;
} answers = { PTHREAD_MUTEX_INITIALIZER, { 0 }, 0 };

static void capture_answer(void *arg, struct verdict_item *it)
{
	pthread_mutex_lock(&answers.lock);
	assert_int_equal(it->kind, VERDICT_ITEM_SHADOW);
	if (answers.n < 8)
		answers.got[answers.n++] = (struct shadow_answer *)it;
	else
		verdict_item_free(it);
	pthread_mutex_unlock(&answers.lock);
}

/* A target that compares gets its answer captured (status, headers,
 * body) and posted with the request's id; one that does not, nothing;
 * a shadow that does not answer posts status 0. */
static void test_replay_answers_captured_for_targets_that_compare(void **state)
{
	struct fx *f = fx_new();
	struct http_recorder *rec = fx_recorder(f, 0, &(struct recorder_options){ .status = 404 });
	struct shadow_answer *a;

	answers.n = 0;
	fx_target(f, "cmp", recorder_url(rec, ""))->compare = VERDICT_LEVEL_BODY;
	fx_target(f, "plain", recorder_url(rec, ""));
	fx_target(f, "dead", "http://127.0.0.1:1")->compare = VERDICT_LEVEL_STATUS;
	f->settings.answer = capture_answer;
	f->unique_id = "req-1";
	f->compare_mask = 0x5;
	fx_go(f);
	assert_int_equal(mirror(f, &(struct spec){ "GET", "/x", NULL, 0, NULL, NULL }), 3);
	assert_true(fx_wait_idle(f, 5000));
	assert_true(recorder_wait(rec, 2, 5000));
	pthread_mutex_lock(&answers.lock);
	assert_int_equal(answers.n, 2);
	for (unsigned i = 0; i < 2; i++) {
		a = answers.got[i];
		assert_true(slice_eq_cstr(a->id, "req-1"));
		assert_int_equal(a->expected, 0x5);
		assert_int_equal(a->generation, f->set->generation);
		if (a->target == 0) {
			assert_int_equal(a->answer.status, 404);
			assert_int_equal(a->answer.nheaders, 1);
			assert_true(slice_eq_cstr(a->answer.headers[0].name, "Content-Length"));
			assert_int_equal(a->answer.body.len, 2);
			assert_memory_equal(a->answer.body.ptr, "ok", 2);
			assert_int_equal(a->answer.body_state, VERDICT_BODY_COMPLETE);
		} else {
			assert_int_equal(a->target, 2);
			assert_int_equal(a->answer.status, 0); /* connection refused */
		}
		verdict_item_free(&a->item);
	}
	answers.n = 0;
	pthread_mutex_unlock(&answers.lock);
	fx_free(f);
}

/* The workers' captures charge the shared budget: with room for the head
 * (1 KiB) but not the body's first buffer, the answer keeps its status and
 * headers, its body is partial (never compared as "body"), the shortage is
 * counted once, and the budget is whole again when the transfer is done. */
static void test_replay_capture_over_budget_counted_and_released(void **state)
{
	struct fx *f = fx_new();
	struct http_recorder *rec = fx_recorder(f, 0, &(struct recorder_options){ .status = 404 });
	struct queue_budget capture;
	atomic_uint_fast64_t short_count = 0;
	struct shadow_answer *a;

	queue_budget_init(&capture, SIZE_MAX, 1536);
	answers.n = 0;
	fx_target(f, "cmp", recorder_url(rec, ""))->compare = VERDICT_LEVEL_BODY;
	f->settings.answer = capture_answer;
	f->settings.capture_budget = &capture;
	f->settings.capture_short = &short_count;
	f->unique_id = "req-2";
	f->compare_mask = 0x1;
	fx_go(f);
	assert_int_equal(mirror(f, &(struct spec){ "GET", "/x", NULL, 0, NULL, NULL }), 1);
	for (uint64_t until = mono_ms() + 5000;; sleep_ms(2)) {
		pthread_mutex_lock(&answers.lock);
		if (answers.n || mono_ms() > until)
			break;
		pthread_mutex_unlock(&answers.lock);
	}
	assert_int_equal(answers.n, 1);
	a = answers.got[0];
	assert_int_equal(a->answer.status, 404);
	assert_false(a->answer.lost);
	assert_int_equal(a->answer.nheaders, 1);
	assert_int_equal(a->answer.body_state, VERDICT_BODY_PARTIAL);
	assert_int_equal(a->answer.body_total, 2);
	verdict_item_free(&a->item);
	answers.n = 0;
	pthread_mutex_unlock(&answers.lock);
	assert_int_equal(stat_get(&short_count), 1);
	/* the workers are joined: every transfer is recycled or destroyed */
	replay_pool_stop(f->pool, 2000);
	f->pool = NULL;
	assert_int_equal(atomic_load(&capture.bytes), 0);
	assert_int_equal(atomic_load(&capture.peak_bytes), 1024);
	fx_free(f);
}

static void test_replay_invalid_method_counted_failed_other(void **state)
{
	struct fx *f = fx_new();
	struct http_recorder *rec = fx_recorder(f, 0, NULL);
	struct target_stats *s;

	fx_target(f, "s", recorder_url(rec, ""));
	fx_go(f);
	mirror(f, &(struct spec){ "GET /x HTTP/1.1\r\nHost: y\r\n\r\nGET", "/", NULL, 0, NULL, NULL });
	mirror(f, &(struct spec){ "GET", "/ok", NULL, 0, NULL, NULL });
	assert_true(fx_wait_idle(f, 5000));
	s = fx_stats(f, 0);
	assert_int_equal(stat_get(&s->failed), 1);
	assert_int_equal(stat_get(&s->outcome[OUTCOME_OTHER]), 1);
	assert_int_equal(stat_get(&s->mirrored), 1);
	assert_int_equal(recorder_count(rec), 1);
	assert_string_equal(recorder_get(rec, 0)->target, "/ok");
	assert_accounted(s);
	fx_free(f);
}

/* ---- shutdown ---- */

/* After a stop: nothing in flight, every request accounted for, the queue
 * budget back to empty. */
static void assert_all_released(struct fx *f, struct target_stats *s)
{
	assert_int_equal(inflight(s), 0);
	assert_accounted(s);
	assert_int_equal(atomic_load(&f->budget.entries), 0);
}

static void test_replay_stop_drains_inflight_mirrors(void **state)
{
	struct fx *f = fx_new();
	struct recorder_options slow = { .delay_ms = 300 };
	struct http_recorder *rec = fx_recorder(f, 0, &slow);
	struct target_stats *s;
	uint64_t t0;

	f->settings.num_workers = 2;
	fx_target(f, "s", recorder_url(rec, ""));
	fx_go(f);
	for (int i = 0; i < 40; i++)
		mirror(f, &(struct spec){ "POST", "/d", "body", 4, NULL, NULL });
	t0 = mono_ms();
	replay_pool_stop(f->pool, 5000);
	f->pool = NULL;
	assert_true(mono_ms() - t0 < 4000);
	s = fx_stats(f, 0);
	assert_int_equal(stat_get(&s->mirrored), 40);
	assert_int_equal(stat_get(&s->failed), 0);
	assert_int_equal(target_stats_dropped_total(s), 0);
	assert_int_equal(recorder_count(rec), 40);
	assert_all_released(f, s);
	fx_free(f);
}

static void test_replay_stop_aborts_after_drain_timeout(void **state)
{
	struct fx *f = fx_new();
	struct recorder_options hang = { .mode = RECORDER_HANG };
	struct http_recorder *rec = fx_recorder(f, 0, &hang);
	struct target_stats *s;
	uint64_t t0, took;

	f->settings.num_workers = 2;
	fx_target(f, "s", recorder_url(rec, ""));
	fx_go(f);
	for (int i = 0; i < 30; i++)
		mirror(f, &(struct spec){ "GET", "/a", NULL, 0, NULL, NULL });
	assert_true(recorder_wait(rec, 30, 5000)); /* all 30 are in curl */
	t0 = mono_ms();
	replay_pool_stop(f->pool, 200);
	f->pool = NULL;
	took = mono_ms() - t0;
	assert_true(took >= 190 && took < 3000);
	s = fx_stats(f, 0);
	assert_int_equal(stat_get(&s->failed), 30);
	assert_int_equal(stat_get(&s->outcome[OUTCOME_OTHER]), 30);
	assert_int_equal(stat_get(&s->mirrored), 0);
	assert_all_released(f, s);
	fx_free(f);
}

/* At the drain timeout, transfers in curl are aborted (failed) and those
 * still waiting for a place in curl are dropped (shutdown): none is lost. */
static void test_replay_stop_drops_transfers_waiting_for_the_window(void **state)
{
	struct fx *f = fx_new();
	struct recorder_options hang = { .mode = RECORDER_HANG };
	struct http_recorder *rec = fx_recorder(f, 0, &hang);
	struct target_stats *s;

	fx_target(f, "s", recorder_url(rec, ""))->max_inflight = 0;
	fx_go(f);
	for (int i = 0; i < 300; i++)
		mirror(f, &(struct spec){ "GET", "/a", NULL, 0, NULL, NULL });
	assert_true(recorder_wait(rec, REPLAY_MAX_TARGET_TRANSFERS, 5000)); /* window full */
	assert_int_equal(replay_pool_queued(f->pool), 300 - REPLAY_MAX_TARGET_TRANSFERS);
	replay_pool_stop(f->pool, 200);
	f->pool = NULL;
	s = fx_stats(f, 0);
	assert_int_equal(stat_get(&s->failed), REPLAY_MAX_TARGET_TRANSFERS);
	assert_int_equal(stat_get(&s->dropped[DROP_SHUTDOWN]), 300 - REPLAY_MAX_TARGET_TRANSFERS);
	assert_int_equal(stat_get(&s->mirrored), 0);
	assert_all_released(f, s);
	fx_free(f);
}

static void test_replay_stop_without_drain_counts_every_request(void **state)
{
	struct fx *f = fx_new();
	struct recorder_options hang = { .mode = RECORDER_HANG };
	struct http_recorder *rec = fx_recorder(f, 0, &hang);
	struct target_stats *s;

	fx_target(f, "s", recorder_url(rec, ""))->max_inflight = 0;
	fx_go(f);
	for (int i = 0; i < 300; i++)
		mirror(f, &(struct spec){ "GET", "/z", NULL, 0, NULL, NULL });
	replay_pool_stop(f->pool, 0);
	f->pool = NULL;
	s = fx_stats(f, 0);
	/* whatever was still queued is dropped, whatever was in curl failed */
	assert_int_equal(stat_get(&s->dropped[DROP_SHUTDOWN]) + stat_get(&s->failed), 300);
	assert_int_equal(stat_get(&s->failed), stat_get(&s->outcome[OUTCOME_OTHER]));
	assert_all_released(f, s);
	fx_free(f);
}

/* ---- connections and options ---- */

static void test_replay_keepalive_reuses_connections(void **state)
{
	struct fx *f = fx_new();
	struct http_recorder *rec = fx_recorder(f, 0, NULL);

	fx_target(f, "s", recorder_url(rec, ""));
	fx_go(f);
	for (int i = 0; i < 300; i++) {
		fx_pace(f, 4);
		mirror(f, &(struct spec){ "POST", "/k", "abc", 3, NULL, NULL });
	}
	assert_true(fx_wait_idle(f, 10000));
	assert_int_equal(recorder_count(rec), 300);
	/* at most 4 at once: a handful of connections, not 300 */
	assert_true(recorder_connections(rec) <= 8);
	fx_free(f);
}

/* A shadow that closes every connection once idle: the agent's watcher of
 * a kept-alive socket (kept between transfers, replay_loop.c) hears the
 * close and lets go, curl finds the connection dead at its next use and
 * opens another (often with the same descriptor number): nothing lost. */
static void test_replay_shadow_closing_idle_connections_loses_nothing(void **state)
{
	struct recorder_options closing = { .close_idle = true };
	struct fx *f = fx_new();
	struct http_recorder *rec = fx_recorder(f, 0, &closing);
	struct target_stats *s;

	fx_target(f, "s", recorder_url(rec, ""));
	fx_go(f);
	for (int i = 0; i < 30; i++) {
		mirror(f, &(struct spec){ "POST", "/c", "abc", 3, NULL, NULL });
		assert_true(recorder_wait(rec, (size_t)i + 1, 5000));
		assert_true(fx_wait_idle(f, 5000));
	}
	s = fx_stats(f, 0);
	assert_int_equal(recorder_count(rec), 30);
	assert_int_equal(recorder_connections(rec), 30);
	assert_int_equal(stat_get(&s->mirrored), 30);
	assert_int_equal(stat_get(&s->failed), 0);
	assert_accounted(s);
	fx_free(f);
}

/* max-connections 2 on an HTTP/1.1 target: a burst of 40 goes out over two
 * connections, the rest waiting in the worker. */
static void test_replay_max_connections_caps_connections_to_a_target(void **state)
{
	struct recorder_options slow = { .delay_ms = 20 };
	struct fx *f = fx_new();
	struct http_recorder *rec = fx_recorder(f, 0, &slow);
	struct target_stats *s;

	fx_target(f, "s", recorder_url(rec, ""))->max_connections = 2;
	fx_go(f);
	for (int i = 0; i < 40; i++)
		mirror(f, &(struct spec){ "GET", "/m", NULL, 0, NULL, NULL });
	assert_true(recorder_wait(rec, 40, 10000));
	assert_true(fx_wait_idle(f, 10000));
	s = fx_stats(f, 0);
	assert_int_equal(recorder_connections(rec), 2);
	assert_int_equal(stat_get(&s->mirrored), 40);
	assert_accounted(s);
	fx_free(f);
}

/* A burst larger than a worker lets into curl (REPLAY_MAX_TARGET_TRANSFERS) waits in the
 * worker, in order, and every request still goes out. */
static void test_replay_burst_beyond_window_waits_in_order(void **state)
{
	/* slow enough that submitting 600 requests (slower under valgrind)
	 * ends well before the first wave is answered */
	struct recorder_options slow = { .delay_ms = 400 };
	struct fx *f = fx_new();
	struct http_recorder *rec = fx_recorder(f, 0, &slow);
	const unsigned n = 600, window = REPLAY_MAX_TARGET_TRANSFERS;
	size_t active_peak = 0, queued_peak = 0;
	bool seen[600] = { false };
	int last_on_conn[REPLAY_MAX_TARGET_TRANSFERS + 1];
	struct target_stats *s;
	char path[32];

	for (unsigned i = 0; i <= window; i++)
		last_on_conn[i] = -1;
	fx_target(f, "s", recorder_url(rec, ""))->max_inflight = 1000;
	fx_go(f);
	s = fx_stats(f, 0);
	for (unsigned i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "/w/%u", i);
		assert_int_equal(mirror(f, &(struct spec){ "GET", path, NULL, 0, NULL, NULL }), 1);
	}
	queued_peak = replay_pool_queued(f->pool);
	for (uint64_t until = mono_ms() + 10000; inflight(s) && mono_ms() < until;) {
		if (replay_pool_active(f->pool) > active_peak)
			active_peak = replay_pool_active(f->pool);
		if (replay_pool_queued(f->pool) > queued_peak)
			queued_peak = replay_pool_queued(f->pool);
		usleep(500);
	}
	assert_true(fx_wait_idle(f, 10000));
	assert_true(active_peak <= window);
	assert_true(queued_peak >= n - window - 64); /* seen waiting, give or take a wave */
	assert_int_equal(stat_get(&s->mirrored), n);
	assert_int_equal(stat_get(&s->dropped[DROP_TARGET_BUSY]), 0);
	assert_accounted(s);
	assert_int_equal(recorder_count(rec), n);
	assert_true(recorder_connections(rec) <= window);
	/* Waiting requests start in arrival order, so each connection carries
	 * them in increasing order. (Arrival order across connections is no
	 * proof: the recorder, a thread per connection, may read connection 1's
	 * second request before connection 200's first when slowed down, as
	 * under valgrind.) */
	for (unsigned i = 0; i < n; i++) {
		const struct recorded_request *q = recorder_get(rec, i);
		unsigned id;

		assert_int_equal(sscanf(q->target, "/w/%u", &id), 1);
		assert_true(id < n);
		assert_false(seen[id]);
		seen[id] = true;
		assert_in_range(q->conn_id, 1, window);
		assert_true((int)id > last_on_conn[q->conn_id]);
		last_on_conn[q->conn_id] = (int)id;
	}
	fx_free(f);
}

static void test_replay_local_port_range_used(void **state)
{
	struct fx *f = fx_new();
	struct http_recorder *rec = fx_recorder(f, 0, NULL);
	unsigned low = 40000 + (unsigned)(mono_ns() % 20000);

	f->settings.local_port_low = low;
	f->settings.local_port_high = low + 49;
	f->settings.mirror_interface = "127.0.0.1";
	fx_target(f, "s", recorder_url(rec, ""));
	fx_go(f);
	for (int i = 0; i < 5; i++) {
		fx_pace(f, 1);
		mirror(f, &(struct spec){ "GET", "/p", NULL, 0, NULL, NULL });
	}
	assert_true(fx_wait_idle(f, 5000));
	assert_int_equal(recorder_count(rec), 5);
	for (size_t i = 0; i < 5; i++)
		assert_in_range(recorder_get(rec, i)->peer_port, low, low + 49);
	fx_free(f);
}

/* ---- logging ---- */

static void test_replay_shadow_errors_logged_once_per_interval(void **state)
{
	struct fx *f = fx_new();
	char path[] = "/tmp/test_replay_log_XXXXXX";
	char spec[64], url[64];
	int fd = mkstemp(path);
	uint64_t failed, age;
	size_t lines;

	assert_true(fd >= 0);
	close(fd);
	snprintf(spec, sizeof(spec), "w:%s", path);
	assert_int_equal(log_open(spec), 0);
	f->settings.monitor_interval_ms = 60000;
	snprintf(url, sizeof(url), "http://127.0.0.1:%u", closed_port());
	fx_target(f, "dead", url);
	fx_go(f);
	for (int i = 0; i < 50; i++)
		mirror(f, &(struct spec){ "GET", "/e", NULL, 0, NULL, NULL });
	assert_true(fx_wait_idle(f, 5000));
	failed = stat_get(&fx_stats(f, 0)->failed);
	assert_true(failed >= 2);
	/* inside the interval: one line, and the summary waits */
	assert_int_equal(log_lines_count(path, "shadow 'dead' ("), 1);
	assert_int_equal(log_summaries_sum(path, "shadow 'dead' errors", &lines, &age), 0);
	assert_int_equal(lines, 0);
	/* stopping reports what the open window suppressed, once */
	fx_free(f);
	log_close();
	assert_int_equal(log_lines_count(path, "shadow 'dead' ("), 1);
	assert_int_equal(log_summaries_sum(path, "shadow 'dead' errors", &lines, &age), failed - 1);
	assert_int_equal(lines, 1);
	unlink(path);
}

/* Every curl_multi_* result that is not CURLM_OK is counted (what
 * /metrics shows) and logged once per interval, then summed up. */
static void test_replay_curl_multi_errors_counted_and_rate_limited(void **state)
{
	char path[] = "/tmp/test_replay_log_XXXXXX";
	char spec[64];
	int fd = mkstemp(path);
	struct replay_log l;
	uint64_t age;
	size_t lines;

	assert_true(fd >= 0);
	close(fd);
	snprintf(spec, sizeof(spec), "w:%s", path);
	assert_int_equal(log_open(spec), 0);
	fake_clock_start(1000000);
	replay_log_init(&l, 1000);
	for (int i = 0; i < 7; i++)
		replay_log_multi_error(&l, "curl_multi_socket_action",
				       "Invalid socket argument");
	assert_int_equal(atomic_load(&l.multi_errors), 7);
	assert_int_equal(log_lines_count(path, "replay: curl_multi_socket_action: "), 1);
	replay_log_flush(&l, false); /* the window is still open */
	assert_int_equal(log_summaries_sum(path, "curl multi errors", &lines, &age), 0);
	fake_clock_advance(1000);
	replay_log_flush(&l, false);
	assert_int_equal(log_summaries_sum(path, "curl multi errors", &lines, &age), 6);
	assert_int_equal(lines, 1);
	replay_log_free(&l);
	fake_clock_stop();
	log_close();
	unlink(path);
}

/* A burst of failures, then silence: the "N more" line comes when the
 * interval ends, written by the pool's own timer, with no further error.
 * The logs' clock is the test's: the window ends when the test moves it. */
static void test_replay_shadow_error_summary_logged_after_burst_without_new_error(void **state)
{
	const unsigned interval_ms = 200;
	struct fx *f = fx_new();
	char path[] = "/tmp/test_replay_log_XXXXXX";
	char spec[64], url[64];
	int fd = mkstemp(path);
	uint64_t failed, summed = 0, age = 0, start;
	size_t lines = 0;

	assert_true(fd >= 0);
	close(fd);
	snprintf(spec, sizeof(spec), "w:%s", path);
	assert_int_equal(log_open(spec), 0);
	fake_clock_start(1000000);
	f->settings.monitor_interval_ms = interval_ms;
	snprintf(url, sizeof(url), "http://127.0.0.1:%u", closed_port());
	fx_target(f, "dead", url);
	fx_go(f);
	for (int i = 0; i < 30; i++)
		mirror(f, &(struct spec){ "GET", "/burst", NULL, 0, NULL, NULL });
	assert_true(fx_wait_idle(f, 5000));
	failed = stat_get(&fx_stats(f, 0)->failed);
	assert_int_equal(stat_get(&fx_stats(f, 0)->outcome[OUTCOME_CONNECT_ERROR]), failed);
	assert_true(failed >= 2);
	/* however long that took, the window runs until the clock moves */
	assert_int_equal(log_summaries_sum(path, "shadow 'dead' errors", &lines, &age), 0);
	assert_int_equal(lines, 0);
	fake_clock_advance(interval_ms);
	/* nothing more is sent: the pool's timer (a quarter interval) writes it */
	start = mono_ms();
	while (!lines && mono_ms() - start < 5000) {
		summed = log_summaries_sum(path, "shadow 'dead' errors", &lines, &age);
		if (!lines)
			sleep_ms(5);
	}
	assert_int_equal(lines, 1);
	assert_int_equal(summed, failed - 1);
	assert_int_equal(age, interval_ms);
	/* once: the stop adds nothing */
	fx_free(f);
	fake_clock_stop();
	log_close();
	assert_int_equal(log_lines_count(path, "shadow 'dead' ("), 1);
	assert_int_equal(log_summaries_sum(path, "shadow 'dead' errors", &lines, &age), failed - 1);
	assert_int_equal(lines, 1);
	unlink(path);
}

static void test_replay_access_log_line_per_mirror(void **state)
{
	struct fx *f = fx_new();
	struct http_recorder *rec = fx_recorder(f, 0, NULL);
	char path[] = "/tmp/test_replay_access_XXXXXX";
	char spec[64];
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	close(fd);
	snprintf(spec, sizeof(spec), "w:%s", path);
	assert_int_equal(log_open(spec), 0);
	f->settings.access_log = true;
	fx_target(f, "acc", recorder_url(rec, ""));
	fx_go(f);
	for (int i = 0; i < 3; i++)
		mirror(f, &(struct spec){ "GET", "/logged?x=1", NULL, 0, NULL, NULL });
	assert_true(fx_wait_idle(f, 5000));
	fx_free(f);
	log_close();
	assert_int_equal(log_lines_count(path, "mirror target=acc GET /logged?x=1 status=200"), 3);
	unlink(path);
}

/* ---- HTTP/2 and TLS, through a real HAProxy in front of the recorder ----
 * HAProxy terminates h2c / TLS and tells the recorder what it saw in
 * X-Seen-Version and X-Seen-TLS. These tests skip when haproxy or openssl
 * is not installed. */

struct front {
	pid_t pid;
	uint16_t h2c_port;
	uint16_t tls_port;
	/* the same frontend on a second port: another origin, so libcurl 8.x
	 * cannot hand an HTTP/1.1 connection of tls_port to an HTTP/2 target
	 * (for an ALPN target it may: h1 is allowed there) */
	uint16_t tls2_port;
	char dir[64];
	char ca[128];
};

static uint16_t free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
	close(fd);
	return ntohs(a.sin_port);
}

static bool port_accepts(uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	bool ok;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ok = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	close(fd);
	return ok;
}

static bool have_program(const char *path)
{
	return access(path, X_OK) == 0;
}

/* false: the tools are missing (the caller skips). */
static bool front_start(struct front *h, uint16_t backend_port)
{
	char cmd[1024], cfg[160], pem[160];
	FILE *fp;

	if (!have_program("/usr/sbin/haproxy") || !have_program("/usr/bin/openssl"))
		return false;
	snprintf(h->dir, sizeof(h->dir), "/tmp/test_replay_front_XXXXXX");
	assert_non_null(mkdtemp(h->dir));
	snprintf(h->ca, sizeof(h->ca), "%s/ca.crt", h->dir);
	snprintf(pem, sizeof(pem), "%s/front.pem", h->dir);
	snprintf(cfg, sizeof(cfg), "%s/haproxy.cfg", h->dir);
	snprintf(cmd, sizeof(cmd),
		 "cd %s && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
		 "-nodes -keyout key.pem -out ca.crt -days 2 -subj /CN=127.0.0.1 "
		 "-addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1 && cat ca.crt key.pem > front.pem",
		 h->dir);
	assert_int_equal(system(cmd), 0);
	h->h2c_port = free_port();
	h->tls_port = free_port();
	h->tls2_port = free_port();
	fp = fopen(cfg, "w");
	assert_non_null(fp);
	fprintf(fp,
		"defaults\n"
		"  mode http\n"
		"  timeout connect 2s\n  timeout client 120s\n  timeout server 120s\n"
		"frontend h2c\n"
		"  bind 127.0.0.1:%u proto h2\n"
		"  http-request set-header X-Seen-Version %%[req.ver]\n"
		"  http-request set-header X-Seen-Port %%[src_port]\n"
		"  http-request set-header X-Seen-TLS %%[ssl_fc]\n"
		"  default_backend rec\n"
		"frontend tls\n"
		"  bind 127.0.0.1:%u ssl crt %s alpn h2,http/1.1\n"
		"  bind 127.0.0.1:%u ssl crt %s alpn h2,http/1.1\n"
		"  http-request set-header X-Seen-Version %%[req.ver]\n"
		"  http-request set-header X-Seen-TLS %%[ssl_fc]\n"
		"  default_backend rec\n"
		"backend rec\n"
		"  server r 127.0.0.1:%u\n",
		h->h2c_port, h->tls_port, pem, h->tls2_port, pem, backend_port);
	fclose(fp);
	h->pid = fork();
	assert_true(h->pid >= 0);
	if (h->pid == 0) {
		int devnull = open("/dev/null", O_WRONLY);

		/* dies with the test even when an assertion skips front_stop() */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(devnull, STDOUT_FILENO);
		dup2(devnull, STDERR_FILENO);
		execl("/usr/sbin/haproxy", "haproxy", "-db", "-f", cfg, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 300; i++) {
		if (port_accepts(h->h2c_port) && port_accepts(h->tls_port) &&
		    port_accepts(h->tls2_port))
			return true;
		sleep_ms(10);
	}
	fail_msg("haproxy did not listen on 127.0.0.1:%u and :%u", h->h2c_port, h->tls_port);
	return false;
}

static void front_stop(struct front *h)
{
	char cmd[128];

	if (h->pid > 0) {
		kill(h->pid, SIGTERM);
		waitpid(h->pid, NULL, 0);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf %s", h->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", h->dir);
}

static void test_replay_http2_prior_knowledge_on_cleartext(void **state)
{
	struct fx *f = fx_new();
	struct http_recorder *rec = fx_recorder(f, 0, NULL);
	const char *h[] = { "Host", "front", "Content-Type", "text/plain", NULL };
	struct front front = { 0 };
	char url[64];
	const struct recorded_request *q;

	if (!front_start(&front, recorder_port(rec))) {
		fx_free(f);
		skip();
	}
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/h2", front.h2c_port);
	fx_target(f, "h2", url)->http2 = true;
	fx_go(f);
	mirror(f, &(struct spec){ "POST", "/p?x=1", "hello h2", 8, NULL, h });
	mirror(f, &(struct spec){ "PURGE", "/c", NULL, 0, NULL, h });
	mirror(f, &(struct spec){ "HEAD", "/hd", NULL, 0, NULL, h });
	for (int i = 0; i < 20; i++) /* concurrent, then reusing what is open */
		mirror(f, &(struct spec){ "GET", "/more", NULL, 0, NULL, h });
	assert_true(recorder_wait(rec, 23, 5000));
	assert_true(fx_wait_idle(f, 5000));
	assert_int_equal(stat_get(&fx_stats(f, 0)->mirrored), 23);
	q = find_target(rec, "/h2/p?x=1");
	assert_string_equal(q->method, "POST");
	assert_string_equal(recorded_header(q, "X-Seen-Version"), "2.0");
	assert_string_equal(recorded_header(q, "X-Seen-TLS"), "0");
	assert_string_equal(recorded_header(q, "Content-Type"), "text/plain");
	assert_int_equal(q->body_len, 8);
	assert_memory_equal(q->body, "hello h2", 8);
	assert_string_equal(find_target(rec, "/h2/c")->method, "PURGE");
	assert_string_equal(find_target(rec, "/h2/hd")->method, "HEAD");
	fx_free(f);
	front_stop(&front);
}

/* h2c with max-connections 1: with a libcurl that reuses prior-knowledge
 * connections (8.0 and later) a burst of 60 goes out as streams of one
 * connection; before 8.0 every mirror has a connection of its own (the
 * agent's workaround, warned about at start). Connections are told apart
 * by the agent's source port, as the HAProxy front saw it. */
static void test_replay_h2c_multiplexes_within_max_connections(void **state)
{
	struct fx *f = fx_new();
	struct http_recorder *rec = fx_recorder(f, 0, NULL);
	bool reuses = curl_version_info(CURLVERSION_NOW)->version_num >= 0x080000;
	const size_t n = 60;
	struct front front = { 0 };
	char url[64], ports[60][8];
	size_t distinct = 0;
	struct target_config *t;

	if (!front_start(&front, recorder_port(rec))) {
		fx_free(f);
		skip();
	}
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/", front.h2c_port);
	t = fx_target(f, "h2", url);
	t->http2 = true;
	t->max_connections = 1;
	fx_go(f);
	for (size_t i = 0; i < n; i++)
		mirror(f, &(struct spec){ "GET", "/burst", NULL, 0, NULL, NULL });
	assert_true(recorder_wait(rec, n, 10000));
	assert_true(fx_wait_idle(f, 5000));
	assert_int_equal(stat_get(&fx_stats(f, 0)->mirrored), n);
	for (size_t i = 0; i < n; i++) {
		const char *port = recorded_header(recorder_get(rec, i), "X-Seen-Port");
		size_t k = 0;

		assert_non_null(port);
		assert_string_equal(recorded_header(recorder_get(rec, i), "X-Seen-Version"), "2.0");
		while (k < distinct && strcmp(ports[k], port))
			k++;
		if (k == distinct)
			snprintf(ports[distinct++], sizeof(ports[0]), "%s", port);
	}
	assert_int_equal(distinct, reuses ? 1 : n);
	fx_free(f);
	front_stop(&front);
}

/* Before any mirror, an h2c target on a libcurl that cannot reuse its
 * connections (< 8.0) is warned about, once per target; HTTP/1.1 and
 * HTTP/2 over TLS targets are not. */
static void test_replay_h2c_on_old_libcurl_warned_at_start(void **state)
{
	struct fx *f = fx_new();
	char path[] = "/tmp/test_replay_log_XXXXXX";
	char spec[64];
	int fd = mkstemp(path);
	bool old = curl_version_info(CURLVERSION_NOW)->version_num < 0x080000;

	assert_true(fd >= 0);
	close(fd);
	snprintf(spec, sizeof(spec), "w:%s", path);
	assert_int_equal(log_open(spec), 0);
	fx_target(f, "plain", "http://127.0.0.1:9");
	fx_target(f, "h2c", "http://127.0.0.1:9")->http2 = true;
	fx_target(f, "h2tls", "https://127.0.0.1:9")->http2 = true;
	fx_go(f);
	replay_pool_check_targets(f->pool, f->set);
	log_close();
	assert_int_equal(log_lines_count(path, "target 'h2c': libcurl"), old ? 1 : 0);
	assert_int_equal(log_lines_count(path, "cannot reuse HTTP/2 prior-knowledge"), old ? 1 : 0);
	fx_free(f);
	unlink(path);
}

static void test_replay_tls_verified_unless_disabled(void **state)
{
	struct fx *f = fx_new();
	struct http_recorder *rec = fx_recorder(f, 0, NULL);
	struct front front = { 0 };
	struct target_config *t;
	char url[64], url2[64];

	if (!front_start(&front, recorder_port(rec))) {
		fx_free(f);
		skip();
	}
	snprintf(url, sizeof(url), "https://127.0.0.1:%u", front.tls_port);
	fx_target(f, "untrusted", url);                      /* system CAs: must fail */
	fx_target(f, "ca", url)->ca_file = strdup(front.ca); /* our CA: verified */
	fx_target(f, "noverify", url)->tls_verify = false;
	snprintf(url2, sizeof(url2), "https://127.0.0.1:%u", front.tls2_port);
	t = fx_target(f, "h2tls", url2);
	t->ca_file = strdup(front.ca);
	t->http2 = true; /* negotiated by ALPN */
	/* dozens of handshakes at once on a busy, sanitized or valgrind build take a
	 * while (under memcheck each loads the CA bundle for seconds) */
	for (size_t i = 0; i < f->cfg.n_targets; i++) {
		f->cfg.targets[i].connect_timeout_ms = 90000;
		f->cfg.targets[i].timeout_ms = 90000;
	}
	fx_go(f);
	assert_int_equal(mirror(f, &(struct spec){ "GET", "/s", NULL, 0, NULL, NULL }), 4);
	assert_true(fx_wait_idle(f, 95000));
	assert_int_equal(stat_get(&fx_stats(f, 0)->failed), 1);
	assert_int_equal(stat_get(&fx_stats(f, 0)->outcome[OUTCOME_CONNECT_ERROR]), 1);
	assert_int_equal(stat_get(&fx_stats(f, 1)->mirrored), 1);
	assert_int_equal(stat_get(&fx_stats(f, 2)->mirrored), 1);
	assert_int_equal(stat_get(&fx_stats(f, 3)->mirrored), 1);
	assert_int_equal(recorder_count(rec), 3);
	for (size_t i = 0; i < 3; i++)
		assert_string_equal(recorded_header(recorder_get(rec, i), "X-Seen-TLS"), "1");
	/* exactly one of them arrived over HTTP/2 */
	{
		size_t h2 = 0;
		for (size_t i = 0; i < 3; i++)
			h2 += !strcmp(recorded_header(recorder_get(rec, i), "X-Seen-Version"), "2.0");
		assert_int_equal(h2, 1);
	}
	/* more of them, concurrent, over the connections already open */
	for (int i = 0; i < 10; i++)
		mirror(f, &(struct spec){ "POST", "/s2", "b", 1, NULL, NULL });
	assert_true(fx_wait_idle(f, 95000));
	assert_int_equal(stat_get(&fx_stats(f, 0)->failed), 11);
	for (size_t i = 1; i < 4; i++) {
		assert_int_equal(stat_get(&fx_stats(f, i)->mirrored), 11);
		assert_accounted(fx_stats(f, i));
	}
	assert_int_equal(recorder_count(rec), 33);
	fx_free(f);
	front_stop(&front);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_replay_every_method_forwarded_exactly),
		cmocka_unit_test(test_replay_1mib_body_byte_exact),
		cmocka_unit_test(test_replay_hop_by_hop_headers_not_on_the_wire),
		cmocka_unit_test(test_replay_added_and_removed_headers),
		cmocka_unit_test(test_replay_host_policy_both_ways),
		cmocka_unit_test(test_replay_prefix_and_trailing_slash_joins),
		cmocka_unit_test(test_replay_two_targets_sampled_within_binomial_bounds),
		cmocka_unit_test(test_replay_consistent_sampling_stable_per_key),
		cmocka_unit_test(test_replay_slow_sink_keeps_memory_bounded),
		cmocka_unit_test(test_replay_connection_refused_counted_as_connect_error),
		cmocka_unit_test(test_replay_timeout_counted),
		cmocka_unit_test(test_replay_answer_status_classes_counted_as_mirrored),
		cmocka_unit_test(test_replay_answers_captured_for_targets_that_compare),
		cmocka_unit_test(test_replay_capture_over_budget_counted_and_released),
		cmocka_unit_test(test_replay_invalid_method_counted_failed_other),
		cmocka_unit_test(test_replay_stop_drains_inflight_mirrors),
		cmocka_unit_test(test_replay_stop_aborts_after_drain_timeout),
		cmocka_unit_test(test_replay_stop_drops_transfers_waiting_for_the_window),
		cmocka_unit_test(test_replay_stop_without_drain_counts_every_request),
		cmocka_unit_test(test_replay_keepalive_reuses_connections),
		cmocka_unit_test(test_replay_shadow_closing_idle_connections_loses_nothing),
		cmocka_unit_test(test_replay_max_connections_caps_connections_to_a_target),
		cmocka_unit_test(test_replay_burst_beyond_window_waits_in_order),
		cmocka_unit_test(test_replay_local_port_range_used),
		cmocka_unit_test(test_replay_shadow_errors_logged_once_per_interval),
		cmocka_unit_test(test_replay_shadow_error_summary_logged_after_burst_without_new_error),
		cmocka_unit_test(test_replay_curl_multi_errors_counted_and_rate_limited),
		cmocka_unit_test(test_replay_access_log_line_per_mirror),
		cmocka_unit_test(test_replay_http2_prior_knowledge_on_cleartext),
		cmocka_unit_test(test_replay_h2c_multiplexes_within_max_connections),
		cmocka_unit_test(test_replay_h2c_on_old_libcurl_warned_at_start),
		cmocka_unit_test(test_replay_tls_verified_unless_disabled),
	};

	/* the recorder and curl write to sockets a peer may have closed */
	signal(SIGPIPE, SIG_IGN);
	/* TEST_FILTER=test_replay_tls* runs the matching tests only */
	if (getenv("TEST_FILTER"))
		cmocka_set_test_filter(getenv("TEST_FILTER"));
	return cmocka_run_group_tests(tests, NULL, NULL);
}

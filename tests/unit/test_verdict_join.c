/* Unit tests for the verdict path: src/verdict_join.c (answers joined by
 * id, verdicts with the rules of the set a request was mirrored under,
 * timeouts, overflow, unknown ids, shutdown) with a fake clock, the thread
 * of src/verdict_worker.c end to end, and the SPOP side's half in
 * src/mirror.c (registration before the request leaves, the primary's
 * answer posted). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "compare_report.h"
#include "config.h"
#include "diff_log.h"
#include "fake_clock.h"
#include "log.h"
#include "log_lines.h"
#include "mirror.h"
#include "queue.h"
#include "request.h"
#include "response.h"
#include "shadow_answer.h"
#include "target.h"
#include "verdict_expect.h"
#include "verdict_join.h"
#include "verdict_worker.h"

#define JSON "application/json"

struct fixture {
	struct agent_config cfg;
	struct stats_registry reg;
	struct target_set *set;
	struct verdict_stats stats;
	struct compare_report *report;
	struct diff_log *diff_log;
	char diff_path[64];
	struct verdict_join *vj;
};

/* Targets "a" (compare = body, ignoring /meta/at) and "b" (compare =
 * status). */
static struct target_set *make_set(struct fixture *fx, enum verdict_level a_level)
{
	char err[256];
	struct target_set *set;

	config_free(&fx->cfg);
	config_init(&fx->cfg);
	struct target_config *a = config_add_target(&fx->cfg, "a", "http://127.0.0.1:1/");
	a->compare = a_level;
	a->compare_ignore_json = calloc(1, sizeof(char *));
	a->compare_ignore_json[0] = strdup("/meta/at");
	a->n_compare_ignore_json = 1;
	config_add_target(&fx->cfg, "b", "http://127.0.0.1:2/")->compare = VERDICT_LEVEL_STATUS;
	config_add_target(&fx->cfg, "c", "http://127.0.0.1:3/"); /* compare off */
	set = target_set_new(&fx->cfg, &fx->reg, err, sizeof(err));
	assert_non_null(set);
	return set;
}

static struct fixture *fixture_new(size_t max_entries, size_t max_bytes)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	struct diff_log_settings ds = { .path = fx->diff_path, .bodies = false };
	struct verdict_outputs out;
	char err[256];
	int fd;

	config_init(&fx->cfg);
	fx->set = make_set(fx, VERDICT_LEVEL_BODY);
	assert_int_equal(fx->set->compare_mask, 0x3);
	fx->report = compare_report_new(10);
	strcpy(fx->diff_path, "/tmp/test-verdict-join.XXXXXX");
	fd = mkstemp(fx->diff_path);
	assert_true(fd >= 0);
	close(fd);
	fx->diff_log = diff_log_open(&ds, err, sizeof(err));
	assert_non_null(fx->diff_log);
	out = (struct verdict_outputs){ fx->diff_log, fx->report, fake_clock_now, 0 };
	fake_clock_start(1000000);
	fx->vj = verdict_join_new(max_entries, max_bytes, 5000, fake_clock_now, &fx->stats, &out);
	assert_non_null(fx->vj);
	return fx;
}

static void fixture_free(struct fixture *fx)
{
	verdict_join_free(fx->vj);
	target_set_unref(fx->set);
	diff_log_close(fx->diff_log);
	unlink(fx->diff_path);
	compare_report_free(fx->report);
	stats_registry_free(&fx->reg);
	config_free(&fx->cfg);
	free(fx);
}

static struct verdict_item *expect(struct target_set *set, uint32_t mask, const char *id)
{
	return &verdict_expect_new(set, mask, slice_from_cstr(id), SLICE_LIT("GET"),
				   SLICE_LIT("/users/42?x=1"))->item;
}

static struct verdict_item *primary(const char *id, int status, const char *ctype,
				    const char *body)
{
	struct http_header items[2] = { { SLICE_LIT("Content-Type"), slice_from_cstr(ctype) },
					{ SLICE_LIT("Date"), SLICE_LIT("Thu, 03 Dec") } };
	struct header_list h = { items, 2, 2 };
	struct response_fields f = {
		.id = slice_from_cstr(id), .status = status, .payload.body = slice_from_cstr(body),
		.has_time = true, .time_ms = 10,
	};
	struct primary_answer *p = primary_answer_new(&f, &h);

	assert_non_null(p);
	return &p->item;
}

static struct verdict_item *shadow(struct target_set *set, unsigned target, uint32_t mask,
				   const char *id, int status, const char *ctype, const char *body)
{
	struct shadow_capture c = { 0 };
	struct shadow_answer_key k = {
		.id = slice_from_cstr(id), .generation = set->generation, .target = target,
		.expected = mask, .latency_us = 4000,
	};
	struct shadow_answer *a;
	char line[128];

	shadow_capture_begin(&c, 1024, NULL);
	if (status) {
		shadow_capture_header(&c, "HTTP/1.1 200 OK\r\n", 17);
		snprintf(line, sizeof(line), "Content-Type: %s\r\n", ctype);
		shadow_capture_header(&c, line, strlen(line));
		shadow_capture_header(&c, "Date: Fri, 04 Dec\r\n", 19);
		shadow_capture_body(&c, body, strlen(body));
	}
	a = shadow_answer_new(&c, &k, status, status != 0);
	shadow_capture_free(&c);
	assert_non_null(a);
	return &a->item;
}

static uint64_t count(struct target_set *set, unsigned target, enum verdict_result r)
{
	return stat_get(&set->targets[target].stats->compare[r]);
}

static size_t diff_lines(struct fixture *fx)
{
	FILE *f = fopen(fx->diff_path, "r");
	size_t n = 0;
	int ch;

	assert_non_null(f);
	while ((ch = fgetc(f)) != EOF)
		n += ch == '\n';
	fclose(f);
	return n;
}

/* ---- verdict_join.c ---- */

static void test_primary_first_then_shadows_match(void **state)
{
	struct fixture *fx = fixture_new(100, 1 << 20);

	verdict_join_take(fx->vj, expect(fx->set, 0x3, "r1"));
	verdict_join_take(fx->vj, primary("r1", 200, JSON, "{\"a\":1,\"meta\":{\"at\":1}}"));
	verdict_join_take(fx->vj, shadow(fx->set, 0, 0x3, "r1", 200, JSON,
					 "{ \"meta\": {\"at\": 2}, \"a\": 1.0 }"));
	assert_int_equal(stat_get(&fx->stats.entries), 1);
	verdict_join_take(fx->vj, shadow(fx->set, 1, 0x3, "r1", 200, JSON, "other"));
	assert_int_equal(count(fx->set, 0, VERDICT_MATCH), 1);
	assert_int_equal(count(fx->set, 1, VERDICT_MATCH), 1);
	assert_int_equal(count(fx->set, 2, VERDICT_MATCH), 0);
	assert_int_equal(stat_get(&fx->stats.entries), 0);
	assert_int_equal(stat_get(&fx->stats.bytes), 0);
	assert_true(stat_get(&fx->stats.bytes_peak) > 0);
	/* shadow 4 ms, primary 10 ms: -6 ms, in the (-10 ms, -5 ms] bucket */
	assert_int_equal(compare_delta_le_us[7], -5000);
	assert_int_equal(stat_get(&fx->set->targets[0].stats->compare_delta_bucket[7]), 1);
	assert_int_equal(atomic_load(&fx->set->targets[0].stats->compare_delta_sum_us), -6000);
	assert_int_equal(diff_lines(fx), 0);
	fixture_free(fx);
}

static void test_shadows_first_then_primary_differs(void **state)
{
	struct fixture *fx = fixture_new(100, 1 << 20);

	verdict_join_take(fx->vj, expect(fx->set, 0x3, "r1"));
	verdict_join_take(fx->vj, shadow(fx->set, 1, 0x3, "r1", 200, JSON, "{}"));
	verdict_join_take(fx->vj, shadow(fx->set, 0, 0x3, "r1", 200, JSON, "{\"a\":2}"));
	verdict_join_take(fx->vj, primary("r1", 200, JSON, "{\"a\":1}"));
	assert_int_equal(count(fx->set, 0, VERDICT_BODY), 1);
	assert_int_equal(count(fx->set, 1, VERDICT_MATCH), 1); /* status only */
	assert_int_equal(diff_lines(fx), 1);
	fixture_free(fx);
}

static void test_shadow_without_answer_is_a_shadow_error(void **state)
{
	struct fixture *fx = fixture_new(100, 1 << 20);

	verdict_join_take(fx->vj, expect(fx->set, 0x1, "r1"));
	verdict_join_take(fx->vj, shadow(fx->set, 0, 0x1, "r1", 0, JSON, ""));
	verdict_join_take(fx->vj, primary("r1", 200, JSON, "{}"));
	assert_int_equal(count(fx->set, 0, VERDICT_SHADOW_ERROR), 1);
	fixture_free(fx);
}

static void test_missing_answers_time_out_as_not_comparable(void **state)
{
	struct fixture *fx = fixture_new(100, 1 << 20);

	verdict_join_take(fx->vj, expect(fx->set, 0x3, "r1"));
	verdict_join_take(fx->vj, primary("r1", 200, JSON, "{}"));
	verdict_join_take(fx->vj, shadow(fx->set, 0, 0x3, "r1", 500, JSON, "{}"));
	fake_clock_set(1000000 + 4999);
	assert_int_equal(verdict_join_expire(fx->vj), 0);
	fake_clock_set(1000000 + 5000);
	assert_int_equal(verdict_join_expire(fx->vj), 1);
	assert_int_equal(stat_get(&fx->stats.timeouts), 1);
	/* "a" has both sides: judged; "b" never answered: not comparable */
	assert_int_equal(count(fx->set, 0, VERDICT_STATUS), 1);
	assert_int_equal(count(fx->set, 1, VERDICT_NOT_COMPARABLE), 1);
	assert_int_equal(stat_get(&fx->stats.entries), 0);
	/* a late answer is an unknown id now */
	verdict_join_take(fx->vj, shadow(fx->set, 1, 0x3, "r1", 200, JSON, "{}"));
	assert_int_equal(stat_get(&fx->stats.unknown_id), 1);
	fixture_free(fx);
}

static void test_answers_for_unknown_ids_are_counted(void **state)
{
	struct fixture *fx = fixture_new(100, 1 << 20);

	verdict_join_take(fx->vj, primary("nobody", 200, JSON, "{}"));
	verdict_join_take(fx->vj, shadow(fx->set, 0, 0x1, "nobody", 200, JSON, "{}"));
	assert_int_equal(stat_get(&fx->stats.unknown_id), 2);
	assert_int_equal(stat_get(&fx->stats.entries), 0);
	fixture_free(fx);
}

static void test_duplicates_are_counted(void **state)
{
	struct fixture *fx = fixture_new(100, 1 << 20);

	verdict_join_take(fx->vj, expect(fx->set, 0x3, "r1"));
	verdict_join_take(fx->vj, expect(fx->set, 0x3, "r1"));
	verdict_join_take(fx->vj, primary("r1", 200, JSON, "{}"));
	verdict_join_take(fx->vj, primary("r1", 200, JSON, "{}"));
	verdict_join_take(fx->vj, shadow(fx->set, 0, 0x3, "r1", 200, JSON, "{}"));
	verdict_join_take(fx->vj, shadow(fx->set, 0, 0x3, "r1", 200, JSON, "{}"));
	assert_int_equal(stat_get(&fx->stats.duplicates), 3);
	assert_int_equal(stat_get(&fx->stats.entries), 1);
	fixture_free(fx);
}

static void test_overflow_in_entries_and_bytes_counted(void **state)
{
	struct fixture *fx = fixture_new(2, 1 << 20);
	char big[4096];

	verdict_join_take(fx->vj, expect(fx->set, 0x1, "r1"));
	verdict_join_take(fx->vj, expect(fx->set, 0x1, "r2"));
	verdict_join_take(fx->vj, expect(fx->set, 0x1, "r3"));
	assert_int_equal(stat_get(&fx->stats.overflow_entries), 1);
	assert_int_equal(stat_get(&fx->stats.entries), 2);
	verdict_join_free(fx->vj);
	assert_int_equal(stat_get(&fx->stats.cleared), 2);

	/* bytes: a registration fits, its answer does not */
	fx->vj = verdict_join_new(100, 2048, 5000, fake_clock_now, &fx->stats,
				  &(struct verdict_outputs){ 0 });
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	verdict_join_take(fx->vj, expect(fx->set, 0x1, "r1"));
	verdict_join_take(fx->vj, primary("r1", 200, "text/plain", big));
	assert_int_equal(stat_get(&fx->stats.overflow_bytes), 1);
	assert_true(stat_get(&fx->stats.bytes) <= 2048);
	fixture_free(fx);
}

/* Refused answers and timeouts are logged once per window, the rest
 * summed when the window is over (the worker's timer flushes). */
static void test_refusals_and_timeouts_logged_rate_limited(void **state)
{
	struct fixture *fx = fixture_new(100, 1 << 20);
	char path[] = "/tmp/test_verdict_join_log_XXXXXX", spec[64];
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	close(fd);
	snprintf(spec, sizeof(spec), "w:%s", path);
	assert_int_equal(log_open(spec), 0);
	for (int i = 0; i < 4; i++)
		verdict_join_take(fx->vj, primary("ghost", 200, JSON, "{}"));
	verdict_join_take(fx->vj, expect(fx->set, 0x1, "r1"));
	verdict_join_take(fx->vj, expect(fx->set, 0x1, "r2"));
	fake_clock_set(1000000 + 5000);
	assert_int_equal(verdict_join_expire(fx->vj), 2);
	verdict_join_flush_logs(fx->vj); /* windows still open: nothing */
	fake_clock_set(1000000 + 10000);
	verdict_join_flush_logs(fx->vj);
	log_close();
	assert_int_equal(log_lines_count(path, "primary for id 'ghost' not compared: unknown_id"),
			 1);
	assert_int_equal(log_lines_count(path, "answers not compared: 3 more"), 1);
	assert_int_equal(log_lines_count(path, "id 'r1': the primary did not send"), 1);
	assert_int_equal(
		log_lines_count(path, "requests whose answers did not all come in time: 1 more"),
		1);
	unlink(path);
	fixture_free(fx);
}

/* A reload between a request and its answers: the verdict uses the rules
 * of the set the request was mirrored under; an answer claiming another
 * generation for the same id is refused. */
static void test_reload_keeps_the_rules_of_the_requests_set(void **state)
{
	struct fixture *fx = fixture_new(100, 1 << 20);
	struct target_set *old = fx->set, *fresh;

	verdict_join_take(fx->vj, expect(old, 0x1, "r1"));
	/* SIGHUP: "a" compares status only from now on */
	fresh = make_set(fx, VERDICT_LEVEL_STATUS);
	target_set_unref(old); /* the agent drops its reference; the registration keeps one */
	fx->set = fresh;
	verdict_join_take(fx->vj, shadow(fresh, 0, 0x1, "r1", 200, JSON, "{\"a\":2}"));
	assert_int_equal(stat_get(&fx->stats.duplicates), 1); /* generation mismatch */
	verdict_join_take(fx->vj, primary("r1", 200, JSON, "{\"a\":1}"));
	{
		/* the old set's shadow answer, made before the swap */
		struct shadow_capture c = { 0 };
		struct shadow_answer_key k = { .id = SLICE_LIT("r1"),
					       .generation = fresh->generation - 1,
					       .target = 0, .expected = 0x1 };
		struct shadow_answer *a;

		shadow_capture_begin(&c, 64, NULL);
		shadow_capture_header(&c, "Content-Type: application/json\r\n", 32);
		shadow_capture_body(&c, "{\"a\":2}", 7);
		a = shadow_answer_new(&c, &k, 200, true);
		shadow_capture_free(&c);
		verdict_join_take(fx->vj, &a->item);
	}
	/* body level, as when mirrored; counted on the target's (shared) counters */
	assert_int_equal(count(fresh, 0, VERDICT_BODY), 1);
	fixture_free(fx);
}

/* ---- verdict_worker.c ---- */

static void test_worker_joins_posts_and_expires_on_its_thread(void **state)
{
	struct fixture *fx = fixture_new(100, 1 << 20);
	struct verdict_worker_settings s = {
		.max_entries = 100, .max_bytes = 1 << 20, .timeout_ms = 5000,
		.now_ms = fake_clock_now, .stats = &fx->stats,
		.outputs = { NULL, fx->report, fake_clock_now, 0 },
	};
	char err[256];
	struct verdict_worker *w = verdict_worker_start(&s, err, sizeof(err));
	struct strbuf js = STRBUF_INIT;

	assert_non_null(w);
	verdict_worker_post_take(w, expect(fx->set, 0x1, "r1"));
	verdict_worker_post_take(w, shadow(fx->set, 0, 0x1, "r1", 200, JSON, "{\"a\":2}"));
	verdict_worker_post_take(w, primary("r1", 503, JSON, "{\"a\":1}"));
	verdict_worker_post_take(w, expect(fx->set, 0x1, "r2"));
	verdict_worker_sync(w);
	assert_int_equal(count(fx->set, 0, VERDICT_STATUS), 1);
	assert_int_equal(stat_get(&fx->stats.entries), 1);
	compare_report_json(fx->report, &js);
	assert_non_null(strstr(js.data, "/users/{id}"));
	strbuf_free(&js);
	fake_clock_set(1000000 + 6000);
	verdict_worker_sync(w);
	assert_int_equal(stat_get(&fx->stats.timeouts), 1);
	assert_int_equal(count(fx->set, 0, VERDICT_NOT_COMPARABLE), 1);
	/* shutdown counts what still waits */
	verdict_worker_post_take(w, expect(fx->set, 0x1, "r3"));
	verdict_worker_stop(w);
	assert_int_equal(stat_get(&fx->stats.cleared), 1);
	fixture_free(fx);
}

static void test_full_inbox_drops_and_counts_by_kind(void **state)
{
	struct fixture *fx = fixture_new(100, 1 << 20);
	struct verdict_worker_settings s = {
		.max_entries = 1, .max_bytes = 1 << 20, .timeout_ms = 5000,
		.now_ms = fake_clock_now, .stats = &fx->stats,
	};
	char err[256];
	struct verdict_worker *w = verdict_worker_start(&s, err, sizeof(err));
	unsigned posted = 0;

	assert_non_null(w);
	/* the thread may drain between posts: post until one is dropped */
	while (stat_get(&fx->stats.inbox_dropped[VERDICT_ITEM_PRIMARY]) == 0 && posted < 100000) {
		verdict_worker_post_take(w, primary("x", 200, JSON, "{}"));
		posted++;
	}
	assert_int_equal(stat_get(&fx->stats.inbox_dropped[VERDICT_ITEM_PRIMARY]), 1);
	verdict_worker_stop(w);
	/* everything that got in was judged: an unknown id each */
	assert_int_equal(stat_get(&fx->stats.unknown_id), posted - 1);
	fixture_free(fx);
}

/* ---- mirror.c: the SPOP thread's half ---- */

struct posted {
	struct verdict_item *items[16];
	unsigned n;
	struct mirror_request *req;
};

static void capture_item(void *arg, struct verdict_item *it)
{
	struct posted *p = arg;

	assert_true(p->n < 16);
	if (it->kind == VERDICT_ITEM_EXPECT)
		assert_null(p->req); /* registered before the request left */
	p->items[p->n++] = it;
}

static void capture_request(void *arg, struct mirror_request *r)
{
	((struct posted *)arg)->req = r;
}

static void test_mirror_registers_then_submits_and_posts_the_primary(void **state)
{
	struct fixture *fx = fixture_new(100, 1 << 20);
	struct queue_budget budget;
	struct spop_stats st = { 0 };
	struct posted got = { 0 };
	struct mirror_dispatch d = {
		.message_names = fx->cfg.message_names,
		.n_message_names = fx->cfg.n_message_names,
		.targets = &fx->set,
		.budget = &budget,
		.submit = capture_request,
		.submit_arg = &got,
		.stats = &st,
		.response_names = fx->cfg.response_message_names,
		.n_response_names = fx->cfg.n_response_message_names,
		.verdict = capture_item,
		.verdict_arg = &got,
		.verdict_stats = &fx->stats,
	};
	struct spop_message m = { .name = SLICE_LIT("mirror-request") };
	struct verdict_expect *x;

	queue_budget_init(&budget, 10, 1 << 20);
	m.args[0] = (struct spop_arg){ SLICE_LIT("method"), spop_str_value(SLICE_LIT("GET")) };
	m.args[1] = (struct spop_arg){ SLICE_LIT("uri"), spop_str_value(SLICE_LIT("/p")) };
	m.args[2] = (struct spop_arg){ SLICE_LIT("request_id"), spop_str_value(SLICE_LIT("u-1")) };
	m.nb_args = 3;
	/* not an id argument's name: without an id no registration */
	mirror_on_message(&d, &m);
	assert_non_null(got.req);
	assert_int_equal(got.req->compare_mask, 0);
	assert_int_equal(stat_get(&fx->stats.no_id), 1);
	request_free(got.req);
	got.req = NULL;
	m.args[2].name = SLICE_LIT("id"); /* the name; unique-id works alike */
	mirror_on_message(&d, &m);
	assert_int_equal(got.n, 1);
	x = (struct verdict_expect *)got.items[0];
	assert_int_equal(x->item.kind, VERDICT_ITEM_EXPECT);
	assert_int_equal(x->expected, 0x3); /* a and b compare, c does not */
	assert_true(slice_eq_cstr(x->id, "u-1"));
	assert_true(slice_eq_cstr(x->path, "/p"));
	assert_int_equal(got.req->compare_mask, 0x3);
	assert_int_equal(got.req->target_mask, 0x7);

	/* the answer: posted when complete, counted when it has no id */
	m = (struct spop_message){ .name = SLICE_LIT("mirror-response"), .nb_args = 2 };
	m.args[0] = (struct spop_arg){ SLICE_LIT("status"), spop_u32_value(200) };
	m.args[1] = (struct spop_arg){ SLICE_LIT("id"), spop_str_value(SLICE_LIT("u-1")) };
	mirror_on_message(&d, &m);
	assert_int_equal(got.n, 2);
	assert_int_equal(got.items[1]->kind, VERDICT_ITEM_PRIMARY);
	m.nb_args = 1;
	mirror_on_message(&d, &m);
	assert_int_equal(got.n, 2);
	assert_int_equal(stat_get(&fx->stats.no_id), 2);
	m.args[0].value = spop_u32_value(7);
	m.args[1].value = spop_str_value(SLICE_LIT("u-1"));
	m.nb_args = 2;
	mirror_on_message(&d, &m);
	assert_int_equal(stat_get(&fx->stats.invalid), 1);
	assert_int_equal(st.messages_ignored, 0);
	assert_int_equal(st.messages_response, 3);

	for (unsigned i = 0; i < got.n; i++)
		verdict_item_free(got.items[i]);
	for (unsigned i = 0; i < 3; i++)
		target_cancel(&fx->set->targets[i], DROP_SHUTDOWN);
	request_free(got.req);
	fixture_free(fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_primary_first_then_shadows_match),
		cmocka_unit_test(test_shadows_first_then_primary_differs),
		cmocka_unit_test(test_shadow_without_answer_is_a_shadow_error),
		cmocka_unit_test(test_missing_answers_time_out_as_not_comparable),
		cmocka_unit_test(test_answers_for_unknown_ids_are_counted),
		cmocka_unit_test(test_duplicates_are_counted),
		cmocka_unit_test(test_overflow_in_entries_and_bytes_counted),
		cmocka_unit_test(test_refusals_and_timeouts_logged_rate_limited),
		cmocka_unit_test(test_reload_keeps_the_rules_of_the_requests_set),
		cmocka_unit_test(test_worker_joins_posts_and_expires_on_its_thread),
		cmocka_unit_test(test_full_inbox_drops_and_counts_by_kind),
		cmocka_unit_test(test_mirror_registers_then_submits_and_posts_the_primary),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

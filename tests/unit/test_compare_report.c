/* Unit tests for src/compare_report.c: totals and endpoints as /compare
 * shows them (parsed back with jansson), ordering and the top cut, the
 * bounded endpoint table and its eviction, bounded examples, the page's
 * escaping, and counting from several threads at once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>

#include <cmocka.h>
#include <jansson.h>

#include "alloc_fail.h"
#include "compare_report.h"
#include "json_write.h"

#define T0 UINT64_C(1796303671123) /* 2026-12-03T13:14:31.123Z */

struct planted {
	struct verdict v;
	struct verdict_record rec;
};

/* A record of `result` for "METHOD path" on target; views into p. */
static struct verdict_record *plant(struct planted *p, const char *target, const char *method,
				    const char *path, const char *id, enum verdict_result result)
{
	memset(p, 0, sizeof(*p));
	p->v.result = result;
	p->v.status_a = 200;
	p->v.status_b = result == VERDICT_STATUS ? 500 : 200;
	p->v.body_diff_offset = -1;
	p->rec = (struct verdict_record){
		.time_ms = T0,
		.target = target,
		.method = slice_from_cstr(method),
		.path = slice_from_cstr(path),
		.id = slice_from_cstr(id),
		.verdict = &p->v,
	};
	return &p->rec;
}

static void add(struct compare_report *r, const char *target, const char *method,
		const char *path, const char *id, enum verdict_result result)
{
	struct planted p;

	compare_report_add(r, plant(&p, target, method, path, id, result));
}

/* /compare parsed; the caller decrefs. */
static json_t *report(struct compare_report *r)
{
	struct strbuf out = STRBUF_INIT_CHECKED;
	json_error_t err;
	json_t *j;

	compare_report_json(r, &out);
	assert_false(out.failed);
	j = json_loadb(out.data, out.len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &err);
	if (!j)
		fail_msg("not JSON (%s at %d): %s", err.text, err.position, out.data);
	strbuf_free(&out);
	return j;
}

static json_t *target_named(json_t *rep, const char *name)
{
	size_t i;
	json_t *t;

	json_array_foreach(json_object_get(rep, "targets"), i, t)
		if (!strcmp(json_string_value(json_object_get(t, "name")), name))
			return t;
	fail_msg("no target %s", name);
	return NULL;
}

static long long num(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	if (!json_is_integer(v))
		fail_msg("%s is not an integer", key);
	return json_integer_value(v);
}

static const char *str(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	if (!json_is_string(v))
		fail_msg("%s is not a string", key);
	return json_string_value(v);
}

static json_t *endpoint(json_t *t, size_t i)
{
	json_t *e = json_array_get(json_object_get(t, "endpoints"), i);

	assert_non_null(e);
	return e;
}

static void test_empty_report(void **state)
{
	struct compare_report *r = compare_report_new(0);
	json_t *j = report(r);

	assert_int_equal(json_array_size(json_object_get(j, "targets")), 0);
	assert_int_equal(num(j, "endpoints_max"), COMPARE_REPORT_DEFAULT_ENDPOINTS);
	json_decref(j);
	compare_report_free(r);
}

static void test_totals_and_endpoints_by_normalised_path(void **state)
{
	struct compare_report *r = compare_report_new(10);
	json_t *j, *t, *e, *last;

	add(r, "v2", "GET", "/users/42?x=1", "id-1", VERDICT_STATUS);
	add(r, "v2", "GET", "/users/7f3a9c01", "id-2", VERDICT_BODY);
	add(r, "v2", "GET", "/users/9", "id-3", VERDICT_MATCH);
	add(r, "v2", "GET", "/health", "id-4", VERDICT_MATCH);
	add(r, "v2", "POST", "/users/1", "id-5", VERDICT_SHADOW_ERROR);
	add(r, "v3", "GET", "/users/1", "id-6", VERDICT_NOT_COMPARABLE);
	add(r, "v3", "GET", "/users/1", "id-7", VERDICT_HEADERS);
	j = report(r);
	assert_int_equal(json_array_size(json_object_get(j, "targets")), 2);

	t = target_named(j, "v2");
	assert_int_equal(num(json_object_get(t, "totals"), "match"), 2);
	assert_int_equal(num(json_object_get(t, "totals"), "status"), 1);
	assert_int_equal(num(json_object_get(t, "totals"), "body"), 1);
	assert_int_equal(num(json_object_get(t, "totals"), "headers"), 0);
	assert_int_equal(num(json_object_get(t, "totals"), "shadow_error"), 1);
	assert_int_equal(num(json_object_get(t, "totals"), "not_comparable"), 0);
	assert_int_equal(num(t, "verdicts"), 5);
	assert_int_equal(num(t, "differences"), 2);
	assert_int_equal(num(t, "endpoints_tracked"), 3);
	e = endpoint(t, 0);
	assert_string_equal(str(e, "endpoint"), "GET /users/{id}");
	assert_int_equal(num(e, "differences"), 2);
	assert_int_equal(num(json_object_get(e, "by_result"), "status"), 1);
	assert_int_equal(num(json_object_get(e, "by_result"), "body"), 1);
	assert_int_equal(num(json_object_get(e, "by_result"), "match"), 1);
	/* the last difference, not the last record */
	last = json_object_get(e, "last");
	assert_string_equal(str(last, "id"), "id-2");
	assert_string_equal(str(last, "path"), "/users/7f3a9c01");
	assert_string_equal(str(last, "verdict"), "body");
	assert_string_equal(str(last, "time"), "2026-12-03T13:14:31.123Z");
	assert_int_equal(num(json_object_get(last, "status"), "primary"), 200);
	/* endpoints without a difference have no example */
	assert_true(json_is_null(json_object_get(endpoint(t, 2), "last")));

	t = target_named(j, "v3");
	assert_int_equal(num(t, "verdicts"), 2);
	assert_int_equal(num(endpoint(t, 0), "differences"), 1);
	assert_string_equal(str(json_object_get(endpoint(t, 0), "last"), "verdict"), "headers");
	json_decref(j);
	compare_report_free(r);
}

static void test_sorted_by_differences_and_cut_at_the_top(void **state)
{
	struct compare_report *r = compare_report_new(40);
	char path[32];
	json_t *j, *t;

	/* endpoint /e/aN gets N differences */
	for (int n = 1; n <= 30; n++) {
		snprintf(path, sizeof(path), "/e/a%c%c", 'a' + n / 10, 'a' + n % 10);
		for (int k = 0; k < n; k++)
			add(r, "v2", "GET", path, "x", VERDICT_BODY);
	}
	j = report(r);
	t = target_named(j, "v2");
	assert_int_equal(num(t, "endpoints_tracked"), 30);
	assert_int_equal(json_array_size(json_object_get(t, "endpoints")), COMPARE_REPORT_TOP);
	for (size_t i = 0; i < COMPARE_REPORT_TOP; i++)
		assert_int_equal(num(endpoint(t, i), "differences"), 30 - (long long)i);
	assert_string_equal(str(endpoint(t, 0), "endpoint"), "GET /e/ada");
	json_decref(j);
	compare_report_free(r);
}

static void test_full_table_evicts_the_least_different(void **state)
{
	struct compare_report *r = compare_report_new(3);
	json_t *j, *t;

	for (int k = 0; k < 5; k++)
		add(r, "v2", "GET", "/five", "x", VERDICT_STATUS);
	add(r, "v2", "GET", "/one", "x", VERDICT_STATUS);
	for (int k = 0; k < 3; k++)
		add(r, "v2", "GET", "/three", "x", VERDICT_STATUS);
	/* no room, and not a difference: counted in the totals only */
	add(r, "v2", "GET", "/matching", "x", VERDICT_MATCH);
	/* a difference: takes the place of /one */
	add(r, "v2", "GET", "/new", "x", VERDICT_HEADERS);
	j = report(r);
	t = target_named(j, "v2");
	assert_int_equal(num(t, "endpoints_tracked"), 3);
	assert_int_equal(num(t, "endpoints_evicted"), 1);
	assert_int_equal(num(t, "untracked"), 1);
	assert_int_equal(num(t, "verdicts"), 11);
	assert_int_equal(json_array_size(json_object_get(t, "endpoints")), 3);
	assert_string_equal(str(endpoint(t, 0), "endpoint"), "GET /five");
	assert_string_equal(str(endpoint(t, 1), "endpoint"), "GET /three");
	assert_string_equal(str(endpoint(t, 2), "endpoint"), "GET /new");
	json_decref(j);
	/* the newcomer is now the least different and goes next; among
	 * equals the least recently seen goes first */
	add(r, "v2", "GET", "/newer", "x", VERDICT_HEADERS);
	add(r, "v2", "GET", "/newest", "x", VERDICT_HEADERS);
	j = report(r);
	t = target_named(j, "v2");
	assert_int_equal(num(t, "endpoints_evicted"), 3);
	assert_string_equal(str(endpoint(t, 2), "endpoint"), "GET /newest");
	json_decref(j);
	compare_report_free(r);
}

static void test_example_is_bounded_and_shortened(void **state)
{
	struct compare_report *r = compare_report_new(4);
	struct planted p;
	struct verdict_record *rec;
	char long_path[1000], long_id[200];
	json_t *j, *last, *h;

	memset(long_path, 'p', sizeof(long_path));
	long_path[0] = '/';
	long_path[sizeof(long_path) - 1] = '\0';
	memset(long_id, 'i', sizeof(long_id));
	/* a 2-byte character straddling the cut */
	memcpy(long_id + 63, "\xc3\xa9", 2);
	long_id[sizeof(long_id) - 1] = '\0';
	rec = plant(&p, "v2", "GET", long_path, long_id, VERDICT_HEADERS);
	p.v.nheader_diffs = 5;
	p.v.header_diffs_more = 2;
	for (int i = 0; i < 5; i++) {
		snprintf(p.v.header_diffs[i].name, sizeof(p.v.header_diffs[i].name), "X-H%d", i);
		strcpy(p.v.header_diffs[i].a, "a");
		p.v.header_diffs[i].b_absent = 1;
	}
	p.v.body_as_json = 1;
	p.v.json.result = JSON_CMP_DIFFERENT;
	p.v.json.ndiffs = 1;
	strcpy(p.v.json.diffs[0].pointer, "/k");
	strcpy(p.v.json.diffs[0].a, "1");
	strcpy(p.v.json.diffs[0].b, "2");
	compare_report_add(r, rec);
	j = report(r);
	last = json_object_get(endpoint(target_named(j, "v2"), 0), "last");
	/* the id cut before the straddling character, then "..." */
	assert_int_equal(strlen(str(last, "id")), 63 + 3);
	assert_string_equal(str(last, "id") + 60, "iii...");
	assert_int_equal(strlen(str(last, "path")), 256 + 3);
	assert_int_equal(json_array_size(json_object_get(last, "headers")), 3);
	assert_int_equal(num(last, "headers_more"), 4);
	h = json_array_get(json_object_get(last, "headers"), 2);
	assert_string_equal(str(h, "name"), "X-H2");
	assert_string_equal(str(h, "primary"), "a");
	assert_true(json_is_null(json_object_get(h, "shadow")));
	assert_string_equal(str(json_array_get(json_object_get(last, "json"), 0), "pointer"),
			    "/k");
	assert_int_equal(num(last, "json_more"), 0);
	json_decref(j);
	compare_report_free(r);
}

static void test_empty_views_with_null_pointers(void **state)
{
	struct compare_report *r = compare_report_new(2);
	struct planted p;
	struct verdict_record *rec = plant(&p, "v2", "GET", "/", "x", VERDICT_STATUS);
	json_t *j, *e;

	rec->target = NULL;
	rec->method = rec->path = rec->id = (struct slice){ NULL, 0 };
	compare_report_add(r, rec);
	j = report(r);
	e = endpoint(target_named(j, ""), 0);
	assert_int_equal(num(e, "differences"), 1);
	assert_string_equal(str(json_object_get(e, "last"), "id"), "");
	json_decref(j);
	compare_report_free(r);
}

static void test_a_nul_in_the_path_keeps_endpoints_apart(void **state)
{
	struct compare_report *r = compare_report_new(4);
	struct planted p;
	json_t *j, *t;

	compare_report_add(r, plant(&p, "v2", "GET", "/a", "x", VERDICT_STATUS));
	p.rec.path = slice_make("/a\0b", 4);
	compare_report_add(r, &p.rec);
	j = report(r);
	t = target_named(j, "v2");
	assert_int_equal(num(t, "endpoints_tracked"), 2);
	assert_int_equal(json_string_length(json_object_get(endpoint(t, 0), "endpoint")), 8);
	assert_memory_equal(str(endpoint(t, 0), "endpoint"), "GET /a\0b", 8);
	json_decref(j);
	compare_report_free(r);
}

static void test_page_embeds_the_report_without_breaking_out(void **state)
{
	struct compare_report *r = compare_report_new(4);
	struct strbuf page = STRBUF_INIT_CHECKED;
	const char *start, *end;
	json_t *j;

	add(r, "</script><script>alert(1)</script>", "GET", "/a</script><b>&amp;\xe2\x80\xa8",
	    "<!--", VERDICT_STATUS);
	compare_report_html(r, &page);
	assert_false(page.failed);
	/* only the page's own two script elements end */
	{
		int ends = 0;

		for (const char *p = page.data; (p = strstr(p, "</script")); p++)
			ends++;
		assert_int_equal(ends, 2);
	}
	assert_null(strstr(page.data, "<!--"));
	assert_null(strstr(page.data, "<b>"));
	assert_null(strstr(page.data, "\xe2\x80\xa8"));
	/* what sits in the data element is the report, parsed back equal */
	start = strstr(page.data, "<script type=\"application/json\" id=\"data\">");
	assert_non_null(start);
	start = strchr(start, '>') + 1;
	end = strstr(start, "</script>");
	j = json_loadb(start, (size_t)(end - start), 0, NULL);
	assert_non_null(j);
	assert_string_equal(str(json_array_get(json_object_get(j, "targets"), 0), "name"),
			    "</script><script>alert(1)</script>");
	assert_string_equal(str(json_object_get(endpoint(json_array_get(json_object_get(j,
		"targets"), 0), 0), "last"), "path"), "/a</script><b>&amp;\xe2\x80\xa8");
	json_decref(j);
	/* self-contained: nothing loaded from elsewhere */
	assert_null(strstr(page.data, "src="));
	assert_null(strstr(page.data, "<link"));
	assert_null(strstr(page.data, "http://"));
	assert_null(strstr(page.data, "https://"));
	strbuf_free(&page);
	compare_report_free(r);
}

static void test_script_safe_strings(void **state)
{
	struct strbuf out = STRBUF_INIT;

	json_write_cstr(&out, "</script>&\xe2\x80\xa9", JSON_W_SCRIPT_SAFE);
	assert_string_equal(out.data, "\"\\u003c/script\\u003e\\u0026\\u2029\"");
	strbuf_reset(&out);
	json_write_cstr(&out, "</script>&", JSON_W_PLAIN);
	assert_string_equal(out.data, "\"</script>&\"");
	strbuf_free(&out);
}

static void test_out_of_memory_fails_the_page_not_the_report(void **state)
{
	struct compare_report *r = compare_report_new(4);
	struct strbuf out = STRBUF_INIT_CHECKED;
	json_t *j;

	alloc_fail_watch_this_thread();
	/* the new target's endpoint table cannot be had: counted, dropped */
	alloc_fail_after(1);
	add(r, "v2", "GET", "/a", "x", VERDICT_STATUS);
	assert_int_equal(alloc_fail_count(), 1);
	add(r, "v2", "GET", "/a", "x", VERDICT_STATUS);
	/* the rendering's buffer cannot grow: failed (the endpoint answers
	 * 503), and the lock is free again */
	alloc_fail_after(1);
	compare_report_json(r, &out);
	assert_true(out.failed);
	strbuf_free(&out);
	out = (struct strbuf)STRBUF_INIT_CHECKED;
	alloc_fail_after(1);
	compare_report_html(r, &out);
	assert_true(out.failed);
	strbuf_free(&out);
	alloc_fail_after(0);
	j = report(r);
	assert_int_equal(num(j, "targets_dropped"), 1);
	assert_int_equal(num(target_named(j, "v2"), "verdicts"), 1);
	json_decref(j);
	compare_report_free(r);
}

#define THREADS 4
#define PER_THREAD 20000

static void *adder(void *arg)
{
	struct compare_report *r = arg;
	char path[32];

	for (int i = 0; i < PER_THREAD; i++) {
		snprintf(path, sizeof(path), "/p%d", i % 80);
		add(r, "v2", "GET", path, "x", (enum verdict_result)(i % 6));
	}
	return NULL;
}

static void test_concurrent_adds_while_rendering(void **state)
{
	struct compare_report *r = compare_report_new(50);
	pthread_t th[THREADS];
	long long sum = 0;
	json_t *j, *t, *v;
	const char *k;

	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, adder, r), 0);
	for (int i = 0; i < 20; i++)
		json_decref(report(r));
	for (int i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	j = report(r);
	t = target_named(j, "v2");
	json_object_foreach(json_object_get(t, "totals"), k, v)
		sum += json_integer_value(v);
	assert_int_equal(sum, THREADS * PER_THREAD);
	assert_int_equal(num(t, "verdicts"), THREADS * PER_THREAD);
	assert_true(num(t, "endpoints_tracked") <= 50);
	json_decref(j);
	compare_report_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_report),
		cmocka_unit_test(test_totals_and_endpoints_by_normalised_path),
		cmocka_unit_test(test_sorted_by_differences_and_cut_at_the_top),
		cmocka_unit_test(test_full_table_evicts_the_least_different),
		cmocka_unit_test(test_example_is_bounded_and_shortened),
		cmocka_unit_test(test_empty_views_with_null_pointers),
		cmocka_unit_test(test_a_nul_in_the_path_keeps_endpoints_apart),
		cmocka_unit_test(test_page_embeds_the_report_without_breaking_out),
		cmocka_unit_test(test_script_safe_strings),
		cmocka_unit_test(test_out_of_memory_fails_the_page_not_the_report),
		cmocka_unit_test(test_concurrent_adds_while_rendering),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

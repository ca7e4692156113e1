/* Unit tests for src/diff_log.c: the exact line for each kind of
 * difference, escaping of wire bytes, bodies on and off, the per-target
 * rate limit under a driven clock, reopening after rotation, and write
 * failures. Every line is also parsed back with jansson. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "alloc_fail.h"
#include "diff_log.h"
#include "fake_clock.h"
#include "strbuf.h"

#define T0 UINT64_C(1796303671123) /* 2026-12-03T13:14:31.123Z */

static struct verdict v;
static struct verdict_answer primary, shadow;

static struct verdict_record record(enum verdict_result result, int sa, int sb)
{
	memset(&v, 0, sizeof(v));
	v.result = result;
	v.status_a = sa;
	v.status_b = sb;
	v.body_diff_offset = -1;
	primary = (struct verdict_answer){ .status = sa, .body = SLICE_LIT("{\"a\":1}") };
	shadow = (struct verdict_answer){ .status = sb, .body = SLICE_LIT("{\"a\":2}") };
	return (struct verdict_record){
		.time_ms = T0,
		.target = "v2",
		.method = SLICE_LIT("GET"),
		.path = SLICE_LIT("/users/42?x=1"),
		.id = SLICE_LIT("abc-1"),
		.verdict = &v,
		.primary = &primary,
		.shadow = &shadow,
	};
}

/* The formatted line, owned by the caller; checked as one valid JSON
 * object ending in exactly one newline. */
static char *line_of(const struct verdict_record *rec, bool bodies, size_t body_max)
{
	struct strbuf out = STRBUF_INIT_CHECKED;
	json_error_t err;
	json_t *j;

	diff_log_format(rec, bodies, body_max, &out);
	assert_false(out.failed);
	assert_true(out.len > 1);
	assert_int_equal(out.data[out.len - 1], '\n');
	assert_null(memchr(out.data, '\n', out.len - 1));
	j = json_loadb(out.data, out.len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &err);
	if (!j)
		fail_msg("not JSON (%s at %d): %s", err.text, err.position, out.data);
	assert_true(json_is_object(j));
	json_decref(j);
	return out.data;
}

static void assert_line(const struct verdict_record *rec, bool bodies, size_t body_max,
			const char *want)
{
	char *got = line_of(rec, bodies, body_max);

	assert_string_equal(got, want);
	free(got);
}

#define HEAD "{\"time\":\"2026-12-03T13:14:31.123Z\",\"target\":\"v2\",\"method\":\"GET\"," \
	     "\"path\":\"/users/42?x=1\",\"id\":\"abc-1\","

static void test_status_difference_line(void **state)
{
	struct verdict_record rec = record(VERDICT_STATUS, 200, 503);

	assert_line(&rec, false, 0,
		    HEAD "\"verdict\":\"status\",\"status\":{\"primary\":200,\"shadow\":503}}\n");
}

static void test_header_differences_with_both_values_and_absent_as_null(void **state)
{
	struct verdict_record rec = record(VERDICT_HEADERS, 200, 200);

	v.nheader_diffs = 2;
	v.header_diffs_more = 3;
	strcpy(v.header_diffs[0].name, "Cache-Control");
	strcpy(v.header_diffs[0].a, "max-age=60");
	strcpy(v.header_diffs[0].b, "no-store");
	strcpy(v.header_diffs[1].name, "X-Feature");
	strcpy(v.header_diffs[1].b, "on");
	v.header_diffs[1].a_absent = 1;
	assert_line(&rec, false, 0,
		    HEAD "\"verdict\":\"headers\",\"status\":{\"primary\":200,\"shadow\":200},"
			 "\"headers\":[{\"name\":\"Cache-Control\",\"primary\":\"max-age=60\","
			 "\"shadow\":\"no-store\"},{\"name\":\"X-Feature\",\"primary\":null,"
			 "\"shadow\":\"on\"}],\"headers_more\":3}\n");
}

static void test_json_differences_with_pointers_and_more(void **state)
{
	struct verdict_record rec = record(VERDICT_BODY, 200, 200);

	v.body_as_json = 1;
	v.json.result = JSON_CMP_DIFFERENT;
	v.json.ndiffs = 2;
	v.json.more = 7;
	strcpy(v.json.diffs[0].pointer, "/user/name");
	strcpy(v.json.diffs[0].a, "\"Ann\"");
	strcpy(v.json.diffs[0].b, "\"Bob\"");
	strcpy(v.json.diffs[1].pointer, "/items/3");
	strcpy(v.json.diffs[1].a, "{\"id\":3}");
	v.json.diffs[1].b_absent = 1;
	assert_line(&rec, false, 0,
		    HEAD "\"verdict\":\"body\",\"status\":{\"primary\":200,\"shadow\":200},"
			 "\"json\":[{\"pointer\":\"/user/name\",\"primary\":\"\\\"Ann\\\"\","
			 "\"shadow\":\"\\\"Bob\\\"\"},{\"pointer\":\"/items/3\","
			 "\"primary\":\"{\\\"id\\\":3}\",\"shadow\":null}],\"json_more\":7}\n");
}

static void test_byte_difference_gives_the_offset(void **state)
{
	struct verdict_record rec = record(VERDICT_BODY, 200, 200);

	v.body_diff_offset = 4096;
	rec.has_latency_delta = true;
	rec.latency_delta_us = -1500;
	assert_line(&rec, false, 0,
		    HEAD "\"verdict\":\"body\",\"status\":{\"primary\":200,\"shadow\":200},"
			 "\"body_offset\":4096,\"latency_delta_us\":-1500}\n");
}

static void test_bodies_only_when_asked_and_cut_to_body_max(void **state)
{
	struct verdict_record rec = record(VERDICT_BODY, 200, 200);

	v.body_diff_offset = 5;
	/* off: no body bytes at all, whatever body_max says */
	assert_line(&rec, false, 100,
		    HEAD "\"verdict\":\"body\",\"status\":{\"primary\":200,\"shadow\":200},"
			 "\"body_offset\":5}\n");
	/* on: cut to 4 bytes, lengths say how much there was */
	shadow.body_state = VERDICT_BODY_OVER_CAP;
	shadow.body_total = 1000000;
	assert_line(&rec, true, 4,
		    HEAD "\"verdict\":\"body\",\"status\":{\"primary\":200,\"shadow\":200},"
			 "\"body_offset\":5,\"bodies\":{\"primary\":\"{\\\"a\\\"\","
			 "\"primary_bytes\":7,\"shadow\":\"{\\\"a\\\"\",\"shadow_bytes\":1000000}}\n");
}

static void test_binary_bodies_stay_valid_json(void **state)
{
	static const char bin[] = "\x00\xff\xfe\x1b[0m\xc3\xa9\xe2\x82"; /* cut euro sign */
	struct verdict_record rec = record(VERDICT_BODY, 200, 200);

	v.body_diff_offset = 0;
	primary.body = slice_make(bin, sizeof(bin) - 1);
	shadow.body = slice_make("\xe2\x82\xac\xe2\x82\xac", 6);
	/* primary whole; shadow cut at 4 bytes: the second euro sign is
	 * dropped whole rather than leaving a broken sequence */
	assert_line(&rec, true, 64,
		    HEAD "\"verdict\":\"body\",\"status\":{\"primary\":200,\"shadow\":200},"
			 "\"body_offset\":0,\"bodies\":{\"primary\":\"\\u0000\\ufffd\\ufffd"
			 "\\u001b[0m\xc3\xa9\\ufffd\\ufffd\",\"primary_bytes\":11,"
			 "\"shadow\":\"\xe2\x82\xac\xe2\x82\xac\",\"shadow_bytes\":6}}\n");
	assert_line(&rec, true, 4,
		    HEAD "\"verdict\":\"body\",\"status\":{\"primary\":200,\"shadow\":200},"
			 "\"body_offset\":0,\"bodies\":{\"primary\":\"\\u0000\\ufffd\\ufffd"
			 "\\u001b\",\"primary_bytes\":11,"
			 "\"shadow\":\"\xe2\x82\xac\",\"shadow_bytes\":6}}\n");
}

static void test_wire_bytes_are_escaped(void **state)
{
	/* quotes, backslash, newline, DEL, a lone continuation byte, an
	 * overlong slash, a UTF-16 surrogate, a 4-byte sequence beyond
	 * U+10FFFF, then valid 2-, 3- and 4-byte characters */
	static const char id[] = "a\"b\\c\nd\x7f\x80\xc0\xaf\xed\xa0\x80\xf4\x90\x80\x80"
				 "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80";
	struct verdict_record rec = record(VERDICT_STATUS, 200, 500);
	char *got;

	rec.id = slice_make(id, sizeof(id) - 1);
	rec.method = slice_make("G\x00T", 3);
	rec.path = SLICE_LIT("/</script>&\t");
	rec.target = "t\x01";
	got = line_of(&rec, false, 0);
	assert_string_equal(
		got,
		"{\"time\":\"2026-12-03T13:14:31.123Z\",\"target\":\"t\\u0001\","
		"\"method\":\"G\\u0000T\",\"path\":\"/</script>&\\t\","
		"\"id\":\"a\\\"b\\\\c\\nd\\u007f\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd"
		"\\ufffd\\ufffd\\ufffd\\ufffd\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\","
		"\"verdict\":\"status\",\"status\":{\"primary\":200,\"shadow\":500}}\n");
	free(got);
}

static void test_parsed_back_values_match_the_record(void **state)
{
	struct verdict_record rec = record(VERDICT_HEADERS, 201, 202);
	struct strbuf out = STRBUF_INIT;
	json_t *j, *h;

	v.nheader_diffs = 1;
	strcpy(v.header_diffs[0].name, "Vary");
	strcpy(v.header_diffs[0].a, "Accept");
	strcpy(v.header_diffs[0].b, "Accept, \xc3\xa9");
	rec.id = SLICE_LIT("\xff");
	diff_log_format(&rec, false, 0, &out);
	j = json_loads(out.data, 0, NULL);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "verdict")), "headers");
	assert_string_equal(json_string_value(json_object_get(j, "id")), "\xef\xbf\xbd");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "status"),
							    "shadow")), 202);
	h = json_array_get(json_object_get(j, "headers"), 0);
	assert_string_equal(json_string_value(json_object_get(h, "shadow")), "Accept, \xc3\xa9");
	json_decref(j);
	strbuf_free(&out);
}

static void test_empty_views_with_null_pointers(void **state)
{
	struct verdict_record rec = record(VERDICT_BODY, 200, 200);

	rec.target = NULL;
	rec.method = rec.path = rec.id = (struct slice){ NULL, 0 };
	primary.body = shadow.body = (struct slice){ NULL, 0 };
	assert_line(&rec, true, 16,
		    "{\"time\":\"2026-12-03T13:14:31.123Z\",\"target\":\"\",\"method\":\"\","
		    "\"path\":\"\",\"id\":\"\",\"verdict\":\"body\",\"status\":{\"primary\":200,"
		    "\"shadow\":200},\"bodies\":{\"primary\":\"\",\"primary_bytes\":0,"
		    "\"shadow\":\"\",\"shadow_bytes\":0}}\n");
}

/* ---- the file ---- */

static char dir[] = "/tmp/test_diff_log.XXXXXX";
static char path[256];

static int setup(void **state)
{
	strcpy(dir, "/tmp/test_diff_log.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/diff.jsonl", dir);
	fake_clock_start(1000000);
	return 0;
}

static int teardown(void **state)
{
	char old[300];

	fake_clock_stop();
	snprintf(old, sizeof(old), "%s.1", path);
	unlink(path);
	unlink(old);
	rmdir(dir);
	return 0;
}

/* Lines in the file at p (0 when it does not exist). */
static int lines_in(const char *p)
{
	FILE *f = fopen(p, "r");
	int n = 0, c;

	if (!f)
		return 0;
	while ((c = fgetc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

/* Line i (from 0) of the file, newline included; the caller frees it. */
static char *nth_line(const char *p, int i)
{
	FILE *f = fopen(p, "r");
	char *line = NULL;
	size_t cap = 0;

	assert_non_null(f);
	for (int k = 0; k <= i; k++)
		assert_true(getline(&line, &cap, f) > 0);
	fclose(f);
	return line;
}

static struct diff_log *open_log(const char *spec, double rate, unsigned burst)
{
	struct diff_log_settings s = { .path = spec, .lines_per_s = rate, .burst = burst };
	char err[256] = "";
	struct diff_log *dl = diff_log_open(&s, err, sizeof(err));

	if (!dl)
		fail_msg("diff_log_open(%s): %s", spec, err);
	return dl;
}

static void test_only_differences_are_written(void **state)
{
	static const enum verdict_result skipped[] = { VERDICT_MATCH, VERDICT_SHADOW_ERROR,
						       VERDICT_NOT_COMPARABLE };
	struct diff_log *dl = open_log(path, 0, 0);
	struct verdict_record rec;

	for (size_t i = 0; i < 3; i++) {
		rec = record(skipped[i], 200, 200);
		assert_int_equal(diff_log_write(dl, &rec), 0);
	}
	rec = record(VERDICT_STATUS, 200, 500);
	assert_int_equal(diff_log_write(dl, &rec), 1);
	rec = record(VERDICT_HEADERS, 200, 200);
	assert_int_equal(diff_log_write(dl, &rec), 1);
	rec = record(VERDICT_BODY, 200, 200);
	assert_int_equal(diff_log_write(dl, &rec), 1);
	assert_int_equal(diff_log_written(dl), 3);
	assert_int_equal(diff_log_suppressed(dl), 0);
	diff_log_close(dl);
	assert_int_equal(lines_in(path), 3);
}

static void test_rate_limit_per_target_with_a_driven_clock(void **state)
{
	struct diff_log *dl = open_log(path, 2.0, 3); /* 2 lines/s, bursts of 3 */
	struct verdict_record rec = record(VERDICT_STATUS, 200, 500);
	struct verdict_record other = rec;

	other.target = "v3";
	for (int i = 0; i < 3; i++)
		assert_int_equal(diff_log_write(dl, &rec), 1);
	assert_int_equal(diff_log_write(dl, &rec), -1);
	assert_int_equal(diff_log_write(dl, &rec), -1);
	/* another target has its own bucket */
	assert_int_equal(diff_log_write(dl, &other), 1);
	/* 499 ms give 0.998 tokens: still nothing; 1 ms more gives one */
	fake_clock_advance(499);
	assert_int_equal(diff_log_write(dl, &rec), -1);
	fake_clock_advance(1);
	assert_int_equal(diff_log_write(dl, &rec), 1);
	assert_int_equal(diff_log_write(dl, &rec), -1);
	/* a long pause refills to the burst, not beyond */
	fake_clock_advance(60000);
	for (int i = 0; i < 3; i++)
		assert_int_equal(diff_log_write(dl, &rec), 1);
	assert_int_equal(diff_log_write(dl, &rec), -1);
	assert_int_equal(diff_log_written(dl), 8);
	assert_int_equal(diff_log_suppressed(dl), 5);
	diff_log_close(dl);
	assert_int_equal(lines_in(path), 8);
	/* the target's first line after a gap says how many it lost */
	for (int i = 0; i < 8; i++) {
		char *l = nth_line(path, i);

		if (i == 4)
			assert_non_null(strstr(l, ",\"suppressed_before\":3}\n"));
		else if (i == 5)
			assert_non_null(strstr(l, ",\"suppressed_before\":1}\n"));
		else
			assert_null(strstr(l, "suppressed_before"));
		free(l);
	}
}

static void test_many_targets_stay_within_the_bucket_table(void **state)
{
	struct diff_log *dl = open_log(path, 1.0, 1);
	struct verdict_record rec = record(VERDICT_STATUS, 200, 500);
	char name[32];

	/* 200 targets, more than the table holds: each newcomer gets a
	 * recycled bucket, full; the first target's was recycled, so it
	 * writes again (the bound costs precision, never a lost count) */
	for (int i = 0; i < 200; i++) {
		snprintf(name, sizeof(name), "t%d", i);
		rec.target = name;
		fake_clock_advance(1);
		assert_int_equal(diff_log_write(dl, &rec), 1);
		assert_int_equal(diff_log_write(dl, &rec), -1);
	}
	rec.target = "t0";
	assert_int_equal(diff_log_write(dl, &rec), 1);
	/* the most recent one is still tracked and empty */
	rec.target = "t199";
	assert_int_equal(diff_log_write(dl, &rec), -1);
	assert_int_equal(diff_log_written(dl), 201);
	assert_int_equal(diff_log_suppressed(dl), 201);
	diff_log_close(dl);
}

static void test_reopen_after_rename_writes_a_new_file(void **state)
{
	struct diff_log *dl = open_log(path, 0, 0);
	struct verdict_record rec = record(VERDICT_STATUS, 200, 500);
	char old[300];

	snprintf(old, sizeof(old), "%s.1", path);
	assert_int_equal(diff_log_write(dl, &rec), 1);
	assert_int_equal(rename(path, old), 0);
	/* still the old file until reopened */
	assert_int_equal(diff_log_write(dl, &rec), 1);
	assert_int_equal(diff_log_reopen(dl), 0);
	assert_int_equal(diff_log_write(dl, &rec), 1);
	assert_int_equal(diff_log_write(dl, &rec), 1);
	diff_log_close(dl);
	assert_int_equal(lines_in(old), 2);
	assert_int_equal(lines_in(path), 2);
}

static void test_reopen_failure_keeps_the_old_file(void **state)
{
	struct diff_log *dl = open_log(path, 0, 0);
	struct verdict_record rec = record(VERDICT_STATUS, 200, 500);
	char old[300];

	snprintf(old, sizeof(old), "%s.1", path);
	assert_int_equal(rename(path, old), 0);
	/* a directory where the file was: open fails, even for root */
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(diff_log_reopen(dl), -EISDIR);
	assert_int_equal(rmdir(path), 0);
	assert_int_equal(diff_log_write(dl, &rec), 1);
	diff_log_close(dl);
	assert_int_equal(lines_in(old), 1);
	assert_int_equal(lines_in(path), 0);
}

static void test_mode_prefix_appends_or_truncates(void **state)
{
	struct verdict_record rec = record(VERDICT_STATUS, 200, 500);
	char spec[300];
	struct diff_log *dl;

	dl = open_log(path, 0, 0);
	assert_int_equal(diff_log_write(dl, &rec), 1);
	diff_log_close(dl);
	snprintf(spec, sizeof(spec), "a:%s", path);
	dl = open_log(spec, 0, 0);
	assert_int_equal(diff_log_write(dl, &rec), 1);
	diff_log_close(dl);
	assert_int_equal(lines_in(path), 2);
	snprintf(spec, sizeof(spec), "W:%s", path);
	dl = open_log(spec, 0, 0);
	assert_int_equal(lines_in(path), 0);
	assert_int_equal(diff_log_write(dl, &rec), 1);
	/* a reopen after rotation appends, whatever the first open did */
	assert_int_equal(diff_log_reopen(dl), 0);
	assert_int_equal(diff_log_write(dl, &rec), 1);
	diff_log_close(dl);
	assert_int_equal(lines_in(path), 2);
}

static void test_open_errors_name_the_path(void **state)
{
	struct diff_log_settings s = { 0 };
	char err[256];

	s.path = "x:/tmp/f";
	assert_null(diff_log_open(&s, err, sizeof(err)));
	assert_non_null(strstr(err, "x:/tmp/f"));
	s.path = "a:";
	assert_null(diff_log_open(&s, err, sizeof(err)));
	s.path = "/nonexistent-dir/diff.jsonl";
	assert_null(diff_log_open(&s, err, sizeof(err)));
	assert_non_null(strstr(err, "/nonexistent-dir/diff.jsonl"));
	assert_non_null(strstr(err, "No such file"));
}

static void test_write_failure_is_counted(void **state)
{
	struct diff_log *dl;
	struct verdict_record rec = record(VERDICT_STATUS, 200, 500);

	/* every Linux has it: each write fails with ENOSPC */
	dl = open_log("/dev/full", 0, 0);
	assert_int_equal(diff_log_write(dl, &rec), -2);
	assert_int_equal(diff_log_write_errors(dl), 1);
	assert_int_equal(diff_log_written(dl), 0);
	diff_log_close(dl);
}

static void test_out_of_memory_loses_the_line_counted(void **state)
{
	struct diff_log *dl = open_log(path, 0, 0);
	struct verdict_record rec = record(VERDICT_STATUS, 200, 500);

	alloc_fail_watch_this_thread();
	alloc_fail_after(1); /* the line buffer's first growth */
	assert_int_equal(diff_log_write(dl, &rec), -2);
	assert_int_equal(alloc_fail_count(), 1);
	assert_int_equal(diff_log_write_errors(dl), 1);
	/* the next line is whole again */
	assert_int_equal(diff_log_write(dl, &rec), 1);
	diff_log_close(dl);
	assert_int_equal(lines_in(path), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_difference_line),
		cmocka_unit_test(test_header_differences_with_both_values_and_absent_as_null),
		cmocka_unit_test(test_json_differences_with_pointers_and_more),
		cmocka_unit_test(test_byte_difference_gives_the_offset),
		cmocka_unit_test(test_bodies_only_when_asked_and_cut_to_body_max),
		cmocka_unit_test(test_binary_bodies_stay_valid_json),
		cmocka_unit_test(test_wire_bytes_are_escaped),
		cmocka_unit_test(test_parsed_back_values_match_the_record),
		cmocka_unit_test(test_empty_views_with_null_pointers),
		cmocka_unit_test_setup_teardown(test_only_differences_are_written, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rate_limit_per_target_with_a_driven_clock,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_targets_stay_within_the_bucket_table,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_reopen_after_rename_writes_a_new_file, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_reopen_failure_keeps_the_old_file, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_mode_prefix_appends_or_truncates, setup,
						teardown),
		cmocka_unit_test(test_open_errors_name_the_path),
		cmocka_unit_test(test_write_failure_is_counted),
		cmocka_unit_test_setup_teardown(test_out_of_memory_loses_the_line_counted, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

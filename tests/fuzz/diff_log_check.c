/* fuzz_diff_log's checks (see diff_log_check.h). An input is 4 option
 * bytes, then fields split at NUL bytes, in this order: target, method,
 * path, id, header name, primary value, shadow value, JSON pointer,
 * primary value, shadow value, primary body, shadow body (missing fields
 * are empty). Option bytes: the verdict result (mod 6) and flags
 * (bodies, absent sides, JSON or bytes), the body cut, the statuses. */
#include "diff_log_check.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compare_report.h"
#include "diff_log.h"
#include "json_write.h"
#include "strbuf.h"

#define N_FIELDS 12

static bool valid_utf8_without_nul(struct slice s)
{
	const unsigned char *p = (const unsigned char *)s.ptr;
	size_t i = 0;

	while (i < s.len) {
		size_t n = json_utf8_seq_len(p + i, s.len - i);

		if (!n || !p[i])
			return false;
		i += n;
	}
	return true;
}

/* Copies a field into a verdict's fixed text (NUL-terminated, cut). */
static void fixed(char *dst, size_t cap, struct slice s)
{
	size_t n = s.len < cap - 1 ? s.len : cap - 1;

	memcpy(dst, s.ptr, n);
	dst[n] = '\0';
}

/* The one JSON value of text[0, len), or NULL. */
static json_t *parse(const char *text, size_t len)
{
	return json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, NULL);
}

static const char *check_line(const struct verdict_record *rec, bool bodies, size_t body_max,
			      struct slice target)
{
	struct strbuf out = STRBUF_INIT;
	const char *fail = NULL;
	json_t *j;

	diff_log_format(rec, bodies, body_max, &out);
	if (!out.len || out.data[out.len - 1] != '\n')
		fail = "the line does not end with a newline";
	else if (memchr(out.data, '\n', out.len - 1))
		fail = "a newline inside the line";
	else if (!(j = parse(out.data, out.len)))
		fail = "the line is not valid JSON";
	else {
		if (!json_is_object(j))
			fail = "the line is not an object";
		/* text that was valid UTF-8 comes back exactly */
		else if (valid_utf8_without_nul(target) &&
			 strcmp(json_string_value(json_object_get(j, "target")), rec->target))
			fail = "the target did not come back as it was";
		json_decref(j);
	}
	strbuf_free(&out);
	return fail;
}

static const char *check_report(const struct verdict_record *rec)
{
	struct compare_report *r = compare_report_new(2);
	struct strbuf out = STRBUF_INIT;
	const char *fail = NULL, *p;
	json_t *j;
	int ends = 0;

	compare_report_add(r, rec);
	compare_report_add(r, rec);
	compare_report_json(r, &out);
	if (!(j = parse(out.data, out.len)))
		fail = "/compare is not valid JSON";
	json_decref(j);
	strbuf_reset(&out);
	compare_report_html(r, &out);
	for (p = out.data; (p = strstr(p, "</script")); p++)
		ends++;
	if (!fail && ends != 2)
		fail = "a </script> got into the page";
	if (!fail && strstr(out.data, "<!--"))
		fail = "a <!-- got into the page";
	strbuf_free(&out);
	compare_report_free(r);
	return fail;
}

const char *diff_log_check(const uint8_t *data, size_t len)
{
	static char target[256];
	struct slice f[N_FIELDS];
	struct verdict v;
	struct verdict_answer a, b;
	struct verdict_record rec;
	uint8_t opt[4] = { 0 };
	size_t n = 0, start;
	const char *fail;

	for (size_t i = 0; i < N_FIELDS; i++)
		f[i] = SLICE_LIT("");
	for (size_t i = 0; i < 4 && i < len; i++)
		opt[i] = data[i];
	start = len < 4 ? len : 4;
	for (size_t i = start; i <= len && n < N_FIELDS; i++) {
		if (i == len || data[i] == 0) {
			f[n++] = slice_make(data + start, i - start);
			start = i + 1;
		}
	}
	/* the last field takes the rest, NULs included */
	if (n == N_FIELDS && start <= len)
		f[N_FIELDS - 1].len = len - (size_t)(f[N_FIELDS - 1].ptr - (const char *)data);

	memset(&v, 0, sizeof(v));
	v.result = (enum verdict_result)(opt[0] % 6);
	v.status_a = 100 + opt[2] * 2;
	v.status_b = opt[3] & 1 ? v.status_a : 100 + opt[3] * 2;
	v.body_diff_offset = opt[0] & 0x40 ? (int64_t)opt[1] * 1000 : -1;
	if (f[4].len || f[5].len || f[6].len) {
		v.nheader_diffs = 1;
		v.header_diffs_more = opt[1] & 3;
		fixed(v.header_diffs[0].name, sizeof(v.header_diffs[0].name), f[4]);
		fixed(v.header_diffs[0].a, sizeof(v.header_diffs[0].a), f[5]);
		fixed(v.header_diffs[0].b, sizeof(v.header_diffs[0].b), f[6]);
		v.header_diffs[0].a_absent = (opt[0] & 0x08) != 0;
	}
	if (opt[0] & 0x80) {
		v.body_as_json = 1;
		v.json.result = JSON_CMP_DIFFERENT;
		v.json.ndiffs = 1;
		v.json.more = opt[1] >> 4;
		fixed(v.json.diffs[0].pointer, sizeof(v.json.diffs[0].pointer), f[7]);
		fixed(v.json.diffs[0].a, sizeof(v.json.diffs[0].a), f[8]);
		fixed(v.json.diffs[0].b, sizeof(v.json.diffs[0].b), f[9]);
		v.json.diffs[0].b_absent = (opt[0] & 0x10) != 0;
	}
	a = (struct verdict_answer){ .status = v.status_a, .body = f[10] };
	b = (struct verdict_answer){ .status = v.status_b, .body = f[11] };
	fixed(target, sizeof(target), f[0]);
	rec = (struct verdict_record){
		.time_ms = (uint64_t)opt[1] << 36,
		.target = target,
		.method = f[1],
		.path = f[2],
		.id = f[3],
		.verdict = &v,
		.primary = opt[0] & 0x20 ? NULL : &a,
		.shadow = &b,
		.has_latency_delta = (opt[2] & 1) != 0,
		.latency_delta_us = -(int64_t)opt[3] * 1000,
	};
	fail = check_line(&rec, (opt[0] & 0x20) || (opt[1] & 0x04), opt[1] & 0x08 ? opt[2] : 65536,
			  slice_make(target, strlen(target)));
	if (!fail)
		fail = check_report(&rec);
	return fail;
}

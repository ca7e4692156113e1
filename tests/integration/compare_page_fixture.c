/* Prints /compare.html (no argument or "html") or /compare ("json") for a
 * known report, for the headless-browser test (test_compare_page.py):
 * the page it loads must show exactly these targets, counts and
 * endpoints. "json2" prints the report after more verdicts, for the
 * page's Refresh button. */
#include <stdio.h>
#include <string.h>

#include "compare_report.h"

#define T0 UINT64_C(1796303671123) /* 2026-12-03T13:14:31.123Z */

static void add(struct compare_report *r, const char *target, const char *method,
		const char *path, const char *id, enum verdict_result result, int times)
{
	struct verdict v;
	struct verdict_record rec = {
		.time_ms = T0,
		.target = target,
		.method = slice_from_cstr(method),
		.path = slice_from_cstr(path),
		.id = slice_from_cstr(id),
		.verdict = &v,
	};

	memset(&v, 0, sizeof(v));
	v.result = result;
	v.status_a = 200;
	v.status_b = result == VERDICT_STATUS ? 503 : result == VERDICT_SHADOW_ERROR ? 0 : 200;
	v.body_diff_offset = -1;
	if (result == VERDICT_BODY) {
		v.body_as_json = 1;
		v.json.result = JSON_CMP_DIFFERENT;
		v.json.ndiffs = 1;
		strcpy(v.json.diffs[0].pointer, "/total");
		strcpy(v.json.diffs[0].a, "10");
		strcpy(v.json.diffs[0].b, "11");
	}
	if (result == VERDICT_HEADERS) {
		v.nheader_diffs = 1;
		strcpy(v.header_diffs[0].name, "Cache-Control");
		strcpy(v.header_diffs[0].a, "max-age=60");
		v.header_diffs[0].b_absent = 1;
	}
	for (int i = 0; i < times; i++)
		compare_report_add(r, &rec);
}

int main(int argc, char **argv)
{
	const char *what = argc > 1 ? argv[1] : "html";
	struct compare_report *r = compare_report_new(10);
	struct strbuf out = STRBUF_INIT;

	add(r, "v2", "GET", "/users/42", "req-1", VERDICT_STATUS, 2);
	add(r, "v2", "GET", "/users/7f3a9c01", "req-3", VERDICT_STATUS, 1);
	add(r, "v2", "GET", "/users/9", "req-4", VERDICT_MATCH, 5);
	add(r, "v2", "POST", "/orders?x=1", "req-5", VERDICT_BODY, 2);
	add(r, "v2", "GET", "/health", "req-6", VERDICT_MATCH, 10);
	add(r, "v2", "GET", "/slow", "req-7", VERDICT_SHADOW_ERROR, 1);
	add(r, "canary-\xc3\xa9", "GET", "/a</script><script>document.body.dataset.pwned=1</script>",
	    "<!--", VERDICT_HEADERS, 1);
	if (!strcmp(what, "json2"))
		add(r, "v2", "GET", "/users/1", "req-8", VERDICT_STATUS, 4);
	if (!strcmp(what, "html"))
		compare_report_html(r, &out);
	else
		compare_report_json(r, &out);
	fwrite(out.data, 1, out.len, stdout);
	strbuf_free(&out);
	compare_report_free(r);
	return 0;
}

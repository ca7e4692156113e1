/* Properties of json_compare on any input: a document equals itself (or is
 * invalid), the comparison is symmetric in its outcome, and every report
 * stays within its bounds (counts, NUL-terminated shortened values). */
#include "json_check.h"

#include <string.h>

#include "json_compare.h"

static const char *report_ok(const struct json_cmp_report *r)
{
	if (r->ndiffs > JSON_CMP_MAX_DIFFS)
		return "more differences kept than the limit";
	if (r->result == JSON_CMP_DIFFERENT && r->ndiffs + r->more == 0)
		return "different without a difference";
	if (r->result != JSON_CMP_DIFFERENT && (r->ndiffs || r->more))
		return "differences reported on an equal or invalid result";
	for (unsigned i = 0; i < r->ndiffs; i++) {
		const struct json_cmp_diff *d = &r->diffs[i];

		if (memchr(d->pointer, 0, sizeof(d->pointer)) == NULL ||
		    memchr(d->a, 0, sizeof(d->a)) == NULL || memchr(d->b, 0, sizeof(d->b)) == NULL)
			return "a reported string is not terminated";
		if (d->a_absent && d->b_absent)
			return "a difference absent on both sides";
	}
	return NULL;
}

const char *json_check(const uint8_t *data, size_t len)
{
	static const char *const patterns[] = { "/meta/requested_at", "/items/*/updated_at",
						"/*", "/a~1b/~0" };
	static struct json_cmp_report r1, r2;
	const uint8_t *nul = memchr(data, 0, len);
	struct slice a = slice_make(data, nul ? (size_t)(nul - data) : len);
	struct slice b = nul ? slice_make(nul + 1, len - a.len - 1) : a;
	char why[128];
	struct json_ignore *ig = json_ignore_compile(patterns, 4, why, sizeof(why));
	const char *fail = NULL;

	if (!ig)
		return "ignore patterns did not compile";
	if (json_compare(a, a, NULL, 8, &r1) == JSON_CMP_DIFFERENT)
		fail = "a document differs from itself";
	else if ((fail = report_ok(&r1)) == NULL) {
		json_compare(a, b, ig, 8, &r1);
		json_compare(b, a, ig, 8, &r2);
		if ((r1.result == JSON_CMP_EQUAL) != (r2.result == JSON_CMP_EQUAL) ||
		    (r1.result == JSON_CMP_INVALID) != (r2.result == JSON_CMP_INVALID))
			fail = "comparison is not symmetric";
		else if ((fail = report_ok(&r1)) == NULL)
			fail = report_ok(&r2);
	}
	json_ignore_free(ig);
	return fail;
}

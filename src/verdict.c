/* Verdict rules for shadow verdicts: which headers count, when bodies are
 * JSON, and what a body beyond the capture cap can still tell. */
#include "verdict.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Headers that differ on every answer without saying anything about the
 * application: dates and caches, the server's name, cookies, and the ids
 * that tracing systems stamp on each answer (W3C Trace Context, B3, AWS,
 * the common X-Request-ID family). Hop-by-hop headers (RFC 9110 7.6.1)
 * describe one connection, not the answer. */
static const char *const ignored_by_default[] = {
	"date", "server", "age", "expires", "set-cookie", "etag", "last-modified",
	"x-request-id", "x-correlation-id", "request-id", "x-amzn-requestid",
	"x-amzn-trace-id", "x-amz-request-id", "x-trace-id", "traceparent", "tracestate",
	"x-b3-traceid", "x-b3-spanid", "x-b3-parentspanid", "x-b3-sampled", "b3",
	/* hop-by-hop */
	"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer",
	"upgrade", "proxy-authenticate", "proxy-authorization",
};

static int name_is(struct slice name, const char *lower)
{
	return name.len == strlen(lower) && strncasecmp(name.ptr, lower, name.len) == 0;
}

int verdict_header_ignored(struct slice name, const struct verdict_rules *rules)
{
	for (size_t i = 0; i < sizeof(ignored_by_default) / sizeof(ignored_by_default[0]); i++)
		if (name_is(name, ignored_by_default[i]))
			return 1;
	/* never a header difference: below the body level the length of a
	 * body that may rightly differ (a timestamp) is noise; at it, the
	 * bodies decide, and two equal JSON documents spaced differently
	 * (or one chunked, one not) have different lengths */
	if (name_is(name, "content-length"))
		return 1;
	for (size_t i = 0; i < rules->nignore_headers; i++)
		if (slice_case_eq(name, rules->ignore_headers[i]))
			return 1;
	return 0;
}

static struct slice trim(struct slice s)
{
	while (s.len && (s.ptr[0] == ' ' || s.ptr[0] == '\t'))
		s.ptr++, s.len--;
	while (s.len && (s.ptr[s.len - 1] == ' ' || s.ptr[s.len - 1] == '\t'))
		s.len--;
	return s;
}

int verdict_is_json_type(struct slice ct)
{
	const char *semi = memchr(ct.ptr, ';', ct.len);
	struct slice mt = trim(slice_make(ct.ptr, semi ? (size_t)(semi - ct.ptr) : ct.len));
	const char *slash = memchr(mt.ptr, '/', mt.len);

	if (!slash)
		return 0;
	if (name_is(mt, "application/json"))
		return 1;
	/* any structured syntax suffix +json (RFC 6839): application/problem+json */
	return mt.len >= 5 && strncasecmp(mt.ptr + mt.len - 5, "+json", 5) == 0 &&
	       (size_t)(slash - mt.ptr) + 1 < mt.len - 5;
}

static const struct http_header *find_header(const struct verdict_answer *x, struct slice name,
					     size_t from)
{
	for (size_t i = from; i < x->nheaders; i++)
		if (slice_case_eq(x->headers[i].name, name))
			return &x->headers[i];
	return NULL;
}

/* Same values for `name`, in the same order (a repeated header is a list). */
static int values_equal(const struct verdict_answer *a, const struct verdict_answer *b,
			struct slice name)
{
	size_t i = 0, j = 0;

	for (;;) {
		const struct http_header *ha = find_header(a, name, i);
		const struct http_header *hb = find_header(b, name, j);

		if (!ha || !hb)
			return !ha && !hb;
		if (ha->value.len != hb->value.len ||
		    memcmp(ha->value.ptr, hb->value.ptr, ha->value.len) != 0)
			return 0;
		i = (size_t)(ha - a->headers) + 1;
		j = (size_t)(hb - b->headers) + 1;
	}
}

/* The values of `name`, ", "-joined and shortened; 0 when absent. */
static int render_values(const struct verdict_answer *x, struct slice name, char *out)
{
	char buf[JSON_CMP_VALUE_MAX * 2];
	size_t n = 0;
	int found = 0;

	for (size_t i = 0; i < x->nheaders && n < sizeof(buf); i++) {
		struct slice v = x->headers[i].value;

		if (!slice_case_eq(x->headers[i].name, name))
			continue;
		if (found++ && n + 2 <= sizeof(buf)) {
			memcpy(buf + n, ", ", 2);
			n += 2;
		}
		if (v.len > sizeof(buf) - n)
			v.len = sizeof(buf) - n;
		memcpy(buf + n, v.ptr, v.len);
		n += v.len;
	}
	json_cmp_shorten(slice_make(buf, n), out, JSON_CMP_VALUE_MAX);
	return found;
}

static void header_diff(struct verdict *out, const struct verdict_answer *a,
			const struct verdict_answer *b, struct slice name, unsigned max)
{
	struct verdict_header_diff *d;

	if (out->nheader_diffs >= max) {
		out->header_diffs_more++;
		return;
	}
	d = &out->header_diffs[out->nheader_diffs++];
	json_cmp_shorten(name, d->name, JSON_CMP_VALUE_MAX);
	d->a_absent = !render_values(a, name, d->a);
	d->b_absent = !render_values(b, name, d->b);
}

static int compare_headers(const struct verdict_answer *a, const struct verdict_answer *b,
			   const struct verdict_rules *rules, struct verdict *out)
{
	unsigned max = rules->max_diffs < VERDICT_MAX_HEADER_DIFFS ? rules->max_diffs
								   : VERDICT_MAX_HEADER_DIFFS;

	/* each name once: at its first occurrence in a, then names only in b */
	for (size_t i = 0; i < a->nheaders; i++) {
		struct slice name = a->headers[i].name;

		if (find_header(a, name, 0) != &a->headers[i] || verdict_header_ignored(name, rules))
			continue;
		if (!values_equal(a, b, name))
			header_diff(out, a, b, name, max);
	}
	for (size_t i = 0; i < b->nheaders; i++) {
		struct slice name = b->headers[i].name;

		if (find_header(b, name, 0) != &b->headers[i] || find_header(a, name, 0) ||
		    verdict_header_ignored(name, rules))
			continue;
		header_diff(out, a, b, name, max);
	}
	return out->nheader_diffs || out->header_diffs_more;
}

static int is_json_answer(const struct verdict_answer *x)
{
	const struct http_header *ct = find_header(x, SLICE_LIT("content-type"), 0);

	return ct && verdict_is_json_type(ct->value);
}

static int64_t first_difference(struct slice a, struct slice b)
{
	size_t n = a.len < b.len ? a.len : b.len;

	for (size_t i = 0; i < n; i++)
		if (a.ptr[i] != b.ptr[i])
			return (int64_t)i;
	return a.len == b.len ? -1 : (int64_t)n;
}

/* 1 when the bodies differ; out->body_* say where. */
static int compare_bodies(const struct verdict_answer *a, const struct verdict_answer *b,
			  const struct verdict_rules *rules, struct verdict *out)
{
	int over_a = a->body_state == VERDICT_BODY_OVER_CAP;
	int over_b = b->body_state == VERDICT_BODY_OVER_CAP;

	if (over_a || over_b) {
		uint64_t len_a = over_a ? a->body_total : a->body.len;
		uint64_t len_b = over_b ? b->body_total : b->body.len;
		int64_t off = first_difference(a->body, b->body);

		/* the captured prefixes may show where; a prefix ending early
		 * is not a difference */
		if (off >= 0 && ((size_t)off >= a->body.len || (size_t)off >= b->body.len))
			off = -1;
		out->body_diff_offset = off;
		if (off >= 0 || len_a != len_b)
			return 1;
		/* same length, both over the cap: the digests decide */
		return a->body_digest != b->body_digest;
	}
	/* identical bytes are identical JSON too, whatever is ignored: the
	 * common agreeing answer costs a memcmp, not two parses (~2M
	 * instructions for a 4 KiB pair, doc/verdicts-json-library.md) */
	if (a->body.len == b->body.len &&
	    (a->body.len == 0 || memcmp(a->body.ptr, b->body.ptr, a->body.len) == 0))
		return 0;
	if (is_json_answer(a) && is_json_answer(b)) {
		enum json_cmp_result r =
			json_compare(a->body, b->body, rules->ignore_json, rules->max_diffs,
				     &out->json);

		if (r != JSON_CMP_INVALID) {
			out->body_as_json = 1;
			return r == JSON_CMP_DIFFERENT;
		}
		/* not JSON after all: bytes decide */
	}
	out->body_diff_offset = first_difference(a->body, b->body);
	return out->body_diff_offset >= 0;
}

enum verdict_result verdict_compare(const struct verdict_answer *a,
				    const struct verdict_answer *b,
				    const struct verdict_rules *rules, struct verdict *out)
{
	int status_differs, headers_differ = 0, body_differs = 0;

	memset(out, 0, sizeof(*out));
	out->body_diff_offset = -1;
	out->status_a = a->status;
	out->status_b = b->status;
	if (b->status == 0)
		return out->result = VERDICT_SHADOW_ERROR;
	if (a->status == 0 || rules->level == VERDICT_LEVEL_OFF || a->lost || b->lost)
		return out->result = VERDICT_NOT_COMPARABLE;
	if (rules->level >= VERDICT_LEVEL_BODY &&
	    (a->body_state == VERDICT_BODY_PARTIAL || b->body_state == VERDICT_BODY_PARTIAL))
		return out->result = VERDICT_NOT_COMPARABLE;

	status_differs = a->status != b->status;
	if (rules->level >= VERDICT_LEVEL_HEADERS)
		headers_differ = compare_headers(a, b, rules, out);
	if (rules->level >= VERDICT_LEVEL_BODY)
		body_differs = compare_bodies(a, b, rules, out);

	if (status_differs)
		out->result = VERDICT_STATUS;
	else if (headers_differ)
		out->result = VERDICT_HEADERS;
	else if (body_differs)
		out->result = VERDICT_BODY;
	else
		out->result = VERDICT_MATCH;
	return out->result;
}

const char *verdict_result_name(enum verdict_result r)
{
	static const char *const names[] = { "match",	 "status",	 "headers",
					     "body",	 "shadow_error", "not_comparable" };

	return (unsigned)r < sizeof(names) / sizeof(names[0]) ? names[r] : "unknown";
}

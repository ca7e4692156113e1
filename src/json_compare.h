/* Compares two JSON documents as values: key order, whitespace and number
 * spelling (1.0 vs 1, 1e2 vs 100) do not matter; fields named by JSON
 * Pointer patterns (RFC 6901, `*` = any key or array element) are skipped.
 * Pure: no I/O, bounded depth, work linear in the inputs. */
#ifndef SPOA_MIRROR_JSON_COMPARE_H
#define SPOA_MIRROR_JSON_COMPARE_H

#include <stddef.h>

#include "slice.h"

#define JSON_CMP_MAX_DIFFS 16	  /* differences kept per comparison, at most */
#define JSON_CMP_VALUE_MAX 64	  /* bytes of each shortened value, valid UTF-8 */
#define JSON_CMP_POINTER_MAX 256  /* bytes of a reported pointer */
#define JSON_CMP_DEPTH_MAX 64	  /* nesting levels compared, at most */

enum json_cmp_result {
	JSON_CMP_EQUAL,
	JSON_CMP_DIFFERENT,
	/* either side is not JSON (syntax, duplicate key, integer beyond
	 * 64 bits, lone surrogate) or nests deeper than allowed: the caller
	 * compares bytes instead */
	JSON_CMP_INVALID,
};

struct json_cmp_diff {
	char pointer[JSON_CMP_POINTER_MAX + 1]; /* "" = the whole document */
	char a[JSON_CMP_VALUE_MAX + 1];		/* compact JSON, "" when absent */
	char b[JSON_CMP_VALUE_MAX + 1];
	int a_absent, b_absent;
};

struct json_cmp_report {
	enum json_cmp_result result;
	unsigned ndiffs;      /* kept in diffs[] */
	unsigned more;	      /* differences found beyond max_diffs */
	const char *invalid;  /* JSON_CMP_INVALID: "primary", "shadow" or "depth" */
	struct json_cmp_diff diffs[JSON_CMP_MAX_DIFFS];
};

/* Compiled ignore patterns. One allocation; free with json_ignore_free. */
struct json_ignore;

/* Whether one pattern is well formed (starts with '/', every '~' followed
 * by 0 or 1): 0, or -1 with the reason in why. Allocates nothing. */
int json_pointer_check(const char *pattern, char *why, size_t why_len);

/* Compiles `n` patterns such as "/meta/requested_at" or "/items/ * /updated_at"
 * (without the spaces; a segment that is exactly `*` matches any key or
 * index). Returns NULL and a reason in `why` on a malformed pattern. */
struct json_ignore *json_ignore_compile(const char *const *patterns, size_t n, char *why,
					size_t why_len);
void json_ignore_free(struct json_ignore *ig);

/* Compares a (the primary's answer) with b (the shadow's). `ig` may be NULL;
 * `max_diffs` is clamped to JSON_CMP_MAX_DIFFS. Fills `out` and returns its
 * result. */
enum json_cmp_result json_compare(struct slice a, struct slice b, const struct json_ignore *ig,
				  unsigned max_diffs, struct json_cmp_report *out);

/* Cuts `in` to at most `cap` bytes (cap >= 4) without splitting a UTF-8
 * sequence, ending with "..." when cut; writes a NUL-terminated copy. */
void json_cmp_shorten(struct slice in, char *out, size_t cap);

#endif

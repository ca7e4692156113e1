/* The verdict for one (request, target): does the shadow's answer agree
 * with the primary's at the target's compare level? Pure: the caller hands
 * both answers as views and gets the verdict with its details. */
#ifndef SPOA_MIRROR_VERDICT_H
#define SPOA_MIRROR_VERDICT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "headers.h"
#include "json_compare.h"
#include "slice.h"

/* Each level includes the previous ones. */
enum verdict_level { VERDICT_LEVEL_OFF, VERDICT_LEVEL_STATUS, VERDICT_LEVEL_HEADERS,
		     VERDICT_LEVEL_BODY };

enum verdict_result {
	VERDICT_MATCH,
	VERDICT_STATUS,
	VERDICT_HEADERS,
	VERDICT_BODY,
	VERDICT_SHADOW_ERROR,	/* the shadow gave no answer (connect, timeout) */
	VERDICT_NOT_COMPARABLE, /* a side missing, partial, or compare = off */
};

enum verdict_body_state {
	VERDICT_BODY_COMPLETE, /* body holds the whole answer */
	VERDICT_BODY_PARTIAL,  /* shorter than Content-Length: not comparable */
	VERDICT_BODY_OVER_CAP, /* body holds the first bytes; total and digest cover all */
};

/* Digest of bodies beyond the cap: 64-bit FNV-1a, fed as the bytes arrive.
 * Not cryptographic: a collision can only turn one "body" verdict into a
 * "match", and it needs no new dependency (doc/verdicts-json-library.md). */
#define VERDICT_DIGEST_INIT 0xcbf29ce484222325ull
static inline uint64_t verdict_digest_update(uint64_t h, const void *buf, size_t len)
{
	const unsigned char *p = buf;

	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

struct verdict_answer {
	int status; /* 0: no answer (for the shadow: shadow_error) */
	const struct http_header *headers;
	size_t nheaders;
	struct slice body;
	enum verdict_body_state body_state;
	uint64_t body_total;  /* OVER_CAP: the whole body's length */
	uint64_t body_digest; /* OVER_CAP: digest of the whole body */
	bool lost; /* part of the head was not kept (over its cap, no memory,
		    * capture budget): not comparable at any level */
};

struct verdict_rules {
	enum verdict_level level;
	const struct slice *ignore_headers; /* compare-ignore-headers, beside the defaults */
	size_t nignore_headers;
	const struct json_ignore *ignore_json; /* compare-ignore-json, may be NULL */
	unsigned max_diffs;		       /* header and JSON differences kept */
};

#define VERDICT_MAX_HEADER_DIFFS 16

struct verdict_header_diff {
	char name[JSON_CMP_VALUE_MAX + 1];
	char a[JSON_CMP_VALUE_MAX + 1]; /* the primary's value(s), ", "-joined */
	char b[JSON_CMP_VALUE_MAX + 1];
	int a_absent, b_absent;
};

struct verdict {
	enum verdict_result result;
	int status_a, status_b;
	unsigned nheader_diffs, header_diffs_more;
	struct verdict_header_diff header_diffs[VERDICT_MAX_HEADER_DIFFS];
	int body_as_json;	  /* JSON compared (else bytes or digests) */
	int64_t body_diff_offset; /* bytes: first differing offset, -1 if none/unknown */
	struct json_cmp_report json;
};

/* Decides the verdict of shadow answer b against primary answer a. */
enum verdict_result verdict_compare(const struct verdict_answer *a,
				    const struct verdict_answer *b,
				    const struct verdict_rules *rules, struct verdict *out);

/* Whether a header name is left out of comparison at this level by the
 * defaults (volatile, request-id and hop-by-hop headers; Content-Length,
 * whose bodies decide) or the target's list. */
int verdict_header_ignored(struct slice name, const struct verdict_rules *rules);

/* application/json or any type ending in +json, parameters ignored. */
int verdict_is_json_type(struct slice content_type);

const char *verdict_result_name(enum verdict_result r);

#endif

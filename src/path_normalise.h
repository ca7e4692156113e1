/* "GET /users/{id}" from "GET /users/42?x=1": requests grouped by endpoint
 * for /compare, with the ids that make every path unique replaced. */
#ifndef SPOA_MIRROR_PATH_NORMALISE_H
#define SPOA_MIRROR_PATH_NORMALISE_H

#include <stddef.h>

#include "slice.h"

#define PATH_NORM_MAX 128 /* bytes of a normalised "METHOD /path", NUL excluded */

/* A path segment becomes {id} when it is:
 *  - all decimal digits (42, 0012);
 *  - a UUID: 8-4-4-4-12 hex digits, any case;
 *  - hex of 8 or more digits with at least one decimal digit (7f3a9c01,
 *    not "deadbeef", which reads as a word);
 *  - a token of 16 or more of [A-Za-z0-9_-=.] (base64, base64url, JWT-ish)
 *    with at least two digits and one letter ("v2-api-documentation" has
 *    only one digit and stays).
 * Other segments stay as they are. The query (from '?') and fragment
 * (from '#') are dropped, an empty path becomes "/". `out` gets at most
 * PATH_NORM_MAX bytes plus NUL; a longer result ends with "..." (never
 * inside a UTF-8 sequence). Returns the length written. */
size_t path_normalise(struct slice method, struct slice path, char out[PATH_NORM_MAX + 1]);

/* Whether one segment (no '/') is an id by the rules above. */
int path_segment_is_id(struct slice seg);

#endif

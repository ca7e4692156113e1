/* GET /compare.html's page around the report's JSON: markup, style and the
 * script that draws it, all inline (no external assets, no fetch needed). */
#ifndef SPOA_MIRROR_COMPARE_PAGE_H
#define SPOA_MIRROR_COMPARE_PAGE_H

#include <stddef.h>

#include "strbuf.h"

/* Appends the page embedding `json`, which must be /compare's JSON written
 * with JSON_W_SCRIPT_SAFE (no '<' anywhere, so it cannot end its <script>
 * element). The script builds the page with textContent only: no report
 * text is ever parsed as HTML. When it has drawn everything it sets
 * data-ready="1" on <body> (data-error="..." if it failed), which the
 * headless browser test waits for. */
void compare_page_write(struct strbuf *out, const char *json, size_t json_len);

#endif

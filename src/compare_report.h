/* What /compare and /compare.html show: per target, totals by verdict and
 * the endpoints (method + normalised path) with the most differences, each
 * with its last differing example. Bounded: at most max_endpoints per
 * target are tracked (the least different is evicted when a new one comes).
 * Fed by the verdict thread, read by the main thread (metrics listener):
 * one mutex, held for a counter bump or one rendering. */
#ifndef SPOA_MIRROR_COMPARE_REPORT_H
#define SPOA_MIRROR_COMPARE_REPORT_H

#include <stddef.h>

#include "strbuf.h"
#include "verdict_record.h"

#define COMPARE_REPORT_DEFAULT_ENDPOINTS 50 /* per target */
#define COMPARE_REPORT_TOP 20		    /* endpoints shown per target */

struct compare_report;

struct compare_report *compare_report_new(size_t max_endpoints);
void compare_report_free(struct compare_report *r);

/* Counts the record (every verdict, match included) and keeps it as its
 * endpoint's last example when it is a difference. */
void compare_report_add(struct compare_report *r, const struct verdict_record *rec);

/* GET /compare: {"targets":[{"name":..,"totals":{"match":N,..},
 * "endpoints":[{"endpoint":"GET /users/{id}","differences":N,
 * "by_result":{..},"last":{..}}]}]}. Checked strbuf: on failure the
 * caller answers 503. */
void compare_report_json(struct compare_report *r, struct strbuf *out);

/* GET /compare.html: one self-contained page (no external assets) with the
 * same content. */
void compare_report_html(struct compare_report *r, struct strbuf *out);

#endif

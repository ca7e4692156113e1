/* The diff log: JSON Lines, one object per request whose shadow answered
 * differently (verdicts status, headers, body; match and the rest are not
 * written). Rate-limited per target, suppressed lines counted; reopened by
 * path on SIGHUP like the agent's log. Written by the verdict thread only;
 * diff_log_suppressed() may be read from any thread. */
#ifndef SPOA_MIRROR_DIFF_LOG_H
#define SPOA_MIRROR_DIFF_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "verdict_record.h"

struct diff_log_settings {
	const char *path;      /* [MODE:]FILE as for -l; copied */
	bool bodies;           /* diff-log-bodies: both bodies, shortened */
	double lines_per_s;    /* per target; 0 = unlimited */
	unsigned burst;        /* token bucket depth per target */
	size_t body_max;       /* bytes of each body written when bodies is on */
};

struct diff_log;

/* NULL with a one-line reason naming the path in err. */
struct diff_log *diff_log_open(const struct diff_log_settings *s, char *err, size_t errlen);
/* Writes the record's line (one write(2)) unless its verdict is not a
 * difference or the target's rate is spent (then counted). Returns 1
 * written, 0 not a difference, -1 suppressed, -2 write failed (counted). */
int diff_log_write(struct diff_log *dl, const struct verdict_record *rec);
/* Reopens by path (logrotate); 0 or -errno, the old file kept on error.
 * Any thread (the SIGHUP handler's): the new file takes the old one's
 * descriptor number in one dup3, so a line being written lands whole in
 * one file or the other. */
int diff_log_reopen(struct diff_log *dl);
uint64_t diff_log_suppressed(const struct diff_log *dl);
uint64_t diff_log_written(const struct diff_log *dl);
/* Lines lost to a failed or short write(2), or to memory (any thread). */
uint64_t diff_log_write_errors(const struct diff_log *dl);
void diff_log_close(struct diff_log *dl);

/* The line itself, for tests and the fuzz target: appends the JSON object
 * and "\n" to out. Valid UTF-8 JSON whatever bytes the record holds: wire
 * bytes that are not UTF-8 become \ufffd, control characters are escaped
 * (json_write.h). Fields, in this order:
 *   time ("2026-12-03T12:54:31.123Z"), target, method, path, id, verdict,
 *   status {primary, shadow},
 *   headers [{name, primary, shadow}] and headers_more, when any differ,
 *   json [{pointer, primary, shadow}] and json_more, when the bodies were
 *     compared as JSON (values are the verdict's shortened compact JSON
 *     text, as strings; null when that side lacks the field),
 *   or body_offset (first differing byte) when compared as bytes,
 *   bodies {primary, primary_bytes, shadow, shadow_bytes} with `bodies`:
 *     at most body_max bytes of each, *_bytes the whole length,
 *   latency_delta_us when known.
 * diff_log_write() adds suppressed_before (lines of this target suppressed
 * since its previous line) when there were any. The file is created 0640:
 * with bodies, the lines hold answers. */
struct strbuf;
void diff_log_format(const struct verdict_record *rec, bool bodies, size_t body_max,
		     struct strbuf *out);

#endif

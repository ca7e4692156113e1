/* Values as operators type them: durations, sizes, counts, decimals,
 * booleans, port ranges, comma lists and "Name: value" header lists. The
 * command line and the INI file both go through these, so they accept
 * exactly the same text. Each parser takes a NUL-terminated string, writes
 * *out only on success, and on error returns -1 with a short reason in
 * `why` (the caller adds which option or key it was). */
#ifndef SPOA_MIRROR_UNITS_H
#define SPOA_MIRROR_UNITS_H

#include <stdbool.h>
#include <stddef.h>

#include "config_types.h"

/* Durations, the incumbent's convention: a decimal number of milliseconds,
 * or a number with a unit us, ms, s, m, h or d ("250", "1.5s", "2m").
 * A non-zero duration below 1 ms rounds up to 1 ms, so it never turns into
 * 0 ("unlimited" for some settings). At most UINT_MAX ms (about 49 days). */
int units_parse_time_ms(const char *s, unsigned *out_ms, char *why, size_t n);

/* Byte sizes: a number with an optional suffix k, m or g (powers of 1024,
 * any case, optionally followed by "b" or "ib": 512k, 4MiB, 1.5g).
 * Must lie in [min, max]. */
int units_parse_size(const char *s, size_t min, size_t max, size_t *out, char *why, size_t n);

/* Plain decimal integer (no sign, no suffix) in [min, max]. */
int units_parse_uint(const char *s, unsigned long long min, unsigned long long max,
		     unsigned long long *out, char *why, size_t n);

/* Decimal number, fraction allowed, no exponent, in [min, max]. With
 * allow_percent a trailing '%' is accepted (and ignored). */
int units_parse_decimal(const char *s, double min, double max, bool allow_percent, double *out,
			char *why, size_t n);

/* true/false, yes/no, on/off, 1/0 (any case). */
int units_parse_bool(const char *s, bool *out, char *why, size_t n);

/* "PORT" or "LOW-HIGH", each 1..65535, LOW <= HIGH. */
int units_parse_port_range(const char *s, unsigned *low, unsigned *high, char *why, size_t n);

/* Comma-separated list of non-empty items, each trimmed; appended to
 * (*items, *count), which the caller owns. Nothing is appended on error. */
int units_parse_list(const char *s, char ***items, size_t *count, char *why, size_t n);

/* One header "Name: value" (value may be empty and may hold commas). */
int units_parse_header(const char *s, struct header_pair *out, char *why, size_t n);

/* A header list "A: 1, B: 2", appended to (*pairs, *count). A comma ends an
 * entry only when what follows it looks like the next "Name:"; otherwise it
 * belongs to the value ("Accept: text/html, application/json" is one
 * header). "\," is always a literal comma and "\\" a backslash. Nothing is
 * appended on error. */
int units_parse_header_list(const char *s, struct header_pair **pairs, size_t *count, char *why,
			    size_t n);

/* Replaces control characters (line breaks included) with '?', so a
 * message quoting what the user typed stays one line. */
void units_one_line(char *s);

/* Formats ms the way units_parse_time_ms reads it back ("1500ms", "5s",
 * "2m", "0"), for --help and the configuration dump. */
void units_format_time_ms(unsigned ms, char *out, size_t n);
/* Formats a size exactly ("16m", "512k", "1000"). */
void units_format_size(size_t bytes, char *out, size_t n);

/* The shortest "digits[.digits]" (at most 15 decimals) that
 * units_parse_decimal reads back as exactly v. -1 when there is none: v
 * negative, not finite, too large, or between what 15 decimals reach
 * (0.5 + 2^-53); every value the parser produces has one. */
int units_format_decimal(double v, char *out, size_t n);

struct strbuf;

/* Appends items as "a, b, c", the form units_parse_list reads back. -1
 * (nothing appended) when an item cannot be written that way: empty,
 * with a comma, or with blanks at either end. */
int units_format_list(char *const *items, size_t count, struct strbuf *out);

/* Appends pairs as "A: 1, B: 2", the form units_parse_header_list reads
 * back: every ',' and '\' in a value escaped, so no value splits. */
void units_format_header_list(const struct header_pair *pairs, size_t count,
			      struct strbuf *out);

#endif

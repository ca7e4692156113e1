/* Parsers for operator-typed values (see units.h). No locale, no strtod:
 * "1.5" means the same whatever LC_NUMERIC says. */
#include "units.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http_token.h"
#include "refuse.h"
#include "slice.h"
#include "strbuf.h"
#include "xalloc.h"

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Reads "digits[.digits]" at *p into *v; advances *p. False when no digit
 * starts the number or it is absurdly long. */
static bool read_decimal(const char **p, double *v)
{
	const char *s = *p;
	char text[40]; /* 19 + '.' + 15 digits, checked below */
	int int_digits = 0, frac_digits = 0;
	size_t len;

	if (!is_digit(*s))
		return false;
	while (is_digit(*s)) {
		if (++int_digits > 19)
			return false;
		s++;
	}
	if (*s == '.') {
		s++;
		if (!is_digit(*s))
			return false;
		while (is_digit(*s)) {
			if (++frac_digits > 15)
				return false;
			s++;
		}
	}
	/* strtod rounds correctly (the agent keeps the C locale), so the
	 * shortest printf text of a value reads back as that value */
	len = (size_t)(s - *p);
	memcpy(text, *p, len);
	text[len] = '\0';
	*v = strtod(text, NULL);
	*p = s;
	return true;
}

/* Units of time, read by the parser and written by the formatter; the
 * formatter uses the whole units from "s" up. */
static const struct {
	const char *name;
	double ms;
} time_units[] = {
	{ "", 1 }, { "us", 0.001 }, { "ms", 1 }, { "s", 1000 },
	{ "m", 60000 }, { "h", 3600000 }, { "d", 86400000 },
};
#define N_TIME_UNITS (sizeof(time_units) / sizeof(time_units[0]))
#define FIRST_WHOLE_UNIT 3 /* "s" */

int units_parse_time_ms(const char *s, unsigned *out_ms, char *why, size_t n)
{
	const char *p = s;
	double v, ms = -1;

	if (!s || !read_decimal(&p, &v))
		return refuse(why, n, "not a duration: give milliseconds or a number with a unit "
				      "us, ms, s, m, h or d (e.g. 500ms, 5s)");
	for (size_t i = 0; i < N_TIME_UNITS; i++) {
		if (!strcmp(p, time_units[i].name)) {
			ms = v * time_units[i].ms;
			break;
		}
	}
	if (ms < 0)
		return refuse(why, n, "unknown time unit '%s' (use us, ms, s, m, h or d)", p);
	if (ms > (double)UINT_MAX)
		return refuse(why, n, "duration too long (at most %ums, about 49 days)", UINT_MAX);
	*out_ms = (unsigned)(ms + 0.5);
	if (*out_ms == 0 && ms > 0)
		*out_ms = 1;
	return 0;
}

int units_parse_size(const char *s, size_t min, size_t max, size_t *out, char *why, size_t n)
{
	static const char scale[] = "kKmMgG"; /* 1024, 1024^2, 1024^3 */
	const char *p = s, *u;
	double v, mult = 1, bytes;
	char minb[32], maxb[32];

	units_format_size(min, minb, sizeof(minb));
	units_format_size(max, maxb, sizeof(maxb));
	if (!s || !read_decimal(&p, &v))
		return refuse(why, n,
			      "not a size: give bytes or a number with k, m or g (e.g. 512k, 4m)");
	u = *p ? strchr(scale, *p) : NULL;
	if (u) {
		mult = (double)(1ull << (10 * ((u - scale) / 2 + 1)));
		p++;
	}
	if (*p && strcasecmp(p, "b") && (mult == 1 || strcasecmp(p, "ib")))
		return refuse(why, n, "unknown size suffix '%s' (use k, m or g)", p);
	bytes = v * mult;
	if (bytes < (double)min || bytes > (double)max)
		return refuse(why, n, "must be between %s and %s", minb, maxb);
	if ((double)(unsigned long long)bytes != bytes)
		return refuse(why, n, "not a whole number of bytes");
	*out = (size_t)bytes;
	return 0;
}

/* Reads the digits at *p into *v, ULLONG_MAX when they overflow; advances
 * *p. False when no digit starts the number. */
static bool read_uint(const char **p, unsigned long long *v)
{
	const char *s = *p;

	if (!is_digit(*s))
		return false;
	for (*v = 0; is_digit(*s); s++) {
		unsigned d = (unsigned)(*s - '0');

		*v = *v > (ULLONG_MAX - d) / 10 ? ULLONG_MAX : *v * 10 + d;
	}
	*p = s;
	return true;
}

int units_parse_uint(const char *s, unsigned long long min, unsigned long long max,
		     unsigned long long *out, char *why, size_t n)
{
	unsigned long long v;
	const char *p = s;

	if (!s || !read_uint(&p, &v) || *p || v < min || v > max)
		return refuse(why, n, "must be an integer between %llu and %llu", min, max);
	*out = v;
	return 0;
}

int units_parse_decimal(const char *s, double min, double max, bool allow_percent, double *out,
			char *why, size_t n)
{
	const char *p = s;
	double v;

	if (!s || !read_decimal(&p, &v) || (*p && !(allow_percent && !strcmp(p, "%"))) ||
	    v < min || v > max)
		return refuse(why, n, "must be a number between %g and %g", min, max);
	*out = v;
	return 0;
}

int units_parse_bool(const char *s, bool *out, char *why, size_t n)
{
	static const char *const yes[] = { "true", "yes", "on", "1" };
	static const char *const no[] = { "false", "no", "off", "0" };

	for (size_t i = 0; s && i < 4; i++) {
		if (!strcasecmp(s, yes[i])) {
			*out = true;
			return 0;
		}
		if (!strcasecmp(s, no[i])) {
			*out = false;
			return 0;
		}
	}
	return refuse(why, n, "must be true/false, yes/no, on/off or 1/0");
}

static bool read_port(const char **p, unsigned *port)
{
	unsigned long long v;

	if (!read_uint(p, &v) || v == 0 || v > 65535)
		return false;
	*port = (unsigned)v;
	return true;
}

int units_parse_port_range(const char *s, unsigned *low, unsigned *high, char *why, size_t n)
{
	const char *p = s;
	unsigned lo, hi;

	if (!s || !read_port(&p, &lo))
		goto bad;
	hi = lo;
	if (*p == '-') {
		p++;
		if (!read_port(&p, &hi))
			goto bad;
	}
	if (*p)
		goto bad;
	if (lo > hi)
		return refuse(why, n, "range %u-%u is empty: the low port comes first", lo, hi);
	*low = lo;
	*high = hi;
	return 0;
bad:
	return refuse(why, n, "must be a port or a range LOW-HIGH, ports 1..65535");
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

int units_parse_list(const char *s, char ***items, size_t *count, char *why, size_t n)
{
	struct slice rest = s ? slice_from_cstr(s) : slice_make("", 0);
	size_t first = *count;
	bool last = slice_trim(rest).len == 0;

	while (!last) {
		struct slice item;

		last = memchr(rest.ptr, ',', rest.len) == NULL;
		item = slice_trim(slice_split(&rest, ','));
		if (!item.len) { /* take back what this call appended */
			while (*count > first)
				xfree((*items)[--*count]);
			if (!first) { /* and the array it made */
				xfree(*items);
				*items = NULL;
			}
			return refuse(why, n, "empty item in the comma list");
		}
		*items = xrealloc(*items, (*count + 1) * sizeof(char *));
		(*items)[(*count)++] = xstrndup(item.ptr, item.len);
	}
	return 0;
}

/* Does "Name:" (a token then a colon) start at p, after optional blanks? */
static bool header_name_follows(const char *p)
{
	const char *q;

	while (is_space(*p))
		p++;
	for (q = p; http_tchar((unsigned char)*q); q++)
		;
	return q > p && *q == ':';
}

static char *trimmed_copy(const char *s, size_t len)
{
	while (len && is_space(*s)) {
		s++;
		len--;
	}
	while (len && is_space(s[len - 1]))
		len--;
	return xstrndup(s, len);
}

/* Reads one "Name: value" at *p. In a list, stops before a separating
 * comma and handles escapes; otherwise takes the rest of the string. */
static int read_header(const char **p, bool in_list, struct header_pair *out, char *why, size_t n)
{
	const char *s = *p, *name;
	size_t name_len, cap, len = 0;
	char *val;

	while (is_space(*s))
		s++;
	name = s;
	while (http_tchar((unsigned char)*s))
		s++;
	name_len = (size_t)(s - name);
	if (!name_len || *s != ':')
		return refuse(why, n, "expected 'Name: value' at '%.40s'", name);
	s++;
	cap = strlen(s) + 1;
	val = xmalloc(cap);
	for (; *s; s++) {
		if (((unsigned char)*s < 0x20 && *s != '\t') || *s == 0x7f) {
			xfree(val);
			return refuse(why, n, "header '%.*s' has a control character in its value",
				      (int)name_len, name);
		}
		if (in_list && *s == '\\' && (s[1] == ',' || s[1] == '\\')) {
			val[len++] = *++s;
			continue;
		}
		if (in_list && *s == ',' && header_name_follows(s + 1))
			break;
		val[len++] = *s;
	}
	out->name = xstrndup(name, name_len);
	out->value = trimmed_copy(val, len);
	xfree(val);
	*p = *s == ',' ? s + 1 : s;
	return 0;
}

int units_parse_header(const char *s, struct header_pair *out, char *why, size_t n)
{
	const char *p = s;

	if (!s)
		s = p = "";
	return read_header(&p, false, out, why, n);
}

int units_parse_header_list(const char *s, struct header_pair **pairs, size_t *count, char *why,
			    size_t n)
{
	struct header_pair *got = NULL;
	size_t ngot = 0;
	const char *p = s ? s : "";

	while (1) {
		const char *q = p;

		while (is_space(*q))
			q++;
		if (!*q)
			break;
		got = xrealloc(got, (ngot + 1) * sizeof(*got));
		if (read_header(&p, true, &got[ngot], why, n) < 0) {
			for (size_t i = 0; i < ngot; i++) {
				xfree(got[i].name);
				xfree(got[i].value);
			}
			xfree(got);
			return -1;
		}
		ngot++;
	}
	if (ngot) {
		*pairs = xrealloc(*pairs, (*count + ngot) * sizeof(**pairs));
		memcpy(*pairs + *count, got, ngot * sizeof(*got));
		*count += ngot;
	}
	xfree(got);
	return 0;
}

void units_one_line(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

void units_format_time_ms(unsigned ms, char *out, size_t n)
{
	/* the largest whole unit; zero in any unit, as the example file writes it */
	for (size_t i = N_TIME_UNITS - 1; ms && i >= FIRST_WHOLE_UNIT; i--) {
		unsigned unit = (unsigned)time_units[i].ms;

		if (ms % unit == 0) {
			snprintf(out, n, "%u%s", ms / unit, time_units[i].name);
			return;
		}
	}
	snprintf(out, n, ms ? "%ums" : "%u", ms);
}

void units_format_size(size_t bytes, char *out, size_t n)
{
	for (unsigned e = 3; bytes && e >= 1; e--) { /* g, m, k */
		size_t unit = (size_t)1 << (10 * e);

		if (bytes % unit == 0) {
			snprintf(out, n, "%zu%c", bytes / unit, "kmg"[e - 1]);
			return;
		}
	}
	snprintf(out, n, "%zu", bytes);
}

int units_format_decimal(double v, char *out, size_t n)
{
	char why[128], try[64];

	/* 1e18 keeps "%.15f" within read_decimal's 19 integer digits */
	if (!(v >= 0 && v < 1e18))
		return -1;
	for (int frac = 0; frac <= 15; frac++) {
		int len = snprintf(try, sizeof(try), "%.*f", frac, v);
		double back;

		if (len < 0 || (size_t)len >= sizeof(try))
			return -1;
		if (units_parse_decimal(try, 0, 1e18, false, &back, why, sizeof(why)) == 0 &&
		    back == v) {
			if ((size_t)len >= n)
				return -1;
			memcpy(out, try, (size_t)len + 1);
			return 0;
		}
	}
	return -1;
}

int units_format_list(char *const *items, size_t count, struct strbuf *out)
{
	for (size_t i = 0; i < count; i++) {
		struct slice item = slice_from_cstr(items[i]);

		if (!item.len || slice_trim(item).len != item.len ||
		    memchr(item.ptr, ',', item.len))
			return -1;
	}
	for (size_t i = 0; i < count; i++) {
		if (i)
			strbuf_puts(out, ", ");
		strbuf_puts(out, items[i]);
	}
	return 0;
}

void units_format_header_list(const struct header_pair *pairs, size_t count,
			      struct strbuf *out)
{
	for (size_t i = 0; i < count; i++) {
		if (i)
			strbuf_puts(out, ", ");
		strbuf_puts(out, pairs[i].name);
		strbuf_puts(out, ":");
		if (*pairs[i].value)
			strbuf_puts(out, " ");
		for (const char *p = pairs[i].value; *p; p++) {
			if (*p == ',' || *p == '\\')
				strbuf_puts(out, "\\");
			strbuf_append(out, p, 1);
		}
	}
}

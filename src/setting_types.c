/* The types of settings (see setting_types.h): for each, how its text is
 * read into its field, written back as the same text, freed and copied.
 * A field is found by its offset in the struct the row names. */
#include "setting_types.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http_token.h"
#include "listener.h"
#include "refuse.h"
#include "strbuf.h"
#include "units.h"
#include "xalloc.h"

#define AT(base, off, type) ((type *)(void *)((char *)(base) + (off)))
#define CAT(base, off, type) ((const type *)(const void *)((const char *)(base) + (off)))

/* Each type's parser stores v in its field of base (an agent_config or a
 * target_config); its printer appends the field as text the parser reads
 * back. */
#define PARSE(name) \
	static int name(const struct setting *s, void *base, const char *v, bool append, char *why, \
			size_t n)
#define PRINT(name) \
	static int name(const struct setting *s, const void *base, struct strbuf *out, char *why, \
			size_t n)
typedef int parse_fn(const struct setting *s, void *base, const char *v, bool append, char *why,
		     size_t n);
typedef int print_fn(const struct setting *s, const void *base, struct strbuf *out, char *why,
		     size_t n);

static void free_strv(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		xfree(v[i]);
	xfree(v);
}

/* ---- one parser and one printer per type ------------------------------ */

PARSE(parse_flag)
{
	*AT(base, s->off, bool) = true;
	return 0;
}

static void store_uint(void *p, size_t size, unsigned long long x)
{
	if (size == sizeof(uint16_t))
		*(uint16_t *)p = (uint16_t)x;
	else if (size == sizeof(uint32_t))
		*(uint32_t *)p = (uint32_t)x;
	else
		*(uint64_t *)p = (uint64_t)x;
}

static unsigned long long load_uint(const void *p, size_t size)
{
	if (size == sizeof(uint16_t))
		return *(const uint16_t *)p;
	if (size == sizeof(uint32_t))
		return *(const uint32_t *)p;
	return *(const uint64_t *)p;
}

PARSE(parse_uint)
{
	unsigned long long x;

	if (units_parse_uint(v, (unsigned long long)s->lo, (unsigned long long)s->hi, &x, why, n) < 0)
		return -1;
	store_uint(AT(base, s->off, char), s->size, x);
	return 0;
}

PRINT(print_uint)
{
	strbuf_printf(out, "%llu", load_uint(CAT(base, s->off, char), s->size));
	return 0;
}

PARSE(parse_mode)
{
	return listener_parse_mode(v, AT(base, s->off, unsigned), why, n);
}

PRINT(print_mode)
{
	strbuf_printf(out, "%04o", *CAT(base, s->off, unsigned));
	return 0;
}

PARSE(parse_ports)
{
	struct port_range *r = AT(base, s->off, struct port_range), got = { 0, 0 };

	if (*v && units_parse_port_range(v, &got.low, &got.high, why, n) < 0)
		return -1;
	*r = got;
	return 0;
}

PRINT(print_ports)
{
	const struct port_range *r = CAT(base, s->off, struct port_range);

	if (r->low && r->high != r->low)
		strbuf_printf(out, "%u-%u", r->low, r->high);
	else if (r->low)
		strbuf_printf(out, "%u", r->low);
	return 0;
}

PARSE(parse_size)
{
	size_t x;

	if (s->check && s->check(v, why, n) < 0)
		return -1;
	if (units_parse_size(v, (size_t)s->lo, (size_t)s->hi, &x, why, n) < 0)
		return -1;
	store_uint(AT(base, s->off, char), s->size, x);
	return 0;
}

PRINT(print_size)
{
	char buf[32];

	units_format_size((size_t)load_uint(CAT(base, s->off, char), s->size), buf, sizeof(buf));
	strbuf_puts(out, buf);
	return 0;
}

PARSE(parse_time)
{
	unsigned ms;

	if (units_parse_time_ms(v, &ms, why, n) < 0)
		return -1;
	if (ms < s->lo)
		return refuse(why, n, "must be longer than 0");
	*AT(base, s->off, unsigned) = ms;
	return 0;
}

PRINT(print_time)
{
	char buf[32];

	units_format_time_ms(*CAT(base, s->off, unsigned), buf, sizeof(buf));
	strbuf_puts(out, buf);
	return 0;
}

PARSE(parse_bool)
{
	return units_parse_bool(v, AT(base, s->off, bool), why, n);
}

PRINT(print_bool)
{
	strbuf_puts(out, *CAT(base, s->off, bool) ? "yes" : "no");
	return 0;
}

PARSE(parse_decimal)
{
	return units_parse_decimal(v, s->lo, s->hi, s->type == TYPE_PERCENT, AT(base, s->off, double),
				   why, n);
}

PRINT(print_decimal)
{
	double v = *CAT(base, s->off, double);
	char buf[64];

	if (units_format_decimal(v, buf, sizeof(buf)) < 0)
		return refuse(why, n, "%.17g has no exact decimal form this setting reads", v);
	strbuf_puts(out, buf);
	return 0;
}

PARSE(parse_string)
{
	char **slot = AT(base, s->off, char *);
	int keep = s->check ? s->check(v, why, n) : 0;

	if (keep < 0)
		return -1;
	xfree(*slot);
	*slot = keep == 0 && *v ? xstrdup(v) : NULL;
	return 0;
}

PRINT(print_string)
{
	const char *v = *CAT(base, s->off, char *);

	if (v)
		strbuf_puts(out, v);
	return 0;
}

PARSE(parse_list)
{
	char ***list = AT(base, s->off, char **);
	size_t *count = AT(base, s->count_off, size_t), first;

	if (!append) { /* the first value replaces the default list */
		free_strv(*list, *count);
		*list = NULL;
		*count = 0;
	}
	first = *count;
	if (units_parse_list(v, list, count, why, n) < 0)
		return -1;
	if (!*count && s->lo >= 1)
		return refuse(why, n, "needs at least one SPOE message name");
	for (size_t i = first; i < *count; i++)
		if (s->check((*list)[i], why, n) < 0)
			return -1;
	return 0;
}

PRINT(print_list)
{
	char *const *items = *(char **const *)(const void *)((const char *)base + s->off);

	if (units_format_list(items, *CAT(base, s->count_off, size_t), out) < 0)
		return refuse(why, n, "a list item is empty, has a comma or blanks at its ends");
	return 0;
}

PARSE(parse_headers)
{
	struct header_pair **list = AT(base, s->off, struct header_pair *);
	size_t *count = AT(base, s->count_off, size_t);

	if (!append) {
		header_pairs_free(*list, *count);
		*list = NULL;
		*count = 0;
	}
	return units_parse_header_list(v, list, count, why, n);
}

PRINT(print_headers)
{
	units_format_header_list(*CAT(base, s->off, struct header_pair *),
				 *CAT(base, s->count_off, size_t), out);
	return 0;
}

int setting_name_value(const struct setting_name *t, const char *name)
{
	for (; t->name; t++)
		if (!strcasecmp(t->name, name))
			return t->value;
	return -1;
}

/* Whether t[i] is the first name of its value (not an alias). */
static bool first_name(const struct setting_name *t, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (t[j].value == t[i].value)
			return false;
	return true;
}

/* "must be a, b or c" (aliases left out), after "unknown 'ITEM': " for
 * an item of a list. */
static int refuse_name(const struct setting_name *t, const char *item, char *why, size_t n)
{
	struct strbuf text = STRBUF_INIT;
	size_t count = 0, k = 0;

	for (size_t i = 0; t[i].name; i++)
		count += first_name(t, i);
	for (size_t i = 0; t[i].name; i++) {
		if (!first_name(t, i))
			continue;
		k++;
		strbuf_printf(&text, "%s%s", k == 1 ? "" : k == count ? " or " : ", ", t[i].name);
	}
	if (item)
		refuse(why, n, "unknown '%s': must be %s", item, text.data);
	else
		refuse(why, n, "must be %s", text.data);
	strbuf_free(&text);
	return -1;
}

PARSE(parse_enum)
{
	int value = setting_name_value(s->names, v);

	if (value < 0)
		return refuse_name(s->names, NULL, why, n);
	*AT(base, s->off, int) = value;
	return 0;
}

PRINT(print_enum)
{
	int value = *CAT(base, s->off, int);

	for (const struct setting_name *t = s->names; t->name; t++) {
		if (t->value == value) {
			strbuf_puts(out, t->name);
			return 0;
		}
	}
	return refuse(why, n, "no name for the value %d", value);
}

PARSE(parse_bits)
{
	unsigned *slot = AT(base, s->off, unsigned), bits = 0;
	char **items = NULL;
	size_t count = 0;
	int bit = 0;

	if (units_parse_list(v, &items, &count, why, n) < 0)
		return -1;
	for (size_t i = 0; i < count; i++) {
		bit = setting_name_value(s->names, items[i]);
		if (bit < 0) {
			refuse_name(s->names, items[i], why, n);
			break;
		}
		bits |= (unsigned)bit;
	}
	free_strv(items, count);
	if (bit < 0)
		return -1;
	*slot = append ? *slot | bits : bits;
	return 0;
}

PRINT(print_bits)
{
	unsigned bits = *CAT(base, s->off, unsigned), left = bits;
	const char *sep = "";

	for (const struct setting_name *t = s->names; t->name; t++) {
		if (bits & (unsigned)t->value) {
			strbuf_printf(out, "%s%s", sep, t->name);
			sep = ", ";
			left &= ~(unsigned)t->value;
		}
	}
	return left ? refuse(why, n, "no name for the bits 0x%x", left) : 0;
}

PARSE(parse_sample_key)
{
	struct target_config *t = base;
	enum sample_key kind;
	const char *name = NULL;

	if (!strcasecmp(v, "random")) {
		kind = SAMPLE_KEY_RANDOM;
	} else if (!strcasecmp(v, "client")) {
		kind = SAMPLE_KEY_CLIENT;
	} else if (!strncasecmp(v, "header:", 7) || !strncasecmp(v, "cookie:", 7)) {
		kind = tolower((unsigned char)v[0]) == 'h' ? SAMPLE_KEY_HEADER : SAMPLE_KEY_COOKIE;
		name = v + 7;
	} else {
		return refuse(why, n, "must be random, client, header:NAME or cookie:NAME");
	}
	if (name && !http_token(slice_from_cstr(name)))
		return refuse(why, n, "'%s' is not a valid %s name", name,
			      kind == SAMPLE_KEY_HEADER ? "header" : "cookie");
	t->sample_key = kind;
	xfree(t->sample_key_name);
	t->sample_key_name = name ? xstrdup(name) : NULL;
	return 0;
}

PRINT(print_sample_key)
{
	const struct target_config *t = base;
	const char *name = t->sample_key_name ? t->sample_key_name : "";

	switch (t->sample_key) {
	case SAMPLE_KEY_RANDOM:
		strbuf_puts(out, "random");
		return 0;
	case SAMPLE_KEY_CLIENT:
		strbuf_puts(out, "client");
		return 0;
	case SAMPLE_KEY_HEADER:
		strbuf_printf(out, "header:%s", name);
		return 0;
	case SAMPLE_KEY_COOKIE:
		strbuf_printf(out, "cookie:%s", name);
		return 0;
	}
	return refuse(why, n, "unknown sample key kind %d", (int)t->sample_key);
}

static const struct {
	parse_fn *parse;
	print_fn *print;
} types[] = {
	[TYPE_HEADING] = { NULL, NULL },
	[TYPE_CLI] = { NULL, NULL },
	[TYPE_FLAG] = { parse_flag, NULL },
	[TYPE_UINT] = { parse_uint, print_uint },
	[TYPE_SIZE] = { parse_size, print_size },
	[TYPE_TIME] = { parse_time, print_time },
	[TYPE_BOOL] = { parse_bool, print_bool },
	[TYPE_DECIMAL] = { parse_decimal, print_decimal },
	[TYPE_PERCENT] = { parse_decimal, print_decimal },
	[TYPE_STRING] = { parse_string, print_string },
	[TYPE_LIST] = { parse_list, print_list },
	[TYPE_HEADERS] = { parse_headers, print_headers },
	[TYPE_ENUM] = { parse_enum, print_enum },
	[TYPE_BITS] = { parse_bits, print_bits },
	[TYPE_SAMPLE_KEY] = { parse_sample_key, print_sample_key },
	[TYPE_MIRROR_URL] = { NULL, NULL }, /* config_apply */
	[TYPE_MODE] = { parse_mode, print_mode },
	[TYPE_PORTS] = { parse_ports, print_ports },
};

int setting_parse(const struct setting *s, void *base, const char *v, bool append, char *why,
		  size_t n)
{
	if (!types[s->type].parse)
		return refuse(why, n, "'%s' is not set this way", s->name ? s->name : "?");
	return types[s->type].parse(s, base, v ? v : "", append, why, n);
}

int setting_print(const struct setting *s, const void *base, struct strbuf *out, char *why,
		  size_t n)
{
	return types[s->type].print ? types[s->type].print(s, base, out, why, n) : 0;
}

bool setting_has_text(const struct setting *s)
{
	return types[s->type].print != NULL;
}

void setting_free(const struct setting *s, void *base)
{
	if (s->type == TYPE_STRING)
		xfree(*AT(base, s->off, char *));
	else if (s->type == TYPE_LIST)
		free_strv(*AT(base, s->off, char **), *AT(base, s->count_off, size_t));
	else if (s->type == TYPE_HEADERS)
		header_pairs_free(*AT(base, s->off, struct header_pair *),
				  *AT(base, s->count_off, size_t));
	else if (s->type == TYPE_SAMPLE_KEY)
		xfree(((struct target_config *)base)->sample_key_name);
}

void setting_copy(const struct setting *s, void *dst, const void *src)
{
	size_t count = s->count_off ? *CAT(src, s->count_off, size_t) : 0;

	if (s->type == TYPE_STRING) {
		*AT(dst, s->off, char *) = xstrdup_or_null(*CAT(src, s->off, char *));
	} else if (s->type == TYPE_LIST) {
		char *const *from = *(char **const *)(const void *)((const char *)src + s->off);
		char **to = count ? xcalloc(count, sizeof(char *)) : NULL;

		for (size_t k = 0; k < count; k++)
			to[k] = xstrdup(from[k]);
		*AT(dst, s->off, char **) = to;
	} else if (s->type == TYPE_HEADERS) {
		*AT(dst, s->off, struct header_pair *) =
			header_pairs_copy(*CAT(src, s->off, struct header_pair *), count);
	} else if (s->type == TYPE_SAMPLE_KEY) {
		((struct target_config *)dst)->sample_key_name =
			xstrdup_or_null(((const struct target_config *)src)->sample_key_name);
	}
}

void header_pairs_free(struct header_pair *pairs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		xfree(pairs[i].name);
		xfree(pairs[i].value);
	}
	xfree(pairs);
}

struct header_pair *header_pairs_copy(const struct header_pair *src, size_t n)
{
	struct header_pair *dst = n ? xcalloc(n, sizeof(*dst)) : NULL;

	for (size_t i = 0; i < n; i++) {
		dst[i].name = xstrdup(src[i].name);
		dst[i].value = xstrdup(src[i].value);
	}
	return dst;
}

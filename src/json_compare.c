/* JSON comparison for shadow verdicts on top of jansson (chosen by
 * measurement: doc/verdicts-json-library.md). jansson parses; the walk
 * below decides what "equal" means, because json_equal() tells 2 from 2.0. */
#include "json_compare.h"

#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One pattern segment, unescaped (~1 -> '/', ~0 -> '~'); any = the `*`. */
struct ig_seg {
	const char *name;
	size_t len;
	int any;
};

struct ig_pattern {
	size_t first; /* index into segs */
	size_t nsegs;
};

struct json_ignore {
	size_t npatterns;
	struct ig_pattern *patterns;
	struct ig_seg *segs;
	char *text; /* unescaped segment bytes */
};

void json_ignore_free(struct json_ignore *ig)
{
	free(ig);
}

/* Unescapes one RFC 6901 segment in place-order into dst; -1 on a '~'
 * followed by anything but 0 or 1. */
static int unescape_segment(const char *s, size_t len, char *dst, size_t *out_len)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		if (s[i] != '~') {
			dst[o++] = s[i];
			continue;
		}
		if (i + 1 >= len || (s[i + 1] != '0' && s[i + 1] != '1'))
			return -1;
		dst[o++] = s[i + 1] == '0' ? '~' : '/';
		i++;
	}
	*out_len = o;
	return 0;
}

int json_pointer_check(const char *pattern, char *why, size_t why_len)
{
	if (pattern[0] != '/') {
		snprintf(why, why_len, "JSON pointer '%s' does not start with '/'", pattern);
		return -1;
	}
	for (const char *c = pattern; *c; c++)
		if (c[0] == '~' && c[1] != '0' && c[1] != '1') {
			snprintf(why, why_len, "JSON pointer '%s': '~' must be followed by 0 or 1",
				 pattern);
			return -1;
		}
	return 0;
}

struct json_ignore *json_ignore_compile(const char *const *patterns, size_t n, char *why,
					size_t why_len)
{
	size_t nsegs = 0, text = 0;
	struct json_ignore *ig;
	char *p;

	for (size_t i = 0; i < n; i++) {
		if (json_pointer_check(patterns[i], why, why_len) < 0)
			return NULL;
		for (const char *c = patterns[i]; *c; c++)
			nsegs += *c == '/';
		text += strlen(patterns[i]);
	}
	/* one block: header, patterns, segments, unescaped text */
	ig = calloc(1, sizeof(*ig) + n * sizeof(struct ig_pattern) +
			       nsegs * sizeof(struct ig_seg) + text + 1);
	if (!ig) {
		snprintf(why, why_len, "out of memory compiling JSON pointers");
		return NULL;
	}
	ig->npatterns = n;
	ig->patterns = (struct ig_pattern *)(ig + 1);
	ig->segs = (struct ig_seg *)(ig->patterns + n);
	ig->text = (char *)(ig->segs + nsegs);
	p = ig->text;
	nsegs = 0;
	for (size_t i = 0; i < n; i++) {
		const char *s = patterns[i] + 1;

		ig->patterns[i].first = nsegs;
		for (;;) {
			const char *end = strchr(s, '/');
			size_t len = end ? (size_t)(end - s) : strlen(s);
			struct ig_seg *seg = &ig->segs[nsegs++];

			seg->any = len == 1 && s[0] == '*';
			if (unescape_segment(s, len, p, &seg->len) < 0) {
				snprintf(why, why_len,
					 "JSON pointer '%s': '~' must be followed by 0 or 1",
					 patterns[i]);
				free(ig);
				return NULL;
			}
			seg->name = p;
			p += seg->len;
			if (!end)
				break;
			s = end + 1;
		}
		ig->patterns[i].nsegs = nsegs - ig->patterns[i].first;
	}
	return ig;
}

/* Where the walk is: the key or index of each level above the value. */
struct path_step {
	const char *key; /* NULL for an array index */
	size_t key_len;
	size_t index;
};

struct walk {
	const struct json_ignore *ig;
	struct json_cmp_report *out;
	unsigned max_diffs;
	int too_deep;
	struct path_step path[JSON_CMP_DEPTH_MAX];
};

static int step_matches(const struct ig_seg *seg, const struct path_step *st)
{
	char idx[24];
	size_t n;

	if (seg->any)
		return 1;
	if (st->key)
		return seg->len == st->key_len && memcmp(seg->name, st->key, st->key_len) == 0;
	n = (size_t)snprintf(idx, sizeof(idx), "%zu", st->index);
	return seg->len == n && memcmp(seg->name, idx, n) == 0;
}

static int ignored(const struct walk *w, unsigned depth)
{
	if (!w->ig || depth == 0)
		return 0;
	for (size_t i = 0; i < w->ig->npatterns; i++) {
		const struct ig_pattern *pt = &w->ig->patterns[i];
		unsigned d;

		if (pt->nsegs != depth)
			continue;
		for (d = 0; d < depth; d++)
			if (!step_matches(&w->ig->segs[pt->first + d], &w->path[d]))
				break;
		if (d == depth)
			return 1;
	}
	return 0;
}

void json_cmp_shorten(struct slice in, char *out, size_t cap)
{
	size_t n = in.len;

	if (n <= cap) {
		memcpy(out, in.ptr, n);
		out[n] = '\0';
		return;
	}
	n = cap - 3;
	/* back off continuation bytes so no sequence is split */
	while (n > 0 && ((unsigned char)in.ptr[n] & 0xC0) == 0x80)
		n--;
	memcpy(out, in.ptr, n);
	memcpy(out + n, "...", 4);
}

static void render_value(const json_t *v, char *out)
{
	char buf[JSON_CMP_VALUE_MAX * 2];
	size_t need;

	/* json_dumpb copies whole pieces while they fit, so the prefix is
	 * valid UTF-8 up to where it stopped */
	need = json_dumpb(v, buf, sizeof(buf), JSON_COMPACT | JSON_ENCODE_ANY);
	json_cmp_shorten(slice_make(buf, need < sizeof(buf) ? need : sizeof(buf)), out,
			 JSON_CMP_VALUE_MAX);
}

static void render_pointer(const struct walk *w, unsigned depth, char *out)
{
	size_t o = 0, cap = JSON_CMP_POINTER_MAX;

	for (unsigned d = 0; d < depth && o < cap; d++) {
		const struct path_step *st = &w->path[d];

		out[o++] = '/';
		if (!st->key) {
			o += (size_t)snprintf(out + o, cap + 1 - o, "%zu", st->index);
			continue;
		}
		for (size_t i = 0; i < st->key_len && o < cap; i++) {
			char c = st->key[i];

			if (c == '~' || c == '/') {
				if (o + 2 > cap)
					break;
				out[o++] = '~';
				out[o++] = c == '~' ? '0' : '1';
			} else {
				out[o++] = c;
			}
		}
	}
	if (o > cap)
		o = cap;
	out[o] = '\0';
}

static void add_diff(struct walk *w, unsigned depth, const json_t *a, const json_t *b)
{
	struct json_cmp_diff *d;

	if (w->out->ndiffs >= w->max_diffs) {
		w->out->more++;
		return;
	}
	d = &w->out->diffs[w->out->ndiffs++];
	render_pointer(w, depth, d->pointer);
	d->a_absent = !a;
	d->b_absent = !b;
	d->a[0] = d->b[0] = '\0';
	if (a)
		render_value(a, d->a);
	if (b)
		render_value(b, d->b);
}

/* An integer and a real are equal when the real is integral and, converted
 * back, is the same 64-bit integer (9007199254740993 != 9007199254740992.0). */
static int int_real_equal(json_int_t i, double r)
{
	if (!isfinite(r) || r != floor(r) || r < -9223372036854775808.0 ||
	    r >= 9223372036854775808.0)
		return 0;
	return (json_int_t)r == i;
}

static int numbers_equal(const json_t *a, const json_t *b)
{
	if (json_is_integer(a) && json_is_integer(b))
		return json_integer_value(a) == json_integer_value(b);
	if (json_is_real(a) && json_is_real(b))
		return json_real_value(a) == json_real_value(b);
	if (json_is_integer(a))
		return int_real_equal(json_integer_value(a), json_real_value(b));
	return int_real_equal(json_integer_value(b), json_real_value(a));
}

static void walk_value(struct walk *w, unsigned depth, const json_t *a, const json_t *b);

static void walk_object(struct walk *w, unsigned depth, const json_t *a, const json_t *b)
{
	const char *key;
	size_t klen;
	json_t *va;

	json_object_keylen_foreach((json_t *)a, key, klen, va)
	{
		const json_t *vb = json_object_getn(b, key, klen);

		w->path[depth] = (struct path_step){ key, klen, 0 };
		if (ignored(w, depth + 1))
			continue;
		if (!vb)
			add_diff(w, depth + 1, va, NULL);
		else
			walk_value(w, depth + 1, va, vb);
	}
	json_object_keylen_foreach((json_t *)b, key, klen, va)
	{
		w->path[depth] = (struct path_step){ key, klen, 0 };
		if (!json_object_getn(a, key, klen) && !ignored(w, depth + 1))
			add_diff(w, depth + 1, NULL, va);
	}
}

static void walk_array(struct walk *w, unsigned depth, const json_t *a, const json_t *b)
{
	size_t na = json_array_size(a), nb = json_array_size(b);

	for (size_t i = 0; i < na || i < nb; i++) {
		w->path[depth] = (struct path_step){ NULL, 0, i };
		if (ignored(w, depth + 1))
			continue;
		if (i < na && i < nb)
			walk_value(w, depth + 1, json_array_get(a, i), json_array_get(b, i));
		else
			add_diff(w, depth + 1, i < na ? json_array_get(a, i) : NULL,
				 i < nb ? json_array_get(b, i) : NULL);
	}
}

static void walk_value(struct walk *w, unsigned depth, const json_t *a, const json_t *b)
{
	if (w->too_deep)
		return;
	if (json_is_number(a) && json_is_number(b)) {
		if (!numbers_equal(a, b))
			add_diff(w, depth, a, b);
		return;
	}
	if (json_typeof(a) != json_typeof(b)) {
		add_diff(w, depth, a, b);
		return;
	}
	switch (json_typeof(a)) {
	case JSON_OBJECT:
	case JSON_ARRAY:
		if (depth >= JSON_CMP_DEPTH_MAX) {
			w->too_deep = 1;
			return;
		}
		if (json_is_object(a))
			walk_object(w, depth, a, b);
		else
			walk_array(w, depth, a, b);
		return;
	case JSON_STRING:
		if (json_string_length(a) != json_string_length(b) ||
		    memcmp(json_string_value(a), json_string_value(b), json_string_length(a)) != 0)
			add_diff(w, depth, a, b);
		return;
	default: /* true, false, null: same type is same value */
		return;
	}
}

/* Duplicate keys are refused (which one would count?); NUL in strings is
 * data; any top-level value is a document. */
#define LOAD_FLAGS (JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL | JSON_DECODE_ANY)

enum json_cmp_result json_compare(struct slice a, struct slice b, const struct json_ignore *ig,
				  unsigned max_diffs, struct json_cmp_report *out)
{
	struct walk *w;
	json_error_t err;
	json_t *ja, *jb = NULL;

	out->ndiffs = out->more = 0;
	out->invalid = NULL;
	out->result = JSON_CMP_INVALID;
	ja = json_loadb(a.ptr, a.len, LOAD_FLAGS, &err);
	if (ja)
		jb = json_loadb(b.ptr, b.len, LOAD_FLAGS, &err);
	if (!ja || !jb) {
		out->invalid = ja ? "shadow" : "primary";
		goto done;
	}
	w = malloc(sizeof(*w));
	if (!w) {
		out->invalid = "memory";
		goto done;
	}
	w->ig = ig;
	w->out = out;
	w->max_diffs = max_diffs < JSON_CMP_MAX_DIFFS ? max_diffs : JSON_CMP_MAX_DIFFS;
	w->too_deep = 0;
	walk_value(w, 0, ja, jb);
	if (w->too_deep) {
		out->ndiffs = out->more = 0;
		out->invalid = "depth";
	} else {
		out->result = out->ndiffs || out->more ? JSON_CMP_DIFFERENT : JSON_CMP_EQUAL;
	}
	free(w);
done:
	json_decref(ja);
	json_decref(jb);
	return out->result;
}

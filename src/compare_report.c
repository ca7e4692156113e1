/* /compare's numbers (see compare_report.h): per target, totals by verdict
 * and a bounded table of endpoints with their last differing example. */
#include "compare_report.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "compare_page.h"
#include "json_write.h"
#include "path_normalise.h"
#include "verdict.h"

#define N_RESULTS (VERDICT_NOT_COMPARABLE + 1)
/* Targets come from the configuration; this only bounds a runaway one.
 * Records of targets beyond it are counted in targets_dropped. */
#define COMPARE_REPORT_MAX_TARGETS 64
#define EXAMPLE_DIFFS 3	     /* header and JSON differences kept per example */
#define EXAMPLE_TEXT_MAX 64  /* bytes of each kept id, name, pointer or value */
#define EXAMPLE_PATH_MAX 256 /* bytes of the example's raw path */

/* At most EXAMPLE_TEXT_MAX bytes of the source, cut at a UTF-8 boundary
 * and then ending with "..." */
struct short_text {
	size_t len;
	char text[EXAMPLE_TEXT_MAX + 3];
};

struct example_diff {
	struct short_text name; /* header name or JSON pointer */
	struct short_text a, b;
	bool a_absent, b_absent;
};

struct example {
	uint64_t time_ms;
	enum verdict_result result;
	int status_a, status_b;
	int64_t body_offset;
	size_t path_len;
	char path[EXAMPLE_PATH_MAX + 3];
	struct short_text id;
	unsigned nheaders, headers_more;
	struct example_diff headers[EXAMPLE_DIFFS];
	unsigned njson, json_more;
	struct example_diff json[EXAMPLE_DIFFS];
};

struct endpoint {
	uint64_t hash; /* of key; 0 = free slot */
	size_t key_len; /* bytes from the wire: may hold a NUL */
	char key[PATH_NORM_MAX + 1];
	uint64_t differences;
	uint64_t by_result[N_RESULTS];
	uint64_t last_seen; /* report-wide sequence, for eviction ties */
	bool has_example;
	struct example last;
};

struct target_report {
	char *name;
	uint64_t totals[N_RESULTS];
	uint64_t evicted;     /* endpoints pushed out of the table */
	uint64_t untracked;   /* records of endpoints the table had no room for */
	size_t n_endpoints;
	struct endpoint *endpoints; /* max_endpoints slots */
};

struct compare_report {
	pthread_mutex_t mu;
	size_t max_endpoints;
	uint64_t seq;
	uint64_t targets_dropped; /* records of targets beyond the cap or memory */
	size_t n_targets;
	struct target_report targets[COMPARE_REPORT_MAX_TARGETS];
};

struct compare_report *compare_report_new(size_t max_endpoints)
{
	struct compare_report *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	if (pthread_mutex_init(&r->mu, NULL) != 0) {
		free(r);
		return NULL;
	}
	r->max_endpoints = max_endpoints ? max_endpoints : COMPARE_REPORT_DEFAULT_ENDPOINTS;
	return r;
}

void compare_report_free(struct compare_report *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_targets; i++) {
		free(r->targets[i].name);
		free(r->targets[i].endpoints);
	}
	pthread_mutex_destroy(&r->mu);
	free(r);
}

static uint64_t hash_bytes(const char *p, size_t n)
{
	uint64_t h = verdict_digest_update(VERDICT_DIGEST_INIT, p, n);

	return h ? h : 1; /* 0 marks a free slot */
}

/* The target's report, made on its first record; NULL beyond the cap or
 * out of memory (the caller counts it). */
static struct target_report *target_for(struct compare_report *r, const char *name)
{
	struct target_report *t;

	for (size_t i = 0; i < r->n_targets; i++)
		if (!strcmp(r->targets[i].name, name))
			return &r->targets[i];
	if (r->n_targets == COMPARE_REPORT_MAX_TARGETS)
		return NULL;
	t = &r->targets[r->n_targets];
	t->name = strdup(name);
	t->endpoints = calloc(r->max_endpoints, sizeof(*t->endpoints));
	if (!t->name || !t->endpoints) {
		free(t->name);
		free(t->endpoints);
		memset(t, 0, sizeof(*t));
		return NULL;
	}
	r->n_targets++;
	return t;
}

/* The endpoint's slot: found, or a free one, or (for a difference only)
 * the least different one's, evicted. NULL: a matching record for an
 * endpoint the full table has no room for (it shows in the totals only). */
static struct endpoint *endpoint_for(struct compare_report *r, struct target_report *t,
				     const char *key, size_t key_len, bool difference)
{
	uint64_t h = hash_bytes(key, key_len);
	struct endpoint *victim = NULL;

	for (size_t i = 0; i < t->n_endpoints; i++) {
		struct endpoint *e = &t->endpoints[i];

		if (e->hash == h && e->key_len == key_len && !memcmp(e->key, key, key_len))
			return e;
		if (!victim || e->differences < victim->differences ||
		    (e->differences == victim->differences && e->last_seen < victim->last_seen))
			victim = e;
	}
	if (t->n_endpoints < r->max_endpoints) {
		victim = &t->endpoints[t->n_endpoints++];
	} else {
		if (!difference || !victim)
			return NULL;
		t->evicted++;
	}
	memset(victim, 0, sizeof(*victim));
	victim->hash = h;
	victim->key_len = key_len;
	memcpy(victim->key, key, key_len + 1);
	return victim;
}

/* Copies at most max bytes of p[0, n) to dst, without splitting a UTF-8
 * sequence, then "..." when cut (dst has max + 3 bytes). Returns the length. */
static size_t shorten_into(char *dst, size_t max, const char *p, size_t n)
{
	size_t keep = n;

	if (keep > max) {
		keep = max;
		while (keep && ((unsigned char)p[keep] & 0xc0) == 0x80)
			keep--;
	}
	if (keep)
		memcpy(dst, p, keep);
	if (keep < n) {
		memcpy(dst + keep, "...", 3);
		keep += 3;
	}
	return keep;
}

static void shorten(struct short_text *s, const char *p, size_t n)
{
	s->len = shorten_into(s->text, EXAMPLE_TEXT_MAX, p, n);
}

static void keep_diff(struct example_diff *d, const char *name, const char *a, int a_absent,
		      const char *b, int b_absent)
{
	shorten(&d->name, name, strlen(name));
	shorten(&d->a, a, strlen(a));
	shorten(&d->b, b, strlen(b));
	d->a_absent = a_absent;
	d->b_absent = b_absent;
}

static void keep_example(struct example *ex, const struct verdict_record *rec)
{
	const struct verdict *v = rec->verdict;
	unsigned nh = v->nheader_diffs < VERDICT_MAX_HEADER_DIFFS ? v->nheader_diffs
								  : VERDICT_MAX_HEADER_DIFFS;
	unsigned nj = 0;

	memset(ex, 0, sizeof(*ex));
	ex->time_ms = rec->time_ms;
	ex->result = v->result;
	ex->status_a = v->status_a;
	ex->status_b = v->status_b;
	ex->body_offset = v->body_diff_offset;
	ex->path_len = shorten_into(ex->path, EXAMPLE_PATH_MAX, rec->path.ptr, rec->path.len);
	shorten(&ex->id, rec->id.ptr ? rec->id.ptr : "", rec->id.len);
	ex->nheaders = nh < EXAMPLE_DIFFS ? nh : EXAMPLE_DIFFS;
	ex->headers_more = nh - ex->nheaders + v->header_diffs_more;
	for (unsigned i = 0; i < ex->nheaders; i++) {
		const struct verdict_header_diff *d = &v->header_diffs[i];

		keep_diff(&ex->headers[i], d->name, d->a, d->a_absent, d->b, d->b_absent);
	}
	if (v->body_as_json && v->json.result == JSON_CMP_DIFFERENT) {
		nj = v->json.ndiffs < JSON_CMP_MAX_DIFFS ? v->json.ndiffs : JSON_CMP_MAX_DIFFS;
		ex->body_offset = -1;
	}
	ex->njson = nj < EXAMPLE_DIFFS ? nj : EXAMPLE_DIFFS;
	ex->json_more = nj - ex->njson + (nj ? v->json.more : 0);
	for (unsigned i = 0; i < ex->njson; i++) {
		const struct json_cmp_diff *d = &v->json.diffs[i];

		keep_diff(&ex->json[i], d->pointer, d->a, d->a_absent, d->b, d->b_absent);
	}
}

void compare_report_add(struct compare_report *r, const struct verdict_record *rec)
{
	char key[PATH_NORM_MAX + 1];
	size_t key_len;
	enum verdict_result res;
	bool difference;
	struct target_report *t;
	struct endpoint *e;

	if (!rec->verdict)
		return;
	res = rec->verdict->result;
	if ((unsigned)res >= N_RESULTS)
		return;
	difference = verdict_result_is_difference(res);
	/* outside the lock: the only costly step */
	key_len = path_normalise(rec->method, rec->path, key);

	pthread_mutex_lock(&r->mu);
	t = target_for(r, rec->target ? rec->target : "");
	if (!t) {
		r->targets_dropped++;
		goto out;
	}
	t->totals[res]++;
	e = endpoint_for(r, t, key, key_len, difference);
	if (!e) {
		t->untracked++;
		goto out;
	}
	e->by_result[res]++;
	e->last_seen = ++r->seq;
	if (difference) {
		e->differences++;
		keep_example(&e->last, rec);
		e->has_example = true;
	}
out:
	pthread_mutex_unlock(&r->mu);
}

/* ---- rendering ---- */

static int by_differences(const void *x, const void *y)
{
	const struct endpoint *a = x, *b = y;

	if (a->differences != b->differences)
		return a->differences < b->differences ? 1 : -1;
	if (a->last_seen != b->last_seen)
		return a->last_seen < b->last_seen ? 1 : -1;
	return 0;
}

static void counts(struct strbuf *out, const uint64_t *n)
{
	strbuf_append(out, "{", 1);
	for (int i = 0; i < N_RESULTS; i++)
		strbuf_printf(out, "%s\"%s\":%llu", i ? "," : "",
			      verdict_result_name((enum verdict_result)i), (unsigned long long)n[i]);
	strbuf_append(out, "}", 1);
}

static void short_text(struct strbuf *out, const struct short_text *s, bool absent,
		       unsigned flags)
{
	if (absent)
		strbuf_puts(out, "null");
	else
		json_write_string(out, s->text, s->len, flags);
}

static void diffs(struct strbuf *out, const char *name, const char *key,
		  const struct example_diff *d, unsigned n, unsigned more, unsigned flags)
{
	strbuf_printf(out, ",\"%s\":[", name);
	for (unsigned i = 0; i < n; i++) {
		strbuf_printf(out, "%s{\"%s\":", i ? "," : "", key);
		short_text(out, &d[i].name, false, flags);
		strbuf_puts(out, ",\"primary\":");
		short_text(out, &d[i].a, d[i].a_absent, flags);
		strbuf_puts(out, ",\"shadow\":");
		short_text(out, &d[i].b, d[i].b_absent, flags);
		strbuf_append(out, "}", 1);
	}
	strbuf_printf(out, "],\"%s_more\":%u", name, more);
}

static void example(struct strbuf *out, const struct example *ex, unsigned flags)
{
	strbuf_puts(out, "{\"id\":");
	short_text(out, &ex->id, false, flags);
	strbuf_puts(out, ",\"time\":");
	json_write_time_ms(out, ex->time_ms);
	strbuf_puts(out, ",\"path\":");
	json_write_string(out, ex->path, ex->path_len, flags);
	strbuf_printf(out, ",\"verdict\":\"%s\",\"status\":{\"primary\":%d,\"shadow\":%d}",
		      verdict_result_name(ex->result), ex->status_a, ex->status_b);
	diffs(out, "headers", "name", ex->headers, ex->nheaders, ex->headers_more, flags);
	diffs(out, "json", "pointer", ex->json, ex->njson, ex->json_more, flags);
	if (ex->body_offset >= 0)
		strbuf_printf(out, ",\"body_offset\":%lld", (long long)ex->body_offset);
	strbuf_append(out, "}", 1);
}

static void target_json(struct strbuf *out, struct target_report *t, unsigned flags)
{
	uint64_t compared = 0, different = 0;
	size_t shown;

	for (int i = 0; i < N_RESULTS; i++) {
		compared += t->totals[i];
		if (verdict_result_is_difference((enum verdict_result)i))
			different += t->totals[i];
	}
	strbuf_puts(out, "{\"name\":");
	json_write_cstr(out, t->name, flags);
	strbuf_puts(out, ",\"totals\":");
	counts(out, t->totals);
	strbuf_printf(out,
		      ",\"verdicts\":%llu,\"differences\":%llu,\"endpoints_tracked\":%zu,"
		      "\"endpoints_evicted\":%llu,\"untracked\":%llu,\"endpoints\":[",
		      (unsigned long long)compared, (unsigned long long)different,
		      t->n_endpoints, (unsigned long long)t->evicted,
		      (unsigned long long)t->untracked);
	/* sorting in place is harmless: lookups scan the whole table */
	qsort(t->endpoints, t->n_endpoints, sizeof(*t->endpoints), by_differences);
	shown = t->n_endpoints < COMPARE_REPORT_TOP ? t->n_endpoints : COMPARE_REPORT_TOP;
	for (size_t i = 0; i < shown; i++) {
		const struct endpoint *e = &t->endpoints[i];

		strbuf_puts(out, i ? ",{\"endpoint\":" : "{\"endpoint\":");
		json_write_string(out, e->key, e->key_len, flags);
		strbuf_printf(out, ",\"differences\":%llu,\"by_result\":",
			      (unsigned long long)e->differences);
		counts(out, e->by_result);
		strbuf_puts(out, ",\"last\":");
		if (e->has_example)
			example(out, &e->last, flags);
		else
			strbuf_puts(out, "null");
		strbuf_append(out, "}", 1);
	}
	strbuf_puts(out, "]}");
}

/* The whole report as JSON; `flags` JSON_W_SCRIPT_SAFE for the page. */
static void report_json(struct compare_report *r, struct strbuf *out, unsigned flags)
{
	pthread_mutex_lock(&r->mu);
	strbuf_puts(out, "{\"targets\":[");
	for (size_t i = 0; i < r->n_targets; i++) {
		if (i)
			strbuf_append(out, ",", 1);
		target_json(out, &r->targets[i], flags);
	}
	strbuf_printf(out, "],\"endpoints_max\":%zu,\"endpoints_shown\":%d,\"targets_dropped\":%llu}",
		      r->max_endpoints, COMPARE_REPORT_TOP, (unsigned long long)r->targets_dropped);
	pthread_mutex_unlock(&r->mu);
}

void compare_report_json(struct compare_report *r, struct strbuf *out)
{
	report_json(r, out, JSON_W_PLAIN);
	strbuf_append(out, "\n", 1);
}

void compare_report_html(struct compare_report *r, struct strbuf *out)
{
	struct strbuf json = { NULL, 0, 0, out->checked, false };

	report_json(r, &json, JSON_W_SCRIPT_SAFE);
	if (json.failed)
		out->failed = true;
	else
		compare_page_write(out, json.data, json.len);
	strbuf_free(&json);
}

/* The diff log (see diff_log.h): one JSON line per differing verdict,
 * rate-limited per target by a token bucket. */
#include "diff_log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json_write.h"
#include "log.h"
#include "strbuf.h"

/* Buckets are kept for this many targets; beyond, the least recently used
 * bucket is given to the newcomer (which starts full). Targets come from
 * the configuration, so this only bounds a pathological one. */
#define DIFF_LOG_BUCKETS 64
#define DIFF_LOG_NAME_MAX 63 /* bytes of a target name kept with its bucket */
#define LINE_CREDIT UINT64_C(1000000) /* a bucket's credit for one line */
/* not world-readable: with diff-log-bodies the lines hold answers, which
 * may carry personal data (an existing file keeps its mode) */
#define DIFF_LOG_MODE 0640

struct bucket {
	uint64_t name_hash; /* of the whole name; 0 = free */
	char name[DIFF_LOG_NAME_MAX + 1];
	uint64_t credit;  /* in millionths of a line: exact, whatever the rate */
	uint64_t last_ms; /* last refill, log_now_ms() */
	uint64_t skipped; /* suppressed since this target's last line */
};

struct diff_log {
	char *path;    /* without the MODE: prefix */
	int reopen_flags;
	int fd;
	bool bodies;
	uint64_t refill_per_ms; /* credit gained per ms; 0 = unlimited */
	uint64_t credit_max;	/* the burst, in credit */
	size_t body_max;
	struct strbuf line; /* checked; reused for every line */
	struct bucket buckets[DIFF_LOG_BUCKETS];
	atomic_uint_fast64_t written, suppressed, write_errors;
};

struct diff_log *diff_log_open(const struct diff_log_settings *s, char *err, size_t errlen)
{
	struct diff_log *dl;
	const char *path;
	int flags;

	if (!s->path || !(path = log_spec_path(s->path, &flags))) {
		snprintf(err, errlen, "diff-log '%s': expected [a:|w:]FILE",
			 s->path ? s->path : "");
		return NULL;
	}
	dl = calloc(1, sizeof(*dl));
	if (!dl || !(dl->path = strdup(path))) {
		free(dl);
		snprintf(err, errlen, "diff-log %s: out of memory", path);
		return NULL;
	}
	dl->fd = open(path, flags, DIFF_LOG_MODE);
	if (dl->fd < 0) {
		snprintf(err, errlen, "diff-log %s: %s", path, strerror(errno));
		free(dl->path);
		free(dl);
		return NULL;
	}
	/* a reopen after rotation appends, whatever the first open did */
	dl->reopen_flags = (flags & ~O_TRUNC) | O_APPEND;
	dl->bodies = s->bodies;
	if (s->lines_per_s > 0) {
		double per_ms = s->lines_per_s * (double)(LINE_CREDIT / 1000);

		/* beyond a million lines per second is as good as unlimited */
		dl->refill_per_ms = per_ms < 1 ? 1 : per_ms > 1e9 ? 1000000000u : (uint64_t)per_ms;
	}
	dl->credit_max = (uint64_t)(s->burst ? s->burst : 1) * LINE_CREDIT;
	dl->body_max = s->body_max;
	dl->line = (struct strbuf)STRBUF_INIT_CHECKED;
	return dl;
}

int diff_log_reopen(struct diff_log *dl)
{
	int fd = open(dl->path, dl->reopen_flags, DIFF_LOG_MODE);

	if (fd < 0)
		return -errno;
	/* swapped under the same descriptor number in one step, as
	 * log_reopen() does: a line written meanwhile lands whole in one
	 * file or the other, so SIGHUP may come from any thread */
	if (dup3(fd, dl->fd, O_CLOEXEC) < 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	close(fd);
	return 0;
}

void diff_log_close(struct diff_log *dl)
{
	if (!dl)
		return;
	close(dl->fd);
	strbuf_free(&dl->line);
	free(dl->path);
	free(dl);
}

uint64_t diff_log_suppressed(const struct diff_log *dl)
{
	return atomic_load_explicit(&dl->suppressed, memory_order_relaxed);
}

uint64_t diff_log_written(const struct diff_log *dl)
{
	return atomic_load_explicit(&dl->written, memory_order_relaxed);
}

uint64_t diff_log_write_errors(const struct diff_log *dl)
{
	return atomic_load_explicit(&dl->write_errors, memory_order_relaxed);
}

static uint64_t name_hash(const char *name)
{
	uint64_t h = verdict_digest_update(VERDICT_DIGEST_INIT, name, strlen(name));

	return h ? h : 1; /* 0 marks a free bucket */
}

/* The target's bucket: found by name, else a free one, else the least
 * recently used one, given to this target full. */
static struct bucket *bucket_for(struct diff_log *dl, const char *name, uint64_t now)
{
	uint64_t h = name_hash(name);
	struct bucket *victim = &dl->buckets[0];

	for (size_t i = 0; i < DIFF_LOG_BUCKETS; i++) {
		struct bucket *b = &dl->buckets[i];

		if (b->name_hash == h && !strncmp(b->name, name, DIFF_LOG_NAME_MAX))
			return b;
		if (victim->name_hash && (!b->name_hash || b->last_ms < victim->last_ms))
			victim = b;
	}
	victim->name_hash = h;
	snprintf(victim->name, sizeof(victim->name), "%s", name);
	victim->credit = dl->credit_max;
	victim->skipped = 0;
	victim->last_ms = now;
	return victim;
}

/* Takes one line's credit from the target's bucket: false when it is
 * short. *skipped gets the lines suppressed since the target's last one. */
static bool take_credit(struct diff_log *dl, const char *target, uint64_t *skipped)
{
	uint64_t now;
	struct bucket *b;

	*skipped = 0;
	if (!dl->refill_per_ms)
		return true;
	now = log_now_ms();
	b = bucket_for(dl, target ? target : "", now);
	if (now > b->last_ms) {
		uint64_t gap = now - b->last_ms;

		/* a gap long enough to fill any bucket is not multiplied */
		if (gap >= dl->credit_max / dl->refill_per_ms + 1)
			b->credit = dl->credit_max;
		else if ((b->credit += gap * dl->refill_per_ms) > dl->credit_max)
			b->credit = dl->credit_max;
	}
	b->last_ms = now;
	if (b->credit < LINE_CREDIT) {
		b->skipped++;
		return false;
	}
	b->credit -= LINE_CREDIT;
	*skipped = b->skipped;
	b->skipped = 0;
	return true;
}

/* Writes the whole line in one write(2); a short write (disk full) is a
 * failure: the rest is not retried, so lines never interleave. */
static int write_line(int fd, const char *p, size_t n)
{
	ssize_t w;

	do
		w = write(fd, p, n);
	while (w < 0 && errno == EINTR);
	return w == (ssize_t)n ? 0 : -1;
}

int diff_log_write(struct diff_log *dl, const struct verdict_record *rec)
{
	uint64_t skipped;

	if (!rec->verdict || !verdict_result_is_difference(rec->verdict->result))
		return 0;
	if (!take_credit(dl, rec->target, &skipped)) {
		atomic_fetch_add_explicit(&dl->suppressed, 1, memory_order_relaxed);
		return -1;
	}
	strbuf_reset(&dl->line);
	dl->line.failed = false; /* a line too big before says nothing of this one */
	diff_log_format(rec, dl->bodies, dl->body_max, &dl->line);
	if (skipped && !dl->line.failed) {
		/* the reader learns that this target's lines are missing before
		 * this one: the count goes in before the closing "}\n" */
		dl->line.len -= 2;
		strbuf_printf(&dl->line, ",\"suppressed_before\":%llu}\n",
			      (unsigned long long)skipped);
	}
	if (dl->line.failed || write_line(dl->fd, dl->line.data, dl->line.len) < 0) {
		atomic_fetch_add_explicit(&dl->write_errors, 1, memory_order_relaxed);
		return -2;
	}
	atomic_fetch_add_explicit(&dl->written, 1, memory_order_relaxed);
	return 1;
}

/* ---- the line ---- */

static void key(struct strbuf *out, const char *name)
{
	/* appends, not printf: a line has a dozen keys */
	strbuf_append(out, ",\"", 2);
	strbuf_puts(out, name);
	strbuf_append(out, "\":", 2);
}

static void string_field(struct strbuf *out, const char *name, struct slice s)
{
	key(out, name);
	json_write_string(out, s.ptr, s.len, JSON_W_PLAIN);
}

/* A shortened value kept by the verdict, or null when that side lacks it. */
static void value_or_null(struct strbuf *out, const char *name, const char *v, int absent)
{
	key(out, name);
	if (absent)
		strbuf_puts(out, "null");
	else
		json_write_cstr(out, v, JSON_W_PLAIN);
}

/* Element i of a "headers" or "json" array: {KEY: name, primary, shadow}. */
static void diff_entry(struct strbuf *out, unsigned i, const char *key, const char *name,
		       const char *a, int a_absent, const char *b, int b_absent)
{
	strbuf_printf(out, "%s{\"%s\":", i ? "," : "", key);
	json_write_cstr(out, name, JSON_W_PLAIN);
	value_or_null(out, "primary", a, a_absent);
	value_or_null(out, "shadow", b, b_absent);
	strbuf_append(out, "}", 1);
}

static void header_diffs(struct strbuf *out, const struct verdict *v)
{
	unsigned n = v->nheader_diffs < VERDICT_MAX_HEADER_DIFFS ? v->nheader_diffs
								 : VERDICT_MAX_HEADER_DIFFS;

	if (!n && !v->header_diffs_more)
		return;
	key(out, "headers");
	strbuf_append(out, "[", 1);
	for (unsigned i = 0; i < n; i++) {
		const struct verdict_header_diff *d = &v->header_diffs[i];

		diff_entry(out, i, "name", d->name, d->a, d->a_absent, d->b, d->b_absent);
	}
	strbuf_append(out, "]", 1);
	if (v->header_diffs_more)
		strbuf_printf(out, ",\"headers_more\":%u", v->header_diffs_more);
}

static void body_diffs(struct strbuf *out, const struct verdict *v)
{
	const struct json_cmp_report *j = &v->json;

	if (v->body_as_json && j->result == JSON_CMP_DIFFERENT) {
		unsigned n = j->ndiffs < JSON_CMP_MAX_DIFFS ? j->ndiffs : JSON_CMP_MAX_DIFFS;

		key(out, "json");
		strbuf_append(out, "[", 1);
		for (unsigned i = 0; i < n; i++) {
			const struct json_cmp_diff *d = &j->diffs[i];

			diff_entry(out, i, "pointer", d->pointer, d->a, d->a_absent, d->b,
				   d->b_absent);
		}
		strbuf_append(out, "]", 1);
		if (j->more)
			strbuf_printf(out, ",\"json_more\":%u", j->more);
	} else if (v->body_diff_offset >= 0) {
		strbuf_printf(out, ",\"body_offset\":%lld", (long long)v->body_diff_offset);
	}
}

static uint64_t body_bytes(const struct verdict_answer *a)
{
	return a->body_state == VERDICT_BODY_OVER_CAP ? a->body_total : a->body.len;
}

static void bodies(struct strbuf *out, const struct verdict_record *rec, size_t body_max)
{
	const struct verdict_answer *side[2] = { rec->primary, rec->shadow };
	const char *names[2] = { "primary", "shadow" };

	key(out, "bodies");
	strbuf_append(out, "{", 1);
	for (int i = 0; i < 2; i++) {
		strbuf_printf(out, "%s\"%s\":", i ? "," : "", names[i]);
		if (!side[i]) {
			strbuf_puts(out, "null");
			continue;
		}
		json_write_string_cut(out, side[i]->body.ptr, side[i]->body.len, body_max,
				      JSON_W_PLAIN);
		strbuf_printf(out, ",\"%s_bytes\":%llu", names[i],
			      (unsigned long long)body_bytes(side[i]));
	}
	strbuf_append(out, "}", 1);
}

void diff_log_format(const struct verdict_record *rec, bool with_bodies, size_t body_max,
		     struct strbuf *out)
{
	const struct verdict *v = rec->verdict;

	strbuf_puts(out, "{\"time\":");
	json_write_time_ms(out, rec->time_ms);
	key(out, "target");
	json_write_cstr(out, rec->target, JSON_W_PLAIN);
	string_field(out, "method", rec->method);
	string_field(out, "path", rec->path);
	string_field(out, "id", rec->id);
	if (!v) {
		strbuf_puts(out, "}\n");
		return;
	}
	key(out, "verdict");
	json_write_cstr(out, verdict_result_name(v->result), JSON_W_PLAIN);
	strbuf_printf(out, ",\"status\":{\"primary\":%d,\"shadow\":%d}", v->status_a, v->status_b);
	header_diffs(out, v);
	body_diffs(out, v);
	if (with_bodies)
		bodies(out, rec, body_max);
	if (rec->has_latency_delta)
		strbuf_printf(out, ",\"latency_delta_us\":%lld", (long long)rec->latency_delta_us);
	strbuf_puts(out, "}\n");
}

/* Joining answers by id and deciding verdicts (see verdict_join.h). */
#include "verdict_join.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "compare_report.h"
#include "diff_log.h"
#include "log.h"
#include "response.h"
#include "shadow_answer.h"
#include "target.h"
#include "verdict_expect.h"
#include "verdict_record.h"

/* what the rate-limited log lines' summaries call them */
#define REFUSED "answers not compared"
#define TIMED_OUT "requests whose answers did not all come in time"

struct verdict_join {
	struct join_table *table;
	struct log_ratelimit refused_log, timeout_log;
	struct verdict_stats *stats;
	struct verdict_outputs out;
	struct verdict v; /* ~10 KiB: kept here rather than on the stack */
};

static void free_item(void *p)
{
	verdict_item_free(p);
}

static uint64_t realtime_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct verdict_join *verdict_join_new(size_t max_entries, size_t max_bytes, uint64_t ttl_ms,
				      uint64_t (*now_ms)(void), struct verdict_stats *stats,
				      const struct verdict_outputs *out)
{
	struct join_limits lim = {
		.max_entries = max_entries,
		.max_bytes = max_bytes,
		.ttl_ms = ttl_ms,
		.max_targets = TARGET_MAX,
		.expect_first = 1,
	};
	struct verdict_join *vj = calloc(1, sizeof(*vj));

	if (!vj)
		return NULL;
	vj->table = join_table_new(&lim, now_ms, free_item);
	if (!vj->table) {
		free(vj);
		return NULL;
	}
	vj->stats = stats;
	vj->out = *out;
	vj->refused_log.interval_ms = vj->timeout_log.interval_ms =
		out->log_interval_ms ? out->log_interval_ms : 5000;
	if (!vj->out.wall_ms)
		vj->out.wall_ms = realtime_ms;
	return vj;
}

static void update_gauges(struct verdict_join *vj)
{
	uint64_t bytes = join_table_bytes(vj->table);

	atomic_store_explicit(&vj->stats->entries, join_table_entries(vj->table),
			      memory_order_relaxed);
	atomic_store_explicit(&vj->stats->bytes, bytes, memory_order_relaxed);
	if (bytes > atomic_load_explicit(&vj->stats->bytes_peak, memory_order_relaxed))
		atomic_store_explicit(&vj->stats->bytes_peak, bytes, memory_order_relaxed);
}

/* The primary's answer as target t compares it: a body longer than t's
 * cap is cut and digested like the shadow's, so the two are alike. */
static struct verdict_answer primary_for(const struct primary_answer *p,
					 const struct verdict_expect *x, const struct target *t)
{
	struct verdict_answer a = p->answer;
	size_t cap = t->cfg.compare_body_max;

	answer_body_settle(&a, p->has_declared_length, p->declared_length,
			   slice_eq_cstr(x->method, "HEAD"));
	if (a.body_state == VERDICT_BODY_COMPLETE && a.body.len > cap) {
		a.body_state = VERDICT_BODY_OVER_CAP;
		a.body_total = a.body.len;
		a.body_digest = verdict_digest_update(VERDICT_DIGEST_INIT, a.body.ptr, a.body.len);
		a.body.len = cap;
	}
	return a;
}

static void emit(struct verdict_join *vj, const struct target *t, const struct verdict_record *rec)
{
	stat_inc(&t->stats->compare[rec->verdict->result]);
	if (rec->has_latency_delta)
		target_stats_record_delta(t->stats, rec->latency_delta_us);
	if (vj->out.diff_log)
		diff_log_write(vj->out.diff_log, rec);
	if (vj->out.report)
		compare_report_add(vj->out.report, rec);
}

/* One verdict per target the request was mirrored to; the entry is ours. */
static void decide(struct verdict_join *vj, struct join_entry *e)
{
	const struct verdict_expect *x = e->info;
	const struct primary_answer *p = e->primary;
	static const struct verdict_answer none = { 0 };
	uint64_t now = vj->out.wall_ms();

	for (unsigned i = 0; i < x->set->count && i < JOIN_MAX_TARGETS; i++) {
		const struct target *t = &x->set->targets[i];
		const struct shadow_answer *s;
		struct verdict_answer pa;
		struct verdict_record rec;

		if (!(e->expected & ((uint64_t)1 << i)))
			continue;
		s = e->arrived & ((uint64_t)1 << i) ? e->shadows[i] : NULL;
		pa = p ? primary_for(p, x, t) : none;
		rec = (struct verdict_record){
			.time_ms = now,
			.target = t->cfg.name,
			.method = x->method,
			.path = x->path,
			.id = x->id,
			.verdict = &vj->v,
			.primary = &pa,
			.shadow = s ? &s->answer : &none,
		};
		if (p && s) {
			verdict_compare(&pa, &s->answer, &t->rules, &vj->v);
		} else {
			/* a side missing: never a guess, whatever came */
			memset(&vj->v, 0, sizeof(vj->v));
			vj->v.result = VERDICT_NOT_COMPARABLE;
			vj->v.status_a = pa.status;
			vj->v.status_b = s ? s->answer.status : 0;
			vj->v.body_diff_offset = -1;
		}
		if (p && p->has_time && s && s->answer.status) {
			rec.has_latency_delta = true;
			rec.latency_delta_us = (int64_t)s->latency_us - (int64_t)p->time_us;
		}
		emit(vj, t, &rec);
	}
	join_entry_free(e);
}

static struct slice item_id(const struct verdict_item *it)
{
	switch (it->kind) {
	case VERDICT_ITEM_EXPECT:
		return ((const struct verdict_expect *)it)->id;
	case VERDICT_ITEM_PRIMARY:
		return ((const struct primary_answer *)it)->id;
	default:
		return ((const struct shadow_answer *)it)->id;
	}
}

/* An answer the join refused: counted by reason, logged rate-limited,
 * then freed. */
static void refused(struct verdict_join *vj, enum join_status st, struct verdict_item *it)
{
	struct slice id = item_id(it);

	log_limited(&vj->refused_log, LOG_LVL_WARN, REFUSED, "%s for id '%.*s' not compared: %s",
		    verdict_item_kind_name(it->kind), (int)(id.len > 64 ? 64 : id.len), id.ptr,
		    join_status_name(st));
	switch (st) {
	case JOIN_FULL_ENTRIES:
		stat_inc(&vj->stats->overflow_entries);
		break;
	case JOIN_FULL_BYTES:
		stat_inc(&vj->stats->overflow_bytes);
		break;
	case JOIN_UNKNOWN_ID:
	case JOIN_BAD_ID:
		stat_inc(&vj->stats->unknown_id);
		break;
	case JOIN_NO_MEMORY:
		stat_inc(&vj->stats->no_memory);
		break;
	default: /* duplicate, a target or generation that is not the request's */
		stat_inc(&vj->stats->duplicates);
		break;
	}
	verdict_item_free(it);
}

void verdict_join_take(struct verdict_join *vj, struct verdict_item *it)
{
	struct join_entry *done = NULL;
	enum join_status st;

	switch (it->kind) {
	case VERDICT_ITEM_EXPECT: {
		struct verdict_expect *x = (struct verdict_expect *)it;

		st = join_expect_take(vj->table, x->id, (unsigned)x->set->generation, x->expected,
				      x, it->bytes);
		break;
	}
	case VERDICT_ITEM_PRIMARY: {
		struct primary_answer *p = (struct primary_answer *)it;

		st = join_put_primary_take(vj->table, p->id, p, it->bytes, &done);
		break;
	}
	case VERDICT_ITEM_SHADOW: {
		struct shadow_answer *s = (struct shadow_answer *)it;

		st = join_put_shadow_take(vj->table, s->id, (unsigned)s->generation, s->target,
					  s->expected, s, it->bytes, &done);
		break;
	}
	default:
		verdict_item_free(it);
		return;
	}
	if (st < 0)
		refused(vj, st, it);
	else if (st == JOIN_COMPLETE)
		decide(vj, done);
	update_gauges(vj);
}

size_t verdict_join_expire(struct verdict_join *vj)
{
	struct join_entry *batch[64];
	size_t n, total = 0;

	while ((n = join_expire(vj->table, batch, 64)) > 0) {
		for (size_t i = 0; i < n; i++) {
			stat_inc(&vj->stats->timeouts);
			log_limited(&vj->timeout_log, LOG_LVL_WARN, TIMED_OUT,
				    "id '%.*s': %s the answers within join-timeout: not comparable",
				    (int)(batch[i]->id_len > 64 ? 64 : batch[i]->id_len), batch[i]->id,
				    batch[i]->primary ? "not all shadows sent" : "the primary did not send");
			decide(vj, batch[i]);
		}
		total += n;
	}
	if (total)
		update_gauges(vj);
	return total;
}

void verdict_join_flush_logs(struct verdict_join *vj)
{
	log_ratelimit_flush(&vj->refused_log, LOG_LVL_WARN, REFUSED);
	log_ratelimit_flush(&vj->timeout_log, LOG_LVL_WARN, TIMED_OUT);
}

size_t verdict_join_free(struct verdict_join *vj)
{
	size_t n;

	if (!vj)
		return 0;
	n = join_table_free(vj->table);
	stat_add(&vj->stats->cleared, n);
	atomic_store_explicit(&vj->stats->entries, 0, memory_order_relaxed);
	atomic_store_explicit(&vj->stats->bytes, 0, memory_order_relaxed);
	free(vj);
	return n;
}

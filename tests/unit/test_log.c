/* Unit tests for src/log.c's rate limit: which lines reach the log file and
 * what the "N more" summaries say, with time driven by a fake clock; and
 * the reopen after rotation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pthread.h>
#include <sched.h>

#include <cmocka.h>

#include "log.h"
#include "fake_clock.h"
#include "log_lines.h"

/* ---- fixture: a fresh log file and a clock the test sets ---- */

struct logfile {
	char path[64];
};

static int log_setup(void **state)
{
	struct logfile *lf = calloc(1, sizeof(*lf));
	char spec[80];
	int fd;

	if (!lf)
		return -1;
	strcpy(lf->path, "/tmp/test_log_XXXXXX");
	fd = mkstemp(lf->path);
	if (fd < 0)
		return -1;
	close(fd);
	snprintf(spec, sizeof(spec), "w:%s", lf->path);
	if (log_open(spec) != 0)
		return -1;
	log_set_level(LOG_LVL_INFO);
	fake_clock_start(1000);
	*state = lf;
	return 0;
}

static int log_teardown(void **state)
{
	struct logfile *lf = *state;

	fake_clock_stop();
	log_close();
	unlink(lf->path);
	free(lf);
	return 0;
}

static void burst(struct log_ratelimit *rl, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		log_limited(rl, LOG_LVL_WARN, "burst", "burst event %u", i);
}

/* ---- tests ---- */

static void test_log_limited_burst_summary_flushed_after_interval_without_new_event(void **state)
{
	struct logfile *lf = *state;
	struct log_ratelimit rl = LOG_RATELIMIT_INIT(100);
	size_t lines;

	burst(&rl, 500);
	assert_int_equal(log_lines_count(lf->path, "burst event"), 1);
	assert_int_equal(log_lines_count(lf->path, "burst event 0"), 1);

	fake_clock_set(1099); /* the window still runs: nothing to report yet */
	assert_int_equal(log_ratelimit_flush(&rl, LOG_LVL_WARN, "burst"), 0);
	assert_int_equal(log_summaries_sum(lf->path, "burst", &lines, NULL), 0);
	assert_int_equal(lines, 0);

	fake_clock_set(1100);
	assert_int_equal(log_ratelimit_flush(&rl, LOG_LVL_WARN, "burst"), 499);
	assert_int_equal(log_lines_count(lf->path, "burst: 499 more in the last 100 ms"), 1);

	fake_clock_set(1500); /* reported once: a second flush finds nothing */
	assert_int_equal(log_ratelimit_flush(&rl, LOG_LVL_WARN, "burst"), 0);
	assert_int_equal(log_summaries_sum(lf->path, "burst", &lines, NULL), 499);
	assert_int_equal(lines, 1);
	assert_int_equal(log_lines_count(lf->path, "burst event"), 1);
}

static void test_log_limited_single_event_flush_writes_nothing(void **state)
{
	struct logfile *lf = *state;
	struct log_ratelimit rl = LOG_RATELIMIT_INIT(100);
	size_t lines;

	burst(&rl, 1);
	fake_clock_set(2000);
	assert_int_equal(log_ratelimit_flush(&rl, LOG_LVL_WARN, "burst"), 0);
	assert_int_equal(log_summaries_sum(lf->path, "burst", &lines, NULL), 0);
	assert_int_equal(lines, 0);
	assert_int_equal(log_lines_count(lf->path, "burst event"), 1);
}

static void test_log_limited_event_after_flush_opens_a_new_window(void **state)
{
	struct logfile *lf = *state;
	struct log_ratelimit rl = LOG_RATELIMIT_INIT(100);
	size_t lines;

	burst(&rl, 10);
	fake_clock_set(1150);
	assert_int_equal(log_ratelimit_flush(&rl, LOG_LVL_WARN, "burst"), 9);
	/* the next event is logged with no second summary before it */
	fake_clock_set(1160);
	burst(&rl, 4);
	assert_int_equal(log_lines_count(lf->path, "burst event"), 2);
	assert_int_equal(log_summaries_sum(lf->path, "burst", &lines, NULL), 9);
	assert_int_equal(lines, 1);
	/* its window counts from 1160 */
	fake_clock_set(1259);
	assert_int_equal(log_ratelimit_flush(&rl, LOG_LVL_WARN, "burst"), 0);
	fake_clock_set(1260);
	assert_int_equal(log_ratelimit_flush(&rl, LOG_LVL_WARN, "burst"), 3);
	assert_int_equal(log_lines_count(lf->path, "burst: 3 more in the last 100 ms"), 1);
}

static void test_log_limited_next_event_reports_before_the_flush_does(void **state)
{
	struct logfile *lf = *state;
	struct log_ratelimit rl = LOG_RATELIMIT_INIT(100);
	FILE *fp;
	char line[4096];
	size_t lines;

	burst(&rl, 7);
	fake_clock_set(1230);
	burst(&rl, 1);
	/* summary first, then the event that opened the new window */
	fp = fopen(lf->path, "r");
	assert_non_null(fp);
	assert_non_null(fgets(line, sizeof(line), fp));
	assert_non_null(strstr(line, "burst event 0"));
	assert_non_null(fgets(line, sizeof(line), fp));
	assert_non_null(strstr(line, "burst: 6 more in the last 230 ms"));
	assert_non_null(fgets(line, sizeof(line), fp));
	assert_non_null(strstr(line, "burst event 0"));
	assert_null(fgets(line, sizeof(line), fp));
	fclose(fp);
	/* the new window has nothing suppressed; the old count is not repeated */
	fake_clock_set(1400);
	assert_int_equal(log_ratelimit_flush(&rl, LOG_LVL_WARN, "burst"), 0);
	assert_int_equal(log_summaries_sum(lf->path, "burst", &lines, NULL), 6);
	assert_int_equal(lines, 1);
}

static void test_log_ratelimit_flush_now_reports_an_open_window(void **state)
{
	struct logfile *lf = *state;
	struct log_ratelimit rl = LOG_RATELIMIT_INIT(100);
	size_t lines;

	burst(&rl, 5);
	fake_clock_set(1040);
	assert_int_equal(log_ratelimit_flush_now(&rl, LOG_LVL_WARN, "burst"), 4);
	assert_int_equal(log_lines_count(lf->path, "burst: 4 more in the last 40 ms"), 1);
	assert_int_equal(log_ratelimit_flush_now(&rl, LOG_LVL_WARN, "burst"), 0);
	/* the window stays: later events in it are suppressed and counted anew */
	burst(&rl, 3);
	assert_int_equal(log_lines_count(lf->path, "burst event"), 1);
	fake_clock_set(1100);
	assert_int_equal(log_ratelimit_flush(&rl, LOG_LVL_WARN, "burst"), 3);
	assert_int_equal(log_summaries_sum(lf->path, "burst", &lines, NULL), 7);
	assert_int_equal(lines, 2);
}

static void test_log_limited_stale_clock_reading_counts_inside_window(void **state)
{
	struct logfile *lf = *state;
	struct log_ratelimit rl = LOG_RATELIMIT_INIT(100);

	burst(&rl, 1);
	/* a thread that read the clock before the window opened */
	fake_clock_set(990);
	burst(&rl, 2);
	assert_int_equal(log_lines_count(lf->path, "burst event"), 1);
	assert_int_equal(log_ratelimit_flush(&rl, LOG_LVL_WARN, "burst"), 0);
	fake_clock_set(1100);
	assert_int_equal(log_ratelimit_flush(&rl, LOG_LVL_WARN, "burst"), 2);
}

static void test_log_limited_window_across_clock_wrap_of_the_state(void **state)
{
	struct logfile *lf = *state;
	struct log_ratelimit rl = LOG_RATELIMIT_INIT(100);
	const uint64_t wrap = UINT64_C(1) << 38; /* the state keeps start modulo this */

	fake_clock_set(wrap - 30);
	burst(&rl, 1);
	fake_clock_set(wrap + 50);
	burst(&rl, 8);
	assert_int_equal(log_ratelimit_flush(&rl, LOG_LVL_WARN, "burst"), 0);
	assert_int_equal(log_lines_count(lf->path, "burst event"), 1);
	fake_clock_set(wrap + 70);
	assert_int_equal(log_ratelimit_flush(&rl, LOG_LVL_WARN, "burst"), 8);
	assert_int_equal(log_lines_count(lf->path, "burst: 8 more in the last 100 ms"), 1);
}

static void test_log_limited_disabled_level_neither_logs_nor_counts(void **state)
{
	struct logfile *lf = *state;
	struct log_ratelimit rl = LOG_RATELIMIT_INIT(100);

	log_set_level(LOG_LVL_ERROR);
	burst(&rl, 20);
	fake_clock_set(1200);
	assert_int_equal(log_ratelimit_flush(&rl, LOG_LVL_WARN, "burst"), 0);
	log_set_level(LOG_LVL_INFO);
	assert_int_equal(log_lines_count(lf->path, "burst"), 0);
}

/* Threads log into one rate limit while another advances the clock and
 * flushes: every event is either a logged line or counted in exactly one
 * summary, and no window is summarised twice. */
#define RACE_THREADS 4
#define RACE_TICKS 300

struct race {
	struct log_ratelimit rl;
	atomic_bool stop;
	atomic_uint_fast64_t events;
};

static void *race_logger(void *arg)
{
	struct race *r = arg;
	uint64_t n = 0;

	while (!atomic_load(&r->stop))
		log_limited(&r->rl, LOG_LVL_WARN, "race", "race event %llu",
			    (unsigned long long)n++);
	atomic_fetch_add(&r->events, n);
	return NULL;
}

static void test_log_limited_counts_exact_across_threads_with_flusher(void **state)
{
	struct logfile *lf = *state;
	struct race r = { .rl = LOG_RATELIMIT_INIT(10) };
	pthread_t threads[RACE_THREADS];
	uint64_t flushed = 0, summed, events;
	size_t logged, summaries, flush_lines = 0;

	for (int i = 0; i < RACE_THREADS; i++)
		assert_int_equal(pthread_create(&threads[i], NULL, race_logger, &r), 0);
	/* 3 ms a tick against a 10 ms window: windows are closed by flushes and
	 * by events alike while the loggers run */
	for (int tick = 0; tick < RACE_TICKS; tick++) {
		uint64_t n;

		fake_clock_advance(3);
		n = log_ratelimit_flush(&r.rl, LOG_LVL_WARN, "race");
		flushed += n;
		flush_lines += n > 0;
		usleep(100);
	}
	atomic_store(&r.stop, true);
	for (int i = 0; i < RACE_THREADS; i++)
		pthread_join(threads[i], NULL);
	flushed += log_ratelimit_flush_now(&r.rl, LOG_LVL_WARN, "race");

	events = atomic_load(&r.events);
	logged = log_lines_count(lf->path, "race event");
	summed = log_summaries_sum(lf->path, "race", &summaries, NULL);
	print_message("%llu events: %zu windows, %zu summaries (%zu by the flusher)\n",
		      (unsigned long long)events, logged, summaries, flush_lines);
	assert_int_equal(logged + summed, events);
	/* time went on 900 ms: many windows, not one */
	assert_true(logged > 20);
	/* one summary at most per window, plus the final flush_now */
	assert_true(summaries <= logged + 1);
	assert_true(flushed <= summed);
}

/* A window that suppresses more than the state's counter holds reports the
 * full counter at once and counts on: nothing is lost. */
static void test_log_limited_full_counter_reported_early_and_restarted(void **state)
{
	struct logfile *lf = *state;
	struct log_ratelimit rl = LOG_RATELIMIT_INIT(100);
	const unsigned full = (1u << 25) - 1; /* the state's count field */
	size_t lines;

	burst(&rl, 1 + full + 5);
	assert_int_equal(log_lines_count(lf->path, "burst event"), 1);
	assert_int_equal(log_lines_count(lf->path, "burst: 33554431 more in the last 0 ms"), 1);
	fake_clock_set(1100);
	assert_int_equal(log_ratelimit_flush(&rl, LOG_LVL_WARN, "burst"), 5);
	assert_int_equal(log_summaries_sum(lf->path, "burst", &lines, NULL), (uint64_t)full + 5);
	assert_int_equal(lines, 2);
}

/* ---- rotation: move the file away, reopen (what SIGHUP does) ---- */

struct seq_writer {
	atomic_uint written; /* lines whose write() returned */
	atomic_bool stop;
};

static void *seq_writer_run(void *arg)
{
	struct seq_writer *w = arg;

	while (!atomic_load(&w->stop)) {
		log_msg(LOG_LVL_INFO, "seq %u", atomic_load(&w->written));
		atomic_fetch_add(&w->written, 1);
	}
	return NULL;
}

static void wait_written(struct seq_writer *w, unsigned n)
{
	while (atomic_load(&w->written) < n)
		sched_yield();
}

/* Appends to seen[] the numbers of the file's "seq N" lines, in file order;
 * every line must be whole. */
static size_t read_seqs(const char *path, unsigned *seen, size_t cap, size_t n)
{
	char line[256];
	FILE *f = fopen(path, "r");

	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		const char *p = strstr(line, " seq ");

		assert_non_null(strchr(line, '\n'));
		if (!p)
			continue;
		assert_true(n < cap);
		seen[n++] = (unsigned)strtoul(p + 5, NULL, 10);
	}
	fclose(f);
	return n;
}

/* A thread logs numbered lines without pause while the file is moved and
 * reopened: the old file ends where the new one starts, every line is in
 * exactly one of them, whole, and the lines after the reopen are in the new
 * file. Waits on the writer's count, not on time. */
static void test_log_reopen_after_move_no_line_lost(void **state)
{
	struct logfile *lf = *state;
	struct seq_writer w = { 0 };
	char moved[80];
	unsigned *seen;
	size_t n_old, n;
	unsigned total;
	pthread_t t;

	snprintf(moved, sizeof(moved), "%s.1", lf->path);
	assert_int_equal(pthread_create(&t, NULL, seq_writer_run, &w), 0);
	wait_written(&w, 2000);
	assert_int_equal(rename(lf->path, moved), 0);
	/* still writing into the moved file until the reopen */
	wait_written(&w, atomic_load(&w.written) + 2000);
	assert_int_equal(log_reopen(), 0);
	wait_written(&w, atomic_load(&w.written) + 2000);
	atomic_store(&w.stop, true);
	pthread_join(t, NULL);
	log_msg(LOG_LVL_INFO, "after the reopen");

	total = atomic_load(&w.written);
	seen = calloc(total + 1, sizeof(*seen));
	assert_non_null(seen);
	n_old = read_seqs(moved, seen, total + 1, 0);
	n = read_seqs(lf->path, seen, total + 1, n_old);
	assert_int_equal(n, total);
	for (unsigned i = 0; i < total; i++)
		assert_int_equal(seen[i], i);
	assert_true(n_old >= 4000);
	assert_true(n - n_old >= 2000);
	assert_int_equal(log_lines_count(lf->path, "after the reopen"), 1);
	assert_int_equal(log_lines_count(moved, "after the reopen"), 0);
	free(seen);
	unlink(moved);
}

/* A reopen that cannot create the file (its directory is gone) reports the
 * error and keeps writing to the file it had. */
static void test_log_reopen_failure_keeps_old_file(void **state)
{
	char dir[] = "/tmp/test_log_dir_XXXXXX";
	char moved[64], path[96], spec[100];

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/agent.log", dir);
	snprintf(moved, sizeof(moved), "%s.moved", dir);
	snprintf(spec, sizeof(spec), "a:%s", path);
	assert_int_equal(log_open(spec), 0);
	assert_int_equal(rename(dir, moved), 0);
	assert_true(log_reopen() < 0);
	log_msg(LOG_LVL_INFO, "still here");
	snprintf(path, sizeof(path), "%s/agent.log", moved);
	assert_int_equal(log_lines_count(path, "still here"), 1);
	unlink(path);
	rmdir(moved);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, log_setup, log_teardown)
		T(test_log_limited_burst_summary_flushed_after_interval_without_new_event),
		T(test_log_limited_single_event_flush_writes_nothing),
		T(test_log_limited_event_after_flush_opens_a_new_window),
		T(test_log_limited_next_event_reports_before_the_flush_does),
		T(test_log_ratelimit_flush_now_reports_an_open_window),
		T(test_log_limited_stale_clock_reading_counts_inside_window),
		T(test_log_limited_window_across_clock_wrap_of_the_state),
		T(test_log_limited_disabled_level_neither_logs_nor_counts),
		T(test_log_limited_counts_exact_across_threads_with_flusher),
		T(test_log_limited_full_counter_reported_early_and_restarted),
		T(test_log_reopen_after_move_no_line_lost),
		T(test_log_reopen_failure_keeps_old_file),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

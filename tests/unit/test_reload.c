/* Unit tests for src/reload.c: SIGHUP's rebuild never aborts. Every
 * allocation of a reload fails in turn (N = 1, 2, ... until a reload no
 * longer reaches the Nth; the binary is linked with
 * --wrap=malloc,realloc,calloc): each attempt is refused with one line,
 * the running target set and the counters' registry stay whole, no file
 * is left open, nothing it built leaks (the leak checker runs), and the
 * next reload succeeds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "alloc_fail.h"
#include "reload.h"

static const char INI[] = "[mirror]\n"
			  "log-level = warn\n"
			  "response-messages = mirror-response, answer\n"
			  "\n"
			  "[target shadow-v2]\n"
			  "url = http://127.0.0.1:8080/prefix\n"
			  "add-headers = X-Mirror: true, X-Shadow: v2\n"
			  "remove-headers = Cookie\n"
			  "compare = body\n"
			  "compare-ignore-headers = X-Trace, X-Span\n"
			  "compare-ignore-json = /meta/at, /items/*/ts\n"
			  "\n"
			  "[target canary]\n"
			  "url = http://127.0.0.1:8081\n"
			  "sample = 12.5\n"
			  "sample-key = header:X-Request-ID\n";

static void registry_is_whole(const struct stats_registry *reg)
{
	assert_true(reg->count <= 2);
	for (size_t i = 0; i < reg->count; i++) {
		assert_non_null(reg->entries[i].stats);
		assert_true(!strcmp(reg->entries[i].name, "shadow-v2") ||
			    !strcmp(reg->entries[i].name, "canary"));
	}
}

static void test_reload_out_of_memory_at_every_allocation_is_refused(void **state)
{
	char path[] = "/tmp/test_reload_XXXXXX";
	int fd = mkstemp(path);
	char *argv[] = { "spoa-mirror", "-f", path, NULL };
	struct stats_registry reg = { 0 };
	struct reload_result running, got;
	char err[512];
	int refused = 0, lowest_fd;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, INI, sizeof(INI) - 1), (ssize_t)(sizeof(INI) - 1));
	close(fd);
	/* what runs: built without any failure */
	assert_int_equal(reload_build(3, argv, &reg, &running, err, sizeof(err)), 0);
	assert_int_equal(running.targets->count, 2);
	assert_int_equal(running.log_level, LOG_LVL_WARN);
	lowest_fd = dup(0);
	close(lowest_fd);

	alloc_fail_watch_this_thread();
	for (long n = 1;; n++) {
		int before = alloc_fail_count(), rc;

		alloc_fail_after(n);
		rc = reload_build(3, argv, &reg, &got, err, sizeof(err));
		alloc_fail_after(0);
		if (alloc_fail_count() == before) { /* fewer than n allocations: all swept */
			assert_int_equal(rc, 0);
			assert_int_equal(got.targets->count, 2);
			target_set_unref(got.targets);
			break;
		}
		refused++;
		assert_int_equal(rc, -1);
		assert_null(got.targets);
		assert_string_equal(err, "out of memory while reading the configuration");
		registry_is_whole(&reg);
		/* the running set is untouched */
		assert_int_equal(running.targets->count, 2);
		assert_string_equal(running.targets->targets[0].cfg.name, "shadow-v2");
		assert_string_equal(running.targets->targets[1].url.origin,
				    "http://127.0.0.1:8081");
		/* and the next reload goes through */
		assert_int_equal(reload_build(3, argv, &reg, &got, err, sizeof(err)), 0);
		assert_int_equal(got.targets->count, 2);
		target_set_unref(got.targets);
		assert_true(n < 100000);
	}
	/* the parser and the builder allocate dozens of times */
	print_message("%d allocations of a reload failed in turn, each refused\n", refused);
	assert_true(refused >= 20);
	assert_int_equal(reg.count, 2);
	/* no refused attempt left its file open */
	fd = dup(0);
	close(fd);
	assert_int_equal(fd, lowest_fd);
	target_set_unref(running.targets);
	stats_registry_free(&reg);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reload_out_of_memory_at_every_allocation_is_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for src/daemon.c: the locked pid file, and daemonizing with
 * the parent waiting for the daemon's readiness. The daemon tests fork: the
 * test process plays the shell that started the agent. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon.h"

static void temp_path(char *out, size_t n, const char *leaf)
{
	const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";

	snprintf(out, n, "%s/spoa-mirror-test-%ld-%s", dir, (long)getpid(), leaf);
}

static char *slurp(const char *path)
{
	static char buf[256];
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return NULL;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static void test_pidfile_holds_our_pid_and_is_removed(void **state)
{
	char path[256], want[32], err[256] = "";
	struct pidfile pf;

	temp_path(path, sizeof(path), "a.pid");
	assert_int_equal(pidfile_create(&pf, path, err, sizeof(err)), 0);
	snprintf(want, sizeof(want), "%ld\n", (long)getpid());
	assert_string_equal(slurp(path), want);
	pidfile_remove(&pf);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(errno, ENOENT);
	/* removing twice is harmless */
	pidfile_remove(&pf);
}

static void test_second_pidfile_refused_naming_the_holder(void **state)
{
	char path[256], want[400], err[256] = "";
	struct pidfile a, b;

	temp_path(path, sizeof(path), "b.pid");
	assert_int_equal(pidfile_create(&a, path, err, sizeof(err)), 0);
	assert_int_equal(pidfile_create(&b, path, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "pid file %s: locked by running process %ld", path,
		 (long)getpid());
	assert_string_equal(err, want);
	assert_int_equal(b.fd, -1);
	pidfile_remove(&a);
}

static void test_stale_pidfile_taken_over(void **state)
{
	char path[256], want[32], err[256] = "";
	struct pidfile pf;
	int fd;

	temp_path(path, sizeof(path), "c.pid");
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "999999999\nleftover\n", 19), 19);
	close(fd);
	assert_int_equal(pidfile_create(&pf, path, err, sizeof(err)), 0);
	snprintf(want, sizeof(want), "%ld\n", (long)getpid());
	assert_string_equal(slurp(path), want);
	pidfile_remove(&pf);
}

static void test_pidfile_in_missing_directory_reported(void **state)
{
	struct pidfile pf;
	char err[256] = "";

	assert_int_equal(pidfile_create(&pf, "/nonexistent/dir/x.pid", err, sizeof(err)), -1);
	assert_string_equal(err, "pid file /nonexistent/dir/x.pid: No such file or directory");
}

/* Forks a "shell" child that daemonizes; the daemon writes its pid and
 * session id to `report`, then reports ready (or not). Returns the exit
 * status of the shell child. */
static int run_daemon(const char *report, bool ready)
{
	pid_t shell = fork();
	int status;

	assert_true(shell >= 0);
	if (shell == 0) {
		struct daemon_handle h;
		char err[256];

		if (daemon_detach(&h, err, sizeof(err)) < 0)
			_exit(99);
		/* in the daemon */
		{
			FILE *f = fopen(report, "w");

			if (f) {
				fprintf(f, "%ld %ld %ld\n", (long)getpid(), (long)getsid(0),
					(long)getppid());
				fclose(f);
			}
		}
		if (ready) {
			daemon_ready(&h);
			/* stdout is /dev/null now: this must not reach the test */
			printf("after ready\n");
			fflush(stdout);
		}
		_exit(0);
	}
	assert_int_equal(waitpid(shell, &status, 0), shell);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static void test_daemon_ready_lets_the_starter_exit_0(void **state)
{
	char report[256];
	long pid = 0, sid = 0, ppid = 0;
	char *text;

	temp_path(report, sizeof(report), "ready.txt");
	unlink(report);
	assert_int_equal(run_daemon(report, true), 0);
	text = slurp(report);
	assert_non_null(text);
	assert_int_equal(sscanf(text, "%ld %ld %ld", &pid, &sid, &ppid), 3);
	/* a new session, not its leader (second fork): no controlling tty */
	assert_true(pid != getpid());
	assert_true(sid != getsid(0));
	assert_true(sid != pid);
	unlink(report);
}

static void test_daemon_dying_before_ready_makes_the_starter_exit_1(void **state)
{
	char report[256];

	temp_path(report, sizeof(report), "fail.txt");
	unlink(report);
	assert_int_equal(run_daemon(report, false), 1);
	/* the daemon did run */
	assert_non_null(slurp(report));
	unlink(report);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pidfile_holds_our_pid_and_is_removed),
		cmocka_unit_test(test_second_pidfile_refused_naming_the_holder),
		cmocka_unit_test(test_stale_pidfile_taken_over),
		cmocka_unit_test(test_pidfile_in_missing_directory_reported),
		cmocka_unit_test(test_daemon_ready_lets_the_starter_exit_0),
		cmocka_unit_test(test_daemon_dying_before_ready_makes_the_starter_exit_1),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Daemonizing with a readiness pipe, and a locked pid file. */
#include "daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include "xalloc.h"

int daemon_detach(struct daemon_handle *h, char *err, size_t errlen)
{
	int fds[2];
	pid_t pid;

	h->ready_fd = -1;
	if (pipe2(fds, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "daemonize: pipe: %s", strerror(errno));
		return -1;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		snprintf(err, errlen, "daemonize: fork: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid > 0) {
		/* the original process: wait for the daemon's word */
		char status = 1;
		ssize_t r;

		close(fds[1]);
		do {
			r = read(fds[0], &status, 1);
		} while (r < 0 && errno == EINTR);
		waitpid(pid, NULL, 0);
		_exit(r == 1 && status == 0 ? 0 : 1);
	}
	close(fds[0]);
	if (setsid() < 0)
		_exit(1);
	/* the second fork makes sure the daemon never gets a controlling tty */
	pid = fork();
	if (pid < 0)
		_exit(1);
	if (pid > 0)
		_exit(0);
	h->ready_fd = fds[1];
	return 0;
}

void daemon_ready(struct daemon_handle *h)
{
	char ok = 0;
	int null;

	if (h->ready_fd < 0)
		return;
	null = open("/dev/null", O_RDWR);
	if (null >= 0) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
		if (null > STDERR_FILENO)
			close(null);
	}
	if (write(h->ready_fd, &ok, 1) < 0) {
		/* the parent is gone; nothing to tell */
	}
	close(h->ready_fd);
	h->ready_fd = -1;
}

int pidfile_create(struct pidfile *pf, const char *path, char *err, size_t errlen)
{
	char buf[32];
	int fd, len;

	pf->fd = -1;
	pf->path = NULL;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		snprintf(err, errlen, "pid file %s: %s", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;
		ssize_t r = pread(fd, buf, sizeof(buf) - 1, 0);

		buf[r > 0 ? r : 0] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
		if (e == EWOULDBLOCK || e == EAGAIN)
			snprintf(err, errlen, "pid file %s: locked by running process %s", path,
				 buf[0] ? buf : "(unknown)");
		else
			snprintf(err, errlen, "pid file %s: lock: %s", path, strerror(e));
		close(fd);
		return -1;
	}
	len = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, (size_t)len, 0) != len) {
		snprintf(err, errlen, "pid file %s: write: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	pf->fd = fd;
	pf->path = xstrdup(path);
	return 0;
}

void pidfile_remove(struct pidfile *pf)
{
	char buf[32], want[32];
	ssize_t r;

	if (pf->fd < 0)
		return;
	r = pread(pf->fd, buf, sizeof(buf) - 1, 0);
	buf[r > 0 ? r : 0] = '\0';
	snprintf(want, sizeof(want), "%ld\n", (long)getpid());
	/* after a fork the child must not remove its parent's file */
	if (!strcmp(buf, want))
		unlink(pf->path);
	close(pf->fd);
	free(pf->path);
	pf->fd = -1;
	pf->path = NULL;
}

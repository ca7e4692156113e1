/* Running in the background (-D) and the pid file (-F). The original
 * process waits until the daemon says it is ready, so a start that fails
 * (port in use, bad log file) still ends the command with an error status
 * and its message on the terminal. */
#ifndef SPOA_MIRROR_DAEMON_H
#define SPOA_MIRROR_DAEMON_H

#include <stddef.h>
#include <sys/types.h>

struct daemon_handle {
	int ready_fd; /* daemon side of the pipe to the waiting parent; -1 when done */
};

/* Forks twice and starts a new session. Returns 0 in the daemon, which
 * keeps the working directory (relative paths in the configuration keep
 * their meaning on reload) and, until daemon_ready(), the terminal's
 * stderr, so start-up errors still reach the user. The original process
 * never returns: it exits 0 when the daemon calls daemon_ready(), 1 when
 * the daemon exits before. -1 with a reason in err when fork fails. */
int daemon_detach(struct daemon_handle *h, char *err, size_t errlen);

/* Start-up done: the waiting parent exits 0; stdin, stdout and stderr now
 * read and write /dev/null (open the log file before: -l). */
void daemon_ready(struct daemon_handle *h);

struct pidfile {
	int fd;      /* open and locked while we run; -1 when none */
	char *path;
};

/* Creates (or takes over a stale) pid file, locks it for the life of the
 * process and writes our pid. Fails, naming the holder's pid, when another
 * process holds the lock. -1 with one line in err. */
int pidfile_create(struct pidfile *pf, const char *path, char *err, size_t errlen);

/* Unlinks the file (if it still holds our pid), unlocks and closes it.
 * Safe on a pidfile that was never created. */
void pidfile_remove(struct pidfile *pf);

#endif

/* Test helpers: capture what a call prints on stdout, and write temporary
 * files. Header-only, for the tests of the command line and INI file. */
#ifndef SPOA_MIRROR_TEST_CAPTURE_H
#define SPOA_MIRROR_TEST_CAPTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct capture {
	int saved_fd;
	FILE *file;
};

/* From now on stdout goes to a temporary file. */
static inline void capture_begin(struct capture *c)
{
	fflush(stdout);
	c->file = tmpfile();
	c->saved_fd = dup(STDOUT_FILENO);
	dup2(fileno(c->file), STDOUT_FILENO);
}

/* Restores stdout; returns what was printed (caller frees). */
static inline char *capture_end(struct capture *c)
{
	long len;
	char *text;

	fflush(stdout);
	dup2(c->saved_fd, STDOUT_FILENO);
	close(c->saved_fd);
	len = ftell(c->file);
	if (len < 0)
		len = 0;
	text = calloc(1, (size_t)len + 1);
	rewind(c->file);
	if (fread(text, 1, (size_t)len, c->file) != (size_t)len)
		text[0] = '\0';
	fclose(c->file);
	return text;
}

/* Writes text to a new temporary file; returns its path (caller frees and
 * unlinks). */
static inline char *temp_file_with(const char *text)
{
	const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	size_t n = strlen(dir) + 32;
	char *path = malloc(n);
	int fd;

	snprintf(path, n, "%s/spoa-mirror-test-XXXXXX", dir);
	fd = mkstemp(path);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
		free(path);
		return NULL;
	}
	close(fd);
	return path;
}

#endif

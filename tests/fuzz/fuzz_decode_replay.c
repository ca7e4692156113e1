/* Runs the fuzz target's checks over corpus files without libFuzzer, so
 * `make check` (any compiler, sanitizers or not) replays the seed corpus
 * and every regression input. Arguments: files or directories; none means
 * the committed corpus. Prints TAP, one line per file. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "decode_all.h"

#ifndef FUZZ_CORPUS_DIR
#define FUZZ_CORPUS_DIR "tests/fuzz/corpus"
#endif

/* Largest input replayed; libFuzzer's default -max_len is far below. */
#define REPLAY_MAX_INPUT (4u << 20)

struct run {
	unsigned n;
	unsigned failed;
};

/* Reads the file into an allocation of exactly its size, so a sanitizer
 * build catches a decoder reading one byte too far. */
static int replay_file(struct run *r, const char *path)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	uint8_t *buf;
	const char *fail;

	r->n++;
	if (!f || fstat(fileno(f), &st) != 0 || st.st_size < 0 || (size_t)st.st_size > REPLAY_MAX_INPUT) {
		printf("not ok %u - %s: cannot read (%s)\n", r->n, path,
		       f ? "too large" : strerror(errno));
		if (f)
			fclose(f);
		r->failed++;
		return -1;
	}
	buf = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!buf || fread(buf, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
		printf("not ok %u - %s: short read\n", r->n, path);
		free(buf);
		fclose(f);
		r->failed++;
		return -1;
	}
	fclose(f);
	fail = decode_all_check(buf, (size_t)st.st_size, NULL);
	free(buf);
	if (fail) {
		printf("not ok %u - %s: %s\n", r->n, path, fail);
		r->failed++;
		return -1;
	}
	printf("ok %u - %s\n", r->n, path);
	return 0;
}

static int keep_entry(const struct dirent *e)
{
	return e->d_name[0] != '.' && strcmp(e->d_name, "README") != 0;
}

/* Files of dir in name order, one level deep (subdirectories included). */
static void replay_path(struct run *r, const char *path)
{
	struct stat st;
	struct dirent **list;
	int n;

	if (stat(path, &st) != 0) {
		r->n++;
		r->failed++;
		printf("not ok %u - %s: %s\n", r->n, path, strerror(errno));
		return;
	}
	if (!S_ISDIR(st.st_mode)) {
		replay_file(r, path);
		return;
	}
	n = scandir(path, &list, keep_entry, alphasort);
	if (n < 0) {
		r->n++;
		r->failed++;
		printf("not ok %u - %s: %s\n", r->n, path, strerror(errno));
		return;
	}
	for (int i = 0; i < n; i++) {
		char child[4096];

		if ((size_t)snprintf(child, sizeof(child), "%s/%s", path, list[i]->d_name) <
		    sizeof(child))
			replay_path(r, child);
		free(list[i]);
	}
	free(list);
}

int main(int argc, char **argv)
{
	struct run r = { 0, 0 };

	if (argc > 1)
		for (int i = 1; i < argc; i++)
			replay_path(&r, argv[i]);
	else
		replay_path(&r, FUZZ_CORPUS_DIR);
	if (r.n == 0) {
		/* an empty corpus proves nothing: say so */
		printf("1..1\nnot ok 1 - no corpus files found\n");
		return 1;
	}
	printf("1..%u\n", r.n);
	return r.failed ? 1 : 0;
}

/* Writes the fuzz seed corpus: one file per sample stream of
 * sample_frames.c, plus the two header blocks alone. Run by
 * `make fuzz-corpus`; the output is committed in tests/fuzz/corpus/decode. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sample_frames.h"

static int write_file(const char *dir, const char *name, const uint8_t *buf, size_t len)
{
	char path[4096];
	FILE *f;
	int n = snprintf(path, sizeof(path), "%s/%s.bin", dir, name);

	if (n < 0 || (size_t)n >= sizeof(path)) {
		fprintf(stderr, "gen_corpus: path too long for %s in %s\n", name, dir);
		return -1;
	}
	f = fopen(path, "wb");
	if (!f) {
		fprintf(stderr, "gen_corpus: cannot create %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (fwrite(buf, 1, len, f) != len || fclose(f) != 0) {
		fprintf(stderr, "gen_corpus: cannot write %s: %s\n", path, strerror(errno));
		return -1;
	}
	printf("%s %zu bytes\n", path, len);
	return 0;
}

int main(int argc, char **argv)
{
	static uint8_t buf[SAMPLE_MAX_LEN];
	const char *dir = argc > 1 ? argv[1] : "tests/fuzz/corpus/decode";
	size_t len;

	for (int k = 0; k < SAMPLE_COUNT; k++) {
		len = sample_build((enum sample_kind)k, buf, sizeof(buf));
		if (len == 0) {
			fprintf(stderr, "gen_corpus: sample %s does not fit in %d bytes\n",
				sample_name((enum sample_kind)k), SAMPLE_MAX_LEN);
			return 1;
		}
		if (write_file(dir, sample_name((enum sample_kind)k), buf, len) != 0)
			return 1;
	}
	len = sample_header_block(true, buf, sizeof(buf));
	if (len == 0 || write_file(dir, "hdrs_bin_block", buf, len) != 0)
		return 1;
	len = sample_header_block(false, buf, sizeof(buf));
	if (len == 0 || write_file(dir, "hdrs_text_block", buf, len) != 0)
		return 1;
	return 0;
}

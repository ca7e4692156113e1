/* Reading a log file back in tests (see log_lines.h). */
#include "log_lines.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

size_t log_lines_count(const char *path, const char *needle)
{
	FILE *fp = fopen(path, "r");
	char line[4096];
	size_t n = 0;

	assert_non_null(fp);
	while (fgets(line, sizeof(line), fp))
		if (strstr(line, needle))
			n++;
	fclose(fp);
	return n;
}

uint64_t log_summaries_sum(const char *path, const char *what, size_t *lines,
			   uint64_t *max_age_ms)
{
	FILE *fp = fopen(path, "r");
	char line[4096], prefix[128];
	uint64_t sum = 0;

	assert_non_null(fp);
	snprintf(prefix, sizeof(prefix), "%s: ", what);
	*lines = 0;
	if (max_age_ms)
		*max_age_ms = 0;
	while (fgets(line, sizeof(line), fp)) {
		const char *p = strstr(line, prefix);
		unsigned long long n, age;

		if (!p || !strstr(p, " more in the last "))
			continue;
		assert_int_equal(sscanf(p + strlen(prefix), "%llu more in the last %llu ms", &n, &age),
				 2);
		sum += n;
		(*lines)++;
		if (max_age_ms && age > *max_age_ms)
			*max_age_ms = age;
	}
	fclose(fp);
	return sum;
}

/* Parse + compare cost of one JSON library on two equal-as-JSON answers:
 * built once per library (-DLIB_JANSSON, -DLIB_JSONC, -DLIB_CJSON) and run
 * under callgrind by bench/json-libs/run (doc/verdicts-json-library.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 1: parse both and free, no comparison (argv[4] = "parse") */
static int parse_only;

#if defined(LIB_JANSSON)
#include <jansson.h>
static int parse_compare(const char *a, size_t alen, const char *b, size_t blen)
{
	json_error_t err;
	json_t *x = json_loadb(a, alen, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &err);
	json_t *y = json_loadb(b, blen, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &err);
	int eq = parse_only ? x && y : x && y && json_equal(x, y);

	json_decref(x);
	json_decref(y);
	return eq;
}
#elif defined(LIB_JSONC)
#include <json-c/json.h>
static int parse_compare(const char *a, size_t alen, const char *b, size_t blen)
{
	struct json_tokener *tok = json_tokener_new_ex(64);
	json_object *x = json_tokener_parse_ex(tok, a, (int)alen);
	json_object *y;
	int eq;

	json_tokener_reset(tok);
	y = json_tokener_parse_ex(tok, b, (int)blen);
	eq = parse_only ? x && y : x && y && json_object_equal(x, y);
	json_object_put(x);
	json_object_put(y);
	json_tokener_free(tok);
	return eq;
}
#elif defined(LIB_CJSON)
#include <cjson/cJSON.h>
static int parse_compare(const char *a, size_t alen, const char *b, size_t blen)
{
	cJSON *x = cJSON_ParseWithLength(a, alen);
	cJSON *y = cJSON_ParseWithLength(b, blen);
	int eq = parse_only ? x && y : x && y && cJSON_Compare(x, y, 1);

	cJSON_Delete(x);
	cJSON_Delete(y);
	return eq;
}
#elif defined(LIB_SPOA)
/* the agent's own comparison (src/json_compare.c, on jansson) */
#include "json_compare.h"
static int parse_compare(const char *a, size_t alen, const char *b, size_t blen)
{
	static struct json_cmp_report rep;

	return json_compare(slice_make(a, alen), slice_make(b, blen), NULL, 16, &rep) ==
	       JSON_CMP_EQUAL;
}
#else
#error "define LIB_JANSSON, LIB_JSONC, LIB_CJSON or LIB_SPOA"
#endif

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = malloc(1 << 16);

	if (!f || !buf) {
		fprintf(stderr, "json_libs: cannot read %s\n", path);
		exit(1);
	}
	*len = fread(buf, 1, (1 << 16) - 1, f);
	buf[*len] = '\0';
	fclose(f);
	return buf;
}

int main(int argc, char **argv)
{
	size_t alen, blen;
	char *a, *b;
	int n, eq = 0;

	if (argc != 4 && argc != 5) {
		fprintf(stderr, "usage: json_libs A.json B.json ITERATIONS [parse]\n");
		return 2;
	}
	a = slurp(argv[1], &alen);
	b = slurp(argv[2], &blen);
	n = atoi(argv[3]);
	parse_only = argc == 5;
	for (int i = 0; i < n; i++)
		eq += parse_compare(a, alen, b, blen);
	printf("equal %d of %d\n", eq, n);
	free(a);
	free(b);
	return 0;
}

/* fuzz_grpc's properties: grpc_status_line() never reads past the line and
 * names a code only when the line says exactly that code, checked against a
 * second, plain reading; grpc_content_type() only accepts values that begin
 * with application/grpc. */
#include "grpc_check.h"

#include <ctype.h>
#include <strings.h>

#include "grpc.h"

static size_t skip_blanks(const uint8_t *p, size_t i, size_t n)
{
	while (i < n && (p[i] == ' ' || p[i] == '\t'))
		i++;
	return i;
}

/* The code a line "grpc-status: N" (any case, blanks, CR/LF after) names,
 * or -1. */
static int plain_code(const uint8_t *p, size_t n)
{
	static const char name[] = "grpc-status:";
	size_t i = sizeof(name) - 1, end = n;
	int code = 0, digits = 0;

	if (n < i)
		return -1;
	for (size_t k = 0; k < i; k++)
		if (tolower(p[k]) != name[k])
			return -1;
	while (end > i && (p[end - 1] == '\r' || p[end - 1] == '\n'))
		end--;
	while (end > i && (p[end - 1] == ' ' || p[end - 1] == '\t'))
		end--;
	for (i = skip_blanks(p, i, end); i < end; i++, digits++) {
		if (p[i] < '0' || p[i] > '9' || digits == 2)
			return -1;
		code = code * 10 + (p[i] - '0');
	}
	return digits && code < GRPC_STATUS_CODES ? code : -1;
}

const char *grpc_check(const uint8_t *data, size_t len)
{
	int slot = grpc_status_line((const char *)data, len);
	int want = plain_code(data, len);
	struct slice v = slice_trim(slice_make(data, len));

	if (slot != GRPC_STATUS_NONE && slot != GRPC_SLOT_INVALID &&
	    (slot < 0 || slot >= GRPC_STATUS_CODES))
		return "grpc_status_line returned no slot";
	if (want >= 0 && slot != want)
		return "grpc_status_line missed the code the line says";
	if (want < 0 && slot >= 0 && slot < GRPC_STATUS_CODES)
		return "grpc_status_line found a code the line does not say";
	if (slot != GRPC_STATUS_NONE && grpc_slot_name((unsigned)slot) == NULL)
		return "slot without a name";
	if (grpc_content_type(slice_make(data, len)) &&
	    (v.len < 16 || strncasecmp(v.ptr, "application/grpc", 16)))
		return "grpc_content_type accepted something else";
	return NULL;
}

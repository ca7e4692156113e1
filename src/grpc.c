/* gRPC recognition and grpc-status parsing (see grpc.h). */
#include "grpc.h"

bool grpc_content_type(struct slice value)
{
	static const char type[] = "application/grpc";
	struct slice v = slice_trim(value);
	size_t n = sizeof(type) - 1;

	if (v.len < n || !slice_case_eq_cstr(slice_make(v.ptr, n), type))
		return false;
	/* "application/grpc-web" is another protocol (HTTP/1.1-friendly) */
	return v.len == n || v.ptr[n] == '+' || v.ptr[n] == ';' || v.ptr[n] == ' ' ||
	       v.ptr[n] == '\t';
}

bool grpc_call(const struct http_header *headers, size_t n)
{
	const struct http_header *ct = headers_find_in(headers, n, SLICE_LIT("content-type"));

	return ct && grpc_content_type(ct->value);
}

int grpc_status_line(const char *line, size_t len)
{
	struct slice rest = slice_make(line, len);
	struct slice name = slice_split(&rest, ':');
	uint64_t code;

	if (name.len == len || !slice_case_eq_cstr(name, "grpc-status"))
		return GRPC_STATUS_NONE;
	while (rest.len && (rest.ptr[rest.len - 1] == '\n' || rest.ptr[rest.len - 1] == '\r'))
		rest.len--;
	if (!slice_to_u64(slice_trim(rest), 2, &code))
		return GRPC_SLOT_INVALID;
	return code < GRPC_STATUS_CODES ? (int)code : GRPC_SLOT_INVALID;
}

const char *grpc_slot_name(unsigned slot)
{
	static const char *const names[GRPC_SLOTS] = {
		"0",  "1",  "2",  "3",  "4",  "5",  "6",  "7",	"8",	   "9",
		"10", "11", "12", "13", "14", "15", "16", "invalid", "missing",
	};
	return slot < GRPC_SLOTS ? names[slot] : "invalid";
}

/* A shadow target's base URL, http(s)://host[:port][/prefix], parsed by
 * libcurl's URL API (curl_url), the parser curl connects with. The
 * configuration checks URLs with it and target sets keep what it gives. */
#ifndef SPOA_MIRROR_URL_H
#define SPOA_MIRROR_URL_H

#include <stdbool.h>
#include <stddef.h>

struct target_url {
	bool https;
	char *origin; /* "scheme://host[:port]", no trailing slash */
	char *host;   /* "host[:port]": the Host header when the target's */
	char *prefix; /* path prefix without trailing '/', "" when none */
};

/* Parses url. Besides what curl refuses: only http and https, a host, no
 * user, query or fragment, a port 1..65535, no control character or
 * space (it would end up in the Host header). On error writes a reason
 * into err and returns -1. The caller frees with target_url_free(). */
int target_url_parse(const char *url, struct target_url *out, char *err, size_t errlen);
void target_url_free(struct target_url *u);

#endif

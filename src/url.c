/* Target URLs through curl_url (see url.h). The checks before curl keep
 * the messages operators know; curl splits host, port and path. */
#include "url.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "xalloc.h"

/* The part, or NULL when the URL has none. */
static char *part(CURLU *h, CURLUPart what)
{
	char *v = NULL;

	return curl_url_get(h, what, &v, 0) == CURLUE_OK ? v : NULL;
}

static int check_text(const char *url, char *err, size_t errlen)
{
	const char *auth;
	size_t alen;

	if (!url || !*url) {
		snprintf(err, errlen, "empty URL");
		return -1;
	}
	for (const char *q = url; *q; q++) {
		if ((unsigned char)*q < 0x20 || *q == 0x7f) {
			snprintf(err, errlen, "URL has a control character");
			return -1;
		}
		if (*q == ' ') {
			snprintf(err, errlen, "URL has a control character or space at offset %ld",
				 (long)(q - url));
			return -1;
		}
	}
	if (strncasecmp(url, "http://", 7) && strncasecmp(url, "https://", 8)) {
		snprintf(err, errlen, "URL '%s' must start with http:// or https://", url);
		return -1;
	}
	auth = strstr(url, "://") + 3;
	alen = strcspn(auth, "/?#@");
	/* no user, query or fragment in a base URL */
	if (auth[alen] && auth[alen] != '/') {
		snprintf(err, errlen, "URL '%s' has an invalid character '%c' in its host", url,
			 auth[alen]);
		return -1;
	}
	if (strpbrk(auth, "?#")) {
		snprintf(err, errlen, "URL '%s': a base URL takes no query or fragment", url);
		return -1;
	}
	if (alen && auth[alen - 1] == ':' && auth[0] != ':') {
		snprintf(err, errlen, "URL '%s' has an empty port", url);
		return -1;
	}
	return 0;
}

int target_url_parse(const char *url, struct target_url *out, char *err, size_t errlen)
{
	CURLU *h;
	CURLUcode uc;
	char *scheme, *host, *port, *path;
	size_t cap;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (check_text(url, err, errlen) < 0)
		return -1;
	/* Allocated before libcurl's handle exists: on a reload out of memory
	 * (xalloc_try) an x*() call does not return, and the handle would be
	 * lost. curl's parts are no longer than the URL, percent-encoding
	 * (3 bytes a character) at most. */
	cap = 3 * strlen(url) + 16;
	out->origin = xmalloc(cap);
	out->host = xmalloc(cap);
	out->prefix = xmalloc(cap);
	h = curl_url();
	if (!h) {
		snprintf(err, errlen, "out of memory");
		target_url_free(out);
		return -1;
	}
	uc = curl_url_set(h, CURLUPART_URL, url, CURLU_PATH_AS_IS);
	scheme = part(h, CURLUPART_SCHEME);
	host = part(h, CURLUPART_HOST);
	port = part(h, CURLUPART_PORT);
	path = part(h, CURLUPART_PATH);
	if (uc == CURLUE_NO_HOST || (uc == CURLUE_OK && (!host || !*host))) {
		snprintf(err, errlen, "URL '%s' has no host", url);
	} else if (uc == CURLUE_BAD_PORT_NUMBER || (uc == CURLUE_OK && port && atoi(port) == 0)) {
		snprintf(err, errlen, "URL '%s' has an invalid port", url);
	} else if (uc == CURLUE_BAD_IPV6 && !strchr(url, ']')) {
		snprintf(err, errlen, "URL '%s' has an unclosed IPv6 literal", url);
	} else if (uc != CURLUE_OK || !scheme || !path) {
		snprintf(err, errlen, "URL '%s': %s", url,
			 uc != CURLUE_OK ? curl_url_strerror(uc) : "cannot be parsed");
	} else {
		int plen = (int)strnlen(path, cap - 1);
		int n;

		while (plen && path[plen - 1] == '/')
			plen--;
		out->https = !strcmp(scheme, "https");
		n = snprintf(out->origin, cap, "%s://%s%s%s", scheme, host, port ? ":" : "",
			     port ? port : "");
		if (n < 0 || (size_t)n >= cap || strlen(path) >= cap) {
			snprintf(err, errlen, "URL '%s' is too long once normalised", url);
		} else {
			snprintf(out->host, cap, "%s", out->origin + strlen(scheme) + 3);
			snprintf(out->prefix, cap, "%.*s", plen, path);
			rc = 0;
		}
	}
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(path);
	curl_url_cleanup(h);
	if (rc < 0)
		target_url_free(out);
	return rc;
}

void target_url_free(struct target_url *u)
{
	xfree(u->origin);
	xfree(u->host);
	xfree(u->prefix);
	memset(u, 0, sizeof(*u));
}

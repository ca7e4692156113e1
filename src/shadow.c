/* Shadow request rules: URL join, header filtering and body mode, written
 * into one caller-provided buffer (line pointers first, then the strings). */
#include "shadow.h"

#include <stdint.h>
#include <string.h>

#include "grpc.h"
#include "http_token.h"
#include "request.h"
#include "target.h"

/* Lines we may add to the client's: Host, X-Forwarded-Host,
 * X-Forwarded-For, and the suppressions Expect:, Accept:, Content-Type:. */
#define SHADOW_EXTRA_LINES 6

/* Never forwarded: hop-by-hop (RFC 9110 7.6.1) plus the framing headers
 * libcurl computes itself. */
static const char *const dropped_headers[] = {
	"connection", "keep-alive",	   "proxy-connection", "te", "trailer",
	"transfer-encoding", "upgrade", "content-length",   "expect",
};

bool shadow_method_valid(struct slice method)
{
	return http_token(method);
}

/* A header line must reach the wire as one line: token name, and no CR, LF
 * or NUL in the value (libcurl would send them verbatim). Pseudo-headers
 * (":authority") fail the token rule too. */
static bool header_sendable(const struct http_header *h)
{
	if (!shadow_method_valid(h->name))
		return false;
	for (size_t i = 0; i < h->value.len; i++) {
		char c = h->value.ptr[i];
		if (c == '\r' || c == '\n' || c == '\0')
			return false;
	}
	return true;
}

/* The client address goes into X-Forwarded-For only when it is one clean
 * token of text. */
static bool client_usable(struct slice client)
{
	if (!client.len)
		return false;
	for (size_t i = 0; i < client.len; i++) {
		unsigned char c = (unsigned char)client.ptr[i];
		if (c <= 0x20 || c == 0x7f || c == ',')
			return false;
	}
	return true;
}

static bool in_cstr_list(struct slice name, char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (slice_case_eq_cstr(name, list[i]))
			return true;
	return false;
}

static bool is_added(const struct target_config *c, struct slice name)
{
	for (size_t i = 0; i < c->n_add_headers; i++)
		if (slice_case_eq_cstr(name, c->add_headers[i].name))
			return true;
	return false;
}

static bool is_removed(const struct target_config *c, struct slice name)
{
	return in_cstr_list(name, c->remove_headers, c->n_remove_headers);
}

/* Named in a Connection header ("Connection: close, X-Secret"). */
static bool named_by_connection(const struct mirror_request *r, struct slice name)
{
	for (size_t i = 0; i < r->n_headers; i++) {
		struct slice rest;

		if (!slice_case_eq_cstr(r->headers[i].name, "connection"))
			continue;
		rest = r->headers[i].value;
		while (rest.len)
			if (slice_case_eq(slice_trim(slice_split(&rest, ',')), name))
				return true;
	}
	return false;
}

/* Whether client header i may be forwarded as it is (Host aside). */
static bool forwardable(const struct mirror_request *r, const struct target_config *c,
			size_t i, bool has_connection)
{
	const struct http_header *h = &r->headers[i];

	if (!header_sendable(h) || slice_case_eq_cstr(h->name, "host"))
		return false;
	for (size_t k = 0; k < sizeof(dropped_headers) / sizeof(dropped_headers[0]); k++)
		if (slice_case_eq_cstr(h->name, dropped_headers[k]))
			return false;
	if (has_connection && named_by_connection(r, h->name))
		return false;
	return !is_removed(c, h->name) && !is_added(c, h->name);
}

/* The path?query part of the uri: absolute-form loses scheme and
 * authority, which goes to *authority (userinfo cut; empty for any other
 * form). The path may be empty or lack its leading '/'. */
static struct slice uri_split(struct slice uri, struct slice *authority)
{
	size_t i = 0;

	*authority = slice_make("", 0);

	while (i < uri.len) {
		char c = uri.ptr[i];
		bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');

		if (!alpha && (i == 0 || !((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.')))
			break;
		i++;
	}
	if (i > 0 && uri.len - i >= 3 && !memcmp(uri.ptr + i, "://", 3)) {
		size_t from;

		i += 3;
		from = i;
		while (i < uri.len && uri.ptr[i] != '/' && uri.ptr[i] != '?' && uri.ptr[i] != '#') {
			if (uri.ptr[i] == '@')
				from = i + 1;
			i++;
		}
		*authority = slice_make(uri.ptr + from, i - from);
		return slice_make(uri.ptr + i, uri.len - i);
	}
	return uri;
}

/* The authority the client asked for: an absolute-form uri's, else its
 * Host header's; empty when it gave neither. */
static struct slice client_authority(const struct mirror_request *r)
{
	struct slice authority;

	uri_split(r->uri, &authority);
	if (authority.len)
		return authority;
	for (size_t i = 0; i < r->n_headers; i++)
		if (slice_case_eq_cstr(r->headers[i].name, "host") && header_sendable(&r->headers[i]))
			return r->headers[i].value;
	return slice_make("", 0);
}

static bool uri_valid(struct slice uri)
{
	for (size_t i = 0; i < uri.len; i++) {
		unsigned char c = (unsigned char)uri.ptr[i];
		if (c <= 0x20 || c == 0x7f)
			return false;
	}
	return true;
}

static bool body_expected(struct slice method)
{
	return slice_eq_cstr(method, "POST") || slice_eq_cstr(method, "PUT") ||
	       slice_eq_cstr(method, "PATCH");
}

static bool body_declared(const struct mirror_request *r)
{
	for (size_t i = 0; i < r->n_headers; i++)
		if (slice_case_eq_cstr(r->headers[i].name, "content-length") ||
		    slice_case_eq_cstr(r->headers[i].name, "transfer-encoding"))
			return true;
	return false;
}

size_t shadow_lines_max(const struct mirror_request *r, const struct target *t)
{
	return r->n_headers + t->cfg.n_add_headers + SHADOW_EXTRA_LINES;
}

size_t shadow_size_max(const struct mirror_request *r, const struct target *t)
{
	const struct target_config *c = &t->cfg;
	size_t host_len = client_authority(r).len;
	size_t url_host_len = strlen(t->url.host);
	size_t n;

	n = shadow_lines_max(r, t) * sizeof(char *);
	n += strlen(t->url.origin) + strlen(t->url.prefix) + 1 + r->uri.len + 1;
	n += r->method.len + 1;
	for (size_t i = 0; i < r->n_headers; i++)
		n += r->headers[i].name.len + 2 + r->headers[i].value.len + 1;
	n += 2 + r->client.len;                                             /* XFF append */
	n += sizeof("Host: ") + (host_len > url_host_len ? host_len : url_host_len);
	n += sizeof("X-Forwarded-Host: ") + host_len;
	n += sizeof("X-Forwarded-For: ") + r->client.len;
	for (size_t i = 0; i < c->n_add_headers; i++)
		n += strlen(c->add_headers[i].name) + 2 + strlen(c->add_headers[i].value) + 1;
	n += sizeof("Expect:") + sizeof("Accept:") + sizeof("Content-Type:");
	return n;
}

/* Bounded string writer over the caller's buffer. */
struct writer {
	char *buf;
	size_t len;
	size_t cap;
	bool overflow;
	bool lower_names; /* HTTP/2: header names go lower-case */
};

static void put(struct writer *w, const char *s, size_t n)
{
	if (w->overflow || n > w->cap - w->len) {
		w->overflow = true;
		return;
	}
	if (n)
		memcpy(w->buf + w->len, s, n);
	w->len += n;
}

static void put_slice(struct writer *w, struct slice s)
{
	put(w, s.ptr, s.len);
}

static void put_cstr(struct writer *w, const char *s)
{
	put(w, s, strlen(s));
}

/* A header name, lower-cased for HTTP/2 as it is written. */
static void put_name(struct writer *w, struct slice name)
{
	size_t start = w->len;

	put_slice(w, name);
	if (!w->lower_names || w->overflow)
		return;
	for (size_t i = start; i < w->len; i++)
		if (w->buf[i] >= 'A' && w->buf[i] <= 'Z')
			w->buf[i] = (char)(w->buf[i] - 'A' + 'a');
}

/* Ends the string begun at `start`; returns it (NULL on overflow). */
static const char *finish(struct writer *w, size_t start)
{
	put(w, "", 1);
	return w->overflow ? NULL : w->buf + start;
}

struct lines {
	const char **v;
	size_t n;
	size_t max;
	bool seen_accept;
	bool seen_content_type;
};

static void add_line(struct lines *l, struct writer *w, size_t start)
{
	const char *s = finish(w, start);

	if (!s || l->n == l->max) {
		w->overflow = true;
		return;
	}
	l->v[l->n++] = s;
}

/* "Name: value", or "Name;" for an empty value (libcurl's spelling). */
static void header_line(struct lines *l, struct writer *w, struct slice name, struct slice value)
{
	size_t start = w->len;

	put_name(w, name);
	if (value.len) {
		put(w, ": ", 2);
		put_slice(w, value);
	} else {
		put(w, ";", 1);
	}
	add_line(l, w, start);
	if (slice_case_eq_cstr(name, "accept"))
		l->seen_accept = true;
	else if (slice_case_eq_cstr(name, "content-type"))
		l->seen_content_type = true;
}

/* A suppression line, "Name:" (lower-cased for HTTP/2 like the rest). */
static void fixed_line(struct lines *l, struct writer *w, const char *line)
{
	size_t start = w->len;

	put_name(w, slice_from_cstr(line));
	add_line(l, w, start);
}

/* "trailers" among TE's comma-separated codings (parameters ignored). */
static bool te_lists_trailers(struct slice value)
{
	while (value.len) {
		struct slice coding = slice_split(&value, ',');
		struct slice param = coding;

		coding = slice_trim(slice_split(&param, ';'));
		if (slice_case_eq_cstr(coding, "trailers"))
			return true;
	}
	return false;
}

/* HTTP/2 keeps one TE: "te: trailers", when the client asked for it. */
static bool te_trailers_kept(const struct mirror_request *r, const struct target_config *c,
			     size_t i)
{
	const struct http_header *h = &r->headers[i];

	return c->http2 && slice_case_eq_cstr(h->name, "te") && header_sendable(h) &&
	       te_lists_trailers(h->value) && !is_removed(c, h->name) && !is_added(c, h->name);
}

/* The client's headers that survive, X-Forwarded-For extended in place. */
static void client_lines(const struct mirror_request *r, const struct target_config *c,
			 struct lines *l, struct writer *w, bool *xff_sent, bool *xfh_sent)
{
	bool has_connection = false, te_sent = false;
	size_t last_xff = SIZE_MAX;

	for (size_t i = 0; i < r->n_headers; i++)
		if (slice_case_eq_cstr(r->headers[i].name, "connection"))
			has_connection = true;
	for (size_t i = 0; i < r->n_headers; i++)
		if (slice_case_eq_cstr(r->headers[i].name, "x-forwarded-for") &&
		    forwardable(r, c, i, has_connection))
			last_xff = i;

	for (size_t i = 0; i < r->n_headers; i++) {
		const struct http_header *h = &r->headers[i];

		if (!te_sent && te_trailers_kept(r, c, i)) {
			fixed_line(l, w, "te: trailers");
			te_sent = true;
			continue;
		}
		if (!forwardable(r, c, i, has_connection))
			continue;
		if (i == last_xff && client_usable(r->client)) {
			size_t start = w->len;

			put_name(w, h->name);
			put(w, ": ", 2);
			if (h->value.len) {
				put_slice(w, h->value);
				put(w, ", ", 2);
			}
			put_slice(w, r->client);
			add_line(l, w, start);
			*xff_sent = true;
			continue;
		}
		if (i == last_xff)
			*xff_sent = true;
		if (slice_case_eq_cstr(h->name, "x-forwarded-host"))
			*xfh_sent = true;
		header_line(l, w, h->name, h->value);
	}
}

int shadow_build(const struct mirror_request *r, const struct target *t, void *buf, size_t cap,
		 struct shadow_request *out)
{
	const struct target_config *c = &t->cfg;
	struct slice host = client_authority(r), ignored;
	size_t max_lines = shadow_lines_max(r, t);
	size_t ptr_bytes = max_lines * sizeof(char *);
	struct slice path = uri_split(r->uri, &ignored);
	struct lines l = { 0 };
	struct writer w;
	bool xff_sent = false, xfh_sent = false;
	size_t start;

	memset(out, 0, sizeof(*out));
	if (!shadow_method_valid(r->method))
		return SHADOW_E_METHOD;
	if (!uri_valid(r->uri))
		return SHADOW_E_URI;
	if (ptr_bytes > cap)
		return SHADOW_E_SPACE;
	l.v = buf;
	l.max = max_lines;
	w = (struct writer){ (char *)buf + ptr_bytes, 0, cap - ptr_bytes, false, c->http2 };

	/* prefix has no trailing '/', path gets a leading one: one slash at the join */
	start = w.len;
	put_cstr(&w, t->url.origin);
	put_cstr(&w, t->url.prefix);
	if (!path.len || path.ptr[0] != '/')
		put(&w, "/", 1);
	put_slice(&w, path);
	out->url = finish(&w, start);

	start = w.len;
	put_slice(&w, r->method);
	out->method = finish(&w, start);

	if (!is_added(c, SLICE_LIT("host"))) {
		struct slice value = c->host_policy == HOST_FROM_CLIENT && host.len
					     ? host
					     : slice_from_cstr(t->url.host);

		start = w.len;
		header_line(&l, &w, SLICE_LIT("Host"), value);
		if (!w.overflow)
			out->authority = w.buf + start + sizeof("Host: ") - 1;
	}

	if (c->send_headers) {
		client_lines(r, c, &l, &w, &xff_sent, &xfh_sent);
		if (c->host_policy == HOST_FROM_TARGET && host.len && !xfh_sent &&
		    !is_removed(c, SLICE_LIT("x-forwarded-host")) &&
		    !is_added(c, SLICE_LIT("x-forwarded-host")))
			header_line(&l, &w, SLICE_LIT("X-Forwarded-Host"), host);
		if (client_usable(r->client) && !xff_sent && !is_removed(c, SLICE_LIT("x-forwarded-for")) &&
		    !is_added(c, SLICE_LIT("x-forwarded-for")))
			header_line(&l, &w, SLICE_LIT("X-Forwarded-For"), r->client);
	}

	for (size_t i = 0; i < c->n_add_headers; i++)
		header_line(&l, &w, slice_from_cstr(c->add_headers[i].name),
			    slice_from_cstr(c->add_headers[i].value));

	if (slice_eq_cstr(r->method, "HEAD")) {
		out->body_mode = SHADOW_BODY_HEAD;
	} else if (r->body.len || body_declared(r) || body_expected(r->method)) {
		out->body_mode = SHADOW_BODY_SEND;
		out->body = c->send_body ? r->body : slice_make("", 0);
	}

	fixed_line(&l, &w, "Expect:");
	if (!l.seen_accept)
		fixed_line(&l, &w, "Accept:");
	if (out->body_mode == SHADOW_BODY_SEND && !l.seen_content_type)
		fixed_line(&l, &w, "Content-Type:");

	if (w.overflow || !out->url || !out->method)
		return SHADOW_E_SPACE;
	out->grpc = grpc_call(r->headers, r->n_headers);
	out->lines = l.v;
	out->n_lines = l.n;
	return SHADOW_OK;
}

/* Unit tests for src/shadow.c: the URL, header lines and body a shadow gets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "request.h"
#include "shadow.h"
#include "target.h"

/* ---- fixtures ---- */

struct built {
	struct stats_registry reg;
	struct target_set *set;
	struct mirror_request *r;
	void *buf;
	struct shadow_request s;
	int rc;
};

typedef void (*tweak_fn)(struct target_config *c);

/* hdrs: name, value, ..., NULL */
static struct mirror_request *make_request(const char *method, const char *uri, const char *body,
					   size_t body_len, const char *client,
					   const char *const *hdrs)
{
	struct http_header items[64];
	struct header_list list = header_list_init(items, 64);
	struct request_parts p = {
		.method = slice_from_cstr(method),
		.uri = slice_from_cstr(uri),
		.version = SLICE_LIT("1.1"),
		.body = slice_make(body ? body : "", body_len),
		.client = slice_from_cstr(client ? client : ""),
		.headers = &list,
	};

	for (size_t i = 0; hdrs && hdrs[i]; i += 2) {
		items[list.count].name = slice_from_cstr(hdrs[i]);
		items[list.count].value = slice_from_cstr(hdrs[i + 1]);
		list.count++;
	}
	return request_new(&p);
}

static struct target_set *make_target(const char *url, tweak_fn tweak, struct stats_registry *reg)
{
	struct agent_config cfg;
	struct target_set *set;
	char err[256];

	config_init(&cfg);
	struct target_config *t = config_add_target(&cfg, "shadow", url);
	if (tweak)
		tweak(t);
	set = target_set_new(&cfg, reg, err, sizeof(err));
	if (!set)
		fail_msg("target_set_new: %s", err);
	config_free(&cfg);
	return set;
}

/* Builds into a buffer of exactly shadow_size_max() bytes, so ASan sees any
 * write past the bound. */
static void build(struct built *b, const char *url, tweak_fn tweak, const char *method,
		  const char *uri, const char *body, size_t body_len, const char *client,
		  const char *const *hdrs)
{
	size_t cap;

	memset(b, 0, sizeof(*b));
	b->set = make_target(url, tweak, &b->reg);
	b->r = make_request(method, uri, body, body_len, client, hdrs);
	assert_non_null(b->r);
	cap = shadow_size_max(b->r, &b->set->targets[0]);
	b->buf = malloc(cap);
	assert_non_null(b->buf);
	b->rc = shadow_build(b->r, &b->set->targets[0], b->buf, cap, &b->s);
}

static void built_free(struct built *b)
{
	free(b->buf);
	request_free(b->r);
	target_set_unref(b->set);
	stats_registry_free(&b->reg);
}

/* The lines, joined with '|', for whole-list comparisons. */
static const char *joined(const struct built *b)
{
	static char out[4096];
	size_t n = 0;

	out[0] = '\0';
	for (size_t i = 0; i < b->s.n_lines; i++)
		n += (size_t)snprintf(out + n, sizeof(out) - n, "%s%s", i ? "|" : "", b->s.lines[i]);
	return out;
}

static bool has_line(const struct built *b, const char *line)
{
	for (size_t i = 0; i < b->s.n_lines; i++)
		if (!strcmp(b->s.lines[i], line))
			return true;
	return false;
}

/* ---- URL ---- */

static void test_shadow_url_joins_prefix_without_double_slash(void **state)
{
	struct built b;

	build(&b, "http://shadow:8080/api/", NULL, "GET", "/v1/items?id=7&x=%20", NULL, 0, NULL,
	      NULL);
	assert_int_equal(b.rc, SHADOW_OK);
	assert_string_equal(b.s.url, "http://shadow:8080/api/v1/items?id=7&x=%20");
	built_free(&b);

	build(&b, "http://shadow/api", NULL, "GET", "/", NULL, 0, NULL, NULL);
	assert_string_equal(b.s.url, "http://shadow/api/");
	built_free(&b);

	build(&b, "https://shadow/", NULL, "GET", "/a//b/../c", NULL, 0, NULL, NULL);
	assert_string_equal(b.s.url, "https://shadow/a//b/../c");
	built_free(&b);
}

static void test_shadow_absolute_form_uri_reduced_to_path(void **state)
{
	struct built b;

	build(&b, "http://shadow/pre", NULL, "GET", "http://client.example:81/p/q?x=1", NULL, 0,
	      NULL, NULL);
	assert_string_equal(b.s.url, "http://shadow/pre/p/q?x=1");
	built_free(&b);

	build(&b, "http://shadow", NULL, "GET", "https://client.example", NULL, 0, NULL, NULL);
	assert_string_equal(b.s.url, "http://shadow/");
	built_free(&b);

	build(&b, "http://shadow", NULL, "GET", "http://client.example?only=query", NULL, 0, NULL,
	      NULL);
	assert_string_equal(b.s.url, "http://shadow/?only=query");
	built_free(&b);
}

static void test_shadow_empty_uri_becomes_slash(void **state)
{
	struct built b;

	build(&b, "http://shadow/p", NULL, "GET", "", NULL, 0, NULL, NULL);
	assert_int_equal(b.rc, SHADOW_OK);
	assert_string_equal(b.s.url, "http://shadow/p/");
	built_free(&b);
}

static void test_shadow_uri_with_space_or_control_rejected(void **state)
{
	struct built b;

	build(&b, "http://shadow", NULL, "GET", "/a b", NULL, 0, NULL, NULL);
	assert_int_equal(b.rc, SHADOW_E_URI);
	built_free(&b);
	build(&b, "http://shadow", NULL, "GET", "/a\r\nX-Injected: 1", NULL, 0, NULL, NULL);
	assert_int_equal(b.rc, SHADOW_E_URI);
	built_free(&b);
}

/* ---- method ---- */

static void test_shadow_method_kept_exactly_and_must_be_token(void **state)
{
	const char *good[] = { "GET", "M-SEARCH", "PROPFIND", "purge", "X_CUSTOM.1" };
	const char *bad[] = { "", "GET X", "G\r\nET", "GET:", "(GET)" };
	struct built b;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		build(&b, "http://s", NULL, good[i], "/", NULL, 0, NULL, NULL);
		assert_int_equal(b.rc, SHADOW_OK);
		assert_string_equal(b.s.method, good[i]);
		built_free(&b);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		build(&b, "http://s", NULL, bad[i], "/", NULL, 0, NULL, NULL);
		assert_int_equal(b.rc, SHADOW_E_METHOD);
		built_free(&b);
	}
}

/* ---- headers ---- */

static void test_shadow_hop_by_hop_and_framing_headers_removed(void **state)
{
	const char *h[] = { "Host", "front.example",
			    "Connection", "keep-alive, X-Secret",
			    "X-Secret", "named by Connection",
			    "Keep-Alive", "timeout=5",
			    "Proxy-Connection", "keep-alive",
			    "TE", "trailers",
			    "Trailer", "X-T",
			    "Transfer-Encoding", "chunked",
			    "Upgrade", "h2c",
			    "Content-Length", "3",
			    "Expect", "100-continue",
			    "X-Keep", "yes",
			    "accept", "*/*",
			    NULL };
	struct built b;

	build(&b, "http://shadow:81", NULL, "POST", "/", "abc", 3, NULL, h);
	assert_int_equal(b.rc, SHADOW_OK);
	assert_string_equal(joined(&b), "Host: shadow:81|X-Keep: yes|accept: */*|"
					"X-Forwarded-Host: front.example|Expect:|Content-Type:");
	assert_int_equal(b.s.body_mode, SHADOW_BODY_SEND);
	assert_int_equal(b.s.body.len, 3);
	built_free(&b);
}

static void test_shadow_host_from_target_moves_client_host_to_x_forwarded_host(void **state)
{
	const char *h[] = { "host", "front.example:8443", "Accept", "text/html", NULL };
	struct built b;

	build(&b, "https://shadow.internal:9443/x", NULL, "GET", "/", NULL, 0, NULL, h);
	assert_string_equal(joined(&b), "Host: shadow.internal:9443|Accept: text/html|"
					"X-Forwarded-Host: front.example:8443|Expect:");
	built_free(&b);
}

static void set_host_from_client(struct target_config *c)
{
	c->host_policy = HOST_FROM_CLIENT;
}

static void test_shadow_host_from_client_keeps_client_host(void **state)
{
	const char *h[] = { "Accept", "*/*", "Host", "front.example", NULL };
	struct built b;

	build(&b, "http://shadow", set_host_from_client, "GET", "/", NULL, 0, NULL, h);
	assert_string_equal(joined(&b), "Host: front.example|Accept: */*|Expect:");
	built_free(&b);

	/* no client Host: the target's */
	build(&b, "http://shadow", set_host_from_client, "GET", "/", NULL, 0, NULL, NULL);
	assert_string_equal(joined(&b), "Host: shadow|Expect:|Accept:");
	built_free(&b);
}

static void test_shadow_existing_x_forwarded_host_kept(void **state)
{
	const char *h[] = { "Host", "inner", "X-Forwarded-Host", "outer", NULL };
	struct built b;

	build(&b, "http://shadow", NULL, "GET", "/", NULL, 0, NULL, h);
	assert_string_equal(joined(&b), "Host: shadow|X-Forwarded-Host: outer|Expect:|Accept:");
	built_free(&b);
}

static void test_shadow_x_forwarded_for_appended_or_added(void **state)
{
	const char *two[] = { "X-Forwarded-For", "10.0.0.1", "x-forwarded-for", "10.0.0.2", NULL };
	const char *empty[] = { "X-Forwarded-For", "", NULL };
	struct built b;

	build(&b, "http://s", NULL, "GET", "/", NULL, 0, "192.0.2.7", two);
	assert_string_equal(joined(&b), "Host: s|X-Forwarded-For: 10.0.0.1|"
					"x-forwarded-for: 10.0.0.2, 192.0.2.7|Expect:|Accept:");
	built_free(&b);

	build(&b, "http://s", NULL, "GET", "/", NULL, 0, "2001:db8::1", NULL);
	assert_string_equal(joined(&b), "Host: s|X-Forwarded-For: 2001:db8::1|Expect:|Accept:");
	built_free(&b);

	build(&b, "http://s", NULL, "GET", "/", NULL, 0, "192.0.2.7", empty);
	assert_string_equal(joined(&b), "Host: s|X-Forwarded-For: 192.0.2.7|Expect:|Accept:");
	built_free(&b);

	/* no client address: nothing to add */
	build(&b, "http://s", NULL, "GET", "/", NULL, 0, "", two);
	assert_string_equal(joined(&b), "Host: s|X-Forwarded-For: 10.0.0.1|"
					"x-forwarded-for: 10.0.0.2|Expect:|Accept:");
	built_free(&b);
}

static void remove_some(struct target_config *c)
{
	static char *names[] = { "cookie", "X-FORWARDED-FOR", "x-forwarded-host" };

	c->remove_headers = calloc(3, sizeof(char *));
	for (size_t i = 0; i < 3; i++)
		c->remove_headers[i] = strdup(names[i]);
	c->n_remove_headers = 3;
}

static void test_shadow_remove_headers_case_insensitive(void **state)
{
	const char *h[] = { "Host", "front", "Cookie", "sid=1", "COOKIE", "b=2",
			    "X-Forwarded-For", "10.1.1.1", "X-Other", "1", NULL };
	struct built b;

	build(&b, "http://s", remove_some, "GET", "/", NULL, 0, "192.0.2.1", h);
	assert_string_equal(joined(&b), "Host: s|X-Other: 1|Expect:|Accept:");
	built_free(&b);
}

static void add_some(struct target_config *c)
{
	c->add_headers = calloc(3, sizeof(*c->add_headers));
	c->add_headers[0].name = strdup("X-Mirror");
	c->add_headers[0].value = strdup("shadow-1");
	c->add_headers[1].name = strdup("authorization");
	c->add_headers[1].value = strdup("Bearer test");
	c->add_headers[2].name = strdup("X-Empty");
	c->add_headers[2].value = strdup("");
	c->n_add_headers = 3;
}

static void test_shadow_add_headers_replace_same_named(void **state)
{
	const char *h[] = { "Authorization", "Bearer prod", "X-Mirror", "client", "X-A", "1", NULL };
	struct built b;

	build(&b, "http://s", add_some, "GET", "/", NULL, 0, NULL, h);
	assert_string_equal(joined(&b), "Host: s|X-A: 1|X-Mirror: shadow-1|"
					"authorization: Bearer test|X-Empty;|Expect:|Accept:");
	built_free(&b);
}

static void add_host(struct target_config *c)
{
	c->add_headers = calloc(1, sizeof(*c->add_headers));
	c->add_headers[0].name = strdup("Host");
	c->add_headers[0].value = strdup("vhost.shadow");
	c->n_add_headers = 1;
}

static void test_shadow_added_host_overrides_policy(void **state)
{
	const char *h[] = { "Host", "front", NULL };
	struct built b;

	build(&b, "http://s", add_host, "GET", "/", NULL, 0, NULL, h);
	assert_string_equal(joined(&b), "X-Forwarded-Host: front|Host: vhost.shadow|Expect:|Accept:");
	built_free(&b);
}

static void no_client_headers(struct target_config *c)
{
	add_some(c);
	c->send_headers = false;
}

static void test_shadow_send_headers_false_forwards_only_added(void **state)
{
	const char *h[] = { "Host", "front", "Cookie", "a=1", "Accept", "*/*",
			    "Content-Type", "text/plain", NULL };
	struct built b;

	build(&b, "http://s", no_client_headers, "POST", "/", "x", 1, "192.0.2.1", h);
	assert_string_equal(joined(&b), "Host: s|X-Mirror: shadow-1|authorization: Bearer test|"
					"X-Empty;|Expect:|Accept:|Content-Type:");
	built_free(&b);
}

static void test_shadow_empty_header_value_uses_semicolon_form(void **state)
{
	const char *h[] = { "X-Empty", "", "Accept", "", NULL };
	struct built b;

	build(&b, "http://s", NULL, "GET", "/", NULL, 0, NULL, h);
	/* "Accept;" sends an empty Accept, so no "Accept:" suppression either */
	assert_string_equal(joined(&b), "Host: s|X-Empty;|Accept;|Expect:");
	built_free(&b);
}

static void test_shadow_unsendable_headers_dropped(void **state)
{
	const char *h[] = { ":authority", "front", "X-Bad", "a\r\nX-Injected: 1", "Bad Name", "v",
			    "X-Blank", "", "X-Good", "ok", "", "empty-name", NULL };
	struct built b;

	build(&b, "http://s", NULL, "GET", "/", NULL, 0, NULL, h);
	assert_string_equal(joined(&b), "Host: s|X-Blank;|X-Good: ok|Expect:|Accept:");
	built_free(&b);
}

/* ---- body ---- */

static void test_shadow_body_modes_follow_method_and_declared_length(void **state)
{
	const char *cl0[] = { "Content-Length", "0", NULL };
	struct built b;

	build(&b, "http://s", NULL, "HEAD", "/", NULL, 0, NULL, NULL);
	assert_int_equal(b.s.body_mode, SHADOW_BODY_HEAD);
	assert_false(has_line(&b, "Content-Type:"));
	built_free(&b);

	build(&b, "http://s", NULL, "GET", "/", NULL, 0, NULL, NULL);
	assert_int_equal(b.s.body_mode, SHADOW_BODY_NONE);
	assert_false(has_line(&b, "Content-Type:"));
	built_free(&b);

	build(&b, "http://s", NULL, "POST", "/", NULL, 0, NULL, NULL);
	assert_int_equal(b.s.body_mode, SHADOW_BODY_SEND);
	assert_int_equal(b.s.body.len, 0);
	assert_true(has_line(&b, "Content-Type:"));
	built_free(&b);

	build(&b, "http://s", NULL, "PATCH", "/", NULL, 0, NULL, NULL);
	assert_int_equal(b.s.body_mode, SHADOW_BODY_SEND);
	built_free(&b);

	build(&b, "http://s", NULL, "GET", "/", "{\"q\":1}", 7, NULL, NULL);
	assert_int_equal(b.s.body_mode, SHADOW_BODY_SEND);
	assert_int_equal(b.s.body.len, 7);
	assert_memory_equal(b.s.body.ptr, "{\"q\":1}", 7);
	built_free(&b);

	build(&b, "http://s", NULL, "DELETE", "/", NULL, 0, NULL, cl0);
	assert_int_equal(b.s.body_mode, SHADOW_BODY_SEND);
	assert_int_equal(b.s.body.len, 0);
	built_free(&b);

	build(&b, "http://s", NULL, "DELETE", "/", NULL, 0, NULL, NULL);
	assert_int_equal(b.s.body_mode, SHADOW_BODY_NONE);
	built_free(&b);
}

static void no_body(struct target_config *c)
{
	c->send_body = false;
}

static void test_shadow_send_body_false_sends_empty_body(void **state)
{
	const char *h[] = { "Content-Type", "application/json", NULL };
	struct built b;

	build(&b, "http://s", no_body, "PUT", "/", "{}", 2, NULL, h);
	assert_int_equal(b.s.body_mode, SHADOW_BODY_SEND);
	assert_int_equal(b.s.body.len, 0);
	assert_string_equal(joined(&b), "Host: s|Content-Type: application/json|Expect:|Accept:");
	built_free(&b);
}

/* ---- bounds ---- */

static void test_shadow_small_buffer_fails_cleanly(void **state)
{
	const char *h[] = { "Host", "front", "X-A", "some value", NULL };
	struct stats_registry reg = { 0 };
	struct target_set *set = make_target("http://shadow/p", NULL, &reg);
	struct mirror_request *r = make_request("GET", "/x", NULL, 0, "192.0.2.1", h);
	size_t max = shadow_size_max(r, &set->targets[0]);
	struct shadow_request s;

	for (size_t cap = 0; cap < max; cap += 7) {
		void *buf = malloc(cap ? cap : 1);
		int rc = shadow_build(r, &set->targets[0], buf, cap, &s);

		/* either it fits (the bound is an upper bound) or it says so */
		assert_true(rc == SHADOW_OK || rc == SHADOW_E_SPACE);
		free(buf);
	}
	request_free(r);
	target_set_unref(set);
	stats_registry_free(&reg);
}

/* ---- HTTP/2 targets ---- */

static void set_http2(struct target_config *c)
{
	c->http2 = true;
}

static void set_http2_host_from_client(struct target_config *c)
{
	c->http2 = true;
	c->host_policy = HOST_FROM_CLIENT;
}

static void test_shadow_h2_names_lower_case_and_connection_headers_stripped(void **state)
{
	const char *h[] = { "Host", "front.example",
			    "Connection", "keep-alive, X-Secret",
			    "X-Secret", "named by Connection",
			    "Keep-Alive", "timeout=5",
			    "Proxy-Connection", "keep-alive",
			    "Transfer-Encoding", "chunked",
			    "Upgrade", "h2c",
			    "TE", "gzip",
			    "X-Mixed-Case", "Value Kept As Is",
			    "Content-Type", "text/plain",
			    "X-Forwarded-For", "192.0.2.1",
			    NULL };
	struct built b;

	build(&b, "http://shadow:81", set_http2, "POST", "/Up?Q=1", "abc", 3, "10.0.0.9", h);
	assert_int_equal(b.rc, SHADOW_OK);
	assert_string_equal(b.s.url, "http://shadow:81/Up?Q=1");
	assert_string_equal(joined(&b), "host: shadow:81|x-mixed-case: Value Kept As Is|"
					"content-type: text/plain|"
					"x-forwarded-for: 192.0.2.1, 10.0.0.9|"
					"x-forwarded-host: front.example|expect:|accept:");
	assert_string_equal(b.s.authority, "shadow:81");
	assert_false(b.s.grpc);
	built_free(&b);
}

static void add_mixed_case(struct target_config *c)
{
	c->http2 = true;
	c->n_add_headers = 1;
	c->add_headers = calloc(1, sizeof(*c->add_headers));
	c->add_headers[0].name = strdup("X-Mirror-Of");
	c->add_headers[0].value = strdup("Prod");
}

static void test_shadow_h2_added_headers_lower_case_too(void **state)
{
	struct built b;

	build(&b, "http://s", add_mixed_case, "GET", "/", NULL, 0, NULL, NULL);
	assert_int_equal(b.rc, SHADOW_OK);
	assert_string_equal(joined(&b), "host: s|x-mirror-of: Prod|expect:|accept:");
	built_free(&b);
}

/* HAProxy hands an HTTP/2 client's request over with the authority in an
 * absolute-form uri and no Host header. */
static void test_shadow_h2_authority_from_target_policy(void **state)
{
	struct built b;

	build(&b, "http://shadow.internal:50051/pre", set_http2, "POST",
	      "https://front.example:8443/pkg.Greeter/SayHello", "", 0, NULL, NULL);
	assert_int_equal(b.rc, SHADOW_OK);
	assert_string_equal(b.s.url, "http://shadow.internal:50051/pre/pkg.Greeter/SayHello");
	assert_string_equal(b.s.authority, "shadow.internal:50051");
	assert_string_equal(joined(&b), "host: shadow.internal:50051|"
					"x-forwarded-host: front.example:8443|expect:|accept:|"
					"content-type:");
	built_free(&b);
}

static void test_shadow_h2_authority_from_client_policy(void **state)
{
	const char *h[] = { "host", "front.example", NULL };
	struct built b;

	/* absolute-form: the uri's authority, userinfo cut */
	build(&b, "http://shadow:50051", set_http2_host_from_client, "GET",
	      "http://user:pw@front.example:8080/p?q", NULL, 0, NULL, NULL);
	assert_int_equal(b.rc, SHADOW_OK);
	assert_string_equal(b.s.url, "http://shadow:50051/p?q");
	assert_string_equal(b.s.authority, "front.example:8080");
	assert_string_equal(joined(&b), "host: front.example:8080|expect:|accept:");
	built_free(&b);

	/* origin-form: the Host header */
	build(&b, "http://shadow:50051", set_http2_host_from_client, "GET", "/p", NULL, 0, NULL, h);
	assert_int_equal(b.rc, SHADOW_OK);
	assert_string_equal(b.s.authority, "front.example");
	assert_string_equal(joined(&b), "host: front.example|expect:|accept:");
	built_free(&b);

	/* neither: the target's */
	build(&b, "http://shadow:50051", set_http2_host_from_client, "GET", "/p", NULL, 0, NULL,
	      NULL);
	assert_int_equal(b.rc, SHADOW_OK);
	assert_string_equal(b.s.authority, "shadow:50051");
	built_free(&b);
}

/* RFC 9112 3.2.2: an absolute-form uri's authority wins over Host, for
 * HTTP/1.1 targets as well. */
static void test_shadow_h1_absolute_form_authority_wins_over_host(void **state)
{
	const char *h[] = { "Host", "other.example", NULL };
	struct built b;

	build(&b, "http://shadow", set_host_from_client, "GET", "http://front.example/x", NULL, 0,
	      NULL, h);
	assert_int_equal(b.rc, SHADOW_OK);
	assert_string_equal(joined(&b), "Host: front.example|Expect:|Accept:");
	built_free(&b);
}

/* A gRPC unary call as HAProxy hands it over from an h2 frontend: the
 * length-prefixed message (flag byte, 4-byte big-endian length) goes byte
 * for byte, te: trailers stays. */
static void test_shadow_grpc_keeps_te_trailers_and_body(void **state)
{
	static const char msg[] = { 0, 0, 0, 0, 7, 0x0a, 0x05, 'w', 'o', 'r', 'l', 'd' };
	const char *h[] = { "content-type", "application/grpc+proto",
			    "te", "trailers",
			    "grpc-timeout", "5S",
			    "user-agent", "grpc-python/1.51.1",
			    NULL };
	struct built b;

	build(&b, "http://shadow:50051", set_http2, "POST", "http://front:8080/pkg.Svc/Call", msg,
	      sizeof(msg), NULL, h);
	assert_int_equal(b.rc, SHADOW_OK);
	assert_true(b.s.grpc);
	assert_string_equal(joined(&b), "host: shadow:50051|content-type: application/grpc+proto|"
					"te: trailers|grpc-timeout: 5S|"
					"user-agent: grpc-python/1.51.1|x-forwarded-host: front:8080|"
					"expect:|accept:");
	assert_int_equal(b.s.body_mode, SHADOW_BODY_SEND);
	assert_int_equal(b.s.body.len, sizeof(msg));
	assert_memory_equal(b.s.body.ptr, msg, sizeof(msg));
	built_free(&b);
}

static void test_shadow_te_trailers_normalised_for_h2_dropped_for_h1(void **state)
{
	const char *h[] = { "TE", "deflate;q=0.5, Trailers", "te", "trailers", NULL };
	const char *gzip_only[] = { "TE", "gzip", NULL };
	struct built b;

	/* HTTP/2 allows TE only as "trailers": one line, whatever else was listed */
	build(&b, "http://s", set_http2, "GET", "/", NULL, 0, NULL, h);
	assert_int_equal(b.rc, SHADOW_OK);
	assert_string_equal(joined(&b), "host: s|te: trailers|expect:|accept:");
	built_free(&b);

	build(&b, "http://s", set_http2, "GET", "/", NULL, 0, NULL, gzip_only);
	assert_int_equal(b.rc, SHADOW_OK);
	assert_false(has_line(&b, "te: gzip"));
	assert_string_equal(joined(&b), "host: s|expect:|accept:");
	built_free(&b);

	/* HTTP/1.1: TE is hop-by-hop */
	build(&b, "http://s", NULL, "GET", "/", NULL, 0, NULL, h);
	assert_int_equal(b.rc, SHADOW_OK);
	assert_string_equal(joined(&b), "Host: s|Expect:|Accept:");
	built_free(&b);
}

static bool name_lower_case(const char *line)
{
	for (const char *p = line; *p && *p != ':' && *p != ';'; p++)
		if (*p >= 'A' && *p <= 'Z')
			return false;
	return true;
}

static uint32_t rnd(uint64_t *s)
{
	*s = *s * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(*s >> 33);
}

static void rnd_str(uint64_t *s, char *out, size_t max)
{
	static const char alphabet[] = "abcXYZ019-_ ,;:/\t\r\n";
	size_t n = rnd(s) % max;

	for (size_t i = 0; i < n; i++)
		out[i] = alphabet[rnd(s) % (sizeof(alphabet) - 1)];
	out[n] = '\0';
}

static void random_config(struct target_config *c)
{
	static uint64_t seed = 42;

	c->host_policy = rnd(&seed) % 2 ? HOST_FROM_CLIENT : HOST_FROM_TARGET;
	c->http2 = rnd(&seed) % 2;
	c->send_headers = rnd(&seed) % 4 != 0;
	c->send_body = rnd(&seed) % 4 != 0;
	if (rnd(&seed) % 2)
		add_some(c);
	if (rnd(&seed) % 2)
		remove_some(c);
}

static void test_shadow_random_requests_stay_within_bound(void **state)
{
	static const char *names[] = { "Host", "Connection", "X-Forwarded-For", "x-forwarded-host",
				       "Accept", "Content-Type", "Content-Length", "Cookie",
				       "X-Mirror", "TE", "Bad Name", ":path", "" };
	uint64_t seed = 7;

	for (int iter = 0; iter < 3000; iter++) {
		char vals[12][40], uri[64], client[24];
		const char *h[2 * 12 + 1];
		size_t nh = rnd(&seed) % 12;
		struct built b;

		for (size_t i = 0; i < nh; i++) {
			h[2 * i] = names[rnd(&seed) % (sizeof(names) / sizeof(names[0]))];
			rnd_str(&seed, vals[i], sizeof(vals[i]));
			if (rnd(&seed) % 4 == 0)
				snprintf(vals[i], sizeof(vals[i]), "%s", "gzip, trailers;q=1");
			h[2 * i + 1] = vals[i];
		}
		h[2 * nh] = NULL;
		snprintf(uri, sizeof(uri), "%s/p%u?q=%u", rnd(&seed) % 3 ? "" : "http://c.example",
			 rnd(&seed), rnd(&seed));
		rnd_str(&seed, client, sizeof(client));
		build(&b, rnd(&seed) % 2 ? "http://shadow:1/pre/" : "https://s", random_config,
		      rnd(&seed) % 3 ? "POST" : "GET", uri, "body", rnd(&seed) % 5, client, h);
		assert_int_equal(b.rc, SHADOW_OK);
		assert_true(b.s.n_lines <= shadow_lines_max(b.r, &b.set->targets[0]));
		for (size_t i = 0; i < b.s.n_lines; i++) {
			const char *l = b.s.lines[i];
			assert_true(l > (char *)b.buf);
			assert_null(strpbrk(l, "\r\n"));
			if (b.set->targets[0].cfg.http2)
				assert_true(name_lower_case(l));
		}
		built_free(&b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shadow_url_joins_prefix_without_double_slash),
		cmocka_unit_test(test_shadow_absolute_form_uri_reduced_to_path),
		cmocka_unit_test(test_shadow_empty_uri_becomes_slash),
		cmocka_unit_test(test_shadow_uri_with_space_or_control_rejected),
		cmocka_unit_test(test_shadow_method_kept_exactly_and_must_be_token),
		cmocka_unit_test(test_shadow_hop_by_hop_and_framing_headers_removed),
		cmocka_unit_test(test_shadow_host_from_target_moves_client_host_to_x_forwarded_host),
		cmocka_unit_test(test_shadow_host_from_client_keeps_client_host),
		cmocka_unit_test(test_shadow_existing_x_forwarded_host_kept),
		cmocka_unit_test(test_shadow_x_forwarded_for_appended_or_added),
		cmocka_unit_test(test_shadow_remove_headers_case_insensitive),
		cmocka_unit_test(test_shadow_add_headers_replace_same_named),
		cmocka_unit_test(test_shadow_added_host_overrides_policy),
		cmocka_unit_test(test_shadow_send_headers_false_forwards_only_added),
		cmocka_unit_test(test_shadow_empty_header_value_uses_semicolon_form),
		cmocka_unit_test(test_shadow_unsendable_headers_dropped),
		cmocka_unit_test(test_shadow_body_modes_follow_method_and_declared_length),
		cmocka_unit_test(test_shadow_send_body_false_sends_empty_body),
		cmocka_unit_test(test_shadow_small_buffer_fails_cleanly),
		cmocka_unit_test(test_shadow_h2_names_lower_case_and_connection_headers_stripped),
		cmocka_unit_test(test_shadow_h2_added_headers_lower_case_too),
		cmocka_unit_test(test_shadow_h2_authority_from_target_policy),
		cmocka_unit_test(test_shadow_h2_authority_from_client_policy),
		cmocka_unit_test(test_shadow_h1_absolute_form_authority_wins_over_host),
		cmocka_unit_test(test_shadow_grpc_keeps_te_trailers_and_body),
		cmocka_unit_test(test_shadow_te_trailers_normalised_for_h2_dropped_for_h1),
		cmocka_unit_test(test_shadow_random_requests_stay_within_bound),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

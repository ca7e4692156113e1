/* Curl options (see replay_options.h): one easy handle per shadow
 * transfer, set up from scratch each time it is reused. */
#include "replay_options.h"

#include <string.h>

#include "grpc.h"
#include "log.h"
#include "replay_window.h"
#include "replay_transfer.h"
#include "request.h"
#include "shadow.h"
#include "target.h"

/* Answers are discarded, so a small receive buffer per easy handle saves
 * memory; 4 KiB still takes a typical status line and headers in one read. */
#define RECV_BUFFER 4096
/* Bodies over 64 KiB are sent through an upload buffer each easy handle
 * keeps; libcurl's minimum (16 KiB) instead of its 64 KiB default. */
#define UPLOAD_BUFFER (16 * 1024)
#define MAX_CACHED_CONNS 4096
/* Streams curl opens on one HTTP/2 connection before it opens another
 * (CURLMOPT_MAX_CONCURRENT_STREAMS; curl's default): the server's
 * SETTINGS_MAX_CONCURRENT_STREAMS lowers it, never raises it. */
#define REPLAY_H2_STREAMS 100

static size_t discard_body(char *ptr, size_t size, size_t nmemb, void *arg)
{
	return size * nmemb;
}

/* One header callback for all a transfer reads from the shadow's answer
 * head. grpc-status arrives as a trailer after the messages, or as a
 * header of a trailers-only answer (an error before any message): libcurl
 * hands both here (7.88 keeps an HTTP/2 stream's trailers and writes them
 * as header lines when the stream closes, 8.x flags them
 * CLIENTWRITE_TRAILER but writes them the same way). A target that
 * compares keeps the whole head. */
static size_t on_header(char *line, size_t size, size_t nmemb, void *arg)
{
	struct transfer *x = arg;
	size_t len = size * nmemb;

	if (x->grpc) {
		int slot = grpc_status_line(line, len);

		if (slot != GRPC_STATUS_NONE)
			x->grpc_status = slot;
	}
	if (x->capturing)
		shadow_capture_header(&x->capture, line, len);
	return len;
}

static size_t capture_body(char *ptr, size_t size, size_t nmemb, void *arg)
{
	return shadow_capture_body(arg, ptr, size * nmemb);
}

void replay_options_capture(struct transfer *x, struct queue_budget *budget)
{
	/* below compare = body the body decides nothing: only its length and
	 * digest are kept, and the capture budget goes to answers that need it */
	size_t body_max = x->t->cfg.compare == VERDICT_LEVEL_BODY ? x->t->cfg.compare_body_max : 0;

	shadow_capture_begin(&x->capture, body_max, budget);
	x->capturing = true;
	curl_easy_setopt(x->easy, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(x->easy, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(x->easy, CURLOPT_WRITEFUNCTION, capture_body);
	curl_easy_setopt(x->easy, CURLOPT_WRITEDATA, &x->capture);
}

static void set_target_options(struct transfer *x, const struct target *t,
			       const struct replay_options *o)
{
	const struct target_config *c = &t->cfg;
	CURL *e = x->easy;

	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	/* Shadows are reached directly: an http_proxy in the agent's
	 * environment must not divert mirrored traffic (and libcurl would
	 * otherwise read the proxy variables on every transfer). */
	curl_easy_setopt(e, CURLOPT_PROXY, "");
	curl_easy_setopt(e, CURLOPT_PATH_AS_IS, 1L);
	curl_easy_setopt(e, CURLOPT_BUFFERSIZE, (long)RECV_BUFFER);
	curl_easy_setopt(e, CURLOPT_UPLOAD_BUFFERSIZE, (long)UPLOAD_BUFFER);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard_body);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(e, CURLOPT_PRIVATE, x);
	if (c->timeout_ms)
		curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)c->timeout_ms);
	if (c->connect_timeout_ms)
		curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)c->connect_timeout_ms);
	if (c->http2 && t->url.https) {
		/* negotiated by ALPN; wait for a connection to multiplex on rather
		 * than open a new one per transfer */
		curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
		curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
	} else if (c->http2) {
		/* h2c: prior knowledge, no Upgrade dance */
		curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE);
		if (o->h2c_reuse_broken) {
			curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
			curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
		} else {
			curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
		}
	} else {
		curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	}
	if (t->url.https) {
		if (c->ca_file)
			curl_easy_setopt(e, CURLOPT_CAINFO, c->ca_file);
		if (!c->tls_verify) {
			curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
			curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
		}
	}
	if (o->interface)
		curl_easy_setopt(e, CURLOPT_INTERFACE, o->interface);
	if (o->local_port) {
		curl_easy_setopt(e, CURLOPT_LOCALPORT, o->local_port);
		curl_easy_setopt(e, CURLOPT_LOCALPORTRANGE, o->local_port_range);
	}
}

const char *replay_options_prepare(struct transfer *x, const struct mirror_request *r,
				   const struct target *t, const struct replay_options *o)
{
	size_t max_lines = shadow_lines_max(r, t);
	size_t bytes = shadow_size_max(r, t);
	struct shadow_request s;
	struct curl_slist *nodes;
	CURL *e = x->easy;
	int rc;

	if (!transfer_scratch_reserve(x, max_lines, bytes))
		return "out of memory";
	nodes = x->scratch;
	rc = shadow_build(r, t, nodes + max_lines, bytes, &s);
	switch (rc) {
	case SHADOW_OK:
		break;
	case SHADOW_E_METHOD:
		return "method is not an HTTP token";
	case SHADOW_E_URI:
		return "uri holds a space or control byte";
	default:
		return "shadow request larger than its bound (bug)";
	}
	/* the slist is ours, in the scratch: curl only reads CURLOPT_HTTPHEADER */
	for (size_t i = 0; i < s.n_lines; i++) {
		nodes[i].data = (char *)s.lines[i];
		nodes[i].next = i + 1 < s.n_lines ? &nodes[i + 1] : NULL;
	}
	set_target_options(x, t, o);
	x->grpc = s.grpc;
	x->grpc_status = GRPC_STATUS_NONE;
	if (s.grpc) {
		curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
		curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
	}
	curl_easy_setopt(e, CURLOPT_URL, s.url);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, s.n_lines ? nodes : NULL);
	switch (s.body_mode) {
	case SHADOW_BODY_HEAD:
		curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
		break;
	case SHADOW_BODY_SEND:
		/* POSTFIELDS does not copy: the body lives in r until we are done */
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)s.body.len);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, s.body.ptr ? s.body.ptr : "");
		if (strcmp(s.method, "POST"))
			curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, s.method);
		break;
	case SHADOW_BODY_NONE:
		if (strcmp(s.method, "GET"))
			curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, s.method);
		break;
	}
	return NULL;
}

/* A target's max-connections split over the workers, rounded up (each
 * worker has its own connections): 0 = no cap. */
static unsigned worker_connections(const struct target *t, const struct replay_options *o)
{
	unsigned n = o->n_workers ? o->n_workers : 1;

	return t->cfg.max_connections ? (t->cfg.max_connections + n - 1) / n : 0;
}

unsigned replay_options_window(const struct target *t, const struct replay_options *o)
{
	unsigned window = replay_target_window(t->cfg.max_inflight);
	unsigned conns = worker_connections(t, o);
	/* libcurl < 8.0 gives h2c a connection per transfer (see the header) */
	bool shares = t->cfg.http2 && !(o->h2c_reuse_broken && !t->url.https);
	unsigned long cap = (unsigned long)conns * (shares ? REPLAY_H2_STREAMS : 1);

	return conns && cap < window ? (unsigned)cap : window;
}

/* From the targets' windows: for HTTP/1.1 a window's transfers are its
 * connections, so curl never has to park a transfer for want of one;
 * HTTP/2 transfers wait for room on an open connection (PIPEWAIT) up to
 * the streams the server allows, so a window of max-connections x
 * REPLAY_H2_STREAMS keeps to max-connections. CURLMOPT_MAX_HOST_CONNECTIONS
 * is one number for the whole multi handle and targets may share a host:
 * it is the sum of what each target may open, a backstop, not the cap. */
void replay_options_warn(const struct target_set *set, const struct replay_options *o)
{
	for (size_t i = 0; i < set->count; i++) {
		const struct target *t = &set->targets[i];

		if (o->h2c_reuse_broken && t->cfg.http2 && !t->url.https)
			log_warn("target '%s': libcurl %s cannot reuse HTTP/2 prior-knowledge (h2c) "
				 "connections (fixed in 8.0.0): a new connection per mirror, which "
				 "loses mirrors under load; use http2 = no, or libcurl 8 (Debian 12: "
				 "bookworm-backports; README, \"Which libcurl\")",
				 t->cfg.name, curl_version_info(CURLVERSION_NOW)->version);
	}
}

CURLMcode replay_options_connections(CURLM *multi, const struct target_set *set,
				     struct replay_options *o, long *count)
{
	long total = 0, per_host = 0;
	CURLMcode rc;

	for (size_t i = 0; i < set->count; i++) {
		const struct target *t = &set->targets[i];
		long window = (long)replay_options_window(t, o);
		long conns = worker_connections(t, o);

		total += window;
		per_host += conns && t->cfg.http2 ? conns : window;
	}
	if (total > MAX_CACHED_CONNS)
		total = MAX_CACHED_CONNS;
	if (total < 1)
		total = 1;
	if (per_host > MAX_CACHED_CONNS)
		per_host = MAX_CACHED_CONNS;
	if (per_host < 1)
		per_host = 1;
	*count = total;
	rc = curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, per_host);
	if (rc == CURLM_OK)
		rc = curl_multi_setopt(multi, CURLMOPT_MAX_CONCURRENT_STREAMS, (long)REPLAY_H2_STREAMS);
	return rc != CURLM_OK ? rc : curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, total);
}

/* spop-bench: a load generator that speaks SPOP like HAProxy, for measuring
 * an SPOE agent alone: NOTIFY/s, ACK latency percentiles and every protocol
 * error, with a one-line RESULT summary for scripts. Options and report
 * here; the protocol engine is spop_load.c, the message bench_msg.c. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/un.h>

#include "bench_msg.h"
#include "lat_hist.h"
#include "spop_load.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "dev"
#endif

struct options {
	const char *address;
	long port;
	unsigned conns;
	unsigned threads;
	unsigned window;
	double duration_s;
	uint64_t count;
	double rate;
	uint32_t max_frame_size;
	const char *caps;
	bool fragment;
	size_t frag_size;
	double timeout_ms;
	const char *engine_id;
	bool quiet;
	bool hdrs_set;
	struct bench_msg_spec msg;
};

static atomic_bool stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	atomic_store(&stop_flag, true);
}

/* One fd per connection, plus epoll and timer fds per thread: raise the
 * soft limit up to the hard one when the default 1024 is too low. */
static int raise_fd_limit(unsigned conns, unsigned threads)
{
	struct rlimit rl;
	rlim_t need = (rlim_t)conns + 2 * threads + 16;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= need)
		return 0;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need) {
		fprintf(stderr, "spop-bench: %u connections need %lu file descriptors, the hard "
				"limit is %lu (ulimit -Hn)\n",
			conns, (unsigned long)need, (unsigned long)rl.rlim_max);
		return -1;
	}
	rl.rlim_cur = need;
	return setrlimit(RLIMIT_NOFILE, &rl);
}

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: spop-bench -p PORT [options]\n"
		"       spop-bench -a unix:PATH [options]\n"
		"Load an SPOE agent with NOTIFY frames the way HAProxy sends them.\n"
		"\n"
		"Target and load:\n"
		"  -a, --address ADDR      agent address (default 127.0.0.1), or unix:PATH\n"
		"                          for an agent on a UNIX socket\n"
		"  -p, --port PORT         agent port (required on TCP)\n"
		"  -c, --connections N     SPOP connections (default 1)\n"
		"  -t, --threads N         load threads, connections shared out (default 1)\n"
		"  -w, --window N          NOTIFY in flight per connection (default 20)\n"
		"  -d, --duration SEC      send for SEC seconds (default 10)\n"
		"  -n, --count N           send exactly N NOTIFY instead of a duration\n"
		"  -R, --rate N            offer N NOTIFY/s in total, paced (default: as fast\n"
		"                          as ACKs come back); latency counts from when each\n"
		"                          NOTIFY was due\n"
		"      --timeout MS        an ACK later than this is a timeout (default 2000)\n"
		"\n"
		"Handshake:\n"
		"      --max-frame-size B  announced in HAPROXY-HELLO (default 16384)\n"
		"      --caps LIST         announced capabilities (default pipelining,async)\n"
		"      --fragment[=B]      announce fragmentation and cut NOTIFY payloads\n"
		"                          into frames of at most B bytes (default: as many\n"
		"                          as the negotiated frame size holds)\n"
		"      --engine-id ID      engine-id sent in HAPROXY-HELLO\n"
		"\n"
		"Message:\n"
		"  -m, --message NAME      SPOE message name (default mirror-request)\n"
		"      --naming STYLE      arg names: named (method path version headers body\n"
		"                          src), seed (method uri version headers body_len\n"
		"                          body), incumbent (arg_method arg_path arg_ver\n"
		"                          arg_hdrs arg_body), unnamed (empty names)\n"
		"      --hdrs bin|text     headers as req.hdrs_bin or req.hdrs (default bin;\n"
		"                          text with --naming seed)\n"
		"      --method M          HTTP method (default GET)\n"
		"      --path P            path and query (default /bench/item?id=12345&view=full)\n"
		"      --http-version V    request version (default 1.1)\n"
		"  -H, --headers N         headers in all, host included (default 8)\n"
		"      --header-size B     value size of the filler headers (default 32)\n"
		"  -b, --body B            body size; k and m suffixes (default 0)\n"
		"\n"
		"Output:\n"
		"  -q, --quiet             print only the RESULT line\n"
		"  -h, --help              this text\n"
		"  -V, --version           version\n"
		"\n"
		"The last line is machine-readable:\n"
		"  RESULT notify_per_s=... sent=... acked=... p50_us=... p90_us=... p99_us=...\n"
		"         p999_us=... max_us=... errors=... ...\n"
		"Exit status: 0 no error, 1 errors counted, 2 bad usage or the agent is\n"
		"unusable (refused every connection, message too big).\n");
}

/* "16384", "4k", "64K", "1m": bytes. */
static int parse_size(const char *text, size_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(text, &end, 10);
	if (errno || end == text)
		return -1;
	if (*end == 'k' || *end == 'K')
		v *= 1024, end++;
	else if (*end == 'm' || *end == 'M')
		v *= 1024 * 1024, end++;
	if (*end || v > (1ull << 31))
		return -1;
	*out = (size_t)v;
	return 0;
}

static int parse_uint(const char *text, unsigned long long max, unsigned long long *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(text, &end, 10);
	if (errno || end == text || *end || v > max || text[0] == '-')
		return -1;
	*out = v;
	return 0;
}

static int parse_double(const char *text, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(text, &end);
	if (errno || end == text || *end || !isfinite(v) || v < 0)
		return -1;
	*out = v;
	return 0;
}

static char caps_buf[128];

enum long_only {
	OPT_TIMEOUT = 256,
	OPT_MAX_FRAME,
	OPT_CAPS,
	OPT_FRAGMENT,
	OPT_ENGINE_ID,
	OPT_NAMING,
	OPT_HDRS,
	OPT_METHOD,
	OPT_PATH,
	OPT_HTTP_VERSION,
	OPT_HEADER_SIZE,
};

static const struct option long_opts[] = {
	{ "address", required_argument, NULL, 'a' },
	{ "port", required_argument, NULL, 'p' },
	{ "connections", required_argument, NULL, 'c' },
	{ "threads", required_argument, NULL, 't' },
	{ "window", required_argument, NULL, 'w' },
	{ "duration", required_argument, NULL, 'd' },
	{ "count", required_argument, NULL, 'n' },
	{ "rate", required_argument, NULL, 'R' },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "max-frame-size", required_argument, NULL, OPT_MAX_FRAME },
	{ "caps", required_argument, NULL, OPT_CAPS },
	{ "fragment", optional_argument, NULL, OPT_FRAGMENT },
	{ "engine-id", required_argument, NULL, OPT_ENGINE_ID },
	{ "message", required_argument, NULL, 'm' },
	{ "naming", required_argument, NULL, OPT_NAMING },
	{ "hdrs", required_argument, NULL, OPT_HDRS },
	{ "method", required_argument, NULL, OPT_METHOD },
	{ "path", required_argument, NULL, OPT_PATH },
	{ "http-version", required_argument, NULL, OPT_HTTP_VERSION },
	{ "headers", required_argument, NULL, 'H' },
	{ "header-size", required_argument, NULL, OPT_HEADER_SIZE },
	{ "body", required_argument, NULL, 'b' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static int bad(const char *opt, const char *val)
{
	fprintf(stderr, "spop-bench: invalid value for %s: '%s' (see --help)\n", opt, val);
	return 2;
}

/* Returns 0 to run, 1 to exit 0 (help, version), 2 on bad usage. */
static int parse_options(int argc, char **argv, struct options *o)
{
	int ch;
	unsigned long long u;
	size_t sz;

	*o = (struct options){ .address = "127.0.0.1", .port = -1, .conns = 1, .threads = 1,
			       .window = 20, .duration_s = 10, .max_frame_size = 16384,
			       .caps = "pipelining,async", .timeout_ms = 2000 };
	bench_msg_spec_defaults(&o->msg);
	while ((ch = getopt_long(argc, argv, "a:p:c:t:w:d:n:R:m:H:b:qhV", long_opts, NULL)) != -1) {
		switch (ch) {
		case 'a':
			o->address = optarg;
			break;
		case 'p':
			if (parse_uint(optarg, 65535, &u) || u == 0)
				return bad("--port", optarg);
			o->port = (long)u;
			break;
		case 'c':
			if (parse_uint(optarg, 100000, &u) || u == 0)
				return bad("--connections", optarg);
			o->conns = (unsigned)u;
			break;
		case 't':
			if (parse_uint(optarg, 256, &u) || u == 0)
				return bad("--threads", optarg);
			o->threads = (unsigned)u;
			break;
		case 'w':
			if (parse_uint(optarg, 100000, &u) || u == 0)
				return bad("--window", optarg);
			o->window = (unsigned)u;
			break;
		case 'd':
			if (parse_double(optarg, &o->duration_s) || o->duration_s <= 0)
				return bad("--duration", optarg);
			break;
		case 'n':
			if (parse_uint(optarg, UINT64_MAX, &u) || u == 0)
				return bad("--count", optarg);
			o->count = u;
			break;
		case 'R':
			if (parse_double(optarg, &o->rate) || o->rate <= 0)
				return bad("--rate", optarg);
			break;
		case OPT_TIMEOUT:
			if (parse_double(optarg, &o->timeout_ms) || o->timeout_ms <= 0)
				return bad("--timeout", optarg);
			break;
		case OPT_MAX_FRAME:
			if (parse_size(optarg, &sz) || sz < 256 || sz > UINT32_MAX)
				return bad("--max-frame-size", optarg);
			o->max_frame_size = (uint32_t)sz;
			break;
		case OPT_CAPS:
			o->caps = optarg;
			break;
		case OPT_FRAGMENT:
			o->fragment = true;
			if (optarg && (parse_size(optarg, &o->frag_size) || o->frag_size == 0))
				return bad("--fragment", optarg);
			break;
		case OPT_ENGINE_ID:
			o->engine_id = optarg;
			break;
		case 'm':
			o->msg.message = optarg;
			break;
		case OPT_NAMING: {
			int n = bench_naming_parse(optarg);

			if (n < 0)
				return bad("--naming", optarg);
			o->msg.naming = (enum bench_naming)n;
			break;
		}
		case OPT_HDRS:
			if (strcmp(optarg, "bin") == 0)
				o->msg.hdrs = BENCH_HDRS_BIN;
			else if (strcmp(optarg, "text") == 0)
				o->msg.hdrs = BENCH_HDRS_TEXT;
			else
				return bad("--hdrs", optarg);
			o->hdrs_set = true;
			break;
		case OPT_METHOD:
			o->msg.method = optarg;
			break;
		case OPT_PATH:
			o->msg.path = optarg;
			break;
		case OPT_HTTP_VERSION:
			o->msg.version = optarg;
			break;
		case 'H':
			if (parse_uint(optarg, 10000, &u) || u == 0)
				return bad("--headers", optarg);
			o->msg.n_headers = (unsigned)u;
			break;
		case OPT_HEADER_SIZE:
			if (parse_size(optarg, &o->msg.header_size))
				return bad("--header-size", optarg);
			break;
		case 'b':
			if (parse_size(optarg, &o->msg.body_size))
				return bad("--body", optarg);
			break;
		case 'q':
			o->quiet = true;
			break;
		case 'h':
			usage(stdout);
			return 1;
		case 'V':
			printf("spop-bench %s\n", PACKAGE_VERSION);
			return 1;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "spop-bench: unexpected argument '%s' (see --help)\n", argv[optind]);
		return 2;
	}
	if (o->port < 0 && strncmp(o->address, "unix:", 5)) {
		fprintf(stderr, "spop-bench: -p PORT is required (see --help)\n");
		return 2;
	}
	if (o->threads > o->conns) {
		fprintf(stderr, "spop-bench: more threads (%u) than connections (%u)\n", o->threads,
			o->conns);
		return 2;
	}
	if (!o->hdrs_set && o->msg.naming == BENCH_NAMING_SEED)
		o->msg.hdrs = BENCH_HDRS_TEXT; /* the seeds' configs send req.hdrs */
	if (o->fragment && !strstr(o->caps, "fragmentation")) {
		snprintf(caps_buf, sizeof(caps_buf), "%s%sfragmentation", o->caps,
			 o->caps[0] ? "," : "");
		o->caps = caps_buf;
	}
	return 0;
}

struct totals {
	uint64_t sent, fragments, acked, conn_ready, lost, late_acks, backlog_max;
	uint64_t e_connect, e_disconnect, e_closed, e_unknown, e_timeout, e_protocol;
	uint64_t start_ns, last_ack_ns;
	struct lat_hist hist;
};

static void sum_threads(struct load_thread *th, unsigned n, struct totals *tot)
{
	memset(tot, 0, sizeof(*tot));
	lat_hist_init(&tot->hist);
	tot->start_ns = UINT64_MAX;
	for (unsigned i = 0; i < n; i++) {
		struct load_thread *t = &th[i];

		tot->sent += t->sent;
		tot->fragments += t->fragments;
		tot->acked += t->acked;
		tot->conn_ready += t->conn_ready;
		tot->lost += t->lost;
		tot->late_acks += t->late_acks;
		tot->backlog_max += t->backlog_max;
		tot->e_connect += t->err_connect;
		tot->e_disconnect += t->err_disconnect;
		tot->e_closed += t->err_closed;
		tot->e_unknown += t->err_unknown_ack;
		tot->e_timeout += t->err_timeout;
		tot->e_protocol += t->err_protocol;
		if (t->start_ns && t->start_ns < tot->start_ns)
			tot->start_ns = t->start_ns;
		if (t->last_ack_ns > tot->last_ack_ns)
			tot->last_ack_ns = t->last_ack_ns;
		lat_hist_merge(&tot->hist, &t->hist);
	}
}

static double us(uint64_t ns)
{
	return (double)ns / 1000.0;
}

static void report(const struct options *o, struct load_thread *th, size_t payload_len)
{
	struct totals tot;
	uint64_t errors;
	double elapsed, per_s;
	const struct lat_hist *h;

	sum_threads(th, o->threads, &tot);
	h = &tot.hist;
	errors = tot.e_connect + tot.e_disconnect + tot.e_closed + tot.e_unknown + tot.e_timeout +
		 tot.e_protocol;
	elapsed = tot.last_ack_ns > tot.start_ns ? (double)(tot.last_ack_ns - tot.start_ns) / 1e9
						 : 0.0;
	per_s = elapsed > 0 ? (double)tot.acked / elapsed : 0.0;

	if (!o->quiet) {
		if (o->port >= 0)
			printf("spop-bench %s:%ld  ", o->address, o->port);
		else
			printf("spop-bench %s  ", o->address);
		printf("%u thread(s), %u connection(s), window %u, ", o->threads, o->conns,
		       o->window);
		if (o->count)
			printf("%" PRIu64 " NOTIFY", o->count);
		else
			printf("%.1f s", o->duration_s);
		if (o->rate > 0)
			printf(", offered %.0f/s", o->rate);
		printf("\n  message %s (%s, %s), %s %s, %u headers x %zu B, body %zu B, payload %zu B\n",
		       o->msg.message, bench_naming_name(o->msg.naming),
		       o->msg.hdrs == BENCH_HDRS_BIN ? "req.hdrs_bin" : "req.hdrs", o->msg.method,
		       o->msg.path, o->msg.n_headers, o->msg.header_size, o->msg.body_size,
		       payload_len);
		printf("  agent: max-frame-size %u, capabilities \"%s\"\n", th[0].agent_frame_size,
		       th[0].agent_caps);
		printf("  NOTIFY sent   %" PRIu64 " (%" PRIu64 " extra fragment frames)\n", tot.sent,
		       tot.fragments);
		printf("  ACK received  %" PRIu64 " in %.3f s: %.1f NOTIFY/s\n", tot.acked, elapsed,
		       per_s);
		printf("  ACK latency   p50 %.1f us  p90 %.1f us  p99 %.1f us  p99.9 %.1f us  max %.1f us"
		       "  (mean %.1f us)\n",
		       us(lat_hist_quantile(h, 0.50)), us(lat_hist_quantile(h, 0.90)),
		       us(lat_hist_quantile(h, 0.99)), us(lat_hist_quantile(h, 0.999)), us(h->max),
		       lat_hist_mean(h) / 1000.0);
		printf("  errors        %" PRIu64 " (connect %" PRIu64 ", disconnect %" PRIu64
		       ", closed %" PRIu64 ", unknown-ack %" PRIu64 ", timeout %" PRIu64
		       ", protocol %" PRIu64 "); in flight when lost %" PRIu64 ", late ACKs %" PRIu64
		       "\n",
		       errors, tot.e_connect, tot.e_disconnect, tot.e_closed, tot.e_unknown,
		       tot.e_timeout, tot.e_protocol, tot.lost, tot.late_acks);
		for (unsigned i = 0; i < o->threads; i++)
			if (th[i].last_status) {
				printf("  last DISCONNECT from the agent: status %u \"%s\"\n",
				       th[i].last_status, th[i].last_message);
				break;
			}
		if (o->rate > 0)
			printf("  pacing: at most %" PRIu64 " NOTIFY were due but held by full windows\n",
			       tot.backlog_max);
	}
	printf("RESULT notify_per_s=%.1f sent=%" PRIu64 " acked=%" PRIu64 " elapsed_s=%.3f"
	       " p50_us=%.1f p90_us=%.1f p99_us=%.1f p999_us=%.1f max_us=%.1f mean_us=%.1f"
	       " errors=%" PRIu64 " err_connect=%" PRIu64 " err_disconnect=%" PRIu64
	       " err_closed=%" PRIu64 " err_unknown_ack=%" PRIu64 " err_timeout=%" PRIu64
	       " err_protocol=%" PRIu64 " lost=%" PRIu64 " late_acks=%" PRIu64 " fragments=%" PRIu64
	       " conns=%u ready=%" PRIu64 " backlog_max=%" PRIu64 "\n",
	       per_s, tot.sent, tot.acked, elapsed, us(lat_hist_quantile(h, 0.50)),
	       us(lat_hist_quantile(h, 0.90)), us(lat_hist_quantile(h, 0.99)),
	       us(lat_hist_quantile(h, 0.999)), us(h->max), lat_hist_mean(h) / 1000.0, errors,
	       tot.e_connect, tot.e_disconnect, tot.e_closed, tot.e_unknown, tot.e_timeout,
	       tot.e_protocol, tot.lost, tot.late_acks, tot.fragments, o->conns, tot.conn_ready,
	       tot.backlog_max);
	fflush(stdout);
}

/* -a 127.0.0.1 -p PORT, or -a unix:PATH. */
static int plan_address(const struct options *o, struct load_plan *plan)
{
	struct sockaddr_in *in = (struct sockaddr_in *)&plan->addr;
	struct sockaddr_un *un = (struct sockaddr_un *)&plan->addr;

	if (!strncmp(o->address, "unix:", 5)) {
		const char *path = o->address + 5;

		if (!*path || strlen(path) >= sizeof(un->sun_path)) {
			fprintf(stderr, "spop-bench: --address '%s': the path is empty or longer "
				"than %zu bytes\n", o->address, sizeof(un->sun_path) - 1);
			return -1;
		}
		un->sun_family = AF_UNIX;
		strcpy(un->sun_path, path);
		plan->addrlen = sizeof(*un);
		return 0;
	}
	in->sin_family = AF_INET;
	in->sin_port = htons((uint16_t)o->port);
	if (inet_pton(AF_INET, o->address, &in->sin_addr) != 1) {
		fprintf(stderr, "spop-bench: --address '%s' is not an IPv4 address\n", o->address);
		return -1;
	}
	plan->addrlen = sizeof(*in);
	return 0;
}

int main(int argc, char **argv)
{
	struct options o;
	struct load_plan plan = { 0 };
	struct load_thread *th;
	pthread_t *tids;
	atomic_int fatal = LOAD_FATAL_NONE;
	uint8_t *payload = NULL;
	size_t payload_len = 0;
	struct sigaction sa = { .sa_handler = on_signal };
	uint64_t ready = 0, errors = 0;
	int rc = parse_options(argc, argv, &o);

	if (rc)
		return rc == 1 ? 0 : 2;
	if (raise_fd_limit(o.conns, o.threads) < 0)
		return 2;
	if (bench_msg_build(&o.msg, &payload, &payload_len) < 0) {
		fprintf(stderr, "spop-bench: out of memory building a %zu-byte message\n",
			o.msg.body_size);
		return 2;
	}
	if (plan_address(&o, &plan) < 0) {
		free(payload);
		return 2;
	}
	plan.total_conns = o.conns;
	plan.window = o.window;
	plan.max_frame_size = o.max_frame_size;
	plan.caps = o.caps;
	plan.engine_id = o.engine_id;
	plan.fragment = o.fragment;
	plan.frag_size = o.frag_size;
	plan.payload = payload;
	plan.payload_len = payload_len;
	plan.duration_ns = o.count ? 0 : (uint64_t)(o.duration_s * 1e9);
	plan.timeout_ns = (uint64_t)(o.timeout_ms * 1e6);
	plan.handshake_timeout_ns = plan.timeout_ns > 1000000000ull ? plan.timeout_ns : 1000000000ull;
	plan.stop = &stop_flag;
	plan.fatal = &fatal;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	th = calloc(o.threads, sizeof(*th));
	tids = calloc(o.threads, sizeof(*tids));
	if (!th || !tids) {
		fprintf(stderr, "spop-bench: out of memory for %u threads\n", o.threads);
		return 2;
	}
	for (unsigned i = 0, first = 0; i < o.threads; i++) {
		struct load_thread *t = &th[i];

		t->plan = &plan;
		t->n_conns = o.conns / o.threads + (i < o.conns % o.threads);
		t->first_conn = first;
		first += t->n_conns;
		if (o.count)
			t->count = o.count / o.threads + (i < o.count % o.threads);
		t->rate = o.rate / o.threads;
		if (pthread_create(&tids[i], NULL, load_thread_run, t)) {
			fprintf(stderr, "spop-bench: cannot start thread %u\n", i);
			atomic_store(&stop_flag, true);
			o.threads = i;
			break;
		}
	}
	for (unsigned i = 0; i < o.threads; i++)
		pthread_join(tids[i], NULL);

	if (atomic_load(&fatal) == LOAD_FATAL_TOO_BIG)
		fprintf(stderr,
			"spop-bench: a %zu-byte NOTIFY payload does not fit the negotiated "
			"max-frame-size %u and fragmentation is %s; raise --max-frame-size or "
			"use --fragment\n",
			payload_len, th[0].agent_frame_size,
			o.fragment ? "not supported by the agent" : "off");
	report(&o, th, payload_len);
	for (unsigned i = 0; i < o.threads; i++) {
		ready += th[i].conn_ready;
		errors += th[i].err_connect + th[i].err_disconnect + th[i].err_closed +
			  th[i].err_unknown_ack + th[i].err_timeout + th[i].err_protocol;
	}
	free(payload);
	free(th);
	free(tids);
	if (atomic_load(&fatal) || ready == 0)
		return 2;
	return errors ? 1 : 0;
}

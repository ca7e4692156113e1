/* Wiring: SPOP server -> mirror dispatch -> replay pool, plus signals,
 * reload, runtime limit and the periodic monitor line. */
#include "agent.h"

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "compare_report.h"
#include "diff_log.h"
#include "http_endpoint.h"
#include "listener.h"
#include "log.h"
#include "metrics.h"
#include "reload.h"
#include "replay.h"
#include "server.h"
#include "settings.h"
#include "verdict_worker.h"

static void submit_to_pool(void *arg, struct mirror_request *r)
{
	replay_pool_submit_take(arg, r);
}

/* Bytes of each body a diff-log line shows with diff-log-bodies: enough
 * to see what changed near the start of an answer, small enough that a
 * line stays one write. */
#define DIFF_LOG_BODY_MAX 4096

static void post_verdict_item(void *arg, struct verdict_item *it)
{
	verdict_worker_post_take(arg, it);
}

static void spop_closed_cb(void *arg)
{
	struct agent *a = arg;

	ev_break(a->loop, EVBREAK_ALL);
}

static void begin_stop(struct agent *a, const char *why)
{
	if (a->stopping)
		return;
	a->stopping = true;
	log_info("%s: stopping: no new SPOP connections, closing open ones at frame "
		 "boundaries, draining mirrors for up to %u ms",
		 why, a->cfg.drain_timeout_ms);
	ev_timer_stop(a->loop, &a->runtime);
	server_shutdown(a->server, a->cfg.drain_timeout_ms, spop_closed_cb, a);
}

static void sig_stop_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	begin_stop(w->data, w->signum == SIGTERM ? "SIGTERM" : "SIGINT");
}

static void runtime_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	begin_stop(w->data, "runtime elapsed");
}

/* SIGHUP: reopen the log file (logrotate's postrotate sends HUP; the access
 * log is the same file), then re-read the command line and the file it
 * names; swap targets, sampling, headers and log level. Listener, workers
 * and limits need a restart and keep their values. The log is reopened
 * first so that a reload that fails still rotates. */
static void sig_hup_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct agent *a = w->data;
	struct reload_result got;
	char err[512];
	int rc;

	rc = log_reopen();
	if (rc < 0)
		log_error("SIGHUP: reopening the log file failed, writing on to the old one: %s",
			  strerror(-rc));
	/* the diff log is written by the verdict thread: it reopens it there */
	verdict_worker_reopen(a->verdicts);
	if (reload_build(a->argc, a->argv, &a->registry, &got, err, sizeof(err)) < 0) {
		log_error("reload failed, keeping the running configuration: %s", err);
		return;
	}
	target_set_unref(a->targets);
	/* requests in flight keep their reference to the old set, and so do
	 * requests waiting for a verdict: they are judged by the rules they
	 * were mirrored under */
	a->targets = got.targets;
	replay_pool_check_targets(a->pool, a->targets);
	log_set_level(got.log_level);
	log_info("reloaded: %zu target(s), log level %s", got.targets->count,
		 log_level_name(got.log_level));
}

static void monitor_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct agent *a = w->data;

	server_flush_logs(a->server);
	mirror_dispatch_flush_logs(&a->dispatch);
	log_debug("monitor: %llu connections open, %llu NOTIFY, %zu queued, %zu in curl",
		  (unsigned long long)a->spop_stats.conn_open,
		  (unsigned long long)a->spop_stats.frames_in[FRAME_KIND_NOTIFY],
		  replay_pool_queued(a->pool), replay_pool_active(a->pool));
}

/* ---- /metrics, /healthz, /readyz ---- */

/* Alive: the listener is open (or closed on purpose while stopping) and
 * every replay worker runs. */
static bool agent_healthy(struct agent *a)
{
	return (server_accepting(a->server) || a->stopping) && replay_pool_alive(a->pool);
}

static void metrics_route(void *arg, struct http_reply *reply)
{
	struct agent *a = arg;
	struct metrics_view v = {
		.spop = &a->spop_stats,
		.targets = &a->registry,
		.budget = &a->budget,
		.spop_memory = &a->spop_memory,
		.capture = &a->capture_budget,
		.verdicts = &a->verdict_stats,
		.diff_log = a->diff_log,
		.queue_depth = replay_pool_queued(a->pool),
		.active_transfers = replay_pool_active(a->pool),
		.curl_multi_errors = replay_pool_multi_errors(a->pool),
		.workers_alive = replay_pool_alive(a->pool) ? a->cfg.num_workers : 0,
		.workers_total = a->cfg.num_workers,
		.listening = server_accepting(a->server),
		.accepting = server_accepting(a->server),
		.uptime_s = ev_now(a->loop) - a->started,
		.version = PACKAGE_VERSION,
	};

	metrics_render(&v, &reply->body);
	reply->content_type = METRICS_CONTENT_TYPE;
}

static void healthz_route(void *arg, struct http_reply *reply)
{
	bool ok = agent_healthy(arg);

	reply->status = ok ? 200 : 503;
	strbuf_puts(&reply->body, ok ? "ok\n" : "unhealthy: listener or replay workers down\n");
}

static void readyz_route(void *arg, struct http_reply *reply)
{
	struct agent *a = arg;
	bool ok = server_accepting(a->server) && replay_pool_alive(a->pool);

	reply->status = ok ? 200 : 503;
	strbuf_puts(&reply->body, ok ? "ready\n" : "not accepting SPOP connections\n");
}

/* GET /compare and /compare.html: the endpoint answers 503 when the
 * checked body could not grow. */
static void compare_route(void *arg, struct http_reply *reply)
{
	struct agent *a = arg;

	compare_report_json(a->compare_report, &reply->body);
	reply->content_type = "application/json";
}

static void compare_html_route(void *arg, struct http_reply *reply)
{
	struct agent *a = arg;

	compare_report_html(a->compare_report, &reply->body);
	reply->content_type = "text/html; charset=utf-8";
}

static int metrics_start(struct agent *a, char *err, size_t errlen)
{
	const struct http_route routes[] = {
		{ "/metrics", metrics_route, a },
		{ "/healthz", healthz_route, a },
		{ "/readyz", readyz_route, a },
		{ "/compare", compare_route, a },
		{ "/compare.html", compare_html_route, a },
	};
	struct sockaddr_storage ss;
	socklen_t sl;
	char why[256];

	if (!a->cfg.metrics_address)
		return 0;
	if (listener_parse_addr(a->cfg.metrics_address, &ss, &sl, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "--metrics %s: %s", a->cfg.metrics_address, why);
		return -1;
	}
	a->metrics = http_endpoint_start(a->loop, (struct sockaddr *)&ss, sl, routes,
					 sizeof(routes) / sizeof(routes[0]), NULL, err, errlen);
	if (!a->metrics)
		return -1;
	log_info("metrics on http://%s/metrics (no authentication: keep it on a private "
		 "interface)", a->cfg.metrics_address);
	return 0;
}

/* SPOP connections and shadow connections share one descriptor limit. Raise
 * the soft limit to the hard one, and when the configured connection limit
 * still does not fit, lower it so that shadows keep the descriptors they
 * need: HAProxy is then refused early (and logged) instead of every mirror
 * failing for lack of a socket. */
static unsigned fit_connection_limit(const struct agent_config *cfg)
{
	struct rlimit rl;
	unsigned long shadow = 0, reserve, fits;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return cfg->max_connections;
	if (rl.rlim_cur < rl.rlim_max) {
		rlim_t was = rl.rlim_cur;

		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
			rl.rlim_cur = was;
	}
	for (size_t i = 0; i < cfg->n_targets; i++)
		shadow += replay_target_window(cfg->targets[i].max_inflight);
	shadow *= cfg->num_workers;
	/* shadows get up to a quarter of a small limit; 32 for the rest
	 * (listeners, metrics, log, eventfds, resolver) */
	reserve = (shadow < rl.rlim_cur / 4 ? shadow : rl.rlim_cur / 4) + 32;
	fits = rl.rlim_cur > reserve ? (unsigned long)rl.rlim_cur - reserve : 1;
	if (cfg->max_connections <= fits)
		return cfg->max_connections;
	log_warn("max-connections %u does not fit the file descriptor limit %lu (shadows need "
		 "up to %lu): accepting at most %lu SPOP connections; raise `ulimit -n` for more",
		 cfg->max_connections, (unsigned long)rl.rlim_cur, shadow, fits);
	return (unsigned)fits;
}

/* The verdict thread, its /compare report and its diff log. Started even
 * when no target compares: idle it costs a thread's stack, and a reload
 * may turn comparison on. The SPOP thread and the workers post to it only
 * for targets that compare. */
static int verdicts_start(struct agent *a, char *err, size_t errlen)
{
	struct verdict_worker_settings vs = {
		.max_entries = a->cfg.join_max_entries,
		.max_bytes = a->cfg.join_max_bytes,
		.timeout_ms = a->cfg.join_timeout_ms,
		.stats = &a->verdict_stats,
	};

	/* a few hundred bytes until a verdict comes, so /compare answers an
	 * empty report rather than 404 */
	a->compare_report = compare_report_new(COMPARE_REPORT_DEFAULT_ENDPOINTS);
	if (!a->compare_report) {
		snprintf(err, errlen, "out of memory for the /compare report");
		return -1;
	}
	if (a->cfg.diff_log) {
		struct diff_log_settings ds = {
			.path = a->cfg.diff_log,
			.bodies = a->cfg.diff_log_bodies,
			.lines_per_s = a->cfg.diff_log_rate,
			/* a second's worth may come at once */
			.burst = a->cfg.diff_log_rate >= 1 ? (unsigned)a->cfg.diff_log_rate : 1,
			.body_max = DIFF_LOG_BODY_MAX,
		};

		a->diff_log = diff_log_open(&ds, err, errlen);
		if (!a->diff_log)
			return -1;
	}
	vs.outputs = (struct verdict_outputs){ .diff_log = a->diff_log,
					       .report = a->compare_report,
					       .log_interval_ms = a->cfg.monitor_interval_ms };
	a->verdicts = verdict_worker_start(&vs, err, errlen);
	return a->verdicts ? 0 : -1;
}

static int agent_start(struct agent *a, char *err, size_t errlen)
{
	struct replay_settings rs = {
		.num_workers = a->cfg.num_workers,
		.mirror_interface = a->cfg.mirror_interface,
		.local_port_low = a->cfg.mirror_local_port.low,
		.local_port_high = a->cfg.mirror_local_port.high,
		.access_log = a->cfg.access_log,
		.monitor_interval_ms = a->cfg.monitor_interval_ms,
	};
	struct server_settings ss = {
		.address = a->cfg.address,
		.port = a->cfg.port,
		.backlog = a->cfg.backlog,
		.unix_access = { .mode = a->cfg.socket_mode },
		.max_connections = fit_connection_limit(&a->cfg),
		.idle_timeout_ms = a->cfg.idle_timeout_ms,
		.processing_delay_ms = a->cfg.processing_delay_ms,
		.log_interval_ms = a->cfg.monitor_interval_ms,
		.conn = {
			.max_frame_size = a->cfg.max_frame_size,
			.caps = a->cfg.caps,
			.reassembly_max = config_reassembly_max(&a->cfg),
			.frame_timeout_ms = a->cfg.frame_timeout_ms,
			.budget = &a->spop_memory,
		},
	};
	struct conn_handler handler = { mirror_on_message, &a->dispatch };
	sigset_t block, old;

	/* validated when set: this only turns "USER:GROUP" into numbers */
	if (a->cfg.socket_owner) {
		if (listener_parse_owner(a->cfg.socket_owner, &ss.unix_access.uid,
					 &ss.unix_access.gid, err, errlen) < 0)
			return -1;
		ss.unix_access.set_owner = true;
	}
	a->targets = target_set_new(&a->cfg, &a->registry, err, errlen);
	if (!a->targets)
		return -1;
	if (verdicts_start(a, err, errlen) < 0)
		return -1;
	rs.answer = post_verdict_item;
	rs.answer_arg = a->verdicts;
	/* bytes alone: the entries limit is not used */
	queue_budget_init(&a->capture_budget, SIZE_MAX, a->cfg.compare_capture_max);
	rs.capture_budget = &a->capture_budget;
	rs.capture_short = &a->verdict_stats.capture_short;
	spop_budget_init(&a->spop_memory, a->cfg.spop_memory_max);
	queue_budget_init(&a->budget, a->cfg.queue_max_entries, a->cfg.queue_max_bytes);

	/* Worker threads inherit this mask: signals go to the main loop only. */
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	a->pool = replay_pool_start(&rs, err, errlen);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!a->pool)
		return -1;
	replay_pool_check_targets(a->pool, a->targets);

	a->dispatch = (struct mirror_dispatch){
		.message_names = a->cfg.message_names,
		.n_message_names = a->cfg.n_message_names,
		.targets = &a->targets,
		.budget = &a->budget,
		.submit = submit_to_pool,
		.submit_arg = a->pool,
		.stats = &a->spop_stats,
		.invalid_log = LOG_RATELIMIT_INIT(5000),
		.truncated_log = LOG_RATELIMIT_INIT(5000),
		.grpc_log = LOG_RATELIMIT_INIT(5000),
		.response_log = LOG_RATELIMIT_INIT(5000),
	};
	a->dispatch.response_names = a->cfg.response_message_names;
	a->dispatch.n_response_names = a->cfg.n_response_message_names;
	a->dispatch.verdict = post_verdict_item;
	a->dispatch.verdict_arg = a->verdicts;
	a->dispatch.verdict_stats = &a->verdict_stats;
	a->dispatch.response_log.interval_ms = a->cfg.monitor_interval_ms;
	a->dispatch.invalid_log.interval_ms = a->cfg.monitor_interval_ms;
	a->dispatch.truncated_log.interval_ms = a->cfg.monitor_interval_ms;
	a->dispatch.grpc_log.interval_ms = a->cfg.monitor_interval_ms;

	a->server = server_new(a->loop, &ss, &handler, &a->spop_stats);
	if (!a->server || server_listen(a->server, err, errlen) < 0)
		return -1;
	if (metrics_start(a, err, errlen) < 0)
		return -1;

	ev_signal_init(&a->sig_term, sig_stop_cb, SIGTERM);
	ev_signal_init(&a->sig_int, sig_stop_cb, SIGINT);
	ev_signal_init(&a->sig_hup, sig_hup_cb, SIGHUP);
	a->sig_term.data = a->sig_int.data = a->sig_hup.data = a;
	ev_signal_start(a->loop, &a->sig_term);
	ev_signal_start(a->loop, &a->sig_int);
	ev_signal_start(a->loop, &a->sig_hup);
	if (a->cfg.runtime_ms) {
		ev_timer_init(&a->runtime, runtime_cb, a->cfg.runtime_ms / 1000.0, 0);
		a->runtime.data = a;
		ev_timer_start(a->loop, &a->runtime);
	}
	ev_timer_init(&a->monitor, monitor_cb, a->cfg.monitor_interval_ms / 1000.0,
		      a->cfg.monitor_interval_ms / 1000.0);
	a->monitor.data = a;
	ev_timer_start(a->loop, &a->monitor);
	a->started = ev_now(a->loop);
	return 0;
}

static void agent_teardown(struct agent *a)
{
	if (a->metrics)
		http_endpoint_stop(a->metrics);
	if (a->server)
		server_free(a->server);
	if (a->pool)
		replay_pool_stop(a->pool, a->cfg.drain_timeout_ms);
	/* after the SPOP side and the workers: nothing posts any more */
	if (a->verdicts) {
		verdict_worker_stop(a->verdicts);
		if (atomic_load(&a->verdict_stats.cleared))
			log_info("%llu request(s) still waiting for answers were not compared",
				 (unsigned long long)atomic_load(&a->verdict_stats.cleared));
	}
	diff_log_close(a->diff_log);
	ev_signal_stop(a->loop, &a->sig_term);
	ev_signal_stop(a->loop, &a->sig_int);
	ev_signal_stop(a->loop, &a->sig_hup);
	ev_timer_stop(a->loop, &a->runtime);
	ev_timer_stop(a->loop, &a->monitor);
	target_set_unref(a->targets);
	compare_report_free(a->compare_report);
	stats_registry_free(&a->registry);
	config_free(&a->cfg);
}

int agent_run(struct agent_config *cfg, int argc, char **argv, void (*ready)(void *),
	      void *arg)
{
	struct agent *a = calloc(1, sizeof(*a));
	char err[512];
	int status = 0;

	if (!a) {
		log_error("out of memory");
		return 1;
	}
	a->cfg = *cfg;
	memset(cfg, 0, sizeof(*cfg));
	a->argc = argc;
	a->argv = argv;
	a->loop = ev_default_loop((unsigned)settings_libev_backend_flags(a->cfg.libev_backend));
	if (!a->loop) {
		log_error("libev backend '%s' is not available here", a->cfg.libev_backend);
		config_free(&a->cfg);
		free(a);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	if (agent_start(a, err, sizeof(err)) < 0) {
		log_error("%s", err);
		status = 1;
	} else {
		char where[160];

		server_name(a->server, where, sizeof(where));
		log_info("spoa-mirror listening on %s, %zu target(s), %u worker(s)", where,
			 a->targets->count, a->cfg.num_workers);
		if (ready)
			ready(arg);
		ev_run(a->loop, 0);
		log_info("SPOP side closed; draining mirrors");
	}
	agent_teardown(a);
	free(a);
	return status;
}

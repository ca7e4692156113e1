/* Wiring: SPOP server -> mirror dispatch -> replay pool, plus signals,
 * reload, runtime limit and the periodic monitor line. */
#include "agent.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "log.h"
#include "replay.h"
#include "server.h"

static void submit_to_pool(void *arg, struct mirror_request *r)
{
	replay_pool_submit_take(arg, r);
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

/* SIGHUP: re-read the command line and the file it names; swap targets,
 * sampling, headers and log level. Listener, workers and limits need a
 * restart and keep their values. */
static void sig_hup_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct agent *a = w->data;
	struct agent_config fresh;
	struct target_set *set;
	char err[512];

	config_init(&fresh);
	if (cli_parse(a->argc, a->argv, &fresh, err, sizeof(err)) != 0 ||
	    config_validate(&fresh, err, sizeof(err)) != 0) {
		log_error("reload failed, keeping the running configuration: %s", err);
		config_free(&fresh);
		return;
	}
	set = target_set_new(&fresh, &a->registry, err, sizeof(err));
	if (!set) {
		log_error("reload failed, keeping the running configuration: %s", err);
		config_free(&fresh);
		return;
	}
	target_set_unref(a->targets);
	a->targets = set; /* requests in flight keep their own reference to the old set */
	log_set_level(fresh.log_level);
	log_info("reloaded: %zu target(s), log level %s", set->count,
		 log_level_name(fresh.log_level));
	config_free(&fresh);
}

static void monitor_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct agent *a = w->data;

	log_debug("monitor: %llu connections open, %llu NOTIFY, %zu queued, %zu in curl",
		  (unsigned long long)a->spop_stats.conn_open,
		  (unsigned long long)a->spop_stats.frames_in[FRAME_KIND_NOTIFY],
		  replay_pool_queued(a->pool), replay_pool_active(a->pool));
}

static int agent_start(struct agent *a, char *err, size_t errlen)
{
	struct replay_settings rs = {
		.num_workers = a->cfg.num_workers,
		.mirror_interface = a->cfg.mirror_interface,
		.mirror_local_port = a->cfg.mirror_local_port,
		.access_log = a->cfg.access_log,
		.monitor_interval_ms = a->cfg.monitor_interval_ms,
	};
	struct server_settings ss = {
		.address = a->cfg.address,
		.port = a->cfg.port,
		.backlog = a->cfg.backlog,
		.max_connections = a->cfg.max_connections,
		.idle_timeout_ms = a->cfg.idle_timeout_ms,
		.processing_delay_ms = a->cfg.processing_delay_ms,
		.conn = {
			.max_frame_size = a->cfg.max_frame_size,
			.caps = a->cfg.caps,
			.reassembly_max = a->cfg.reassembly_max,
		},
	};
	struct conn_handler handler = { mirror_on_message, &a->dispatch };
	sigset_t block, old;

	a->targets = target_set_new(&a->cfg, &a->registry, err, errlen);
	if (!a->targets)
		return -1;
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
	};
	a->dispatch.invalid_log.interval_ms = a->cfg.monitor_interval_ms;
	a->dispatch.truncated_log.interval_ms = a->cfg.monitor_interval_ms;

	a->server = server_new(a->loop, &ss, &handler, &a->spop_stats);
	if (!a->server || server_listen(a->server, err, errlen) < 0)
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
	if (a->server)
		server_free(a->server);
	if (a->pool)
		replay_pool_stop(a->pool, a->cfg.drain_timeout_ms);
	ev_signal_stop(a->loop, &a->sig_term);
	ev_signal_stop(a->loop, &a->sig_int);
	ev_signal_stop(a->loop, &a->sig_hup);
	ev_timer_stop(a->loop, &a->runtime);
	ev_timer_stop(a->loop, &a->monitor);
	target_set_unref(a->targets);
	stats_registry_free(&a->registry);
	config_free(&a->cfg);
}

int agent_run(struct agent_config *cfg, int argc, char **argv)
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
	a->loop = ev_default_loop(0);
	signal(SIGPIPE, SIG_IGN);
	if (agent_start(a, err, sizeof(err)) < 0) {
		log_error("%s", err);
		status = 1;
	} else {
		log_info("spoa-mirror listening on %s:%u, %zu target(s), %u worker(s)",
			 a->cfg.address, server_port(a->server), a->targets->count,
			 a->cfg.num_workers);
		ev_run(a->loop, 0);
		log_info("SPOP side closed; draining mirrors");
	}
	agent_teardown(a);
	free(a);
	return status;
}

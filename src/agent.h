/* The running agent: owns the main loop, the configuration, the SPOP
 * server, the replay pool, the target set and every counter. main.c only
 * parses the command line and calls agent_run(). */
#ifndef SPOA_MIRROR_AGENT_H
#define SPOA_MIRROR_AGENT_H

#include <ev.h>

#include "config.h"
#include "mirror.h"
#include "queue.h"
#include "spop_budget.h"
#include "stats.h"
#include "target.h"

struct server;
struct replay_pool;
struct http_endpoint;
struct compare_report;
struct diff_log;
struct verdict_worker;

struct agent {
	struct ev_loop *loop;
	struct agent_config cfg;
	int argc;       /* kept to re-read the configuration on SIGHUP */
	char **argv;

	struct spop_stats spop_stats;
	struct stats_registry registry;
	struct target_set *targets;
	struct queue_budget budget;
	struct queue_budget capture_budget; /* shadows' answers being captured (compare-capture-max) */
	struct spop_budget spop_memory; /* the SPOP side's buffers (spop-memory-max) */
	struct mirror_dispatch dispatch;
	struct server *server;
	struct replay_pool *pool;
	struct http_endpoint *metrics;
	/* /compare's numbers: fed by the verdict thread, read by the metrics
	 * listener's routes; freed after every thread that feeds it stopped */
	struct compare_report *compare_report;
	/* shadow verdicts: the thread that joins and compares, its counters
	 * and its diff log (NULL when diff-log is not set) */
	struct verdict_worker *verdicts;
	struct verdict_stats verdict_stats;
	struct diff_log *diff_log;

	ev_signal sig_term;
	ev_signal sig_int;
	ev_signal sig_hup;
	ev_timer runtime;
	ev_timer monitor;
	ev_tstamp started;
	bool stopping;
};

/* Starts everything from a validated configuration (ownership of cfg moves
 * into the agent), calls ready(arg) once it listens, runs the loop until a
 * graceful stop, drains and frees. Returns the process exit status. */
int agent_run(struct agent_config *cfg, int argc, char **argv, void (*ready)(void *),
	      void *arg);

#endif

/* spoa-mirror entry point: parse the configuration, set up logging and the
 * process (daemon, pid file), then hand over to the agent. No protocol
 * logic here. */
#include <stdio.h>
#include <stdlib.h>

#include "agent.h"
#include "cli.h"
#include "config.h"
#include "daemon.h"
#include "log.h"

static void daemon_ready_cb(void *arg)
{
	daemon_ready(arg);
}

int main(int argc, char **argv)
{
	struct agent_config cfg;
	struct daemon_handle daemon = { .ready_fd = -1 };
	struct pidfile pid = { .fd = -1, .path = NULL };
	char err[512];
	int rc;

	config_init(&cfg);
	rc = cli_parse(argc, argv, &cfg, err, sizeof(err));
	if (rc != CLI_RUN) {
		if (rc == CLI_ERROR)
			fprintf(stderr, "spoa-mirror: %s\n", err);
		config_free(&cfg);
		/* a bad command line or configuration exits 2; help, version and
		 * --check-config exit 0 */
		return rc == CLI_ERROR ? 2 : 0;
	}
	log_set_level(cfg.log_level);
	if (cfg.logfile && log_open(cfg.logfile) < 0) {
		fprintf(stderr, "spoa-mirror: cannot open log file '%s'\n", cfg.logfile);
		config_free(&cfg);
		return 2;
	}
	if ((cfg.daemonize && daemon_detach(&daemon, err, sizeof(err)) < 0) ||
	    (cfg.pidfile && pidfile_create(&pid, cfg.pidfile, err, sizeof(err)) < 0)) {
		log_error("%s", err);
		config_free(&cfg);
		return 1;
	}
	rc = agent_run(&cfg, argc, argv, daemon_ready_cb, &daemon);
	pidfile_remove(&pid);
	log_close();
	return rc;
}

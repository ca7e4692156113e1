/* replay-bench: how fast the replay engine delivers mirrors to a fast local
 * sink, and what it costs in CPU. A child process runs the sink (the test
 * recorder, counting only) on 127.0.0.1; this process admits requests the
 * way the SPOP thread does and keeps a fixed number in flight.
 *
 *   replay-bench [-t SECONDS] [-b BODY_BYTES] [-w WORKERS] [-c IN_FLIGHT] [-2]
 *
 * Prints mirrored/s and CPU-seconds per 1000 mirrors: whole process, the
 * replay workers alone (process minus the driving thread), and the sink. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "http_recorder.h"
#include "queue.h"
#include "replay.h"
#include "request.h"
#include "target.h"

static double now_s(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double rusage_cpu(int who)
{
	struct rusage ru;

	getrusage(who, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* Child: serve until the parent closes the pipe. */
static void run_sink(int port_fd, int stop_fd)
{
	struct recorder_options o = { .no_record = true };
	struct http_recorder *rec = recorder_start(&o);
	uint16_t port = rec ? recorder_port(rec) : 0;
	char c;

	if (write(port_fd, &port, sizeof(port)) != sizeof(port) || !rec)
		_exit(1);
	while (read(stop_fd, &c, 1) < 0 && errno == EINTR)
		;
	recorder_stop(rec);
	_exit(0);
}

static void usage(void)
{
	fprintf(stderr, "usage: replay-bench [-t SECONDS] [-b BODY_BYTES] [-w WORKERS] "
			"[-c IN_FLIGHT] [-2]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	double seconds = 3;
	size_t body_len = 0;
	unsigned workers = 1, cap = 128;
	bool http2 = false;
	int opt, port_pipe[2], stop_pipe[2], status;
	uint16_t port;
	pid_t sink;
	struct agent_config cfg;
	struct stats_registry reg = { 0 };
	struct target_set *set;
	struct replay_pool *pool;
	struct replay_settings rs = { 0 };
	struct queue_budget budget;
	struct target *t;
	char url[64], err[256];
	char *body;
	struct rusage child_ru;
	double wall0 = 0, wall, cpu0 = 0, cpu, drv0 = 0, drv, sink_cpu;
	uint64_t submitted = 0, mirrored0, mirrored, failed;

	while ((opt = getopt(argc, argv, "t:b:w:c:2")) != -1) {
		switch (opt) {
		case 't': seconds = atof(optarg); break;
		case 'b': body_len = strtoul(optarg, NULL, 10); break;
		case 'w': workers = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'c': cap = (unsigned)strtoul(optarg, NULL, 10); break;
		case '2': http2 = true; break;
		default: usage();
		}
	}
	if (seconds <= 0 || seconds > 120 || !workers || !cap)
		usage();
	signal(SIGPIPE, SIG_IGN);
	if (pipe(port_pipe) < 0 || pipe(stop_pipe) < 0) {
		perror("pipe");
		return 1;
	}
	sink = fork();
	if (sink < 0) {
		perror("fork");
		return 1;
	}
	if (sink == 0) {
		close(stop_pipe[1]);
		run_sink(port_pipe[1], stop_pipe[0]);
	}
	close(stop_pipe[0]);
	if (read(port_pipe[0], &port, sizeof(port)) != sizeof(port) || !port) {
		fprintf(stderr, "replay-bench: the sink did not start\n");
		return 1;
	}

	config_init(&cfg);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/shadow", port);
	config_add_target(&cfg, "bench", url)->max_inflight = cap;
	cfg.targets[0].http2 = http2;
	set = target_set_new(&cfg, &reg, err, sizeof(err));
	if (!set) {
		fprintf(stderr, "replay-bench: %s\n", err);
		return 1;
	}
	t = &set->targets[0];
	rs.num_workers = workers;
	rs.monitor_interval_ms = 5000;
	pool = replay_pool_start(&rs, err, sizeof(err));
	if (!pool) {
		fprintf(stderr, "replay-bench: %s\n", err);
		return 1;
	}
	queue_budget_init(&budget, cfg.queue_max_entries, cfg.queue_max_bytes);
	body = malloc(body_len ? body_len : 1);
	memset(body, 'b', body_len);

	/* a typical browser-ish request: 9 headers, ~400 bytes */
	struct http_header hdrs[] = {
		{ SLICE_LIT("host"), SLICE_LIT("www.example.com") },
		{ SLICE_LIT("user-agent"), SLICE_LIT("Mozilla/5.0 (X11; Linux x86_64) bench/1.0") },
		{ SLICE_LIT("accept"), SLICE_LIT("text/html,application/xhtml+xml,*/*;q=0.8") },
		{ SLICE_LIT("accept-encoding"), SLICE_LIT("gzip, deflate, br") },
		{ SLICE_LIT("accept-language"), SLICE_LIT("en-US,en;q=0.5") },
		{ SLICE_LIT("cookie"), SLICE_LIT("session=0123456789abcdef0123456789abcdef; theme=dark") },
		{ SLICE_LIT("x-request-id"), SLICE_LIT("4f2a9c1e-7b3d-4e8a-9f60-1c2d3e4f5a6b") },
		{ SLICE_LIT("content-type"), SLICE_LIT("application/octet-stream") },
		{ SLICE_LIT("connection"), SLICE_LIT("keep-alive") },
	};
	struct header_list list = { hdrs, sizeof(hdrs) / sizeof(hdrs[0]), 0 };
	struct request_parts parts = {
		.method = body_len ? SLICE_LIT("POST") : SLICE_LIT("GET"),
		.uri = SLICE_LIT("/api/v1/items?id=42&sort=desc"),
		.version = SLICE_LIT("1.1"),
		.body = slice_make(body, body_len),
		.client = SLICE_LIT("192.0.2.77"),
		.headers = &list,
	};
	list.max = list.count;

	/* warm up connections, then measure */
	mirrored0 = 0;
	for (int phase = 0; phase < 2; phase++) {
		double until;

		if (phase == 1) {
			mirrored0 = stat_get(&t->stats->mirrored);
			wall0 = now_s(CLOCK_MONOTONIC);
			cpu0 = rusage_cpu(RUSAGE_SELF);
			drv0 = now_s(CLOCK_THREAD_CPUTIME_ID);
		}
		until = now_s(CLOCK_MONOTONIC) + (phase ? seconds : 0.3);
		while (now_s(CLOCK_MONOTONIC) < until) {
			struct admit_input in = { .headers = &list, .client = parts.client };
			struct mirror_request *r;

			if (atomic_load(&t->stats->inflight) >= (int64_t)cap) {
				usleep(50);
				continue;
			}
			r = request_new(&parts);
			if (!r)
				break;
			if (target_admit(t, &in) != ADMIT_SEND) {
				request_free(r);
				continue;
			}
			if (!queue_budget_reserve(&budget, r->charge)) {
				target_cancel(t, DROP_QUEUE_FULL);
				request_free(r);
				continue;
			}
			r->budget = &budget;
			r->set = set;
			target_set_ref(set);
			r->target_mask = 1;
			atomic_store(&r->pending, 1);
			replay_pool_submit_take(pool, r);
			submitted++;
		}
	}
	mirrored = stat_get(&t->stats->mirrored) - mirrored0;
	wall = now_s(CLOCK_MONOTONIC) - wall0;
	cpu = rusage_cpu(RUSAGE_SELF) - cpu0;
	drv = now_s(CLOCK_THREAD_CPUTIME_ID) - drv0;

	replay_pool_stop(pool, 5000);
	failed = stat_get(&t->stats->failed);
	close(stop_pipe[1]);
	wait4(sink, &status, 0, &child_ru);
	sink_cpu = (double)child_ru.ru_utime.tv_sec + (double)child_ru.ru_utime.tv_usec / 1e6 +
		   (double)child_ru.ru_stime.tv_sec + (double)child_ru.ru_stime.tv_usec / 1e6;

	printf("body=%zu workers=%u inflight=%u http2=%d: %.0f mirrored/s over %.1f s; "
	       "CPU s per 1000 mirrored: process %.3f, replay workers %.3f, sink %.3f "
	       "(sink includes warm-up); failed %llu\n",
	       body_len, workers, cap, http2, (double)mirrored / wall, wall,
	       1000.0 * cpu / (double)mirrored, 1000.0 * (cpu - drv) / (double)mirrored,
	       1000.0 * sink_cpu / (double)mirrored, (unsigned long long)failed);

	target_set_unref(set);
	config_free(&cfg);
	stats_registry_free(&reg);
	free(body);
	return failed ? 1 : 0;
}

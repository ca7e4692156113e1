#!/usr/bin/python3
"""Soak: a steady load for SOAK_SECONDS (default 600) through HAProxy with
100 % mirroring (tools/http-load, SOAK_RATE req/s, paths of varied length),
sampling the agent's RSS, open file descriptors (/proc/PID/fd) and threads
every SOAK_INTERVAL seconds (default 10, fewer for short runs).

Checks: no client error; the counters add up once idle; RSS, fds and
threads flat: the last sample no higher than the first sample under load
plus noise (RSS: 1 MiB + 5 %, fds: the shadow connections the in-flight cap
allows, threads: none).

  SOAK_SECONDS=N   how long (CI: a short value such as 20)
  SOAK_RATE=N      requests/s (default 1000)
  RESULTS=DIR      keep logs there (default: a temporary dir)
  WRITE_DOC=0|1    put the series into doc/reliability.md (default: 1 when
                   SOAK_SECONDS >= 600)
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rellib  # noqa: E402

SECONDS = float(os.environ.get("SOAK_SECONDS", "600"))
RATE = int(os.environ.get("SOAK_RATE", "1000"))
INTERVAL = float(os.environ.get("SOAK_INTERVAL", str(min(10.0, max(1.0, SECONDS / 10)))))
WRITE_DOC = os.environ.get("WRITE_DOC", "1" if SECONDS >= 600 else "0") == "1"
CONNS = 32


def write_paths(path):
    """100 paths from 10 bytes to about 2 KiB, so request sizes vary."""
    with open(path, "w") as f:
        for i in range(100):
            f.write("/soak/%d?q=%s\n" % (i, "v" * (i * 20)))
    return path


def series_row(name, samples, idx, fmt):
    vals = [s[idx] for s in samples]
    return "| %s | %s | %s | %s | %s |" % (name, fmt(vals[0]), fmt(vals[1] if len(vals) > 1
                                                                    else vals[0]),
                                           fmt(max(vals)), fmt(vals[-1]))


def main():
    missing = rellib.missing_tools(rellib.AGENT, rellib.HTTP_LOAD, rellib.HTTP_SINK,
                                   rellib.HAPROXY)
    if missing:
        print("soak: missing %s (run make check to build the tools)" % ", ".join(missing))
        return 77
    logdir = rellib.results_dir("soak")
    procs = rellib.Procs(logdir)
    ports = {k: rellib.free_port() for k in ("primary", "base", "mirror", "agent")}
    sock, primary_cfg, front_cfg = rellib.render_stack(logdir, ports)
    paths = write_paths(os.path.join(logdir, "paths.txt"))
    started = rellib.machine_line()
    print("soak: %.0f s at %d req/s, samples every %.0f s, logs in %s; %s"
          % (SECONDS, RATE, INTERVAL, logdir, started), flush=True)
    sink, sport = rellib.start_sink(procs, "soak", "ok")
    primary = rellib.start_haproxy(procs, "primary", primary_cfg)
    rellib.wait_port(ports["primary"], primary)
    agent = rellib.Agent(procs, logdir, "soak", "http://127.0.0.1:%d" % sport,
                         port=ports["agent"])
    front = rellib.start_haproxy(procs, "haproxy", front_cfg)
    rellib.wait_port(ports["mirror"], front)
    rellib.wait_server_up(sock, "spoe_agents", "agent")

    sampler = rellib.Sampler(agent.pid, INTERVAL)
    cpu0, t0 = rellib.benchlib.cpu_seconds(agent.pid), time.monotonic()
    load = rellib.http_load(ports["mirror"], RATE, SECONDS, CONNS, extra=["--paths", paths])
    cpu = rellib.benchlib.cpu_seconds(agent.pid) - cpu0
    wall = time.monotonic() - t0
    m = rellib.wait_idle(agent.metrics_port, timeout=15.0)
    samples = sampler.stop()
    acct = rellib.target_accounting(m, "shadow")
    sink_count = rellib.benchlib.sink_count(sport)
    ended = rellib.machine_line()
    rc = agent.stop()
    procs.stop_all()

    for t, rss, fds, thr in samples:
        print("  t=%4.0f s  VmRSS %7d KiB  fds %4d  threads %d" % (t, rss, fds, thr))
    # samples[0] is the idle agent; samples[1] the first under load
    first = samples[1] if len(samples) > 1 else samples[0]
    last = samples[-1]
    checks = [
        (load["errors"] == 0, "client errors %d of %d sent" % (load["errors"], load["sent"])),
        (acct["adds_up"], "counters add up: received %d = mirrored %d + failed %d + dropped %d"
         % (acct["received"], acct["mirrored"], acct["failed"], acct["dropped_total"])),
        (sink_count == acct["mirrored"], "the shadow counted %d requests, the agent mirrored %d"
         % (sink_count, acct["mirrored"])),
        (last[1] <= first[1] * 1.05 + 1024, "RSS flat: %d KiB first under load, %d KiB last"
         % (first[1], last[1])),
        (last[2] <= first[2] + int(agent.settings["max_inflight"]),
         "fds flat: %d first under load, %d last (max %d)" % (first[2], last[2],
                                                             max(s[2] for s in samples))),
        (last[3] == first[3], "threads flat: %d first under load, %d last" % (first[3], last[3])),
        (rc == 0, "agent exit status %s" % rc),
    ]
    for ok, what in checks:
        print("  %s %s" % ("ok  " if ok else "FAIL", what))
    failed = sum(1 for ok, _ in checks if not ok)

    md = ["Run: %s, %.0f s at %d req/s through HAProxy (100 %% mirrored, http-load, %d "
          "connections, 100 paths of 10 B to 2 KiB) to an http-sink; samples every %.0f s; "
          "%s at the start, %s at the end." % (time.strftime("%Y-%m-%d"), SECONDS, RATE, CONNS,
                                              INTERVAL, started, ended), "",
          "| Agent | idle (t=0) | first under load | max | last |", "|---|---|---|---|---|",
          series_row("VmRSS (MiB)", samples, 1, lambda v: "%.1f" % (v / 1024.0)),
          series_row("open fds", samples, 2, str),
          series_row("threads", samples, 3, str), "",
          "Client: %d sent, %d errors, p50 %.2f ms, p99 %.2f ms, p99.9 %.2f ms, max %.1f ms. "
          "Agent: received %d = mirrored %d + failed %d + dropped %d %s, %.1f %% CPU on "
          "average; the shadow counted %d. Checks: %s."
          % (load["sent"], load["errors"], load["p50_us"] / 1e3, load["p99_us"] / 1e3,
             load["p999_us"] / 1e3, load["max_us"] / 1e3, acct["received"], acct["mirrored"],
             acct["failed"], acct["dropped_total"],
             {k: int(v) for k, v in acct["dropped"].items() if v} or "(none)",
             100.0 * cpu / wall,
             sink_count, "all pass" if not failed else "**%d failed**" % failed),
          "", "<details><summary>Every sample</summary>", "",
          "| t (s) | VmRSS (KiB) | fds | threads |", "|---|---|---|---|"]
    md += ["| %.0f | %d | %d | %d |" % s for s in samples]
    md += ["", "</details>"]
    text = "\n".join(md) + "\n"
    print()
    print(text)
    if WRITE_DOC:
        rellib.update_doc("soak", text)
        print("soak: results written to %s" % rellib.DOC)
    print("soak: %d passed, %d failed" % (len(checks) - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

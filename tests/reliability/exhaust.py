#!/usr/bin/python3
"""Resource exhaustion: what the agent does when it runs out of file
descriptors, and whether its queue byte limit holds under 1 MiB bodies.

(a) fds: the agent under `ulimit -n 256`, 500 SPOP connections at once
    (spop-bench -c 500). It must warn at start that max-connections does
    not fit the descriptor limit (and lower it so shadows keep sockets),
    refuse the excess (counted, and a log line "refusing ..."), keep serving the
    connections it has (every NOTIFY sent on them ACKed), and accept new
    connections once those close (a second spop-bench run without error).
(b) bodies: 1 MiB bodies at load (spop-bench -b 1m, frames of 2 MiB) to a
    blackholed shadow, then to a slow one. The queue byte limit must hold
    (queue_peak_bytes <= queue-max-bytes), the excess is dropped as
    queue_full, RSS stays under the bound, and the counters add up.

  QUICK=1        shorter loads (CI)
  RESULTS=DIR    keep logs there (default: a temporary dir)
  WRITE_DOC=0|1  put the results into doc/reliability.md (default: 1 unless QUICK)
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rellib  # noqa: E402

QUICK = os.environ.get("QUICK") == "1"
WRITE_DOC = os.environ.get("WRITE_DOC", "0" if QUICK else "1") == "1"
NOFILE = 256
CONNS = 500
BODY = 1024 * 1024


def acct_failed_zero(m):
    """No mirror failed: the shadow kept the descriptors it needed."""
    return rellib.target_accounting(m, "shadow")["failed"] == 0


def fds_part(procs, logdir, ck):
    duration = 3 if QUICK else 10
    sink, sport = rellib.start_sink(procs, "fds", "ok")
    agent = rellib.Agent(procs, logdir, "fds", "http://127.0.0.1:%d" % sport, nofile=NOFILE,
                         max_connections=1000, queue_max_entries=1000)
    print("(a) agent under ulimit -n %d (max-connections 1000), %d SPOP connections, "
          "%d s at 500 NOTIFY/s" % (NOFILE, CONNS, duration), flush=True)
    rc, res, out = rellib.spop_bench(agent.port, ["-c", CONNS, "-R", 500, "-d", duration,
                                                  "--timeout", 2000], timeout=duration + 60)
    refused_by_bench = int(res["err_connect"])
    ready = int(res["ready"])
    ck.check(ready > 0 and refused_by_bench > 0 and ready + refused_by_bench == CONNS,
             "%d connections served, %d refused (of %d)" % (ready, refused_by_bench, CONNS))
    ck.check(res["sent"] > 0 and res["acked"] == res["sent"] and res["err_closed"] == 0 and
             res["err_timeout"] == 0 and res["lost"] == 0 and res["err_protocol"] == 0,
             "every NOTIFY on a served connection ACKed: sent %d, acked %d, closed %d, "
             "timeouts %d, lost %d" % (res["sent"], res["acked"], res["err_closed"],
                                       res["err_timeout"], res["lost"]))
    m = rellib.wait_idle(agent.metrics_port, timeout=10.0)
    refused = m.value("spoa_mirror_connections_refused_total")
    ck.check(refused == refused_by_bench,
             "connections_refused_total %d = connections spop-bench saw refused %d"
             % (refused, refused_by_bench))
    log = agent.log_text()
    warn = [line for line in log.splitlines() if "does not fit the file descriptor limit" in line]
    ck.check(bool(warn), "start-up warning: %s" % (warn[0].split(" ", 1)[1] if warn else
                                                   "(none about the descriptor limit)"))
    lines = [line for line in log.splitlines() if "refusing" in line and
             ("out of file descriptors" in line or "connection limit" in line)]
    ck.check(bool(lines), "log says so: %s" % (lines[0].split(" ", 1)[1] if lines else
                                                "(no 'refusing ...' line)"))
    ck.check(acct_failed_zero(m), "mirrors on the served connections did not fail for lack "
             "of sockets")
    acct1 = rellib.target_accounting(m, "shadow")
    print("      mirrors meanwhile: received %d, mirrored %d, failed %d, dropped %d"
          % (acct1["received"], acct1["mirrored"], acct1["failed"], acct1["dropped_total"]))
    ck.check(m.value("spoa_mirror_connections_open") == 0,
             "all %d served connections closed by the client: connections_open 0" % ready)

    # recovery: new connections are accepted once the old ones are gone.
    # Paced well below the target's in-flight cap (64), so every NOTIFY can
    # be mirrored: at 250/s the cap holds 256 ms of mirrors. At 1000/s it
    # held 64 ms, and a hiccup that long anywhere on a shared 2-core box
    # (spop-bench then sends its overdue NOTIFY at once) dropped a few as
    # target_busy, rightly (1 run in 14 here, once in CI).
    rc2, res2, out2 = rellib.spop_bench(agent.port, ["-c", 100, "-n", 2000, "-R", 250],
                                        timeout=60)
    ck.check(rc2 == 0 and res2["ready"] == 100 and res2["acked"] == 2000,
             "recovery: 100 new connections all served, 2000 of 2000 NOTIFY ACKed "
             "(spop-bench exit %d)" % rc2)
    m = rellib.wait_idle(agent.metrics_port, timeout=10.0)
    acct = rellib.target_accounting(m, "shadow")
    ck.check(acct["adds_up"], "counters add up: received %d = mirrored %d + failed %d + "
             "dropped %d (inflight %d)" % (acct["received"], acct["mirrored"], acct["failed"],
                                           acct["dropped_total"], acct["inflight"]))
    ck.check(acct["received"] - acct1["received"] == 2000 and
             acct["mirrored"] - acct1["mirrored"] == 2000,
             "after recovery every NOTIFY mirrored: %d of 2000 (dropped %s)"
             % (acct["mirrored"] - acct1["mirrored"],
                {k: v for k, v in acct["dropped"].items() if v}))
    st = agent.status()
    ck.check(agent.stop() == 0, "agent stops cleanly (exit 0)")
    procs.stop(sink)
    return {"ready": ready, "refused": refused_by_bench, "sent": res["sent"],
            "acked": res["acked"], "mirrored_during": acct1["mirrored"],
            "failed_during": acct1["failed"], "log": lines[0].split(" ", 1)[1] if lines else "",
            "vmhwm": st["VmHWM"], "recovered": rc2 == 0}


def bodies_part(procs, logdir, ck, mode):
    duration = 4 if QUICK else 15
    rate = 100
    conns = 4
    sink, sport = rellib.start_sink(procs, "bodies-" + mode, mode)
    agent = rellib.Agent(procs, logdir, "bodies-" + mode, "http://127.0.0.1:%d" % sport,
                         max_frame_size="2m", queue_max_bytes="8m", queue_max_entries=1000,
                         max_inflight=1024, max_connections=16, target_timeout="2s")
    qmax = rellib.parse_size(agent.settings["queue_max_bytes"])
    print("(b) 1 MiB bodies, %d NOTIFY/s over %d connections for %d s, shadow %s, "
          "queue-max-bytes 8m" % (rate, conns, duration, mode), flush=True)
    sampler = rellib.Sampler(agent.pid, 0.2)
    rc, res, out = rellib.spop_bench(agent.port, ["-c", conns, "-R", rate, "-d", duration,
                                                  "-b", BODY,
                                                  "--max-frame-size", 2 * BODY, "-w", 20,
                                                  "--timeout", 5000],
                                     timeout=duration + 60)
    ck.check(res["sent"] > 0 and res["acked"] == res["sent"] and res["errors"] == 0,
             "every NOTIFY ACKed at once: sent %d, acked %d, errors %d, ACK p99 %.1f ms"
             % (res["sent"], res["acked"], res["errors"], res["p99_us"] / 1000.0))
    m = rellib.wait_idle(agent.metrics_port, timeout=15.0)
    samples = sampler.stop()
    peak = m.value("spoa_mirror_queue_peak_bytes")
    ck.check(0 < peak <= qmax, "queue_peak_bytes %d <= queue-max-bytes %d" % (peak, qmax))
    acct = rellib.target_accounting(m, "shadow")
    qfull = acct["dropped"].get("queue_full", 0)
    ck.check(qfull > 0, "excess dropped as queue_full: %d" % qfull)
    ck.check(acct["adds_up"], "counters add up: received %d = mirrored %d + failed %d + "
             "dropped %d %s" % (acct["received"], acct["mirrored"], acct["failed"],
                                acct["dropped_total"], {k: v for k, v in acct["dropped"].items()
                                                        if v}))
    # live requests are at most queue-max-bytes / request size
    transfers = qmax // BODY
    bound = agent.bound_bytes(conns, transfers=transfers)
    st = agent.status()
    ck.check(st["VmHWM"] * 1024 <= bound,
             "VmHWM %s <= bound %s (idle %s + queue-max-bytes 8 MiB + %d transfers + "
             "%d connections x 2 frames of 2 MiB)"
             % (rellib.fmt_kib(st["VmHWM"]), rellib.fmt_kib(bound / 1024),
                rellib.fmt_kib(agent.idle_rss_kib), transfers, conns))
    ck.check(agent.stop() == 0, "agent stops cleanly (exit 0)")
    procs.stop(sink)
    return {"mode": mode, "sent": res["sent"], "acked": res["acked"], "peak": peak, "qmax": qmax,
            "acct": acct, "vmhwm": st["VmHWM"], "bound": bound,
            "rss_last": samples[-1][1] if samples else 0, "ack_p99_us": res["p99_us"],
            "duration": duration, "rate": rate}


def markdown(fds, bodies, started, ended):
    out = ["Run: %s; %s at the start, %s at the end." % (time.strftime("%Y-%m-%d"), started,
                                                        ended), ""]
    out.append("**(a) File descriptors.** Agent under `ulimit -n %d` (max-connections 1000), "
               "spop-bench opens %d SPOP connections at once and sends 500 NOTIFY/s on those "
               "that got through:" % (NOFILE, CONNS))
    out.append("")
    out.append("- %d connections served, %d refused at once (accepted and closed; "
               "`connections_refused_total` agrees); log: `%s`"
               % (fds["ready"], fds["refused"], fds["log"]))
    out.append("- on the served connections %d of %d NOTIFY ACKed, no timeout, no connection "
               "lost; %d mirrors went out meanwhile, %d failed (the shadow sockets compete "
               "for the same descriptors)" % (fds["acked"], fds["sent"],
                                               fds["mirrored_during"], fds["failed_during"]))
    out.append("- recovery: once they closed, 100 new connections were all served and 2000 of "
               "2000 NOTIFY mirrored: %s" % ("yes" if fds["recovered"] else "**no**"))
    out.append("")
    out.append("**(b) 1 MiB bodies.** spop-bench, 4 connections, frames of 2 MiB, %d NOTIFY/s "
               "(%d MiB/s) for %d s; agent with queue-max-bytes 8m, max-inflight 1024, "
               "target timeout 2 s:" % (bodies[0]["rate"], bodies[0]["rate"],
                                        bodies[0]["duration"]))
    out.append("")
    out.append("| Shadow | NOTIFY ACKed | ACK p99 ms | queue peak / max (MiB) | "
               "mirrored / failed | dropped (queue_full) | VmHWM / bound (MiB) |")
    out.append("|---|---|---|---|---|---|---|")
    for b in bodies:
        a = b["acct"]
        out.append("| %s | %d of %d | %.1f | %.2f / %.0f | %d / %d | %d (%d) | %.1f / %.1f |"
                   % (b["mode"], b["acked"], b["sent"], b["ack_p99_us"] / 1000.0,
                      b["peak"] / 1048576.0, b["qmax"] / 1048576.0, a["mirrored"], a["failed"],
                      a["dropped_total"], a["dropped"].get("queue_full", 0),
                      b["vmhwm"] / 1024.0, b["bound"] / 1048576.0))
    return "\n".join(out) + "\n"


def main():
    missing = rellib.missing_tools(rellib.AGENT, rellib.SPOP_BENCH, rellib.HTTP_SINK)
    if missing:
        print("exhaust: missing %s (run make check to build the tools)" % ", ".join(missing))
        return 77
    logdir = rellib.results_dir("exhaust")
    procs = rellib.Procs(logdir)
    ck = rellib.Checks()
    started = rellib.machine_line()
    print("exhaust: logs in %s; %s" % (logdir, started), flush=True)
    fds = fds_part(procs, logdir, ck)
    bodies = [bodies_part(procs, logdir, ck, mode) for mode in ("blackhole", "slow")]
    ended = rellib.machine_line()
    procs.stop_all()
    md = markdown(fds, bodies, started, ended)
    print()
    print(md)
    if WRITE_DOC:
        rellib.update_doc("exhaust", md)
        print("exhaust: results written to %s" % rellib.DOC)
    print("exhaust: %d passed, %d failed" % (ck.passed, len(ck.failed)))
    return 1 if ck.failed else 0


if __name__ == "__main__":
    sys.exit(main())

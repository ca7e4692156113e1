"""bench/run (v): what shadow verdicts cost.

wrk -> HAProxy (three frontends) -> primary; each frontend has its own
agent, whose one target is the shadow (an HAProxy answering the same 4 KiB
JSON document as the primary, so every verdict is a match):
  mirror   the request only; the target's compare = off
  headers  plus the primary's status and headers; compare = headers
  body     plus the primary's body (wait-for-body); compare = body
  headers10  as headers for 10 % of the requests (the request message's
           `compare` argument, COMPARE_PERCENT in the shipped configs): what
           a share saves HAProxy; its CPU ratio is per mirror
The three run back to back in every round so the machine's drift hits them
alike; per round the ratios to `mirror` are taken, and their medians
reported: HAProxy req/s (goal for headers: >= 90 %), agent CPU per compared
request (goal for body: <= 2x mirroring alone's CPU per mirror), the
join's peak bytes and the agent's peak RSS against the join's bound.
"""
import json
import os
import re
import time
import urllib.request

import sys

import benchlib as bl
import report


def log(msg):
    print("bench: " + msg, file=sys.stderr, flush=True)

VARIANTS = (("mirror", "off"), ("headers", "headers"), ("body", "body"),
            ("headers10", "headers"))
SAMPLED = {"headers10"}  # compares a share: CPU per mirror, not per compared
# the agents' join bound, stated so the report can hold peak RSS against it
JOIN_MAX_BYTES = 64 * 1024 * 1024


def json_document(size=4096):
    """A JSON object of `size` bytes: nested, with numbers, strings, arrays."""
    items, n = [], 0
    while True:
        item = {"id": n, "name": "item-%05d" % n, "price": n * 1.25, "tags": ["a", "b", "c"],
                "meta": {"created_at": "2026-12-03T12:00:00Z", "active": n % 2 == 0}}
        doc = json.dumps({"items": items + [item], "total": n + 1}, separators=(",", ":"))
        if len(doc) > size:
            break
        items.append(item)
        n += 1
    doc = json.dumps({"items": items, "total": n}, separators=(",", ":"))
    return (doc + " " * (size - len(doc))).encode()


def compare_counts(port):
    """spoa_mirror_compare_total by result, summed over targets."""
    out = {}
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5.0) as r:
        for line in r.read().decode().splitlines():
            if line.startswith("spoa_mirror_compare_total{"):
                m = re.search(r'result="([^"]+)"', line)
                if m:
                    out[m.group(1)] = out.get(m.group(1), 0.0) + float(line.rsplit(" ", 1)[1])
    return out


def start_agent(bench, name, compare, shadow_port):
    port, mport = bl.free_port(), bl.free_port()
    ini = os.path.join(bench.procs.logdir, "agent-%s.ini" % name)
    with open(ini, "w") as f:
        f.write("[mirror]\naddress = 127.0.0.1\nport = %d\nmetrics = 127.0.0.1:%d\n"
                "workers = %d\n" % (port, mport, bench.cfg.workers))
        if compare != "off":
            f.write("join-max-bytes = %d\n" % JOIN_MAX_BYTES)
            # every answer should match: the log says why one did not
            f.write("diff-log = %s\n" % os.path.join(bench.procs.logdir,
                                                      "diff-%s.jsonl" % name))
        f.write("\n[target shadow]\nurl = http://127.0.0.1:%d/\n" % shadow_port)
        if compare != "off":
            f.write("compare = %s\n" % compare)
    p = bench.procs.start("agent-" + name, [bench.cfg.agent, "-f", ini, "-r0"])
    bl.wait_port(mport, p)
    p.port, p.metrics_port = port, mport
    return p


def one_run(bench, agent, front, port):
    if not bench.cfg.quick:
        bench.wrk(port, "GET", 1)
    time.sleep(0.5)  # the warm-up's mirrors and verdicts settle
    cpu0 = bl.cpu_seconds(agent.pid)
    m0, c0 = bl.metrics(agent.metrics_port), compare_counts(agent.metrics_port)
    t0 = time.monotonic()
    w = bench.wrk(port, "GET", bench.cfg.duration)
    wall = time.monotonic() - t0
    # mirrors and verdicts still in flight when wrk stops: wait until the
    # counters stop moving, so CPU and counts cover the same requests
    last, since = None, time.monotonic()
    while time.monotonic() - since < 1.0 and time.monotonic() - t0 < wall + 15:
        m = bl.metrics(agent.metrics_port)
        now = (m.get("spoa_mirror_target_mirrored_total", 0), sum(compare_counts(agent.metrics_port).values()))
        if now != last:
            last, since = now, time.monotonic()
        time.sleep(0.2)
    cpu = bl.cpu_seconds(agent.pid) - cpu0
    m1, c1 = bl.metrics(agent.metrics_port), compare_counts(agent.metrics_port)
    mirrored = m1.get("spoa_mirror_target_mirrored_total", 0) - m0.get("spoa_mirror_target_mirrored_total", 0)
    verdicts = {k: c1.get(k, 0) - c0.get(k, 0) for k in c1}
    compared = sum(verdicts.values())
    return {
        "req_per_s": w["req_per_s"], "p99_us": w.get("p99_us"), "wrk_errors": w["errors"],
        "mirrored": mirrored, "compared": compared, "match": verdicts.get("match", 0),
        "not_match": compared - verdicts.get("match", 0),
        "not_match_kinds": ", ".join("%s %d" % (k, v) for k, v in sorted(verdicts.items())
                                     if k != "match" and v) or None,
        "agent_cpu_us_per_mirror": cpu / mirrored * 1e6 if mirrored else None,
        "agent_cpu_us_per_compared": cpu / compared * 1e6 if compared else None,
        "agent_rss_mib": bl.peak_rss_kib(agent.pid) / 1024.0,
        "join_peak_mib": m1.get("spoa_mirror_compare_join_bytes_peak", 0) / 1048576.0,
        "join_overflow": (m1.get("spoa_mirror_compare_join_overflow_total", 0)
                          - m0.get("spoa_mirror_compare_join_overflow_total", 0)),
        "loadavg_1m": bl.loadavg()[0],
    }


def section_v(bench):
    logdir = bench.procs.logdir
    body_file = os.path.join(logdir, "verdict-body.json")
    with open(body_file, "wb") as f:
        f.write(json_document())
    ports = {"PRIMARY_PORT": bl.free_port(), "SHADOW_PORT": bl.free_port()}
    origin = bench.start_haproxy("haproxy-origin", bench.write_cfg(
        "verdict-origin.cfg", BODY_FILE=body_file, **ports), ports["PRIMARY_PORT"])
    agents = {name: start_agent(bench, name, compare, ports["SHADOW_PORT"])
              for name, compare in VARIANTS}
    fports = {"MIRROR_PORT": bl.free_port(), "HEADERS_PORT": bl.free_port(),
              "BODY_PORT": bl.free_port(), "HEADERS10_PORT": bl.free_port()}
    front = bench.start_haproxy("haproxy-verdict-front", bench.write_cfg(
        "verdict-front.cfg", HAPROXY_THREADS=bench.cfg.haproxy_threads,
        SPOE_DIR=os.path.join(os.path.dirname(os.path.abspath(__file__)), "haproxy"),
        PRIMARY_PORT=ports["PRIMARY_PORT"], AGENT_MIRROR_PORT=agents["mirror"].port,
        AGENT_HEADERS_PORT=agents["headers"].port, AGENT_BODY_PORT=agents["body"].port,
        AGENT_HEADERS10_PORT=agents["headers10"].port,
        **fports), fports["MIRROR_PORT"])
    runs = {name: [] for name, _ in VARIANTS}
    try:
        for i in range(bench.cfg.runs):
            for name, _ in VARIANTS:
                log("(v) %s, round %d/%d" % (name, i + 1, bench.cfg.runs))
                runs[name].append(one_run(bench, agents[name], front,
                                          fports[name.upper() + "_PORT"]))
        for i in range(bench.cfg.runs):
            base = runs["mirror"][i]
            for name, _ in VARIANTS:
                r = runs[name][i]
                r["req_pct_of_mirror"] = (r["req_per_s"] / base["req_per_s"] * 100
                                          if base["req_per_s"] else None)
                per = (r["agent_cpu_us_per_mirror"] if name in SAMPLED
                       else r["agent_cpu_us_per_compared"] or r["agent_cpu_us_per_mirror"])
                r["cpu_x_of_mirror"] = (per / base["agent_cpu_us_per_mirror"]
                                        if per and base["agent_cpu_us_per_mirror"] else None)
    finally:
        bench.procs.stop(front)
        for a in agents.values():
            bench.procs.stop(a)
        bench.procs.stop(origin)
    return [report.summarise({"variant": name, "compare": compare,
                              "join_max_mib": JOIN_MAX_BYTES / 1048576 if compare != "off" else None},
                             runs[name]) for name, compare in VARIANTS]

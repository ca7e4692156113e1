"""Shadow verdicts end to end: the real HAProxy with the shipped compare
config (bodies on), the agent comparing one target, and a primary and a
shadow (harness/api_origin.py) that agree on most endpoints and differ on
purpose on a few. The counters, the diff log and GET /compare must show
exactly the planted differences, with no false one over more than 1000
agreeing requests, although every answer carries a Date and an
X-Request-Id that differ. Then bad input straight on the agent's SPOP port:
response messages without an id, with an unknown id, with a status that is
not one.

Skipped, saying so, when the agent at hand has no shadow verdicts (no
`compare` in `spoa-mirror --help`)."""

import json
import re
import socket
import os
import subprocess
import sys
import threading
import time
import urllib.request

import pytest

from harness import agent as agent_mod
from harness import haproxy, procs
from harness.client import Client

sys.path.insert(0, os.path.join(haproxy.REPO, "tests", "support"))
import spop_wire as sw  # noqa: E402


def agent_compares():
    try:
        out = subprocess.run([agent_mod.binary(), "--help"], capture_output=True, text=True,
                             timeout=10)
    except OSError:
        return False
    return re.search(r"\bcompare\b", out.stdout + out.stderr) is not None


pytestmark = pytest.mark.skipif(
    not agent_compares(),
    reason="the agent at %s has no shadow verdicts (`compare` is not in its --help): "
           "build a tree with the verdict branches merged" % agent_mod.binary())

TARGET = "shadow"
BODY_MAX = 16 * 1024
N_AGREE = {  # endpoint prefix -> requests; every one must be a match
    "/api/v1/users/": 400,     # equal JSON, spelled differently by the shadow
    "/api/v1/orders/": 300,    # same bytes
    "/api/v1/text/": 100,      # text/plain, same bytes
    "/api/v1/stamped/": 150,   # differs only in the ignored /meta/requested_at
    "/api/v1/garbage/same": 50,  # invalid JSON, same bytes
}
PLANTED = [  # (target, times, verdict)
    ("/api/v1/teapot", 3, "status"),
    ("/api/v1/price/%d", 4, "body"),
    ("/api/v1/garbage/diff", 2, "body"),
    ("/api/v1/big/diff", 1, "body"),     # over the cap: differs past it
    ("/api/v1/big/same", 1, "match"),    # over the cap: digests agree
    ("/api/v1/slow-body/%d", 5, "match"),  # body 300 ms after the headers
    ("/api/v1/hang", 1, "shadow_error"),  # the shadow answers after the timeout
]


def plan():
    targets = []
    for prefix, n in N_AGREE.items():
        targets += [prefix + ("%d" % i if prefix.endswith("/") else "") for i in range(n)]
    for target, n, _ in PLANTED:
        targets += [target % i if "%d" in target else target for i in range(n)]
    return targets


def expected_totals():
    totals = dict.fromkeys(["match", "status", "headers", "body", "shadow_error",
                            "not_comparable"], 0)
    totals["match"] = sum(N_AGREE.values())
    for _, n, verdict in PLANTED:
        totals[verdict] += n
    return totals


def get_json(port, path):
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=5) as r:
        assert r.status == 200
        return r.headers.get("Content-Type"), json.loads(r.read())


def compare_totals(agent):
    m = agent.metrics()
    return {r: int(m.sum("spoa_mirror_compare_total", target=TARGET, result=r))
            for r in expected_totals()}


class Run:
    """What one run of the plan left behind."""


@pytest.fixture(scope="module")
def run(module_world):
    w = module_world
    primary = w.api_origin("primary")
    shadow = w.api_origin("shadow", hang=5.0)
    diff_log = os.path.join(w.workdir, "diff.jsonl")
    ini = w.ini("verdicts", mirror={"diff-log": diff_log, "diff-log-rate": "0"},
                targets=[(TARGET, {"url": shadow.url, "compare": "body",
                                   "compare-ignore-json": "/meta/requested_at",
                                   "compare-body-max": "16k", "timeout": "1s"})])
    agent = w.agent(ini=ini)
    proxy = w.haproxy(primary, [agent], cfg=haproxy.compare_config_paths()[0],
                      env=haproxy.compare_env(True))
    targets = plan()
    c = Client(proxy.port)
    try:
        for t in targets:
            r = c.get(t)
            assert r.status == 200, (t, r.status)  # the client gets the primary's answer
    finally:
        c.close()
    # Every verdict is in once the totals add up to the requests: the last
    # (the hanging shadow) comes when the target's timeout (1 s) ends it.
    total = len(targets)
    procs.wait_until(lambda: sum(compare_totals(agent).values()) >= total, 15,
                     what="%d verdicts" % total)
    time.sleep(0.3)  # room for any extra verdict, which would fail the tests
    out = Run()
    out.agent, out.proxy, out.total, out.diff_log = agent, proxy, total, diff_log
    out.metrics = agent.metrics()
    out.totals = compare_totals(agent)
    out.compare_type, out.compare = get_json(agent.metrics_port, "/compare")
    with open(diff_log) as f:
        out.lines = [json.loads(line) for line in f]
    return out


def test_counters_show_exactly_the_planted_differences(run):
    print("totals:", run.totals)
    assert sum(N_AGREE.values()) >= 1000
    assert run.totals == expected_totals()
    m = run.metrics
    for name in ("spoa_mirror_compare_unknown_id_total", "spoa_mirror_compare_no_id_total",
                 "spoa_mirror_compare_invalid_total", "spoa_mirror_compare_join_timeouts_total",
                 "spoa_mirror_compare_duplicates_total",
                 "spoa_mirror_compare_join_overflow_total",
                 "spoa_mirror_compare_inbox_dropped_total",
                 "spoa_mirror_diff_log_suppressed_total",
                 "spoa_mirror_diff_log_write_errors_total"):
        assert m.has(name), name
        assert m.sum(name) == 0, (name, m.sum(name))
    assert m.sum("spoa_mirror_diff_log_lines_total") == 10
    # the primary's response time came with every answer: one latency
    # difference per compared answer the shadow gave
    assert m.sum("spoa_mirror_compare_latency_delta_seconds_count", target=TARGET) == \
        run.total - run.totals["shadow_error"]
    assert run.proxy.spoe_errors() == []


def test_diff_log_has_one_line_per_planted_difference(run):
    lines = run.lines
    got = sorted((x["path"], x["verdict"]) for x in lines)
    assert got == sorted(
        [("/api/v1/teapot", "status")] * 3
        + [("/api/v1/price/%d" % i, "body") for i in range(4)]
        + [("/api/v1/garbage/diff", "body")] * 2
        + [("/api/v1/big/diff", "body")])
    for x in lines:
        assert x["target"] == TARGET and x["method"] == "GET"
        assert x["id"].startswith("7F000001:")
        # Date and X-Request-Id differ on every answer and never count
        assert "headers" not in x, x
        assert "bodies" not in x  # diff-log-bodies is off
        assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", x["time"]), x["time"]
    assert len({x["id"] for x in lines}) == len(lines)
    by_path = {x["path"]: x for x in lines}
    assert by_path["/api/v1/teapot"]["status"] == {"primary": 200, "shadow": 503}
    price = by_path["/api/v1/price/2"]
    assert price["status"] == {"primary": 200, "shadow": 200}
    assert price["json"] == [{"pointer": "/price", "primary": "10", "shadow": "12"}]
    assert price.get("json_more", 0) == 0
    # not JSON after all: compared as bytes, "{not json: 1}" vs "...2}"
    garbage = by_path["/api/v1/garbage/diff"]
    assert "json" not in garbage and garbage["body_offset"] == 11
    # over the cap and different only past it: the digests tell, not where
    big = by_path["/api/v1/big/diff"]
    assert "json" not in big and big.get("body_offset", -1) in (-1, 65535)


def test_compare_endpoint_has_totals_and_the_endpoints_that_differ(run):
    assert run.compare_type.startswith("application/json")
    (t,) = run.compare["targets"]
    assert t["name"] == TARGET
    assert t["totals"] == expected_totals()
    assert t["differences"] == 10
    eps = {e["endpoint"]: e for e in t["endpoints"]}
    differing = {k: e["differences"] for k, e in eps.items() if e["differences"]}
    assert differing == {"GET /api/v1/price/{id}": 4, "GET /api/v1/teapot": 3,
                         "GET /api/v1/garbage/diff": 2, "GET /api/v1/big/diff": 1}
    # the most different first, each with its last example
    assert t["endpoints"][0]["endpoint"] == "GET /api/v1/price/{id}"
    last = eps["GET /api/v1/price/{id}"]["last"]
    # verdicts are decided as answers come, not in request order
    assert last["path"] in ["/api/v1/price/%d" % i for i in range(4)]
    assert last["verdict"] == "body"
    assert last["json"] == [{"pointer": "/price", "primary": "10", "shadow": "12"}]
    assert eps["GET /api/v1/teapot"]["last"]["status"] == {"primary": 200, "shadow": 503}
    # agreeing endpoints (ids normalised) are listed without an example
    for ep in ("GET /api/v1/users/{id}", "GET /api/v1/orders/{id}",
               "GET /api/v1/stamped/{id}"):
        assert ep in eps and eps[ep]["differences"] == 0 and eps[ep]["last"] is None, ep
    assert eps["GET /api/v1/hang"]["by_result"]["shadow_error"] == 1


def test_compare_page_is_served(run):
    with urllib.request.urlopen("http://127.0.0.1:%d/compare.html" % run.agent.metrics_port,
                                timeout=5) as r:
        assert r.status == 200 and r.headers.get("Content-Type").startswith("text/html")
        page = r.read().decode()
    assert "<html" in page.lower() and "src=\"http" not in page


def spoe_response_events(proxy):
    """HAProxy's SPOE log lines for the mirror-response group (`log global`
    in the SPOE file): one per response message it sent."""
    n = 0
    for p in proxy.logs():
        with open(p.log_path, encoding="utf-8", errors="replace") as f:
            n += sum(1 for line in f if "SPOE" in line and "mirror-response" in line)
    return n


def test_compare_percent_judges_a_share_and_mirrors_all(world):
    """COMPARE_PERCENT=50 in the shipped config: every request is mirrored,
    about half are compared; the agent is told which by the request
    message's `compare` argument, so it waits for no answer that will not
    come (no join timeout, no unknown id), and HAProxy sends the response
    message only for those."""
    n = 200
    primary = world.api_origin("primary")
    shadow = world.api_origin("shadow")
    ini = world.ini("percent", targets=[(TARGET, {"url": shadow.url, "compare": "headers"})])
    agent = world.agent(ini=ini)
    env = haproxy.compare_env(False)
    env["COMPARE_PERCENT"] = "50"
    proxy = world.haproxy(primary, [agent], cfg=haproxy.compare_config_paths()[0], env=env)
    c = Client(proxy.port)
    try:
        for i in range(n):
            assert c.get("/api/v1/orders/%d" % i).status == 200
    finally:
        c.close()

    def settled():
        m = agent.metrics()
        judged = m.sum("spoa_mirror_compare_total", target=TARGET)
        return (m.sum("spoa_mirror_target_mirrored_total", target=TARGET) == n
                and judged + m.sum("spoa_mirror_compare_not_asked_total") == n)
    procs.wait_until(settled, 15, what="%d mirrors, each judged or not asked" % n)
    m = agent.metrics()
    judged = int(m.sum("spoa_mirror_compare_total", target=TARGET))
    not_asked = int(m.sum("spoa_mirror_compare_not_asked_total"))
    print("compared %d, not asked %d of %d" % (judged, not_asked, n))
    # 50 % of 200: below 60 or above 140 has odds under 1e-8
    assert 60 <= judged <= 140
    assert m.sum("spoa_mirror_compare_total", target=TARGET, result="match") == judged
    for name in ("spoa_mirror_compare_join_timeouts_total",
                 "spoa_mirror_compare_unknown_id_total", "spoa_mirror_compare_no_id_total"):
        assert m.sum(name) == 0, (name, m.sum(name))
    assert m.sum("spoa_mirror_compare_join_entries") == 0
    assert spoe_response_events(proxy) == judged
    assert proxy.spoe_errors() == []


# ---- bad input on the agent's SPOP port, as a broken HAProxy config would send

class SpopPeer:
    """Plays HAProxy on one SPOP connection: HELLO, then NOTIFY frames,
    each answered by an ACK."""

    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.s.sendall(sw.haproxy_hello(16384))
        ftype, _, _, _, _ = sw.recv_frame(self.s, 65536)
        assert ftype == sw.AGENT_HELLO
        self.sid = 0

    def notify(self, name, args):
        self.sid += 1
        self.s.sendall(sw.notify(self.sid, 1, [(name, args)]))
        ftype, _, sid, fid, _ = sw.recv_frame(self.s, 65536)
        assert (ftype, sid, fid) == (sw.ACK, self.sid, 1)

    def close(self):
        self.s.close()


def response_args(uid, status=200):
    args = [("status", sw.T_INT32, status),
            ("headers", sw.T_BINARY, sw.headers_bin_encode([(b"content-type", b"text/plain")])),
            ("body", sw.T_BINARY, b"x")]
    if uid is not None:
        args.insert(0, ("unique-id", sw.T_STRING, uid))
    return args


def test_bad_response_messages_are_counted_and_change_no_verdict(run):
    m0 = run.agent.metrics()
    peer = SpopPeer(run.agent.port)
    try:
        peer.notify("mirror-response", response_args(None))       # no id
        peer.notify("mirror-response", response_args(""))         # empty id (no unique-id-format)
        peer.notify("mirror-response", response_args("no-such-transaction"))
        peer.notify("mirror-response", response_args("no-such-either"))
        peer.notify("mirror-response", response_args("bad-status", status=7))
    finally:
        peer.close()

    def counted():
        m = run.agent.metrics()
        return (m.sum("spoa_mirror_compare_no_id_total") - m0.sum("spoa_mirror_compare_no_id_total"),
                m.sum("spoa_mirror_compare_unknown_id_total")
                - m0.sum("spoa_mirror_compare_unknown_id_total"),
                m.sum("spoa_mirror_compare_invalid_total")
                - m0.sum("spoa_mirror_compare_invalid_total"))
    procs.wait_until(lambda: counted() == (2, 2, 1), 5, what="the bad answers counted")
    time.sleep(0.2)
    assert counted() == (2, 2, 1)
    assert compare_totals(run.agent) == expected_totals()
    with open(run.diff_log) as f:
        assert len(f.readlines()) == 10
    # the agent still mirrors and compares afterwards
    c = Client(run.proxy.port)
    try:
        assert c.get("/api/v1/teapot").status == 200
    finally:
        c.close()
    procs.wait_until(lambda: compare_totals(run.agent)["status"] == 4, 5,
                     what="one more status verdict")


# ---- what a failover between the two agents costs

def verdict_counts(agent):
    m = agent.metrics()
    out = {r: int(m.sum("spoa_mirror_compare_total", target=TARGET, result=r))
           for r in expected_totals()}
    for name in ("unknown_id", "join_timeouts"):
        out[name] = int(m.sum("spoa_mirror_compare_%s_total" % name))
    return out


def test_failover_costs_joins_never_a_wrong_verdict(world):
    # agent1 is down when a slow transaction starts, so its request message
    # goes to agent2 (the backup); agent1 is back before the primary answers,
    # so the response message goes to agent1. Neither can join: agent2 counts
    # a join timeout (its verdict: not_comparable), agent1 an unknown id.
    primary = world.api_origin("primary")
    shadow = world.api_origin("shadow")
    ini = world.ini("verdicts", mirror={"join-timeout": "2s"},
                    targets=[(TARGET, {"url": shadow.url, "compare": "headers"})])
    agent1, agent2 = world.agent("agent1", ini=ini), world.agent("agent2", ini=ini)
    proxy = world.haproxy(primary, [agent1, agent2], cfg=haproxy.compare_config_paths()[0],
                          env=haproxy.compare_env(False))
    agent1.proc.stop()
    proxy.wait_agents("DOWN", names=("agent1",))
    answer = {}

    def slow():
        c = Client(proxy.port)
        try:
            answer["status"] = c.get("/api/v1/users/1?delay=4").status
        finally:
            c.close()
    t = threading.Thread(target=slow)
    t.start()
    agent1.start()
    proxy.wait_agents("UP", names=("agent1",))
    t.join(timeout=10)
    assert answer == {"status": 200}
    procs.wait_until(lambda: verdict_counts(agent2)["join_timeouts"] == 1, 5,
                     what="agent2's join timeout")
    procs.wait_until(lambda: verdict_counts(agent1)["unknown_id"] == 1, 5,
                     what="agent1's unknown id")
    time.sleep(0.2)
    none = dict.fromkeys(list(expected_totals()) + ["unknown_id", "join_timeouts"], 0)
    # the request without its answer: not comparable, never a difference
    assert verdict_counts(agent2) == dict(none, not_comparable=1, join_timeouts=1)
    assert verdict_counts(agent1) == dict(none, unknown_id=1)

    # afterwards agent1 has whole transactions again
    c = Client(proxy.port)
    try:
        for i in range(20):
            assert c.get("/api/v1/users/%d" % i).status == 200
    finally:
        c.close()
    procs.wait_until(lambda: verdict_counts(agent1)["match"] == 20, 5, what="20 matches")
    assert verdict_counts(agent2)["match"] == 0


# ---- the capture budget

def test_answers_over_the_capture_budget_are_not_comparable_and_counted(world):
    # compare-capture-max at its least (64k) and compare-body-max as big: a
    # 64 KiB shadow body needs a 64 KiB buffer beside its 1 KiB head, more
    # than the budget holds, so it is not kept and its verdict is
    # not_comparable, never "body", even where the bodies differ (big/diff);
    # the small answers around it fit and match, and the budget comes back.
    primary = world.api_origin("primary")
    shadow = world.api_origin("shadow")
    ini = world.ini("verdicts", mirror={"compare-capture-max": "64k"},
                    targets=[(TARGET, {"url": shadow.url, "compare": "body",
                                       "compare-body-max": "64k"})])
    agent = world.agent(ini=ini)
    proxy = world.haproxy(primary, [agent], cfg=haproxy.compare_config_paths()[0],
                          env=haproxy.compare_env(True))
    targets = ["/api/v1/users/%d" % i for i in range(5)] + \
        ["/api/v1/big/diff", "/api/v1/big/same"] * 2 + ["/api/v1/orders/1"]
    c = Client(proxy.port)
    try:
        for t in targets:
            assert c.get(t).status == 200, t
    finally:
        c.close()
    procs.wait_until(lambda: sum(compare_totals(agent).values()) >= len(targets), 10,
                     what="%d verdicts" % len(targets))
    time.sleep(0.2)
    m = agent.metrics()
    assert compare_totals(agent) == dict(dict.fromkeys(expected_totals(), 0), match=6,
                                         not_comparable=4)
    assert m.sum("spoa_mirror_compare_capture_budget_total") == 4
    assert m.sum("spoa_mirror_compare_capture_max_bytes") == 64 * 1024
    assert m.sum("spoa_mirror_compare_capture_bytes") == 0
    assert 0 < m.sum("spoa_mirror_compare_capture_peak_bytes") <= 64 * 1024
    assert proxy.spoe_errors() == []

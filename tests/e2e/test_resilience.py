"""Failures around the mirror must cost the clients nothing: a shadow that is
down or slow, an agent killed (and restarted) under load, one of two agents
killed, and an HAProxy reload.

Load is a modest fixed rate (open loop, a new connection per request).
Latency is compared within one run: requests alternate between /api/v3 (never
mirrored: the baseline) and /api/v1 (mirrored), so both see the same machine
load at the same moments."""

import os
import re
import time

from harness.client import Client, run_load

RATE = float(os.environ.get("E2E_RATE", "100"))  # requests per second
BASE = "/api/v3/baseline"
MIRRORED = "/api/v1/mirrored"
# What a mirrored request may cost the client, compared within one run with
# the unmirrored baseline. The failures guarded against cost far more than any
# bound here: a mirror that waits on the shadow costs SPOE's `timeout
# processing` (200 ms) or the slow shadow's 3 s on every mirrored request, at
# the median as much as at the tail.
# - Median: at most E2E_P50_SLACK_MS (2 ms) more: the extra hop (HAProxy ->
#   agent -> ACK) costs 0.3-0.6 ms on a quiet box.
# - p99: at most the baseline's p99 once more plus E2E_P99_SLACK_MS (5 ms):
#   a mirrored request waits for one more process (the agent) to be
#   scheduled, and on 2 cores shared with other jobs each wake-up can wait
#   about as long as the baseline's whole tail (a CI run saw baseline p99
#   8-17 ms against 1.5 ms quiet, mirrored p99 1.6-2.2x that in each of three
#   attempts, the median 0.3-0.8 ms more).
P50_SLACK_S = float(os.environ.get("E2E_P50_SLACK_MS", "2")) / 1000.0
P99_NOISE_S = float(os.environ.get("E2E_P99_SLACK_MS", "5")) / 1000.0


def assert_no_client_errors(result):
    assert result.errors == [], "%d client errors, first: %s" % (len(result.errors),
                                                                  result.errors[:5])


def p50_close(result):
    return result.p(MIRRORED, 50) <= result.p(BASE, 50) + P50_SLACK_S


def p99_close(result):
    base, mirrored = result.p(BASE, 99), result.p(MIRRORED, 99)
    return mirrored <= 2 * base + P99_NOISE_S


def measure_mirror_cost(proxy, attempts=3, duration=5.0):
    """Interleaved load; every attempt must be free of client errors, and the
    p50 and p99 bounds must hold in one of them: a burst of load from the other jobs
    on this machine can spoil one tail, a real mirror cost spoils all."""
    runs = []
    for _ in range(attempts):
        result = run_load(proxy.port, [BASE, MIRRORED], RATE, duration)
        runs.append(result)
        print("latency: %s; mirrored/baseline p99 = %.2f; slowest: %s" % (
            result.describe(), result.p(MIRRORED, 99) / result.p(BASE, 99),
            result.slowest_windows()))
        assert_no_client_errors(result)
        assert result.count(BASE) > 0.9 * result.sent / 2
        assert result.count(MIRRORED) > 0.9 * result.sent / 2
        if p50_close(result) and p99_close(result):
            return runs
    raise AssertionError("mirrored p50 above the baseline's + %.1f ms, or p99 above twice the "
                         "baseline's + %.1f ms, in every run:\n%s"
                         % (P50_SLACK_S * 1e3, P99_NOISE_S * 1e3,
                            "\n".join(r.describe() for r in runs)))


def send_sequential(proxy, targets):
    c = Client(proxy.port)
    try:
        for t in targets:
            r = c.get(t)
            assert r.status == 200 and r.header("x-backend") == "primary", (t, r.status)
    finally:
        c.close()


def test_shadow_down_costs_clients_nothing(world):
    _, _, agent, proxy = world.stack(shadow_running=False)
    runs = measure_mirror_cost(proxy)
    assert proxy.spoe_errors() == []  # the agent ACKed every event in time
    # Mirroring was attempted and failed at the shadow, as it should.
    m = agent.metrics()
    sent = sum(r.sent for r in runs) / 2
    assert m.sum("spoa_mirror_target_received_total", target="default") >= 0.9 * sent
    assert m.sum("spoa_mirror_target_mirrored_total", target="default") == 0


def test_shadow_slow_costs_clients_nothing(world):
    _, shadow, agent, proxy = world.stack(shadow_delay=3.0)
    runs = measure_mirror_cost(proxy)
    assert proxy.spoe_errors() == []
    sent = sum(r.sent for r in runs) / 2
    assert agent.metrics().sum("spoa_mirror_target_received_total", target="default") >= 0.9 * sent
    assert shadow.count(MIRRORED) > 0


def test_agent_killed_under_load_then_mirroring_resumes_after_restart(world):
    _, shadow, agent, proxy = world.stack()

    def restart():
        agent.start()

    result = run_load(proxy.port, [MIRRORED], RATE, 7.0,
                      events=[(2.0, agent.kill), (4.0, restart)])
    print("load: %s; slowest: %s" % (result.describe(), result.slowest_windows()))
    assert_no_client_errors(result)
    proxy.wait_agents("UP")
    targets = ["/api/v1/after-restart?i=%d" % i for i in range(100)]
    send_sequential(proxy, targets)
    assert shadow.wait_count("/api/v1/after-restart?", 100) == 100


def received(agent):
    return agent.metrics().sum("spoa_mirror_target_received_total", target="default")


def test_one_of_two_agents_killed_mirroring_continues_through_the_other(world):
    primary = world.primary()
    shadow = world.shadow()
    agents = {"agent1": world.mirror_agent(shadow.url, name="agent1"),
              "agent2": world.mirror_agent(shadow.url, name="agent2")}
    proxy = world.haproxy(primary, [agents["agent1"], agents["agent2"]])

    send_sequential(proxy, ["/api/v1/both?i=%d" % i for i in range(40)])
    assert shadow.wait_count("/api/v1/both?", 40) == 40
    # HAProxy keeps reusing an idle SPOE connection, so one agent may carry
    # all of a sequential run: kill the one that carried the most.
    busy = max(agents, key=lambda n: received(agents[n]))
    other = "agent2" if busy == "agent1" else "agent1"
    assert received(agents[busy]) > 0

    result = run_load(proxy.port, [MIRRORED], RATE, 5.0, events=[(1.5, agents[busy].kill)])
    print("load: %s; slowest: %s" % (result.describe(), result.slowest_windows()))
    assert_no_client_errors(result)

    proxy.wait_agents("DOWN", names=(busy,))
    before = received(agents[other])
    send_sequential(proxy, ["/api/v1/one-left?i=%d" % i for i in range(100)])
    assert shadow.wait_count("/api/v1/one-left?", 100) == 100
    assert received(agents[other]) - before == 100


# An SPOE event of HAProxy's that ended with status 256 (0x100 + 0: the SPOE
# connection it was queued on was released after a normal close) and no
# answer time (-1): the NOTIFY was never answered by any agent.
_RELEASED_UNANSWERED = re.compile(r"\bst=256 -?\d+/-?\d+/-?\d+/-1/")


def test_haproxy_reload_loses_no_client_and_keeps_mirroring(world):
    _, shadow, agent, proxy = world.stack()
    result = run_load(proxy.port, [MIRRORED], RATE, 6.0, events=[(2.0, proxy.reload)])
    print("load: %s; slowest: %s" % (result.describe(), result.slowest_windows()))
    assert_no_client_errors(result)
    assert len(proxy.old) == 1
    old = proxy.old[0]
    deadline = time.monotonic() + 10
    while old.alive() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not old.alive(), "the old HAProxy process did not finish after the reload"
    assert proxy.spoe_errors(procs=[proxy.proc]) == []
    # The old process closes its idle SPOE connections when its soft stop
    # begins (HAProxy 2.6); a request still arriving on one of its kept-alive
    # client connections can be queued on an SPOE connection HAProxy is
    # releasing, and that event ends with status 256, unanswered (seen once
    # in more than 30 runs here). That alone is tolerated, a handful at most, on
    # the old process only; the agent must have ACKed every NOTIFY it got.
    old_errors = proxy.spoe_errors(procs=[old])
    assert all(_RELEASED_UNANSWERED.search(e) for e in old_errors), old_errors
    assert len(old_errors) <= 3, old_errors
    m = agent.metrics()
    assert m.sum("spoa_mirror_notify_total") == m.sum("spoa_mirror_ack_total") > 0
    # Mirroring went on across the reload...
    mirrored = shadow.wait_count(MIRRORED, result.sent, timeout=3)
    assert mirrored >= 0.95 * result.sent, (mirrored, result.sent)
    # ...and through the new process alone afterwards.
    proxy.wait_agents("UP")
    send_sequential(proxy, ["/api/v1/after-reload?i=%d" % i for i in range(100)])
    assert shadow.wait_count("/api/v1/after-reload?", 100) == 100

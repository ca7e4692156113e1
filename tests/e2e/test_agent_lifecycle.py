"""The agent's lifecycle with real HAProxy traffic: SIGHUP reloads (a good file
swaps the targets without dropping SPOP connections, a bad one keeps the
running configuration), SIGTERM drains mirrors still in flight, and the
per-target counters add up exactly after a run of mixed outcomes."""

import os
import signal
import time

from harness import procs
from harness.client import Client


def send(proxy, targets):
    c = Client(proxy.port)
    try:
        for t in targets:
            r = c.get(t)
            assert r.status == 200, (t, r.status, r.body[:200])
    finally:
        c.close()


def wait_idle(agent, timeout=15.0):
    """Until no target has a request in flight, then the metrics."""
    procs.wait_until(lambda: agent.metrics().sum("spoa_mirror_target_inflight") == 0, timeout,
                     what="agent idle")
    return agent.metrics()


def assert_accounting(m, target):
    received = m.sum("spoa_mirror_target_received_total", target=target)
    parts = (m.sum("spoa_mirror_target_mirrored_total", target=target) +
             m.sum("spoa_mirror_target_failed_total", target=target) +
             m.sum("spoa_mirror_target_dropped_total", target=target) +
             m.sum("spoa_mirror_target_sampled_out_total", target=target))
    assert received == parts, (target, received, parts, m.summary())
    return received


def test_sighup_reload_swaps_targets_and_keeps_spop_connections(world):
    primary = world.primary()
    old, new = world.shadow("old"), world.shadow("new")
    ini = world.ini("agent", mirror_url=old.url)
    agent = world.agent(ini=ini)
    proxy = world.haproxy(primary, [agent])
    send(proxy, ["/api/v1/before?i=%d" % i for i in range(10)])
    assert old.wait_count("/api/v1/before?", 10) == 10
    opened = agent.metrics().sum("spoa_mirror_connections_total")

    world.ini("agent", targets=[("v2", {"url": new.url, "add-headers": "X-Reloaded: yes"})])
    agent.proc.signal(signal.SIGHUP)
    procs.wait_until(lambda: "reloaded: 1 target(s)" in agent.proc.tail(20000), 5,
                     what="reload logged")
    send(proxy, ["/api/v1/after?i=%d" % i for i in range(10)])
    assert new.wait_count("/api/v1/after?", 10) == 10
    assert old.count("/api/v1/after?") == 0
    got = new.find("/api/v1/after?i=0")
    assert any(k.lower() == "x-reloaded" and v == "yes" for k, v in got["headers"])
    m = wait_idle(agent)
    assert m.sum("spoa_mirror_target_mirrored_total", target="v2") == 10
    # the old target's counters stay, and nothing was lost across the swap
    assert m.sum("spoa_mirror_target_mirrored_total", target="default") == 10
    assert m.sum("spoa_mirror_protocol_errors_total") == 0
    # HAProxy kept using its SPOP connections: only health checks may have
    # opened new ones (one per check interval), far fewer than the requests
    assert m.sum("spoa_mirror_connections_total") - opened < 10


def test_sighup_with_an_invalid_file_keeps_the_running_configuration(world):
    primary, shadow = world.primary(), world.shadow()
    ini = world.ini("agent", mirror_url=shadow.url)
    agent = world.agent(ini=ini)
    proxy = world.haproxy(primary, [agent])
    with open(ini, "a") as f:
        f.write("\n[target broken]\nurl = http://127.0.0.1:1\nsample = 150\n")
    agent.proc.signal(signal.SIGHUP)
    procs.wait_until(lambda: "reload failed, keeping the running configuration" in
                     agent.proc.tail(20000), 5, what="reload failure logged")
    log = agent.proc.tail(20000)
    assert "key 'sample'" in log and "150" in log, log
    assert agent.proc.alive()
    send(proxy, ["/api/v1/still?i=%d" % i for i in range(5)])
    assert shadow.wait_count("/api/v1/still?", 5) == 5
    assert wait_idle(agent).targets() == ["default"]


def test_sigterm_drains_mirrors_in_flight(world):
    # The shadow answers after 1 s: when SIGTERM arrives every mirror is
    # still in flight, and each must still arrive before the agent exits 0.
    primary, shadow = world.primary(), world.shadow(delay=1.0)
    ini = world.ini("agent", mirror_url=shadow.url)
    agent = world.agent(ini=ini)
    proxy = world.haproxy(primary, [agent])
    send(proxy, ["/api/v1/drain?i=%d" % i for i in range(20)])
    assert agent.metrics().sum("spoa_mirror_target_inflight") > 0
    started = time.monotonic()
    agent.proc.signal(signal.SIGTERM)
    rc = agent.proc.wait(10)
    assert rc == 0, agent.proc.tail()
    assert time.monotonic() - started < 6.0  # drain timeout 5 s
    assert shadow.wait_count("/api/v1/drain?", 20, timeout=5) == 20
    assert "Sanitizer" not in agent.proc.tail(20000)


def test_counters_add_up_after_mixed_real_traffic(world):
    primary, live = world.primary(), world.shadow("live")
    dead_port = procs.free_port()  # nothing listens there
    ini = world.ini("agent", targets=[
        ("all", {"url": live.url}),
        ("half", {"url": live.url + "/half", "sample": "50"}),
        ("dead", {"url": "http://127.0.0.1:%d" % dead_port, "connect-timeout": "200ms"}),
    ])
    agent = world.agent(ini=ini)
    proxy = world.haproxy(primary, [agent])
    n = 200
    send(proxy, ["/api/v1/mix?i=%d" % i for i in range(n)])
    m = wait_idle(agent)
    for target in ("all", "half", "dead"):
        assert assert_accounting(m, target) == n
    assert m.sum("spoa_mirror_target_mirrored_total", target="all") == n
    half = m.sum("spoa_mirror_target_mirrored_total", target="half")
    assert 60 <= half <= 140  # binomial(200, 0.5): far beyond 5 sigma
    assert half + m.sum("spoa_mirror_target_sampled_out_total", target="half") == n
    # the dead shadow: a few connect errors, then rests (shadow_down)
    assert m.sum("spoa_mirror_target_failed_total", target="dead") >= 5
    assert m.sum("spoa_mirror_target_dropped_total", target="dead", reason="shadow_down") > 0
    assert m.sum("spoa_mirror_target_mirrored_total", target="dead") == 0
    # what the live shadow received is exactly what the agent counted
    assert live.wait_count("/api/v1/mix?", n) == n
    assert live.wait_count("/half/api/v1/mix?", int(half)) == int(half)
    assert os.path.exists(ini)


def test_unix_socket_private_replaced_when_stale_kept_when_in_use_removed_at_exit(world):
    """The SPOP socket file: mode 0660 by default (srw-rw----), a second
    agent on a path in use exits naming it and leaves it alone, the file of
    a killed agent is replaced at the next start, and a clean stop removes
    it."""
    shadow = world.shadow()
    path = os.path.join(world.workdir, "spop.sock")
    first = world.agent(name="first", urls=[shadow.url], socket=path)
    st = os.stat(path)
    assert (st.st_mode & 0o170000, st.st_mode & 0o777) == (0o140000, 0o660)

    second = world.agent(name="second", urls=[shadow.url], socket=path, start=False)
    second.proc = procs.Proc("second", second.argv(),
                             os.path.join(world.workdir, "second.out")).start()
    assert second.proc.wait(10) == 1
    assert "unix socket %s: another process listens on it" % path in second.proc.tail()
    assert first.spop_open()

    first.kill()  # a crash: the file stays, nobody answers on it
    assert os.path.exists(path) and not first.spop_open()
    again = world.agent(name="again", urls=[shadow.url], socket=path)
    assert again.spop_open()
    again.proc.stop()
    assert not os.path.exists(path)

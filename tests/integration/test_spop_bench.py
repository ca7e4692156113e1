"""tools/spop-bench against bench/fake_agent.py: what spop-bench says it sent
and got back must match what the agent counted, and every kind of agent
misbehaviour must show up in its error counters and exit status."""
import os

import pytest

from bench_helpers import FAKE_AGENT, PYTHON, SPOP_BENCH, Child, read_json, run_bench

pytestmark = pytest.mark.skipif(not os.access(SPOP_BENCH, os.X_OK),
                                reason="tools/spop-bench not built")


@pytest.fixture
def fake(tmp_path):
    started = []

    def start(*args):
        stats = tmp_path / ("agent%d.json" % len(started))
        a = Child([PYTHON, FAKE_AGENT, "--max-runtime", "60", "--stats-file", str(stats)]
                  + list(args))
        a.stats = stats
        started.append(a)
        return a

    yield start
    for a in started:
        a.stop()


def agent_stats(a):
    a.stop()
    return read_json(a.stats)


def test_count_mode_every_notify_acked_and_seen_by_agent(fake):
    a = fake()
    rc, r, out = run_bench(a.port, "-c", 3, "-n", 500, "-H", 6)
    assert rc == 0, out
    assert (r["sent"], r["acked"], r["errors"], r["ready"]) == (500, 500, 0, 3)
    assert 0 < r["p50_us"] <= r["p99_us"] <= r["max_us"]
    s = agent_stats(a)
    assert s["notify"] == 500 and s["acks"] == 500
    assert s["messages"] == {"mirror-request": 500}
    assert s["arg_names"] == ["method", "path", "version", "headers", "body", "src"]
    assert s["headers_seen"] == 500 * 6
    assert s["connections"] == 3 and s["disconnects_received"] == 3
    assert all(h["caps"] == "pipelining,async" and h["max_frame_size"] == 16384
               for h in s["hellos"])


def test_threads_share_connections_and_count(fake):
    a = fake()
    rc, r, out = run_bench(a.port, "-t", 2, "-c", 5, "-n", 401)
    assert rc == 0, out
    assert (r["acked"], r["ready"]) == (401, 5)
    assert agent_stats(a)["notify"] == 401


def test_fragment_mode_cuts_large_notify_into_frames(fake):
    a = fake()
    rc, r, out = run_bench(a.port, "-n", 20, "-b", "64k", "--fragment=4096")
    assert rc == 0, out
    assert r["acked"] == 20
    s = agent_stats(a)
    # 64 KiB of body plus the other args: 17 frames of 4096 payload bytes
    assert r["fragments"] == 20 * 16 == s["fragments"]
    assert s["body_bytes"] == 20 * 65536
    assert all("fragmentation" in h["caps"] for h in s["hellos"])


def test_fragment_mode_uses_negotiated_frame_size(fake):
    a = fake("--max-frame-size", "1024")
    rc, r, out = run_bench(a.port, "-n", 10, "-b", "10000", "--fragment")
    assert rc == 0, out
    s = agent_stats(a)
    assert s["body_bytes"] == 100000 and s["notify"] == 10
    assert r["fragments"] == s["fragments"] >= 10 * 10


def test_too_big_without_fragmentation_exits_2(fake):
    a = fake()
    rc, r, out = run_bench(a.port, "-n", 5, "-b", "64k")
    assert rc == 2
    assert r["sent"] == 0
    assert "does not fit the negotiated max-frame-size 16384" in out


def test_agent_refusing_fragmentation_exits_2(fake):
    a = fake("--caps", "pipelining")
    rc, r, out = run_bench(a.port, "-n", 5, "-b", "64k", "--fragment")
    assert rc == 2 and r["sent"] == 0
    assert "not supported by the agent" in out


@pytest.mark.parametrize("naming,names,message", [
    ("seed", ["method", "uri", "version", "headers", "body_len", "body"], "mirror-request"),
    ("incumbent", ["arg_method", "arg_path", "arg_ver", "arg_hdrs", "arg_body"], "mirror"),
    ("unnamed", ["", "", "", "", ""], "mirror-request"),
])
def test_namings_send_the_expected_arg_names(fake, naming, names, message):
    a = fake()
    rc, r, out = run_bench(a.port, "-n", 10, "--naming", naming, "-m", message, "-b", 100)
    assert rc == 0, out
    s = agent_stats(a)
    assert s["arg_names"] == names
    assert s["messages"] == {message: 10}
    assert s["body_bytes"] == 1000
    assert s["headers_seen"] == 10 * 8


def test_missing_acks_counted_as_timeouts(fake):
    a = fake("--skip-ack-every", "10")
    rc, r, out = run_bench(a.port, "-c", 2, "-n", 200, "--timeout", 300)
    assert rc == 1, out
    assert (r["acked"], r["err_timeout"], r["errors"]) == (180, 20, 20)


def test_ack_with_wrong_frame_id_is_unknown(fake):
    a = fake("--bad-fid-every", "25")
    rc, r, out = run_bench(a.port, "-n", 100, "--timeout", 300)
    assert rc == 1, out
    assert r["err_unknown_ack"] == 4 and r["acked"] == 96 and r["err_timeout"] == 4


def test_agent_disconnect_reported_with_status(fake):
    a = fake("--disconnect-after", "30")
    rc, r, out = run_bench(a.port, "-n", 100, "-w", 1)
    assert rc == 1, out
    assert r["err_disconnect"] == 1 and r["acked"] == 29
    assert 'status 4 "fake agent gives up"' in out


def test_refused_connection_exits_2(fake):
    a = fake()
    port = a.port
    a.stop()
    rc, r, out = run_bench(port, "-n", 5, "-c", 2)
    assert rc == 2
    assert r["err_connect"] == 2 and r["ready"] == 0


def test_rate_mode_paces_the_offered_load(fake):
    a = fake()
    rc, r, out = run_bench(a.port, "-c", 4, "-R", 400, "-d", 1.5)
    assert rc == 0, out
    assert 560 <= r["sent"] <= 640
    assert r["acked"] == r["sent"]
    assert 360 <= r["notify_per_s"] <= 440


def test_window_limits_notify_in_flight(fake):
    # a 50 ms ACK delay with window 1 on one connection: at most 1 per 50 ms
    a = fake("--delay-ms", "50")
    rc, r, out = run_bench(a.port, "-w", 1, "-d", 1)
    assert rc == 0, out
    assert 10 <= r["acked"] <= 21
    assert r["p50_us"] >= 50000


def test_usage_errors_exit_2():
    import subprocess
    for args in (["-c", "0", "-p", "1"], ["-p", "1", "--naming", "odd"], ["-n", "5"],
                 ["-p", "1", "-t", "4", "-c", "2"], ["-p", "1", "-b", "12q"]):
        r = subprocess.run([SPOP_BENCH] + args, capture_output=True, text=True, timeout=10)
        assert r.returncode == 2, args
        assert "spop-bench:" in r.stderr
    r = subprocess.run([SPOP_BENCH, "--help"], capture_output=True, text=True, timeout=10)
    assert r.returncode == 0 and "--fragment" in r.stdout


def test_agent_without_pipelining_gets_one_notify_at_a_time(fake):
    # 20 ms per ACK and no pipelining: the default window of 20 must not apply
    a = fake("--caps", "async", "--delay-ms", "20")
    rc, r, out = run_bench(a.port, "-d", 1)
    assert rc == 0, out
    assert 20 <= r["acked"] <= 55

"""tools/http-load against tools/http-sink in each of its modes: every
scheduled request is counted once, by the right kind, and the counts agree
with what the sink saw. Only 127.0.0.1; every run bounded."""
import os
import socket
import subprocess
import sys
import time

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from bench_helpers import HTTP_SINK, Child, BUILD  # noqa: E402

HTTP_LOAD = os.path.join(BUILD, "tools", "http-load")

pytestmark = pytest.mark.skipif(not os.access(HTTP_LOAD, os.X_OK) or
                                not os.access(HTTP_SINK, os.X_OK),
                                reason="tools/http-load or http-sink not built (make check)")


def load(port, *args, timeout=60):
    r = subprocess.run([HTTP_LOAD, "-p", str(port)] + [str(a) for a in args],
                       capture_output=True, text=True, timeout=timeout)
    res = None
    for line in r.stdout.splitlines():
        if line.startswith("RESULT "):
            res = {k: float(v) for k, v in (i.split("=", 1) for i in line.split()[1:])}
    assert res is not None, r.stdout + r.stderr
    return r.returncode, res, r.stdout + r.stderr


def sink_counts(port):
    import json
    import urllib.request
    with urllib.request.urlopen("http://127.0.0.1:%d/__count" % port, timeout=5) as r:
        return json.loads(r.read())


@pytest.fixture
def sink(request):
    mode = getattr(request, "param", "ok")
    s = Child([HTTP_SINK, "--mode", mode, "--max-runtime", "120"])
    yield s
    s.stop()


def test_every_request_answered_ok_and_counted_once(sink):
    rc, res, out = load(sink.port, "-R", 2000, "-n", 1000, "-c", 8)
    assert rc == 0, out
    assert res["scheduled"] == res["sent"] == res["ok"] == 1000
    assert res["errors"] == 0
    assert sink_counts(sink.port)["completed"] == 1000
    # keep-alive: the 8 connections carried everything
    assert res["connects"] == 8


def test_rate_is_paced_not_as_fast_as_possible(sink):
    t0 = time.monotonic()
    rc, res, out = load(sink.port, "-R", 200, "-n", 300, "-c", 4)
    elapsed = time.monotonic() - t0
    assert rc == 0, out
    # 300 requests due over 1.5 s: not much faster, not much slower
    assert 1.4 <= elapsed <= 4.0, elapsed
    assert 180 <= res["rate"] <= 220, out


def test_post_bodies_arrive_whole(sink):
    rc, res, out = load(sink.port, "-R", 500, "-n", 100, "-m", "POST", "-b", "10k")
    assert rc == 0, out
    c = sink_counts(sink.port)
    assert c["completed"] == 100
    assert c["body_bytes"] == 100 * 10240


def test_paths_file_used_in_turn(tmp_path):
    paths = tmp_path / "paths"
    paths.write_text("# comment\n/a\n\n/b?x=1\n/c/d\n")
    log = tmp_path / "sink.log"
    s = Child([HTTP_SINK, "--log", str(log), "--max-runtime", "60"])
    try:
        rc, res, out = load(s.port, "-R", 300, "-n", 30, "-c", 1, "--paths", paths)
        assert rc == 0, out
    finally:
        s.stop()
    targets = [line.split()[1] for line in log.read_text().splitlines()]
    assert targets == ["/a", "/b?x=1", "/c/d"] * 10


@pytest.mark.parametrize("sink", ["status:503"], indirect=True)
def test_non_2xx_counted_as_such(sink):
    rc, res, out = load(sink.port, "-R", 1000, "-n", 200)
    assert rc == 1
    assert res["err_non2xx"] == 200 and res["errors"] == 200 and res["ok"] == 0, out


@pytest.mark.parametrize("sink", ["reset"], indirect=True)
def test_reset_counted_and_connection_replaced(sink):
    rc, res, out = load(sink.port, "-R", 500, "-n", 100, "-c", 4)
    assert rc == 1
    assert res["err_reset"] == 100 and res["errors"] == 100, out
    assert sink_counts(sink.port)["resets"] == 100


@pytest.mark.parametrize("sink", ["blackhole"], indirect=True)
def test_blackhole_requests_time_out_and_run_ends(sink):
    t0 = time.monotonic()
    rc, res, out = load(sink.port, "-R", 100, "-n", 50, "-c", 4, "--timeout", 300)
    assert rc == 1
    assert res["err_timeout"] == 50 and res["ok"] == 0, out
    # due over 0.5 s, each given 0.3 s: over well within 2 s
    assert time.monotonic() - t0 < 3.0


def test_refused_connections_counted_as_connect_errors():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    rc, res, out = load(port, "-R", 500, "-n", 100, "-c", 4)
    assert rc == 2, out  # no connection could ever be made
    assert res["err_connect"] == 100 and res["sent"] == 0, out


@pytest.mark.parametrize("sink", ["delay:100"], indirect=True)
def test_latency_counts_from_the_schedule_not_the_send(sink):
    """One connection, 100 ms a response, 50 requests due within 1 s: a
    closed-loop tool would report 100 ms; the last request waits ~4 s."""
    rc, res, out = load(sink.port, "-R", 50, "-n", 50, "-c", 1, "--timeout", 20000)
    assert rc == 0, out
    assert res["ok"] == 50
    assert res["max_us"] >= 3.0e6, out
    assert res["p50_us"] >= 1.0e6, out


def test_bad_usage_exits_2():
    for args in (["-R", "10"], ["-p", "1"], ["-p", "1", "-R", "0"], ["-p", "1", "-R", "5",
                                                                       "--path", "no-slash"],
                 ["-p", "1", "-R", "5", "-H", "NoColon"], ["-p", "70000", "-R", "5"]):
        r = subprocess.run([HTTP_LOAD] + args, capture_output=True, text=True, timeout=10)
        assert r.returncode == 2, (args, r.stdout, r.stderr)
        assert "http-load:" in r.stderr

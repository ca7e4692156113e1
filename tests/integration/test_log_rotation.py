"""Log rotation as logrotate does it, against the built agent: the -l file is
moved away while spop-bench keeps mirroring through the agent to http-sink,
then SIGHUP (the packaged logrotate snippet's postrotate). Lines written
before the HUP are in the moved file, lines after it in a new file at the
old path, and every mirror has its access-log line in exactly one of them.
Waits on file contents and the sink's count, each bounded; 127.0.0.1 only."""
import os
import signal
import socket
import subprocess
import threading
import time

import pytest

from bench_helpers import AGENT, HTTP_SINK, SPOP_BENCH, Child, run_bench, sink_counts

pytestmark = pytest.mark.skipif(
    not all(os.access(p, os.X_OK) for p in (AGENT, HTTP_SINK, SPOP_BENCH)),
    reason="src/spoa-mirror, tools/http-sink or tools/spop-bench not built")

ACCESS = " mirror target="


def count(path, needle):
    try:
        with open(path) as f:
            return sum(needle in line for line in f)
    except FileNotFoundError:
        return 0


def wait_for(what, cond, timeout=20.0):
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.02)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def sink(tmp_path):
    s = Child([HTTP_SINK, "--max-runtime", "120"])
    yield s
    s.stop()


def test_hup_after_move_writes_a_new_file_and_loses_no_line(tmp_path, sink):
    log, moved = tmp_path / "agent.log", tmp_path / "agent.log.1"
    port = free_port()
    agent = subprocess.Popen([AGENT, "-a", "127.0.0.1", "-p", str(port), "-r0",
                              "-u", "http://127.0.0.1:%d/" % sink.port, "--access-log",
                              "-l", str(log)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                             start_new_session=True)
    try:
        wait_for("the agent's listening line", lambda: count(log, "listening on") == 1)
        # 600 mirrors paced over about two seconds; the rotation happens
        # inside the run, once the old file holds some of them
        result = {}
        bench = threading.Thread(target=lambda: result.update(
            out=run_bench(port, "-c", 2, "-n", 600, "-R", 300, "--method", "POST", "-b", 100)))
        bench.start()
        wait_for("access lines before the move", lambda: count(log, ACCESS) >= 100)
        os.rename(log, moved)
        agent.send_signal(signal.SIGHUP)
        wait_for("the reload line in the new file", lambda: count(log, "reloaded:") == 1)
        bench.join(60)
        rc, r, out = result["out"]
        assert rc == 0, out
        assert r["acked"] == 600
        wait_for("600 mirrors at the sink",
                 lambda: sink_counts(sink.port)["completed"] >= 600)
        wait_for("600 access lines in the two files",
                 lambda: count(moved, ACCESS) + count(log, ACCESS) >= 600)
        agent.send_signal(signal.SIGTERM)
        assert agent.wait(20) == 0, agent.stderr.read()
    finally:
        if agent.poll() is None:
            agent.kill()
            agent.wait(5)

    before, after = count(moved, ACCESS), count(log, ACCESS)
    assert before + after == 600
    assert before >= 100 and after > 0
    assert count(moved, "reloaded:") == 0
    assert count(moved, "listening on") == 1 and count(log, "listening on") == 0
    assert count(log, "SIGTERM: stopping") == 1
    # every line whole: a timestamp first, a newline last
    for path in (moved, log):
        with open(path) as f:
            text = f.read()
        assert text.endswith("\n")
        assert all(line[:4].isdigit() and line[19:20] == "." for line in text.splitlines())

"""Shadow verdicts through the real agent: a Python SPOP sender plays
HAProxy (the request message with unique-id, then the response message with
the primary's answer), a Python HTTP server plays the shadow. The counters,
the diff log and /compare must show exactly the differences planted: one
status, one JSON field, one ignored field that is no difference, and the
response messages without or with an unknown id counted. Skipped until the
agent is built (SPOA_MIRROR=/path/to/agent tests another build)."""
import http.server
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request

import pytest

from bench_helpers import AGENT, TOP

sys.path.insert(0, os.path.join(TOP, "tests", "support"))
import spop_wire as w  # noqa: E402

pytestmark = pytest.mark.skipif(not os.access(AGENT, os.X_OK), reason="src/spoa-mirror not built")

# path -> (status, body) the shadow answers; the primary's are in CASES
SHADOW = {
    "/same": (200, b'{"a": 1.0, "meta": {"at": "shadow-time"}}'),
    "/field": (200, b'{"a": 2, "meta": {"at": "x"}}'),
    "/status": (500, b'{"a": 1}'),
}
# (id, path, primary status, primary body, expected verdict)
CASES = [
    ("id-same", "/same", 200, b'{"meta":{"at":"primary-time"},"a":1}', "match"),
    ("id-field", "/field", 200, b'{"a":1,"meta":{"at":"x"}}', "body"),
    ("id-status", "/status", 200, b'{"a":1}', "status"),
]


class Shadow(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        status, body = SHADOW.get(self.path, (404, b"{}"))
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def hdrs_bin(pairs):
    return b"".join(w.bytes_encode(n) + w.bytes_encode(v) for n, v in pairs) + b"\x00\x00"


def message(name, args):
    out = w.bytes_encode(name) + bytes([len(args)])
    for arg in args:
        out += w.kv_encode(*arg)
    return out


class Sender:
    """One SPOP connection, as HAProxy 2.x opens it."""

    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=5)
        hello = (w.kv_encode(b"supported-versions", w.T_STRING, b"2.0")
                 + w.kv_encode(b"max-frame-size", w.T_UINT32, 16380)
                 + w.kv_encode(b"capabilities", w.T_STRING, b"pipelining"))
        self.s.sendall(w.frame_encode(w.HAPROXY_HELLO, w.FIN, 0, 0, hello))
        ftype = w.recv_frame(self.s, 1 << 20)[0]
        assert ftype == w.AGENT_HELLO
        self.fid = 0

    def notify(self, payload):
        self.fid += 1
        self.s.sendall(w.frame_encode(w.NOTIFY, w.FIN, 1, self.fid, payload))
        ftype = w.recv_frame(self.s, 1 << 20)[0]
        assert ftype == w.ACK

    def close(self):
        self.s.close()


def request_msg(uid, path):
    return message(b"mirror-request", [
        (b"method", w.T_STRING, b"GET"),
        (b"uri", w.T_STRING, path.encode()),
        (b"unique-id", w.T_STRING, uid.encode()),
        (b"headers", w.T_BINARY, hdrs_bin([(b"host", b"primary"), (b"accept", b"*/*")])),
    ])


def response_msg(uid, status, body):
    args = [(b"status", w.T_UINT32, status),
            (b"headers", w.T_BINARY, hdrs_bin([(b"content-type", b"application/json"),
                                               (b"content-length", b"%d" % len(body)),
                                               (b"date", b"Thu, 03 Dec 2026 12:00:00 GMT")])),
            (b"body", w.T_BINARY, body)]
    if uid is not None:
        args.insert(0, (b"id", w.T_STRING, uid.encode()))
    return message(b"mirror-response", args)


def scrape(port):
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5) as r:
        text = r.read().decode()
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, value = line.rsplit(" ", 1)
            out[key] = float(value)
    return out


class World:
    """The running agent, its ports, its diff log and its INI file."""


@pytest.fixture
def world(tmp_path):
    shadow = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Shadow)
    threading.Thread(target=shadow.serve_forever, daemon=True).start()
    spop, metrics = free_port(), free_port()
    ini = tmp_path / "agent.ini"
    ini.write_text("[mirror]\naddress = 127.0.0.1\nport = %d\nmetrics = 127.0.0.1:%d\n"
                   "diff-log = %s\n[target t]\nurl = http://127.0.0.1:%d/\ncompare = body\n"
                   "compare-ignore-json = /meta/at\n"
                   % (spop, metrics, tmp_path / "diff.log", shadow.server_address[1]))
    agent = subprocess.Popen([AGENT, "-f", str(ini), "-r0"], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 10
    while True:
        try:
            scrape(metrics)
            break
        except OSError:
            if agent.poll() is not None or time.monotonic() > deadline:
                agent.kill()
                raise RuntimeError("the agent did not start")
            time.sleep(0.05)
    wd = World()
    wd.spop, wd.metrics, wd.diff_log, wd.agent, wd.ini = (spop, metrics, tmp_path / "diff.log",
                                                           agent, ini)
    yield wd
    agent.terminate()
    try:
        agent.wait(10)
    except subprocess.TimeoutExpired:
        agent.kill()
        agent.wait(5)
    shadow.shutdown()


def wait_verdicts(metrics, n, timeout=10.0):
    deadline = time.monotonic() + timeout
    while True:
        m = scrape(metrics)
        got = sum(v for k, v in m.items() if k.startswith('spoa_mirror_compare_total{target="t"'))
        if got >= n or time.monotonic() > deadline:
            return m
        time.sleep(0.05)


def test_planted_differences_and_nothing_else(world):
    spop, metrics, diff_log = world.spop, world.metrics, world.diff_log
    sender = Sender(spop)
    for uid, path, status, body, _ in CASES:
        sender.notify(request_msg(uid, path))
        sender.notify(response_msg(uid, status, body))
    sender.notify(response_msg(None, 200, b"{}"))          # no id
    sender.notify(response_msg("never-seen", 200, b"{}"))  # unknown id
    sender.close()
    m = wait_verdicts(metrics, len(CASES))

    def count(result):
        return m['spoa_mirror_compare_total{target="t",result="%s"}' % result]
    assert count("match") == 1
    assert count("body") == 1
    assert count("status") == 1
    for result in ("headers", "shadow_error", "not_comparable"):
        assert count(result) == 0
    assert m["spoa_mirror_compare_no_id_total"] == 1
    assert m["spoa_mirror_compare_unknown_id_total"] == 1
    assert m["spoa_mirror_compare_join_entries"] == 0
    assert m["spoa_mirror_diff_log_lines_total"] == 2

    lines = [json.loads(x) for x in diff_log.read_text().splitlines()]
    assert sorted((x["id"], x["verdict"]) for x in lines) == [("id-field", "body"),
                                                               ("id-status", "status")]
    field = next(x for x in lines if x["id"] == "id-field")
    assert [d["pointer"] for d in field["json"]] == ["/a"]

    with urllib.request.urlopen("http://127.0.0.1:%d/compare" % metrics, timeout=5) as r:
        report = json.loads(r.read())
    target = next(t for t in report["targets"] if t["name"] == "t")
    assert target["totals"]["match"] == 1
    assert target["totals"]["body"] == 1
    assert target["totals"]["status"] == 1


def test_sighup_reopens_the_diff_log_and_swaps_the_rules(world):
    """logrotate moves the diff log away and sends SIGHUP: the next line goes
    to a new file; the reloaded file turns the target's comparison down to
    status, so a body difference is a match from then on."""
    spop, metrics, diff_log = world.spop, world.metrics, world.diff_log
    sender = Sender(spop)
    sender.notify(request_msg("before", "/field"))
    sender.notify(response_msg("before", 200, b'{"a":1,"meta":{"at":"x"}}'))
    wait_verdicts(metrics, 1)
    os.rename(diff_log, str(diff_log) + ".1")
    world.ini.write_text(world.ini.read_text().replace("compare = body", "compare = status"))
    world.agent.send_signal(signal.SIGHUP)
    # the reload is done when a request admitted now is judged at the new level
    deadline = time.monotonic() + 10
    n = 1
    while True:
        uid = "after-%d" % n
        sender.notify(request_msg(uid, "/field"))
        sender.notify(response_msg(uid, 200, b'{"a":1,"meta":{"at":"x"}}'))
        n += 1
        m = wait_verdicts(metrics, n)
        if m['spoa_mirror_compare_total{target="t",result="match"}'] >= 1:
            break
        assert time.monotonic() < deadline, "the reload did not take"
        time.sleep(0.1)
    sender.notify(request_msg("status-after", "/status"))
    sender.notify(response_msg("status-after", 200, b'{"a":1}'))
    sender.close()
    m = wait_verdicts(metrics, n + 1)
    assert m['spoa_mirror_compare_total{target="t",result="status"}'] == 1
    assert m['spoa_mirror_compare_total{target="t",result="headers"}'] == 0
    old = [json.loads(x)["id"] for x in open(str(diff_log) + ".1")]
    assert old[0] == "before"
    # whatever was judged before the reload took went to the old file; the
    # status difference after it is in the new one
    new = [json.loads(x)["id"] for x in diff_log.read_text().splitlines()]
    assert new[-1] == "status-after"
    assert "before" not in new

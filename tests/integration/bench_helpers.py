"""Shared helpers for the tests of spop-bench and http-sink: where the built
binaries are, and child processes that announce their port and are always
stopped. Only 127.0.0.1; every wait is bounded."""
import json
import os
import signal
import socket
import subprocess
import sys
import time

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
# out-of-tree builds: BUILD_DIR=/path/to/build pytest ...
BUILD = os.environ.get("BUILD_DIR", TOP)
SPOP_BENCH = os.path.join(BUILD, "tools", "spop-bench")
HTTP_SINK = os.path.join(BUILD, "tools", "http-sink")
# SPOA_MIRROR=/path/to/agent tests another build of the agent
AGENT = os.environ.get("SPOA_MIRROR", os.path.join(BUILD, "src", "spoa-mirror"))
FAKE_AGENT = os.path.join(TOP, "bench", "fake_agent.py")
PYTHON = "/usr/bin/python3"


class Child:
    """A process that prints 'PORT n' on its first line of stdout."""

    def __init__(self, argv, timeout=10.0):
        self.p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True, start_new_session=True)
        deadline = time.monotonic() + timeout
        line = ""
        while time.monotonic() < deadline:
            line = self.p.stdout.readline()
            if line.startswith("PORT "):
                break
            if self.p.poll() is not None:
                break
        if not line.startswith("PORT "):
            self.stop()
            raise RuntimeError("%s did not announce its port: %r %s" %
                               (argv[0], line, self.p.stderr.read()))
        self.port = int(line.split()[1])

    def signal(self, sig):
        if self.p.poll() is None:
            self.p.send_signal(sig)

    def stop(self, timeout=5.0):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(timeout)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait(timeout)
        return self.p.returncode


def parse_result(stdout):
    """The RESULT line of spop-bench as a dict of numbers."""
    for line in stdout.splitlines():
        if line.startswith("RESULT "):
            out = {}
            for item in line.split()[1:]:
                k, v = item.split("=", 1)
                out[k] = float(v) if "." in v else int(v)
            return out
    raise AssertionError("no RESULT line in:\n" + stdout)


def run_bench(port, *args, timeout=60):
    r = subprocess.run([SPOP_BENCH, "-p", str(port)] + [str(a) for a in args],
                       capture_output=True, text=True, timeout=timeout)
    return r.returncode, parse_result(r.stdout), r.stdout + r.stderr


def http_get(port, path, timeout=5.0):
    """One GET on a fresh connection; returns (status, body bytes)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(("GET %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n" % path).encode())
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


def sink_counts(port):
    status, body = http_get(port, "/__count")
    assert status == 200
    return json.loads(body)


def read_json(path, timeout=5.0):
    deadline = time.monotonic() + timeout
    while True:
        try:
            with open(path) as f:
                return json.load(f)
        except (OSError, ValueError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)

"""The primary and shadow HTTP backends (backend.py) as child processes, and
the requests they recorded."""

import base64
import json
import os
import time

from . import procs

BACKEND_PY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "backend.py")
API_ORIGIN_PY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "api_origin.py")


class Origin:
    def __init__(self, workdir, role, name=None, delay=0.0, port=None):
        self.workdir = str(workdir)
        self.role = role
        self.name = name or role
        self.delay = delay
        self.port = port or procs.free_port()
        self.record_path = os.path.join(self.workdir, "%s.jsonl" % self.name)
        self.proc = None

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def argv(self):
        argv = [procs.PYTHON, BACKEND_PY, "--role", self.role, "--quiet",
                "--listen", "127.0.0.1:%d" % self.port, "--record", self.record_path]
        if self.delay:
            argv += ["--delay", str(self.delay)]
        return argv

    def start(self, timeout=10):
        argv = self.argv()
        log = os.path.join(self.workdir, "%s.out" % self.name)
        self.proc = procs.Proc(self.name, argv, log).start()
        procs.wait_until(lambda: procs.port_open(self.port) or not self.proc.alive(), timeout,
                         what="%s listening" % self.name)
        if not self.proc.alive():
            raise RuntimeError("%s exited:\n%s" % (self.name, self.proc.tail()))
        return self

    def requests(self):
        """Every recorded request, oldest first; body decoded to bytes."""
        out = []
        try:
            with open(self.record_path, encoding="utf-8") as f:
                for line in f:
                    if line.endswith("\n"):
                        r = json.loads(line)
                        r["body"] = base64.b64decode(r.pop("body_b64"))
                        out.append(r)
        except FileNotFoundError:
            pass
        return out

    def count(self, prefix=""):
        return sum(1 for r in self.requests() if r["target"].startswith(prefix))

    def wait_count(self, prefix, n, timeout=10.0, settle=0.3):
        """Waits until at least n requests under prefix arrived, then `settle`
        seconds more so that extra ones show up; returns the final count."""
        deadline = time.monotonic() + timeout
        while self.count(prefix) < n and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(settle)
        return self.count(prefix)

    def find(self, target, timeout=10.0):
        """The request with this exact raw target, waiting up to timeout; or None."""
        deadline = time.monotonic() + timeout
        while True:
            for r in self.requests():
                if r["target"] == target:
                    return r
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.05)

    def stop(self):
        if self.proc:
            self.proc.stop()

    def logs(self):
        return [self.proc] if self.proc else []


class ApiOrigin(Origin):
    """api_origin.py: the JSON API whose primary and shadow flavours differ
    on purpose on a few endpoints (the shadow-verdict tests). Records
    nothing."""

    def __init__(self, workdir, flavour, hang=5.0, port=None):
        super().__init__(workdir, flavour, name="api-" + flavour, port=port)
        self.hang = hang

    def argv(self):
        return [procs.PYTHON, API_ORIGIN_PY, "--flavour", self.role,
                "--listen", "127.0.0.1:%d" % self.port, "--hang", str(self.hang)]

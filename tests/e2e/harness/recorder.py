"""spoa_recorder.py as a child process: a stand-in SPOP agent that records
what HAProxy sends, for the tests of the shipped SPOE files themselves."""

import base64
import json
import os
import time

from . import procs

RECORDER_PY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "spoa_recorder.py")


class SpoaRecorder:
    def __init__(self, workdir, name="recorder"):
        self.workdir = str(workdir)
        self.name = name
        self.port = procs.free_port()
        self.record_path = os.path.join(self.workdir, "%s.jsonl" % name)
        self.proc = None

    def start(self, timeout=10):
        argv = [procs.PYTHON, RECORDER_PY, "--listen", "127.0.0.1:%d" % self.port,
                "--record", self.record_path]
        self.proc = procs.Proc(self.name, argv, os.path.join(self.workdir, self.name + ".out"))
        self.proc.start()
        procs.wait_until(lambda: procs.port_open(self.port) or not self.proc.alive(), timeout,
                         what="recorder listening")
        return self

    def events(self):
        try:
            with open(self.record_path, encoding="utf-8") as f:
                return [json.loads(line) for line in f if line.endswith("\n")]
        except FileNotFoundError:
            return []

    def errors(self):
        return [e["error"] for e in self.events() if "error" in e]

    def messages(self, name=None):
        """NOTIFY messages as (name, [(arg, value)]) with binary values as bytes."""
        out = []
        for e in self.events():
            m = e.get("notify")
            if m and (name is None or m["name"] == name):
                args = [(a, base64.b64decode(v["bin"]) if isinstance(v, dict) else v)
                        for a, v in m["args"]]
                out.append((m["name"], args))
        return out

    def wait_messages(self, n, timeout=5.0, settle=0.3):
        deadline = time.monotonic() + timeout
        while len(self.messages()) < n and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(settle)
        return self.messages()

    def stop(self):
        if self.proc:
            self.proc.stop()

    def logs(self):
        return [self.proc] if self.proc else []

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


def transactions(recorders, request="mirror-request", response="mirror-response"):
    """The messages of several recorders joined by their `unique-id` argument, as
    the agent joins them: {id: {"uri": .., "request": [recorder names],
    "response": [recorder names], "args": {message name: args}}}."""
    out = {}
    for rec in recorders:
        for name, args in rec.messages():
            a = dict(args)
            t = out.setdefault(a.get("unique-id"), {"uri": None, "request": [], "response": [],
                                             "args": {}})
            if name == request:
                t["request"].append(rec.name)
                t["uri"] = a.get("uri")
            elif name == response:
                t["response"].append(rec.name)
            t["args"][name] = a
    return out


def wait_transactions(recorders, n, prefix="", timeout=5.0):
    """Transactions whose uri starts with prefix, once there are n of them
    each with a response message (or at the timeout, as they are). A
    recorder writes a message down just after ACKing it, so the client's
    answer may come first."""
    def chosen():
        return [t for t in transactions(recorders).values()
                if (t["uri"] or "").startswith(prefix)]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        tx = chosen()
        if len(tx) >= n and all(t["response"] for t in tx):
            break
        time.sleep(0.05)
    return chosen()

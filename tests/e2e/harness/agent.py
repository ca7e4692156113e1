"""spoa-mirror for the E2E suite: the built binary (SPOA_MIRROR=/path to pick
another), started on a free loopback port or a UNIX socket, with its metrics
endpoint, an INI file when the test needs one, and a reader for its
Prometheus metrics."""

import os
import re
import socket
import urllib.error
import urllib.request

from . import procs
from .haproxy import REPO


def binary():
    return os.environ.get("SPOA_MIRROR") or os.path.join(REPO, "src", "spoa-mirror")


def write_ini(path, targets=(), mirror_url=None, mirror_headers=None, log_level="info",
              mirror=None):
    """targets: list of (name, {key: value}) for [target NAME] sections;
    mirror: more [mirror] settings {key: value}. The listener and metrics
    addresses go on the command line (Agent.argv)."""
    lines = ["[mirror]",
             "log-level = %s" % log_level]
    if mirror_url:
        lines.append("mirror-url = %s" % mirror_url)
    if mirror_headers:
        lines.append("mirror-headers = %s" % mirror_headers)
    lines += ["%s = %s" % kv for kv in (mirror or {}).items()]
    for name, settings in targets:
        lines += ["", "[target %s]" % name]
        lines += ["%s = %s" % kv for kv in settings.items()]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)')
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


class Metrics:
    """Parsed Prometheus text: sum() adds every series of a name whose labels
    include the given ones."""

    def __init__(self, text):
        self.text = text
        self.series = []
        for line in text.splitlines():
            if not line or line.startswith("#"):
                continue
            m = _SAMPLE.match(line)
            if m:
                labels = dict(_LABEL.findall(m.group(2) or ""))
                self.series.append((m.group(1), labels, float(m.group(3))))

    def sum(self, name, **labels):
        return sum(v for n, l, v in self.series
                   if n == name and all(l.get(k) == str(w) for k, w in labels.items()))

    def has(self, name):
        return any(n == name for n, _, _ in self.series)

    def targets(self):
        return sorted({l["target"] for n, l, _ in self.series if "target" in l})

    def summary(self):
        """One line per target: received/mirrored/failed/dropped/sampled out."""
        rows = []
        for t in self.targets():
            rows.append("%-10s received %d  mirrored %d  failed %d  dropped %d  sampled_out %d" % (
                t,
                self.sum("spoa_mirror_target_received_total", target=t),
                self.sum("spoa_mirror_target_mirrored_total", target=t),
                self.sum("spoa_mirror_target_failed_total", target=t),
                self.sum("spoa_mirror_target_dropped_total", target=t),
                self.sum("spoa_mirror_target_sampled_out_total", target=t)))
        return "\n".join(rows)


class Agent:
    """One spoa-mirror process. `args` are passed through; the listener and
    metrics addresses are always given on the command line, so an INI file
    and the command line agree on them."""

    def __init__(self, workdir, name="agent", urls=(), ini=None, port=None, metrics_port=None,
                 extra_args=(), socket=None):
        self.workdir = str(workdir)
        self.name = name
        self.socket = socket  # SPOP on this UNIX socket path instead of a TCP port
        self.port = port or procs.free_port()
        self.metrics_port = metrics_port or procs.free_port()
        self.urls = list(urls)
        self.ini = ini
        self.extra_args = list(extra_args)
        self.proc = None
        self.runs = []
        path = binary()
        if not os.access(path, os.X_OK):
            raise RuntimeError("spoa-mirror binary not found at %s: build it first "
                               "(tests/e2e/run does) or set SPOA_MIRROR" % path)

    @property
    def spop_addr(self):
        """What HAProxy's `server` line names: a path or 127.0.0.1:PORT."""
        return self.socket or "127.0.0.1:%d" % self.port

    def spop_open(self):
        if not self.socket:
            return procs.port_open(self.port)
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(0.2)
            try:
                s.connect(self.socket)
                return True
            except OSError:
                return False

    def argv(self):
        listen = ["-a", "unix:" + self.socket] if self.socket else \
            ["-a", "127.0.0.1", "-p", str(self.port)]
        argv = [binary()] + listen + ["--metrics", "127.0.0.1:%d" % self.metrics_port, "-r0"]
        for u in self.urls:
            argv += ["-u", u]
        if self.ini:
            argv += ["-f", self.ini]
        return argv + self.extra_args

    def start(self, timeout=10):
        n = len(self.runs) + 1
        log = os.path.join(self.workdir, "%s.%d.out" % (self.name, n))
        self.proc = procs.Proc("%s#%d" % (self.name, n), self.argv(), log).start()
        self.runs.append(self.proc)
        procs.wait_until(lambda: self.ready() or not self.proc.alive(), timeout,
                         what="%s ready on /readyz" % self.name)
        if not self.proc.alive():
            raise RuntimeError("%s exited at start:\n%s" % (self.name, self.proc.tail()))
        procs.wait_until(self.spop_open, timeout,
                         what="%s listening on %s" % (self.name, self.spop_addr))
        return self

    def ready(self):
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d/readyz" % self.metrics_port,
                                        timeout=1) as r:
                return r.status == 200
        except (OSError, urllib.error.HTTPError):
            return False

    def healthz(self):
        with urllib.request.urlopen("http://127.0.0.1:%d/healthz" % self.metrics_port,
                                    timeout=2) as r:
            return r.status, r.read()

    def metrics(self):
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % self.metrics_port,
                                    timeout=2) as r:
            return Metrics(r.read().decode("utf-8", "replace"))

    def kill(self):
        self.proc.kill()

    def stop(self):
        for p in self.runs:
            p.stop()

    def logs(self):
        return list(self.runs)

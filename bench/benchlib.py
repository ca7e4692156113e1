"""Plumbing for bench/run: child processes that are always cleaned up, free
ports on 127.0.0.1, /proc readings (CPU time, peak RSS), the agent's
/metrics, the sink's counts, and parsers for spop-bench and wrk output."""
import atexit
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request

CLK_TCK = os.sysconf("SC_CLK_TCK")


class Procs:
    """Every child in its own session; all stopped at exit or on a signal."""

    def __init__(self, logdir):
        self.logdir = logdir
        self.children = []
        os.makedirs(logdir, exist_ok=True)
        atexit.register(self.stop_all)
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, self._on_signal)

    def _on_signal(self, sig, frame):
        self.stop_all()
        sys.exit(128 + sig)

    def start(self, name, argv, env=None):
        log = open(os.path.join(self.logdir, name + ".log"), "ab")
        log.write(("\n== %s %s\n" % (time.strftime("%H:%M:%S"), " ".join(argv))).encode())
        log.flush()
        p = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                             start_new_session=True, env=env)
        p.bench_name = name
        p.bench_log = log
        self.children.append(p)
        return p

    def stop(self, p, timeout=5.0):
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout)
        p.bench_log.close()
        if p in self.children:
            self.children.remove(p)
        return p.returncode

    def stop_all(self):
        for p in list(self.children):
            try:
                self.stop(p, timeout=3.0)
            except Exception:  # never leave the others running
                pass


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc=None, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError("%s exited with %s before listening on %d (see its log)"
                               % (proc.bench_name, proc.returncode, port))
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("nothing listens on 127.0.0.1:%d after %.0f s" % (port, timeout))


def cpu_seconds(pid):
    """utime + stime of the whole process (all threads), in seconds."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # fields[0] is the state (field 3): utime and stime are fields 14 and 15
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def peak_rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def loadavg():
    with open("/proc/loadavg") as f:
        return [float(x) for x in f.read().split()[:3]]


def http_json(port, path, timeout=5.0):
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=timeout) as r:
        return json.loads(r.read())


def sink_count(port):
    return http_json(port, "/__count")["completed"]


def metrics(port):
    """Prometheus text as {metric name: sum over its label sets}."""
    out = {}
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5.0) as r:
        for line in r.read().decode().splitlines():
            if not line or line.startswith("#"):
                continue
            name_labels, _, value = line.rpartition(" ")
            name = name_labels.split("{", 1)[0]
            try:
                out[name] = out.get(name, 0.0) + float(value)
            except ValueError:
                pass
    return out


def wait_drained(sink_port, target, timeout=10.0, settle=0.5):
    """Waits until the sink has `target` requests, or its count stops moving
    for `settle` seconds. Returns the count."""
    deadline = time.monotonic() + timeout
    last, since = sink_count(sink_port), time.monotonic()
    while time.monotonic() < deadline:
        if last >= target:
            return last
        time.sleep(0.1)
        now = sink_count(sink_port)
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= settle:
            return last
    return last


def parse_result(text):
    for line in text.splitlines():
        if line.startswith("RESULT "):
            return {k: float(v) for k, v in (i.split("=", 1) for i in line.split()[1:])}
    raise RuntimeError("spop-bench printed no RESULT line:\n" + text)


def _to_us(text):
    units = (("us", 1.0), ("ms", 1000.0), ("s", 1e6), ("m", 60e6))
    for suffix, mult in units:
        if text.endswith(suffix):
            return float(text[:-len(suffix)]) * mult
    return float(text)


def parse_wrk(text):
    """Requests/sec, latency percentiles (us) and socket errors of wrk --latency."""
    out = {"errors": 0.0}
    in_dist = False
    for line in text.splitlines():
        s = line.strip()
        if " requests in " in s:
            out["requests"] = float(s.split()[0])
        elif s.startswith("Requests/sec:"):
            out["req_per_s"] = float(s.split()[1])
        elif s.startswith("Latency Distribution"):
            in_dist = True
        elif in_dist and s[:3] in ("50%", "75%", "90%", "99%"):
            out["p%s_us" % s[:2]] = _to_us(s.split()[1])
        elif s.startswith("Socket errors:"):
            # "Socket errors: connect 0, read 0, write 0, timeout 0"
            out["errors"] += sum(float(x.rstrip(",")) for x in s.split()[3::2])
        elif s.startswith("Non-2xx or 3xx responses:"):
            out["errors"] += float(s.split()[-1])
    if "req_per_s" not in out:
        raise RuntimeError("wrk printed no Requests/sec:\n" + text)
    return out


def median_of(runs, key):
    vals = [r[key] for r in runs if r.get(key) is not None]
    return statistics.median(vals) if vals else None

"""Plumbing for bench/run: child processes that are always cleaned up, free
ports on 127.0.0.1, /proc readings (CPU time, peak RSS), the agent's
/metrics, the sink's counts, and parsers for spop-bench and wrk output."""
import atexit
import json
import os
import re
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


def wait_drained(sink_port, target, timeout=10.0, settle=0.5, count=None):
    """Waits until the sink has `target` requests, or its count stops moving
    for `settle` seconds. Returns the count. `count` (a function of no
    arguments) replaces the http-sink's counter, e.g. a HAProxy shadow's."""
    count = count or (lambda: sink_count(sink_port))
    deadline = time.monotonic() + timeout
    last, since = count(), time.monotonic()
    while time.monotonic() < deadline:
        if last >= target:
            return last
        time.sleep(0.1)
        now = count()
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


def haproxy_frontend(stats_port, name):
    """A HAProxy frontend's counters from its CSV stats page, as
    {field: number}: req_tot (requests, HTTP/2 streams too), conn_tot
    (connections accepted), scur (sessions now)."""
    with urllib.request.urlopen("http://127.0.0.1:%d/stats;csv" % stats_port,
                                timeout=5.0) as r:
        lines = r.read().decode().splitlines()
    fields = lines[0].lstrip("# ").split(",")
    for line in lines[1:]:
        row = dict(zip(fields, line.split(",")))
        if row.get("pxname") == name and row.get("svname") == "FRONTEND":
            return {k: float(v) for k, v in row.items() if v.replace(".", "", 1).isdigit()}
    raise RuntimeError("no frontend %s on the stats page of port %d" % (name, stats_port))


def established_to(port):
    """TCP connections established to 127.0.0.1:port, counted by ss."""
    r = subprocess.run(["ss", "-Htn", "state", "established", "dst", "127.0.0.1:%d" % port],
                       capture_output=True, text=True, timeout=10)
    return len([x for x in r.stdout.splitlines() if x.strip()])


class SyscallCount:
    """perf stat over every syscall tracepoint of a process (all its threads),
    counting only between enable() and disable() (perf's control FIFOs:
    attaching to hundreds of tracepoints takes a while, so the counters are
    set up first and switched on when the load starts); counts() stops perf
    and returns {name: count}; by_thread then holds {thread name: {name:
    count}} (threads of one name summed: "spoa-mirror" is the SPOP side,
    "replay-N" the workers). Counts, unlike times, barely move with the
    machine's load."""

    def __init__(self, pid, workdir, tag=""):
        # one file per run (perf-stat-TAG.txt), per thread, kept in the logs
        self.out_path = os.path.join(workdir, "perf-stat%s.txt" % ("-" + tag if tag else ""))
        ctl, ack = os.path.join(workdir, "perf-ctl"), os.path.join(workdir, "perf-ack")
        for f in (ctl, ack):
            if os.path.exists(f):
                os.unlink(f)
            os.mkfifo(f)
        self.p = subprocess.Popen(
            ["perf", "stat", "--per-thread", "-x,", "-o", self.out_path,
             "-e", "syscalls:sys_enter_*",
             "--delay", "-1", "--control", "fifo:%s,%s" % (ctl, ack), "-p", str(pid)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        # both block until perf opens its ends: it is then ready to count
        self.ctl = open(ctl, "w")
        self.ack = open(ack, "r")

    def _command(self, cmd):
        self.ctl.write(cmd + "\n")
        self.ctl.flush()
        self.ack.readline()

    def enable(self):
        self._command("enable")

    def disable(self):
        self._command("disable")

    def counts(self):
        self.p.send_signal(signal.SIGINT)
        _, err = self.p.communicate(timeout=60)
        self.ctl.close()
        self.ack.close()
        out, self.by_thread = {}, {}
        with open(self.out_path) as f:
            for line in f:
                # "replay-0-28320,121810,,syscalls:sys_enter_recvfrom,..."
                parts = line.strip().split(",")
                if len(parts) < 4 or not parts[1].isdigit() or not int(parts[1]):
                    continue
                thread = parts[0].rsplit("-", 1)[0]
                name = parts[3].split("sys_enter_", 1)[-1]
                n = int(parts[1])
                out[name] = out.get(name, 0) + n
                mine = self.by_thread.setdefault(thread, {})
                mine[name] = mine.get(name, 0) + n
        if not out:
            raise RuntimeError("perf stat counted nothing: %s" % err.strip())
        return out


def haproxy_spoe_mode(haproxy="haproxy"):
    """The SPOE agents' backend mode for the HAProxy on PATH, by `haproxy -v`:
    3.1 rewrote SPOE on the `spop` multiplexer and wants `mode spop` (2.x
    rejects it); before, `mode tcp` (tests/e2e/harness/haproxy.py chooses
    its config family the same way)."""
    r = subprocess.run([haproxy, "-v"], capture_output=True, text=True, timeout=10)
    m = re.search(r"(?:HAProxy|HA-Proxy) version (\d+)\.(\d+)", r.stdout + r.stderr)
    if not m:
        raise RuntimeError("no HAProxy version in `%s -v`" % haproxy)
    return "spop" if (int(m.group(1)), int(m.group(2))) >= (3, 1) else "tcp"


def perf_usable():
    """perf can count syscall tracepoints here (root or a low paranoid)."""
    try:
        r = subprocess.run(["perf", "stat", "-x,", "-e", "syscalls:sys_enter_getpid",
                            "--control", "fifo:/dev/null", "--", "true"],
                           capture_output=True, text=True, timeout=20)
        return r.returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def libcurl_of(pid):
    """The libcurl a running process loaded (its curl_version()), e.g.
    "libcurl/8.14.1 OpenSSL/3.0.17 ...": LD_LIBRARY_PATH may swap it."""
    import ctypes
    with open("/proc/%d/maps" % pid) as f:
        paths = {line.split()[-1] for line in f if "libcurl" in line and "/" in line}
    for path in sorted(paths):
        try:
            lib = ctypes.CDLL(path)
            lib.curl_version.restype = ctypes.c_char_p
            return lib.curl_version().decode().split()[0]
        except OSError:
            continue
    return None

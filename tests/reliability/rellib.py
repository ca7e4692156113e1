"""Plumbing shared by the reliability scripts (faults.py, exhaust.py,
soak.py): the agent with an explicit, small set of limits, HAProxy from a
template, http-load and spop-bench runs, /proc readings and the agent's
metrics with their labels. Everything on 127.0.0.1, every wait bounded,
every child stopped at exit (bench/benchlib.Procs)."""
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(TOP, "bench"))
import benchlib  # noqa: E402  (Procs, free_port, wait_port, loadavg)

BUILD = os.environ.get("BUILD_DIR", TOP)
AGENT = os.environ.get("SPOA_MIRROR", os.path.join(BUILD, "src", "spoa-mirror"))
HTTP_LOAD = os.path.join(BUILD, "tools", "http-load")
HTTP_SINK = os.path.join(BUILD, "tools", "http-sink")
SPOP_BENCH = os.path.join(BUILD, "tools", "spop-bench")
HAPROXY = os.environ.get("HAPROXY", "/usr/sbin/haproxy")

Procs = benchlib.Procs
free_port = benchlib.free_port
wait_port = benchlib.wait_port
loadavg = benchlib.loadavg


def results_dir(name):
    """RESULTS=dir keeps the logs there; otherwise a fresh temporary one."""
    d = os.environ.get("RESULTS")
    if d:
        d = os.path.join(d, name)
        os.makedirs(d, exist_ok=True)
        return d
    return tempfile.mkdtemp(prefix="spoa-mirror-%s." % name)


def can_unshare_mount():
    """A private mount namespace (root or CAP_SYS_ADMIN): what the dns case needs."""
    try:
        return subprocess.run(["unshare", "-m", "true"], capture_output=True,
                              timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


class Checks:
    """Named pass/fail outcomes, printed as they come; the script's last
    line reports the totals."""

    def __init__(self):
        self.passed, self.failed = 0, []

    def check(self, ok, what):
        if ok:
            self.passed += 1
        else:
            self.failed.append(what)
        print("  %s %s" % ("ok  " if ok else "FAIL", what), flush=True)
        return ok


def missing_tools(*paths):
    return [p for p in paths if not os.access(p, os.X_OK)]


# ---------------------------------------------------------------- /proc

def proc_status(pid):
    """VmHWM, VmRSS (KiB) and Threads of a live process."""
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in ("VmHWM", "VmRSS", "Threads"):
                out[key] = int(rest.split()[0])
    return out


def fd_count(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


class Sampler:
    """Samples a process's RSS, fd and thread counts every `interval` s on
    a thread until stop(); keeps the series."""

    def __init__(self, pid, interval):
        import threading
        self.pid, self.interval = pid, interval
        self.samples = []  # (seconds since start, VmRSS KiB, fds, threads)
        self._stop = threading.Event()
        self._t0 = time.monotonic()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def sample(self):
        try:
            st = proc_status(self.pid)
            self.samples.append((time.monotonic() - self._t0, st["VmRSS"], fd_count(self.pid),
                                 st["Threads"]))
        except OSError:
            pass  # the process is gone

    def _run(self):
        while True:
            self.sample()
            if self._stop.wait(self.interval):
                return

    def stop(self):
        self._stop.set()
        self._thread.join()
        self.sample()
        return self.samples

    def peak(self, i):
        return max((s[i] for s in self.samples), default=0)


# ---------------------------------------------------------------- metrics

_LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})?\s+(\S+)$')
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


class Metrics:
    """One scrape: value(name, **labels) sums the series that match."""

    def __init__(self, text):
        self.series = []
        for line in text.splitlines():
            if not line or line.startswith("#"):
                continue
            m = _LINE.match(line)
            if not m:
                raise ValueError("not a Prometheus text line: %r" % line)
            labels = dict(_LABEL.findall(m.group(3) or ""))
            self.series.append((m.group(1), labels, float(m.group(4))))

    def value(self, name, **labels):
        total, found = 0.0, False
        for n, lab, v in self.series:
            if n == name and all(lab.get(k) == w for k, w in labels.items()):
                total += v
                found = True
        if not found:
            raise KeyError("no series %s%s" % (name, labels or ""))
        return total

    def by_label(self, name, label, **labels):
        out = {}
        for n, lab, v in self.series:
            if n == name and label in lab and all(lab.get(k) == w for k, w in labels.items()):
                out[lab[label]] = out.get(lab[label], 0.0) + v
        return out


def scrape(port, timeout=5.0):
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=timeout) as r:
        return Metrics(r.read().decode())


def target_accounting(m, target):
    """The per-target counters and whether they add up exactly."""
    a = {
        "received": m.value("spoa_mirror_target_received_total", target=target),
        "mirrored": m.value("spoa_mirror_target_mirrored_total", target=target),
        "failed": m.value("spoa_mirror_target_failed_total", target=target),
        "sampled_out": m.value("spoa_mirror_target_sampled_out_total", target=target),
        "inflight": m.value("spoa_mirror_target_inflight", target=target),
        "dropped": m.by_label("spoa_mirror_target_dropped_total", "reason", target=target),
        "responses": m.by_label("spoa_mirror_target_responses_total", "class", target=target),
    }
    a["dropped_total"] = sum(a["dropped"].values())
    a["adds_up"] = (a["inflight"] == 0 and a["received"] == a["mirrored"] + a["failed"] +
                    a["dropped_total"] + a["sampled_out"])
    return a


def wait_idle(metrics_port, timeout):
    """Waits until nothing is in flight and the queue is empty; the last
    scrape (which may still show work when the timeout ran out)."""
    deadline = time.monotonic() + timeout
    while True:
        m = scrape(metrics_port)
        busy = sum(v for n, _, v in m.series if n == "spoa_mirror_target_inflight")
        busy += m.value("spoa_mirror_queue_entries") + m.value("spoa_mirror_queue_bytes")
        busy += m.value("spoa_mirror_active_transfers")
        if busy == 0 or time.monotonic() >= deadline:
            return m
        time.sleep(0.1)


# ---------------------------------------------------------------- the agent

AGENT_INI = """\
# spoa-mirror for {what}: explicit small limits so the memory bound means something
[mirror]
address = 127.0.0.1
port = {port}
metrics = 127.0.0.1:{metrics_port}
max-frame-size = {max_frame_size}
reassembly-max = {max_frame_size}
max-connections = {max_connections}
workers = {workers}
queue-max-entries = {queue_max_entries}
queue-max-bytes = {queue_max_bytes}
drain-timeout = 2s
log-level = info
monitor-interval = 5s
{extra}
[target shadow]
url = {url}
timeout = {target_timeout}
connect-timeout = 500ms
max-inflight = {max_inflight}
"""

AGENT_DEFAULTS = dict(max_frame_size="16k", max_connections=64, workers=1,
                      queue_max_entries=2000, queue_max_bytes="4m", max_inflight=64,
                      target_timeout="1s")


# Memory of one live transfer besides its request: curl easy handle, its
# connection, receive and upload buffers, the shadow request's headers.
# Measured at 14-17 KiB with 256 and 1024 transfers held by a blackholed
# shadow (doc/reliability.md); the bound allows twice that.
PER_TRANSFER = 32 * 1024


def parse_size(text):
    text = str(text)
    mult = {"k": 1024, "m": 1024 ** 2, "g": 1024 ** 3}.get(text[-1:].lower(), 1)
    return int(text[:-1] if mult > 1 else text) * mult


class Agent:
    """spoa-mirror from an INI file written into the log directory."""

    def __init__(self, procs, logdir, name, url, resolv_conf=None, nofile=None, port=None,
                 metrics_port=None, extra="", **limits):
        self.settings = dict(AGENT_DEFAULTS, **limits)
        self.port = port or free_port()
        self.metrics_port = metrics_port or free_port()
        self.url = url
        self.log = os.path.join(logdir, name + ".agent.log")
        self.ini = os.path.join(logdir, name + ".ini")
        with open(self.ini, "w") as f:
            text = AGENT_INI.format(what=name, port=self.port, metrics_port=self.metrics_port,
                                    url=url, extra=extra, **self.settings)
            # a limit given as None keeps the agent's default
            f.write("".join(line for line in text.splitlines(True)
                            if not line.rstrip().endswith("= None")))
        argv = [AGENT, "-f", self.ini, "-l", "w:" + self.log]
        if resolv_conf:
            # a private mount namespace where the resolver is 127.0.0.1:53 (nothing
            # there), so an unresolvable name fails here without DNS traffic leaving
            argv = ["unshare", "-m", "sh", "-c",
                    'mount --bind "$0" /etc/resolv.conf && exec "$@"', resolv_conf] + argv
        if nofile:
            argv = ["sh", "-c", 'ulimit -n "$0" && exec "$@"', str(nofile)] + argv
        self.p = procs.start(name + ".agent", argv)
        self.procs = procs
        wait_port(self.port, self.p)
        wait_port(self.metrics_port, self.p)
        self.pid = self.p.pid
        self.idle_rss_kib = proc_status(self.pid)["VmRSS"]

    def bound_bytes(self, spop_conns, transfers=None):
        """The memory bound the limits promise, given how many SPOP
        connections may be open: idle RSS (code, libcurl, TLS init) + every
        live request's bytes (queue-max-bytes) + PER_TRANSFER for each
        transfer alive at once (max-inflight unless told fewer) + two frames
        per SPOP connection (read buffer and reassembly, reassembly-max being
        the frame size here)."""
        s = self.settings
        if transfers is None:
            transfers = int(s["max_inflight"])
        return (self.idle_rss_kib * 1024 + parse_size(s["queue_max_bytes"]) +
                transfers * PER_TRANSFER + spop_conns * 2 * parse_size(s["max_frame_size"]))

    def status(self):
        return proc_status(self.pid)

    def metrics(self):
        return scrape(self.metrics_port)

    def stop(self):
        return self.procs.stop(self.p, timeout=10.0)

    def log_text(self):
        with open(self.log, errors="replace") as f:
            return f.read()


# ---------------------------------------------------------------- HAProxy

def render_stack(logdir, ports):
    """The HAProxy files of tests/reliability/haproxy/ with this run's ports:
    returns (stats socket, primary.cfg, front.cfg) paths in logdir."""
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "haproxy")
    sock = os.path.join(logdir, "haproxy.sock")
    spoe = render(os.path.join(here, "spoe-mirror.conf"), os.path.join(logdir, "spoe-mirror.conf"))
    primary_cfg = render(os.path.join(here, "primary.cfg"), os.path.join(logdir, "primary.cfg"),
                         PRIMARY_PORT=ports["primary"])
    front_cfg = render(os.path.join(here, "front.cfg"), os.path.join(logdir, "front.cfg"),
                       STATS_SOCK=sock, BASE_PORT=ports["base"], MIRROR_PORT=ports["mirror"],
                       PRIMARY_PORT=ports["primary"], AGENT_PORT=ports["agent"],
                       SPOE_CONF=spoe)
    return sock, primary_cfg, front_cfg


def render(template, dest, **values):
    with open(template) as f:
        text = f.read()
    for k, v in values.items():
        text = text.replace("${%s}" % k, str(v))
    left = re.findall(r"\$\{[A-Z_]+\}", text)
    if left:
        raise ValueError("%s: no value for %s" % (template, ", ".join(sorted(set(left)))))
    with open(dest, "w") as f:
        f.write(text)
    return dest


def start_haproxy(procs, name, cfg):
    check = subprocess.run([HAPROXY, "-c", "-q", "-f", cfg], capture_output=True, text=True)
    if check.returncode != 0:
        raise RuntimeError("haproxy -c %s:\n%s%s" % (cfg, check.stdout, check.stderr))
    return procs.start(name, [HAPROXY, "-db", "-f", cfg])


def haproxy_cmd(sock_path, cmd, timeout=2.0):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(sock_path)
        s.sendall(cmd.encode() + b"\n")
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    return data.decode(errors="replace")


def wait_server_up(sock_path, backend, server, timeout=10.0):
    """Until HAProxy's health check (option spop-check) sees the agent up."""
    deadline = time.monotonic() + timeout
    status = "?"
    while time.monotonic() < deadline:
        try:
            text = haproxy_cmd(sock_path, "show stat")
        except OSError:
            time.sleep(0.1)
            continue
        lines = text.splitlines()
        if lines and lines[0].startswith("# "):
            cols = lines[0][2:].split(",")
            for line in lines[1:]:
                row = dict(zip(cols, line.split(",")))
                if row.get("pxname") == backend and row.get("svname") == server:
                    status = row.get("status", "?")
        if status.startswith("UP"):
            return
        time.sleep(0.1)
    raise RuntimeError("HAProxy's %s/%s is %s after %.0f s" % (backend, server, status, timeout))


# ---------------------------------------------------------------- load tools

def parse_result(text, tool):
    for line in text.splitlines():
        if line.startswith("RESULT "):
            return {k: float(v) for k, v in (i.split("=", 1) for i in line.split()[1:])}
    raise RuntimeError("%s printed no RESULT line:\n%s" % (tool, text))


def http_load(port, rate, duration, conns=64, timeout_ms=2000, extra=()):
    argv = [HTTP_LOAD, "-p", str(port), "-R", str(rate), "-d", str(duration), "-c", str(conns),
            "--timeout", str(timeout_ms)] + list(extra)
    r = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 60)
    if r.returncode == 2:
        raise RuntimeError("http-load failed:\n" + r.stdout + r.stderr)
    return parse_result(r.stdout, "http-load")


def spop_bench(port, args, timeout):
    argv = [SPOP_BENCH, "-p", str(port)] + [str(a) for a in args]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    return r.returncode, parse_result(r.stdout, "spop-bench"), r.stdout + r.stderr


def start_sink(procs, name, mode):
    """http-sink in `mode` on a free port; (process, port)."""
    port = free_port()
    p = procs.start(name + ".sink", [HTTP_SINK, "-p", str(port), "--mode", mode])
    wait_port(port, p)
    return p, port


def closed_port():
    """A port nothing listens on (bound, then released)."""
    return free_port()


def fmt_kib(kib):
    return "%.1f MiB" % (kib / 1024.0)


# ---------------------------------------------------------------- the report

DOC = os.path.join(TOP, "doc", "reliability.md")


def update_doc(section, markdown, path=DOC):
    """Replaces the text between <!-- BEGIN section --> and <!-- END section -->."""
    begin, end = "<!-- BEGIN %s -->" % section, "<!-- END %s -->" % section
    with open(path) as f:
        text = f.read()
    i, j = text.find(begin), text.find(end)
    if i < 0 or j < i:
        raise RuntimeError("%s has no %s ... %s markers" % (path, begin, end))
    text = text[:i + len(begin)] + "\n" + markdown.rstrip("\n") + "\n" + text[j:]
    with open(path, "w") as f:
        f.write(text)


def machine_line():
    la = loadavg()
    return "load average %.2f %.2f %.2f, %d cores" % (la[0], la[1], la[2], os.cpu_count() or 0)

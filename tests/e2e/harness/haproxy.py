"""HAProxy for the E2E suite: which binary (HAPROXY=/path, default the Debian
package), which config family its version needs, and a running instance of
the shipped example config with addresses passed through environment
variables (the config's `presetenv` defaults are overridden, nothing else)."""

import csv
import io
import os
import re
import socket
import subprocess
import urllib.request

from . import procs

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
DEFAULT_HAPROXY = "/usr/sbin/haproxy"
# "SPOE: [mirror-agent] <EVENT:on-backend-http-request> sid=3 st=0 ..."; st != 0 is an error
_SPOE_ERROR = re.compile(r"SPOE: \[.*\] <EVENT:[^>]*> .*\bst=(?!0\b)")
# "[WARNING]  (1234) : config : ..." (2.1+), "[ALERT] 336/101010 (1234) : ..." (2.0)
_CHECK_PROBLEM = re.compile(r"^\[(?:ALERT|WARNING)\].*$", re.M)

# family -> (haproxy config, SPOE config, SPOE config with the incumbent's arg_* names)
FAMILIES = {
    "2.x": ("haproxy-examples/haproxy-2.x.cfg", "spoe-conf/spoe-mirror-2.x.conf",
            "spoe-conf/spoe-mirror-args-2.x.conf"),
    "3.1": ("haproxy-examples/haproxy-3.1.cfg", "spoe-conf/spoe-mirror-3.1.conf",
            "spoe-conf/spoe-mirror-args-3.1.conf"),
}

# family -> (haproxy config with shadow verdicts, SPOE config for status and
# headers, SPOE config with bodies too); the haproxy config picks the latter
# with COMPARE_BODIES=yes.
COMPARE_FAMILIES = {
    "2.x": ("haproxy-examples/haproxy-compare-2.x.cfg", "spoe-conf/spoe-mirror-compare-2.x.conf",
            "spoe-conf/spoe-mirror-compare-body-2.x.conf"),
    "3.1": ("haproxy-examples/haproxy-compare-3.1.cfg", "spoe-conf/spoe-mirror-compare-3.1.conf",
            "spoe-conf/spoe-mirror-compare-body-3.1.conf"),
}


def binary():
    return os.environ.get("HAPROXY") or DEFAULT_HAPROXY


def parse_version(text):
    """(major, minor, full) from `haproxy -v` output, e.g. "HAProxy version 2.6.12-1 ..."."""
    m = re.search(r"(?:HAProxy|HA-Proxy) version (\d+)\.(\d+)(\S*)", text)
    if not m:
        raise ValueError("no HAProxy version in %r" % text[:200])
    return int(m.group(1)), int(m.group(2)), m.group(1) + "." + m.group(2) + m.group(3)


def family_for(major, minor):
    """HAProxy 3.1 rewrote SPOE on the `spop` multiplexer: `mode spop` backend,
    no async/fragmentation keywords. Everything before uses `mode tcp`."""
    return "3.1" if (major, minor) >= (3, 1) else "2.x"


def version(path=None):
    out = subprocess.run([path or binary(), "-v"], capture_output=True, text=True, timeout=10)
    return parse_version(out.stdout + out.stderr)


def family(path=None):
    major, minor, _ = version(path)
    return family_for(major, minor)


def config_paths(fam=None):
    """Absolute (haproxy.cfg, spoe.conf, spoe-args.conf) for a family."""
    fam = fam or family()
    return tuple(os.path.join(REPO, p) for p in FAMILIES[fam])


def compare_config_paths(fam=None):
    """Absolute (haproxy.cfg, spoe.conf, spoe-body.conf) with shadow verdicts."""
    fam = fam or family()
    return tuple(os.path.join(REPO, p) for p in COMPARE_FAMILIES[fam])


def compare_env(bodies):
    """The environment that runs the compare config, with or without bodies."""
    _, spoe, spoe_body = compare_config_paths()
    return {"COMPARE_BODIES": "yes" if bodies else "no",
            "SPOE_CONF": spoe_body if bodies else spoe}


def check_config(cfg, env, path=None):
    """`haproxy -c`; returns (ok, output)."""
    full_env = dict(os.environ)
    full_env.update(env)
    out = subprocess.run([path or binary(), "-c", "-f", cfg], capture_output=True, text=True,
                         env=full_env, timeout=30)
    return out.returncode == 0, out.stdout + out.stderr


def check_problems(out):
    """The ALERT and WARNING lines of `haproxy -c` output. A clean config is
    exit status 0 and none of these: 2.x prints "Configuration file is valid"
    then, 3.x only with -V, so that line proves nothing across versions."""
    return _CHECK_PROBLEM.findall(out)


class HAProxy:
    """The shipped example config, run in the foreground with its addresses
    taken from the environment. `reload()` starts a new process that takes
    over the listeners (-x through the admin socket) and soft-stops the old
    one (-sf), as `systemctl reload` does."""

    def __init__(self, workdir, primary_port, agent_ports, spoe_conf=None, cfg=None, env=None):
        fam_cfg, fam_spoe, _ = config_paths()
        self.cfg = cfg or fam_cfg
        self.port = procs.free_port()
        self.stats_port = procs.free_port()
        self.workdir = str(workdir)
        self.socket = os.path.join(self.workdir, "haproxy-admin.sock")
        # a port on 127.0.0.1, or a UNIX socket path (an agent started with socket=)
        agents = [a if isinstance(a, str) else "127.0.0.1:%d" % a for a in agent_ports]
        agents += agents[:1]  # a single agent fills both slots
        self.env = {
            "PROXY_BIND": "127.0.0.1:%d" % self.port,
            "STATS_BIND": "127.0.0.1:%d" % self.stats_port,
            "PRIMARY_ADDR": "127.0.0.1:%d" % primary_port,
            "AGENT1_ADDR": agents[0],
            "AGENT2_ADDR": agents[1],
            "SPOE_CONF": spoe_conf or fam_spoe,
            "ADMIN_SOCKET": self.socket,
        }
        self.env.update(env or {})
        self.generation = 0
        self.proc = None
        self.old = []

    def _new_proc(self, extra):
        self.generation += 1
        log = os.path.join(self.workdir, "haproxy.%d.out" % self.generation)
        return procs.Proc("haproxy#%d" % self.generation, [binary(), "-db", "-f", self.cfg] + extra,
                          log, env=self.env, cwd=self.workdir)

    def start(self, timeout=10):
        ok, out = check_config(self.cfg, self.env)
        if not ok:
            raise RuntimeError("haproxy -c failed for %s:\n%s" % (self.cfg, out))
        self.proc = self._new_proc([]).start()
        procs.wait_until(lambda: procs.port_open(self.port) or self._died(), timeout,
                         what="haproxy listening on %d" % self.port)
        self._died(raise_it=True)
        return self

    def _died(self, raise_it=False):
        if self.proc is not None and not self.proc.alive():
            if raise_it:
                raise RuntimeError("haproxy exited:\n" + self.proc.tail())
            return True
        return False

    def reload(self, timeout=10):
        """Returns once the new process serves the stats page."""
        old = self.proc
        self.old.append(old)
        self.proc = self._new_proc(["-x", self.socket, "-sf", str(old.pid)]).start()
        procs.wait_until(lambda: self._stats_pid() == self.proc.pid or self._died(), timeout,
                         what="the reloaded haproxy serving")
        self._died(raise_it=True)

    def _stats_pid(self):
        """The pid of the process answering on the admin socket, or None."""
        try:
            return int(self.show_info().get("Pid", 0)) or None
        except (OSError, ValueError):
            return None

    def admin(self, command):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(2)
            s.connect(self.socket)
            s.sendall((command + "\n").encode())
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        return data.decode("utf-8", "replace")

    def show_info(self):
        info = {}
        for line in self.admin("show info").splitlines():
            k, sep, v = line.partition(":")
            if sep:
                info[k.strip()] = v.strip()
        return info

    def stats(self):
        """Rows of the stats page's CSV as dicts (pxname, svname, status, check_status...)."""
        with urllib.request.urlopen("http://127.0.0.1:%d/stats;csv" % self.stats_port,
                                    timeout=2) as r:
            text = r.read().decode()
        return list(csv.DictReader(io.StringIO(text.lstrip("# "))))

    def agent_states(self):
        return {row["svname"]: row["status"] for row in self.stats()
                if row["pxname"] == "spoa-mirror" and row["svname"] != "BACKEND"}

    def wait_agents(self, state, names=("agent1", "agent2"), timeout=15):
        """Waits until every named agent server has `state` (UP or DOWN) after
        a real health check (the initial UP is assumed, not checked)."""
        def ok():
            rows = {r["svname"]: r for r in self.stats() if r["pxname"] == "spoa-mirror"}
            for n in names:
                r = rows.get(n)
                if r is None or not r["status"].startswith(state):
                    return False
                if state == "UP" and r.get("check_status") != "L7OK":
                    return False
            return True
        procs.wait_until(ok, timeout, interval=0.1, what="agents %s %s" % (",".join(names), state))

    def spoe_errors(self, procs=None):
        """SPOE event log lines (`log global` in the SPOE file) with a status
        other than 0: events that timed out or failed, in procs (default:
        every process so far)."""
        out = []
        for p in self.logs() if procs is None else procs:
            try:
                with open(p.log_path, encoding="utf-8", errors="replace") as f:
                    out += [line.rstrip() for line in f if _SPOE_ERROR.search(line)]
            except OSError:
                pass
        return out

    def logs(self):
        return [p for p in self.old + [self.proc] if p is not None]

    def stop(self):
        for p in self.logs():
            p.stop()

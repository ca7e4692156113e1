"""Child processes for the E2E suite: started with their output in a log file,
stopped by pid (TERM, then KILL after a grace period), never by name."""

import os
import signal
import socket
import subprocess
import time

PYTHON = "/usr/bin/python3"


def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port, host="127.0.0.1", timeout=0.2):
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_until(pred, timeout, interval=0.05, what="condition"):
    """Polls pred() until it returns a truthy value; raises TimeoutError."""
    deadline = time.monotonic() + timeout
    while True:
        value = pred()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError("timed out after %.1fs waiting for %s" % (timeout, what))
        time.sleep(interval)


class Proc:
    """One child process whose stdout and stderr go to `log_path`."""

    def __init__(self, name, argv, log_path, env=None, cwd=None):
        self.name = name
        self.argv = [str(a) for a in argv]
        self.log_path = str(log_path)
        self.env = env
        self.cwd = cwd
        self.popen = None

    def start(self):
        full_env = dict(os.environ)
        if self.env:
            full_env.update({k: str(v) for k, v in self.env.items()})
        log = open(self.log_path, "ab")
        log.write(("== %s: %s\n" % (self.name, " ".join(self.argv))).encode())
        log.flush()
        self.popen = subprocess.Popen(self.argv, stdout=log, stderr=subprocess.STDOUT,
                                      stdin=subprocess.DEVNULL, env=full_env, cwd=self.cwd)
        log.close()
        return self

    @property
    def pid(self):
        return self.popen.pid if self.popen else None

    def alive(self):
        return self.popen is not None and self.popen.poll() is None

    def signal(self, sig):
        if self.alive():
            os.kill(self.popen.pid, sig)

    def wait(self, timeout):
        return self.popen.wait(timeout=timeout)

    def stop(self, grace=5.0):
        """TERM, wait up to `grace` seconds, then KILL. Returns the exit status."""
        if self.popen is None:
            return None
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=5)
        return self.popen.returncode

    def kill(self):
        """SIGKILL, as a crash would."""
        if self.alive():
            self.popen.kill()
            self.popen.wait(timeout=5)

    def startup(self, max_bytes=20000):
        """The start of the log: what the process printed while starting,
        before any traffic could push it out of a tail()."""
        try:
            with open(self.log_path, "rb") as f:
                return f.read(max_bytes).decode("utf-8", "replace")
        except OSError as e:
            return "(no log: %s)" % e

    def tail(self, max_bytes=6000):
        try:
            with open(self.log_path, "rb") as f:
                f.seek(0, os.SEEK_END)
                size = f.tell()
                f.seek(max(0, size - max_bytes))
                return f.read().decode("utf-8", "replace")
        except OSError as e:
            return "(no log: %s)" % e

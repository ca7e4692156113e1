"""HTTP clients for the E2E suite.

`Client` writes requests byte by byte as given (header order, case and value
bytes are the test's), keeps the connection open between requests, and
parses answers with http.client. `run_load` sends requests at a fixed rate,
each on a new connection, and measures every latency."""

import http.client
import math
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # list of (name, value)
        self.body = body

    def header(self, name):
        for n, v in self.headers:
            if n.lower() == name.lower():
                return v
        return None


class Client:
    def __init__(self, port, host="127.0.0.1", timeout=10.0):
        self.addr = (host, port)
        self.timeout = timeout
        self.sock = None

    def _connect(self):
        self.sock = socket.create_connection(self.addr, timeout=self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def close(self):
        if self.sock:
            self.sock.close()
            self.sock = None

    def request(self, method, target, headers=(), body=None, chunked=False):
        """headers: (name, value) pairs, str (latin-1) or bytes, sent as given.
        A Host header is added first unless given; Content-Length is added
        for a body unless given or chunked."""
        def b(x):
            return x if isinstance(x, bytes) else x.encode("latin-1")
        headers = [(b(n), b(v)) for n, v in headers]
        names = [n.lower() for n, _ in headers]
        if b"host" not in names:
            headers.insert(0, (b"Host", b("127.0.0.1:%d" % self.addr[1])))
        if body is not None and not chunked and b"content-length" not in names:
            headers.append((b"Content-Length", str(len(body)).encode()))
        if chunked:
            headers.append((b"Transfer-Encoding", b"chunked"))
        head = b"%s %s HTTP/1.1\r\n" % (b(method), b(target))
        head += b"".join(n + b": " + v + b"\r\n" for n, v in headers) + b"\r\n"
        payload = head
        if body is not None:
            if chunked:
                step = 4096
                for i in range(0, len(body), step):
                    part = body[i:i + step]
                    payload += b"%x\r\n%s\r\n" % (len(part), part)
                payload += b"0\r\n\r\n"
            else:
                payload += body
        for attempt in (1, 2):
            fresh = self.sock is None
            if fresh:
                self._connect()
            try:
                self.sock.sendall(payload)
                resp = http.client.HTTPResponse(self.sock, method=method)
                resp.begin()
                data = resp.read()
                out = Response(resp.status, resp.getheaders(), data)
                if resp.will_close:
                    self.close()
                return out
            except (ConnectionError, http.client.RemoteDisconnected):
                # An idle keep-alive connection the server closed: retry once
                # on a new one. A fresh connection failing is a real error.
                self.close()
                if fresh or attempt == 2:
                    raise

    def get(self, target, headers=()):
        return self.request("GET", target, headers)


def percentile(values, pct):
    if not values:
        return float("nan")
    s = sorted(values)
    return s[max(0, math.ceil(pct / 100.0 * len(s)) - 1)]


class LoadResult:
    def __init__(self):
        self.lock = threading.Lock()
        self.latency = {}   # target -> [seconds]
        self.errors = []    # (target, description)
        self.timeline = []  # (seconds since the start, target, latency or None)
        self.sent = 0
        self.t0 = time.perf_counter()

    def add(self, target, seconds, started):
        with self.lock:
            self.latency.setdefault(target, []).append(seconds)
            self.timeline.append((started - self.t0, target, seconds))

    def error(self, target, what, started):
        with self.lock:
            self.errors.append((target, what))
            self.timeline.append((started - self.t0, target, None))

    def p(self, target, pct):
        return percentile(self.latency.get(target, []), pct)

    def count(self, target):
        return len(self.latency.get(target, []))

    def slowest_windows(self, width=0.5, top=3):
        """The `top` windows of `width` seconds with the worst max latency."""
        windows = {}
        for t, _, lat in self.timeline:
            k = int(t / width)
            windows[k] = max(windows.get(k, 0.0), lat if lat is not None else float("inf"))
        worst = sorted(windows.items(), key=lambda kv: -kv[1])[:top]
        return ", ".join("%.1f-%.1fs: %.0fms" % (k * width, (k + 1) * width, v * 1e3)
                         for k, v in worst)

    def describe(self):
        parts = []
        for t, lat in sorted(self.latency.items()):
            parts.append("%s: n=%d p50=%.2fms p99=%.2fms max=%.2fms" % (
                t, len(lat), percentile(lat, 50) * 1e3, percentile(lat, 99) * 1e3,
                max(lat) * 1e3))
        parts.append("errors=%d" % len(self.errors))
        return "; ".join(parts)


def _one(port, target, result, timeout, expect_body):
    start = time.perf_counter()
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        conn.request("GET", target, headers={"Connection": "close"})
        resp = conn.getresponse()
        body = resp.read()
        conn.close()
    except Exception as e:  # every failure is a client error to count
        result.error(target, "%s: %s" % (type(e).__name__, e), start)
        return
    elapsed = time.perf_counter() - start
    if resp.status != 200:
        result.error(target, "status %d" % resp.status, start)
    elif expect_body and expect_body not in body:
        result.error(target, "unexpected body %r" % body[:80], start)
    else:
        result.add(target, elapsed, start)


def run_load(port, targets, rate, duration, events=(), timeout=10.0, expect_body=b'"primary"',
             workers=48):
    """Sends GET requests at `rate` per second for `duration` seconds, cycling
    through `targets`, each on a new connection (a reload or a killed agent
    must not cost any client a request). `events` are (seconds, callable),
    each started in its own thread at that offset so a slow one does not
    hold the schedule back; an exception in one is re-raised at the end.
    Open loop: a slow answer does not delay the next request."""
    result = LoadResult()
    events = sorted(events, key=lambda e: e[0])
    total = int(rate * duration)
    threads, failures = [], []

    def fire(fn):
        def run():
            try:
                fn()
            except BaseException as e:  # re-raised in the caller below
                failures.append(e)
        t = threading.Thread(target=run, daemon=True)
        t.start()
        threads.append(t)

    t0 = result.t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for i in range(total):
            due = t0 + i / rate
            while events and t0 + events[0][0] <= due:
                fire(events.pop(0)[1])
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            pool.submit(_one, port, targets[i % len(targets)], result, timeout, expect_body)
            result.sent += 1
        for _, fn in events:
            fire(fn)
    for t in threads:
        t.join(timeout=60)
    if failures:
        raise failures[0]
    return result

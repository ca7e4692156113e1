#!/usr/bin/python3
"""A slow, simple model of spoa-mirror, to check the E2E suite itself.

Not the product and never shipped: it lets the suite (and scripts/demo) be
run before, or beside, the C agent, so a failing E2E test can be told apart
from a broken test. It takes the command line subset the suite uses
(-a -p -u -f --metrics --log-level -r), the INI keys it writes, and exposes
the same metric names. Run the suite against it with
    SPOA_MIRROR=tests/e2e/harness/reference_agent.py tests/e2e/run
"""

import argparse
import base64
import configparser
import http.client
import http.server
import os
import random
import socketserver
import struct
import sys
import threading
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import spoa_recorder as spop  # noqa: E402  (the codec helpers)

HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "te", "trailer",
              "transfer-encoding", "upgrade", "content-length", "expect", "host"}
ARG_NAMES = {
    "method": ("method", "arg_method"),
    "path": ("uri", "url", "path", "pathq", "arg_path"),
    "headers": ("headers", "hdrs", "arg_hdrs"),
    "body": ("body", "arg_body"),
    "src": ("src", "client"),
}


class Target:
    def __init__(self, name, url, sample=100.0, add_headers=()):
        self.name = name
        u = urllib.parse.urlsplit(url)
        self.host, self.port = u.hostname, u.port or 80
        self.netloc = u.netloc
        self.prefix = u.path.rstrip("/")
        self.sample = sample
        self.add_headers = list(add_headers)


def parse_header_list(text):
    out = []
    for item in text.split(","):
        name, _, value = item.partition(":")
        if name.strip():
            out.append((name.strip(), value.strip()))
    return out


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.c = {}

    def inc(self, key, n=1):
        with self.lock:
            self.c[key] = self.c.get(key, 0) + n

    def render(self, targets):
        with self.lock:
            c = dict(self.c)
        lines = []
        for metric in ("received", "mirrored", "failed", "sampled_out"):
            for t in targets:
                lines.append('spoa_mirror_target_%s_total{target="%s"} %d' % (
                    metric, t.name, c.get((metric, t.name), 0)))
        for t in targets:
            for reason in ("queue_full", "target_busy", "rate_limited", "truncated", "shutdown"):
                lines.append('spoa_mirror_target_dropped_total{target="%s",reason="%s"} %d' % (
                    t.name, reason, c.get(("dropped", t.name, reason), 0)))
        for name in ("requests_truncated", "notify", "ack"):
            lines.append("spoa_mirror_%s_total %d" % (name, c.get(name, 0)))
        return "\n".join(lines) + "\n"


def decode_hdrs_bin(raw):
    out, pos = [], 0
    while pos < len(raw):
        name, pos = spop.dec_bytes(raw, pos)
        value, pos = spop.dec_bytes(raw, pos)
        if not name and not value:
            break
        out.append((name.decode("latin-1"), value.decode("latin-1")))
    return out


def decode_hdrs_text(text):
    out = []
    for line in text.split("\r\n"):
        if line:
            n, _, v = line.partition(":")
            out.append((n, v.strip()))
    return out


class Agent:
    def __init__(self, targets, mirror_headers):
        self.targets = targets
        self.mirror_headers = mirror_headers
        self.stats = Stats()
        self.pool = ThreadPoolExecutor(max_workers=64)

    def on_message(self, name, args):
        if name not in ("mirror-request", "mirror"):
            return
        a = {}
        for key, aliases in ARG_NAMES.items():
            for n, v in args:
                if n in aliases:
                    a[key] = v
                    break
        if "method" not in a or "path" not in a:
            return
        raw_h = a.get("headers")
        if isinstance(raw_h, dict):
            headers = decode_hdrs_bin(base64.b64decode(raw_h["bin"]))
        else:
            headers = decode_hdrs_text(raw_h or "")
        body = a.get("body")
        body = base64.b64decode(body["bin"]) if isinstance(body, dict) else (body or "").encode()
        declared = [v for n, v in headers if n.lower() == "content-length"]
        truncated = bool(declared) and declared[0].isdigit() and int(declared[0]) > len(body)
        if truncated:
            self.stats.inc("requests_truncated")
        for t in self.targets:
            self.stats.inc(("received", t.name))
            if truncated:
                self.stats.inc(("dropped", t.name, "truncated"))
                continue
            if random.random() * 100 >= t.sample:
                self.stats.inc(("sampled_out", t.name))
                continue
            self.pool.submit(self.replay, t, a["method"], a["path"], headers, body, a.get("src"))

    def replay(self, t, method, path, headers, body, src):
        try:
            conn = http.client.HTTPConnection(t.host, t.port, timeout=5)
            conn.putrequest(method, t.prefix + path, skip_host=True, skip_accept_encoding=True)
            conn.putheader("Host", t.netloc)
            client_host = None
            for n, v in headers:
                if n.lower() == "host":
                    client_host = v
                elif n.lower() not in HOP_BY_HOP:
                    conn.putheader(n, v.encode("latin-1"))
            if client_host:
                conn.putheader("X-Forwarded-Host", client_host)
            if src:
                conn.putheader("X-Forwarded-For", src)
            for n, v in self.mirror_headers + t.add_headers:
                conn.putheader(n, v)
            if body or method in ("POST", "PUT", "PATCH"):
                conn.putheader("Content-Length", str(len(body)))
            conn.endheaders(body or None)
            resp = conn.getresponse()
            resp.read()
            conn.close()
            self.stats.inc(("mirrored", t.name))
        except Exception:
            self.stats.inc(("failed", t.name))


class SpopHandler(socketserver.BaseRequestHandler):
    def handle(self):
        agent, sock = self.server.agent, self.request
        try:
            while True:
                (length,) = struct.unpack(">I", spop.read_exact(sock, 4))
                buf = spop.read_exact(sock, length)
                ftype = buf[0]
                sid, pos = spop.dec_varint(buf, 5)
                fid, pos = spop.dec_varint(buf, pos)
                if ftype == spop.T_HAPROXY_HELLO:
                    kv = spop.dec_kv_list(buf, pos)
                    size = min(spop.MAX_FRAME, int(kv.get("max-frame-size") or spop.MAX_FRAME))
                    sock.sendall(spop.frame(spop.T_AGENT_HELLO, 0, 0,
                                            spop.enc_kv_str("version", "2.0")
                                            + spop.enc_kv_uint("max-frame-size", size)
                                            + spop.enc_kv_str("capabilities", "pipelining,async")))
                    if kv.get("healthcheck"):
                        return
                elif ftype == spop.T_NOTIFY:
                    agent.stats.inc("notify")
                    msgs = spop.dec_messages(buf, pos)
                    sock.sendall(spop.frame(spop.T_ACK, sid, fid, b""))
                    agent.stats.inc("ack")
                    for m in msgs:
                        agent.on_message(m["name"], m["args"])
                elif ftype == spop.T_HAPROXY_DISCONNECT:
                    sock.sendall(spop.frame(spop.T_AGENT_DISCONNECT, 0, 0,
                                            spop.enc_kv_uint("status-code", 0)
                                            + spop.enc_kv_str("message", "")))
                    return
                else:
                    return
        except (ConnectionError, spop.Malformed, OSError):
            return


class SpopServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024


def metrics_server(addr, agent):
    class H(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path == "/metrics":
                body = agent.stats.render(agent.targets).encode()
            elif self.path in ("/healthz", "/readyz"):
                body = b"ok\n"
            else:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a):
            pass

    srv = http.server.ThreadingHTTPServer(addr, H)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def split_addr(text):
    host, _, port = text.rpartition(":")
    return host or "0.0.0.0", int(port)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-a", dest="address")
    ap.add_argument("-p", dest="port", type=int)
    ap.add_argument("-u", dest="urls", action="append", default=[])
    ap.add_argument("-f", dest="ini")
    ap.add_argument("--metrics")
    ap.add_argument("--log-level")
    ap.add_argument("-r", dest="runtime")
    ap.add_argument("--check-config", action="store_true")
    args = ap.parse_args()

    address, port, metrics, mirror_headers, targets = "0.0.0.0", 12345, None, [], []
    if args.ini:
        cp = configparser.ConfigParser(interpolation=None)
        cp.read(args.ini)
        m = cp["mirror"] if cp.has_section("mirror") else {}
        address = m.get("address", address)
        port = int(m.get("port", port))
        metrics = m.get("metrics")
        mirror_headers = parse_header_list(m.get("mirror-headers", ""))
        if m.get("mirror-url"):
            targets.append(Target("default", m["mirror-url"]))
        for section in cp.sections():
            if section.startswith("target "):
                s = cp[section]
                targets.append(Target(section[7:].strip(), s["url"], float(s.get("sample", 100)),
                                      parse_header_list(s.get("add-headers", ""))))
    for i, u in enumerate(args.urls, 1):
        targets.append(Target("u%d" % i, u))
    address = args.address or address
    port = args.port or port
    metrics = args.metrics or metrics
    if not targets:
        sys.exit("reference_agent: no target")
    if args.check_config:
        print("reference_agent: %d target(s): %s" % (len(targets), ", ".join(t.name for t in targets)))
        return

    agent = Agent(targets, mirror_headers)
    if metrics:
        metrics_server(split_addr(metrics), agent)
    srv = SpopServer((address, port), SpopHandler)
    srv.agent = agent
    sys.stderr.write("reference_agent: SPOP on %s:%d, targets %s\n" % (
        address, port, ", ".join(t.name for t in targets)))
    sys.stderr.flush()
    import signal
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=srv.shutdown,
                                                             daemon=True).start())
    srv.serve_forever(poll_interval=0.2)


if __name__ == "__main__":
    main()

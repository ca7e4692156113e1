#!/usr/bin/python3
"""A small HTTP/1.1 origin for spoa-mirror's E2E tests, demo and compose file.

Roles:
  primary  answers with a JSON body naming itself and describing the request
           (method, raw target, body length and SHA-256); `?status=NNN` picks
           the status code.
  shadow   answers 200 with a fixed body; --delay makes it slow.

Both can record every request they receive as one JSON line (--record FILE):
method, raw request target, version, headers exactly as sent (order, case and
value bytes; latin-1 decoded so every byte survives JSON), body bytes
(base64). The parser is written here, not taken from http.server, because the
tests compare header bytes and order, which http.server normalizes.

Stdlib only; runs with any python3 >= 3.7:
    backend.py --role shadow --listen 127.0.0.1:8081 --record shadow.jsonl
"""

import argparse
import base64
import hashlib
import json
import os
import signal
import socket
import socketserver
import sys
import threading
import time

MAX_HEADER_BYTES = 64 * 1024
MAX_BODY_BYTES = 64 * 1024 * 1024


class BadRequest(Exception):
    pass


def read_line(rfile, budget):
    line = rfile.readline(budget + 1)
    if len(line) > budget:
        raise BadRequest("header section too large")
    return line


def read_head(rfile):
    """Returns (method, target, version, [(name, value)]) or None at EOF."""
    budget = MAX_HEADER_BYTES
    line = read_line(rfile, budget)
    while line in (b"\r\n", b"\n"):  # tolerated empty lines between requests
        line = read_line(rfile, budget)
    if not line:
        return None
    budget -= len(line)
    parts = line.rstrip(b"\r\n").split(b" ")
    if len(parts) != 3:
        raise BadRequest("bad request line %r" % line[:100])
    method, target, version = (p.decode("latin-1") for p in parts)
    headers = []
    while True:
        line = read_line(rfile, budget)
        if not line:
            raise BadRequest("connection closed inside the header section")
        budget -= len(line)
        if line in (b"\r\n", b"\n"):
            break
        name, sep, value = line.rstrip(b"\r\n").partition(b":")
        if not sep or not name or name != name.strip():
            raise BadRequest("bad header line %r" % line[:100])
        headers.append((name.decode("latin-1"), value.strip(b" \t").decode("latin-1")))
    return method, target, version, headers


def header(headers, name):
    """The first header value named `name` (case-insensitive), or None."""
    name = name.lower()
    for n, v in headers:
        if n.lower() == name:
            return v
    return None


def read_chunked(rfile):
    body = bytearray()
    while True:
        size_line = read_line(rfile, 1024)
        try:
            size = int(size_line.split(b";")[0].strip(), 16)
        except ValueError:
            raise BadRequest("bad chunk size %r" % size_line[:50])
        if size == 0:
            while read_line(rfile, MAX_HEADER_BYTES) not in (b"\r\n", b"\n", b""):
                pass  # trailers are ignored
            return bytes(body)
        if len(body) + size > MAX_BODY_BYTES:
            raise BadRequest("body too large")
        body += rfile.read(size)
        rfile.readline(3)


def read_body(rfile, headers):
    """The request body framed by the headers: chunked or Content-Length."""
    if (header(headers, "transfer-encoding") or "").lower() == "chunked":
        return read_chunked(rfile)
    length = int(header(headers, "content-length") or 0)
    if length < 0 or length > MAX_BODY_BYTES:
        raise BadRequest("bad content-length %d" % length)
    body = rfile.read(length)
    if len(body) != length:
        raise BadRequest("body cut at %d of %d bytes" % (len(body), length))
    return body


class Handler(socketserver.StreamRequestHandler):
    def handle(self):
        srv = self.server
        while True:
            try:
                head = read_head(self.rfile)
                if head is None:
                    return
                method, target, version, headers = head
                if (header(headers, "expect") or "").lower() == "100-continue":
                    self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
                    self.wfile.flush()
                body = read_body(self.rfile, headers)
            except (BadRequest, ValueError) as e:
                srv.log("bad request from %s: %s" % (self.client_address[0], e))
                self.wfile.write(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n"
                                 b"connection: close\r\n\r\n")
                return
            except (ConnectionError, socket.timeout):
                return
            srv.record(method, target, version, headers, body)
            status, resp_headers, resp_body = srv.respond(method, target, headers, body)
            keep = version == "HTTP/1.1" and (header(headers, "connection") or "").lower() != "close"
            if srv.delay:
                time.sleep(srv.delay)
            out = ["HTTP/1.1 %d %s" % (status, "OK" if status < 400 else "Error")]
            out += ["%s: %s" % kv for kv in resp_headers]
            if status in (204, 304):
                resp_body = b""  # no body, no Content-Length (RFC 9110 8.6)
            else:
                out.append("content-length: %d" % len(resp_body))
            if not keep:
                out.append("connection: close")
            data = ("\r\n".join(out) + "\r\n\r\n").encode("latin-1")
            if method != "HEAD":
                data += resp_body
            try:
                self.wfile.write(data)
                self.wfile.flush()
            except ConnectionError:
                return
            if not keep:
                return


class Backend(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024

    def __init__(self, addr, role, record_path=None, delay=0.0, quiet=False):
        self.role = role
        self.delay = delay
        self.quiet = quiet
        self.lock = threading.Lock()
        self.count = 0
        self.record_file = open(record_path, "a", encoding="utf-8") if record_path else None
        super().__init__(addr, Handler)

    def log(self, msg):
        if not self.quiet:
            sys.stderr.write("%s %s: %s\n" % (time.strftime("%H:%M:%S"), self.role, msg))
            sys.stderr.flush()

    def record(self, method, target, version, headers, body):
        entry = {
            "t": time.time(),
            "method": method,
            "target": target,
            "version": version,
            "headers": headers,
            "body_b64": base64.b64encode(body).decode("ascii"),
            "body_len": len(body),
        }
        with self.lock:
            self.count += 1
            if self.record_file:
                self.record_file.write(json.dumps(entry) + "\n")
                self.record_file.flush()
        self.log("Received request: %s %s (%d body bytes)" % (method, target, len(body)))

    def respond(self, method, target, headers, body):
        if self.role == "shadow":
            return 200, [("content-type", "text/plain"), ("x-backend", "shadow")], b"shadow\n"
        status = 200
        path, _, query = target.partition("?")
        for kv in query.split("&"):
            if kv.startswith("status="):
                try:
                    status = max(200, min(599, int(kv[7:])))
                except ValueError:
                    pass
        doc = {
            "message": "Hello from primary backend",
            "backend": "primary",
            "method": method,
            "path": path,
            "target": target,
            "body_len": len(body),
            "body_sha256": hashlib.sha256(body).hexdigest(),
        }
        payload = (json.dumps(doc, sort_keys=True) + "\n").encode("utf-8")
        return status, [("content-type", "application/json"), ("x-backend", "primary")], payload


def parse_listen(text):
    host, _, port = text.rpartition(":")
    return (host or "0.0.0.0", int(port))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--role", choices=("primary", "shadow"), required=True)
    ap.add_argument("--listen", default="127.0.0.1:0", help="ADDR:PORT (port 0 = any free)")
    ap.add_argument("--record", help="append one JSON line per request to this file")
    ap.add_argument("--delay", type=float, default=0.0, help="seconds to wait before answering")
    ap.add_argument("--port-file", help="write the bound port here once listening")
    ap.add_argument("--quiet", action="store_true", help="no per-request log line")
    args = ap.parse_args()

    srv = Backend(parse_listen(args.listen), args.role, args.record, args.delay, args.quiet)
    port = srv.server_address[1]
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.replace(tmp, args.port_file)
    srv.log("listening on %s:%d" % (srv.server_address[0], port))

    def stop(signum, frame):
        threading.Thread(target=srv.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    srv.serve_forever(poll_interval=0.2)
    srv.server_close()


if __name__ == "__main__":
    main()

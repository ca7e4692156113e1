#!/usr/bin/python3
"""A small JSON API in two flavours, for the shadow-verdict E2E tests: the
primary and the shadow answer alike on most endpoints and differ on purpose
on a few, so the agent's verdicts can be checked against a known list.

`?delay=S` makes the primary wait S seconds before answering any of them.
Every answer carries a Date and an X-Request-Id that differ between the two
flavours and from one answer to the next: noise the agent must ignore.

    endpoint                  primary                 shadow                   verdict
    /api/v1/users/N           JSON                    same JSON, other key      match
                                                      order, spacing, 1.0 -> 1
    /api/v1/orders/N          JSON                    same bytes                match
    /api/v1/text/N            text/plain              same bytes                match
    /api/v1/stamped/N         JSON, /meta/requested_at differs                  match (ignored field)
    /api/v1/garbage/same      "JSON" that is not      same bytes                match (bytes)
    /api/v1/garbage/diff      "JSON" that is not      one byte differs          body (bytes)
    /api/v1/slow-body/N       headers, 300 ms, body   same                      match (wait-for-body)
    /api/v1/teapot            200                     503                       status
    /api/v1/price/N           JSON price 10           price 12                  body (/price)
    /api/v1/big/same          64 KiB                  same                      over the cap
    /api/v1/big/diff          64 KiB                  last byte differs         over the cap
    /api/v1/hang              at once                 after --hang seconds      shadow_error

Stdlib only; the request parser is backend.py's:
    api_origin.py --flavour shadow --listen 127.0.0.1:8081 --hang 5
"""

import argparse
import email.utils
import json
import signal
import socket
import socketserver
import sys
import threading
import time
import uuid

from backend import BadRequest, read_body, read_head

BIG = 64 * 1024
SLOW_BODY_S = 0.3


def users(n, shadow):
    doc = {"id": n, "name": "user-%d" % n, "tags": ["a", "b"], "score": 1.0,
           "address": {"city": "Lyon", "zip": "69001"}}
    if not shadow:
        return json.dumps(doc).encode()
    # The same document spelled differently: keys reversed, indented, 1.0 as 1.
    doc = dict(reversed(list(doc.items())))
    doc["score"] = 1
    return json.dumps(doc, indent=2).encode()


def big(last):
    return (b"0123456789abcdef" * (BIG // 16))[:-1] + last


def respond(shadow, path):
    """(status, content type, body, delay before the body in seconds)."""
    parts = path.strip("/").split("/")[2:]  # after api/v1
    head, arg = (parts + ["", ""])[:2]
    n = int(arg) if arg.isdigit() else 0
    js = "application/json"
    if head == "users":
        return 200, js, users(n, shadow), 0
    if head == "orders":
        return 200, js, json.dumps({"order": n, "lines": [{"sku": 1, "qty": 2}]}).encode(), 0
    if head == "text":
        return 200, "text/plain", b"plain text %d\n" % n, 0
    if head == "stamped":
        stamp = "%.6f-%s" % (time.time(), "shadow" if shadow else "primary")
        return 200, js, json.dumps({"id": n, "meta": {"requested_at": stamp}}).encode(), 0
    if head == "garbage":
        tail = b"2" if shadow and arg == "diff" else b"1"
        return 200, js, b"{not json: " + tail + b"}", 0
    if head == "slow-body":
        return 200, js, json.dumps({"slow": n, "filler": "x" * 2000}).encode(), SLOW_BODY_S
    if head == "teapot":
        return (503 if shadow else 200), js, b'{"ok": true}', 0
    if head == "price":
        return 200, js, json.dumps({"sku": n, "price": 12 if shadow else 10,
                                    "currency": "EUR"}).encode(), 0
    if head == "big":
        return 200, "application/octet-stream", big(b"S" if shadow and arg == "diff" else b"P"), 0
    if head == "hang":
        return 200, js, b'{"hang": true}', 0
    return 404, js, b'{"error": "no such endpoint"}', 0


class Handler(socketserver.StreamRequestHandler):
    def handle(self):
        srv = self.server
        while True:
            try:
                head = read_head(self.rfile)
                if head is None:
                    return
                method, target, version, headers = head
                read_body(self.rfile, headers)
            except (BadRequest, ValueError):
                self.wfile.write(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n"
                                 b"connection: close\r\n\r\n")
                return
            except (ConnectionError, socket.timeout):
                return
            path, _, query = target.partition("?")
            status, ctype, body, body_delay = respond(srv.shadow, path)
            if not srv.shadow and query.startswith("delay="):
                time.sleep(float(query[6:]))  # the primary is slow to answer
            if srv.shadow and path == "/api/v1/hang":
                time.sleep(srv.hang)
            # Noise: a Date a day apart between the flavours, an id per answer.
            date = email.utils.formatdate(time.time() + (86400 if srv.shadow else 0), usegmt=True)
            out = ["HTTP/1.1 %d %s" % (status, "OK" if status < 400 else "Error"),
                   "Date: %s" % date,
                   "X-Request-Id: %s" % uuid.uuid4(),
                   "Content-Type: %s" % ctype,
                   "Content-Length: %d" % len(body)]
            head_bytes = ("\r\n".join(out) + "\r\n\r\n").encode("latin-1")
            try:
                if body_delay:
                    self.wfile.write(head_bytes)
                    self.wfile.flush()
                    time.sleep(body_delay)
                    head_bytes = b""
                self.wfile.write(head_bytes + (body if method != "HEAD" else b""))
                self.wfile.flush()
            except ConnectionError:
                return


class ApiOrigin(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024

    def __init__(self, addr, shadow, hang):
        self.shadow = shadow
        self.hang = hang
        super().__init__(addr, Handler)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--flavour", choices=("primary", "shadow"), required=True)
    ap.add_argument("--listen", default="127.0.0.1:0", help="ADDR:PORT")
    ap.add_argument("--hang", type=float, default=5.0,
                    help="seconds the shadow takes to answer /api/v1/hang")
    args = ap.parse_args()
    host, _, port = args.listen.rpartition(":")
    srv = ApiOrigin((host or "127.0.0.1", int(port)), args.flavour == "shadow", args.hang)
    sys.stderr.write("api_origin %s listening on %s:%d\n" % ((args.flavour,) + srv.server_address))
    sys.stderr.flush()
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=srv.shutdown,
                                                               daemon=True).start())
    srv.serve_forever(poll_interval=0.2)
    srv.server_close()


if __name__ == "__main__":
    main()

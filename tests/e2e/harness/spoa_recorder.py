#!/usr/bin/python3
"""A minimal SPOP agent that records the messages HAProxy sends and ACKs them.

It is not a mirror: it exists so the E2E suite can check what the shipped
SPOE files make HAProxy send (which routes fire, which argument names and
values) without depending on spoa-mirror itself, and so the two traps of the
seeds' examples can be shown on the HAProxy binary at hand. It announces
neither fragmentation nor anything else it would not honour.

    spoa_recorder.py --listen 127.0.0.1:0 --port-file P --record notify.jsonl
"""

import argparse
import base64
import ipaddress
import json
import os
import signal
import socketserver
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "support"))
import spop_wire as sw  # noqa: E402

MAX_FRAME = 16384 * 80  # generous: HAProxy picks the smaller of both sides
CAPS = "pipelining,async"  # not fragmentation: it is not honoured here


def json_value(typed):
    """A typed value as JSON: str, int, bool, None, or {"bin": base64}."""
    t, v = typed
    if t == sw.T_STRING:
        return v.decode("latin-1")
    if t == sw.T_BINARY:
        return {"bin": base64.b64encode(v).decode("ascii")}
    if t == sw.T_IPV4:
        return str(ipaddress.IPv4Address(v))
    if t == sw.T_IPV6:
        return str(ipaddress.IPv6Address(v))
    return v


class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        sock = self.request
        srv = self.server
        try:
            while True:
                ftype, flags, sid, fid, payload = sw.recv_frame(sock, MAX_FRAME)
                if ftype == sw.HAPROXY_HELLO:
                    kv = {k: json_value(v) for k, v in sw.kv_list_decode(payload).items()}
                    size = min(MAX_FRAME, int(kv.get("max-frame-size") or MAX_FRAME))
                    sock.sendall(sw.agent_hello(size, CAPS))
                    srv.event({"hello": kv})
                    if kv.get("healthcheck"):
                        return
                elif ftype == sw.NOTIFY:
                    if not flags & sw.FIN:
                        raise sw.Malformed("fragmented NOTIFY, not announced")
                    msgs = sw.messages_decode(payload)
                    sock.sendall(sw.ack(sid, fid))
                    for name, args in msgs:
                        srv.event({"notify": {"name": name,
                                              "args": [[a, json_value(v)] for a, v in args]}})
                elif ftype == sw.HAPROXY_DISCONNECT:
                    sock.sendall(sw.agent_disconnect(sw.STATUS_NONE, ""))
                    return
                else:
                    raise sw.Malformed("unexpected frame type %d" % ftype)
        except ConnectionError:
            return
        except sw.Malformed as e:
            srv.event({"error": str(e)})
            try:
                sock.sendall(sw.agent_disconnect(sw.STATUS_INVALID, str(e)[:200]))
            except OSError:
                pass


class Recorder(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024

    def __init__(self, addr, record_path):
        self.lock = threading.Lock()
        self.out = open(record_path, "a", encoding="utf-8")
        super().__init__(addr, Handler)

    def event(self, ev):
        with self.lock:
            self.out.write(json.dumps(ev) + "\n")
            self.out.flush()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--listen", default="127.0.0.1:0")
    ap.add_argument("--record", required=True)
    ap.add_argument("--port-file")
    args = ap.parse_args()
    host, _, port = args.listen.rpartition(":")
    srv = Recorder((host, int(port)), args.record)
    if args.port_file:
        with open(args.port_file + ".tmp", "w") as f:
            f.write("%d\n" % srv.server_address[1])
        os.replace(args.port_file + ".tmp", args.port_file)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=srv.shutdown, daemon=True).start())
    sys.stderr.write("spoa_recorder listening on %s:%d\n" % srv.server_address)
    sys.stderr.flush()
    srv.serve_forever(poll_interval=0.2)
    srv.server_close()


if __name__ == "__main__":
    main()

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
import struct
import sys
import threading

T_HAPROXY_HELLO, T_HAPROXY_DISCONNECT, T_NOTIFY = 1, 2, 3
T_AGENT_HELLO, T_AGENT_DISCONNECT, T_ACK = 101, 102, 103
FLAG_FIN = 1
MAX_FRAME = 16384 * 80  # generous: HAProxy picks the smaller of both sides


class Malformed(Exception):
    pass


def enc_varint(v):
    if v < 240:
        return bytes([v])
    out = bytearray([(v | 0xF0) & 0xFF])
    v = (v - 240) >> 4
    while v >= 128:
        out.append((v | 0x80) & 0xFF)
        v = (v - 128) >> 7
    out.append(v)
    return bytes(out)


def dec_varint(buf, pos):
    if pos >= len(buf):
        raise Malformed("varint past the end")
    v = buf[pos]
    pos += 1
    if v < 240:
        return v, pos
    shift = 4
    while True:
        if pos >= len(buf) or shift > 63:
            raise Malformed("varint past the end")
        b = buf[pos]
        pos += 1
        v += b << shift
        shift += 7
        if b < 128:
            return v, pos


def dec_bytes(buf, pos):
    n, pos = dec_varint(buf, pos)
    if pos + n > len(buf):
        raise Malformed("string past the end")
    return bytes(buf[pos:pos + n]), pos + n


def dec_typed(buf, pos):
    """Returns a JSON-friendly value: str, int, bool, None, or {"bin": base64}."""
    if pos >= len(buf):
        raise Malformed("typed data past the end")
    tb = buf[pos]
    pos += 1
    t = tb & 0x0F
    if t == 0:
        return None, pos
    if t == 1:
        return bool(tb & 0x10), pos
    if t in (2, 3, 4, 5):
        return dec_varint(buf, pos)
    if t == 6:
        return str(ipaddress.IPv4Address(bytes(buf[pos:pos + 4]))), pos + 4
    if t == 7:
        return str(ipaddress.IPv6Address(bytes(buf[pos:pos + 16]))), pos + 16
    if t in (8, 9):
        raw, pos = dec_bytes(buf, pos)
        if t == 8:
            return raw.decode("latin-1"), pos
        return {"bin": base64.b64encode(raw).decode("ascii")}, pos
    raise Malformed("reserved data type %d" % t)


def enc_str(s):
    b = s.encode()
    return enc_varint(len(b)) + b


def enc_kv_str(name, value):
    return enc_str(name) + b"\x08" + enc_str(value)


def enc_kv_uint(name, value):
    return enc_str(name) + b"\x03" + enc_varint(value)


def frame(ftype, sid, fid, payload):
    body = bytes([ftype]) + struct.pack(">I", FLAG_FIN) + enc_varint(sid) + enc_varint(fid) + payload
    return struct.pack(">I", len(body)) + body


def dec_kv_list(buf, pos):
    out = {}
    while pos < len(buf):
        name, pos = dec_bytes(buf, pos)
        out[name.decode("latin-1")], pos = dec_typed(buf, pos)
    return out


def dec_messages(buf, pos):
    msgs = []
    while pos < len(buf):
        name, pos = dec_bytes(buf, pos)
        if pos >= len(buf):
            raise Malformed("message without nb-args")
        nargs = buf[pos]
        pos += 1
        args = []
        for _ in range(nargs):
            aname, pos = dec_bytes(buf, pos)
            value, pos = dec_typed(buf, pos)
            args.append([aname.decode("latin-1"), value])
        msgs.append({"name": name.decode("latin-1"), "args": args})
    return msgs


def read_exact(sock, n):
    data = bytearray()
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    return bytes(data)


class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        sock = self.request
        srv = self.server
        try:
            while True:
                (length,) = struct.unpack(">I", read_exact(sock, 4))
                if length > MAX_FRAME:
                    raise Malformed("frame of %d bytes" % length)
                buf = read_exact(sock, length)
                ftype = buf[0]
                (flags,) = struct.unpack(">I", buf[1:5])
                sid, pos = dec_varint(buf, 5)
                fid, pos = dec_varint(buf, pos)
                if ftype == T_HAPROXY_HELLO:
                    kv = dec_kv_list(buf, pos)
                    size = min(MAX_FRAME, int(kv.get("max-frame-size") or MAX_FRAME))
                    payload = (enc_kv_str("version", "2.0") + enc_kv_uint("max-frame-size", size)
                               + enc_kv_str("capabilities", "pipelining,async"))
                    sock.sendall(frame(T_AGENT_HELLO, 0, 0, payload))
                    srv.event({"hello": kv})
                    if kv.get("healthcheck"):
                        return
                elif ftype == T_NOTIFY:
                    if not flags & FLAG_FIN:
                        raise Malformed("fragmented NOTIFY, not announced")
                    msgs = dec_messages(buf, pos)
                    sock.sendall(frame(T_ACK, sid, fid, b""))
                    for m in msgs:
                        srv.event({"notify": m})
                elif ftype == T_HAPROXY_DISCONNECT:
                    payload = enc_kv_uint("status-code", 0) + enc_kv_str("message", "")
                    sock.sendall(frame(T_AGENT_DISCONNECT, 0, 0, payload))
                    return
                else:
                    raise Malformed("unexpected frame type %d" % ftype)
        except ConnectionError:
            return
        except Malformed as e:
            srv.event({"error": str(e)})
            payload = enc_kv_uint("status-code", 4) + enc_kv_str("message", str(e)[:200])
            try:
                sock.sendall(frame(T_AGENT_DISCONNECT, 0, 0, payload))
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

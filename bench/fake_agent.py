#!/usr/bin/python3
"""A tiny SPOE agent for testing spop-bench without the real one.

It answers HAPROXY-HELLO, reassembles fragmented NOTIFY frames, decodes every
message (name, args, header block) and ACKs each NOTIFY with its stream-id and
frame-id. It counts what it saw and writes the counts as JSON to --stats-file
whenever a connection ends and at exit, so a test can compare them with what
spop-bench reports. Fault switches make it misbehave on purpose, to prove that
spop-bench notices (skipped ACKs, wrong frame-ids, DISCONNECT mid-run).

It also stands in for src/spoa-mirror in bench/run before the real agent is
built: it takes the same options (-a -p -u -r -n --metrics), replays each
message to the -u URL from worker threads (bounded queue, drops counted) and
serves the agent's main counters at GET /metrics. Slow (Python): for checking
the plumbing, never for figures.

Listens on 127.0.0.1 only and stops by itself after --max-runtime seconds.
"""
import argparse
import asyncio
import http.client
import json
import os
import queue
import signal
import struct
import sys
import threading
import urllib.parse

HAPROXY_HELLO, HAPROXY_DISCONNECT, NOTIFY, UNSET = 1, 2, 3, 0
AGENT_HELLO, AGENT_DISCONNECT, ACK = 101, 102, 103
FIN, ABORT = 1, 2
T_NULL, T_BOOL, T_INT32, T_UINT32, T_INT64, T_UINT64 = 0, 1, 2, 3, 4, 5
T_IPV4, T_IPV6, T_STRING, T_BINARY = 6, 7, 8, 9


class Malformed(Exception):
    pass


def varint_encode(v):
    if v < 240:
        return bytes([v])
    out = [(v | 0xF0) & 0xFF]
    v = (v - 240) >> 4
    while v >= 128:
        out.append((v | 0x80) & 0xFF)
        v = (v - 128) >> 7
    out.append(v)
    return bytes(out)


def varint_decode(buf, pos):
    if pos >= len(buf):
        raise Malformed("varint runs past the end")
    v = buf[pos]
    pos += 1
    if v < 240:
        return v, pos
    shift = 4
    while True:
        if pos >= len(buf) or shift > 70:
            raise Malformed("varint runs past the end")
        b = buf[pos]
        pos += 1
        v += b << shift
        shift += 7
        if b < 128:
            return v, pos


def string_decode(buf, pos):
    n, pos = varint_decode(buf, pos)
    if pos + n > len(buf):
        raise Malformed("string runs past the end")
    return bytes(buf[pos:pos + n]), pos + n


def value_decode(buf, pos):
    if pos >= len(buf):
        raise Malformed("typed data runs past the end")
    tag = buf[pos]
    pos += 1
    t = tag & 0x0F
    if t == T_NULL:
        return (t, None), pos
    if t == T_BOOL:
        return (t, bool(tag & 0x10)), pos
    if t in (T_INT32, T_UINT32, T_INT64, T_UINT64):
        v, pos = varint_decode(buf, pos)
        return (t, v), pos
    if t == T_IPV4:
        return (t, bytes(buf[pos:pos + 4])), pos + 4
    if t == T_IPV6:
        return (t, bytes(buf[pos:pos + 16])), pos + 16
    if t in (T_STRING, T_BINARY):
        s, pos = string_decode(buf, pos)
        return (t, s), pos
    raise Malformed("reserved type %d" % t)


def kv_encode(name, tag, payload):
    return varint_encode(len(name)) + name + bytes([tag]) + payload


def frame(ftype, flags, sid, fid, payload=b""):
    body = bytes([ftype]) + struct.pack(">I", flags) + varint_encode(sid) + varint_encode(fid) + payload
    return struct.pack(">I", len(body)) + body


def kv_list(payload):
    pos, out = 0, {}
    while pos < len(payload):
        name, pos = string_decode(payload, pos)
        val, pos = value_decode(payload, pos)
        out[name.decode()] = val
    return out


def headers_bin_list(block):
    pos, out = 0, []
    while True:
        name, pos = string_decode(block, pos)
        value, pos = string_decode(block, pos)
        if not name and not value:
            return out
        out.append((name.decode("latin-1"), value.decode("latin-1")))


def headers_text_list(block):
    out = []
    for line in block.decode("latin-1").split("\r\n"):
        if line:
            name, _, value = line.partition(":")
            out.append((name.strip(), value.strip()))
    return out


FIELD_OF = {"method": "method", "arg_method": "method", "path": "path", "pathq": "path",
            "uri": "path", "url": "path", "arg_path": "path", "headers": "headers",
            "hdrs": "headers", "arg_hdrs": "headers", "body": "body", "arg_body": "body"}
POSITIONAL = ["method", "path", "version", "headers", "body"]


class Replayer:
    """-u URL: worker threads send each mirrored request, keep-alive."""

    def __init__(self, url, workers, queue_max):
        u = urllib.parse.urlsplit(url)
        self.host, self.port = u.hostname, u.port or 80
        self.prefix = u.path.rstrip("/")
        self.q = queue.Queue(queue_max)
        self.lock = threading.Lock()
        self.mirrored = self.failed = self.dropped = 0
        for _ in range(workers):
            threading.Thread(target=self.work, daemon=True).start()

    def submit(self, req):
        try:
            self.q.put_nowait(req)
        except queue.Full:
            with self.lock:
                self.dropped += 1

    def work(self):
        conn = None
        while True:
            method, path, headers, body = self.q.get()
            try:
                if conn is None:
                    conn = http.client.HTTPConnection(self.host, self.port, timeout=5)
                hdrs = {k: v for k, v in headers
                        if k.lower() not in ("host", "content-length", "connection")}
                conn.request(method, self.prefix + path, body=body, headers=hdrs)
                conn.getresponse().read()
                with self.lock:
                    self.mirrored += 1
            except (OSError, http.client.HTTPException):
                conn = None
                with self.lock:
                    self.failed += 1


def headers_bin_count(block):
    pos, n = 0, 0
    while True:
        name, pos = string_decode(block, pos)
        value, pos = string_decode(block, pos)
        if not name and not value:
            return n
        n += 1


class Stats:
    def __init__(self, path):
        self.path = path
        self.d = {"connections": 0, "hellos": [], "notify": 0, "fragments": 0,
                  "messages": {}, "arg_names": [], "body_bytes": 0, "headers_seen": 0,
                  "acks": 0, "disconnects_received": 0, "malformed": 0}

    def save(self):
        if not self.path:
            return
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(self.d, f)
        os.replace(tmp, self.path)


class Agent:
    def __init__(self, args, stats):
        self.a = args
        self.st = stats
        self.notify_seen = 0
        self.replayer = None

    async def metrics(self, reader, writer):
        """GET /metrics in the agent's names (what bench/run reads)."""
        try:
            await reader.readuntil(b"\r\n\r\n")
            r = self.replayer
            mirrored, dropped = (r.mirrored, r.dropped) if r else (0, 0)
            body = ("spoa_mirror_notify_total %d\n"
                    "spoa_mirror_target_mirrored_total{target=\"u1\"} %d\n"
                    "spoa_mirror_target_dropped_total{target=\"u1\",reason=\"queue_full\"} %d\n"
                    % (self.st.d["notify"], mirrored, dropped)).encode()
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n"
                         b"Connection: close\r\n\r\n" % len(body) + body)
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()

    def on_message_payload(self, payload):
        pos = 0
        fields = {}
        while pos < len(payload):
            name, pos = string_decode(payload, pos)
            if pos >= len(payload):
                raise Malformed("message without arg count")
            nargs = payload[pos]
            pos += 1
            names = []
            for _ in range(nargs):
                aname, pos = string_decode(payload, pos)
                (t, v), pos = value_decode(payload, pos)
                names.append(aname.decode())
                key = aname.decode()
                field = FIELD_OF.get(key) if key else (
                    POSITIONAL[len(names) - 1] if len(names) <= len(POSITIONAL) else None)
                if field:
                    fields[field] = (t, v)
                if key in ("body", "arg_body") or (key == "" and len(names) == 5):
                    self.st.d["body_bytes"] += len(v)
                if key in ("headers", "arg_hdrs") or (key == "" and len(names) == 4):
                    if t == T_BINARY:
                        self.st.d["headers_seen"] += headers_bin_count(v)
                    else:
                        self.st.d["headers_seen"] += v.count(b"\r\n") - 1
            m = self.st.d["messages"]
            m[name.decode()] = m.get(name.decode(), 0) + 1
            if names != self.st.d["arg_names"]:
                self.st.d["arg_names"] = names
        if self.replayer and "method" in fields and "path" in fields:
            t, h = fields.get("headers", (T_BINARY, b"\0\0"))
            hl = headers_bin_list(h) if t == T_BINARY else headers_text_list(h)
            self.replayer.submit((fields["method"][1].decode(), fields["path"][1].decode(),
                                  hl, fields.get("body", (T_BINARY, b""))[1]))

    async def serve(self, reader, writer):
        self.st.d["connections"] += 1
        frame_size = self.a.max_frame_size
        partial = None  # (sid, fid, bytearray) of a fragmented NOTIFY
        try:
            while True:
                head = await reader.readexactly(4)
                (length,) = struct.unpack(">I", head)
                if length > frame_size:
                    raise Malformed("frame of %d bytes over %d" % (length, frame_size))
                body = await reader.readexactly(length)
                ftype = body[0]
                (flags,) = struct.unpack(">I", body[1:5])
                sid, pos = varint_decode(body, 5)
                fid, pos = varint_decode(body, pos)
                payload = body[pos:]
                if ftype == HAPROXY_HELLO:
                    kv = kv_list(payload)
                    theirs = kv["max-frame-size"][1]
                    frame_size = min(theirs, self.a.max_frame_size)
                    self.st.d["hellos"].append({"caps": kv["capabilities"][1].decode(),
                                                "max_frame_size": theirs})
                    caps = self.a.caps.encode()
                    p = (kv_encode(b"version", T_STRING, varint_encode(3) + b"2.0")
                         + kv_encode(b"max-frame-size", T_UINT32, varint_encode(frame_size))
                         + kv_encode(b"capabilities", T_STRING, varint_encode(len(caps)) + caps))
                    writer.write(frame(AGENT_HELLO, FIN, 0, 0, p))
                elif ftype == HAPROXY_DISCONNECT:
                    self.st.d["disconnects_received"] += 1
                    p = (kv_encode(b"status-code", T_UINT32, varint_encode(0))
                         + kv_encode(b"message", T_STRING, varint_encode(2) + b"ok"))
                    writer.write(frame(AGENT_DISCONNECT, FIN, 0, 0, p))
                    await writer.drain()
                    return
                elif ftype in (NOTIFY, UNSET):
                    if ftype == UNSET:
                        if partial is None or partial[0] != sid or partial[1] != fid:
                            raise Malformed("fragment without its NOTIFY")
                        self.st.d["fragments"] += 1
                        partial[2].extend(payload)
                    else:
                        if partial is not None:
                            raise Malformed("interlaced NOTIFY")
                        partial = (sid, fid, bytearray(payload))
                    if not flags & FIN:
                        continue
                    data = bytes(partial[2])
                    partial = None
                    self.on_message_payload(data)
                    self.st.d["notify"] += 1
                    self.notify_seen += 1
                    n = self.notify_seen
                    if self.a.disconnect_after and n >= self.a.disconnect_after:
                        msg = b"fake agent gives up"
                        p = (kv_encode(b"status-code", T_UINT32, varint_encode(4))
                             + kv_encode(b"message", T_STRING, varint_encode(len(msg)) + msg))
                        writer.write(frame(AGENT_DISCONNECT, FIN, 0, 0, p))
                        await writer.drain()
                        return
                    if self.a.skip_ack_every and n % self.a.skip_ack_every == 0:
                        continue
                    if self.a.bad_fid_every and n % self.a.bad_fid_every == 0:
                        fid += 1
                    if self.a.delay_ms:
                        await asyncio.sleep(self.a.delay_ms / 1000.0)
                    writer.write(frame(ACK, FIN, sid, fid))
                    self.st.d["acks"] += 1
                else:
                    raise Malformed("unexpected frame type %d" % ftype)
                if writer.transport.get_write_buffer_size() > 65536:
                    await writer.drain()
        except asyncio.IncompleteReadError:
            pass
        except (Malformed, KeyError, IndexError) as e:
            self.st.d["malformed"] += 1
            print("fake_agent: malformed input: %s" % e, file=sys.stderr)
        except ConnectionError:
            pass
        finally:
            writer.close()
            self.st.save()


async def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-a", "--address", default="127.0.0.1", help="only 127.0.0.1 is accepted")
    ap.add_argument("-p", "--port", type=int, default=0, help="0 picks a free port, printed as 'PORT n'")
    ap.add_argument("-u", "--url", help="replay every message to this URL (http only)")
    ap.add_argument("-n", "--workers", type=int, default=1, help="replay threads")
    ap.add_argument("-r", "--runtime", default="0", help="accepted for the agent's CLI; ignored")
    ap.add_argument("--metrics", help="ADDR:PORT for GET /metrics")
    ap.add_argument("--queue-max", type=int, default=10000)
    ap.add_argument("--caps", default="pipelining,async,fragmentation")
    ap.add_argument("--max-frame-size", type=int, default=4 * 1024 * 1024)
    ap.add_argument("--stats-file")
    ap.add_argument("--skip-ack-every", type=int, default=0, help="never ACK every Nth NOTIFY")
    ap.add_argument("--bad-fid-every", type=int, default=0, help="ACK every Nth NOTIFY with a wrong frame-id")
    ap.add_argument("--disconnect-after", type=int, default=0, help="DISCONNECT status 4 at the Nth NOTIFY")
    ap.add_argument("--delay-ms", type=float, default=0, help="wait before each ACK")
    ap.add_argument("--max-runtime", type=float, default=120)
    a = ap.parse_args()
    if a.address != "127.0.0.1":
        ap.error("the fake agent listens on 127.0.0.1 only")
    stats = Stats(a.stats_file)
    stats.save()
    agent = Agent(a, stats)
    if a.url:
        agent.replayer = Replayer(a.url, a.workers, a.queue_max)
    if a.metrics:
        maddr, _, mport = a.metrics.rpartition(":")
        if maddr != "127.0.0.1":
            ap.error("--metrics must be on 127.0.0.1")
        await asyncio.start_server(agent.metrics, maddr, int(mport))
    server = await asyncio.start_server(agent.serve, "127.0.0.1", a.port, backlog=1024)
    print("PORT %d" % server.sockets[0].getsockname()[1], flush=True)
    done = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, done.set)
    try:
        await asyncio.wait_for(done.wait(), a.max_runtime)
    except asyncio.TimeoutError:
        pass
    server.close()
    stats.save()


if __name__ == "__main__":
    asyncio.run(main())

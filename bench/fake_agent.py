#!/usr/bin/python3
"""A tiny SPOE agent for testing spop-bench without the real one.

It answers HAPROXY-HELLO, reassembles fragmented NOTIFY frames, decodes every
message (name, args, header block) and ACKs each NOTIFY with its stream-id and
frame-id. It counts what it saw and writes the counts as JSON to --stats-file
whenever a connection ends and at exit, so a test can compare them with what
spop-bench reports. Fault switches make it misbehave on purpose, to prove that
spop-bench notices (skipped ACKs, wrong frame-ids, DISCONNECT mid-run, slow
ACKs, fewer capabilities, a smaller frame size).

It mirrors nothing: bench/run and the tests of the chain use src/spoa-mirror.
Listens on 127.0.0.1 only and stops by itself after --max-runtime seconds.
"""
import argparse
import asyncio
import json
import os
import signal
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "support"))
import spop_wire as sw  # noqa: E402

# where spop-bench's namings put the header block and the body
HEADER_ARGS = ("headers", "arg_hdrs")
BODY_ARGS = ("body", "arg_body")
UNNAMED_HEADERS, UNNAMED_BODY = 4, 5  # positions with --naming unnamed


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

    def count_messages(self, payload):
        for name, args in sw.messages_decode(payload):
            names = []
            for n, (aname, (t, v)) in enumerate(args, 1):
                names.append(aname)
                if aname in BODY_ARGS or (aname == "" and n == UNNAMED_BODY):
                    self.d["body_bytes"] += len(v)
                if aname in HEADER_ARGS or (aname == "" and n == UNNAMED_HEADERS):
                    decode = sw.headers_bin_decode if t == sw.T_BINARY else sw.headers_text_decode
                    self.d["headers_seen"] += len(decode(v))
            self.d["messages"][name] = self.d["messages"].get(name, 0) + 1
            self.d["arg_names"] = names


class Agent:
    def __init__(self, args, stats):
        self.a = args
        self.st = stats
        self.notify_seen = 0

    def hello(self, payload):
        kv = sw.kv_list_decode(payload)
        theirs = kv["max-frame-size"][1]
        self.st.d["hellos"].append({"caps": kv["capabilities"][1].decode(),
                                    "max_frame_size": theirs})
        return min(theirs, self.a.max_frame_size)

    async def serve(self, reader, writer):
        self.st.d["connections"] += 1
        frame_size = self.a.max_frame_size
        partial = None  # (sid, fid, bytearray) of a fragmented NOTIFY
        try:
            while True:
                ftype, flags, sid, fid, payload = await sw.stream_read_frame(reader, frame_size)
                if ftype == sw.HAPROXY_HELLO:
                    frame_size = self.hello(payload)
                    writer.write(sw.agent_hello(frame_size, self.a.caps))
                elif ftype == sw.HAPROXY_DISCONNECT:
                    self.st.d["disconnects_received"] += 1
                    writer.write(sw.agent_disconnect(sw.STATUS_NONE, "ok"))
                    await writer.drain()
                    return
                elif ftype in (sw.NOTIFY, sw.UNSET):
                    if ftype == sw.UNSET:
                        if partial is None or partial[0] != sid or partial[1] != fid:
                            raise sw.Malformed("fragment without its NOTIFY")
                        self.st.d["fragments"] += 1
                        partial[2].extend(payload)
                    else:
                        if partial is not None:
                            raise sw.Malformed("interlaced NOTIFY")
                        partial = (sid, fid, bytearray(payload))
                    if not flags & sw.FIN:
                        continue
                    data = bytes(partial[2])
                    partial = None
                    self.st.count_messages(data)
                    self.st.d["notify"] += 1
                    self.notify_seen += 1
                    if not await self.answer(writer, sid, fid):
                        return
                else:
                    raise sw.Malformed("unexpected frame type %d" % ftype)
                if writer.transport.get_write_buffer_size() > 65536:
                    await writer.drain()
        except asyncio.IncompleteReadError:
            pass
        except (sw.Malformed, KeyError) as e:
            self.st.d["malformed"] += 1
            print("fake_agent: malformed input: %s" % e, file=sys.stderr)
        except ConnectionError:
            pass
        finally:
            writer.close()
            self.st.save()

    async def answer(self, writer, sid, fid):
        """ACK the Nth NOTIFY, or misbehave as the switches say. False when
        the connection is to end."""
        n = self.notify_seen
        if self.a.disconnect_after and n >= self.a.disconnect_after:
            writer.write(sw.agent_disconnect(sw.STATUS_INVALID, "fake agent gives up"))
            await writer.drain()
            return False
        if self.a.skip_ack_every and n % self.a.skip_ack_every == 0:
            return True
        if self.a.bad_fid_every and n % self.a.bad_fid_every == 0:
            fid += 1
        if self.a.delay_ms:
            await asyncio.sleep(self.a.delay_ms / 1000.0)
        writer.write(sw.ack(sid, fid))
        self.st.d["acks"] += 1
        return True


async def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-p", "--port", type=int, default=0, help="0 picks a free port, printed as 'PORT n'")
    ap.add_argument("--caps", default="pipelining,async,fragmentation")
    ap.add_argument("--max-frame-size", type=int, default=4 * 1024 * 1024)
    ap.add_argument("--stats-file")
    ap.add_argument("--skip-ack-every", type=int, default=0, help="never ACK every Nth NOTIFY")
    ap.add_argument("--bad-fid-every", type=int, default=0, help="ACK every Nth NOTIFY with a wrong frame-id")
    ap.add_argument("--disconnect-after", type=int, default=0, help="DISCONNECT status 4 at the Nth NOTIFY")
    ap.add_argument("--delay-ms", type=float, default=0, help="wait before each ACK")
    ap.add_argument("--max-runtime", type=float, default=120)
    a = ap.parse_args()
    stats = Stats(a.stats_file)
    stats.save()
    agent = Agent(a, stats)
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

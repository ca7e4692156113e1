"""gRPC unary calls through an HTTP/2 HAProxy frontend
(haproxy-examples/haproxy-grpc-<family>.cfg), mirrored by spoa-mirror to a
gRPC shadow over h2c. Real grpcio on both ends (Debian's python3-grpcio):
servers with a generic handler on raw bytes, so no protoc is needed.

What is proved: what HAProxy hands the agent for an HTTP/2 request (version
2.0, a host header HAProxy made from :authority, te: trailers, the
length-prefixed message); the shadow gets the
same method and message bytes and the call succeeds there (a gRPC server
refuses a call without te: trailers); the shadow's grpc-status is counted
per target in /metrics, a planted NOT_FOUND as code 5; an HTTP/1.1 target
gets no gRPC call and counts it dropped (grpc_needs_http2).

libcurl 7.88 (Debian 12) cannot reuse h2c connections: the agent then opens
one connection per mirror. The calls here are sequential, well within that."""

import os
import sys
import threading
from concurrent import futures

import pytest

grpc = pytest.importorskip("grpc")

from harness import haproxy, procs  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import spop_wire as sw  # noqa: E402

UNARY = "/mirror.Test/Unary"
FAIL = "/mirror.Test/Fail"  # the shadow aborts it with NOT_FOUND; the primary answers
STREAM = "/mirror.Test/Stream"  # not listed as unary in the example: never mirrored

# raw messages: empty, NUL and 0xff bytes, one over HTTP/2's 16 KiB frame size
MESSAGES = [b"", b"\x00\x01\x02\xff", bytes(range(256)) * 4, b"\xa5" * (100 * 1024 + 3)]


class GrpcServer:
    """An in-process grpcio server answering any method with b"reply:" +
    message, recording every call; methods in `abort` fail with that code."""

    def __init__(self, name, abort=None):
        self.name = name
        self.abort = dict(abort or {})
        self.calls = []  # (method, message, metadata dict)
        self.cond = threading.Condition()
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        self.server.add_generic_rpc_handlers((self,))
        self.port = self.server.add_insecure_port("127.0.0.1:0")
        self.server.start()

    # grpc.GenericRpcHandler
    def service(self, details):
        method = details.method

        def unary(message, context):
            with self.cond:
                self.calls.append((method, message, dict(context.invocation_metadata())))
                self.cond.notify_all()
            if method in self.abort:
                context.abort(self.abort[method], "planted by the test")
            return b"reply:" + message

        def stream(messages, context):
            for m in messages:
                with self.cond:
                    self.calls.append((method, m, dict(context.invocation_metadata())))
                    self.cond.notify_all()
                yield b"reply:" + m

        if method == STREAM:
            return grpc.stream_stream_rpc_method_handler(stream)
        return grpc.unary_unary_rpc_method_handler(unary)

    def wait_calls(self, n, timeout=10.0):
        with self.cond:
            self.cond.wait_for(lambda: len(self.calls) >= n, timeout)
            return list(self.calls)

    def stop(self):
        self.server.stop(0)

    def logs(self):
        return []


def grpc_cfg():
    return os.path.join(haproxy.REPO, "haproxy-examples",
                        "haproxy-grpc-%s.cfg" % haproxy.family())


def test_grpc_example_passes_haproxy_check_without_warnings():
    spoe = haproxy.config_paths()[1]
    ok, out = haproxy.check_config(grpc_cfg(), {"ADMIN_SOCKET": "/tmp/spoa-mirror-e2e-check.sock",
                                                "SPOE_CONF": spoe})
    assert ok, out
    assert haproxy.check_problems(out) == [], out


def test_grpc_example_3_1_differs_from_2_x_only_in_spoe_file_and_backend_mode():
    def directives(fam):
        out = []
        with open(os.path.join(haproxy.REPO, "haproxy-examples", "haproxy-grpc-%s.cfg" % fam)) as f:
            for line in f:
                line = line.split("#", 1)[0].strip()
                if line:
                    out.append(" ".join(line.split()))
        return out
    old, new = directives("2.x"), directives("3.1")
    assert len(old) == len(new)
    assert [(a, b) for a, b in zip(old, new) if a != b] == [
        ("presetenv SPOE_CONF /etc/haproxy/spoe-mirror-2.x.conf",
         "presetenv SPOE_CONF /etc/haproxy/spoe-mirror-3.1.conf"),
        ("mode tcp", "mode spop"),
        ("timeout server 3m", "timeout server 2m"),
    ]


def start(world, agents):
    primary = world._add(GrpcServer("primary"))
    proxy = world.haproxy(primary, agents, cfg=grpc_cfg())
    channel = grpc.insecure_channel("127.0.0.1:%d" % proxy.port)
    world._add(type("Channel", (), {"stop": lambda self: channel.close(),
                                    "logs": lambda self: []})())
    return primary, proxy, channel


def test_what_haproxy_hands_the_agent_for_an_http2_grpc_call(world):
    rec = world.recorder()
    primary, proxy, channel = start(world, [rec])
    msg = b"\x00hello\xff"
    assert channel.unary_unary(UNARY)(msg, timeout=5) == b"reply:" + msg
    msgs = rec.wait_messages(1)
    assert len(msgs) == 1
    a = dict(msgs[0][1])
    assert a["method"] == "POST"
    assert a["version"] == "2.0"
    # pathq: the path only. HAProxy keeps an HTTP/2 client's :authority as
    # the authority of an absolute-form URI (its log shows
    # "POST http://127.0.0.1:PORT/mirror.Test/Unary HTTP/2.0"), which the
    # `url` fetch would hand over, and adds a host header from it: the
    # client itself sent none.
    assert a["uri"] == UNARY
    headers = sw.headers_bin_decode(a["headers"])
    hosts = [v for n, v in headers if n == b"host"]
    assert hosts == [b"127.0.0.1:%d" % proxy.port], headers
    assert (b"te", b"trailers") in headers
    assert (b"content-type", b"application/grpc") in headers
    # the length-prefixed message: compressed-flag 0, 4-byte big-endian length
    assert a["body"] == b"\x00" + len(msg).to_bytes(4, "big") + msg
    assert len(primary.calls) == 1


def test_unary_calls_mirrored_byte_exact_and_grpc_status_counted(world):
    shadow = world._add(GrpcServer("shadow", abort={FAIL: grpc.StatusCode.NOT_FOUND}))
    h1 = world.shadow(name="h1-shadow")
    ini = world.ini("agent", targets=[
        ("grpc", {"url": "http://127.0.0.1:%d" % shadow.port, "http2": "yes"}),
        ("h1", {"url": h1.url}),
    ])
    agent = world.agent(ini=ini)
    primary, _, channel = start(world, [agent])

    for m in MESSAGES:
        assert channel.unary_unary(UNARY)(m, timeout=5) == b"reply:" + m
    # the primary answers the planted method; only the shadow fails it
    assert channel.unary_unary(FAIL)(b"gone", timeout=5) == b"reply:gone"
    # a streaming call passes through unbuffered and is not mirrored
    replies = list(channel.stream_stream(STREAM)(iter([b"s1", b"s2"]), timeout=5))
    assert replies == [b"reply:s1", b"reply:s2"]

    n = len(MESSAGES) + 1
    calls = shadow.wait_calls(n)
    assert len(calls) == n, [(c[0], len(c[1])) for c in calls]
    # mirrors run concurrently: compare as sets of (method, message)
    assert sorted((c[0], c[1]) for c in calls) == \
        sorted([(UNARY, m) for m in MESSAGES] + [(FAIL, b"gone")])
    for _, _, md in calls:
        assert md.get("user-agent", "").startswith("grpc-python"), md
    assert len(primary.calls) == n + 2

    def counted():
        m = agent.metrics()
        return m if m.sum("spoa_mirror_grpc_status_total", target="grpc") >= n else None
    m = procs.wait_until(counted, 10, what="grpc-status of every mirror counted")
    assert m.sum("spoa_mirror_grpc_status_total", target="grpc", code="0") == len(MESSAGES)
    assert m.sum("spoa_mirror_grpc_status_total", target="grpc", code="5") == 1
    assert m.sum("spoa_mirror_grpc_status_total", target="grpc") == n
    assert m.sum("spoa_mirror_target_responses_total", target="grpc", **{"class": "2xx"}) == n
    assert m.sum("spoa_mirror_target_failed_total", target="grpc") == 0
    # the HTTP/1.1 target: offered every call, sent none
    assert m.sum("spoa_mirror_target_received_total", target="h1") == n
    assert m.sum("spoa_mirror_target_dropped_total", target="h1",
                 reason="grpc_needs_http2") == n
    assert h1.count() == 0
    assert not m.has("spoa_mirror_grpc_status_total") or \
        m.sum("spoa_mirror_grpc_status_total", target="h1") == 0

"""Mirroring through the real HAProxy and spoa-mirror: which routes are
mirrored, and what the shadow receives, byte for byte, compared with what
the client sent and with what the primary got.

One stack for the whole module (the cases only add requests): primary,
shadow, one agent configured the seeds' way (INI [mirror] with mirror-url
and mirror-headers), HAProxy with the shipped example config. Every case
runs twice: HAProxy reaches the agent over TCP loopback, then over a UNIX
socket (`server agent1 /path/agent.sock`)."""

import hashlib
import json
import random
import uuid

import pytest

from harness import world as world_mod
from harness.client import Client

# Dropped before comparing header lists: connection-level headers HAProxy or
# libcurl rebuild, and the headers the agent adds on purpose (checked apart).
REBUILT = {"host", "content-length", "transfer-encoding", "connection", "expect", "keep-alive",
           "te", "trailer", "upgrade", "proxy-connection"}
ADDED = {"x-forwarded-host", "x-forwarded-for", "x-mirror", "x-shadow-version"}


@pytest.fixture(scope="module", params=["tcp", "unix"])
def stack(tmp_path_factory, request):
    w = world_mod.World(tmp_path_factory.mktemp("mirroring-" + request.param))
    try:
        primary, shadow, agent, proxy = w.stack(transport=request.param)
        yield w, primary, shadow, agent, proxy
    finally:
        w.close()


def send_sequential(proxy, targets):
    c = Client(proxy.port)
    try:
        for t in targets:
            r = c.get(t)
            assert r.status == 200, (t, r.status, r.body[:200])
            assert r.header("x-backend") == "primary"
    finally:
        c.close()


def metric(agent, name, **labels):
    return agent.metrics().sum(name, **labels)


def test_metrics_health_and_readiness_endpoints_answer(stack):
    _, _, _, agent, _ = stack
    status, _ = agent.healthz()
    assert status == 200
    assert agent.ready()
    m = agent.metrics()
    for name in ("spoa_mirror_target_received_total", "spoa_mirror_target_mirrored_total",
                 "spoa_mirror_target_failed_total", "spoa_mirror_target_sampled_out_total",
                 "spoa_mirror_requests_truncated_total", "spoa_mirror_notify_total",
                 "spoa_mirror_ack_total"):
        assert m.has(name), name
    assert m.targets() == ["default"]


def test_api_v1_mirrors_every_request(stack):
    _, _, shadow, agent, _ = stack
    proxy = stack[4]
    before = metric(agent, "spoa_mirror_target_mirrored_total", target="default")
    targets = ["/api/v1/every?i=%d" % i for i in range(300)]
    send_sequential(proxy, targets)
    assert shadow.wait_count("/api/v1/every?", 300) == 300
    got = [r["target"] for r in shadow.requests() if r["target"].startswith("/api/v1/every?")]
    assert sorted(got) == sorted(targets)
    after = metric(agent, "spoa_mirror_target_mirrored_total", target="default")
    assert after - before == 300


def test_api_v2_mirrors_about_half(stack):
    _, _, shadow, _, proxy = stack
    send_sequential(proxy, ["/api/v2/half?i=%d" % i for i in range(1000)])
    # Every mirrored request has arrived once the shadow count stops moving;
    # binomial(1000, 0.5): 430..570 is +-4.4 standard deviations.
    n = shadow.wait_count("/api/v2/half?", 430, settle=1.0)
    assert 430 <= n <= 570, n


def test_api_v3_mirrors_nothing(stack):
    _, _, shadow, agent, proxy = stack
    before = metric(agent, "spoa_mirror_target_received_total", target="default")
    send_sequential(proxy, ["/api/v3/never?i=%d" % i for i in range(100)])
    send_sequential(proxy, ["/api/v1/barrier-v3"])
    assert shadow.find("/api/v1/barrier-v3") is not None
    assert shadow.count("/api/v3/") == 0
    after = metric(agent, "spoa_mirror_target_received_total", target="default")
    assert after - before == 1  # the barrier only


def body_of(size, seed):
    return random.Random(seed).randbytes(size)


# (case id, method, status asked from the primary, body or None, chunked)
CASES = [
    ("get-query", "GET", 200, None, False),
    ("get-raw-path", "GET", 200, None, False),
    ("head", "HEAD", 200, None, False),
    ("post-empty", "POST", 201, b"", False),
    ("post-4k", "POST", 201, body_of(4096, 1), False),
    ("post-100k", "POST", 200, body_of(100 * 1024, 2), False),
    ("post-1m", "POST", 200, body_of(1024 * 1024, 3), False),
    ("post-chunked", "POST", 200, body_of(10000, 4), True),
    ("put-4k", "PUT", 200, body_of(4096, 5), False),
    ("patch-json", "PATCH", 200, b'{"op": "replace", "path": "/a", "value": "\xc3\xa9"}', False),
    ("delete", "DELETE", 204, None, False),
    ("options", "OPTIONS", 200, None, False),
]


def client_headers(case_id, body, with_accept=True):
    h = [("User-Agent", "spoa-mirror-e2e/1.0")]
    if with_accept:
        h.append(("Accept", "application/json"))
    h += [("X-Request-Id", "%s-%s" % (case_id, uuid.uuid4())),
          ("X-Mixed-Case", 'Value  With   Spaces, commas; and "quotes"'),
          ("X-Dup", "one"),
          ("X-Dup", "two"),
          ("X-Bytes", b"caf\xc3\xa9 \x80\xff"),
          ("Cookie", "a=1; b=2"),
          ("Authorization", "Bearer abc.def")]
    if body is not None:
        h.append(("Content-Type", "application/octet-stream"))
    return h


def as_text(v):
    return v.decode("latin-1") if isinstance(v, bytes) else v


def comparable(headers, drop):
    return [(n.lower(), v) for n, v in headers if n.lower() not in drop]


def primary_answer(method, target, body):
    """The body backend.py's primary builds, to check the client got it."""
    doc = {"message": "Hello from primary backend", "backend": "primary", "method": method,
           "path": target.partition("?")[0], "target": target, "body_len": len(body or b""),
           "body_sha256": hashlib.sha256(body or b"").hexdigest()}
    return (json.dumps(doc, sort_keys=True) + "\n").encode()


def values(headers, name):
    return [v for n, v in headers if n.lower() == name]


@pytest.mark.parametrize("case_id,method,status,body,chunked", CASES, ids=[c[0] for c in CASES])
def test_shadow_gets_the_request_byte_exact(stack, case_id, method, status, body, chunked):
    _, primary, shadow, _, proxy = stack
    target = "/api/v1/fidelity/%s?q=a%%20b&x=1&x=2&empty=&utf=%%C3%%A9&status=%d&id=%s" % (
        case_id, status, uuid.uuid4().hex)
    if case_id == "get-raw-path":
        # Dot segments, an encoded slash, '+' and ';' are passed on as they
        # are: a URL library that normalizes them changes what the shadow sees.
        target = "/api/v1/fidelity/raw/./a/../b/%%2F/c;v=1?plus=a+b&semi=x;y&id=%s" % (
            uuid.uuid4().hex)
    sent = client_headers(case_id, body)
    c = Client(proxy.port)
    try:
        resp = c.request(method, target, headers=sent, body=body, chunked=chunked)
    finally:
        c.close()

    # The client gets the primary's answer, whatever the shadow says.
    assert resp.status == status
    assert resp.header("x-backend") == "primary"
    no_body = method == "HEAD" or status == 204
    assert resp.body == (b"" if no_body else primary_answer(method, target, body))

    got = shadow.find(target)
    assert got is not None, "request never reached the shadow"
    seen_by_primary = primary.find(target, timeout=1)
    assert seen_by_primary is not None

    assert got["method"] == method
    assert got["target"] == target
    assert got["body"] == (body or b"")

    # Header names arrive lowercased (HAProxy's HTX keeps them so); values,
    # order and duplicates as the client sent them.
    expected = [(n.lower(), as_text(v)) for n, v in sent if n.lower() not in REBUILT]
    assert comparable(seen_by_primary["headers"], REBUILT) == expected
    assert comparable(got["headers"], REBUILT | ADDED) == expected

    h = got["headers"]
    assert values(h, "host") == ["127.0.0.1:%d" % shadow.port]
    assert values(h, "x-forwarded-host") == ["127.0.0.1:%d" % proxy.port]
    assert values(h, "x-forwarded-for") == ["127.0.0.1"]
    assert values(h, "x-mirror") == ["true"]
    assert values(h, "x-shadow-version") == ["v2"]
    if body:
        assert values(h, "content-length") == [str(len(body))]
    assert values(h, "transfer-encoding") == []


def test_shadow_gets_no_accept_header_the_client_did_not_send(stack):
    # libcurl adds "Accept: */*" unless told not to.
    _, _, shadow, _, proxy = stack
    target = "/api/v1/fidelity/no-accept?id=%s" % uuid.uuid4().hex
    sent = client_headers("no-accept", None, with_accept=False)
    c = Client(proxy.port)
    try:
        assert c.request("GET", target, headers=sent).status == 200
    finally:
        c.close()
    got = shadow.find(target)
    assert got is not None
    assert values(got["headers"], "accept") == []
    assert values(got["headers"], "user-agent") == ["spoa-mirror-e2e/1.0"]


def test_body_over_1mib_is_not_mirrored_but_reaches_the_primary(stack):
    _, primary, shadow, agent, proxy = stack
    before = metric(agent, "spoa_mirror_target_received_total", target="default")
    body = body_of(1024 * 1024 + 1, 6)
    target = "/api/v1/too-big?id=%s" % uuid.uuid4().hex
    c = Client(proxy.port)
    try:
        resp = c.request("POST", target, body=body)
    finally:
        c.close()
    assert resp.status == 200
    assert resp.body == primary_answer("POST", target, body)
    send_sequential(proxy, ["/api/v1/barrier-too-big"])
    assert shadow.find("/api/v1/barrier-too-big") is not None
    assert shadow.find(target, timeout=0.5) is None
    assert metric(agent, "spoa_mirror_target_received_total", target="default") - before == 1


def test_no_spoe_event_failed_or_timed_out(stack):
    # Runs after the cases above (same module stack): every SPOE event of
    # theirs was ACKed in time, as HAProxy's own SPOE log line says.
    proxy = stack[4]
    assert proxy.spoe_errors() == []


def test_body_cut_by_haproxy_is_counted_truncated_not_replayed(world):
    # A 16 KiB buffer and no body-size guard: HAProxy hands the agent the
    # first ~15 KB of a 32 KiB body, without saying so. The agent must see
    # that Content-Length disagrees and drop the request.
    primary, shadow, agent, proxy = world.stack(
        env={"HAPROXY_BUFSIZE": "16384", "MIRROR_BODY_MAX": "100000000"})
    body = body_of(32 * 1024, 7)
    target = "/api/v1/truncated?id=%s" % uuid.uuid4().hex
    c = Client(proxy.port)
    try:
        resp = c.request("POST", target, body=body)
        assert resp.status == 200
        assert resp.body == primary_answer("POST", target, body)
        assert c.get("/api/v1/barrier-truncated").status == 200
    finally:
        c.close()
    assert shadow.find("/api/v1/barrier-truncated") is not None
    assert shadow.find(target, timeout=0.5) is None
    m = agent.metrics()
    assert m.sum("spoa_mirror_requests_truncated_total") == 1
    assert m.sum("spoa_mirror_target_dropped_total", target="default", reason="truncated") == 1
    assert m.sum("spoa_mirror_target_mirrored_total", target="default") == 1  # the barrier


def test_agent_stops_cleanly_on_sigterm_after_traffic(world):
    # Exit status 0 within the drain timeout; under a sanitizer build
    # (SPOA_MIRROR=... tests/e2e/run) a leak or an error report fails here.
    primary, shadow, agent, proxy = world.stack()
    send_sequential(proxy, ["/api/v1/before-stop?i=%d" % i for i in range(50)])
    assert shadow.wait_count("/api/v1/before-stop?", 50) == 50
    rc = agent.proc.stop(grace=10)
    log = agent.proc.tail(20000)
    assert rc == 0, log
    assert "Sanitizer" not in log and "runtime error" not in log, log

"""What the shipped shadow-verdict configs (haproxy-compare-*.cfg,
spoe-mirror-compare*-*.conf) make the real HAProxy send, seen by a recording
SPOP agent: a request and a response message per mirrored transaction with
the same id, the primary's status, headers, response time and (with
COMPARE_BODIES=yes) its whole body, nothing for requests that are not
mirrored. Independent of spoa-mirror itself."""

import time

from harness import haproxy
from harness.client import Client
from harness.recorder import wait_transactions

from test_spoe_messages import variant


def start(world, bodies, cfg=None, spoe_conf=None):
    primary = world.api_origin("primary")
    rec = world.recorder()
    env = haproxy.compare_env(bodies)
    if spoe_conf:
        env["SPOE_CONF"] = spoe_conf
    cfg = cfg or haproxy.compare_config_paths()[0]
    proxy = world.haproxy(primary, [rec], cfg=cfg, env=env)
    return rec, proxy


def get_all(proxy, targets):
    c = Client(proxy.port)
    try:
        return [c.get(t) for t in targets]
    finally:
        c.close()


def test_request_and_response_messages_share_the_id_and_carry_the_answer(world):
    rec, proxy = start(world, bodies=False)
    answers = get_all(proxy, ["/api/v1/users/7", "/api/v1/teapot"])
    assert [r.status for r in answers] == [200, 200]
    tx = sorted(wait_transactions([rec], 2), key=lambda t: t["uri"])
    assert len(tx) == 2, tx
    for t, path, body in zip(tx, ["/api/v1/teapot", "/api/v1/users/7"],
                             [answers[1].body, answers[0].body]):
        assert t["uri"] == path
        assert t["request"] == ["recorder"] and t["response"] == ["recorder"]
        req, res = t["args"]["mirror-request"], t["args"]["mirror-response"]
        assert list(req) == ["unique-id", "method", "uri", "version", "headers", "body", "src",
                             "compare"]
        assert req["compare"] is True  # COMPARE_PERCENT defaults to 100
        # status and headers only: no body in this variant
        assert list(res) == ["unique-id", "status", "headers", "time"]
        # unique-id-format: %{+X}o %ci:%cp_%fi:%fp_%Ts_%rt:%pid
        assert req["unique-id"] == res["unique-id"] and req["unique-id"].startswith("7F000001:")
        assert res["status"] == 200
        assert b"\x0ccontent-type\x10application/json" in res["headers"]
        assert res["headers"].endswith(b"\x00\x00")
        # the primary's response time in ms, an integer on every version
        assert isinstance(res["time"], int) and 0 <= res["time"] < 5000, res["time"]
        length = str(len(body)).encode()
        assert b"\x0econtent-length" + bytes([len(length)]) + length in res["headers"]
    ids = [t["args"]["mirror-request"]["unique-id"] for t in tx]
    assert ids[0] != ids[1]
    assert rec.errors() == []


def test_only_mirrored_requests_send_the_response_message(world):
    rec, proxy = start(world, bodies=False)
    get_all(proxy, ["/api/v3/users/1"] * 20 + ["/api/v2/users/2"] * 100 + ["/api/v1/users/3"])
    time.sleep(0.3)  # nothing to wait for: /api/v3 must stay silent
    tx = wait_transactions([rec], 1)
    by_uri = {}
    for t in tx:
        by_uri.setdefault(t["uri"], []).append(t)
    assert "/api/v3/users/1" not in by_uri
    assert len(by_uri["/api/v1/users/3"]) == 1
    assert 25 <= len(by_uri["/api/v2/users/2"]) <= 75  # binomial(100, .5)
    # every mirrored request has its answer, and no answer comes alone
    assert all(t["request"] == ["recorder"] and t["response"] == ["recorder"]
               for t in tx), tx


def test_body_variant_waits_for_the_whole_body(world):
    # /api/v1/slow-body sends its headers, then its body 300 ms later: the
    # response message still carries every byte, because `wait-for-body`
    # runs before `send-spoe-group` in the http-response rules.
    rec, proxy = start(world, bodies=True)
    t0 = time.monotonic()
    answers = get_all(proxy, ["/api/v1/slow-body/1", "/api/v1/big/same", "/api/v1/users/1"])
    assert time.monotonic() - t0 >= 0.3
    tx = sorted(wait_transactions([rec], 3), key=lambda t: t["uri"])
    assert [t["uri"] for t in tx] == ["/api/v1/big/same", "/api/v1/slow-body/1",
                                      "/api/v1/users/1"]
    got = {t["uri"]: t["args"]["mirror-response"] for t in tx}
    assert list(got["/api/v1/users/1"]) == ["unique-id", "status", "headers", "body", "time"]
    assert got["/api/v1/slow-body/1"]["body"] == answers[0].body and len(answers[0].body) > 2000
    assert got["/api/v1/big/same"]["body"] == answers[1].body and len(answers[1].body) == 65536
    assert got["/api/v1/users/1"]["body"] == answers[2].body
    # the response time is the primary's headers, not its late body
    assert got["/api/v1/slow-body/1"]["time"] < 300


def test_trap_on_http_response_event_fires_before_wait_for_body(world):
    # Why the shipped files send the response message from the http-response
    # rules: the `on-http-response` event is evaluated before them, so before
    # `wait-for-body`, and a body that comes after the headers is missing.
    cfg, _, spoe_body = haproxy.compare_config_paths()
    spoe = variant(world, spoe_body, "event.conf", "    groups      mirror-response\n", "")
    spoe = variant(world, spoe, "event.conf", "\nspoe-group mirror-response\n    messages mirror-response\n", "\n")
    spoe = variant(world, spoe, "event.conf", "    messages    mirror-request\n",
                   "    messages    mirror-request mirror-response\n")
    with open(spoe, "a") as f:
        f.write("    event on-http-response if { var(txn.compare) -m bool }\n")
    cfg2 = variant(world, cfg, "event.cfg",
                   "    http-response send-spoe-group mirror mirror-response"
                   " if { var(txn.compare) -m bool }\n", "")
    rec, proxy = start(world, bodies=True, cfg=cfg2, spoe_conf=spoe)
    answers = get_all(proxy, ["/api/v1/slow-body/1"])
    (t,) = wait_transactions([rec], 1)
    body = t["args"]["mirror-response"]["body"]
    assert len(body) < len(answers[0].body), len(body)

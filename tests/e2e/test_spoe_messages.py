"""What the shipped configs make the real HAProxy send, seen by a stand-in
SPOP agent that records every NOTIFY (harness/spoa_recorder.py), and the two
traps of the seeds' examples reproduced on the same binary. Independent of
spoa-mirror itself."""

from harness import haproxy
from harness.client import Client


def variant(world, src, name, old, new):
    """A copy of a shipped file with one text replaced (which must exist)."""
    text = open(src).read()
    assert old in text, (src, old)
    path = "%s/%s" % (world.workdir, name)
    with open(path, "w") as f:
        f.write(text.replace(old, new))
    return path


def start_stack(world, cfg=None, spoe_conf=None, env=None):
    primary = world.primary()
    rec = world.recorder()
    proxy = world.haproxy(primary, [rec], spoe_conf=spoe_conf, cfg=cfg, env=env)
    return primary, rec, proxy


def send(proxy, targets, method="GET", body=None, headers=()):
    c = Client(proxy.port)
    try:
        for t in targets:
            r = c.request(method, t, headers=headers, body=body)
            assert r.status == 200 and r.header("x-backend") == "primary"
    finally:
        c.close()


def test_shipped_config_sends_method_pathq_version_headers_body_src(world):
    _, rec, proxy = start_stack(world)
    send(proxy, ["/api/v1/items?a=1&b=two%20words"], method="POST", body=b'{"k": 1}',
         headers=[("Content-Type", "application/json"), ("X-Custom", "Hello World")])
    msgs = rec.wait_messages(1)
    assert len(msgs) == 1
    name, args = msgs[0]
    assert name == "mirror-request"
    assert [a for a, _ in args] == ["method", "uri", "version", "headers", "body", "src"]
    a = dict(args)
    assert a["method"] == "POST"
    assert a["uri"] == "/api/v1/items?a=1&b=two%20words"
    assert a["version"] == "1.1"
    assert a["body"] == b'{"k": 1}'
    assert a["src"] == "127.0.0.1"
    # req.hdrs_bin: varint-length name/value pairs, names lowercased by HAProxy
    assert b"\x0ccontent-type\x10application/json" in a["headers"]
    assert b"\x08x-custom\x0bHello World" in a["headers"]
    assert a["headers"].endswith(b"\x00\x00")
    assert rec.errors() == []


def test_routes_v1_always_v2_about_half_v3_never(world):
    _, rec, proxy = start_stack(world)
    send(proxy, ["/api/v1/a"] * 20 + ["/api/v2/b"] * 200 + ["/api/v3/c"] * 20)
    msgs = rec.wait_messages(20 + 60)
    uris = [dict(args)["uri"] for _, args in msgs]
    assert uris.count("/api/v1/a") == 20
    assert 60 <= uris.count("/api/v2/b") <= 140  # binomial(200, .5): mean 100, sd 7
    assert uris.count("/api/v3/c") == 0


def test_seeds_uri_path_drops_the_query_string(world):
    _, spoe, _ = haproxy.config_paths()
    seeds = variant(world, spoe, "uri-path.conf", "uri=pathq", "uri=path")
    _, rec, proxy = start_stack(world, spoe_conf=seeds)
    send(proxy, ["/api/v1/search?q=shoes&page=2"])
    msgs = rec.wait_messages(1)
    assert [dict(args)["uri"] for _, args in msgs] == ["/api/v1/search"]


def test_trap_on_frontend_http_request_fires_before_the_rules_and_mirrors_nothing(world):
    _, spoe, _ = haproxy.config_paths()
    seeds = variant(world, spoe, "frontend-event.conf", "event on-backend-http-request",
                    "event on-frontend-http-request")
    _, rec, proxy = start_stack(world, spoe_conf=seeds)
    send(proxy, ["/api/v1/a?i=%d" % i for i in range(20)])
    assert rec.wait_messages(1, timeout=1.0) == []
    # The agent was reachable all along: HAProxy's health checks reached it.
    assert any("hello" in e for e in rec.events())


def test_trap_acl_rand50_never_matches(world):
    cfg, _, _ = haproxy.config_paths()
    seeds = variant(world, cfg, "rand50.cfg", "acl mirror_sample rand(100) lt 50",
                    "acl mirror_sample rand(50)")
    _, rec, proxy = start_stack(world, cfg=seeds)
    # Printed while parsing, before the listeners open: read from the start of
    # the log, which the request log lines that follow cannot push away (3.2
    # logs an SPOE line for every request, mirrored or not).
    startup = proxy.proc.startup()
    assert "no pattern to match against were provided, so this ACL will never match" in startup
    send(proxy, ["/api/v2/b"] * 100 + ["/api/v1/a"])
    msgs = rec.wait_messages(1)
    assert [dict(args)["uri"] for _, args in msgs] == ["/api/v1/a"]


def test_send_spoe_group_after_the_rules_also_works(world):
    # The other fix for the first trap: trigger the message explicitly from
    # the frontend once txn.mirror_enabled is known. The body has to be
    # buffered by the frontend then (without it, on 2.6.12, a POST with a
    # body was not mirrored at all).
    cfg, spoe, _ = haproxy.config_paths()
    group = variant(world, spoe, "group.conf",
                    "    event on-backend-http-request if { var(txn.mirror_enabled) -m bool }\n",
                    "\nspoe-group mirror-group\n    messages mirror-request\n")
    group = variant(world, group, "group.conf", "    messages    mirror-request\n",
                    "    groups      mirror-group\n")
    cfg2 = variant(world, cfg, "group.cfg",
                   "    http-request unset-var(txn.mirror_enabled) if body_too_large\n",
                   "    http-request unset-var(txn.mirror_enabled) if body_too_large\n"
                   "    http-request send-spoe-group mirror mirror-group"
                   " if { var(txn.mirror_enabled) -m bool }\n")
    cfg2 = variant(world, cfg2, "group.cfg", "frontend http_front\n",
                   "frontend http_front\n    option http-buffer-request\n")
    _, rec, proxy = start_stack(world, cfg=cfg2, spoe_conf=group)
    send(proxy, ["/api/v1/g?x=1"] * 5 + ["/api/v3/g"] * 5)
    send(proxy, ["/api/v1/g?post"], method="POST", body=b"b" * 5000)
    msgs = rec.wait_messages(6)
    assert [dict(args)["uri"] for _, args in msgs] == ["/api/v1/g?x=1"] * 5 + ["/api/v1/g?post"]
    assert dict(msgs[-1][1])["body"] == b"b" * 5000


def test_body_of_1mib_arrives_whole_and_larger_bodies_are_not_mirrored(world):
    _, rec, proxy = start_stack(world)
    mib = bytes(range(256)) * 4096
    send(proxy, ["/api/v1/upload?size=1m"], method="POST", body=mib)
    send(proxy, ["/api/v1/upload?size=1m+1"], method="POST", body=mib + b"x")
    send(proxy, ["/api/v1/after"])
    msgs = rec.wait_messages(2)
    got = {dict(args)["uri"]: dict(args)["body"] for _, args in msgs}
    assert sorted(got) == ["/api/v1/after", "/api/v1/upload?size=1m"]
    assert got["/api/v1/upload?size=1m"] == mib


def test_small_bufsize_hands_the_agent_a_cut_body_without_any_flag(world):
    # Why the agent must compare the body with Content-Length itself.
    _, rec, proxy = start_stack(world, env={"HAPROXY_BUFSIZE": "16384"})
    body = b"z" * 32768
    send(proxy, ["/api/v1/cut"], method="POST", body=body)
    msgs = rec.wait_messages(1)
    assert len(msgs) == 1
    a = dict(msgs[0][1])
    assert 8000 < len(a["body"]) < 16384
    assert b"\x0econtent-length\x0532768" in a["headers"]


def test_args_variant_sends_the_incumbents_message_and_argument_names(world):
    _, _, spoe_args = haproxy.config_paths()
    _, rec, proxy = start_stack(world, spoe_conf=spoe_args)
    send(proxy, ["/api/v1/legacy?x=1"], method="PUT", body=b"abc")
    msgs = rec.wait_messages(1)
    assert len(msgs) == 1
    name, args = msgs[0]
    assert name == "mirror"
    assert [a for a, _ in args] == ["arg_method", "arg_path", "arg_ver", "arg_hdrs", "arg_body"]
    a = dict(args)
    assert (a["arg_method"], a["arg_path"], a["arg_ver"], a["arg_body"]) == (
        "PUT", "/api/v1/legacy?x=1", "1.1", b"abc")

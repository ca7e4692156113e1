"""Several shadow targets in one agent: [target NAME] sections of the INI
file with their own sample percentages and headers, and -u given twice."""

from harness.client import Client


def send_sequential(proxy, targets):
    c = Client(proxy.port)
    try:
        for t in targets:
            assert c.get(t).status == 200
    finally:
        c.close()


def header_values(req, name):
    return [v for n, v in req["headers"] if n.lower() == name]


def test_ini_targets_sample_independently(world):
    primary = world.primary()
    full, half, tenth = world.shadow("full"), world.shadow("half"), world.shadow("tenth")
    ini = world.ini("targets", targets=[
        ("full", {"url": full.url, "sample": "100", "add-headers": "X-Target: full"}),
        ("half", {"url": half.url, "sample": "50", "add-headers": "X-Target: half"}),
        ("tenth", {"url": tenth.url, "sample": "10"}),
    ])
    agent = world.agent(ini=ini)
    proxy = world.haproxy(primary, [agent])

    n = 600
    send_sequential(proxy, ["/api/v1/multi?i=%d" % i for i in range(n)])
    assert full.wait_count("/api/v1/multi?", n) == n
    got_half = half.wait_count("/api/v1/multi?", 240, settle=1.0)
    got_tenth = tenth.wait_count("/api/v1/multi?", 25, settle=0.5)
    # binomial(600, .5): sd 12.2; binomial(600, .1): sd 7.3 -> about +-4.8 sd
    assert 240 <= got_half <= 360, got_half
    assert 25 <= got_tenth <= 95, got_tenth

    assert {tuple(header_values(r, "x-target")) for r in full.requests()} == {("full",)}
    assert {tuple(header_values(r, "x-target")) for r in half.requests()} == {("half",)}
    assert {tuple(header_values(r, "x-target")) for r in tenth.requests()} == {()}

    m = agent.metrics()
    assert m.targets() == ["full", "half", "tenth"]
    for name, got in (("full", n), ("half", got_half), ("tenth", got_tenth)):
        assert m.sum("spoa_mirror_target_received_total", target=name) == n
        assert m.sum("spoa_mirror_target_mirrored_total", target=name) == got
        assert m.sum("spoa_mirror_target_sampled_out_total", target=name) == n - got


def test_two_urls_on_the_command_line_both_get_every_request(world):
    primary = world.primary()
    one, two = world.shadow("one"), world.shadow("two")
    agent = world.agent(urls=[one.url, two.url])
    proxy = world.haproxy(primary, [agent])
    targets = ["/api/v1/two-urls?i=%d" % i for i in range(100)]
    send_sequential(proxy, targets)
    for shadow in (one, two):
        assert shadow.wait_count("/api/v1/two-urls?", 100) == 100
        assert sorted(r["target"] for r in shadow.requests()) == sorted(targets)

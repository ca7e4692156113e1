"""The shipped HAProxy and SPOE files: chosen by HAProxy version, accepted by
`haproxy -c` without a warning, and the 3.1+ family (no 3.1 binary here)
kept in step with the checked 2.x family line by line."""

import difflib
import os
import re

import pytest

from harness import haproxy

CHECK_ENV = {
    "ADMIN_SOCKET": "/tmp/spoa-mirror-e2e-check.sock",
}


def directives(path):
    """Non-comment, non-blank lines with whitespace collapsed."""
    out = []
    with open(path) as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line:
                out.append(" ".join(line.split()))
    return out


@pytest.mark.parametrize("text,expected", [
    ("HAProxy version 2.6.12-1+deb12u4 2026/10/17 - https://haproxy.org/", (2, 6, "2.x")),
    ("HA-Proxy version 2.0.33-1 2023/09/01", (2, 0, "2.x")),
    ("HAProxy version 3.0.11-8e3d6e1 2025/06/03", (3, 0, "2.x")),
    ("HAProxy version 3.1.0 2024/11/26", (3, 1, "3.1")),
    ("HAProxy version 3.4-dev2-ab12cd 2026/01/01", (3, 4, "3.1")),
])
def test_config_family_follows_haproxy_version(text, expected):
    major, minor, _ = haproxy.parse_version(text)
    assert (major, minor, haproxy.family_for(major, minor)) == expected


def test_version_output_without_version_is_an_error():
    with pytest.raises(ValueError):
        haproxy.parse_version("sh: haproxy: not found")


def test_selected_binary_reports_a_known_family():
    major, minor, full = haproxy.version()
    fam = haproxy.family_for(major, minor)
    for path in haproxy.config_paths(fam):
        assert os.path.isfile(path), path
    print("HAProxy %s at %s -> config family %s" % (full, haproxy.binary(), fam))


@pytest.mark.parametrize("variant", ["default", "args"])
def test_shipped_configs_pass_haproxy_check_without_warnings(variant):
    cfg, spoe, spoe_args = haproxy.config_paths()
    env = dict(CHECK_ENV, SPOE_CONF=spoe if variant == "default" else spoe_args)
    ok, out = haproxy.check_config(cfg, env)
    assert ok, out
    assert haproxy.check_problems(out) == [], out


def test_haproxy_check_rejects_the_seeds_rand50_with_a_warning(tmp_path):
    # The same check that passes the shipped file flags the seeds' ACL.
    cfg, spoe, _ = haproxy.config_paths()
    text = open(cfg).read()
    assert "rand(100) lt 50" in text
    bad = tmp_path / "rand50.cfg"
    bad.write_text(text.replace("rand(100) lt 50", "rand(50)"))
    ok, out = haproxy.check_config(str(bad), dict(CHECK_ENV, SPOE_CONF=spoe))
    assert ok, out  # valid, but...
    problems = haproxy.check_problems(out)
    assert len(problems) == 1 and "parsing acl keyword 'rand(50)'" in problems[0], out
    assert "never match" in out, out


def test_3_1_haproxy_config_differs_from_2_x_only_in_spoe_file_and_backend_mode():
    old = directives(os.path.join(haproxy.REPO, haproxy.FAMILIES["2.x"][0]))
    new = directives(os.path.join(haproxy.REPO, haproxy.FAMILIES["3.1"][0]))
    assert len(old) == len(new)
    changed = [(a, b) for a, b in zip(old, new) if a != b]
    assert changed == [
        ("presetenv SPOE_CONF /etc/haproxy/spoe-mirror-2.x.conf",
         "presetenv SPOE_CONF /etc/haproxy/spoe-mirror-3.1.conf"),
        ("mode tcp", "mode spop"),
        ("timeout server 3m", "timeout server 2m"),
    ]


DEPRECATED_IN_3_1 = ("option async", "option send-frag-payload", "max-waiting-frames",
                     "maxconnrate", "maxerrrate", "timeout hello", "timeout idle")


@pytest.mark.parametrize("name", ["spoe-mirror", "spoe-mirror-args"])
def test_3_1_spoe_file_is_the_2_x_file_without_deprecated_keywords(name):
    old = directives(os.path.join(haproxy.REPO, "spoe-conf", name + "-2.x.conf"))
    new = directives(os.path.join(haproxy.REPO, "spoe-conf", name + "-3.1.conf"))
    assert not [d for d in new if d.startswith(DEPRECATED_IN_3_1)]
    assert [d for d in old if not d.startswith(DEPRECATED_IN_3_1)] == new


@pytest.mark.parametrize("fam", sorted(haproxy.FAMILIES))
def test_spoe_files_send_the_query_and_fire_after_the_frontend_rules(fam):
    _, spoe, spoe_args = haproxy.config_paths(fam)
    for path in (spoe, spoe_args):
        lines = directives(path)
        args = [d for d in lines if d.startswith("args ")]
        assert len(args) == 1
        assert re.search(r"\b(uri|arg_path)=pathq\b", args[0]), args[0]
        assert "on-frontend-http-request" not in " ".join(lines)
        assert "event on-backend-http-request if { var(txn.mirror_enabled) -m bool }" in lines
        assert "timeout processing 200ms" in lines


def test_args_variant_uses_the_incumbents_names():
    _, _, spoe_args = haproxy.config_paths("2.x")
    lines = directives(spoe_args)
    assert "spoe-message mirror" in lines
    assert ("args arg_method=method arg_path=pathq arg_ver=req.ver arg_hdrs=req.hdrs_bin "
            "arg_body=req.body") in lines


def test_running_haproxy_uses_the_family_for_its_version(world):
    # What the harness started, asked from the running process: the agents'
    # backend is `mode spop` from 3.1 on and `mode tcp` before, so a wrong
    # family choice shows here even where the other family's files would load.
    major, minor, full = haproxy.version()
    fam = haproxy.family_for(major, minor)
    proxy = world.haproxy(world.primary(), [world.recorder()])
    assert proxy.proc.argv[-1] == haproxy.config_paths(fam)[0]
    rows = [r for r in proxy.stats() if (r["pxname"], r["svname"]) == ("spoa-mirror", "BACKEND")]
    assert [r["mode"] for r in rows] == ["spop" if fam == "3.1" else "tcp"], (full, rows)


# ---- the shadow-verdict files (haproxy-compare-*.cfg, spoe-mirror-compare*-*.conf)

def diff_directives(a, b):
    """(removed, added) directives from file a to file b, in order."""
    old, new = directives(a), directives(b)
    removed, added = [], []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=old, b=new,
                                                      autojunk=False).get_opcodes():
        if tag != "equal":
            removed += old[i1:i2]
            added += new[j1:j2]
    return removed, added


def repo(path):
    return os.path.join(haproxy.REPO, path)


@pytest.mark.parametrize("bodies", [False, True], ids=["status-headers", "bodies"])
def test_compare_configs_pass_haproxy_check_without_warnings(bodies):
    cfg, _, _ = haproxy.compare_config_paths()
    env = dict(CHECK_ENV, **haproxy.compare_env(bodies))
    ok, out = haproxy.check_config(cfg, env)
    assert ok, out
    assert haproxy.check_problems(out) == [], out


@pytest.mark.parametrize("bodies", [False, True], ids=["status-headers", "bodies"])
def test_compare_config_picks_its_spoe_file_from_compare_bodies(bodies):
    # Without SPOE_CONF, COMPARE_BODIES alone picks the SPOE file in
    # /etc/haproxy: HAProxy's alert that it cannot open it names which.
    cfg, _, _ = haproxy.compare_config_paths()
    expected = "/etc/haproxy/spoe-mirror-compare-%s%s.conf" % ("body-" if bodies else "",
                                                              haproxy.family())
    ok, out = haproxy.check_config(cfg, dict(CHECK_ENV, COMPARE_BODIES="yes" if bodies else "no"))
    assert expected in out or (ok and os.path.exists(expected)), out


@pytest.mark.parametrize("fam", sorted(haproxy.COMPARE_FAMILIES))
def test_compare_haproxy_config_is_the_plain_one_plus_verdicts(fam):
    plain = repo(haproxy.FAMILIES[fam][0])
    cfg, _, _ = haproxy.compare_config_paths(fam)
    removed, added = diff_directives(plain, cfg)
    mirrored = "if { var(txn.mirror_enabled) -m bool }"
    compared = "if { var(txn.compare) -m bool }"
    timer = (['http-response set-var-fmt(txn.primary_tr) "%%Tr" %s' % compared]
             if fam == "2.x" else [])
    assert removed == [
        "presetenv SPOE_CONF /etc/haproxy/spoe-mirror-%s.conf" % fam,
        'server agent1 "${AGENT1_ADDR}" check inter 1s fall 2 rise 2',
        'server agent2 "${AGENT2_ADDR}" check inter 1s fall 2 rise 2',
    ]
    assert added == [
        "presetenv COMPARE_BODIES no",
        "presetenv COMPARE_BODY_WAIT 1s",
        "presetenv COMPARE_PERCENT 100",
        '.if streq("$COMPARE_BODIES",yes)',
        "presetenv SPOE_CONF /etc/haproxy/spoe-mirror-compare-body-%s.conf" % fam,
        ".else",
        "presetenv SPOE_CONF /etc/haproxy/spoe-mirror-compare-%s.conf" % fam,
        ".endif",
        r"unique-id-format %{+X}o\ %ci:%cp_%fi:%fp_%Ts_%rt:%pid",
        # a share of the mirrored requests is compared, the request message
        # says which; the answer goes only for those
        "http-request set-var(txn.compare) bool(true) if { var(txn.mirror_enabled) -m bool } "
        '{ rand(100) lt "${COMPARE_PERCENT}" }',
    ] + timer + [
        # wait-for-body only where bodies are compared, and before the
        # message: the message carries what is buffered when it is sent
        '.if streq("$COMPARE_BODIES",yes)',
        'http-response wait-for-body time "${COMPARE_BODY_WAIT}" ' + compared,
        ".endif",
        "http-response send-spoe-group mirror mirror-response " + compared,
        # one active agent: both messages of a transaction reach it
        'server agent1 "${AGENT1_ADDR}" check inter 1s fall 2 rise 2'
        " on-marked-up shutdown-backup-sessions",
        'server agent2 "${AGENT2_ADDR}" check inter 1s fall 2 rise 2 backup',
    ]


def test_compare_3_1_haproxy_config_differs_from_2_x_only_where_the_plain_ones_do():
    removed, added = diff_directives(repo(haproxy.COMPARE_FAMILIES["2.x"][0]),
                                     repo(haproxy.COMPARE_FAMILIES["3.1"][0]))
    assert removed == [
        "presetenv SPOE_CONF /etc/haproxy/spoe-mirror-compare-body-2.x.conf",
        "presetenv SPOE_CONF /etc/haproxy/spoe-mirror-compare-2.x.conf",
        # 3.1 has the response time as a fetch (res.timer.hdr, 2.9+)
        'http-response set-var-fmt(txn.primary_tr) "%Tr" if { var(txn.compare) -m bool }',
        "mode tcp",
        "timeout server 3m",
    ]
    assert added == [
        "presetenv SPOE_CONF /etc/haproxy/spoe-mirror-compare-body-3.1.conf",
        "presetenv SPOE_CONF /etc/haproxy/spoe-mirror-compare-3.1.conf",
        "mode spop",
        "timeout server 2m",
    ]


RESPONSE_ARGS = {"2.x": "time=var(txn.primary_tr),add(0)", "3.1": "time=res.timer.hdr"}


@pytest.mark.parametrize("fam", sorted(haproxy.COMPARE_FAMILIES))
def test_compare_spoe_file_is_the_plain_one_plus_id_and_response_group(fam):
    plain = repo(haproxy.FAMILIES[fam][1])
    _, spoe, _ = haproxy.compare_config_paths(fam)
    removed, added = diff_directives(plain, spoe)
    req = "method=method uri=pathq version=req.ver headers=req.hdrs_bin body=req.body src=src"
    assert removed == ["args " + req]
    assert added == [
        "groups mirror-response",
        "args unique-id=unique-id " + req + " compare=var(txn.compare)",
        "spoe-group mirror-response",
        "messages mirror-response",
        "spoe-message mirror-response",
        "args unique-id=unique-id status=status headers=res.hdrs_bin " + RESPONSE_ARGS[fam],
    ]
    # sent from the http-response rules, never on the event that fires
    # before wait-for-body
    assert "on-http-response" not in " ".join(directives(spoe))


@pytest.mark.parametrize("fam", sorted(haproxy.COMPARE_FAMILIES))
def test_compare_body_spoe_file_only_adds_the_body(fam):
    _, spoe, spoe_body = haproxy.compare_config_paths(fam)
    removed, added = diff_directives(spoe, spoe_body)
    args = "args unique-id=unique-id status=status headers=res.hdrs_bin "
    assert removed == [args + RESPONSE_ARGS[fam]]
    assert added == [args + "body=res.body " + RESPONSE_ARGS[fam]]


def test_compare_3_1_spoe_files_are_the_2_x_ones_without_deprecated_keywords():
    for old, new in zip(haproxy.COMPARE_FAMILIES["2.x"][1:], haproxy.COMPARE_FAMILIES["3.1"][1:]):
        removed, added = diff_directives(repo(old), repo(new))
        assert [d for d in removed if not d.startswith(DEPRECATED_IN_3_1)] == \
            [d for d in removed if "args unique-id=unique-id status=status" in d]
        assert len(added) == 1 and added[0].endswith(RESPONSE_ARGS["3.1"])

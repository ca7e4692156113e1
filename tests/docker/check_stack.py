#!/usr/bin/python3
"""Checks what tests/docker/run collected from the compose stack: the client's
answers from the primary, the shadow's record of every request it got (bytes
and headers), and both agents' /metrics. Prints one line per check; exits 1
on the first that fails."""

import argparse
import base64
import hashlib
import json
import os
import re
import sys

METRIC = re.compile(r'^([a-z_]+)(\{[^}]*\})? (\S+)$')


def ok(what):
    print("   ok: " + what)


def fail(what):
    print("check_stack: FAILED: " + what, file=sys.stderr)
    sys.exit(1)


def expect(cond, what):
    if not cond:
        fail(what)
    ok(what)


def metrics(path):
    """name{labels} -> value, every sample of a Prometheus text page."""
    out = {}
    for line in open(path):
        m = METRIC.match(line.strip())
        if m:
            out[m.group(1) + (m.group(2) or "")] = float(m.group(3))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", required=True)
    ap.add_argument("--post-body", required=True)
    args = ap.parse_args()
    w = lambda name: os.path.join(args.work, name)
    post = open(args.post_body, "rb").read()
    put = open(w("put-body.bin"), "rb").read()
    sent = [("GET", "/api/v1/users?id=1&name=a%20b", b"", None, "get.out"),
            ("POST", "/api/v1/orders", post, "application/json", "post.out"),
            ("PUT", "/api/v1/blobs/7", put, "application/octet-stream", "put.out")]

    for method, target, body, _, out in sent:
        doc = json.load(open(w(out)))
        expect(doc["backend"] == "primary" and doc["method"] == method and doc["target"] == target
               and doc["body_len"] == len(body)
               and doc["body_sha256"] == hashlib.sha256(body).hexdigest(),
               "client got the primary's answer to %s %s (%d body bytes)" % (method, target, len(body)))
    v3 = json.load(open(w("v3.out")))
    expect(v3["target"] == "/api/v3/never-mirrored", "client got the primary's answer to /api/v3")

    records = [json.loads(line) for line in open(w("shadow.jsonl"))]
    api = [r for r in records if r["target"].startswith("/api/")]
    expect(len(api) == 3, "shadow got 3 /api requests (got %d: %s)"
           % (len(api), [(r["method"], r["target"]) for r in api]))
    for method, target, body, ctype, _ in sent:
        got = [r for r in api if r["method"] == method]
        expect(len(got) == 1 and got[0]["target"] == target,
               "shadow got %s %s once, query intact" % (method, target))
        r = got[0]
        expect(base64.b64decode(r["body_b64"]) == body,
               "shadow's %s body is the client's, byte for byte (%d bytes)" % (method, len(body)))
        headers = {}
        for name, value in r["headers"]:
            headers.setdefault(name.lower(), value)
        expect(headers.get("x-mirror") == "true" and headers.get("x-shadow-version") == "v2"
               and headers.get("host") == "backend-shadow:8080"
               and headers.get("x-forwarded-host") == "127.0.0.1:10005"
               and (ctype is None or headers.get("content-type") == ctype),
               "shadow's %s headers: the target's Host, X-Forwarded-Host, X-Mirror, "
               "X-Shadow-Version%s" % (method, ", Content-Type" if ctype else ""))

    pages = [metrics(w("metrics-%d.txt" % n)) for n in (1, 2)]
    for n, m in enumerate(pages, 1):
        expect(m.get("spoa_mirror_up") == 1 and m.get("spoa_mirror_accepting") == 1
               and m.get("spoa_mirror_workers_alive") == m.get("spoa_mirror_workers_configured"),
               "agent %d up, accepting, every worker alive" % n)
        t = lambda name: m.get('spoa_mirror_target_%s{target="default"}' % name, 0)
        expect(t("received_total") == t("mirrored_total") + t("failed_total") + t("dropped_total")
               + t("sampled_out_total") + t("inflight") and t("inflight") == 0,
               "agent %d: received %d = mirrored %d + failed + dropped + sampled out + in flight 0"
               % (n, t("received_total"), t("mirrored_total")))
        expect(m.get("spoa_mirror_notify_total") == m.get("spoa_mirror_ack_total"),
               "agent %d: every NOTIFY ACKed (%d)" % (n, m.get("spoa_mirror_notify_total", 0)))
    total = lambda key: sum(m.get(key, 0) for m in pages)
    expect(total("spoa_mirror_notify_total") == 3 and total("spoa_mirror_ack_total") == 3,
           "agents together: 3 NOTIFY, 3 ACK (the /api/v3 request sent none)")
    expect(total('spoa_mirror_target_received_total{target="default"}') == 3
           and total('spoa_mirror_target_mirrored_total{target="default"}') == 3
           and total('spoa_mirror_target_responses_total{target="default",class="2xx"}') == 3,
           "agents together: target received 3, mirrored 3, shadow answered 2xx 3 times")


if __name__ == "__main__":
    main()

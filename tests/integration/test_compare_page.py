"""/compare.html in a real browser: headless Chromium (Debian's `chromium`)
loads the page rendered from a known report (compare_page_fixture.c) over
HTTP on 127.0.0.1 and the rendered DOM must show exactly the report's
targets, verdict counts and endpoints, with no script error (the page sets
data-ready="1" on <body> only once it has drawn everything, data-error on
failure) and no markup injected from a path holding </script>. With
chromedriver, the Refresh button is clicked and must redraw from /compare.

Skips loudly (exit 77 for `make check`, by conftest.py) when chromium is
not installed:
apt-get install chromium (scripts/install-deps test)."""
import http.server
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from html.parser import HTMLParser

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from bench_helpers import AGENT, BUILD  # noqa: E402

FIXTURE = os.path.join(BUILD, "tests", "integration", "compare_page_fixture")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")

if not CHROMIUM:
    sys.stderr.write("\n*** test_compare_page SKIPPED: no chromium on this machine; "
                     "install it (apt-get install chromium, or scripts/install-deps test) "
                     "to test /compare.html in a browser ***\n\n")
    # every test skipped: conftest.py makes the session exit 77 (SKIP)
    pytest.skip("chromium not installed", allow_module_level=True)
if not os.access(FIXTURE, os.X_OK):
    pytest.skip("tests/integration/compare_page_fixture not built (make check builds it)",
                allow_module_level=True)

RESULTS = ["match", "status", "headers", "body", "shadow_error", "not_comparable"]
EVIL = "GET /a</script><script>document.body.dataset.pwned=1</script>"


def fixture(what):
    return subprocess.run([FIXTURE, what], check=True, capture_output=True, timeout=10).stdout


class Pages(http.server.BaseHTTPRequestHandler):
    """/compare.html and /compare, as the agent's metrics listener serves them."""
    bodies = {}

    def do_GET(self):
        body = self.bodies.get(self.path.split("?")[0])
        if body is None:
            self.send_error(404)
            return
        ctype, data = body
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    Pages.bodies = {
        "/compare.html": ("text/html; charset=utf-8", fixture("html")),
        "/compare": ("application/json", fixture("json")),
    }
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Pages)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield "http://127.0.0.1:%d" % srv.server_address[1]
    srv.shutdown()
    srv.server_close()


class Dom(HTMLParser):
    """What the drawn page shows: <body>'s attributes, then per target
    section its name, legend counts and endpoint rows."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.body = {}
        self.targets = []
        self.stack = []  # (tag, classes, attrs)
        self.scripts = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        cls = (a.get("class") or "").split()
        if tag == "body":
            self.body = a
        if tag == "script":
            self.scripts += 1
        if tag == "section" and "target" in cls:
            self.targets.append({"attr": a.get("data-target"), "name": "", "totals": {},
                                 "endpoints": []})
        if tag == "tr" and "endpoint" in cls and self.targets:
            self.targets[-1]["endpoints"].append({"name": "", "differences": "",
                                                  "by_result": {}, "last": ""})
        if tag not in ("br", "meta"):  # void: no end tag
            self.stack.append((tag, cls, a))

    def handle_endtag(self, tag):
        if any(t == tag for t, _, _ in self.stack):
            while self.stack.pop()[0] != tag:
                pass

    def inside(self, tag=None, cls=None):
        for t, c, a in reversed(self.stack):
            if (tag is None or t == tag) and (cls is None or cls in c):
                return (t, c, a)
        return None

    def handle_data(self, data):
        if not self.targets or not self.stack:
            return
        t = self.targets[-1]
        tag, cls, attrs = self.stack[-1]
        if tag == "h2" and "name" in cls:
            t["name"] += data
        elif tag == "b" and "count" in cls:
            item = self.inside("span", "total")
            t["totals"][item[2]["data-result"]] = data
        elif self.inside("tr", "endpoint"):
            e = t["endpoints"][-1]
            if tag == "td" and "name" in cls:
                e["name"] += data
            elif tag == "td" and "differences" in cls:
                e["differences"] += data
            elif tag == "td" and "data-result" in attrs:
                e["by_result"][attrs["data-result"]] = data
            elif self.inside("details"):
                e["last"] += data


def expected(report):
    """The same shape from /compare's JSON, numbers as the page spells them."""
    out = []
    for t in report["targets"]:
        out.append({
            "attr": t["name"], "name": t["name"],
            "totals": {r: format(t["totals"][r], ",") for r in RESULTS},
            "endpoints": [{"name": e["endpoint"], "differences": format(e["differences"], ","),
                           "by_result": {r: format(e["by_result"][r], ",") for r in RESULTS}}
                          for e in t["endpoints"]],
        })
    return out


def shown(dom):
    return [{**t, "endpoints": [{k: v for k, v in e.items() if k != "last"}
                                for e in t["endpoints"]]} for t in dom.targets]


def dump_dom(url, tmp_path):
    """The DOM headless Chromium drew from url, and Chromium's stderr (where
    console messages and uncaught errors go with --enable-logging)."""
    proc = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--user-data-dir=" + str(tmp_path / "profile"), "--enable-logging=stderr", "--v=0",
         "--virtual-time-budget=10000", "--dump-dom", url],
        capture_output=True, timeout=90, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    dom = Dom()
    dom.feed(proc.stdout)
    return dom, proc


def test_page_draws_the_report_in_chromium(server, tmp_path):
    dom, proc = dump_dom(server + "/compare.html", tmp_path)
    # drawn, without any script error
    assert dom.body.get("data-ready") == "1", (dom.body, proc.stderr[-2000:])
    assert "data-error" not in dom.body
    assert "Uncaught" not in proc.stderr, proc.stderr[-2000:]
    # the path holding </script> stayed text: no script of its own ran
    assert "data-pwned" not in dom.body
    assert dom.scripts == 2
    report = json.loads(fixture("json"))
    assert shown(dom) == expected(report)
    # and those are the numbers planted by the fixture
    v2, canary = dom.targets
    assert v2["name"] == "v2" and canary["name"] == "canary-\u00e9"
    assert v2["totals"] == {"match": "15", "status": "3", "headers": "0", "body": "2",
                            "shadow_error": "1", "not_comparable": "0"}
    assert [(e["name"], e["differences"]) for e in v2["endpoints"]] == [
        ("GET /users/{id}", "3"), ("POST /orders", "2"), ("GET /slow", "0"),
        ("GET /health", "0")]
    assert [e["name"] for e in canary["endpoints"]] == [EVIL]
    # the last example, expandable, names the last differing request
    assert "req-3" in v2["endpoints"][0]["last"]
    assert "/total" in v2["endpoints"][1]["last"]
    assert "<!--" in canary["endpoints"][0]["last"]
    assert "Cache-Control" in canary["endpoints"][0]["last"]


class WebDriver:
    """The few W3C WebDriver calls the refresh test needs, over HTTP."""

    def __init__(self, port):
        self.base = "http://127.0.0.1:%d" % port
        self.session = None

    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=60) as r:
            return json.loads(r.read())["value"]

    def start(self, profile):
        caps = {"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": "/usr/lib/chromium/chromium", "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--user-data-dir=" + profile]}}}}
        if not os.path.exists(caps["capabilities"]["alwaysMatch"]["goog:chromeOptions"]["binary"]):
            del caps["capabilities"]["alwaysMatch"]["goog:chromeOptions"]["binary"]
        self.session = self.call("POST", "/session", caps)["sessionId"]

    def s(self, method, path, body=None):
        return self.call(method, "/session/%s%s" % (self.session, path), body)

    def js(self, script):
        return self.s("POST", "/execute/sync", {"script": script, "args": []})

    def wait(self, what, script, timeout=20.0):
        deadline = time.monotonic() + timeout
        while True:
            v = self.js(script)
            if v:
                return v
            if time.monotonic() > deadline:
                raise AssertionError("timed out waiting for " + what)
            time.sleep(0.05)


def http_get(port, path):
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=10) as r:
        return r.status, r.headers["Content-Type"], r.read()


@pytest.mark.skipif(not os.access(AGENT, os.X_OK), reason="src/spoa-mirror not built")
def test_the_agent_serves_both_routes(tmp_path):
    """The real agent's metrics listener: /compare and /compare.html answer
    (no verdict yet: an empty report, drawn as such)."""
    metrics = free_port()
    agent = subprocess.Popen(
        [AGENT, "-a", "127.0.0.1", "-p", str(free_port()), "-u", "http://127.0.0.1:9/",
         "--metrics", "127.0.0.1:%d" % metrics],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                if http_get(metrics, "/readyz")[0] == 200:
                    break
            except OSError:
                pass
            assert agent.poll() is None, agent.stderr.read()
            assert time.monotonic() < deadline, "the agent did not get ready"
            time.sleep(0.05)
        status, ctype, body = http_get(metrics, "/compare")
        assert (status, ctype) == (200, "application/json")
        assert json.loads(body)["targets"] == []
        status, ctype, body = http_get(metrics, "/compare.html")
        assert (status, ctype) == (200, "text/html; charset=utf-8")
        dom, proc = dump_dom("http://127.0.0.1:%d/compare.html" % metrics, tmp_path)
        assert dom.body.get("data-ready") == "1", proc.stderr[-2000:]
        assert dom.targets == []
    finally:
        agent.terminate()
        agent.wait(timeout=10)


def free_port():
    """A free TCP port on 127.0.0.1 for chromedriver (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.skipif(not CHROMEDRIVER, reason="no chromedriver (Debian: chromium-driver)")
def test_refresh_button_redraws_from_compare(server, tmp_path):
    port = free_port()
    driver = subprocess.Popen([CHROMEDRIVER, "--port=%d" % port],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wd = WebDriver(port)
        deadline = time.monotonic() + 20
        while True:
            try:
                wd.call("GET", "/status")
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        wd.start(str(tmp_path / "profile"))
        try:
            wd.s("POST", "/url", {"url": server + "/compare.html"})
            wd.wait("the first drawing", "return document.body.dataset.ready === '1';")
            count = ("const c = document.querySelector("
                     "'section.target .total[data-result=status] .count'); ")
            assert wd.js(count + "return c && c.textContent;") == "3"
            # more verdicts arrive; the button fetches /compare and redraws
            Pages.bodies["/compare"] = ("application/json", fixture("json2"))
            button = wd.s("POST", "/element", {"using": "css selector", "value": "#refresh"})
            wd.s("POST", "/element/%s/click" % next(iter(button.values())), {})
            wd.wait("the redrawing", count + "return c && c.textContent === '7';")
            assert wd.js("return [...document.querySelectorAll('section.target tr.endpoint "
                         "td.differences')].map(e => e.textContent);") == \
                ["7", "2", "0", "0", "1"]
            # no script error, caught or not (the page's error handler marks <body>)
            assert wd.js("return document.body.dataset.error || null;") is None
            assert wd.js("return document.body.dataset.pwned || null;") is None
        finally:
            wd.s("DELETE", "")
    finally:
        driver.terminate()
        driver.wait(timeout=10)

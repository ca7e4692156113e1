"""spoa-mirror --check-config as an operator runs it: the effective
configuration as INI on stdout and exit 0; saved and fed back with -f it
prints the same text; a value INI cannot hold, or an invalid configuration,
exits 2 with one line on stderr and nothing on stdout. No network."""
import os
import subprocess

import pytest

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
# out-of-tree builds: BUILD_DIR=/path/to/build pytest ...
BUILD = os.environ.get("BUILD_DIR", TOP)
AGENT = os.environ.get("SPOA_MIRROR", os.path.join(BUILD, "src", "spoa-mirror"))
EXAMPLE = os.path.join(TOP, "doc", "spoa-mirror.ini.example")
SEED = os.path.join(TOP, "tests", "fixtures", "seed-spoa-mirror.conf")

pytestmark = pytest.mark.skipif(not os.access(AGENT, os.X_OK),
                                reason="src/spoa-mirror not built")


def run(*args):
    return subprocess.run([AGENT] + list(args), capture_output=True, text=True, timeout=30)


def keys_by_section(text):
    """[(section, key)] in file order, as ini.c reads them."""
    out, section = [], None
    for line in text.splitlines():
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            section = " ".join(line.strip("[]").split())
            continue
        out.append((section, line.split("=", 1)[0].strip()))
    return out


CONFIGS = {
    "example": ["-f", EXAMPLE],
    "seed": ["-f", SEED],
    "overrides": ["-f", EXAMPLE, "-u", "http://127.0.0.1:1/a", "-u", "http://127.0.0.1:2",
                  "--mirror-header", "X-Mirror: cli", "--mirror-header", "Accept: a, b",
                  "-n", "3", "--queue-max-bytes", "8m", "-F", " /tmp/spoa mirror.pid"],
}


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_output_fed_back_with_f_prints_the_same(tmp_path, name):
    first = run(*CONFIGS[name], "--check-config")
    assert first.returncode == 0, first.stderr
    assert first.stderr == ""
    assert first.stdout.startswith("[mirror]\n")
    saved = tmp_path / "effective.ini"
    saved.write_text(first.stdout)
    second = run("-f", str(saved), "--check-config")
    assert second.returncode == 0, second.stderr
    assert second.stdout == first.stdout


def test_example_output_has_the_example_keys_in_its_order():
    out = run("-f", EXAMPLE, "--check-config")
    assert out.returncode == 0, out.stderr
    with open(EXAMPLE) as f:
        assert keys_by_section(out.stdout) == keys_by_section(f.read())


def test_overrides_show_in_the_output():
    out = run(*CONFIGS["overrides"], "--check-config")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    for want in ("workers = 3", "queue-max-bytes = 8m", "mirror-url =",
                 "mirror-headers = X-Mirror: cli, Accept: a\\, b",
                 'pidfile = " /tmp/spoa mirror.pid"', "[target v2-canary]",
                 "[target u1]", "url = http://127.0.0.1:1/a", "[target u2]"):
        assert want in lines, want


def test_line_break_in_a_value_exits_2_with_one_line():
    out = run("-u", "http://127.0.0.1:1", "-F", "/run/a\nb.pid", "--check-config")
    assert out.returncode == 2
    assert out.stdout == ""
    assert out.stderr == ("spoa-mirror: --check-config: cannot write the configuration: "
                          "[mirror] key 'pidfile': value '/run/a?b.pid' has a line break, "
                          "which an INI file cannot hold\n")


def test_invalid_configuration_exits_2_with_one_line():
    out = run("--check-config", "-u", "http://127.0.0.1:1", "--queue-max-bytes", "8q")
    assert out.returncode == 2
    assert out.stdout == ""
    assert out.stderr.count("\n") == 1
    assert out.stderr.startswith("spoa-mirror: option '--queue-max-bytes': bad value '8q'")

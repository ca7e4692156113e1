"""docker/ without a Docker engine: the compose file parses, every file it
and the Dockerfile use exists, and its HAProxy runs the very HAProxy and SPOE
files this suite runs, with only the addresses changed through the
environment variables the config declares with `presetenv`. The image and the
running stack are tested by tests/docker/run (scripts/test-all stage 7)."""

import os
import re
import shlex
import subprocess

import pytest
import yaml  # Debian: python3-yaml

from harness import agent, haproxy

REPO = haproxy.REPO
DOCKER = os.path.join(REPO, "docker")


@pytest.fixture(scope="module")
def compose():
    with open(os.path.join(DOCKER, "docker-compose.yml")) as f:
        return yaml.safe_load(f)


# ${VAR:-default}: the compose file's image names, overridable from the environment.
IMAGE_REF = re.compile(r"^\$\{(\w+):-([^}]+)\}$")


def default_image(svc):
    """The image a user gets with no variable set."""
    m = IMAGE_REF.match(svc["image"])
    assert m, "image should read ${VAR:-default}: " + svc["image"]
    return m.group(2)


def host_path(spec):
    """'../x/y:/in/container:ro' -> absolute host path of ../x/y (relative to docker/)."""
    src = spec.split(":")[0]
    return os.path.normpath(os.path.join(DOCKER, src))


def mounts(service):
    """container path -> host path."""
    out = {}
    for spec in service.get("volumes", []):
        parts = spec.split(":")
        out[parts[1]] = host_path(spec)
    return out


def ini_values(path):
    values = {}
    for line in open(path):
        line = line.strip()
        if line and not line.startswith(("#", ";", "[")):
            k, _, v = line.partition("=")
            values[k.strip()] = v.strip()
    return values


def test_compose_has_the_seeds_services_and_ports(compose):
    services = compose["services"]
    assert sorted(services) == ["backend-primary", "backend-shadow", "haproxy",
                                "spoa-mirror-1", "spoa-mirror-2"]
    assert sorted(services["haproxy"]["ports"]) == ["10005:10005", "9998:9998"]
    env = services["haproxy"]["environment"]
    assert env["PROXY_BIND"] == ":10005"
    assert env["STATS_BIND"] == ":9998"


def test_every_file_the_compose_file_mounts_or_builds_exists(compose):
    for name, svc in compose["services"].items():
        for spec in svc.get("volumes", []):
            assert os.path.isfile(host_path(spec)), (name, spec)
        build = svc.get("build")
        if build:
            context = os.path.normpath(os.path.join(DOCKER, build["context"]))
            assert os.path.isdir(context)
            assert os.path.isfile(os.path.join(context, build["dockerfile"]))


def test_every_file_the_dockerfile_copies_exists():
    text = open(os.path.join(DOCKER, "Dockerfile")).read()
    copies = re.findall(r"^COPY\s+(?!--from)(.+)$", text, re.M)
    assert copies
    for line in copies:
        *sources, _ = shlex.split(line)
        for src in sources:
            assert os.path.exists(os.path.join(REPO, src)), src
    assert os.path.isfile(os.path.join(DOCKER, "Dockerfile.dockerignore"))


def test_dockerfile_is_multistage_non_root_and_health_checked():
    text = open(os.path.join(DOCKER, "Dockerfile")).read()
    assert re.findall(r"^FROM (\S+)", text, re.M) == ["debian:12-slim", "debian:12-slim"]
    assert "autoreconf -fi" in text and "./configure" in text and "make" in text
    user = re.findall(r"^USER (\S+)", text, re.M)
    assert user and not user[-1].startswith(("root", "0"))
    health = re.search(r"^HEALTHCHECK .*\n(?:.*\\\n)*.*curl .*http://127\.0\.0\.1:(\d+)/healthz",
                       text, re.M)
    assert health, "HEALTHCHECK must query /healthz with curl"
    metrics = ini_values(os.path.join(DOCKER, "spoa-mirror.ini"))["metrics"]
    assert metrics.endswith(":" + health.group(1))


def test_haproxy_service_runs_the_files_the_e2e_suite_runs(compose):
    svc = compose["services"]["haproxy"]
    m = re.match(r"haproxy:(\d+)\.(\d+)$", default_image(svc))
    assert m, svc["image"]
    fam = haproxy.family_for(int(m.group(1)), int(m.group(2)))
    cfg, spoe, _ = haproxy.config_paths(fam)
    mounted = mounts(svc)
    # The official image reads /usr/local/etc/haproxy/haproxy.cfg.
    assert mounted["/usr/local/etc/haproxy/haproxy.cfg"] == cfg
    assert mounted[svc["environment"]["SPOE_CONF"]] == spoe


def test_haproxy_service_only_changes_variables_the_config_declares(compose):
    env = compose["services"]["haproxy"]["environment"]
    cfg_text = open(haproxy.config_paths("2.x")[0]).read()
    declared = set(re.findall(r"^\s*presetenv\s+(\w+)\s", cfg_text, re.M))
    used = set(re.findall(r"\$\{(\w+)\}", cfg_text))
    assert used <= declared, "every variable the config uses needs a presetenv default"
    assert set(env) <= declared
    # The E2E suite sets the same variables (harness/haproxy.py).
    e2e = haproxy.HAProxy("/tmp", 1, [2]).env
    assert set(env) == set(e2e)


def test_agents_and_backends_are_wired_to_each_other(compose):
    services = compose["services"]
    env = services["haproxy"]["environment"]
    ini = ini_values(os.path.join(DOCKER, "spoa-mirror.ini"))
    for n in (1, 2):
        host, port = env["AGENT%d_ADDR" % n].split(":")
        assert host in services
        assert port == ini["port"]
        assert mounts(services[host])["/etc/spoa-mirror/spoa-mirror.ini"] == \
            os.path.join(DOCKER, "spoa-mirror.ini")
    assert env["PRIMARY_ADDR"] == "backend-primary:8080"
    assert ini["mirror-url"] == "http://backend-shadow:8080"
    assert ini["mirror-headers"] == "X-Mirror: true, X-Shadow-Version: v2"
    for name in ("backend-primary", "backend-shadow"):
        svc = services[name]
        # The same backend the E2E suite and scripts/demo run.
        assert mounts(svc)["/app/backend.py"] == os.path.join(REPO, "tests/e2e/harness/backend.py")
        listen = svc["command"].index("--listen")
        assert svc["command"][listen + 1] == "0.0.0.0:8080"


def test_images_default_to_todays_names_and_come_from_the_environment(compose):
    services = compose["services"]
    defaults = {name: default_image(svc) for name, svc in services.items()}
    assert defaults == {"backend-primary": "python:3.12-slim", "backend-shadow": "python:3.12-slim",
                        "spoa-mirror-1": "spoa-mirror:local", "spoa-mirror-2": "spoa-mirror:local",
                        "haproxy": "haproxy:3.0"}
    variables = {IMAGE_REF.match(svc["image"]).group(1) for svc in services.values()}
    assert variables == {"PYTHON_IMAGE", "SPOA_MIRROR_IMAGE", "HAPROXY_IMAGE"}
    # tests/docker/run sets two of them to its local stand-ins and reads the
    # shadow's record file.
    run = open(os.path.join(REPO, "tests/docker/run")).read()
    assert "PYTHON_IMAGE=" in run and "HAPROXY_IMAGE=" in run
    shadow = services["backend-shadow"]["command"]
    record = shadow[shadow.index("--record") + 1]
    assert record in run


def test_agent_accepts_the_images_ini_file():
    # Needs the built agent (tests/e2e/run builds it): its own config check.
    path = agent.binary()
    assert os.access(path, os.X_OK), "build the agent first (tests/e2e/run does): " + path
    out = subprocess.run([path, "-f", os.path.join(DOCKER, "spoa-mirror.ini"), "--check-config"],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stdout + out.stderr

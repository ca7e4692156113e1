"""Fixtures for the E2E suite: a World per test (or per module for the
read-only cases), torn down in reverse order, with every process's log
attached to the report of a failed test."""

import pytest

from harness import world as world_mod


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.failed and world_mod.LIVE:
        for i, w in enumerate(list(world_mod.LIVE)):
            rep.sections.append(("process logs (world %d: %s)" % (i, w.workdir), w.report()))


@pytest.fixture
def world(tmp_path):
    w = world_mod.World(tmp_path)
    try:
        yield w
    finally:
        w.close()


@pytest.fixture(scope="module")
def module_world(tmp_path_factory, request):
    w = world_mod.World(tmp_path_factory.mktemp(request.module.__name__.rsplit(".", 1)[-1]))
    try:
        yield w
    finally:
        w.close()

"""Shared by the integration tests that `make check` runs one file per
pytest session: a session whose every test was skipped exits 77, which
automake's test driver reports as SKIP instead of PASS, so a missing tool
(chromium, haproxy, wrk) shows in the summary rather than passing silently."""

_outcomes = {"ran": 0, "skipped": 0}


def pytest_runtest_logreport(report):
    if report.when == "call" or (report.when == "setup" and report.skipped):
        _outcomes["skipped" if report.skipped else "ran"] += 1


def pytest_collectreport(report):
    if report.skipped:  # a module skipped as a whole (pytest.skip at import)
        _outcomes["skipped"] += 1


def pytest_sessionfinish(session, exitstatus):
    # 5: nothing collected, which a whole-module skip also gives
    if exitstatus in (0, 5) and _outcomes["skipped"] and not _outcomes["ran"]:
        session.exitstatus = 77

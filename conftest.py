"""Suite-wide switch: with `STORMWATCH_REQUIRE_SERVICES=1` (or `--require-services`) a
test that would skip fails instead.

Integration tests skip when their service (PostgreSQL, the Kafka broker, Prometheus,
Alertmanager) is missing, which is right on a developer's laptop. In CI it would let a
run pass without them, so `.ci/run` sets the variable: there, every skip is an error that
names what was missing.
"""

from __future__ import annotations

import os

import pytest

REQUIRE_ENV = "STORMWATCH_REQUIRE_SERVICES"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--require-services",
        action="store_true",
        default=False,
        help=f"Fail instead of skip when a service is missing (or set {REQUIRE_ENV}=1).",
    )


def services_required(config: pytest.Config) -> bool:
    return bool(config.getoption("--require-services")) or os.environ.get(
        REQUIRE_ENV, ""
    ).strip() not in ("", "0")


def _reason(longrepr: object) -> str:
    # A skip's longrepr is (path, line, "Skipped: reason").
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2])
    return str(longrepr)


def _as_failure(report: pytest.TestReport | pytest.CollectReport) -> None:
    report.outcome = "failed"
    report.longrepr = f"{REQUIRE_ENV}=1: nothing may skip, and this did: {_reason(report.longrepr)}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    outcome = yield
    report = outcome.get_result()
    if report.skipped and not hasattr(report, "wasxfail") and services_required(item.config):
        _as_failure(report)


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector):  # type: ignore[no-untyped-def]
    outcome = yield
    report = outcome.get_result()
    if report.skipped and services_required(collector.config):
        _as_failure(report)

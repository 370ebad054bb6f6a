"""A real Prometheus (Debian package) scrapes a running stormwatch endpoint fed with a
scenario; its HTTP API must show the ingest counters and the brand's crisis score. Also
`promtool` on the live exposition and on deploy/prometheus."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from stormwatch.metrics import PLATFORMS
from stormwatch.service.exporter import MetricsServer, start_metrics_server
from tests.metrics_run import SPEC, MetricsRun, run_scenario

pytestmark = pytest.mark.integration

DEPLOY = Path(__file__).resolve().parent.parent / "deploy" / "prometheus"
PROMETHEUS = shutil.which("prometheus")
PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(PROMTOOL is None, reason="promtool not installed")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def storm() -> Iterator[tuple[MetricsRun, MetricsServer]]:
    """Stopped in the middle of the firestorm: an incident is open, the score is high."""
    from stormwatch.evaluation.scenario import generate
    from stormwatch.ingest.decode import parse_event_time

    comments = generate(SPEC).comments
    t = SPEC.start + 11.5 * 3600
    stop = next(i for i, c in enumerate(comments) if parse_event_time(c["created_at"]) >= t)
    run = run_scenario(stop_at=stop)
    server = start_metrics_server(0, run.registry)
    yield run, server
    server.close()


@pytest.fixture(scope="module")
def prometheus(storm, tmp_path_factory) -> Iterator[str]:  # type: ignore[no-untyped-def]
    if PROMETHEUS is None:
        pytest.skip("prometheus not installed (Debian package `prometheus`)")
    _, server = storm
    tmp = tmp_path_factory.mktemp("prometheus")
    config = tmp / "prometheus.yml"
    config.write_text(
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        "scrape_configs:\n"
        "  - job_name: stormwatch-worker\n"
        f"    static_configs: [{{targets: ['127.0.0.1:{server.port}']}}]\n"
    )
    port = free_port()
    proc = subprocess.Popen(
        [
            PROMETHEUS,
            f"--config.file={config}",
            f"--storage.tsdb.path={tmp / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=(tmp / "prometheus.log").open("wb"),
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if query(url, "up") and query(url, "stormwatch_brand_crisis_score"):
                    break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail("prometheus did not scrape: " + (tmp / "prometheus.log").read_text())
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def query(url: str, expr: str) -> list[dict]:
    q = urllib.parse.urlencode({"query": expr})
    with urllib.request.urlopen(f"{url}/api/v1/query?{q}", timeout=5) as r:
        body = json.load(r)
    assert body["status"] == "success", body
    return body["data"]["result"]


def scalar(url: str, expr: str) -> float:
    result = query(url, expr)
    assert len(result) == 1, (expr, result)
    return float(result[0]["value"][1])


def test_prometheus_sees_the_ingest_counters_and_the_crisis_score(storm, prometheus) -> None:  # type: ignore[no-untyped-def]
    run, _ = storm
    stats = run.pipeline.stats
    assert scalar(prometheus, 'up{job="stormwatch-worker"}') == 1
    assert scalar(prometheus, "sum(stormwatch_comments_total)") == stats.processed
    assert (
        scalar(prometheus, 'sum(stormwatch_comments_total{outcome="duplicate"})')
        == stats.duplicates
        == 1
    )
    assert scalar(prometheus, "sum(stormwatch_dead_letters_total)") == stats.dead_lettered == 3
    expected = run.registry.get_sample_value("stormwatch_brand_crisis_score", {"brand": "acme"})
    assert expected is not None and expected >= 1.0  # evidence: 1.0 = both tests alarm
    got = scalar(prometheus, 'stormwatch_brand_crisis_score{brand="acme"}')
    assert got == pytest.approx(expected, rel=1e-12)
    assert scalar(prometheus, 'sum(stormwatch_incidents_open{brand="acme"})') == 1
    by_platform = query(prometheus, "sum by (platform) (stormwatch_comments_total)")
    assert {r["metric"]["platform"] for r in by_platform} <= {*PLATFORMS, "other", "unknown"}


@needs_promtool
def test_promtool_accepts_the_live_exposition(storm) -> None:  # type: ignore[no-untyped-def]
    _, server = storm
    with urllib.request.urlopen(server.url + "/metrics", timeout=5) as r:
        text = r.read()
    out = subprocess.run(
        [PROMTOOL, "check", "metrics"], input=text, capture_output=True, timeout=30
    )
    assert out.returncode == 0, out.stdout.decode() + out.stderr.decode()
    assert not out.stdout.strip() and not out.stderr.strip()  # no lint warnings either


@needs_promtool
def test_promtool_checks_the_deployed_config() -> None:
    out = subprocess.run(
        [PROMTOOL, "check", "config", str(DEPLOY / "prometheus.yml")],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "1 rule files found" in out.stdout


@needs_promtool
def test_promtool_runs_the_rule_unit_tests() -> None:
    out = subprocess.run(
        [PROMTOOL, "test", "rules", "stormwatch.rules.test.yml"],
        cwd=DEPLOY / "rules",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "SUCCESS" in out.stdout

"""Every series a dashboard panel or an alert rule queries is recorded by the program:
a run with Slack delivery (the local fake Slack) and an acknowledgement, then a scrape of
`/metrics` over HTTP, and every metric name in every dashboard and rule expression must
have samples in it."""

from __future__ import annotations

import json
import re
import urllib.request
from pathlib import Path

import orjson
import yaml
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from stormwatch.alerts.actions import IncidentActions
from stormwatch.alerts.outbox_sink import OutboxSink
from stormwatch.config import Settings
from stormwatch.evaluation.scenario import generate
from stormwatch.metrics import MetricsObserver, StormwatchMetrics
from stormwatch.runtime import build_pipeline
from stormwatch.service.exporter import start_metrics_server
from tests.fake_slack import FakeSlack
from tests.metrics_run import SPEC

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
NAME = re.compile(r"\bstormwatch_[a-z0-9_]+")
# Recorded only by `stormwatch worker` (Kafka): the worker calls these itself.
KAFKA_ONLY = {"stormwatch_kafka_consumer_lag_messages": "set_consumer_lag"}


def _expressions() -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []

    def walk(where: str, node: object) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("expr", "definition", "query") and isinstance(value, str):
                    found.append((where, value))
                else:
                    walk(where, value)
        elif isinstance(node, list):
            for item in node:
                walk(where, item)

    for board in sorted((DEPLOY / "grafana" / "dashboards").glob("*.json")):
        walk(board.name, json.loads(board.read_text()))
    rules = DEPLOY / "prometheus" / "rules" / "stormwatch.rules.yml"
    walk(rules.name, yaml.safe_load(rules.read_text()))
    return found


def _scrape_after_a_run() -> set[str]:
    registry = CollectorRegistry()
    metrics = StormwatchMetrics(registry)
    scenario = generate(SPEC)
    with FakeSlack() as slack:
        env = {
            "SLACK_BOT_TOKEN": FakeSlack.TOKEN,
            "SLACK_API_URL": slack.url,
            "STORMWATCH_SLACK_CHANNEL": "#alerts",
        }
        pipeline = build_pipeline(Settings(), env=env, observer=MetricsObserver(metrics))
        pipeline.feed_lines([orjson.dumps(c) for c in scenario.comments], "recorded")
        # one straggler from the first hour: late comments are a panel too
        pipeline.feed(orjson.dumps({**scenario.comments[0], "id": "straggler"}), "recorded")
        [outbox] = [s for s in pipeline.sinks if isinstance(s, OutboxSink)]
        opened = [i.key for i in pipeline.tracker.history]
        assert opened, "the scenario's firestorm opened no incident"
        IncidentActions(outbox.store, on_acknowledged=metrics.observe_time_to_acknowledge).apply(
            "acknowledge", opened[0], who="U0ONCALL"
        )
        pipeline.finish()  # drains the outbox: posts, edits and the acknowledgement's refresh
        assert slack.roots()
    server = start_metrics_server(0, registry)
    try:
        with urllib.request.urlopen(f"{server.url}/metrics", timeout=10) as response:
            text = response.read().decode()
    finally:
        server.close()
    return {s.name for family in text_string_to_metric_families(text) for s in family.samples}


def test_every_dashboard_and_rule_series_is_recorded() -> None:
    sampled = _scrape_after_a_run()
    assert "stormwatch_deliveries_total" in sampled
    assert "stormwatch_incident_time_to_acknowledge_seconds_count" in sampled
    worker = (Path(__file__).resolve().parent.parent / "stormwatch" / "kafka").glob("*.py")
    worker_source = "".join(p.read_text() for p in worker)
    unrecorded = []
    expressions = _expressions()
    assert len(expressions) > 10
    for where, expr in expressions:
        for name in set(NAME.findall(expr)):
            if name in KAFKA_ONLY:
                assert f".{KAFKA_ONLY[name]}(" in worker_source, name
                continue
            if name not in sampled:
                unrecorded.append(f"{where}: {name}")
    assert not unrecorded, sorted(set(unrecorded))

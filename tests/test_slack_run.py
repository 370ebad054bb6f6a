"""`stormwatch run` with Slack: the demo's incidents are posted through the outbox, one
message each, to the local fake Slack; without a token the run prints what it would post."""

from __future__ import annotations

import io

import orjson
from rich.console import Console

from stormwatch.alerts.outbox_sink import DryRunSlackSink, OutboxSink
from stormwatch.alerts.slack_config import SlackConfig
from stormwatch.config import Settings
from stormwatch.evaluation.scenario import generate
from stormwatch.runtime import build_pipeline
from tests.demo_storms import storms_spec
from tests.fake_slack import FakeSlack
from tests.test_slack_delivery import alert


def test_demo_run_posts_one_message_per_incident() -> None:
    # Two of the demo's storms, with their updates (the suite's time budget: the rest
    # of the demo adds a minute of comments, not another kind of message).
    comments = generate(storms_spec(7, ("nestor-palmoil", "bahnwerk-rauswurf"))).comments
    with FakeSlack() as slack:
        env = {
            "SLACK_BOT_TOKEN": FakeSlack.TOKEN,
            "SLACK_API_URL": slack.url,
            "STORMWATCH_SLACK_CHANNEL": "#alerts",
        }
        pipeline = build_pipeline(Settings(), env=env)
        assert any(isinstance(s, OutboxSink) for s in pipeline.sinks)
        for n, comment in enumerate(comments, 1):
            pipeline.feed(orjson.dumps(comment), f"demo:{n}")
        pipeline.finish()
        incidents = {i.key for i in pipeline.tracker.history}
        roots = slack.roots()
        assert len(incidents) == 2 and len(roots) == len(incidents)
        assert {m.metadata["event_payload"]["incident"] for m in roots} == incidents
        assert all(m.channel == "C0ALERTS" for m in roots)
        # escalations and resolutions went into each message's thread, not the channel
        replies = [m for m in slack.messages if m not in roots]
        assert replies and all(m.thread_ts for m in replies)


def test_without_a_token_the_run_prints_what_it_would_post() -> None:
    out = io.StringIO()
    console = Console(file=out, width=200)
    pipeline = build_pipeline(Settings(), console=console, env={})
    [dry] = [s for s in pipeline.sinks if isinstance(s, DryRunSlackSink)]
    dry.emit(alert())
    dry.emit(alert(event="updated", at=1_772_443_000.0))
    dry.emit(alert(event="escalated", severity="high", at=1_772_443_500.0))
    lines = out.getvalue().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("slack dry run → #stormwatch: post")
    assert "MEDIUM · acme · thread p1" in lines[0]
    assert "edit + thread reply" in lines[1]


def test_dry_run_uses_the_routed_channel() -> None:
    from stormwatch.alerts.slack_config import SlackRoute

    out = io.StringIO()
    config = SlackConfig(channel="#all", routes=(SlackRoute("#acme", frozenset({"acme"})),))
    DryRunSlackSink(Console(file=out, width=200), config).emit(alert())
    assert "→ #acme:" in out.getvalue()


def test_a_run_whose_alerts_were_not_sent_says_so_and_fails(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A token Slack refuses (or Slack down past the drain) and no --db: the run ended 0
    and its alerts were gone without a word."""
    from tests.test_cli_errors import in_process
    from tests.test_hostile_input import storm_lines

    (tmp_path / "in.jsonl").write_bytes(b"\n".join(storm_lines()) + b"\n")
    with FakeSlack() as slack:
        env = {
            "SLACK_BOT_TOKEN": "xoxb-revoked",
            "SLACK_API_URL": slack.url,
            "STORMWATCH_SLACK_CHANNEL": "#alerts",
        }
        result = in_process("run", "in.jsonl", "-q", cwd=tmp_path, env=env)
    assert result.exit_code == 1, result.output
    [line] = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert "alert deliveries were not sent (slack: token_revoked)" in line
    assert "failed for good" in line

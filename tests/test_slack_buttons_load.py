"""Slack buttons under load: signed presses from 8 concurrent clients against a real
`stormwatch serve` with delivery on. Every press is stored exactly once and delivered,
replays are refused, and p99 stays under Slack's patience with room (1 s; Slack gives up
after 3 s). The full 2,000 presses run in `benchmarks/slack_buttons_load.py`; the suite
sends 400 to stay within its time budget."""

from __future__ import annotations

from pathlib import Path

from tests.slack_press_load import run_press_load


def test_button_presses_under_load_are_each_stored_once_and_answered_fast(
    tmp_path: Path,
) -> None:
    result = run_press_load(tmp_path, presses=400, clients=8, incidents=20, replays=16)
    summary = result.summary()
    assert result.accepted == 400, summary
    assert result.lost == [] and result.doubled == [], summary
    assert result.replays_sent == result.replays_refused == 16, summary
    assert result.refreshes_sent == 400, summary
    # A delivery leased by a write that failed on a locked database held the others back
    # for the whole lease (120 s): every refresh is out well before that.
    assert result.drain_seconds < 60.0, summary
    assert result.percentile(0.99) < 1.0, summary
    assert result.server_exit == 0, summary

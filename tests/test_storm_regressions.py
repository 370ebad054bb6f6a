"""Family scenarios where a storm once opened a second incident, or a bot burst one.

Each replays one generated stream of the evaluation family (`build_family`) through
the pipeline and checks its labels; the comments say what went wrong before.
"""

from __future__ import annotations

from stormwatch.evaluation.family import build_family
from tests.seeded_runs import run_spec


def test_a_storm_does_not_reopen_on_another_key_when_its_incident_resolves() -> None:
    """A campaign's brand-wide incident resolved and, the next minute, one of its
    threads (whose evidence was the same storm's) opened a second incident."""
    result = run_spec(build_family(107)[6])
    campaign = result.label("b06-campaign")
    assert campaign.incidents == 1, result
    assert not result.unexplained


def test_the_first_seconds_of_a_bot_burst_do_not_fire_early() -> None:
    """Deciding a minute early counted the first seconds of a bot burst (four accounts,
    one or two comments each so far: crowd-like) on a quiet thread, and opened it."""
    result = run_spec(build_family(5)[5])
    assert result.label("b08-bot").incidents == 0, result
    assert not result.unexplained

"""Comments without an author id (an RSS comment feed, a webhook that withholds who
wrote): each counts as an account of its own, so the account guards cannot tell one
person, a few bots and a crowd apart. The alert must say so, not claim a campaign, and
not list comment ids as its loudest accounts."""

from __future__ import annotations

from typing import Any

import pytest

from stormwatch.alerts.sinks import MemoryAlertSink
from stormwatch.alerts.slack_message import incident_blocks
from stormwatch.evaluation.scenario import BrandSpec, EventSpec, ScenarioSpec, generate
from stormwatch.pipeline import Pipeline
from tests.seeded_runs import replay

H = 3600.0
SHOP = BrandSpec("shop", 4000, lang="en", threads_per_day=12)
CAMPAIGN = EventSpec(
    "campaign", "shop", 10 * H, 2 * H, name="campaign", peak_rate_per_min=12,
    start_rate_per_min=1, plateau_s=1800, topics=("environment", "boycott"),
)  # fmt: skip


def _without_authors(comment: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in comment.items() if k not in ("author_id", "author_followers")}


def _told(seed: int, *, authors: bool) -> list[Any]:
    """The events of the run but `resolved` (which says it is calm again)."""
    spec = ScenarioSpec("anonymous", duration_s=13 * H, brands=(SHOP,), events=(CAMPAIGN,),
                        seed=seed)  # fmt: skip
    comments = generate(spec).comments
    if not authors:
        comments = [_without_authors(c) for c in comments]
    sink = MemoryAlertSink()
    replay(comments, pipeline=Pipeline(sinks=[sink]))
    return [e for e in sink.events if e.event != "resolved"]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_campaign_without_author_ids_alerts_and_says_who_wrote_it_is_unknown(
    seed: int,
) -> None:
    told = _told(seed, authors=False)
    assert told, "the campaign's comments, authors unknown, opened nothing"
    for e in told:
        assert e.drivers["authors_unknown_share"] == 1.0
        assert e.drivers["campaign"] is False  # many people cannot be shown
        assert e.drivers["top_accounts"] == []  # no comment id passes for an account
        assert "without an author id" in e.summary
    slack = str(incident_blocks(told[0].to_json_dict()))
    assert "unknown (no author ids)" in slack


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_with_author_ids_the_same_campaign_is_called_one(seed: int) -> None:
    told = _told(seed, authors=True)
    assert told
    assert any(e.drivers["campaign"] for e in told)
    for e in told:
        assert e.drivers["authors_unknown_share"] == 0.0
        assert e.drivers["top_accounts"]
        assert "author id" not in e.summary
    assert "no author ids" not in str(incident_blocks(told[0].to_json_dict()))

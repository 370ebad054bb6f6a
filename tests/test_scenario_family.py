"""The scenario family (`evaluate suite`): labels that agree with the streams, collector
delivery faults in their stated proportions, campaigns from many accounts and bot bursts
from few, and one family per seed."""

from __future__ import annotations

import collections
import io
import json
import math
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from rich.console import Console

from stormwatch.evaluation import family as family_module
from stormwatch.evaluation.family import (
    HELD_OUT_SEEDS,
    TUNING_SEEDS,
    build_family,
    parse_seeds,
)
from stormwatch.evaluation.scenario import (
    COLLECTOR_DELIVERY,
    KINDS,
    MUST_ALERT,
    BrandSpec,
    EventSpec,
    Scenario,
    ScenarioSpec,
    generate,
    write_brands,
    write_jsonl,
)
from stormwatch.evaluation.scenario_scoring import size_band

H = 3600.0


def epoch(value: Any) -> float:
    if isinstance(value, str):
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    return float(value)


@pytest.fixture(scope="module")
def family() -> list[ScenarioSpec]:
    return build_family(3)


@pytest.fixture(scope="module")
def generated(family: list[ScenarioSpec]) -> list[Scenario]:
    # The three smallest streams are enough for the label checks and stay fast.
    small = sorted(family, key=lambda s: sum(b.comments_per_day for b in s.brands))[:3]
    return [generate(spec) for spec in small]


def test_one_family_per_seed_and_seed_sets_apart(family: list[ScenarioSpec]) -> None:
    assert build_family(3) == family
    assert build_family(4) != family
    assert not set(TUNING_SEEDS) & set(HELD_OUT_SEEDS)
    assert parse_seeds("1-3") == [1, 2, 3] and parse_seeds("4,7") == [4, 7]
    assert parse_seeds("held-out") == list(HELD_OUT_SEEDS)
    # Every part must name seeds ("1-3,5-1" ran 1-3); a range past what a run could
    # score is a typo (1-99999999999 was a MemoryError).
    for text in ("", "x", "3-x", "5-3", "1-3,5-1", "1-3,", "1-99999999999", "-1"):
        with pytest.raises(ValueError, match="use e.g. 1-5"):
            parse_seeds(text)


def test_family_covers_kinds_sizes_and_young_brands(family: list[ScenarioSpec]) -> None:
    kinds = collections.Counter(ev.kind for s in family for ev in s.events)
    assert set(kinds) == KINDS
    assert kinds["campaign"] >= 2 and kinds["slow_swell"] >= 2 and kinds["bot_burst"] >= 3
    brands = [b for s in family for b in s.brands]
    sizes = [b.comments_per_day for b in brands]
    assert 40 <= min(sizes) < 100 and 15_000 < max(sizes) <= 40_000
    bands = collections.Counter(size_band(x) for x in sizes)
    assert len(bands) == 3 and min(bands.values()) >= 5
    young = sorted(b.history_days for b in brands if not math.isinf(b.history_days))
    assert young[0] < 1.0 <= young[-1] < 2.0  # a first-day and a second-day crisis
    assert all(s.delivery == COLLECTOR_DELIVERY for s in family)
    assert all(ev.variation == "rewrite" for s in family for ev in s.events
               if ev.kind == "bot_burst")  # fmt: skip


def test_labels_agree_with_kinds_and_breakouts(generated: list[Scenario]) -> None:
    for sc in generated:
        for lab in sc.labels:
            assert lab.must_alert == MUST_ALERT[lab.kind]
            if lab.must_alert:
                assert lab.breakout is not None, lab.name
                assert lab.onset <= lab.breakout <= lab.end
            else:
                assert lab.breakout is None
            times = [epoch(c["created_at"]) for c in sc.event_comments(lab.name)]
            wrong = set(sc.faults["misstamped"])
            inside = [t for c, t in zip(sc.event_comments(lab.name), times, strict=True)
                      if c["id"] not in wrong]  # fmt: skip
            assert min(inside) >= lab.onset - 1 and max(inside) <= lab.end, lab.name


def test_collector_faults_in_their_proportions() -> None:
    brand = BrandSpec("busy", 30_000, negative_share=0.1, threads_per_day=40)
    spec = ScenarioSpec("faults", duration_s=24 * H, brands=(brand,), seed=5,
                        delivery=COLLECTOR_DELIVERY)  # fmt: skip
    sc = generate(spec)
    ids = collections.Counter(c["id"] for c in sc.comments)
    unique = len(ids)
    twice = sum(1 for k in ids.values() if k == 2)
    assert max(ids.values()) == 2
    assert twice / unique == pytest.approx(0.005, rel=0.25)
    assert sorted(sc.faults["duplicate"]) == sorted(k for k, v in ids.items() if v == 2)
    # Lateness as a consumer sees it: behind the newest event time seen so far.
    wrong = set(sc.faults["misstamped"])
    seen: set[str] = set()
    t = []
    for c in sc.comments:
        if c["id"] in seen or c["id"] in wrong:
            continue
        seen.add(c["id"])
        t.append(epoch(c["created_at"]))
    behind = np.maximum.accumulate(np.array(t)) - np.array(t)
    assert np.mean(behind > 2.0) == pytest.approx(0.17, abs=0.03)  # 15 % + 2 %
    assert np.mean(behind > 300.0) == pytest.approx(0.02 * 2100 / 2160, rel=0.2)
    assert behind.max() <= 2400.0 + 60.0
    assert len(sc.faults["very_late"]) / unique == pytest.approx(0.02, rel=0.15)
    # A few records with a wrong clock: hours to days off, valid timestamps.
    assert len(wrong) == COLLECTOR_DELIVERY.misstamped
    by_id = {c["id"]: c for c in sc.comments}
    true_span = (spec.start, spec.start + spec.duration_s)
    for cid in wrong:
        ts = epoch(by_id[cid]["created_at"])
        near = [epoch(by_id[k]["created_at"]) for k in _neighbours(cid, by_id)]
        assert abs(ts - float(np.median(near))) >= 3600.0 - 600.0
        assert not true_span[0] <= ts < true_span[1] or abs(ts - np.median(near)) > 3000


def _neighbours(cid: str, by_id: dict[str, dict[str, Any]]) -> list[str]:
    source, _, index = cid.rpartition("#")
    i, w = int(index), len(index)
    return [f"{source}#{j:0{w}d}" for j in range(max(0, i - 5), i + 6)
            if j != i and f"{source}#{j:0{w}d}" in by_id]  # fmt: skip


def test_clean_delivery_stays_the_default() -> None:
    spec = ScenarioSpec("clean", duration_s=6 * H, brands=(BrandSpec("shop", 5000),), seed=2)
    sc = generate(spec)
    assert sc.faults == {}
    assert len({c["id"] for c in sc.comments}) == len(sc.comments)


_EMOJI_OR_LINK = re.compile(r"https?://|[\U0001F300-\U0001FAFF\u203C\u2700-\u27BF]")


def _letters(text: str) -> str:
    return re.sub(r"[^a-zäöüß]", "", text.lower())


def test_campaign_many_accounts_bots_few_both_really_varied() -> None:
    brand = BrandSpec("nestor", 6000, negative_share=0.08, threads_per_day=20)
    campaign = EventSpec("campaign", "nestor", 10 * H, 5 * H, name="kitkat",
                         topics=("environment", "boycott"))  # fmt: skip
    bots = EventSpec("bot_burst", "nestor", 4 * H, 900, name="bots", n_comments=300,
                     n_accounts=4, variation="rewrite")  # fmt: skip
    sc = generate(ScenarioSpec("camp", duration_s=24 * H, brands=(brand,),
                               events=(campaign, bots), seed=8))  # fmt: skip
    negatives = [c for c in sc.event_comments("kitkat") if sc.tones[c["id"]] == "negative"]
    accounts = collections.Counter(c["author_id"] for c in negatives)
    assert len(accounts) >= 300
    assert accounts.most_common(1)[0][1] <= 0.02 * len(negatives)
    texts = [c["text"] for c in negatives]
    assert len(set(texts)) > 0.8 * len(texts)  # hardly two alike byte for byte ...
    # ... yet copies of a handful of messages: each has a close sibling by its words.
    for group in (texts, [c["text"] for c in sc.event_comments("bots")]):
        words = [set(re.findall(r"[a-zäöüß]{4,}", t.lower())) for t in group]
        close = [
            max(len(a & b) / len(a | b) for j, b in enumerate(words) if j != i)
            for i, a in enumerate(words[:150])
        ]
        assert np.mean(np.array(close) >= 0.6) > 0.9
    bot_texts = [c["text"] for c in sc.event_comments("bots")]
    assert len({c["author_id"] for c in sc.event_comments("bots")}) <= 4
    assert len(set(bot_texts)) > 0.5 * len(bot_texts)
    # Not only punctuation and digits: letters differ (inserted words), links and emoji.
    assert len({_letters(t) for t in bot_texts}) > 20
    assert np.mean([bool(_EMOJI_OR_LINK.search(t)) for t in bot_texts]) > 0.4
    assert sum("http" in t for t in bot_texts) > 20
    assert sc.label("kitkat").must_alert and not sc.label("bots").must_alert


def test_slow_swell_rises_for_hours_over_many_posts() -> None:
    brand = BrandSpec("rail", 3000, negative_share=0.1, threads_per_day=16)
    swell = EventSpec("slow_swell", "rail", 20 * H, 26 * H, name="swell")
    sc = generate(ScenarioSpec("swell", duration_s=2 * 24 * H, brands=(brand,),
                               events=(swell,), seed=4))  # fmt: skip
    lab = sc.label("swell")
    assert lab.must_alert and lab.thread_id is None
    assert 6 * H <= lab.breakout - lab.onset <= 14 * H  # defaults: 25x over ~12 hours
    comments = sc.event_comments("swell")
    threads = collections.Counter(c["thread_id"] for c in comments)
    assert len(threads) >= 10 and max(threads.values()) < 0.3 * len(comments)
    hours = np.bincount(
        [
            int((epoch(c["created_at"]) - lab.onset) // (3 * H))
            for c in comments
            if sc.tones[c["id"]] == "negative"
        ]  # fmt: skip
    )
    assert all(hours[k + 1] > hours[k] for k in range(3))  # rising, not a spike
    # The event's own negatives near the breakout run at about 10x the brand's normal.
    near = [epoch(c["created_at"]) for c in comments if sc.tones[c["id"]] == "negative"
            and abs(epoch(c["created_at"]) - lab.breakout) < 1800]  # fmt: skip
    assert len(near) / 60 == pytest.approx(10 * brand.negative_rate_per_min, rel=0.35)


def test_evaluated_seeds_carry_every_events_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`evaluate suite --evaluate --json` keeps each event's row with its seed, so two
    trees' runs compare event by event."""

    def one_storm(directory: Path, seed: int) -> list[Path]:
        spec = ScenarioSpec(
            name=f"storm-{seed}",
            duration_s=30 * 3600.0,
            seed=seed,
            brands=(BrandSpec("acme", 3000, threads_per_day=10),),
            events=(
                EventSpec("firestorm", "acme", 24 * 3600.0, 4 * 3600.0, name="acme-storm",
                          peak_rate_per_min=30, start_rate_per_min=0.4, doubling_time_s=480),
            ),
        )  # fmt: skip
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{spec.name}.jsonl"
        write_jsonl(generate(spec), path, directory / f"{spec.name}.labels.json")
        write_brands(spec, directory / f"{spec.name}.brands.json")
        return [path]

    # A stream an earlier run left in the seed's folder is not the seed's: it was pooled
    # into its figures without a word.
    one_storm(tmp_path / "seed-3", 99)
    monkeypatch.setattr(family_module, "write_family", one_storm)
    result = family_module.evaluate_seeds(
        [3, 4], tmp_path, console=Console(file=io.StringIO(), width=140)
    )
    rows = result["per_event"]
    assert [(r["seed"], r["scenario"], r["event"]) for r in rows] == [
        (3, "storm-3", "acme-storm"),
        (4, "storm-4", "acme-storm"),
    ]
    assert all(r["band"] == "500-5,000" and r["caught"] for r in rows)
    assert all(isinstance(r["lead_minutes"], float) for r in rows)
    json.dumps(result)  # what `--json` prints


def test_the_per_seed_figures_are_whole_at_80_columns() -> None:
    """At 80 columns (and whenever output is piped) the per-seed table cut its figures:
    a worst lead of -103.7 read "-10…"."""
    import io

    from rich.console import Console

    from stormwatch.evaluation.family import print_per_seed

    run = {"seed": 103, "comments": 312345, "generate_seconds": 12.5, "total_seconds": 95.25,
           "recall": 0.95, "lead_minutes": {"median": 18.4, "worst": -103.7},
           "incidents_per_crisis": 1.05, "false_alarms_per_brand_day": 0.012,
           "benign_incidents": 2, "campaigns_caught": 3, "campaigns": 4,
           "bot_bursts_as_firestorm": 0}  # fmt: skip
    for width in (80, 160):
        out = io.StringIO()
        print_per_seed(Console(file=out, width=width), [run])
        text = out.getvalue()
        assert "…" not in text and "-103.7" in text and "312345" in text, text
        assert max(len(line) for line in text.splitlines()) <= width


def test_the_labelled_events_table_keeps_every_name_at_80_columns() -> None:
    """Piped (80 columns) every scenario and event name ended in "…": no event could be
    told from another. They fold onto more lines now."""
    import io

    from rich.console import Console

    from stormwatch.evaluation.scenario_scoring import events_table

    event = {"scenario": "tiny-small-and-new", "event": "radladen-firestorm-day-two",
             "kind": "angry_customer", "must_alert": False, "correct": True,
             "lead_minutes": None, "incident_kinds": []}  # fmt: skip
    out = io.StringIO()
    Console(file=out, width=80).print(events_table([event]))
    table = out.getvalue()
    assert "…" not in table, table
    assert max(len(line) for line in table.splitlines()) <= 80
    body = table.split("┡")[1].splitlines()[1:-1]  # the one row's lines, folded
    cells = [[c.strip() for c in line.split("│")[1:-1]] for line in body]
    columns = ["".join(parts) for parts in zip(*cells, strict=True)]
    assert columns[:3] == ["tiny-small-and-new", "radladen-firestorm-day-two", "angry_customer"]

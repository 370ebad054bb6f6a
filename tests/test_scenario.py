"""The scenario generator: determinism, the input contract, and that every event looks
like what it claims to be (so detector tests built on it test the detector, not luck)."""

from __future__ import annotations

import collections
import math
import random
import re
from datetime import datetime
from typing import Any

import numpy as np
import pytest

from stormwatch.evaluation.demo import demo_scenario, demo_spec
from stormwatch.evaluation.scenario import (
    BREAKOUT_FACTOR,
    EVIDENCE_NEGATIVES,
    KINDS,
    MUST_ALERT,
    BrandSpec,
    EventSpec,
    Scenario,
    ScenarioSpec,
    generate,
    read_labels,
    sample_text,
    write_jsonl,
)

H = 3600.0
# acme's normal negative rate is 12000 / 1440 * 0.12 = 1.0 per minute, so its breakout
# threshold is exactly 10 negative comments per minute.
ACME = BrandSpec("acme", 12000, lang="en", negative_share=0.12, domain="retail")
KIEZ = BrandSpec("kiez", 3000, lang="de", negative_share=0.1, domain="rail", tz_offset_h=1)
TINY = BrandSpec("tiny", 150, lang="de", negative_share=0.05, threads_per_day=2, domain="bikes")
FIRE = EventSpec(
    "firestorm", "acme", 10 * H, 4 * H, name="fire", start_rate_per_min=1.0,
    peak_rate_per_min=40.0, doubling_time_s=600.0, negative_share=0.8,
)  # fmt: skip
EVENTS = (
    FIRE,
    EventSpec("spreading_firestorm", "kiez", 8 * H, 3 * H, name="spread", n_threads=20,
              peak_rate_per_min=30, start_rate_per_min=0.5),
    EventSpec("viral_positive", "acme", 16 * H, 3 * H, name="viral"),
    EventSpec("product_launch", "kiez", 13 * H, 4 * H, name="launch", product="Kiez Pass"),
    EventSpec("bot_burst", "kiez", 3 * H, 15 * 60, name="bots", n_comments=250, n_accounts=4),
    EventSpec("angry_customer", "tiny", 18 * H, H, name="angry", n_comments=22),
)  # fmt: skip
SPEC = ScenarioSpec("unit", duration_s=24 * H, brands=(ACME, KIEZ, TINY), events=EVENTS, seed=3)

CONTRACT = {
    "id", "text", "created_at", "brand", "thread_id", "parent_id", "platform",
    "author_id", "author_followers", "lang",
}  # fmt: skip
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
NEGATIVE_WORDS = re.compile(
    r"terrible|awful|horrible|disgusting|pathetic|useless|ridiculous|annoy|frustrat|"
    r"disappoint|worst|rude|scam|shame|liars|boycott|unacceptable|lousy|bad|furious|"
    r"schlecht|schrecklich|widerlich|frechheit|ärgerlich|enttäusch|boykott|lügner|skandal|"
    r"ekelhaft|erbärmlich|schande|schämt|unverschämt|gierig|verlogen|heuchler|empörend|"
    r"wütend|peinlich|inakzeptabel|verantwortungslos|feige|abzocke",
    re.IGNORECASE,
)


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return generate(SPEC)


def epoch(value: Any) -> float:
    if isinstance(value, str):
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    return float(value)


def by_source(sc: Scenario) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = collections.defaultdict(list)
    for c in sc.comments:
        out[sc.source_of(c)].append(c)
    return out


def per_minute(times: list[float], since: float) -> np.ndarray:
    return np.bincount(((np.array(times) - since) // 60).astype(int))


def test_same_seed_same_stream_other_seed_other_stream(scenario: Scenario) -> None:
    again = generate(SPEC)
    assert again.comments == scenario.comments
    assert again.labels == scenario.labels
    other = generate(ScenarioSpec("unit", duration_s=24 * H, brands=(TINY,), seed=4))
    same = generate(ScenarioSpec("unit", duration_s=24 * H, brands=(TINY,), seed=3))
    assert [c["text"] for c in other.comments] != [c["text"] for c in same.comments]


def test_every_comment_meets_the_input_contract(scenario: Scenario) -> None:
    ids = set()
    by_id = {}
    for c in scenario.comments:
        assert set(c) <= CONTRACT, set(c) - CONTRACT  # nothing that gives the label away
        assert isinstance(c["id"], str) and c["id"] not in ids
        ids.add(c["id"])
        by_id[c["id"]] = c
        assert isinstance(c["text"], str) and c["text"].strip()
        ts = c["created_at"]
        assert (isinstance(ts, str) and ISO.match(ts)) or type(ts) in (int, float)
        assert c["brand"] in {"acme", "kiez", "tiny"}
        for key in ("thread_id", "parent_id", "platform", "author_id", "lang"):
            assert c.get(key) is None or isinstance(c[key], str)
        assert c.get("author_followers") is None or type(c["author_followers"]) is int
        assert c.get("lang") in (None, "en", "de")
        assert c["platform"] in {"facebook", "instagram", "twitter", "youtube", "blog"}
    replies = [c for c in scenario.comments if c.get("parent_id")]
    assert len(replies) > 0.1 * len(scenario.comments)
    for c in replies:
        parent = by_id[c["parent_id"]]
        assert parent["thread_id"] == c["thread_id"]
        assert epoch(parent["created_at"]) <= epoch(c["created_at"]) + 1.0


def test_both_time_forms_and_a_little_late_delivery(scenario: Scenario) -> None:
    forms = collections.Counter(type(c["created_at"]).__name__ for c in scenario.comments)
    n = len(scenario.comments)
    assert 0.05 < (forms["int"] + forms["float"]) / n < 0.15
    assert forms["int"] > 0 and forms["float"] > 0
    t = np.array([epoch(c["created_at"]) for c in scenario.comments])
    lateness = np.maximum.accumulate(t) - t
    assert 0.005 < np.mean(lateness > 1.0) < 0.05
    assert lateness.max() <= 91.0


def test_event_comments_stay_in_their_window_and_match_their_size(scenario: Scenario) -> None:
    sources = by_source(scenario)
    for label in scenario.labels:
        comments = sources[label.name]
        times = [epoch(c["created_at"]) for c in comments]
        assert min(times) >= label.onset - 1.0 and max(times) <= label.end, label.name
        assert all(c["brand"] == label.brand for c in comments)
    assert len(sources["bots"]) == 250
    assert len(sources["angry"]) == 22
    # 40/min peak, 1/min start, doubling 10 min: growth ~53 min, 20 min plateau, then decay.
    growth = 600 * math.log2(40)
    expected = 40 * (600 / math.log(2) * (1 - 1 / 40) + 1200 + 2400 / math.log(2)) / 60
    expected -= 40 * 2400 / math.log(2) / 60 * 2 ** (-(4 * H - growth - 1200) / 2400)
    assert abs(len(sources["fire"]) - expected) < 5 * math.sqrt(expected)


def test_breakout_is_where_the_negative_rate_reaches_ten_times_normal(
    scenario: Scenario,
) -> None:
    label = scenario.label("fire")
    threshold = BREAKOUT_FACTOR * ACME.negative_rate_per_min
    assert threshold == pytest.approx(10.0)
    # From the rate function: 0.8 * 1/min * 2^(t/600) = 10/min.
    assert label.breakout == pytest.approx(label.onset + 600 * math.log2(10 / 0.8), abs=1.0)
    negatives = [
        epoch(c["created_at"])
        for c in scenario.event_comments("fire")
        if scenario.tones[c["id"]] == "negative"
    ]
    near = [t for t in negatives if abs(t - label.breakout) < 150]
    assert len(near) / 5 == pytest.approx(threshold, rel=0.35)
    early = [t for t in negatives if label.breakout - 1200 <= t < label.breakout - 900]
    assert len(early) / 5 < 0.5 * threshold


def test_evidence_at_is_the_events_tenth_negative_comment(scenario: Scenario) -> None:
    for label in scenario.labels:
        if not label.must_alert:
            assert label.evidence_at is None
            continue
        negatives = sorted(
            {
                c["id"]: epoch(c["created_at"])
                for c in scenario.event_comments(label.name)
                if scenario.tones[c["id"]] == "negative"
            }.values()
        )
        # Delivered stamps are the true times cut to whole seconds or milliseconds.
        tenth = negatives[EVIDENCE_NEGATIVES - 1]
        assert label.evidence_at is not None
        assert tenth <= label.evidence_at < tenth + 1
        assert label.onset <= label.evidence_at
    # acme's firestorm starts at one comment a minute: its tenth negative comes well
    # before it runs at ten times acme's normal negative rate.
    fire = scenario.label("fire")
    assert fire.evidence_at is not None and fire.breakout is not None
    assert fire.breakout - 40 * 60 < fire.evidence_at < fire.breakout - 10 * 60


def test_labels_say_which_events_must_alert(scenario: Scenario) -> None:
    labels = {lab.name: lab for lab in scenario.labels}
    assert {lab.kind for lab in labels.values()} == KINDS - {"slow_swell", "campaign"}
    for lab in labels.values():
        assert lab.must_alert == MUST_ALERT[lab.kind]
        if not lab.must_alert:
            assert lab.breakout is None
    assert labels["spread"].breakout is not None and labels["spread"].thread_id is None
    assert labels["fire"].thread_id is not None and labels["viral"].thread_id is not None


def test_firestorm_is_one_thread_many_authors_mostly_negative(scenario: Scenario) -> None:
    comments = scenario.event_comments("fire")
    label = scenario.label("fire")
    assert {c["thread_id"] for c in comments} == {label.thread_id}
    negative = np.mean([scenario.tones[c["id"]] == "negative" for c in comments])
    assert 0.7 <= negative <= 0.9
    authors = collections.Counter(c["author_id"] for c in comments)
    assert len(authors) > 0.4 * len(comments)
    assert authors.most_common(1)[0][1] < 0.05 * len(comments)
    assert sum(c.get("parent_id") is not None for c in comments) > 0.2 * len(comments)
    assert any((c.get("author_followers") or 0) > 10_000 for c in comments)
    # Growth is super-linear: each 10 minutes of the growth phase roughly doubles it.
    counts = per_minute([epoch(c["created_at"]) for c in comments], label.onset)
    assert counts[20:30].sum() > 1.5 * counts[10:20].sum() > 0


def test_spreading_firestorm_touches_many_threads_none_dominant(scenario: Scenario) -> None:
    comments = scenario.event_comments("spread")
    threads = collections.Counter(c["thread_id"] for c in comments)
    assert len(threads) == 20
    assert max(threads.values()) < 0.2 * len(comments)


def test_viral_positive_is_huge_but_not_negative(scenario: Scenario) -> None:
    comments = scenario.event_comments("viral")
    label = scenario.label("viral")
    assert {c["thread_id"] for c in comments} == {label.thread_id}
    counts = per_minute([epoch(c["created_at"]) for c in comments], label.onset)
    assert counts.max() >= 10 * ACME.rate_per_min
    negative_looking = np.mean([bool(NEGATIVE_WORDS.search(c["text"])) for c in comments])
    assert negative_looking <= ACME.negative_share


def test_product_launch_is_a_mixed_surge_over_new_posts(scenario: Scenario) -> None:
    comments = scenario.event_comments("launch")
    label = scenario.label("launch")
    threads = {c["thread_id"] for c in comments}
    assert len(threads) == 4
    counts = per_minute([epoch(c["created_at"]) for c in comments], label.onset)
    assert 5 * KIEZ.rate_per_min <= counts.max() <= 20 * KIEZ.rate_per_min
    negative = np.mean([scenario.tones[c["id"]] == "negative" for c in comments])
    assert negative <= 1.5 * KIEZ.negative_share
    assert sum("Kiez Pass" in c["text"] for c in comments) > 0.5 * len(comments)


def test_bot_burst_is_near_duplicates_from_few_accounts(scenario: Scenario) -> None:
    comments = scenario.event_comments("bots")
    assert len({c["author_id"] for c in comments}) <= 8
    letters = collections.Counter(re.sub(r"[^a-zäöüß]", "", c["text"].lower()) for c in comments)
    assert len(letters) <= 3  # the same one or two messages under punctuation/emoji noise
    assert len({c["text"] for c in comments}) > 20  # ... but not byte-identical
    assert all(NEGATIVE_WORDS.search(c["text"]) for c in comments)
    times = [epoch(c["created_at"]) for c in comments]
    assert max(times) - min(times) <= 15 * 60


def test_angry_customer_is_one_author_in_one_or_two_threads(scenario: Scenario) -> None:
    comments = scenario.event_comments("angry")
    assert len({c["author_id"] for c in comments}) == 1
    assert 1 <= len({c["thread_id"] for c in comments}) <= 2
    assert all(scenario.tones[c["id"]] == "negative" for c in comments)


def test_daily_rhythm_is_visible(scenario: Scenario) -> None:
    hours = collections.Counter(
        int(epoch(c["created_at"]) % 86400 // 3600) for c in by_source(scenario)["acme"]
    )
    assert hours[3] * 3 < hours[12]
    assert hours[3] * 3 < hours[20]


def test_events_do_not_change_the_background(scenario: Scenario) -> None:
    # Brands are independent too, so the two smaller ones are enough to check this.
    quiet = generate(ScenarioSpec("unit", duration_s=24 * H, brands=(KIEZ, TINY), seed=3))
    for brand in ("kiez", "tiny"):
        assert by_source(quiet)[brand] == by_source(scenario)[brand]


def test_brand_new_brand_starts_with_its_event() -> None:
    fresh = BrandSpec("fresh", 2000, history_days=0)
    event = EventSpec("firestorm", "fresh", 6 * H, 2 * H, name="fresh-fire")
    sc = generate(ScenarioSpec("new", duration_s=12 * H, brands=(fresh,), events=(event,)))
    onset = sc.label("fresh-fire").onset
    assert min(epoch(c["created_at"]) for c in sc.comments) >= onset - 1.0
    assert sc.label("fresh-fire").breakout is not None


def test_jsonl_round_trip(scenario: Scenario, tmp_path: Any) -> None:
    import orjson

    write_jsonl(scenario, tmp_path / "c.jsonl", tmp_path / "l.jsonl")
    assert read_labels(tmp_path / "l.jsonl") == scenario.labels
    lines = (tmp_path / "c.jsonl").read_bytes().splitlines()
    assert [orjson.loads(x) for x in lines[:500]] == scenario.comments[:500]
    assert len(lines) == len(scenario.comments)
    # Label files written before `evidence_at` existed still read, without it.
    older = [orjson.loads(x) for x in (tmp_path / "l.jsonl").read_bytes().splitlines()]
    for row in older:
        del row["evidence_at"]
    (tmp_path / "old.jsonl").write_bytes(b"\n".join(orjson.dumps(row) for row in older))
    assert [lab.evidence_at for lab in read_labels(tmp_path / "old.jsonl")] == [None] * len(older)


def test_texts_read_as_their_tone_to_a_lexicon_scorer() -> None:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    vader = SentimentIntensityAnalyzer()
    rng = random.Random(0)
    expectations = {
        "neg": -1, "angry": -1, "crisis_censorship": -1, "crisis_boycott": -1,
        "crisis_environment": -1, "pos": 1, "viral": 1, "launch_pos": 1,
    }  # fmt: skip
    for kind, sign in expectations.items():
        texts = [sample_text(kind, "en", rng, domain="food", brand="Nestor") for _ in range(200)]
        agree = np.mean([sign * vader.polarity_scores(t)["compound"] >= 0.05 for t in texts])
        assert agree >= 0.95, kind


def test_grammars_write_thousands_of_distinct_sentences() -> None:
    rng = random.Random(1)
    for lang in ("en", "de"):
        for kind in ("pos", "neu", "neg", "crisis_boycott"):
            texts = {sample_text(kind, lang, rng, domain="coffee") for _ in range(3000)}
            assert len(texts) > 1000, (lang, kind)


def test_bad_specs_are_refused() -> None:
    with pytest.raises(ValueError):
        EventSpec("meltdown", "acme", 0, 60)
    with pytest.raises(ValueError):
        ScenarioSpec("x", brands=(ACME,), events=(EventSpec("firestorm", "nobody", 0, 60),))
    with pytest.raises(ValueError):
        ScenarioSpec("x", duration_s=60, brands=(ACME,), events=(FIRE,))


def test_demo_has_every_kind_and_a_realistic_size() -> None:
    spec = demo_spec()
    assert {ev.kind for ev in spec.events} == KINDS - {"slow_swell", "campaign"}
    assert len({b.name for b in spec.brands}) == 5
    sc = demo_scenario()
    assert 100_000 <= len(sc.comments) <= 150_000
    kinds = collections.Counter(lab.kind for lab in sc.labels)
    assert kinds["firestorm"] == 2 and sum(lab.must_alert for lab in sc.labels) == 3
    assert {lab.lang for lab in sc.labels if lab.kind == "firestorm"} == {"en", "de"}

"""`distinctive_terms` is scikit-learn's TF-IDF arithmetic written out: the same terms
as the vectorizer it replaced, on any texts (near-equal rises ranked alphabetically in
both)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.feature_extraction.text import TfidfVectorizer

from stormwatch.detectors.explain import TIE_DECIMALS, _analysed, distinctive_terms

WORDS = (
    "deleted comment censorship boycott refund coffee love order late great liars flavour "
    "never again the and"
).split()


def vectorizer_terms(incident: list[str], normal: list[str], top: int = 8) -> list[str]:
    """The terms as `TfidfVectorizer` ranks them (the code `distinctive_terms` replaced)."""
    vectorizer = TfidfVectorizer(
        analyzer=_analysed,
        min_df=2 if len(incident) >= 4 else 1,
        max_features=20_000,
        sublinear_tf=True,
    )
    try:
        matrix = vectorizer.fit_transform(incident + normal)
    except ValueError:  # every term pruned
        return []
    n = len(incident)
    rise = np.asarray(matrix[:n].mean(axis=0)).ravel()
    if normal:
        rise = rise - np.asarray(matrix[n:].mean(axis=0)).ravel()
    rise = np.round(rise, TIE_DECIMALS)  # near-equal rises rank alphabetically
    terms = vectorizer.get_feature_names_out()
    chosen: list[str] = []
    for i in np.argsort(-rise, kind="stable"):  # the vocabulary is sorted
        if rise[i] <= 0 or len(chosen) >= top:
            break
        term = str(terms[i])
        if any(set(term.split()) & set(c.split()) for c in chosen):
            continue
        chosen.append(term)
    return chosen


texts = st.lists(
    st.lists(st.sampled_from(WORDS), min_size=0, max_size=8).map(" ".join),
    min_size=0,
    max_size=12,
)


@settings(max_examples=300, deadline=None)
@given(incident=texts.filter(bool), normal=texts, top=st.integers(1, 10))
def test_the_terms_are_the_vectorizers(incident: list[str], normal: list[str], top: int) -> None:
    assert distinctive_terms(incident, normal, top=top) == vectorizer_terms(incident, normal, top)


def test_terms_that_overlap_a_listed_one_leave_room_for_others() -> None:
    """A campaign's terms read "acme, acme lied, lied, lied recall": pairs whose words
    were listed beside them, while "recall" and "shame" had no room."""
    storm = ["acme lied about the recall, shame", "acme lied, recall hidden, shame"] * 3
    normal = ["love the coffee", "great flavour today", "where to buy it"] * 4
    terms = distinctive_terms(storm, normal, top=4)
    assert "recall" in terms and "shame" in terms, terms
    assert not any(set(a.split()) & set(b.split()) for a in terms for b in terms if a != b)


def test_a_storms_words_rise_above_everyday_talk() -> None:
    storm = ["you deleted my comment", "deleted again, censorship", "censorship!"]
    storm += ["boycott them, censorship", "they deleted it"]
    normal = ["love the coffee", "great flavour", "my order was late", "love it"] * 5
    assert distinctive_terms(storm, normal, top=2) == ["censorship", "deleted"]
    assert distinctive_terms([], normal) == []


def test_a_posts_storm_is_not_learnt_as_its_brands_normal_talk() -> None:
    """The brand's normal talk (what top terms stand out from) took the storm's own
    plain comments while an incident on one of its posts was open: only a brand-wide
    incident kept them out."""
    import orjson

    from stormwatch.alerts.sinks import MemoryAlertSink
    from stormwatch.config import Settings
    from stormwatch.pipeline import Pipeline
    from tests.small_storm import small_storm_lines

    pipeline = Pipeline(Settings(), sinks=[MemoryAlertSink()])
    pipeline.clock = None
    learnt_in_storm = 0
    for line in small_storm_lines():
        post_incident = any(i.thread_id for i in pipeline.tracker.open.values())
        state = pipeline.brands.get("shop")
        before = (
            (len(state.normal_texts), state.normal_texts[-1])
            if state and state.normal_texts
            else None
        )
        pipeline.feed(line)
        state = pipeline.brands.get("shop")
        after = (
            (len(state.normal_texts), state.normal_texts[-1])
            if state and state.normal_texts
            else None
        )
        if post_incident and after != before and "firestorm" in orjson.loads(line)["id"]:
            learnt_in_storm += 1
    pipeline.finish()
    opened = [i for i in pipeline.tracker.history if i.thread_id]
    assert opened, "the small storm opens an incident on its post"
    assert learnt_in_storm == 0


def _per_minute(number: str, unit: str) -> float:
    return float(number) / {"min": 1.0, "hour": 60.0, "day": 1440.0}[unit]


def test_a_summarys_ratio_is_the_ratio_of_the_rates_it_names() -> None:
    """ "run at 1.0/min, 20x a busy thread's usual 0.04/min": the five-minute rate beside
    the key's decayed ratio; and "the normal 0.00/min" at small brands."""
    import re

    from stormwatch.alerts.sinks import MemoryAlertSink
    from stormwatch.evaluation.scenario import BrandSpec, EventSpec, ScenarioSpec, generate
    from stormwatch.pipeline import Pipeline
    from tests.seeded_runs import replay

    spec = ScenarioSpec(
        "summary", duration_s=30 * 3600,
        brands=(BrandSpec("big", 6000, lang="en"), BrandSpec("small", 120, lang="en")),
        events=(EventSpec("firestorm", "big", 26 * 3600, 3600),
                EventSpec("firestorm", "small", 26 * 3600, 3600)),
        seed=3,
    )  # fmt: skip
    memory = MemoryAlertSink()
    replay(generate(spec).comments, pipeline=Pipeline(sinks=[memory]))
    pattern = re.compile(
        r"run at ([\d.]+)/(min|hour|day), ([\d.]+)x (?:the normal|a busy thread's usual) "
        r"([\d.]+)/(min|hour|day)"
    )
    checked = 0
    for e in memory.events:
        assert "0.00/" not in e.summary, e.summary
        m = pattern.search(e.summary)
        if m is None:
            continue
        rate, normal = _per_minute(m[1], m[2]), _per_minute(m[4], m[5])
        shown = float(m[3])
        assert abs(shown - rate / normal) <= 0.1 * rate / normal + 0.1, e.summary
        checked += 1
    assert checked, [e.summary for e in memory.events]


def _background(hours: int, per_day: int = 3000, seed: int = 8) -> list[dict]:
    """A brand's everyday comments with numeric times, to add a storm to."""
    from tests.seeded_runs import background_comments

    return background_comments("acme", per_day, hours, seed=seed)


def _alerts_of(stream: list[dict]) -> list:
    from stormwatch.alerts.sinks import MemoryAlertSink
    from stormwatch.pipeline import Pipeline
    from tests.seeded_runs import replay

    memory = MemoryAlertSink()
    replay(sorted(stream, key=lambda c: c["created_at"]), pipeline=Pipeline(sinks=[memory]))
    return memory.events


def test_a_campaigns_rate_is_reported_as_it_comes_in() -> None:
    """150 accounts pasting one text on a post, ten a minute: the alert said 0.4/min,
    the per-text cap the detectors once used, while its own curve showed ten."""
    comments = _background(10)
    start = comments[0]["created_at"] + 8 * 3600
    text = "Acme lied about the recall and deleted our complaints. Shame on you, boycott Acme!"
    campaign = [
        {"id": f"camp{i}", "text": text, "created_at": start + i * 6, "brand": "acme",
         "thread_id": "camp1", "platform": "facebook", "author_id": f"acct{i}"}
        for i in range(150)
    ]  # fmt: skip
    events = _alerts_of(comments + campaign)
    during = [
        e for e in events
        if e.thread_id in (None, "camp1") and e.event != "resolved"
        and start + 240 <= e.at < start + 900
    ]  # fmt: skip
    assert during, [(e.event, e.thread_id, e.at - start) for e in events]
    for e in during:  # 40 copies in the last five minutes at least
        assert e.drivers["negative_per_min_now"] >= 8.0, e.drivers


def test_an_events_curve_is_drawn_in_the_minutes_it_counted() -> None:
    """An update explained twelve minutes after its newest negative drew its curve
    ending at that negative's minute: the storm's minutes moved twelve minutes early
    on the chart and in the report. Joined over the incident's events, the curves give
    every minute's comments as they came (the stream is delivered in time)."""
    from collections import Counter

    from stormwatch.alerts.curve import VOLUME_CURVE_DRIVER, minute_counts

    comments = _background(6, per_day=1500, seed=13)
    t0 = comments[0]["created_at"]
    storm = []
    for k, start in enumerate((t0 + 3 * 3600, t0 + 4.5 * 3600)):
        storm += [
            {"id": f"s{k}-{i}", "text": f"Disgraceful, you deleted my complaint {i}. Shame!",
             "created_at": start + i * 15, "brand": "acme", "thread_id": "r1",
             "platform": "facebook", "author_id": f"acct{k}-{i}"}
            for i in range(80)
        ]  # fmt: skip
    events = _alerts_of(comments + storm)
    assert len(events) >= 3, [(e.event, e.at - t0) for e in events]
    truth = Counter(int(c["created_at"] // 60) for c in comments + storm)
    drawn = minute_counts([(e.at, e.drivers) for e in events], VOLUME_CURVE_DRIVER)
    assert len(drawn) > 180
    first = int(t0 // 60)
    wrong = {m - first: (n, truth[m]) for m, n in drawn.items() if n != truth[m]}
    assert not wrong, wrong


def test_an_incidents_peak_ratio_is_the_highest_ratio_it_reported() -> None:
    """At a brand of about 150 a day, no event of a slow storm reported more than 16x
    its normal (`ratio_to_baseline`, what severity reads), yet `peak_ratio_to_baseline`
    and the run's incident line said 30x: the key's decayed ratio, uncapped."""
    comments = _background(2 * 24 + 10, per_day=150, seed=11)
    start = comments[0]["created_at"] + 49 * 3600
    storm = [
        {"id": f"st{i}", "text": f"Disgraceful, you deleted my complaint {i}. Shame!",
         "created_at": start + i * 300 + 30, "brand": "acme", "thread_id": "sp1",
         "platform": "facebook", "author_id": f"angry{i}"}
        for i in range(12)
    ]  # fmt: skip
    events = _alerts_of(comments + storm)
    assert events
    seen: dict[str, float] = {}
    for e in events:
        reported = max(seen.get(e.incident, 0.0), e.drivers["ratio_to_baseline"])
        seen[e.incident] = reported
        assert e.drivers["peak_ratio_to_baseline"] == reported, (e.event, e.drivers)


def test_a_peak_counts_only_what_an_event_reported() -> None:
    """The peak rose with every minute the key was judged, not only with an event: an
    update said "peak 9.9" where no event had ever reported more than 6."""
    from stormwatch.alerts.incidents import IncidentTracker
    from stormwatch.detectors.crisis import Assessment

    tracker = IncidentTracker(
        explain=lambda incident, kind, a, x: ("s", {}, [], None), clock=lambda: 0.0,
        update_minutes=15,
    )  # fmt: skip

    def evidence() -> tuple[float, dict]:
        return 0.0, {"top_thread_share_30": 0.0, "off_top_thread_neg_30": 50}

    def seen(minute: int, ratio: float) -> object:
        a = Assessment(
            score=2, raw_score=2, ratio=ratio, key_ratio=ratio, growth=0, volume=0,
            benign=None, alerting=True, normal_rate=1.0,
        )  # fmt: skip
        return tracker.observe(
            "acme", brand="acme", thread_id=None, minute=minute, evidence=evidence, a=a
        )

    assert seen(0, 6.0) is not None  # opened at 6x
    assert seen(1, 9.9) is None  # the same band, a minute later: nothing reported
    (incident,) = tracker.open.values()
    assert incident.peak_severity_ratio == 6.0

"""A storm key's account profile, kept as its span slides, equals the one counted afresh
from the key's mention log: through comments of several open minutes interleaving, late
comments inserted into counted minutes, spans that grow, jump or move back, and a
pipeline run with a campaign and a bot burst."""

from __future__ import annotations

from types import SimpleNamespace

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from stormwatch.alerts.sinks import MemoryAlertSink
from stormwatch.detectors.accounts import AccountProfile
from stormwatch.detectors.sliding_profile import SlidingProfile
from stormwatch.evaluation.scenario import BrandSpec, EventSpec, ScenarioSpec, generate
from stormwatch.key_window import KeyWindow
from stormwatch.pipeline import Pipeline

OPEN_MINUTES = 3  # minutes taking comments at once, ahead of the last closed one


def _comment(n: int, author: str, text: str, minute: int) -> SimpleNamespace:
    return SimpleNamespace(
        id=str(n), author_id=author, text=text, thread_id=None, negativity=0.9,
        author_followers=0, created_at=60.0 * minute + 1,
    )  # fmt: skip


# One step: close minutes (0-2 of them) and look at the profile over a width, with the
# minutes still open up to some minute counted in (an early look), or add a negative
# comment `ahead` minutes after the last closed minute (<= 0: late) by one of a few
# accounts with one of a few texts.
_STEP = st.one_of(
    st.tuples(st.just("look"), st.integers(0, 2), st.integers(1, 12), st.integers(0, OPEN_MINUTES)),
    st.tuples(
        st.just("add"),
        st.integers(-8, OPEN_MINUTES),
        st.tuples(st.sampled_from("abcdef"), st.sampled_from(("boo", "bad", "worst"))),
    ),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_STEP, max_size=120))
def test_a_sliding_profile_is_the_profile_counted_afresh(steps: list[tuple]) -> None:
    window = KeyWindow("acme", "acme", None, 0)
    sliding = SlidingProfile()
    closed = 10  # the last closed minute
    for n, step in enumerate(steps):
        if step[0] == "look":
            _, advance, width, open_ahead = step
            closed += advance
            upto = closed + open_ahead
            got = sliding.profile(window, closed, width, upto)
            fresh = window.negatives_since(upto, width + open_ahead)
            assert got == AccountProfile.of_mentions(fresh)
        else:
            _, ahead, (author, text) = step
            minute = closed + max(ahead, -closed)
            sliding.mark_stale(minute)  # as `Judge.note` does for every negative
            c = _comment(n, author, text, minute)
            if ahead > 0:
                window.add(c, minute, True)  # type: ignore[arg-type]
            else:
                window.add_late(c, minute, True)  # type: ignore[arg-type]
            minutes = [m.minute for m in window.negatives]
            assert minutes == sorted(minutes)  # what every look back relies on


def test_a_pipeline_run_profiles_as_if_counted_afresh(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Every profile the guards took in a run with a campaign, a bot burst and a slow
    swell, and with the stream's own late and open-minute comments, checked."""
    looks = early = 0
    plain = SlidingProfile.profile

    def checked(self, window, hi, width, upto=None):  # type: ignore[no-untyped-def]
        nonlocal looks, early
        looks += 1
        got = plain(self, window, hi, width, upto)
        upto = hi if upto is None else upto
        early += upto > hi
        fresh = window.negatives_since(upto, width + upto - hi)
        assert got == AccountProfile.of_mentions(fresh)
        return got

    monkeypatch.setattr(SlidingProfile, "profile", checked)
    spec = ScenarioSpec(
        "sliding",
        brands=(BrandSpec("acme", 3000.0, lang="en"), BrandSpec("beta", 600.0, lang="de")),
        events=(
            EventSpec("campaign", "acme", start=10 * 3600, duration_s=2 * 3600),
            EventSpec("bot_burst", "beta", start=9 * 3600, duration_s=1800),
            EventSpec("slow_swell", "beta", start=13 * 3600, duration_s=6 * 3600),
        ),
        duration_s=22 * 3600,
        seed=3,
    )
    pipeline = Pipeline(sinks=[MemoryAlertSink()])
    for c in generate(spec).comments:
        pipeline.feed(orjson.dumps(c))
    pipeline.finish()
    assert looks > 100 and early > 10


def test_a_late_comment_recounts_its_minute_not_the_span(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Collectors deliver a few percent of comments minutes late: each one into a
    counted minute used to recount the whole span (a day of a storm's negatives)."""
    window = KeyWindow("acme", "acme", None, 0)
    for n in range(1000):  # ten negatives a minute over minutes 0-99
        window.add(_comment(n, f"a{n % 37}", f"text {n % 11}", n // 10), n // 10, True)  # type: ignore[arg-type]
    sliding = SlidingProfile()
    sliding.profile(window, 99, 120)
    counted = 0
    plain = SlidingProfile._count

    def counting(self, m):  # type: ignore[no-untyped-def]
        nonlocal counted
        counted += 1
        plain(self, m)

    monkeypatch.setattr(SlidingProfile, "_count", counting)
    sliding.mark_stale(50)  # as `Judge.note` does, before the window takes it
    window.add_late(_comment(1000, "late", "text 3", 50), 50, True)  # type: ignore[arg-type]
    got = sliding.profile(window, 100, 120)
    assert counted == 11  # minute 50 again: its ten and the late one
    assert got == AccountProfile.of_mentions(window.negatives_since(100, 120))


def test_a_profile_from_an_older_checkpoint_restores() -> None:
    """Checkpoints pickled before stale minutes were kept restore with none stale."""
    window = KeyWindow("acme", "acme", None, 0)
    for n in range(30):
        window.add(_comment(n, f"a{n % 4}", "boo", n // 3), n // 3, True)  # type: ignore[arg-type]
    sliding = SlidingProfile()
    sliding.profile(window, 9, 20)
    _, slots = sliding.__getstate__()  # type: ignore[misc]
    old = {name: value for name, value in slots.items() if name != "stale"}
    restored = SlidingProfile.__new__(SlidingProfile)
    restored.__setstate__((None, old))
    restored.log = window.negatives  # pickling keeps the log it follows as its own copy
    restored.mark_stale(5)
    window.add_late(_comment(99, "z", "boo", 5), 5, True)  # type: ignore[arg-type]
    assert restored.profile(window, 10, 20) == AccountProfile.of_mentions(
        window.negatives_since(10, 20)
    )


def test_a_full_log_counts_afresh_only_when_its_span_lost_mentions() -> None:
    """A log at its count cap lets its oldest go with each new mention: counted afresh at
    every look, a storm's looks cost two to three times; now only when the dropped ones
    may have reached into the span. Either way the profile is the one counted afresh,
    over a span the full log has cut (600 minutes) and one it has not (60)."""
    from stormwatch.key_window import NEGLOG_LIMIT

    window = KeyWindow("acme", "acme", None, 0)
    wide, narrow = SlidingProfile(), SlidingProfile()
    per_minute = 40
    minutes = NEGLOG_LIMIT // per_minute + 200  # the log fills, then drops its oldest
    n = 0
    for minute in range(1, minutes):
        for k in range(per_minute):
            n += 1
            comment = _comment(n, f"a{k % 17}", ("boo", "bad")[k % 2], minute)
            window.add(comment, minute, True)  # type: ignore[arg-type]
        window.close(minute)
        if minute % 50:
            continue
        counts = narrow.by_minute  # a fresh count makes a new one
        for sliding, width in ((wide, 600), (narrow, 60)):
            got = sliding.profile(window, minute, width)
            assert got == AccountProfile.of_mentions(window.negatives_since(minute, width))
        if len(window.negatives) == NEGLOG_LIMIT and minute > 600:
            assert narrow.by_minute is counts, minute  # slid on, not counted afresh
    assert len(window.negatives) == NEGLOG_LIMIT

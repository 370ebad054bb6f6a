"""Keys with nothing building rest and catch up in closed form: the same alerts with and
without an observer, the same baselines within rounding, quiet stretches summed as
minute by minute within a percent, and resting threads the same incidents as threads
stepped every minute."""

from __future__ import annotations

import copy
import dataclasses
import math
import random

import orjson
import pytest

from stormwatch.alerts.event import AlertEvent
from stormwatch.detectors.baseline import BrandBaseline, DecayingMean
from stormwatch.detectors.sequential import BinomialCusum, PoissonCusum
from stormwatch.evaluation.scenario import BrandSpec, EventSpec, ScenarioSpec, generate
from stormwatch.pipeline import Pipeline

REL = 1e-9


def _close(a: float, b: float) -> bool:
    return a == b or abs(a - b) <= REL * max(abs(a), abs(b))


def test_decaying_mean_zero_updates_at_once() -> None:
    for half_life in (10.0, 60.0, 144.0, 1440.0):
        a, b = DecayingMean(half_life), DecayingMean(half_life)
        for x in (3.0, 0.0, 7.5):
            a.update(x)
            b.update(x)
        for _ in range(5000):
            a.update(0.0)
        b.update_zeros(5000)
        assert _close(a.weighted, b.weighted) and _close(a.weight, b.weight)


@pytest.mark.parametrize("seed", range(40))
def test_learn_quiet_equals_zero_minutes(seed: int) -> None:
    rng = random.Random(seed)
    a, b = BrandBaseline(), BrandBaseline()
    minute = rng.randrange(0, 5000)
    for _ in range(rng.randrange(1, 150)):
        n = rng.randrange(0, 30)
        neg = rng.randrange(0, n + 1)
        a.learn(minute, n=n, neg=neg)
        b.learn(minute, n=n, neg=neg)
        minute += 1
    k = rng.choice([1, 3, 9, 10, 11, 19, 20, 21, 29, 30, 59, 61, 1439, 1440, 1441, 3000, 20000])
    for m in range(minute, minute + k):
        a.learn(m, n=0, neg=0)
    b.learn_quiet(minute, k)
    minute += k
    assert (a.minutes, a.slot_seen, a._block) == (b.minutes, b.slot_seen, b._block)
    assert a._previous_block == b._previous_block
    for x, y in [
        (a.level, b.level),
        (a.neg, b.neg),
        (a.total, b.total),
        (a.dispersion, b.dispersion),
        (a.volume_spread, b.volume_spread),
        (a.burst_spread, b.burst_spread),
        *zip(a.slots, b.slots, strict=True),
    ]:
        assert _close(x.weighted, y.weighted) and _close(x.weight, y.weight)
    for m in range(minute, minute + 1440, 97):
        ea, eb = a.expected(m), b.expected(m)
        assert _close(ea.volume_per_min, eb.volume_per_min)
        assert _close(ea.neg_share, eb.neg_share)
        assert _close(ea.dispersion, eb.dispersion)


@pytest.mark.parametrize("seed", range(60))
def test_quiet_totals_follow_the_minute_by_minute_expectations(seed: int) -> None:
    """A resting brand's tests fall by the sum of its quiet minutes' expectations: within
    a percent of learning the zero minutes one by one and summing `expected` on the way
    (the level sinking, hour slots switching and starting to stand on their own)."""
    rng = random.Random(seed)
    a, b = BrandBaseline(), BrandBaseline()
    minute = rng.randrange(0, 5000)
    rate = 10 ** rng.uniform(-2, 1)
    for _ in range(rng.randrange(61, 3000)):
        n = sum(rng.random() < rate / 5 for _ in range(5)) if rate < 5 else round(rate)
        neg = sum(rng.random() < 0.1 for _ in range(n))
        a.learn(minute, n=n, neg=neg)
        b.learn(minute, n=n, neg=neg)
        minute += 1
    k = rng.choice([1, 2, 5, 37, 60, 61, 119, 500, 1439, 3000])
    volume = negative = 0.0
    for m in range(minute, minute + k):
        e = a.expected(m)
        volume += max(e.volume_per_min, 1e-3)
        negative += e.neg_per_min
        a.learn(m, n=0, neg=0)
    got_volume, got_negative = b.quiet_totals(minute, k, 1e-3)
    assert got_volume == pytest.approx(volume, rel=0.01)
    assert got_negative == pytest.approx(negative, rel=0.01)


@pytest.mark.parametrize("seed", range(30))
def test_a_catch_up_sums_only_as_far_as_the_tests_need(seed: int) -> None:
    """`quiet_total_to_zero` is where `decay_quiet` has taken every design to zero, and
    `quiet_totals` stopped at `enough` returns sums that reach it (or the whole stretch's
    sums): a resting key catching up decays its tests exactly as with the full sums."""
    rng = random.Random(seed)
    cusum = PoissonCusum()
    for _ in range(rng.randint(1, 30)):
        cusum.learn_count(rng.choice([0, 0, 1, 2, 5]), rng.uniform(0.001, 0.5))
    phi = rng.uniform(1.0, 3.0)
    needed = cusum.quiet_total_to_zero(phi)
    at_zero = PoissonCusum()
    at_zero.sums = list(cusum.sums)
    at_zero.decay_quiet(needed, phi)
    assert at_zero.sums == [0.0] * len(cusum.sums)
    if cusum.statistic:
        short = PoissonCusum()
        short.sums = list(cusum.sums)
        short.decay_quiet(0.99 * needed, phi)
        assert short.statistic > 0.0

    baseline = BrandBaseline()
    minute = rng.randrange(1440)
    for _ in range(rng.randint(30, 600)):
        n = rng.choice([0, 1, 3, 8])
        baseline.learn(minute, n=n, neg=min(n, rng.choice([0, 1])))
        minute += 1
    k = rng.choice([5, 61, 300, 1439, 3000])
    full = baseline.quiet_totals(minute, k, 1e-3)
    enough = (rng.uniform(0, full[0]), rng.uniform(0, full[1]))
    partial = baseline.quiet_totals(minute, k, 1e-3, enough)
    assert partial == full or (partial[0] >= enough[0] and partial[1] >= enough[1])
    assert partial[0] <= full[0] and partial[1] <= full[1]


class _Events:
    def __init__(self) -> None:
        self.events: list[dict] = []

    def emit(self, event: AlertEvent) -> None:
        d = orjson.loads(orjson.dumps(event.to_json_dict(), default=str))
        d.pop("emitted_at", None)
        self.events.append(d)

    def close(self) -> None:
        pass


class _EveryMinute:
    """An observer: the pipeline then steps every brand every minute (nothing sleeps)."""

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        return lambda *args, **kwargs: None


def _run(
    lines: list[bytes],
    *,
    lazy: bool,
    pipelines: list[Pipeline] | None = None,
    rests: bool = True,
) -> tuple[list[dict], int]:
    """The alert events (without `emitted_at`) and how many brand-minutes were judged
    (resting minutes an observer sees are not judged); the pipeline goes to
    `pipelines`. `rests` False: no brand ever rests (every minute stepped)."""
    sink = _Events()
    observer = None if lazy else _EveryMinute()
    pipeline = Pipeline(sinks=[sink], observer=observer)  # type: ignore[arg-type]
    pipeline.judge.rests = rests
    judge_brands = pipeline.judge.judge_brands
    judged = 0

    def counting(*args, **kwargs):  # type: ignore[no-untyped-def]
        nonlocal judged
        for verdict in judge_brands(*args, **kwargs):
            judged += not verdict.rested
            yield verdict

    pipeline.judge.judge_brands = counting  # type: ignore[method-assign]
    pipeline.feed_lines(lines)
    pipeline.finish()
    if pipelines is not None:
        pipelines.append(pipeline)
    return sink.events, judged


def test_resting_brands_of_every_size_give_the_same_alerts_and_the_same_state() -> None:
    """Brands from 40 to 8,000 comments a day, storms at a small, a middling and a
    large one: an observer that sees every brand's minute changes no alert and no
    brand's state, and most brand-minutes of the small brands rest."""
    rng = random.Random(3)
    sizes = [40, 80, 150, 300, 600, 1200, 2500, 5000, 8000] + [
        int(40 * 10 ** rng.uniform(0, 2)) for _ in range(15)
    ]
    brands = tuple(BrandSpec(f"b{i}", size, lang="en") for i, size in enumerate(sizes))
    spec = ScenarioSpec(
        "rest",
        brands=brands,
        events=(
            EventSpec("firestorm", "b1", start=15 * 3600, duration_s=4 * 3600),
            EventSpec("firestorm", "b5", start=10 * 3600, duration_s=2 * 3600),
            EventSpec("viral_positive", "b8", start=12 * 3600, duration_s=2 * 3600),
            EventSpec("firestorm", "b7", start=18 * 3600, duration_s=2 * 3600),
        ),
        duration_s=86400,
        seed=13,
    )
    lines = [orjson.dumps(c) for c in generate(spec).comments]
    runs: list[Pipeline] = []
    lazy, judged_lazy = _run(lines, lazy=True, pipelines=runs)
    eager, judged_eager = _run(lines, lazy=False, pipelines=runs)
    assert lazy == eager
    assert {e["brand"] for e in lazy if e["event"] == "opened"} >= {"b5", "b7"}
    assert judged_lazy == judged_eager  # the observer saw resting minutes, judged none
    minutes = runs[0].stats.minutes_closed
    assert judged_lazy < 0.7 * minutes * len(sizes)  # small brands mostly rested
    a, b = runs[0].judge, runs[1].judge
    for brand in a.brands:
        sa, sb = a.brands[brand], b.brands[brand]
        m = max(sa.last_minute, sb.last_minute) + 1
        for state, judge in ((sa, a), (sb, b)):
            judge._catch_up(state, m)
        assert _close(sa.baseline.level.weighted, sb.baseline.level.weighted), brand
        assert _close(sa.baseline.share(), sb.baseline.share()), brand
        assert all(map(_close, sa.monitor.rate.sums, sb.monitor.rate.sums)), brand
        assert all(map(_close, sa.monitor.share.sums, sb.monitor.share.sums)), brand
        assert all(map(_close, sa.volume.cusum.sums, sb.volume.cusum.sums)), brand


def test_brands_in_their_first_hour_rest_too_and_alert_as_if_stepped() -> None:
    """Many small brands that speak a few times an hour: between their comments they
    rest from their first minute on, not only after an hour of warm-up (at 20,000 such
    brands, stepping each one for an hour was most of the work). Their quiet warm-up
    minutes are taken in closed form: the same alerts as when every brand is stepped
    every minute (scores within the closed form's percent), and the storm at one of
    them still opens."""
    rng = random.Random(5)
    sizes = [int(40 * 10 ** rng.uniform(0, 1)) for _ in range(60)]
    brands = tuple(BrandSpec(f"s{i}", size, lang="en") for i, size in enumerate(sizes))
    spec = ScenarioSpec(
        "warm-rest",
        brands=brands,
        events=(EventSpec("firestorm", "s3", start=5400, duration_s=5400),),
        duration_s=3 * 3600,
        seed=17,
    )
    lines = [orjson.dumps(c) for c in generate(spec).comments]
    runs: list[Pipeline] = []
    resting, judged_resting = _run(lines, lazy=True, pipelines=runs)
    stepped, judged_stepped = _run(lines, lazy=True, pipelines=runs, rests=False)
    fields = ("event", "incident", "brand", "thread_id", "kind", "severity", "at")
    assert [[e[f] for f in fields] for e in resting] == [[e[f] for f in fields] for e in stepped]
    # Scores within the closed form's rounding (quiet stretches summed within a percent).
    assert [e["score"] for e in resting] == pytest.approx([e["score"] for e in stepped], rel=0.01)
    assert "s3" in {e["brand"] for e in resting if e["event"] == "opened"}
    # Over their first three hours, the brands are judged on a tenth of the minutes (on
    # four tenths when each was stepped through its first hour).
    assert judged_resting < 0.2 * judged_stepped
    # Caught up to the same minute, each brand has learned what stepping taught it.
    a, b = runs[0].judge, runs[1].judge
    for brand, sa in a.brands.items():
        sb = b.brands[brand]
        m = max(sa.last_minute, sb.last_minute) + 1
        a._catch_up(sa, m)
        assert sa.baseline.minutes == sb.baseline.minutes, brand
        assert _close(sa.baseline.share(), sb.baseline.share()), brand


def test_a_brand_past_its_first_hour_rests_with_its_share_test_half_way() -> None:
    """One negative comment holds the share test of a brand of a few comments a day
    half-way for hours; a minute without comments does not move that test, and with the
    rate test under half its threshold the evidence (the smaller of the two) is too. So
    past its first hour such a brand rests; in its first hour, where the share test
    alone is the evidence, it does not."""
    from stormwatch.detectors.judge import BrandState, BrandVerdict, _may_rest, _quiet

    state = BrandState()
    for minute in range(120):
        state.baseline.learn(minute, n=1, neg=0)
    verdict = BrandVerdict(
        "b", None, _quiet(state.monitor, 0.01), False, 0, 0, 0.1, 0.1, share_evidence=0.7
    )
    assert _may_rest(state, verdict)
    assert not _may_rest(state, dataclasses.replace(verdict, rate_evidence=0.6))
    new = BrandState()  # in its first hour
    assert not _may_rest(new, verdict)
    assert _may_rest(new, dataclasses.replace(verdict, share_evidence=0.2))


def test_resting_thread_monitors_give_the_same_alerts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Thread monitors with nothing building are not stepped each minute; they catch up
    in closed form when their thread speaks again, and count for their brand's top
    thread meanwhile. A busy brand whose comments spread over thousands of threads, with
    a firestorm on one: the same incidents as stepping every monitor every minute, with
    far fewer steps."""
    from stormwatch.detectors import judge as judge_module
    from stormwatch.detectors.monitor import KeyMonitor

    spec = ScenarioSpec(
        "threads",
        brands=(BrandSpec("busy", 20000, lang="en"),),
        events=(EventSpec("firestorm", "busy", start=14 * 3600, duration_s=2 * 3600),),
        duration_s=86400,
        seed=9,
    )
    comments = generate(spec).comments
    rng = random.Random(9)
    lines = []
    for c in comments:  # most comments on one of 5,000 side threads that come and go
        if c.get("thread_id") and rng.random() < 0.5:
            c = {**c, "thread_id": f"side{rng.randrange(5000)}"}
        lines.append(orjson.dumps(c))
    steps = 0
    step = KeyMonitor.step

    def counting(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        nonlocal steps
        steps += 1
        return step(self, *args, **kwargs)

    monkeypatch.setattr(KeyMonitor, "step", counting)
    resting, _ = _run(lines, lazy=True)
    resting_steps, steps = steps, 0
    monkeypatch.setattr(judge_module, "_building", lambda monitor, norm: True)
    stepped, _ = _run(lines, lazy=True)
    assert resting and [(e["incident"], e["event"]) for e in resting] == [
        (e["incident"], e["event"]) for e in stepped
    ]
    assert resting_steps < 0.5 * steps


def _poisson_reference(sums: list[float], k: float, lam: float, phi: float) -> list[float]:
    """The rate test's step as river's `learn_one` first wrote it."""
    ratios = (1.5, 3.0, 10.0)
    logs = [math.log(r) for r in ratios]
    return [
        max(0.0, s + (k * lr - (r - 1.0) * lam) / max(1.0, phi))
        for s, r, lr in zip(sums, ratios, logs, strict=True)
    ]


def _binomial_reference(sums: list[float], k: int, n: int, p0: float) -> list[float]:
    """The share test's step as river's `learn_one` first wrote it."""
    odds0 = p0 / (1.0 - p0)
    out = []
    for s, r in zip(sums, (2.5, 8.0), strict=True):
        p1 = r * odds0 / (1.0 + r * odds0)
        wn, wo = math.log(p1 / p0), math.log((1.0 - p1) / (1.0 - p0))
        out.append(max(0.0, s + min(k, n) * wn + (n - min(k, n)) * wo))
    return out


@pytest.mark.parametrize("seed", range(5))
def test_direct_cusum_steps_are_the_river_steps_bit_for_bit(seed: int) -> None:
    """The judge steps its tests without river's dicts (`learn_count`, `learn_counts`,
    written out for the usual banks, sums updated in place, a step without comments
    skipped): every sum after every step is the very float the first-written arithmetic
    gives, and `learn_one` (river's API) gives the same."""
    rng = random.Random(seed)
    direct, river, steps = PoissonCusum(), PoissonCusum(), [0.0, 0.0, 0.0]
    share_direct, share_river, share_steps = BinomialCusum(), BinomialCusum(), [0.0, 0.0]
    for _ in range(3000):
        k = rng.choice((0, 0, 0, 0, 1, 2, 7, 40))
        lam = rng.choice((1e-4, 0.003, 0.05, 0.7, 20.0)) * rng.random() + 1e-9
        phi = rng.choice((0.0, 1.0, 1.6, 4.9))
        direct.learn_count(k, lam, phi)
        river.learn_one({"count": k, "expected": lam, "dispersion": phi})
        steps = _poisson_reference(steps, k, lam, phi)
        assert direct.sums == river.sums == steps
        n = max(k, rng.choice((0, 0, k + rng.randrange(30))))
        p0 = rng.choice((0.02, 0.1, 0.35, 0.6))
        share_direct.learn_counts(k, n, p0)
        share_river.learn_one({"k": k, "n": n, "share": p0})
        share_steps = _binomial_reference(share_steps, k, n, p0)
        assert share_direct.sums == share_river.sums == share_steps
        if rng.random() < 0.01:
            for detector in (direct, river, share_direct, share_river):
                detector.reset()
            steps, share_steps = [0.0, 0.0, 0.0], [0.0, 0.0]


def _detector_state(pipeline: Pipeline) -> list[tuple]:
    """Every number detection keeps per brand and thread, for bit-for-bit comparison."""
    judge = pipeline.judge
    out: list[tuple] = []
    for brand, state in judge.brands.items():
        b = state.baseline
        means = [b.level, b.neg, b.total, b.dispersion, b.volume_spread, b.burst_spread, *b.slots]
        out.append(
            (
                brand,
                state.asleep_since,
                state.share_frozen,
                state.volume.cusum.sums,
                state.volume.armed,
                tuple((m.weighted, m.weight) for m in means),
                b.comments,
                list(b._block),
                b._previous_block,
            )
        )
    for key, monitor in [
        *((b, s.monitor) for b, s in judge.brands.items()),
        *judge.threads.items(),
    ]:
        out.append(
            (
                key,
                monitor.rate.sums,
                monitor.share.sums,
                monitor.fast,
                monitor.slow,
                monitor.fast_n,
                monitor.last_minute,
                monitor.rising_since,
            )
        )
    return out


def test_judge_shortcuts_give_the_same_alerts_and_the_same_numbers() -> None:
    """The judge's shortcuts (no threshold for a brand's test at zero, no assessment for
    a key with nothing open, ahead or over its thresholds) against looking up and
    assessing every key every minute: the same
    assessments each minute, the same alert events, and every test's sums, recent rates
    and baseline the very same floats. Many small brands; a firestorm on a busy one's
    post, a brand-wide one at a small one, a bot burst."""
    brands = (
        BrandSpec("busy", 4000, lang="en"),
        *(BrandSpec(f"small{i}", 40 + 25 * i, lang="en") for i in range(16)),
    )
    spec = ScenarioSpec(
        "shortcuts",
        brands=brands,
        events=(
            EventSpec("firestorm", "busy", start=3 * 3600, duration_s=2 * 3600),
            EventSpec(
                "spreading_firestorm", "small14", start=4 * 3600, duration_s=5400,
                peak_rate_per_min=2.0,
            ),
            EventSpec("bot_burst", "small9", start=5 * 3600, duration_s=1800),
        ),
        duration_s=7 * 3600,
        # A seed whose busy brand's storm opens on its post, so both kinds of key open
        # an incident (at seed 11 the share-led rule opens the brand's first).
        seed=12,
    )  # fmt: skip
    lines = [orjson.dumps(c) for c in generate(spec).comments]
    runs = []
    for shortcuts in (True, False):
        sink = _Events()
        pipeline = Pipeline(sinks=[sink])
        judge = pipeline.judge
        judge.shortcuts = shortcuts
        said: list[tuple] = []
        judge_threads, judge_brands = judge.judge_threads, judge.judge_brands

        def threads(minute, *args, judge_threads=judge_threads, said=said):  # type: ignore[no-untyped-def]
            for window, a in judge_threads(minute, *args):
                said.append((minute, window.key, a))
                yield window, a

        def brands_(minute, *args, judge_brands=judge_brands, said=said):  # type: ignore[no-untyped-def]
            for v in judge_brands(minute, *args):
                said.append((minute, v.brand, v.assessment, v.dominated, v.evidence,
                             v.rate_evidence, v.share_evidence))  # fmt: skip
                yield v

        judge.judge_threads, judge.judge_brands = threads, brands_  # type: ignore[method-assign]
        pipeline.feed_lines(lines)
        pipeline.finish()
        runs.append((said, sink.events, _detector_state(pipeline)))
    fast, plain = runs
    assert any(e["event"] == "opened" and e["thread_id"] is None for e in fast[1])
    assert any(e["event"] == "opened" and e["thread_id"] for e in fast[1])
    assert fast[0] == plain[0]  # what the judge said, key by key and minute by minute
    assert fast[1] == plain[1]
    assert fast[2] == plain[2]


@pytest.mark.parametrize("ratios", [(1.5, 3.0, 10.0), (2.0, 5.0)])
def test_a_quiet_run_lowers_each_design_by_its_expectation_and_no_further(
    ratios: tuple[float, ...],
) -> None:
    """`decay_quiet` takes each design down by (r - 1) times the expected total over the
    dispersion, never below zero, and `quiet_total_to_zero` is the least total that takes
    every design to zero; the usual bank of three, written out, and any other bank agree
    with that, bit for bit."""
    rng = random.Random(7)
    for _ in range(2000):
        test = PoissonCusum(ratios)
        test.sums = [rng.choice([0.0, rng.uniform(0.0, 20.0)]) for _ in ratios]
        total, dispersion = rng.choice([0.0, rng.uniform(0.0, 6.0)]), rng.uniform(0.5, 4.0)
        phi = max(1.0, dispersion)
        before = list(test.sums)
        to_zero = test.quiet_total_to_zero(dispersion)
        pairs = list(zip(before, ratios, strict=True))
        assert to_zero == max(s * phi / (r - 1.0) for s, r in pairs) * (1 + 1e-9)
        test.decay_quiet(total, dispersion)
        assert test.sums == [max(0.0, s - (r - 1.0) * total / phi) for s, r in pairs]
        test.sums = list(before)
        test.decay_quiet(to_zero, dispersion)
        assert test.sums == [0.0] * len(ratios)


@pytest.mark.parametrize("minutes", [59, 61, 200, 1380, 1381, 1382, 1500, 3000])
@pytest.mark.parametrize("offset", [0, 30, 59])
def test_a_quiet_stretch_updates_each_hour_slot_once_by_its_minutes(
    minutes: int, offset: int
) -> None:
    """`learn_quiet` gives each hour slot the zeros of all its minutes in the stretch at
    once, exactly as `_slot_counts` counts them, whether the stretch meets a slot once
    (walked hour by hour) or twice (over a day)."""
    from stormwatch.detectors.baseline import _slot_counts

    base = BrandBaseline()
    for m in range(3 * 1440):
        base.learn(m, n=m % 4, neg=m % 7 == 0)
    start = 3 * 1440 + 5 * 60 + offset
    quiet = copy.deepcopy(base)
    quiet.learn_quiet(start, minutes)
    for slot, count in enumerate(_slot_counts(start, minutes)):
        expected = copy.deepcopy(base.slots[slot])
        if count:
            expected.update_zeros(count)
        got = quiet.slots[slot]
        assert (got.weighted, got.weight) == (expected.weighted, expected.weight), slot
        assert quiet.slot_seen[slot] == base.slot_seen[slot] + count


def test_a_resting_brands_thread_norm_follows_what_it_is_made_of() -> None:
    """The threads of a resting brand are judged against a norm made once per rest; it
    must be made again whenever anything it is made of moves: a new rest, the brand's
    last hour of volume, its baseline (a catch-up learns), and never kept while the brand
    warms up (its share volume moves with each comment)."""
    from stormwatch.detectors.judge import Judge

    judge = Judge()
    state = judge.brand_state("acme")
    for m in range(120):
        state.baseline.learn(m, n=20, neg=2)
    state.asleep_since, state.rest = 120, (state.baseline.expected(120), 1.0)
    first = judge._thread_norm("acme", 130)
    assert judge._thread_norm("acme", 131) is first  # nothing moved: the same norm
    assert first.normal is state.rest[0]

    c, k, ec, ek = state.monitor.hour
    state.monitor.hour = (c + 6000.0, k, ec, ek)  # a busy last hour: a higher share volume
    busier = judge._thread_norm("acme", 132)
    assert busier is not first and busier.h_share != first.h_share

    state.rest = (state.baseline.expected(133), 1.0)  # a new rest
    renewed = judge._thread_norm("acme", 133)
    assert renewed is not busier and renewed.normal is state.rest[0]

    state.baseline.learn_quiet(133, 240)  # a catch-up taught it four quiet hours
    learned = judge._thread_norm("acme", 134)
    assert learned is not renewed

    young = judge.brand_state("newco")  # in its first hour: never kept
    young.baseline.learn(0, n=3, neg=1)
    young.asleep_since, young.rest = 1, (young.baseline.expected(1), 1.0)
    assert judge._thread_norm("newco", 2) is not judge._thread_norm("newco", 2)

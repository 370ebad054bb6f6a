from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from stormwatch.key_window import MINUTE, text_signature, thread_key
from stormwatch.model import Comment
from stormwatch.windows import WindowStore

T0 = 1_772_438_400.0  # 2026-03-02T08:00:00Z
LATENESS = 120.0


def comment(i: int, t: float, *, thread: str | None = "p1", brand: str = "b") -> Comment:
    return Comment(
        id=str(i),
        text=f"text {i}",
        created_at=t,
        brand=brand,
        thread_id=thread,
        author_id=f"u{i % 7}",
    )


def drain(store: WindowStore, closed: dict[str, dict[int, int]]) -> None:
    for m in store.closable():
        for table in (store.brands, store.threads):
            for key, w in table.items():
                if m in w.open or table is store.brands:
                    s = w.close(m)
                    closed.setdefault(key, {})[m] = closed.get(key, {}).get(m, 0) + s.n


def run(times: list[float], negatives: list[bool]) -> tuple[WindowStore, dict[str, dict[int, int]]]:
    store = WindowStore(lateness=LATENESS)
    closed: dict[str, dict[int, int]] = {}
    for i, (t, neg) in enumerate(zip(times, negatives, strict=True)):
        store.add(comment(i, t, thread=f"p{i % 3}"), neg)
        drain(store, closed)
    for m in store.flush():
        for table in (store.brands, store.threads):
            for key, w in table.items():
                if m in w.open or table is store.brands:
                    closed.setdefault(key, {})[m] = closed.get(key, {}).get(m, 0) + w.close(m).n
    return store, closed


@st.composite
def shuffled_within_lateness(draw: st.DrawFn) -> list[float]:
    """Event times in arrival order, each at most LATENESS behind the newest seen."""
    n = draw(st.integers(1, 120))
    offsets = sorted(draw(st.lists(st.floats(0, 3600), min_size=n, max_size=n)))
    delays = draw(st.lists(st.floats(0, LATENESS - 1), min_size=n, max_size=n))
    arrival = sorted(range(n), key=lambda i: offsets[i] + delays[i])
    return [T0 + offsets[i] for i in arrival]


@settings(max_examples=150, deadline=None)
@given(shuffled_within_lateness(), st.data())
def test_bucket_sums_equal_input_counts_within_lateness(
    times: list[float], data: st.DataObject
) -> None:
    negatives = data.draw(st.lists(st.booleans(), min_size=len(times), max_size=len(times)))
    store, closed = run(times, negatives)
    assert store.late_count == 0
    expected: dict[int, int] = {}
    for t in times:
        expected[int(t // MINUTE)] = expected.get(int(t // MINUTE), 0) + 1
    brand = {m: n for m, n in closed["b"].items() if n}
    assert brand == expected  # every comment in the minute of its event time
    threads = sum(n for key, per in closed.items() if key != "b" for n in per.values())
    assert threads == len(times)
    negs = sum(1 for m in store.brands["b"].negatives)
    assert negs == sum(negatives)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(0, 7200), min_size=1, max_size=80))
def test_any_order_loses_nothing_late_ones_land_in_their_own_minute(offsets: list[float]) -> None:
    times = [T0 + o for o in offsets]  # arbitrary order, far beyond the lateness bound
    store, _ = run(times, [False] * len(times))
    expected: dict[int, int] = {}
    for t in times:
        expected[int(t // MINUTE)] = expected.get(int(t // MINUTE), 0) + 1
    # Two hours fit in the history: every comment sits in its own minute, late or not.
    brand = {s.minute: s.n for s in store.brands["b"].closed if s.n}
    assert brand == expected
    late_reported = sum(s.late for s in store.brands["b"].closed)
    in_order_late = 0
    newest = -1e18
    closed_up_to = None
    for t in times:
        newest = max(newest, t)
        minute = int(t // MINUTE)
        if closed_up_to is not None and minute < closed_up_to:
            in_order_late += 1
        wm = newest - LATENESS
        first = int((times[0] - LATENESS) // MINUTE)
        closed_up_to = (
            max(first, int(wm // MINUTE))
            if closed_up_to is None
            else max(closed_up_to, int(wm // MINUTE))
        )
    assert store.late_count == in_order_late
    # Each late one is reported once to the detectors, with the key's next closing minute.
    assert late_reported == in_order_late


def test_idle_threads_are_evicted_and_brand_survives() -> None:
    store = WindowStore(lateness=LATENESS, idle_eviction=3600)
    store.add(comment(1, T0, thread="old"), False)
    store.add(comment(2, T0 + 7200, thread="new"), False)
    list(store.closable())
    for w in list(store.brands.values()) + list(store.threads.values()):
        for m in list(w.open):
            if m * MINUTE < T0 + 3600:
                w.close(m)
    evicted = store.evict_idle(T0 + 7200)
    assert evicted == [thread_key("b", "old")]
    assert thread_key("b", "new") in store.threads and "b" in store.brands


def test_copy_paste_variants_share_a_signature() -> None:
    assert text_signature("Boycott them NOW!!! #12") == text_signature("boycott them now #13 🙄")
    assert text_signature("Boycott them now") != text_signature("They deleted my comment")


def test_quiet_features_are_what_an_empty_window_gives() -> None:
    from stormwatch.detectors.baseline import Expectation
    from stormwatch.detectors.features import quiet_features, window_features
    from stormwatch.key_window import KeyWindow

    normal = Expectation(volume_per_min=2.0, neg_share=0.1, dispersion=1.3, minutes_seen=500)
    window = KeyWindow("b", "b", None, 1000)
    for m in range(1000, 1040):
        window.close(m)
    assert quiet_features(normal) == window_features(window, 1039, normal)


def test_a_restored_pipeline_closes_minutes_when_an_unbroken_one_does() -> None:
    import pickle

    import orjson

    from stormwatch.config import Settings
    from stormwatch.ingest.decode import Decoder
    from stormwatch.kafka.checkpoint import restore, snapshot
    from stormwatch.pipeline import Pipeline
    from stormwatch.windows import ANY_SOURCE

    def pipeline() -> Pipeline:
        return Pipeline(Settings(), decoder=Decoder(clock=lambda: T0 + 86400))

    def line(k: int) -> bytes:
        return orjson.dumps({"id": f"c{k}", "text": "ok", "created_at": T0 + 10 * k, "brand": "b"})

    unbroken = pipeline()
    for k in range(60):
        unbroken.feed(line(k))
    restored = pipeline()
    restore(restored, pickle.loads(pickle.dumps(snapshot(unbroken))))
    assert restored.windows.holding is ANY_SOURCE
    for k in range(60, 90):
        unbroken.feed(line(k))
        restored.feed(line(k))
        assert restored.stats.minutes_closed == unbroken.stats.minutes_closed


def test_negatives_off_a_storms_posts_are_counted_over_half_an_hour_and_two() -> None:
    from stormwatch.detectors.features import negatives_off

    store = WindowStore(lateness=LATENESS)
    now = int(T0 // MINUTE) + 200  # the minute judged
    placed = [("p1", 5)] * 6 + [("p3", 10), ("p3", 12), (None, 20)] + [("p2", 90)] * 3
    placed += [("p2", 130)]  # two hours and more ago: in neither count
    for i, (thread, age) in enumerate(placed):
        store.add(comment(i, (now - age) * MINUTE + 1.0, thread=thread), True)
    window = store.brands["b"]
    assert negatives_off(window, now) == (3, 6)  # off p1, the busiest of the two hours
    assert negatives_off(window, now, {"p1", "p2"}) == (3, 3)
    assert negatives_off(window, now, {"p3"}) == (7, 10)


@settings(max_examples=60, deadline=None)
@given(
    ages=st.lists(st.integers(min_value=0, max_value=200), max_size=25),
    least=st.integers(min_value=1, max_value=6),
)
def test_a_rate_stands_on_the_shortest_span_holding_enough_negatives(
    ages: list[int], least: int
) -> None:
    """`supported_span`: the shortest of its spans whose negatives in the closed minutes
    come from at least `least` accounts (the longest when none), and what it holds."""
    from stormwatch.detectors.features import RATE_SPANS, supported_span, thin_span

    store = WindowStore(lateness=LATENESS)
    now = int(T0 // MINUTE) + 300
    store.add(comment(len(ages), (now - 250) * MINUTE + 1.0), False)  # the window's start
    for i, age in sorted(enumerate(ages), key=lambda item: -item[1]):  # in time order
        store.add(comment(i, (now - age) * MINUTE + 1.0), True)
    window = store.brands["b"]
    for m in range(now - 250, now + 1):
        window.close(m)
    span, negatives, comments, accounts = supported_span(window, now, least)
    held = {w: sum(1 for a in ages if a < w) for w in RATE_SPANS}
    crowd = {w: len({i % 7 for i, a in enumerate(ages) if a < w}) for w in RATE_SPANS}
    enough = [w for w in RATE_SPANS if crowd[w] >= least]
    assert span == (enough[0] if enough else RATE_SPANS[-1])
    assert negatives == comments == held[span]
    assert accounts == crowd[span]
    thin = thin_span(window, now, least)
    assert thin == (
        None if crowd[RATE_SPANS[0]] >= least else (span, negatives, comments, accounts)
    )


def test_an_early_decision_is_explained_with_the_minutes_still_open() -> None:
    """A decision taken early counted the minutes still open; its explanation counts
    them too (`with_open`), and a closed-minute view leaves them out."""
    from stormwatch.detectors.baseline import Expectation
    from stormwatch.detectors.features import supported_span, window_features

    store = WindowStore(lateness=LATENESS)
    now = int(T0 // MINUTE) + 300  # the last closed minute
    store.add(comment(0, (now - 20) * MINUTE + 1.0), True)
    for i in range(1, 7):  # six people's negatives in the open minute after it
        c = Comment(id=f"o{i}", text="x", created_at=(now + 1) * MINUTE + i, brand="b",
                    thread_id="p1", author_id=f"p{i}")  # fmt: skip
        store.add(c, True)
    window = store.brands["b"]
    for m in range(now - 20, now + 1):
        window.close(m)
    assert now + 1 in window.open
    normal = Expectation(volume_per_min=2.0, neg_share=0.1, dispersion=1.0, minutes_seen=500)
    closed = window_features(window, now, normal)
    early = window_features(window, now + 1, normal, with_open=True)
    assert (closed["neg_5"], closed["n_5"]) == (0, 0)
    assert (early["neg_5"], early["n_5"], early["neg_authors_30"]) == (6, 6, 7)
    assert supported_span(window, now + 1, 5, with_open=True) == (5, 6, 6, 6)
    assert supported_span(window, now, 5) == (180, 1, 1, 1)
    assert window.curve(now + 1, 2, with_open=True) == ([0, 6], [0, 6])


def test_a_keys_negatives_are_remembered_for_a_day_and_a_bit_not_for_days() -> None:
    """Kept by count alone (20,000), a busy brand's log held six days of negative comments
    (16 MB, in every checkpoint too), while no look goes back further than a guard's day
    from a minute up to the history back; at the count cap each look in a storm counted
    afresh. Each close now lets go of what is older than `NEGLOG_MINUTES`."""
    from stormwatch.detectors.judge import GUARD_MINUTES_MAX
    from stormwatch.key_window import HISTORY_MINUTES, NEGLOG_MINUTES, KeyWindow

    assert NEGLOG_MINUTES >= GUARD_MINUTES_MAX + HISTORY_MINUTES
    start = 29_540_000
    window = KeyWindow("b", "b", None, start)
    for minute in range(start, start + 3 * 1440):
        c = Comment(id=f"c{minute}", text="awful", created_at=minute * MINUTE, brand="b")
        window.add(c, minute, True)
        window.close(minute)
        assert window.negatives[0].minute >= minute - NEGLOG_MINUTES
    assert len(window.negatives) == NEGLOG_MINUTES + 1
    last = start + 3 * 1440 - 1
    assert len(window.negatives_since(last, GUARD_MINUTES_MAX)) == GUARD_MINUTES_MAX

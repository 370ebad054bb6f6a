"""Fuzzing the decoder and the pipeline together (issue 11): whatever the records, no
exception escapes, every record is accounted for (read = processed + dead-lettered +
held), and every alert and dead letter serialises. Bounded: a fixed number of examples."""

from __future__ import annotations

import functools

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stormwatch.detectors.enrich import Enricher
from stormwatch.ingest.dead_letters import dead_letter_json
from stormwatch.ingest.decode import Decoder
from stormwatch.ingest.pseudonym import Pseudonymizer
from stormwatch.model import DeadLetter
from stormwatch.pipeline import Pipeline

T0 = 1_772_438_400.0

numbers = st.one_of(
    st.integers(min_value=-(2**64), max_value=2**64),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([1e20, -1e20, 2**63, 1e308]),
)
scalars = st.one_of(st.none(), st.booleans(), numbers, st.text(max_size=30))
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
comment = st.fixed_dictionaries(
    {
        "id": st.one_of(st.text(min_size=1, max_size=8), values),
        "text": st.one_of(
            st.sampled_from(["awful, I hate this", "love it", "terrible!!"]), st.text(max_size=80)
        ),
        "created_at": st.one_of(
            st.floats(min_value=T0, max_value=T0 + 6 * 3600), values, st.text(max_size=25)
        ),
        "brand": st.one_of(st.sampled_from(["acme", "beta"]), values),
    },
    optional={
        "thread_id": st.one_of(st.sampled_from(["p1", "p\u001f2"]), values),
        "author_id": st.one_of(st.text(max_size=10), values),
        "author_followers": values,
        "platform": values,
        "lang": values,
        "extra": values,
    },
)


def encode(obj: dict) -> bytes:
    try:
        return orjson.dumps(obj)
    except TypeError:  # integers past 64 bits: write the JSON by hand
        return repr(obj).replace("'", '"').replace("None", "null").encode()


records = st.one_of(
    comment.map(encode),
    st.binary(max_size=60),
    st.sampled_from([b"", b"[]", b"{", b"\xff", b'{"id": 1e999}', b"[" * 500 + b"]" * 500]),
)


@functools.cache
def enricher() -> Enricher:
    return Enricher()


class Collect:
    def __init__(self) -> None:
        self.items: list[bytes] = []

    def emit(self, event) -> None:  # type: ignore[no-untyped-def]
        self.items.append(orjson.dumps(event.to_json_dict()))

    def write(self, letter: DeadLetter) -> None:
        self.items.append(orjson.dumps(dead_letter_json(letter)))

    def close(self) -> None:
        pass


def fuzz_pipeline(alerts: Collect, dead: Collect, *, now: float, private: bool) -> Pipeline:
    """A pipeline whose alerts and dead letters serialise into `alerts` and `dead`, its
    decoder's clock at `now`; `private`: authors pseudonymised."""
    return Pipeline(
        sinks=[alerts],
        dead_letters=dead,
        enricher=enricher(),
        decoder=Decoder(clock=lambda: now),
        pseudonymize=Pseudonymizer(b"k" * 32) if private else None,
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(records, max_size=40), st.booleans())
def test_pipeline_takes_anything_and_accounts_for_it(batch: list[bytes], private: bool) -> None:
    alerts, dead = Collect(), Collect()
    pipeline = fuzz_pipeline(alerts, dead, now=T0 + 86400, private=private)
    for n, raw in enumerate(batch):
        pipeline.feed(raw, f"fuzz:{n}")
    stats = pipeline.finish()
    assert stats.read == len(batch)
    assert stats.read == stats.processed + stats.dead_lettered + stats.held
    assert stats.held == 0  # the end of input settles every held record
    assert len(dead.items) == stats.dead_lettered
    assert "processing_error" not in stats.dead_letter_reasons  # nothing broke inside


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.floats(0.0, 1.0), records), max_size=40))
def test_hostile_records_inside_a_storm_leave_its_alert_standing(
    inserts: list[tuple[float, bytes]],
) -> None:
    """The same hostile records scattered through a stream that holds a storm: the storm
    still opens its incident on its post, every alert serialises, every record is
    accounted for. (The test above mostly meets the decoder: few of its records are
    comments, and none makes a storm.)"""
    from tests.test_hostile_input import T0 as STORM_T0
    from tests.test_hostile_input import storm_lines

    lines = list(storm_lines())
    for at, raw in sorted(inserts, key=lambda x: x[0], reverse=True):
        lines.insert(int(at * len(lines)), raw)
    alerts, dead = Collect(), Collect()
    pipeline = fuzz_pipeline(alerts, dead, now=STORM_T0 + 86400, private=False)
    for n, raw in enumerate(lines):
        pipeline.feed(raw, f"fuzz:{n}")
    stats = pipeline.finish()
    assert stats.read == len(lines) == stats.processed + stats.dead_lettered
    assert "processing_error" not in stats.dead_letter_reasons
    events = [orjson.loads(item) for item in alerts.items]
    assert any(
        e["event"] == "opened" and e["brand"] == "acme" and e["thread_id"] in ("launch-post", None)
        for e in events
    ), [(e["event"], e["brand"], e["thread_id"]) for e in events]

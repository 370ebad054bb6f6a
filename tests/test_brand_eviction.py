"""A brand that stops being talked about loses its detection state after a quiet week,
whether its minutes were judged (an observer on) or it slept, so endless streams stay
bounded; a brand still talked about keeps it."""

from __future__ import annotations

import pickle

import orjson
import pytest

from stormwatch.config import Settings
from stormwatch.detectors.judge import BrandState
from stormwatch.ingest.decode import Decoder
from stormwatch.pipeline import BRAND_STATE_IDLE_MINUTES, Pipeline

T0 = 1_772_438_400.0
STEP = 600.0  # the other brand speaks every 10 minutes


class CountingObserver:
    """Any observer: with one, every brand is judged every minute (none sleeps)."""

    def __getattr__(self, name: str):  # noqa: ANN204 - every hook is a no-op
        return lambda *args, **kwargs: None


def line(i: str, t: float, brand: str) -> bytes:
    return orjson.dumps({"id": i, "text": "nice", "created_at": t, "brand": brand})


@pytest.mark.parametrize("observed", [False, True], ids=["sleeping", "judged"])
def test_a_brand_quiet_for_a_week_is_forgotten_a_talked_about_one_is_not(observed: bool) -> None:
    pipeline = Pipeline(
        Settings(), decoder=Decoder(clock=lambda: T0 + 30 * 86400),
        observer=CountingObserver() if observed else None,
    )  # fmt: skip
    pipeline.feed(line("once", T0, "quiet"))
    days = BRAND_STATE_IDLE_MINUTES // 1440 + 1
    steps_a_day = int(86400 / STEP)
    for k in range(1, days * steps_a_day + 12):
        pipeline.feed(line(f"c{k}", T0 + k * STEP, "busy"))
        if k == (days - 1) * steps_a_day:
            assert "quiet" in pipeline.brands  # quiet for a day less than a week: kept
    assert "quiet" not in pipeline.brands
    assert "busy" in pipeline.brands


def test_a_brand_state_from_an_older_checkpoint_gets_the_new_fields() -> None:
    state = BrandState(order=3)
    state.last_minute = 1234
    old = pickle.dumps(state)
    # what a checkpoint written before `last_active` and `asleep_since` held
    for name in ("last_active", "asleep_since"):
        delattr(state, name)
    restored = pickle.loads(pickle.dumps(state))
    assert (restored.last_active, restored.asleep_since, restored.order) == (1234, -1, 3)
    assert pickle.loads(old).last_active == -1

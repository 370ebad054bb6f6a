"""An incident's curve (negative comments per minute over time) and its text sparkline.

The best source is the per-minute curve an alert carries in its drivers
(`negative_per_min_curve`, oldest first, ending at the minute `curve_end`, or at the
event's minute in events stored before it was sent); until the pipeline sends it, the
curve is rebuilt from the incident's own event history, one point per event
(`negative_per_min_now` at the event's time). Both are event time.

Across an incident, `minute_counts` joins the curves of all its events into one record
minute by minute, from three hours before it opened to its last event; `usual_rate` is
the normal the opening event was judged against, before the storm could move it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

CURVE_DRIVER = "negative_per_min_curve"
CURVE_END_DRIVER = "curve_end"
VOLUME_CURVE_DRIVER = "volume_per_min_curve"
BARS = "▁▂▃▄▅▆▇█"


def incident_curve(
    drivers: Mapping[str, Any], at: float, history: Sequence[tuple[float, Mapping[str, Any]]]
) -> list[tuple[float, float]]:
    """(event time, negative comments per minute) points, oldest first.

    `history` is the incident's events as (at, drivers) pairs, in any order.
    """
    per_minute = drivers.get(CURVE_DRIVER)
    if isinstance(per_minute, list) and per_minute:
        end = _curve_end(drivers, at)
        n = len(per_minute)
        return [(end - (n - 1 - i) * 60.0, float(v)) for i, v in enumerate(per_minute)]
    points = {
        when: float(d["negative_per_min_now"])
        for when, d in history
        if isinstance(d.get("negative_per_min_now"), int | float)
    }
    return sorted(points.items())


def minute_counts(
    events: Iterable[tuple[float, Mapping[str, Any]]], driver: str = CURVE_DRIVER
) -> dict[int, int]:
    """{epoch minute: count} from the per-minute curve `driver` of each (at, drivers)
    event. Where curves overlap the one that ends latest wins: it also saw the late
    comments.

    >>> minute_counts([(180.0, {"c": [1, 2, 3]}), (240.0, {"c": [5, 4]})], "c")
    {1: 1, 2: 2, 3: 5, 4: 4}
    >>> minute_counts([(200.0, {"c": [7, 8], "curve_end": 300}), (250.0, {"c": [1]})], "c")
    {4: 7, 5: 8}
    """
    out: dict[int, int] = {}
    for at, drivers in sorted(events, key=lambda e: (_curve_end(e[1], e[0]), e[0])):
        curve = drivers.get(driver)
        if not isinstance(curve, list):
            continue
        end = int(_curve_end(drivers, at) // 60)
        for i, v in enumerate(curve):
            if isinstance(v, int | float):
                out[end - (len(curve) - 1 - i)] = int(v)
    return dict(sorted(out.items()))


def _curve_end(drivers: Mapping[str, Any], at: float) -> float:
    """The start of the minute an event's curves end at (epoch seconds)."""
    end = drivers.get(CURVE_END_DRIVER)
    if isinstance(end, int | float) and not isinstance(end, bool):
        return float(end - end % 60)
    return at - at % 60


def usual_rate(events: Iterable[tuple[float, Mapping[str, Any]]], driver: str) -> float | None:
    """The baseline `driver` of the earliest event that has it: what was normal when the
    incident opened. Later events may carry one the storm or the daily rhythm moved.

    >>> usual_rate([(120.0, {"b": 9.0}), (60.0, {"b": 0.5})], "b")
    0.5
    """
    for _, drivers in sorted(events, key=lambda e: e[0]):
        value = drivers.get(driver)
        if isinstance(value, int | float):
            return float(value)
    return None


def sparkline(values: Sequence[float], *, width: int = 30) -> str:
    """Bars scaled from zero to the maximum, resampled to at most `width` characters.

    >>> sparkline([0, 1, 2, 4, 8])
    '▁▂▃▅█'
    """
    if not values:
        return ""
    if len(values) > width:
        step = len(values) / width
        values = [
            max(values[int(i * step) : max(int((i + 1) * step), int(i * step) + 1)])
            for i in range(width)
        ]
    top = max(values)
    if top <= 0:
        return BARS[0] * len(values)
    return "".join(BARS[min(len(BARS) - 1, int(v / top * (len(BARS) - 1) + 0.5))] for v in values)

"""An incident's curve (negative comments per minute over time) and its text sparkline.

The best source is the per-minute curve an alert carries in its drivers
(`negative_per_min_curve`, oldest first, ending at the event's minute); until the
pipeline sends it, the curve is rebuilt from the incident's own event history, one point
per event (`negative_per_min_now` at the event's time). Both are event time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

CURVE_DRIVER = "negative_per_min_curve"
BARS = "▁▂▃▄▅▆▇█"


def incident_curve(
    drivers: Mapping[str, Any], at: float, history: Sequence[tuple[float, Mapping[str, Any]]]
) -> list[tuple[float, float]]:
    """(event time, negative comments per minute) points, oldest first.

    `history` is the incident's events as (at, drivers) pairs, in any order.
    """
    per_minute = drivers.get(CURVE_DRIVER)
    if isinstance(per_minute, list) and per_minute:
        end = at - at % 60
        n = len(per_minute)
        return [(end - (n - 1 - i) * 60.0, float(v)) for i, v in enumerate(per_minute)]
    points = {
        when: float(d["negative_per_min_now"])
        for when, d in history
        if isinstance(d.get("negative_per_min_now"), int | float)
    }
    return sorted(points.items())


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

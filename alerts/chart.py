"""A PNG of an incident's curve for its Slack thread: a picture of how fast it grows is
what people ask for first when a storm is escalated."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import UTC, datetime


def curve_png(
    points: Sequence[tuple[float, float]], *, title: str, baseline: float | None = None
) -> bytes:
    """Negative comments per minute over event time, with the normal rate as a line."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure  # no pyplot: no global state, thread-safe enough

    fig = Figure(figsize=(6.4, 2.8), dpi=100)
    ax = fig.add_subplot()
    times = [datetime.fromtimestamp(t, UTC) for t, _ in points]
    ax.plot(times, [v for _, v in points], color="#d62728", linewidth=1.8, marker=".")
    if baseline is not None:
        ax.axhline(baseline, color="#7f7f7f", linestyle="--", linewidth=1, label="normal")
        ax.legend(loc="upper left", frameon=False)
    ax.set_title(title, fontsize=10, parse_math=False)  # "Ca$$h Store" is a name, not TeX
    ax.set_ylabel("negative comments / min")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    fig.autofmt_xdate()
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png")
    return out.getvalue()

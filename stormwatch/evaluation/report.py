"""`stormwatch report`: a PNG of one brand's volume, negative share and incidents over time.

Without Grafana at hand, a person should still be able to *look* at a run rather than
read JSON: when did the talk swell, when did it turn negative, and where did stormwatch
open, escalate and resolve. With the comments file, volume and negative share are
recomputed from it (same enrichment as the pipeline); without it they come from the
drivers each alert event carries, which only exist at alert times.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display: render straight to a file

import matplotlib.dates as mdates  # noqa: E402 - after the backend is chosen
import matplotlib.pyplot as plt  # noqa: E402
import orjson  # noqa: E402

from stormwatch.config import Settings  # noqa: E402
from stormwatch.exceptions import StormwatchError  # noqa: E402

__all__ = ["ReportError", "render_report"]

SEVERITY_COLOURS = {"low": "#f2c744", "medium": "#f28e2b", "high": "#e15759", "critical": "#8b1a1a"}
EVENT_MARKERS = {"opened": "^", "escalated": "D", "updated": ".", "resolved": "v"}
MAX_BINS = 360
MIN_SHARE_COMMENTS = 5


class ReportError(StormwatchError):
    """The report cannot be drawn (no alerts for the brand, unreadable file)."""


@dataclass(slots=True)
class _Event:
    incident: str
    event: str
    severity: str
    at: float
    thread_id: str | None
    drivers: dict


@dataclass(slots=True)
class _Series:
    times: list[float]
    volume: list[float]  # comments per minute
    negative_share: list[float | None]
    volume_baseline: list[float | None]
    share_baseline: list[float | None]
    source: str


def render_report(
    alerts_path: str | Path,
    out_png: str | Path,
    *,
    comments_path: str | Path | None = None,
    brand: str | None = None,
) -> Path:
    """Draw the report for `brand` (default: the brand with the most alert events)."""
    events_by_brand = _read_alerts(Path(alerts_path))
    if brand is None:
        if not events_by_brand:
            raise ReportError(f"{alerts_path}: no alert events; name a brand with --brand")
        brand = max(events_by_brand, key=lambda b: (len(events_by_brand[b]), b))
    events = events_by_brand.get(brand, [])
    if comments_path is not None:
        series = _series_from_comments(Path(comments_path), brand)
    else:
        if not events:
            raise ReportError(f"{alerts_path}: no alert events for brand {brand!r}")
        series = _series_from_drivers(events)
    if not series.times:
        raise ReportError(f"no comments for brand {brand!r} in {comments_path}")
    out = Path(out_png)
    _draw(out, brand, series, events)
    return out


# -- input -------------------------------------------------------------------------------


def _epoch(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def _read_alerts(path: Path) -> dict[str, list[_Event]]:
    try:
        lines = path.read_bytes().splitlines()
    except OSError as exc:
        raise ReportError(f"cannot read {path}: {exc}") from None
    out: dict[str, list[_Event]] = {}
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            e = orjson.loads(line)
            event = _Event(
                e["incident"],
                e["event"],
                e["severity"],
                _epoch(e["at"]),
                e.get("thread_id"),
                e.get("drivers") or {},
            )
            out.setdefault(e["brand"], []).append(event)
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise ReportError(f"{path}:{n}: not an alert event ({exc})") from None
    for events in out.values():
        events.sort(key=lambda e: e.at)
    return out


def _series_from_drivers(events: list[_Event]) -> _Series:
    s = _Series([], [], [], [], [], "alert drivers of each incident's key, at alert times")
    for e in events:
        d = e.drivers
        if "volume_per_min_now" not in d:
            continue
        s.times.append(e.at)
        s.volume.append(float(d["volume_per_min_now"]))
        s.negative_share.append(d.get("negative_share"))
        s.volume_baseline.append(d.get("volume_per_min_baseline"))
        s.share_baseline.append(d.get("negative_share_baseline"))
    return s


def _series_from_comments(path: Path, brand: str) -> _Series:
    """Re-enrich the brand's comments and bin them; the same decoder and scorer as a run."""
    from stormwatch.detectors.enrich import Enricher
    from stormwatch.ingest.decode import Decoder
    from stormwatch.model import Comment

    decoder = Decoder()
    enricher = Enricher()
    threshold = Settings().negative_threshold
    volume: Counter[int] = Counter()
    negative: Counter[int] = Counter()
    try:
        fh = open(path, "rb")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise ReportError(f"cannot read {path}: {exc}") from None
    with fh:
        for line in fh:
            c = decoder.decode(line.rstrip(b"\r\n"), "")
            if not isinstance(c, Comment) or c.brand != brand:
                continue
            minute = int(c.created_at // 60)
            volume[minute] += 1
            _, negativity, _ = enricher.enrich(c.text, c.lang)
            if negativity >= threshold:
                negative[minute] += 1
    if not volume:
        return _Series([], [], [], [], [], "comments")
    first, last = min(volume), max(volume)
    width = max(1, math.ceil((last - first + 1) / MAX_BINS))  # minutes per bin
    s = _Series([], [], [], [], [], f"comments file, {width}-minute bins")
    for start in range(first - first % width, last + 1, width):
        n = sum(volume.get(m, 0) for m in range(start, start + width))
        neg = sum(negative.get(m, 0) for m in range(start, start + width))
        s.times.append((start + width / 2) * 60.0)
        s.volume.append(n / width)
        # A share of 1 of 2 comments is noise, not news: leave a gap instead.
        s.negative_share.append(neg / n if n >= MIN_SHARE_COMMENTS else None)
        s.volume_baseline.append(None)
        s.share_baseline.append(None)
    return s


# -- drawing -------------------------------------------------------------------------------


def _dt(t: float) -> datetime:
    return datetime.fromtimestamp(t, UTC)


def _draw(out: Path, brand: str, s: _Series, events: list[_Event]) -> None:
    fig, (ax_vol, ax_neg) = plt.subplots(
        2, 1, figsize=(13, 7.5), sharex=True, gridspec_kw={"height_ratios": [3, 2]}
    )
    times = [_dt(t) for t in s.times]
    sparse = s.source.startswith("alert")
    style = {"marker": "o", "markersize": 4} if sparse else {}
    ax_vol.plot(times, s.volume, color="#4e79a7", lw=1.2, label="comments/min", **style)
    base = [(t, v) for t, v in zip(times, s.volume_baseline, strict=True) if v is not None]
    if base:
        ax_vol.plot(*zip(*base, strict=True), color="#4e79a7", ls="--", lw=1, label="baseline")
    shares = [(t, v * 100) for t, v in zip(times, s.negative_share, strict=True) if v is not None]
    if shares:
        ax_neg.plot(
            *zip(*shares, strict=True), color="#e15759", lw=1.2, label="negative %", **style
        )
    usual = [(t, v * 100) for t, v in zip(times, s.share_baseline, strict=True) if v is not None]
    if usual:
        ax_neg.plot(*zip(*usual, strict=True), color="#e15759", ls="--", lw=1, label="usual %")

    end = max([*s.times, *(e.at for e in events)]) if events else s.times[-1]
    spans = _incident_spans(events, end)
    for ax in (ax_vol, ax_neg):
        for opened, closed, severity, _ in spans:
            ax.axvspan(_dt(opened), _dt(closed), color=SEVERITY_COLOURS[severity], alpha=0.18, lw=0)
    top = max(s.volume) if s.volume else 1.0
    seen: set[str] = set()
    for e in events:
        if e.event == "updated":
            continue
        label = f"{e.event}" if e.event not in seen else None
        seen.add(e.event)
        colour = "#59a14f" if e.event == "resolved" else SEVERITY_COLOURS[e.severity]
        ax_vol.axvline(_dt(e.at), color=colour, lw=0.8, alpha=0.7)
        ax_vol.plot(
            [_dt(e.at)], [top * 1.04], marker=EVENT_MARKERS[e.event], color=colour,
            markersize=9, ls="none", label=label, clip_on=False,
        )  # fmt: skip
        ax_neg.axvline(_dt(e.at), color=colour, lw=0.8, alpha=0.7)
    for opened, _closed, severity, where in spans:
        ax_vol.annotate(
            f"{severity} · {where}", (_dt(opened), top * 0.95), fontsize=8, rotation=90,
            va="top", ha="right", color="#333333",
        )  # fmt: skip

    ax_vol.set_ylabel("comments per minute")
    ax_vol.set_ylim(0, top * 1.1)
    ax_neg.set_ylabel("negative share (%)")
    ax_neg.set_ylim(0, 100)
    for ax in (ax_vol, ax_neg):
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, borderaxespad=0)
    first, last = min([*s.times, *(e.at for e in events)]), max([*s.times, end])
    pad = max(60.0, (last - first) * 0.03)
    ax_neg.set_xlim(_dt(first - pad), _dt(last + pad))
    for ax in (ax_vol, ax_neg):
        ax.grid(alpha=0.3)
    ax_neg.xaxis.set_major_formatter(mdates.DateFormatter("%a %d %H:%M"))
    ax_neg.set_xlabel("event time (UTC)")
    fig.autofmt_xdate()
    n_incidents = len(spans)
    fig.suptitle(
        f"stormwatch · {brand} · {n_incidents} incident{'s' if n_incidents != 1 else ''}"
        f"  —  source: {s.source}",
        fontsize=11,
    )
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)


def _incident_spans(events: list[_Event], end: float) -> list[tuple[float, float, str, str]]:
    """(opened, resolved or end, peak severity, where) per incident."""
    spans: dict[str, list] = {}
    for e in events:
        span = spans.get(e.incident)
        if span is None:
            where = f"thread {e.thread_id}" if e.thread_id else "brand-wide"
            span = spans[e.incident] = [e.at, end, e.severity, where]
        span[2] = e.severity  # severity never drops while open
        if e.event == "resolved":
            span[1] = e.at
    return [tuple(v) for v in sorted(spans.values())]  # type: ignore[misc]

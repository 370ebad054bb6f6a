"""`stormwatch report`: a PNG of one brand's negative comments, volume, negative share and
incidents over time.

Without Grafana at hand, a person should still be able to *look* at a run rather than
read JSON: when did the talk swell, when did it turn negative, and where did stormwatch
open, escalate and resolve. With the comments file, the series are recomputed from it
(same enrichment as the pipeline). Without it they come from the per-minute curves each
alert event carries (`volume_per_min_curve`, `negative_per_min_curve`: the incident's
key, three hours up to the event), joined minute by minute: each incident from three
hours before it opened to its last event; minutes no alert covered stay gaps. Alert files
from before those curves give one point per event, and the title says so.

The dashed "usual" lines are the brand's normal as the pipeline saw it when each incident
opened (`usual_rate`): the baselines of later events may have moved with the storm or the
time of day, and a storm drawn against them can look normal.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display: render straight to a file

import matplotlib.dates as mdates  # noqa: E402 - after the backend is chosen
import matplotlib.pyplot as plt  # noqa: E402
import orjson  # noqa: E402

from stormwatch.alerts.curve import (  # noqa: E402
    CURVE_DRIVER,
    VOLUME_CURVE_DRIVER,
    minute_counts,
    usual_rate,
)
from stormwatch.config import Settings  # noqa: E402
from stormwatch.exceptions import StormwatchError  # noqa: E402
from stormwatch.key_window import HISTORY_MINUTES  # noqa: E402

__all__ = ["ReportData", "ReportError", "render_report", "report_data"]

SEVERITY_COLOURS = {"low": "#f2c744", "medium": "#f28e2b", "high": "#e15759", "critical": "#8b1a1a"}
EVENT_MARKERS = {"opened": "^", "escalated": "D", "updated": ".", "resolved": "v"}
MAX_BINS = 360
MIN_SHARE_COMMENTS = 5
SHARE_MINUTES = 10  # the negative share of alert curves: over this many minutes, as alerts do
CONTEXT_SECONDS = HISTORY_MINUTES * 60.0  # how far before an opening its usual line reaches


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


@dataclass(frozen=True, slots=True)
class Span:
    """One incident as drawn: shaded from opening to resolution (or the last event)."""

    incident: str
    opened: float
    closed: float
    severity: str  # the highest it reached
    where: str  # "thread ..." or "brand-wide"
    usual_negative_per_min: float | None  # the brand's, when the incident opened
    usual_volume_per_min: float | None
    usual_negative_share: float | None


@dataclass(slots=True)
class ReportData:
    """What the chart is drawn from: per-minute rates at `times` (epoch seconds, None for
    a gap), each with the usual rate of the incident it belongs to (None outside one)."""

    brand: str
    source: str
    times: list[float] = field(default_factory=list)
    negative: list[float | None] = field(default_factory=list)  # negative comments/min
    volume: list[float | None] = field(default_factory=list)  # comments/min
    negative_share: list[float | None] = field(default_factory=list)
    usual_negative: list[float | None] = field(default_factory=list)
    usual_volume: list[float | None] = field(default_factory=list)
    usual_share: list[float | None] = field(default_factory=list)
    spans: list[Span] = field(default_factory=list)
    events: list[_Event] = field(default_factory=list)
    sparse: bool = False  # one point per alert event, not per minute
    per_key: bool = False  # each incident's own key (a thread's curve), not the whole brand


def report_data(
    alerts_path: str | Path,
    *,
    comments_path: str | Path | None = None,
    brand: str | None = None,
) -> ReportData:
    """The series and incidents of the report for `brand` (default: the brand with the
    most alert events)."""
    events_by_brand = _read_alerts(Path(alerts_path))
    if brand is None:
        if not events_by_brand:
            raise ReportError(f"{alerts_path}: no alert events; name a brand with --brand")
        brand = max(events_by_brand, key=lambda b: (len(events_by_brand[b]), b))
    events = events_by_brand.get(brand, [])
    if comments_path is not None:
        data = _series_from_comments(Path(comments_path), brand)
        if not data.times:
            raise ReportError(f"no comments for brand {brand!r} in {comments_path}")
    else:
        if not events:
            raise ReportError(f"{alerts_path}: no alert events for brand {brand!r}")
        data = _series_from_curves(brand, events)
    data.events = events
    end = max([*data.times, *(e.at for e in events)])
    data.spans = _incident_spans(events, end)
    _fill_usual(data)
    return data


def render_report(
    alerts_path: str | Path,
    out_png: str | Path,
    *,
    comments_path: str | Path | None = None,
    brand: str | None = None,
) -> Path:
    """Draw the report for `brand` (default: the brand with the most alert events)."""
    data = report_data(alerts_path, comments_path=comments_path, brand=brand)
    out = Path(out_png)
    _draw(out, data)
    return out


# -- input -------------------------------------------------------------------------------


def _epoch(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def _read_alerts(path: Path) -> dict[str, list[_Event]]:
    """The alert events of a JSONL file, by brand. A last line without its newline that
    does not parse is left out: a run killed while writing it leaves it so (see the
    README), and the report of the events before it is what was wanted."""
    try:
        data = path.read_bytes().removeprefix(b"\xef\xbb\xbf")  # a byte order mark
    except OSError as exc:
        raise ReportError(f"cannot read {path}: {exc}") from None
    lines = data.splitlines()
    torn = len(lines) if data and not data.endswith(b"\n") else 0
    out: dict[str, list[_Event]] = {}
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        if n == torn:
            try:
                orjson.loads(line)
            except orjson.JSONDecodeError:
                continue  # cut short by a crash
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
            if event.event not in EVENT_MARKERS or event.severity not in SEVERITY_COLOURS:
                raise ValueError(f"event {event.event!r} of severity {event.severity!r}")
            if not isinstance(event.drivers, dict):
                raise ValueError("drivers is not an object")
            out.setdefault(e["brand"], []).append(event)
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ReportError(f"{path}:{n}: not an alert event ({exc})") from None
    for events in out.values():
        events.sort(key=lambda e: e.at)
    return out


def _series_from_curves(brand: str, events: list[_Event]) -> ReportData:
    """Minute by minute from the alerts' curves; where two incidents cover a minute (a
    thread and the brand), the wider key (more comments) speaks for it."""
    by_incident: dict[str, list[tuple[float, dict]]] = {}
    for e in events:
        by_incident.setdefault(e.incident, []).append((e.at, e.drivers))
    volume: dict[int, int] = {}
    negative: dict[int, int] = {}
    for history in by_incident.values():
        v = minute_counts(history, VOLUME_CURVE_DRIVER)
        n = minute_counts(history, CURVE_DRIVER)
        for minute in v.keys() & n.keys():
            if v[minute] >= volume.get(minute, -1):
                volume[minute], negative[minute] = v[minute], n[minute]
    if not volume:
        return _series_at_events(brand, events)
    data = ReportData(
        brand,
        f"alert curves, per minute, from {HISTORY_MINUTES // 60} h before each opening",
        per_key=True,
    )
    window_n: list[int] = []
    window_neg: list[int] = []
    for minute in range(min(volume), max(volume) + 1):
        data.times.append(minute * 60.0)
        n, neg = volume.get(minute), negative.get(minute)
        data.volume.append(None if n is None else float(n))
        data.negative.append(None if neg is None else float(neg))
        window_n = [*window_n[-(SHARE_MINUTES - 1) :], n or 0]
        window_neg = [*window_neg[-(SHARE_MINUTES - 1) :], neg or 0]
        enough = n is not None and sum(window_n) >= MIN_SHARE_COMMENTS
        data.negative_share.append(sum(window_neg) / sum(window_n) if enough else None)
    return data


def _series_at_events(brand: str, events: list[_Event]) -> ReportData:
    """Alerts without curves (older files): one point per event, no context before."""
    data = ReportData(
        brand,
        "one point per alert event: these alerts carry no per-minute curves",
        sparse=True,
        per_key=True,
    )
    for e in events:
        d = e.drivers
        if "volume_per_min_now" not in d:
            continue
        data.times.append(e.at)
        data.volume.append(float(d["volume_per_min_now"]))
        data.negative.append(d.get("negative_per_min_now"))
        data.negative_share.append(d.get("negative_share"))
    if not data.times:
        raise ReportError(f"the alerts of {brand!r} carry no rates to draw")
    return data


def _series_from_comments(path: Path, brand: str) -> ReportData:
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
        return ReportData(brand, "comments")
    first, last = min(volume), max(volume)
    width = max(1, math.ceil((last - first + 1) / MAX_BINS))  # minutes per bin
    data = ReportData(brand, f"comments file, {width}-minute bins")
    for start in range(first - first % width, last + 1, width):
        n = sum(volume.get(m, 0) for m in range(start, start + width))
        neg = sum(negative.get(m, 0) for m in range(start, start + width))
        data.times.append(start * 60.0)
        data.volume.append(n / width)
        data.negative.append(neg / width)
        # A share of 1 of 2 comments is noise, not news: leave a gap instead.
        data.negative_share.append(neg / n if n >= MIN_SHARE_COMMENTS else None)
    return data


def _fill_usual(data: ReportData) -> None:
    """Each point's usual rates: those of the incident whose stretch (from its context
    before the opening to its end) holds it, the latest opened first."""
    for t in data.times:
        span = next(
            (s for s in reversed(data.spans) if s.opened - CONTEXT_SECONDS <= t <= s.closed),
            None,
        )
        data.usual_negative.append(span.usual_negative_per_min if span else None)
        # A thread's volume against the whole brand's usual volume would make a storm in
        # it look quiet (its negatives are judged against the brand's, as alerts are).
        thread_curve = data.per_key and span is not None and span.where != "brand-wide"
        data.usual_volume.append(
            None if span is None or thread_curve else span.usual_volume_per_min
        )
        data.usual_share.append(span.usual_negative_share if span else None)


# -- drawing -------------------------------------------------------------------------------


def _dt(t: float) -> datetime:
    return datetime.fromtimestamp(t, UTC)


def _nan(values: list[float | None], scale: float = 1.0) -> list[float]:
    """None as NaN, so matplotlib leaves a gap instead of joining across it."""
    return [math.nan if v is None else v * scale for v in values]


def _draw(out: Path, data: ReportData) -> None:
    fig, (ax_neg, ax_vol, ax_share) = plt.subplots(
        3, 1, figsize=(13, 9), sharex=True, gridspec_kw={"height_ratios": [3, 2, 2]}
    )
    times = [_dt(t) for t in data.times]
    style = {"marker": "o", "markersize": 4} if data.sparse else {}
    panels = (
        (ax_neg, data.negative, data.usual_negative, 1.0, "#e15759", "negative comments/min"),
        (ax_vol, data.volume, data.usual_volume, 1.0, "#4e79a7", "comments/min"),
        (ax_share, data.negative_share, data.usual_share, 100.0, "#b07aa1", "negative %"),
    )
    for ax, values, usual, scale, colour, label in panels:
        ax.plot(times, _nan(values, scale), color=colour, lw=1.2, label=label, **style)
        if any(u is not None for u in usual):
            ax.plot(
                times, _nan(usual, scale), color=colour, ls="--", lw=1,
                label="brand's usual at opening",
            )  # fmt: skip

    tops = {
        ax: max([v * scale for v in values if v is not None] or [1.0])
        for ax, values, _, scale, _, _ in panels
    }
    for ax in (ax_neg, ax_vol, ax_share):
        for span in data.spans:
            ax.axvspan(
                _dt(span.opened), _dt(span.closed), color=SEVERITY_COLOURS[span.severity],
                alpha=0.18, lw=0,
            )  # fmt: skip
    top = tops[ax_neg]
    seen: set[str] = set()
    for e in data.events:
        if e.event == "updated":
            continue
        label = f"{e.event}" if e.event not in seen else None
        seen.add(e.event)
        colour = "#59a14f" if e.event == "resolved" else SEVERITY_COLOURS[e.severity]
        for ax in (ax_neg, ax_vol, ax_share):
            ax.axvline(_dt(e.at), color=colour, lw=0.8, alpha=0.7)
        ax_neg.plot(
            [_dt(e.at)], [top * 1.04], marker=EVENT_MARKERS[e.event], color=colour,
            markersize=9, ls="none", label=label, clip_on=False,
        )  # fmt: skip
    for span in data.spans:
        ax_neg.annotate(
            f"{span.severity} · {span.where}", (_dt(span.opened), top * 0.95), fontsize=8,
            rotation=90, va="top", ha="right", color="#333333", parse_math=False,
        )  # fmt: skip

    ax_neg.set_ylabel("negative comments / min")
    ax_neg.set_ylim(0, top * 1.1)
    ax_vol.set_ylabel("comments / min")
    ax_vol.set_ylim(0, tops[ax_vol] * 1.1)
    ax_share.set_ylabel("negative share (%)")
    ax_share.set_ylim(0, 100)
    for ax in (ax_neg, ax_vol, ax_share):
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, borderaxespad=0)
        ax.grid(alpha=0.3)
    first = min([*data.times, *(e.at for e in data.events)])
    last = max([*data.times, *(s.closed for s in data.spans)])
    pad = max(60.0, (last - first) * 0.03)
    ax_share.set_xlim(_dt(first - pad), _dt(last + pad))
    ax_share.xaxis.set_major_formatter(mdates.DateFormatter("%a %d %b %H:%M"))
    ax_share.set_xlabel("event time (UTC)")
    fig.autofmt_xdate()
    n_incidents = len(data.spans)
    fig.suptitle(
        f"stormwatch · {data.brand} · {n_incidents} incident{'s' if n_incidents != 1 else ''}"
        f"  —  source: {data.source}",
        fontsize=11,
        parse_math=False,  # "Ca$$h Store" is a brand, not TeX
    )
    fig.tight_layout()
    fig.savefig(out, dpi=110, format="png")  # the path named, whatever its suffix
    plt.close(fig)


def _incident_spans(events: list[_Event], end: float) -> list[Span]:
    """One `Span` per incident, by opening time."""
    grouped: dict[str, list[_Event]] = {}
    for e in events:
        grouped.setdefault(e.incident, []).append(e)
    spans = []
    for incident, own in grouped.items():
        first = own[0]
        history = [(e.at, e.drivers) for e in own]
        usual_negative = usual_rate(history, "negative_per_min_brand_baseline")
        if usual_negative is None:  # alerts from before the brand's baseline was a driver
            usual_negative = usual_rate(history, "negative_per_min_baseline")
        spans.append(
            Span(
                incident,
                first.at,
                own[-1].at if own[-1].event == "resolved" else end,  # reopened: still open
                max((e.severity for e in own), key=list(SEVERITY_COLOURS).index),
                f"thread {first.thread_id}" if first.thread_id else "brand-wide",
                usual_negative,
                usual_rate(history, "volume_per_min_baseline"),
                usual_rate(history, "negative_share_baseline"),
            )
        )
    return sorted(spans, key=lambda s: (s.opened, s.incident))

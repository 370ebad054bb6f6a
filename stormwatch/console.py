"""What a person sees at the end of a run: counts, incidents, surges left alone, and for
labelled input (the demo) whether each event was judged right."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from stormwatch.alerts.decisions import SuppressedSurge
from stormwatch.alerts.incidents import Incident
from stormwatch.detectors.accounts import BENIGN_REASONS
from stormwatch.evaluation.label_matching import Label, match_labels
from stormwatch.pipeline import Pipeline

# Below this width (or when piped) tables become plain lines: a table of seven columns
# at 80 columns wraps each cell into a ladder of lines.
WIDE = 100


def _when(epoch: float) -> str:
    """Date and time (UTC): a run spans days, so a weekday alone is ambiguous."""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M")


def _rate(processed: int, seconds: float) -> float:
    return processed / seconds if seconds > 0 else 0.0


def _opened(incident: Incident) -> float:
    """When it opened, as its live line said: the stream's time then (its key names the
    minute it was judged at, a few minutes before, with the allowed lateness)."""
    if incident.opened_at is not None:
        return incident.opened_at
    return incident.opened_minute * 60.0


def listed_surges(pipeline: Pipeline) -> list[SuppressedSurge]:
    """The surges left alone worth a line: not a blip (two minutes or more, or three
    times the key's normal volume), at least twice normal in volume or negatives, and
    not while an incident of its brand was open (a spreading storm's posts, each too
    small alone, are that incident's, not surges left alone)."""
    tracker = pipeline.tracker
    still_open = {id(i) for i in tracker.open.values()}
    spans: dict[str, list[tuple[int, float]]] = {}
    for i in tracker.history:
        end = math.inf if id(i) in still_open else i.last_event_minute
        spans.setdefault(i.brand, []).append((i.opened_minute, end))
    return [
        s
        for s in pipeline.decisions.suppressed
        if (s.last_minute - s.first_minute >= 2 or s.peak_volume_ratio >= 3)
        and max(s.peak_ratio, s.peak_volume_ratio) >= 2
        and not any(
            s.first_minute <= end and s.last_minute >= start
            for start, end in spans.get(s.brand, ())
        )
    ]


def _surges_title(pipeline: Pipeline, listed: Sequence[SuppressedSurge]) -> str:
    total = len(pipeline.decisions.suppressed)
    return f"Surges left alone ({total}" + (f", {len(listed)} listed)" if total else ")")


def is_compact(console: Console) -> bool:
    """Plain lines instead of tables: output piped or a terminal narrower than WIDE."""
    return not console.is_terminal or console.width < WIDE


def events_in_brief(events: Sequence[str]) -> str:
    """`opened → escalated ×3 → resolved`: runs of one event counted, not repeated.

    >>> events_in_brief(["opened", "updated", "updated", "escalated", "resolved"])
    'opened → updated ×2 → escalated → resolved'
    """
    runs: list[list] = []
    for event in events:
        if runs and runs[-1][0] == event:
            runs[-1][1] += 1
        else:
            runs.append([event, 1])
    return " → ".join(e if n == 1 else f"{e} ×{n}" for e, n in runs)


def _line(console: Console, text: str, style: str | None = None) -> None:
    """Plain text: brands, threads and keys come from the input, and `[/x]` in one must
    print as it is, not be read as console markup (or stop the report)."""
    console.print(
        text, style=style, no_wrap=True, overflow="ellipsis", highlight=False, markup=False
    )


def render_run(
    console: Console, pipeline: Pipeline, labels: Sequence[Label] = (), *, processed_before: int = 0
) -> bool:
    """Prints the report; returns False when labelled events were judged wrong.
    `processed_before`: comments a resumed run's checkpoint had processed already (the
    counts go on from there; the rate is this run's own)."""
    if is_compact(console):
        return _render_compact(console, pipeline, labels, processed_before)
    stats = pipeline.stats
    rate = _rate(stats.processed - processed_before, stats.seconds)
    counts = Table(title="Input", show_header=True, header_style="bold")
    for col in (
        "read",
        "processed",
        "dead-lettered",
        "duplicates",
        "late",
        "negative",
        "comments/s",
    ):
        counts.add_column(col, justify="right")
    counts.add_row(
        f"{stats.read:,}",
        f"{stats.processed:,}",
        f"{stats.dead_lettered:,}",
        f"{stats.duplicates:,}",
        f"{stats.late:,}",
        f"{stats.negative:,}",
        f"{rate:,.0f}",
    )
    console.print(counts)
    if stats.held:
        console.print(_held_line(stats.held))
    if stats.dead_letter_reasons:
        reasons = ", ".join(f"{r}: {n}" for r, n in stats.dead_letter_reasons.most_common())
        console.print(f"Dead letters by reason: {reasons}")

    history = pipeline.tracker.history
    incidents = Table(title=f"Incidents opened ({len(history)})", header_style="bold red")
    for col in ("opened", "brand", "thread", "kind", "severity", "peak x normal", "events"):
        incidents.add_column(col)
    for i in history:
        incidents.add_row(
            _when(_opened(i)),
            escape(i.brand),
            escape(i.thread_id or "(brand-wide)"),
            i.kind,
            i.severity,
            f"{i.peak_severity_ratio:.0f}x",
            events_in_brief(i.events),
        )
    console.print(incidents)

    listed = listed_surges(pipeline)
    ignored = Table(title=_surges_title(pipeline, listed), header_style="bold green")
    for col in ("from", "to", "brand", "thread", "why", "peak volume", "peak negative"):
        ignored.add_column(col)
    for s in listed:
        ignored.add_row(
            _when(s.first_minute * 60),
            _when(s.last_minute * 60 + 60),
            escape(s.brand),
            escape(s.thread_id or "(brand-wide)"),
            BENIGN_REASONS.get(s.reason, s.reason),
            f"{s.peak_volume_ratio:.0f}x",
            f"{s.peak_ratio:.0f}x",
        )
    console.print(ignored)

    if not labels:
        return True
    outcomes, unexplained = match_labels(
        history, labels, lateness=pipeline.settings.lateness_seconds
    )
    check = Table(title="Labelled events", header_style="bold")
    for col in ("event", "kind", "brand", "should alert", "alerted", "lead before breakout", ""):
        check.add_column(col)
    all_right = not unexplained
    for o in outcomes:
        lead = o.lead_seconds
        check.add_row(
            escape(o.label.name),
            escape(o.label.kind),
            escape(o.label.brand),
            "yes" if o.label.must_alert else "no",
            f"{len(o.incidents)} incident(s)" if o.incidents else "no",
            f"{lead / 60:.0f} min" if lead is not None else "",
            "[green]✓[/green]" if o.correct and len(o.incidents) <= 1 else "[red]✗[/red]",
        )
        all_right = all_right and o.correct and len(o.incidents) <= 1
    console.print(check)
    for i in unexplained:
        console.print(f"[red]Incident with no labelled event:[/red] {escape(i.key)}")
    return all_right


def _render_compact(
    console: Console, pipeline: Pipeline, labels: Sequence[Label], processed_before: int
) -> bool:
    """The same report as plain lines, one per incident, surge or label."""
    stats = pipeline.stats
    rate = _rate(stats.processed - processed_before, stats.seconds)
    _line(
        console,
        f"Input: {stats.read:,} read, {stats.processed:,} processed, "
        f"{stats.negative:,} negative, {rate:,.0f} comments/s",
        "bold",
    )
    _line(
        console,
        f"  dead-lettered {stats.dead_lettered:,}, duplicates {stats.duplicates:,}, "
        f"late {stats.late:,}",
    )
    if stats.held:
        _line(console, f"  {_held_line(stats.held)}")
    for reason, n in stats.dead_letter_reasons.most_common():
        _line(console, f"  dead letters {reason}: {n:,}")

    history = pipeline.tracker.history
    _line(console, f"Incidents opened ({len(history)})", "bold red")
    for i in history:
        where = f"{i.brand}/{i.thread_id}" if i.thread_id else f"{i.brand} (brand-wide)"
        _line(
            console,
            f"  {_when(_opened(i))}  {where}  {i.kind} {i.severity} {i.peak_severity_ratio:.0f}x",
        )
        _line(console, f"    {events_in_brief(i.events)}")

    listed = listed_surges(pipeline)
    _line(console, _surges_title(pipeline, listed), "bold green")
    for s in listed:
        where = f"{s.brand}/{s.thread_id}" if s.thread_id else f"{s.brand} (brand-wide)"
        _line(
            console,
            f"  {_when(s.first_minute * 60)}  {where}  volume {s.peak_volume_ratio:.0f}x, "
            f"negative {s.peak_ratio:.0f}x",
        )
        _line(console, f"    {BENIGN_REASONS.get(s.reason, s.reason)}")

    if not labels:
        return True
    outcomes, unexplained = match_labels(
        history, labels, lateness=pipeline.settings.lateness_seconds
    )
    _line(console, "Labelled events", "bold")
    all_right = not unexplained
    for o in outcomes:
        right = o.correct and len(o.incidents) <= 1
        all_right = all_right and right
        count = len(o.incidents)
        alerted = f"{count} incident{'s' if count > 1 else ''}" if count else "none"
        lead = f", {o.lead_seconds / 60:.0f} min lead" if o.lead_seconds is not None else ""
        wanted = "alert wanted" if o.label.must_alert else "no alert wanted"
        _line(
            console,
            f"  {'ok' if right else 'WRONG':<5} {o.label.name} ({o.label.kind}): "
            f"{wanted}, {alerted}{lead}",
            None if right else "red",
        )
    for i in unexplained:
        _line(console, f"Incident with no labelled event: {i.key}", "red")
    return all_right


def _held_line(held: int) -> str:
    """Records still held far ahead at the end (`run --db` carries them in its
    checkpoint to the run over the continued input): read = processed + dead-lettered
    + held."""
    return f"held far ahead, for the continued input: {held:,}"

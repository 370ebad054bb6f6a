"""What a person sees at the end of a run: counts, incidents, surges left alone, and for
labelled input (the demo) whether each event was judged right."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from rich.console import Console
from rich.table import Table

from stormwatch.detectors.guards import BENIGN_REASONS
from stormwatch.evaluation.label_matching import Label, match_labels
from stormwatch.pipeline import Pipeline


def _hhmm(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%a %H:%M")


def render_run(console: Console, pipeline: Pipeline, labels: Sequence[Label] = ()) -> bool:
    """Prints the report; returns False when labelled events were judged wrong."""
    stats = pipeline.stats
    rate = stats.processed / stats.seconds if stats.seconds > 0 else 0.0
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
    if stats.dead_letter_reasons:
        reasons = ", ".join(f"{r}: {n}" for r, n in stats.dead_letter_reasons.most_common())
        console.print(f"Dead letters by reason: {reasons}")

    history = pipeline.tracker.history
    incidents = Table(title=f"Incidents opened ({len(history)})", header_style="bold red")
    for col in ("opened", "brand", "thread", "kind", "severity", "peak x normal", "events"):
        incidents.add_column(col)
    for i in history:
        incidents.add_row(
            _hhmm(i.opened_minute * 60),
            i.brand,
            i.thread_id or "(brand-wide)",
            i.kind,
            i.severity,
            f"{i.peak_ratio:.0f}x",
            " → ".join(i.events),
        )
    console.print(incidents)

    ignored = Table(
        title=f"Surges left alone ({len(pipeline.suppressed)})", header_style="bold green"
    )
    for col in ("from", "to", "brand", "thread", "why", "peak volume", "peak negative"):
        ignored.add_column(col)
    for s in pipeline.suppressed:
        if s.last_minute - s.first_minute < 2 and s.peak_volume_ratio < 3:
            continue  # a blip, not worth a row
        ignored.add_row(
            _hhmm(s.first_minute * 60),
            _hhmm(s.last_minute * 60 + 60),
            s.brand,
            s.thread_id or "(brand-wide)",
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
            o.label.name,
            o.label.kind,
            o.label.brand,
            "yes" if o.label.must_alert else "no",
            f"{len(o.incidents)} incident(s)" if o.incidents else "no",
            f"{lead / 60:.0f} min" if lead is not None else "",
            "[green]✓[/green]" if o.correct and len(o.incidents) <= 1 else "[red]✗[/red]",
        )
        all_right = all_right and o.correct and len(o.incidents) <= 1
    console.print(check)
    for i in unexplained:
        console.print(f"[red]Incident with no labelled event:[/red] {i.key}")
    return all_right

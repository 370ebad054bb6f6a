"""`stormwatch evaluate scenarios DIR`: the full pipeline over labelled comment streams,
judged the way an on-call person would judge it.

Layout of DIR (what `stormwatch.evaluation.suite.write_suite` and
`stormwatch.evaluation.scenario.write_jsonl` write): per stream `NAME.jsonl` (comments in the
input contract, delivery order) and beside it `NAME.labels.json` (one `EventLabel` JSON
object per line: name, kind, brand, thread_id, must_alert, onset, breakout, end, lang).
A stream without a labels file is skipped with a note.

Figures: recall over the events that must alert; lead time before the breakout (median
and worst, with the live alert delay: the opening minute's end plus the allowed
lateness, as `label_matching` computes it); false alarms per brand-day (incidents no
label explains over the brand-days of traffic); incidents opened on benign surges; how
each bot burst was reported (it must never be a firestorm incident); and the time the
pipeline took. The same `Pipeline` and `Settings` as production; no evaluation mode.
"""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from stormwatch.config import Settings
from stormwatch.evaluation.label_matching import LabelOutcome
from stormwatch.evaluation.scenario import read_labels
from stormwatch.evaluation.scenario_run import ScenarioRun, run_scenario

__all__ = ["evaluate_scenarios_dir"]

FIRESTORM_KINDS = frozenset({"firestorm", "spreading"})


def _bot_report(run: ScenarioRun, outcome: LabelOutcome) -> str:
    """How a bot burst came out: an incident of its own kind, suppressed, or a failure."""
    kinds = sorted({i.kind for i in outcome.incidents})
    if any(k in FIRESTORM_KINDS for k in kinds):
        return "FIRESTORM incident: " + ",".join(kinds)
    if kinds:
        return "incident kind " + ",".join(kinds)
    lab = outcome.label
    reasons = sorted(
        {
            s.reason
            for s in run.suppressed
            if s.brand == lab.brand and lab.onset - 900 <= s.first_minute * 60 <= lab.end + 900
        }
    )
    return "suppressed: " + ", ".join(reasons) if reasons else "not noticed"


def evaluate_scenarios_dir(
    directory: str | Path,
    *,
    console: Console,
    out_dir: str | Path | None = None,
    settings: Settings | None = None,
) -> dict[str, Any]:
    """Run every labelled stream in `directory`; print tables; write PNGs to `out_dir`.

    Returns the figures for `--json`.
    """
    directory = Path(directory)
    settings = settings or Settings()
    runs: list[ScenarioRun] = []
    for path in sorted(directory.glob("*.jsonl")):
        labels_path = path.with_name(f"{path.stem}.labels.json")
        if not labels_path.is_file():
            console.print(f"[yellow]skipped[/yellow] {path.name}: no {labels_path.name}")
            continue
        runs.append(run_scenario(path, read_labels(labels_path), settings))
    if not runs:
        raise FileNotFoundError(f"no NAME.jsonl with NAME.labels.json in {directory}")

    events: list[dict[str, Any]] = []
    for run in runs:
        for o in run.outcomes:
            lab = o.label
            row: dict[str, Any] = {
                "scenario": run.name,
                "event": lab.name,
                "kind": lab.kind,
                "brand": lab.brand,
                "must_alert": lab.must_alert,
                "caught": o.caught,
                "correct": o.correct,
                "incident_kinds": sorted({i.kind for i in o.incidents}),
                "lead_minutes": None if o.lead_seconds is None else round(o.lead_seconds / 60, 1),
            }
            if lab.kind == "bot_burst":
                row["reported_as"] = _bot_report(run, o)
            events.append(row)
    must = [e for e in events if e["must_alert"]]
    leads = [e["lead_minutes"] for e in must if e["lead_minutes"] is not None]
    benign = [e for e in events if not e["must_alert"] and e["caught"]]
    bots = [e for e in events if e["kind"] == "bot_burst"]
    false_alarms = [(run.name, i) for run in runs for i in run.unexplained]
    brand_days = sum(r.brand_days for r in runs)
    comments = sum(r.comments for r in runs)
    seconds = sum(r.seconds for r in runs)
    figures: dict[str, Any] = {
        "scenarios": len(runs),
        "events": len(events),
        "must_alert": len(must),
        "recall": round(sum(e["caught"] for e in must) / len(must), 4) if must else None,
        "lead_minutes_median": round(statistics.median(leads), 1) if leads else None,
        "lead_minutes_worst": min(leads) if leads else None,
        "false_alarms": len(false_alarms),
        "brand_days": round(brand_days, 2),
        "false_alarms_per_brand_day": round(len(false_alarms) / brand_days, 4)
        if brand_days
        else None,
        "benign_incidents": len(benign),
        "bot_bursts_as_firestorm": sum(
            1 for e in bots if any(k in FIRESTORM_KINDS for k in e["incident_kinds"])
        ),
        "comments": comments,
        "seconds": round(seconds, 2),
        "comments_per_second": round(comments / seconds) if seconds else None,
        "per_event": events,
        "false_alarm_incidents": [
            {"scenario": name, "key": i.key, "kind": i.kind, "severity": i.severity}
            for name, i in false_alarms
        ],
    }
    _print_tables(console, figures)
    if out_dir is not None:
        from stormwatch.evaluation.charts import write_event_charts

        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        figures["charts"] = [str(p) for run in runs for p in write_event_charts(run, out)]
        console.print(f"wrote {len(figures['charts'])} charts to {out}")
    return figures


def _print_tables(console: Console, figures: dict[str, Any]) -> None:
    table = Table(title="Labelled events")
    for col in ("scenario", "event", "kind", "should", "result", "lead (min)", "incidents"):
        table.add_column(col)
    for e in figures["per_event"]:
        should = "alert" if e["must_alert"] else "stay quiet"
        ok = "[green]ok[/green]" if e["correct"] else "[red]WRONG[/red]"
        lead = "" if e["lead_minutes"] is None else f"{e['lead_minutes']:+.1f}"
        kinds = e.get("reported_as") or ",".join(e["incident_kinds"])
        table.add_row(e["scenario"], e["event"], e["kind"], should, ok, lead, kinds)
    console.print(table)
    for fa in figures["false_alarm_incidents"]:
        console.print(f"[red]false alarm[/red] {fa['scenario']}: {fa['key']} ({fa['kind']})")
    summary = Table(title="Scenario figures (targets in brackets)")
    summary.add_column("figure")
    summary.add_column("value", justify="right")
    summary.add_row("recall [1.0]", str(figures["recall"]))
    summary.add_row("median lead before breakout, min [>= 10]", str(figures["lead_minutes_median"]))
    summary.add_row("worst lead, min", str(figures["lead_minutes_worst"]))
    summary.add_row(
        "false alarms per brand-day [<= 0.05]",
        f"{figures['false_alarms_per_brand_day']} ({figures['false_alarms']} in "
        f"{figures['brand_days']} brand-days)",
    )
    summary.add_row("incidents on benign surges [0]", str(figures["benign_incidents"]))
    summary.add_row("bot bursts as firestorm [0]", str(figures["bot_bursts_as_firestorm"]))
    summary.add_row(
        "time to process",
        f"{figures['seconds']} s, {figures['comments']} comments "
        f"({figures['comments_per_second']}/s)",
    )
    console.print(summary)

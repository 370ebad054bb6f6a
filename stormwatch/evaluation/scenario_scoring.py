"""`stormwatch evaluate scenarios DIR`: the full pipeline over labelled comment streams,
judged the way an on-call person would judge it.

Layout of DIR (what `stormwatch.evaluation.suite.write_suite` and
`stormwatch.evaluation.scenario.write_jsonl` write): per stream `NAME.jsonl` (comments in the
input contract, delivery order) and beside it `NAME.labels.json` (one `EventLabel` JSON
object per line: name, kind, brand, thread_id, must_alert, onset, breakout, end, lang,
and optionally evidence_at).
A stream without a labels file is skipped with a note. An optional `NAME.brands.json`
(one brand per line: `name`, `comments_per_day`, `traffic_start`, `traffic_end`, as
`stormwatch.evaluation.scenario.write_brands` writes it) gives each brand's nominal size
and time on air; without it both are measured from the stream.

Figures: recall over the events that must alert; lead time before the breakout (median
and worst, from when a live run would alert: the stream's event time when the incident
opened, as `label_matching` takes it); false alarms per brand-day (incidents no
label explains over the brand-days of traffic); incidents opened on benign surges; how
each bot burst was reported (it must never be a firestorm incident); and the time the
pipeline took. Beside the totals: lead quantiles (p10, median, p90, worst), incidents per
caught crisis (one storm should be one incident), benign incidents by kind, campaigns
caught, recall by kind, and recall, lead and false alarms per brand-day by brand-size
band (below 500, 500 to 5,000, above 5,000 comments a day). Where the labels say when an
event's own comments first held ten negative ones (`EventLabel.evidence_at`), also how
long before its breakout that was (median: the lead the events allowed) and how long
after it the alert came (median: how fast the detector was once there was something to
tell). The same `Pipeline` and `Settings` as production; no evaluation mode.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import orjson
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from stormwatch.config import Settings
from stormwatch.evaluation.label_matching import LabelOutcome, alerts_said_campaign
from stormwatch.evaluation.scenario import read_labels
from stormwatch.evaluation.scenario_run import ScenarioRun, run_scenario

__all__ = [
    "SIZE_BANDS",
    "band_figures",
    "band_table",
    "cell",
    "evaluate_scenarios_dir",
    "evidence_figures",
    "figures_from_500",
    "known_median",
    "size_band",
]

FIRESTORM_KINDS = frozenset({"firestorm", "spreading"})
SIZE_BANDS = (("<500", 0.0, 500.0), ("500-5,000", 500.0, 5000.0), (">5,000", 5000.0, math.inf))


def size_band(comments_per_day: float) -> str:
    """The size band of a brand with this many comments a day."""
    for name, lo, hi in SIZE_BANDS:
        if lo <= comments_per_day < hi:
            return name
    return SIZE_BANDS[-1][0]


def _lead_quantiles(leads: list[float]) -> dict[str, float | None]:
    if not leads:
        return {"p10": None, "median": None, "p90": None, "worst": None}
    p10, median, p90 = np.percentile(leads, [10, 50, 90])
    return {
        "p10": round(float(p10), 1),
        "median": round(float(median), 1),
        "p90": round(float(p90), 1),
        "worst": round(min(leads), 1),
    }


def evidence_figures(o: LabelOutcome) -> dict[str, float | None]:
    """Minutes from the event's tenth negative comment (`EventLabel.evidence_at`) to its
    breakout (the lead the event allowed a detector that needs ten negatives) and to
    the alert (how long the detector took once they were there). None where the label
    does not say (older label files)."""
    evidence_at = o.label.evidence_at
    if evidence_at is None:
        return {"evidence_lead_minutes": None, "after_evidence_minutes": None}

    def minutes_from_evidence(t: float | None) -> float | None:
        return None if t is None else round((t - evidence_at) / 60, 1)

    return {
        "evidence_lead_minutes": minutes_from_evidence(o.label.breakout),
        "after_evidence_minutes": minutes_from_evidence(o.opened_at),
    }


def known_median(values: list[float | None]) -> float | None:
    """The median of the values known (one decimal), None when none is."""
    known = [v for v in values if v is not None]
    return round(float(np.median(known)), 1) if known else None


def _brand_days(run: ScenarioRun, meta: dict[str, dict[str, Any]]) -> dict[str, float]:
    """Days each brand was on air: from the brands file, else from its traffic, where a
    record with a wrong clock must not stretch the span, so the longest stretch of
    minutes without a 12-hour gap counts."""
    days: dict[str, float] = {}
    for brand, minutes in run.recorder.volume.items():
        m = meta.get(brand, {})
        if m.get("traffic_start") is not None and m.get("traffic_end") is not None:
            days[brand] = (m["traffic_end"] - m["traffic_start"]) / 86400.0
            continue
        ordered = np.array(sorted(minutes))
        cuts = np.flatnonzero(np.diff(ordered) > 720) + 1
        best = max(np.split(ordered, cuts), key=len)
        days[brand] = float(best[-1] - best[0] + 1) / 1440.0
    return days


def _read_brands(path: Path) -> dict[str, dict[str, Any]]:
    if not path.is_file():
        return {}
    with path.open("rb") as fh:
        rows = [orjson.loads(line) for line in fh if line.strip()]
    return {row["name"]: row for row in rows}


def band_figures(events: list[dict[str, Any]], brands: list[dict[str, Any]]) -> dict[str, Any]:
    """Per size band: brands, brand-days, false alarms and `_rates` of its events (rows as
    in the figures' `per_event` and `per_brand`, so seeds can be pooled)."""
    by_band: dict[str, Any] = {}
    for band, _, _ in SIZE_BANDS:
        in_band = [b for b in brands if b["band"] == band]
        days = sum(b["days"] for b in in_band)
        alarms = sum(b["false_alarms"] for b in in_band)
        by_band[band] = {
            "brands": len(in_band),
            "brand_days": round(days, 2),
            "false_alarms": alarms,
            "false_alarms_per_brand_day": round(alarms / days, 4) if days else None,
            **_rates([e for e in events if e["band"] == band]),
        }
    return by_band


def _rates(events: list[dict[str, Any]]) -> dict[str, Any]:
    """Recall, lead quantiles and incidents per crisis over some labelled events."""
    must = [e for e in events if e["must_alert"]]
    caught = [e for e in must if e["caught"]]
    counts = [e["incidents"] for e in caught]
    return {
        "must_alert": len(must),
        "caught": len(caught),
        "recall": round(len(caught) / len(must), 4) if must else None,
        "lead_minutes": _lead_quantiles(
            [e["lead_minutes"] for e in caught if e["lead_minutes"] is not None]
        ),
        "evidence_lead_minutes_median": known_median(
            [e.get("evidence_lead_minutes") for e in must]
        ),
        "after_evidence_minutes_median": known_median(
            [e.get("after_evidence_minutes") for e in caught]
        ),
        "incidents_per_crisis": round(sum(counts) / len(counts), 2) if counts else None,
        "crises_with_several_incidents": sum(1 for c in counts if c > 1),
        "benign_events_with_incidents": sum(
            1 for e in events if not e["must_alert"] and e["caught"]
        ),
    }


def figures_from_500(events: list[dict[str, Any]]) -> dict[str, Any]:
    """`_rates` of the events at brands of 500 comments a day or more, pooled: the lead
    target (+10 minutes before the breakout) is set on those brands together, while the
    bands split them at 5,000.

    >>> e = dict(must_alert=True, caught=True, incidents=1)
    >>> rows = [dict(e, band="<500", lead_minutes=-30.0),
    ...         dict(e, band="500-5,000", lead_minutes=2.0),
    ...         dict(e, band=">5,000", lead_minutes=20.0),
    ...         dict(e, band=">5,000", lead_minutes=40.0)]
    >>> f = figures_from_500(rows)
    >>> f["caught"], f["lead_minutes"]["median"]
    (3, 20.0)
    """
    return _rates([e for e in events if e["band"] != SIZE_BANDS[0][0]])


def said_campaign(events: list[dict[str, Any]]) -> dict[str, int]:
    """Of the caught crises, how many campaigns and how many others had an alert that
    said "campaign": the explanation is right when the first is all and the second 0."""
    caught = [e for e in events if e["must_alert"] and e["caught"]]
    campaigns = [e for e in caught if e["kind"] == "campaign"]
    others = [e for e in caught if e["kind"] != "campaign"]
    return {
        "campaigns_caught": len(campaigns),
        "campaigns_said_campaign": sum(e.get("said_campaign", False) for e in campaigns),
        "others_said_campaign": sum(e.get("said_campaign", False) for e in others),
        "others_caught": len(others),
    }


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
    streams: list[Path] | None = None,
) -> dict[str, Any]:
    """Run every labelled stream in `directory` (or only `streams`, those of one family
    seed just written there); print tables; write PNGs to `out_dir`.

    Returns the figures for `--json`.
    """
    directory = Path(directory)
    settings = settings or Settings()
    runs: list[ScenarioRun] = []
    meta: dict[str, dict[str, dict[str, Any]]] = {}
    for path in sorted(streams if streams is not None else directory.glob("*.jsonl")):
        labels_path = path.with_name(f"{path.stem}.labels.json")
        if not labels_path.is_file():
            console.print(
                f"[yellow]skipped[/yellow] {escape(path.name)}: no {escape(labels_path.name)}"
            )
            continue
        runs.append(run_scenario(path, read_labels(labels_path), settings))
        meta[path.stem] = _read_brands(path.with_name(f"{path.stem}.brands.json"))
    if not runs:
        raise FileNotFoundError(f"no NAME.jsonl with NAME.labels.json in {directory}")

    # Per brand: its size band (nominal, else measured), days on air and false alarms.
    brands: list[dict[str, Any]] = []
    band_of: dict[tuple[str, str], str] = {}
    for run in runs:
        days = _brand_days(run, meta[run.name])
        alarms = Counter(i.brand for i in run.unexplained)
        for brand, d in sorted(days.items()):
            size = meta[run.name].get(brand, {}).get("comments_per_day")
            if size is None:
                size = float(
                    sum(v[0] for v in run.recorder.volume[brand].values()) / max(d, 1 / 24)
                )
            band_of[run.name, brand] = size_band(size)
            brands.append({"scenario": run.name, "brand": brand, "comments_per_day": round(size, 1),
                           "band": size_band(size), "days": round(d, 3),
                           "false_alarms": alarms[brand]})  # fmt: skip

    events: list[dict[str, Any]] = []
    for run in runs:
        for o in run.outcomes:
            lab = o.label
            row: dict[str, Any] = {
                "scenario": run.name,
                "event": lab.name,
                "kind": lab.kind,
                "brand": lab.brand,
                "band": band_of.get((run.name, lab.brand), size_band(0.0)),
                "must_alert": lab.must_alert,
                "caught": o.caught,
                "correct": o.correct,
                "incidents": len(o.incidents),
                "incident_kinds": sorted({i.kind for i in o.incidents}),
                "by_escalation": o.by_escalation,
                "lead_minutes": None if o.lead_seconds is None else round(o.lead_seconds / 60, 1),
                **evidence_figures(o),
                "said_campaign": alerts_said_campaign(o, run.recorder.alerts),
            }
            if lab.kind == "bot_burst":
                row["reported_as"] = _bot_report(run, o)
            events.append(row)
    must = [e for e in events if e["must_alert"]]
    leads = [e["lead_minutes"] for e in must if e["lead_minutes"] is not None]
    benign = [e for e in events if not e["must_alert"] and e["caught"]]
    bots = [e for e in events if e["kind"] == "bot_burst"]
    campaigns = [e for e in events if e["kind"] == "campaign"]
    false_alarms = [(run.name, i) for run in runs for i in run.unexplained]
    brand_days = sum(b["days"] for b in brands)
    overall = _rates(events)
    by_band = band_figures(events, brands)
    by_kind: dict[str, Any] = {}
    for kind in sorted({e["kind"] for e in events}):
        of_kind = [e for e in events if e["kind"] == kind]
        by_kind[kind] = {
            "events": len(of_kind),
            "must_alert": of_kind[0]["must_alert"],
            "with_incidents": sum(e["caught"] for e in of_kind),
            "incidents": sum(e["incidents"] for e in of_kind),
        }
    benign_by_kind: dict[str, int] = defaultdict(int)
    for e in events:
        if not e["must_alert"]:
            benign_by_kind[e["kind"]] += e["incidents"]
    comments = sum(r.comments for r in runs)
    seconds = sum(r.seconds for r in runs)
    figures: dict[str, Any] = {
        "scenarios": len(runs),
        "events": len(events),
        "must_alert": len(must),
        "recall": round(sum(e["caught"] for e in must) / len(must), 4) if must else None,
        "lead_minutes_median": overall["lead_minutes"]["median"],
        "lead_minutes_worst": min(leads) if leads else None,
        "lead_minutes": overall["lead_minutes"],
        "incidents_per_crisis": overall["incidents_per_crisis"],
        "crises_with_several_incidents": overall["crises_with_several_incidents"],
        "false_alarms": len(false_alarms),
        "brand_days": round(brand_days, 2),
        "false_alarms_per_brand_day": round(len(false_alarms) / brand_days, 4)
        if brand_days
        else None,
        "benign_incidents": len(benign),
        "benign_incidents_by_kind": dict(sorted(benign_by_kind.items())),
        "campaigns": len(campaigns),
        **said_campaign(events),
        "bot_bursts_as_firestorm": sum(
            1 for e in bots if any(k in FIRESTORM_KINDS for k in e["incident_kinds"])
        ),
        "comments": comments,
        "seconds": round(seconds, 2),
        "comments_per_second": round(comments / seconds) if seconds else None,
        "by_band": by_band,
        "by_kind": by_kind,
        "per_event": events,
        "per_brand": brands,
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
        console.print(f"wrote {len(figures['charts'])} charts to {out}", markup=False)
    return figures


def _print_tables(console: Console, figures: dict[str, Any]) -> None:
    console.print(events_table(figures["per_event"]))
    _print_summary(console, figures)


def events_table(per_event: list[dict[str, Any]]) -> Table:
    """One row per labelled event: what it should have done, what it did, its lead."""
    table = Table(title="Labelled events")
    for col in ("scenario", "event", "kind", "should", "result", "lead (min)", "incidents"):
        # Names fold onto more lines rather than end in "…": at 80 columns (any pipe or
        # file) every name was cut and no event could be told from another.
        table.add_column(col, overflow="fold")
    for e in per_event:
        should = "alert" if e["must_alert"] else "stay quiet"
        ok = "[green]ok[/green]" if e["correct"] else "[red]WRONG[/red]"
        lead = "" if e["lead_minutes"] is None else f"{e['lead_minutes']:+.1f}"
        kinds = e.get("reported_as") or ",".join(e["incident_kinds"])
        if e.get("by_escalation"):
            kinds += " (escalation naming its post)"
        if e.get("said_campaign"):
            kinds += ' (said "campaign")'
        names = (escape(str(e["scenario"])), escape(str(e["event"])), escape(str(e["kind"])))
        table.add_row(*names, should, ok, lead, escape(kinds))  # names as written, no markup
    return table


def _print_summary(console: Console, figures: dict[str, Any]) -> None:
    for fa in figures["false_alarm_incidents"]:
        console.print(
            f"[red]false alarm[/red] {escape(fa['scenario'])}: {escape(fa['key'])} ({fa['kind']})"
        )
    summary = Table(title="Scenario figures (targets in brackets)")
    summary.add_column("figure")
    summary.add_column("value", justify="right")
    summary.add_row("recall [1.0]", str(figures["recall"]))
    lead = figures["lead_minutes"]
    summary.add_row("median lead before breakout, min [>= 10]", str(lead["median"]))
    summary.add_row(
        "lead p10 / p90 / worst, min", f"{lead['p10']} / {lead['p90']} / {lead['worst']}"
    )
    summary.add_row(
        "incidents per caught crisis [1.0]",
        f"{figures['incidents_per_crisis']} ({figures['crises_with_several_incidents']} "
        "crises with several)",
    )
    summary.add_row(
        "false alarms per brand-day [<= 0.05]",
        f"{figures['false_alarms_per_brand_day']} ({figures['false_alarms']} in "
        f"{figures['brand_days']} brand-days)",
    )
    summary.add_row(
        "benign events with incidents [0]",
        f"{figures['benign_incidents']} (incidents: "
        + (", ".join(f"{k} {v}" for k, v in figures["benign_incidents_by_kind"].items()) or "-")
        + ")",
    )
    if figures["campaigns"]:
        summary.add_row(
            "campaigns caught", f"{figures['campaigns_caught']} / {figures['campaigns']}"
        )
    summary.add_row(
        'alerts saying "campaign"',
        f"campaigns {figures['campaigns_said_campaign']} / {figures['campaigns_caught']}, "
        f"other crises {figures['others_said_campaign']} / {figures['others_caught']}",
    )
    summary.add_row("bot bursts as firestorm [0]", str(figures["bot_bursts_as_firestorm"]))
    summary.add_row(
        "time to process",
        f"{figures['seconds']} s, {figures['comments']} comments "
        f"({figures['comments_per_second']}/s)",
    )
    console.print(summary)
    console.print(band_table(figures["by_band"], "By brand size (comments/day)"))
    kinds = Table(title="By kind")
    for col in ("kind", "should", "events", "with incidents", "incidents"):
        kinds.add_column(col, justify="left" if col in ("kind", "should") else "right")
    for kind, k in figures["by_kind"].items():
        should = "alert" if k["must_alert"] else "stay quiet"
        kinds.add_row(kind, should, str(k["events"]), str(k["with_incidents"]), str(k["incidents"]))
    console.print(kinds)


def cell(value: object) -> str:
    """A table cell: "-" for a figure there is none of."""
    return "-" if value is None else str(value)


def band_table(by_band: dict[str, Any], title: str) -> Table:
    """Recall, lead quantiles, incidents per crisis and false alarms per size band."""
    table = Table(title=title)
    table.add_column("figure")
    for band in by_band:
        table.add_column(band, justify="right")
    rows = [
        ("brands (brand-days)", lambda b: f"{b['brands']} ({b['brand_days']})"),
        ("crises caught", lambda b: f"{b['caught']} / {b['must_alert']}"),
        ("recall", lambda b: cell(b["recall"])),
        ("lead p10 / median / p90, min",
         lambda b: " / ".join(cell(b["lead_minutes"][q]) for q in ("p10", "median", "p90"))),
        ("worst lead, min", lambda b: cell(b["lead_minutes"]["worst"])),
        ("10th negative before breakout, median min",
         lambda b: cell(b.get("evidence_lead_minutes_median"))),
        ("alert after the 10th negative, median min",
         lambda b: cell(b.get("after_evidence_minutes_median"))),
        ("incidents per caught crisis", lambda b: cell(b["incidents_per_crisis"])),
        ("false alarms per brand-day",
         lambda b: f"{cell(b['false_alarms_per_brand_day'])} ({b['false_alarms']})"),
        ("benign events with incidents", lambda b: str(b["benign_events_with_incidents"])),
    ]  # fmt: skip
    for name, figure in rows:
        table.add_row(name, *(figure(b) for b in by_band.values()))
    return table

"""Two evaluation runs, event by event: what a change to a detector did.

`stormwatch evaluate compare BEFORE.json AFTER.json` reads the `--json` output of two
runs of `evaluate suite --evaluate` (their `per_event` rows) or of two runs of
`evaluate real-volume` (each brand's storms, campaigns and look-alikes) over the same
seeds, and says which events changed: caught or missed, how many minutes earlier or
later, how many incidents, and the false alarms and pooled lead of each run. Pooled
medians hide what moved (a change can make ten crises earlier and one later without
moving a median), and a benign event that opens an incident in one run must be seen.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

__all__ = ["ComparisonError", "compare", "event_rows", "print_comparison"]


class ComparisonError(ValueError):
    """Input that is not the `--json` output of `evaluate suite --evaluate` or
    `evaluate real-volume`, or two runs of different kinds or seeds."""


_FIELDS = ("caught", "lead_minutes", "incidents")  # what a change can move


def _row(
    kind: str, band: str, must_alert: bool, caught: bool, lead: float | None, incidents: int
) -> dict:
    return {"kind": kind, "band": band, "must_alert": must_alert, "caught": caught,
            "lead_minutes": lead, "incidents": incidents}  # fmt: skip


def event_rows(figures: dict[str, Any]) -> tuple[str, dict[tuple, dict[str, Any]]]:
    """The kind of run ("suite" or "real-volume") and its events by a key that names
    the same event in another run of the same seeds: (seed, scenario, event) for the
    family, (seed, brand, event) for real volume. Each row: kind, band, must_alert,
    caught as the run counted it (a look-alike: whether it opened an incident),
    lead_minutes, incidents."""
    if "per_event" in figures:
        return "suite", {
            (e["seed"], e["scenario"], e["event"]): _row(
                e["kind"],
                e["band"],
                e["must_alert"],
                e["caught"],
                e["lead_minutes"],
                e["incidents"],
            )
            for e in figures["per_event"]
        }
    if "per_brand" in figures and "seed" in figures:
        from stormwatch.evaluation.scenario_scoring import size_band

        rows = {}
        seed = figures["seed"]
        for b in figures["per_brand"]:
            band = size_band(b["per_day"])
            for kind in ("storms", "campaigns"):
                for e in b[kind]:
                    rows[seed, b["brand"], e["name"]] = _row(
                        kind[:-1], band, True, e["caught"], e["lead_minutes"], e["incidents"]
                    )
            for e in b["benign"]:  # "caught": opened an incident
                rows[seed, b["brand"], e["name"]] = _row(
                    e["kind"], band, False, e["incidents"] > 0, None, e["incidents"]
                )
        return "real-volume", rows
    raise ComparisonError(
        "not the --json output of `evaluate suite --evaluate` (with per_event rows) or of "
        "`evaluate real-volume`"
    )


def _false_alarms(kind: str, figures: dict[str, Any]) -> int:
    if kind == "suite":
        return sum(b["false_alarms"] for b in figures["pooled_by_band"].values())
    return sum(len(b["false_alarms"]) for b in figures["per_brand"])


def _lead_from_500(kind: str, figures: dict[str, Any]) -> float | None:
    if kind == "suite":
        return figures["pooled_from_500"]["lead_minutes"]["median"]
    return figures.get("lead_median_from_500")


def compare(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """What changed from `before` to `after` (two runs of the same kind and seeds):
    the changed rows (each event's key, kind, band and both runs' caught, lead and
    incidents), how many crises opened earlier or later, were newly caught or missed,
    how many benign events opened an incident in `after` that did not in `before`
    (and the reverse), and each run's false alarms and median lead from 500 a day."""
    kind_a, rows_a = event_rows(before)
    kind_b, rows_b = event_rows(after)
    if kind_a != kind_b:
        raise ComparisonError(f"a {kind_a} run against a {kind_b} run")
    if rows_a.keys() != rows_b.keys():
        raise ComparisonError(
            f"the runs hold different events ({len(rows_a.keys() - rows_b.keys())} only "
            f"before, {len(rows_b.keys() - rows_a.keys())} only after): not the same seeds"
        )
    changed = []
    counts = dict.fromkeys(
        ("earlier", "later", "newly_caught", "newly_missed", "benign_opened", "benign_quiet"),
        0,
    )
    for key in sorted(rows_a, key=str):
        a, b = rows_a[key], rows_b[key]
        if all(a[f] == b[f] for f in _FIELDS):
            continue
        delta = None
        if a["lead_minutes"] is not None and b["lead_minutes"] is not None:
            delta = round(b["lead_minutes"] - a["lead_minutes"], 1)
        if a["must_alert"]:
            counts["newly_caught"] += b["caught"] and not a["caught"]
            counts["newly_missed"] += a["caught"] and not b["caught"]
            if delta:
                counts["earlier" if delta > 0 else "later"] += 1
        else:
            counts["benign_opened"] += b["caught"] and not a["caught"]
            counts["benign_quiet"] += a["caught"] and not b["caught"]
        changed.append(
            {
                "seed": key[0],
                "where": key[1],
                "event": key[2],
                "kind": a["kind"],
                "band": a["band"],
                "must_alert": a["must_alert"],
                "before": {f: a[f] for f in _FIELDS},
                "after": {f: b[f] for f in _FIELDS},
                "lead_change_minutes": delta,
            }
        )
    return {
        "kind": kind_a,
        "events": len(rows_a),
        "changed": changed,
        **counts,
        "false_alarms": [_false_alarms(kind_a, before), _false_alarms(kind_a, after)],
        "lead_median_from_500": [_lead_from_500(kind_a, before), _lead_from_500(kind_a, after)],
    }


def print_comparison(result: dict[str, Any], console: Console) -> None:
    """The changed events as a table (readable at 80 columns: an event's name says its
    kind), then one line of totals."""
    table = Table(title=f"Events that changed ({len(result['changed'])} of {result['events']})")
    for col in ("seed", "where", "event", "band", "before -> after", "lead change"):
        table.add_column(col, justify="right" if col in ("seed", "lead change") else "left")

    def said(r: dict[str, Any], must_alert: bool) -> str:
        if not must_alert:
            return f"opened {r['incidents']}" if r["incidents"] else "quiet"
        if not r["caught"]:
            return "missed"
        lead = "" if r["lead_minutes"] is None else f" {r['lead_minutes']:+.1f}"
        many = "" if r["incidents"] == 1 else f" ({r['incidents']} incidents)"
        return f"caught{lead}{many}"

    for r in result["changed"]:
        delta = r["lead_change_minutes"]
        must = r["must_alert"]
        table.add_row(
            str(r["seed"]), escape(str(r["where"])), escape(str(r["event"])), r["band"],
            f"{said(r['before'], must)} -> {said(r['after'], must)}",
            "" if delta is None else f"{delta:+.1f}",
        )  # fmt: skip
    console.print(table)
    fa, lead = result["false_alarms"], result["lead_median_from_500"]
    console.print(
        f"crises earlier {result['earlier']}, later {result['later']}, newly caught "
        f"{result['newly_caught']}, newly missed {result['newly_missed']}; benign events "
        f"newly with an incident {result['benign_opened']}, newly without "
        f"{result['benign_quiet']}; false alarms {fa[0]} -> {fa[1]}; median lead from "
        f"500 a day {lead[0]} -> {lead[1]} min"
    )

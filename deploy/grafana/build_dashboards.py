"""Generate the Grafana dashboards as plain JSON: `python deploy/grafana/build_dashboards.py`.

Dashboards are code so that a renamed metric shows up in review and in
`tests/test_deploy.py` (every query must name an exported metric), not as a blank panel.
Plain JSON keeps this free of a Grafana SDK dependency; the output is committed so that
provisioning works from a clone. `--check` exits 1 when the committed files are stale.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent / "dashboards"
# Every query goes through the `datasource` variable, not a fixed uid: the dashboards import
# into any Grafana, whatever its Prometheus datasource is called (the default one is chosen).
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
DATASOURCE_VARIABLE = {
    "name": "datasource",
    "label": "Data source",
    "type": "datasource",
    "query": "prometheus",
    "regex": "",
    "refresh": 1,
    "hide": 0,
    "multi": False,
    "includeAll": False,
    "current": {},
    "options": [],
}
DASHED_BASELINE = [
    {
        "matcher": {"id": "byRegexp", "options": ".*(baseline|usual)"},
        "properties": [{"id": "custom.lineStyle", "value": {"fill": "dash", "dash": [6, 4]}}],
    }
]
SEVERITY_COLOURS = {"low": "yellow", "medium": "orange", "high": "red", "critical": "dark-red"}

Panel = dict[str, Any]


def target(expr: str, legend: str = "", ref: str = "A", *, instant: bool = False) -> dict:
    t: dict[str, Any] = {"datasource": DATASOURCE, "expr": expr, "refId": ref}
    if legend:
        t["legendFormat"] = legend
    if instant:
        t["instant"] = True
        t["range"] = False
        t["format"] = "table"
    return t


def panel(
    kind: str,
    title: str,
    targets: list[dict],
    *,
    x: int,
    y: int,
    w: int = 12,
    h: int = 8,
    unit: str = "short",
    description: str = "",
    options: dict | None = None,
    overrides: list | None = None,
    thresholds: list[tuple[float | None, str]] | None = None,
    stacked: bool = False,
) -> Panel:
    steps = [{"color": c, "value": v} for v, c in (thresholds or [(None, "green")])]
    custom: dict[str, Any] = {}
    if kind == "timeseries":
        custom = {"lineWidth": 1, "fillOpacity": 10, "showPoints": "never", "spanNulls": True}
        if stacked:
            custom["stacking"] = {"mode": "normal", "group": "A"}
    return {
        "type": kind,
        "title": title,
        "description": description,
        "datasource": DATASOURCE,
        "gridPos": {"x": x, "y": y, "w": w, "h": h},
        "targets": [dict(t, refId=chr(ord("A") + i)) for i, t in enumerate(targets)],
        "fieldConfig": {
            "defaults": {
                "unit": unit,
                "custom": custom,
                "thresholds": {"mode": "absolute", "steps": steps},
            },
            "overrides": overrides or [],
        },
        "options": options or {},
    }


def row(title: str, y: int) -> Panel:
    return {
        "type": "row",
        "title": title,
        "collapsed": False,
        "gridPos": {"x": 0, "y": y, "w": 24, "h": 1},
        "panels": [],
    }


def variable(name: str, query: str, *, multi: bool = True, label: str = "") -> dict:
    return {
        "name": name,
        "label": label or name,
        "type": "query",
        "datasource": DATASOURCE,
        "query": {"query": query, "refId": f"{name}-values"},
        "definition": query,
        "refresh": 2,
        "multi": multi,
        "includeAll": True,
        "current": {"selected": True, "text": ["All"], "value": ["$__all"]},
        "sort": 1,
    }


def instance_variable() -> dict:
    return variable("instance", "label_values(stormwatch_build_info, instance)")


def annotation(name: str, expr: str, colour: str, title: str) -> dict:
    return {
        "name": name,
        "datasource": DATASOURCE,
        "enable": True,
        "iconColor": colour,
        "expr": expr,
        "step": "60s",
        "titleFormat": title,
        "tagKeys": "brand,severity",
        "textFormat": "{{brand}}: {{severity}}",
    }


def dashboard(
    uid: str,
    title: str,
    panels: list[Panel],
    *,
    variables: list[dict],
    annotations: list[dict] = (),  # type: ignore[assignment]
    refresh: str = "10s",
    time_from: str = "now-6h",
    description: str = "",
) -> dict:
    builtin = {
        "builtIn": 1,
        "datasource": {"type": "grafana", "uid": "-- Grafana --"},
        "enable": True,
        "hide": True,
        "iconColor": "rgba(0, 211, 255, 1)",
        "name": "Annotations & Alerts",
        "type": "dashboard",
    }
    for i, p in enumerate(panels, 1):
        p["id"] = i
    return {
        "uid": uid,
        "title": title,
        "description": description,
        "tags": ["stormwatch"],
        "timezone": "utc",
        "schemaVersion": 39,
        "version": 1,
        "editable": True,
        "graphTooltip": 1,
        "refresh": refresh,
        "time": {"from": time_from, "to": "now"},
        "templating": {"list": [DATASOURCE_VARIABLE, *variables]},
        "annotations": {"list": [builtin, *annotations]},
        "links": [
            {
                "type": "dashboards",
                "tags": ["stormwatch"],
                "asDropdown": True,
                "title": "stormwatch",
            }
        ],
        "panels": panels,
    }


# -- the three dashboards -----------------------------------------------------------------

SEL = 'instance=~"$instance"'


def overview() -> dict:
    p: list[Panel] = [
        row("Ingest", 0),
        panel(
            "stat",
            "Comments/s",
            [target(f"sum(rate(stormwatch_comments_total{{{SEL}}}[5m]))")],
            x=0,
            y=1,
            w=4,
            h=4,
            unit="cps",
        ),
        panel(
            "stat",
            "Dead-letter ratio (15m)",
            [
                target(
                    f"sum(rate(stormwatch_dead_letters_total{{{SEL}}}[15m])) / "
                    f"(sum(rate(stormwatch_dead_letters_total{{{SEL}}}[15m])) + "
                    f"sum(rate(stormwatch_comments_total{{{SEL}}}[15m])))"
                )
            ],
            x=4,
            y=1,
            w=4,
            h=4,
            unit="percentunit",
            thresholds=[(None, "green"), (0.01, "orange"), (0.05, "red")],
        ),
        panel(
            "stat",
            "Kafka consumer lag",
            [target(f"sum(stormwatch_kafka_consumer_lag_messages{{{SEL}}})")],
            x=8,
            y=1,
            w=4,
            h=4,
            thresholds=[(None, "green"), (1000, "orange"), (10000, "red")],
        ),
        panel(
            "stat",
            "Event-time lag (newest comment)",
            [target(f"time() - max(stormwatch_newest_event_timestamp_seconds{{{SEL}}})")],
            x=12,
            y=1,
            w=4,
            h=4,
            unit="s",
            description="Wall clock minus the newest event time; large during a replay.",
        ),
        panel(
            "stat",
            "Windows tracked",
            [
                target(f"sum(stormwatch_tracked_brands{{{SEL}}})", "brands"),
                target(f"sum(stormwatch_tracked_threads{{{SEL}}})", "threads"),
            ],
            x=16,
            y=1,
            w=4,
            h=4,
        ),
        panel(
            "stat",
            "Workers up",
            [target('sum(up{job="stormwatch-worker"}) or vector(0)')],
            x=20,
            y=1,
            w=4,
            h=4,
        ),
        panel(
            "timeseries",
            "Ingest rate by platform and outcome",
            [
                target(
                    f"sum by (platform, outcome) (rate(stormwatch_comments_total{{{SEL}}}[5m]))",
                    "{{platform}} {{outcome}}",
                )
            ],
            x=0,
            y=5,
            unit="cps",
            stacked=True,
        ),
        panel(
            "timeseries",
            "Dead letters by reason",
            [
                target(
                    f"sum by (reason) (rate(stormwatch_dead_letters_total{{{SEL}}}[5m])) > 0",
                    "{{reason}}",
                )
            ],
            x=12,
            y=5,
            unit="cps",
            stacked=True,
        ),
        row("Latency and lag", 13),
        panel(
            "timeseries",
            "Processing latency (ingest → decision)",
            [
                target(
                    f"histogram_quantile({q}, sum by (le) "
                    f"(rate(stormwatch_processing_latency_seconds_bucket{{{SEL}}}[5m])))",
                    f"p{int(q * 100)}",
                )
                for q in (0.5, 0.9, 0.99)
            ],
            x=0,
            y=14,
            w=8,
            unit="s",
            description="Wall time from a minute's last comment to its decision; "
            "includes the allowed lateness.",
        ),
        panel(
            "timeseries",
            "Event-time lag",
            [
                target(
                    f"histogram_quantile({q}, sum by (le) "
                    f"(rate(stormwatch_event_time_lag_seconds_bucket{{{SEL}}}[5m])))",
                    f"p{int(q * 100)}",
                )
                for q in (0.5, 0.99)
            ],
            x=8,
            y=14,
            w=8,
            unit="s",
        ),
        panel(
            "timeseries",
            "Kafka consumer lag per partition",
            [
                target(
                    f"sum by (partition) (stormwatch_kafka_consumer_lag_messages{{{SEL}}})",
                    "partition {{partition}}",
                )
            ],
            x=16,
            y=14,
            w=8,
        ),
        panel(
            "timeseries",
            "Late comments by brand",
            [
                target(
                    f"sum by (brand) (rate(stormwatch_late_comments_total{{{SEL}}}[5m])) > 0",
                    "{{brand}}",
                )
            ],
            x=0,
            y=22,
            w=8,
            unit="cps",
        ),
        panel(
            "timeseries",
            "Windows closed and keys evicted",
            [
                target(f"sum(rate(stormwatch_windows_closed_total{{{SEL}}}[5m]))", "closed/s"),
                target(f"sum(rate(stormwatch_evicted_keys_total{{{SEL}}}[5m]))", "evicted/s"),
            ],
            x=8,
            y=22,
            w=8,
            unit="ops",
        ),
        panel(
            "table",
            "Build",
            [target(f"stormwatch_build_info{{{SEL}}}", instant=True)],
            x=16,
            y=22,
            w=8,
            options={"showHeader": True},
        ),
    ]
    return dashboard(
        "stormwatch-overview",
        "stormwatch / Overview",
        p,
        variables=[instance_variable()],
        description="Is the pipeline healthy: ingest, dead letters, latency and lag.",
    )


def brand_health() -> dict:
    b = 'brand=~"$brand"'
    p: list[Panel] = [
        panel(
            "timeseries",
            "Volume: now vs baseline (comments/s, 10-minute window)",
            [
                target(f"stormwatch_brand_comments_per_second{{{b}}}", "{{brand}} now"),
                target(
                    f"stormwatch_brand_expected_comments_per_second{{{b}}}",
                    "{{brand}} baseline",
                ),
            ],
            x=0,
            y=0,
            unit="cps",
            overrides=DASHED_BASELINE,
        ),
        panel(
            "timeseries",
            "Negative comments: now vs baseline (per second)",
            [
                target(f"stormwatch_brand_negative_comments_per_second{{{b}}}", "{{brand}} now"),
                target(
                    f"stormwatch_brand_expected_negative_comments_per_second{{{b}}}",
                    "{{brand}} baseline",
                ),
            ],
            x=12,
            y=0,
            unit="cps",
            overrides=DASHED_BASELINE,
        ),
        panel(
            "timeseries",
            "Negative share vs usual",
            [
                target(f"stormwatch_brand_negative_share_ratio{{{b}}}", "{{brand}} now"),
                target(f"stormwatch_brand_expected_negative_share_ratio{{{b}}}", "{{brand}} usual"),
            ],
            x=0,
            y=8,
            unit="percentunit",
        ),
        panel(
            "timeseries",
            "Crisis score (tests over their thresholds; an incident opens from 1)",
            [target(f"stormwatch_brand_crisis_score{{{b}}}", "{{brand}}")],
            x=12,
            y=8,
            # The judge's alarm is evidence >= 1 (`detectors.judge`): orange half-way.
            thresholds=[(None, "green"), (0.5, "orange"), (1, "red")],
            options={"legend": {"displayMode": "list", "placement": "bottom"}},
        ),
        panel(
            "timeseries",
            "Negative rate / baseline (3x low, 5x medium, 10x high, 30x critical)",
            [target(f"stormwatch_brand_surge_ratio{{{b}}}", "{{brand}}")],
            x=0,
            y=16,
            thresholds=[(None, "green"), (3, "yellow"), (5, "orange"), (10, "red")],
        ),
        panel(
            "table",
            "Brands now",
            [
                target(f"stormwatch_brand_crisis_score{{{b}}}", instant=True),
                target(f"stormwatch_brand_surge_ratio{{{b}}}", instant=True),
                target(f"stormwatch_brand_negative_share_ratio{{{b}}}", instant=True),
                target(f"sum by (brand) (stormwatch_incidents_open{{{b}}})", instant=True),
            ],
            x=12,
            y=16,
            options={"showHeader": True, "sortBy": [{"displayName": "Value #A", "desc": True}]},
        ),
    ]
    annotations = [
        annotation(
            f"Incident {event}",
            "sum by (brand, severity) "
            f"(increase(stormwatch_incidents_{event}_total{{{b}}}[2m])) > 0",
            colour,
            f"incident {event}",
        )
        for event, colour in (("opened", "red"), ("escalated", "orange"), ("resolved", "green"))
    ]
    return dashboard(
        "stormwatch-brand-health",
        "stormwatch / Brand health",
        p,
        variables=[variable("brand", "label_values(stormwatch_brand_crisis_score, brand)")],
        annotations=annotations,
        description="Per brand: volume and negativity against the seasonal baseline, the "
        "crisis score, incidents as annotations.",
    )


def incidents() -> dict:
    b = 'brand=~"$brand"'
    severity_overrides = [
        {
            "matcher": {"id": "byName", "options": s},
            "properties": [{"id": "color", "value": {"mode": "fixed", "fixedColor": c}}],
        }
        for s, c in SEVERITY_COLOURS.items()
    ]
    p: list[Panel] = [
        panel(
            "stat",
            "Open incidents by severity",
            [target(f"sum by (severity) (stormwatch_incidents_open{{{b}}})", "{{severity}}")],
            x=0,
            y=0,
            w=12,
            h=5,
            overrides=severity_overrides,
            options={"reduceOptions": {"calcs": ["lastNotNull"]}, "colorMode": "background"},
        ),
        panel(
            "stat",
            "Opened / escalated / resolved (range)",
            [
                target(f"sum(increase(stormwatch_incidents_{e}_total{{{b}}}[$__range]))", e)
                for e in ("opened", "escalated", "resolved")
            ],
            x=12,
            y=0,
            w=12,
            h=5,
            options={"reduceOptions": {"calcs": ["lastNotNull"]}},
        ),
        panel(
            "timeseries",
            "Open incidents by brand and severity",
            [
                target(
                    f"sum by (brand, severity) (stormwatch_incidents_open{{{b}}}) > 0",
                    "{{brand}} {{severity}}",
                )
            ],
            x=0,
            y=5,
            stacked=True,
        ),
        panel(
            "timeseries",
            "Time to acknowledge (median and p90 by severity)",
            [
                target(
                    f"histogram_quantile({q}, sum by (le, severity) "
                    "(rate(stormwatch_incident_time_to_acknowledge_seconds_bucket[1h])))",
                    f"p{int(q * 100)} {{{{severity}}}}",
                )
                for q in (0.5, 0.9)
            ],
            x=12,
            y=5,
            unit="s",
        ),
        panel(
            "timeseries",
            "Time to resolve (median and p90 by severity)",
            [
                target(
                    f"histogram_quantile({q}, sum by (le, severity) "
                    "(rate(stormwatch_incident_time_to_resolve_seconds_bucket[6h])))",
                    f"p{int(q * 100)} {{{{severity}}}}",
                )
                for q in (0.5, 0.9)
            ],
            x=0,
            y=13,
            unit="s",
        ),
        panel(
            "timeseries",
            "Deliveries by target and outcome",
            [
                target(
                    "sum by (target, outcome) (rate(stormwatch_deliveries_total[5m]))",
                    "{{target}} {{outcome}}",
                )
            ],
            x=12,
            y=13,
            unit="ops",
        ),
        panel(
            "table",
            "Deliveries in range",
            [
                target(
                    "sum by (target, outcome) (increase(stormwatch_deliveries_total[$__range]))",
                    instant=True,
                )
            ],
            x=0,
            y=21,
            w=24,
            h=6,
        ),
    ]
    return dashboard(
        "stormwatch-incidents",
        "stormwatch / Incidents",
        p,
        variables=[variable("brand", "label_values(stormwatch_incidents_opened_total, brand)")],
        time_from="now-24h",
        description="Incidents open by severity, time to acknowledge and resolve, deliveries.",
    )


DASHBOARDS = {
    "overview.json": overview,
    "brand-health.json": brand_health,
    "incidents.json": incidents,
}


def render() -> dict[str, str]:
    return {
        name: json.dumps(build(), indent=2, sort_keys=True) + "\n"
        for name, build in DASHBOARDS.items()
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the output is stale")
    args = parser.parse_args(argv)
    stale = []
    OUT.mkdir(parents=True, exist_ok=True)
    for name, text in render().items():
        path = OUT / name
        if args.check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(name)
        else:
            path.write_text(text, encoding="utf-8")
    if stale:
        print(f"stale dashboards (run {Path(__file__).name}): {', '.join(stale)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""One PNG per labelled event: what the stream looked like and when stormwatch spoke.

Why a chart per event: a lead time says when, not why; the chart shows whether an
incident opened on the growth or on the plateau, how the negative share moved, and
what a benign surge that stayed quiet looked like. Top: comments per minute (brand,
and the event's thread when it has one). Bottom: negative share over 10 minutes. The
labelled window is shaded, the breakout is a dashed line, incident events are marked.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from stormwatch.evaluation.scenario_run import ScenarioRun  # noqa: E402

__all__ = ["write_event_charts"]

BEFORE_S = 3 * 3600.0  # context before the labelled onset
AFTER_S = 2 * 3600.0  # ... and after its end
_MARKERS = {"opened": ("^", "red"), "escalated": ("D", "darkorange"), "resolved": ("v", "green")}


def _series(per_minute: dict[int, list[int]], lo: int, hi: int) -> tuple[np.ndarray, ...]:
    minutes = np.arange(lo, hi + 1)
    n = np.array([per_minute.get(int(m), (0, 0))[0] for m in minutes], dtype=float)
    neg = np.array([per_minute.get(int(m), (0, 0))[1] for m in minutes], dtype=float)
    return minutes, n, neg


def _times(minutes: np.ndarray) -> np.ndarray:
    return (minutes * 60).astype("datetime64[s]")


def write_event_charts(run: ScenarioRun, out_dir: Path) -> list[Path]:
    """Write `<scenario>__<event>.png` for every label of the run; returns the paths."""
    written = []
    for outcome in run.outcomes:
        lab = outcome.label
        lo = int((lab.onset - BEFORE_S) // 60)
        hi = int((lab.end + AFTER_S) // 60)
        minutes, n, neg = _series(run.recorder.volume.get(lab.brand, {}), lo, hi)
        kernel = np.ones(10)
        n10 = np.convolve(n, kernel)[: len(n)]
        neg10 = np.convolve(neg, kernel)[: len(neg)]
        share = np.divide(neg10, n10, out=np.full_like(n10, np.nan), where=n10 >= 5)
        t = _times(minutes)

        fig, (top, bottom) = plt.subplots(2, 1, figsize=(11, 6), sharex=True, height_ratios=[3, 2])
        top.plot(t, n, color="tab:blue", lw=0.8, label=f"{lab.brand}: comments/min")
        top.plot(t, neg, color="tab:red", lw=0.8, alpha=0.8, label="negative comments/min")
        if lab.thread_id:
            tm = run.recorder.thread_volume.get((lab.brand, lab.thread_id), {})
            _, tn, _ = _series(tm, lo, hi)
            top.plot(t, tn, color="tab:purple", lw=0.8, ls=":", label=f"thread {lab.thread_id}")
        bottom.plot(t, share, color="tab:red", lw=1.0, label="negative share, 10 min")
        bottom.set_ylim(0, 1)
        for ax in (top, bottom):
            ax.axvspan(
                np.datetime64(int(lab.onset), "s"),
                np.datetime64(int(lab.end), "s"),
                color="gold",
                alpha=0.15,
                label="labelled event" if ax is top else None,
            )
            if lab.breakout is not None:
                ax.axvline(
                    np.datetime64(int(lab.breakout), "s"),
                    color="black",
                    ls="--",
                    lw=1,
                    label="breakout (10x normal)" if ax is top else None,
                )
        ymax = max(float(n.max()) if len(n) else 1.0, 1.0)
        seen: set[str] = set()
        for ev in run.recorder.alerts:
            if ev.brand != lab.brand or ev.event not in _MARKERS or not lo * 60 <= ev.at <= hi * 60:
                continue
            marker, color = _MARKERS[ev.event]
            top.scatter(
                [np.datetime64(int(ev.at), "s")],
                [ymax * 1.02],
                marker=marker,
                color=color,
                s=60,
                zorder=5,
                label=f"incident {ev.event}" if ev.event not in seen else None,
            )
            seen.add(ev.event)
        verdict = "ok" if outcome.correct else "WRONG"
        lead = outcome.lead_seconds
        lead_text = "" if lead is None else f", alert {lead / 60:+.0f} min before breakout"
        should = "must alert" if lab.must_alert else "must stay quiet"
        top.set_title(f"{run.name} / {lab.name} ({lab.kind}, {should}): {verdict}{lead_text}")
        top.set_ylabel("comments per minute")
        bottom.set_ylabel("negative share")
        top.legend(loc="upper left", fontsize=8)
        bottom.xaxis.set_major_formatter(mdates.DateFormatter("%a %H:%M"))
        bottom.set_xlabel("UTC")
        fig.tight_layout()
        path = out_dir / f"{run.name}__{lab.name}.png"
        fig.savefig(path, dpi=90)
        plt.close(fig)
        written.append(path)
    return written

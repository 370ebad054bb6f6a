"""`stormwatch report` and `stormwatch evaluate compare|nab|real-volume|scenarios|suite`:
measuring detection.

Plain typer command functions, registered by the main CLI (`stormwatch.cli`) like the
Kafka commands; the evaluation itself is imported when a command runs. With ``--json``
the figures are stdout's last line and everything else goes to stderr.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from stormwatch.command_arguments import (
    DEFAULT_SEED,
    ConfigFile,
    check_input_file,
    check_output_file,
    command_settings,
    fail,
)

__all__ = [
    "evaluate_compare",
    "evaluate_nab",
    "evaluate_real_volume",
    "evaluate_scenarios",
    "evaluate_suite",
    "report",
]


def report(
    alerts: Annotated[Path, typer.Argument(help="Alert events (JSONL) from a run.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="PNG to write.")] = Path(
        "stormwatch-report.png"
    ),
    comments: Annotated[
        Path | None,
        typer.Option(
            "--comments",
            help="The comments of the run: every minute of it, not only the hours the "
            "alerts' curves cover.",
        ),
    ] = None,
    brand: Annotated[str | None, typer.Option("--brand", help="Brand to plot.")] = None,
) -> None:
    """PNG of a brand's negative comments, volume and incidents over time."""
    from stormwatch.evaluation.report import ReportError, render_report

    check_input_file(alerts, "alerts file")
    if comments is not None:
        check_input_file(comments, "comments file")
    if str(out) == "-":  # `check_output_file` lets "-" (stdout) by: a PNG is no text
        raise fail("--out - would write the PNG to a file named '-': give a file name")
    check_output_file(out, "PNG", "--out")
    try:
        written = render_report(alerts, out, comments_path=comments, brand=brand)
    except ReportError as exc:
        raise fail(exc) from None
    except OSError as exc:
        raise fail(f"cannot write {out}: {exc.strerror or exc}", 1) from None
    Console(soft_wrap=True).print(f"wrote {written}", markup=False)


def evaluate_nab(
    directory: Annotated[
        Path | None,
        typer.Argument(help="NAB-format data directory (default: the vendored realTweets)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Last line: figures as JSON.")] = False,
    threshold: Annotated[
        float | None,
        typer.Option(
            help="Fixed evidence threshold in (0, 1], 1 = the test's signal "
            "(default: NAB's best per profile)."
        ),
    ] = None,
    minutes_per_row: Annotated[
        int, typer.Option(min=1, help="Closed minutes per NAB row (its count spread over them).")
    ] = 1,
    false_alarms_per_month: Annotated[
        float | None,
        typer.Option(help="The detector's false-alarm budget (default: the pipeline's)."),
    ] = None,
) -> None:
    """Score the pipeline's volume test on NAB data with NAB's rules."""
    from stormwatch.evaluation.nab_scoring import evaluate_nab_dir

    if threshold is not None and not 0.0 < threshold <= 1.0:  # NaN fails this too
        raise fail(f"--threshold {threshold} is not in (0, 1]")
    if false_alarms_per_month is not None and not 0.0 < false_alarms_per_month <= 1000.0:
        raise fail(f"--false-alarms-per-month {false_alarms_per_month} is not in (0, 1000]")
    if directory is not None and not directory.is_dir():
        raise fail(
            f"NAB directory {directory} "
            + ("is a file" if directory.exists() else "does not exist")
            + ": give a directory with data/ and labels/combined_windows.json, "
            "or omit it for the vendored realTweets"
        )
    try:
        result = evaluate_nab_dir(
            directory,
            console=Console(stderr=as_json),
            threshold=threshold,
            minutes_per_row=minutes_per_row,
            false_alarms_per_month=false_alarms_per_month,
        )
    except FileNotFoundError as exc:
        raise fail(f"{exc}: not a NAB data directory (data/ and labels/)") from None
    except ValueError as exc:  # a CSV or labels file NAB's format does not allow
        raise fail(exc) from None
    if as_json:
        sys.stdout.write(json.dumps(result, sort_keys=True) + "\n")


def evaluate_real_volume(
    directory: Annotated[
        Path | None,
        typer.Argument(help="NAB-format data directory (default: the vendored realTweets)."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of texts, accounts and storms.")] = 1,
    storms: Annotated[
        bool, typer.Option("--storms/--no-storms", help="Inject storms (off: volume only).")
    ] = True,
    benign: Annotated[
        bool,
        typer.Option(
            "--benign/--no-benign",
            help="Inject benign look-alikes between the storms (praise, launches, bot"
            " bursts, angry customers).",
        ),
    ] = True,
    campaigns: Annotated[
        bool,
        typer.Option(
            "--campaigns/--no-campaigns",
            help="Inject templated campaigns from many accounts, the day before each storm.",
        ),
    ] = True,
    jobs: Annotated[int, typer.Option(min=1, help="Streams scored in parallel.")] = 1,
    texts: Annotated[
        Path | None,
        typer.Option(
            "--texts",
            help="Labelled JSONL (text, label: negative/neutral/positive) to draw the"
            " comments from instead of the Amazon snippets, e.g. your own brand's.",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Last line: figures as JSON.")] = False,
    config: ConfigFile = None,
) -> None:
    """Real tweet volume, human-rated texts, storms on top: caught, lead, false alarms.

    Each NAB realTweets file is one brand's comment volume, each text an Amazon review
    snippet people rated (or one of --texts); storms, templated campaigns and benign
    look-alikes are injected every five days."""
    from stormwatch.evaluation.real_volume import evaluate_real_volume as evaluate

    if directory is not None and not directory.is_dir():
        raise fail(
            f"NAB directory {directory} "
            + ("is a file" if directory.exists() else "does not exist")
            + ": give a directory with realTweets/*.csv, or omit it for the vendored one"
        )
    try:
        result = evaluate(
            directory,
            console=Console(stderr=as_json),
            settings=command_settings(config),
            seed=seed,
            storms=storms,
            benign=benign,
            campaigns=campaigns,
            jobs=jobs,
            texts=texts,
        )
    except (OSError, ValueError) as exc:
        raise fail(exc) from None
    if as_json:
        sys.stdout.write(json.dumps(result, sort_keys=True) + "\n")


def evaluate_scenarios(
    directory: Annotated[Path, typer.Argument(help="NAME.jsonl + NAME.labels.json files.")],
    as_json: Annotated[bool, typer.Option("--json", help="Last line: figures as JSON.")] = False,
    report: Annotated[
        Path | None, typer.Option("--report", help="Write one PNG per event here.")
    ] = None,
    config: ConfigFile = None,
) -> None:
    """Run the pipeline over labelled streams: recall, lead, false alarms, benign incidents."""
    from stormwatch.evaluation.scenario_scoring import evaluate_scenarios_dir

    if report is not None and report.exists() and not report.is_dir():  # before the work
        raise fail(f"--report {report} is a file: give a directory for the charts")
    if report is not None:
        try:  # made now: one under a file failed only after the whole scoring
            report.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise fail(f"--report {report}: {exc.strerror or exc}") from None
    console = Console(stderr=as_json)  # keep stdout's last line the JSON
    try:
        result = evaluate_scenarios_dir(
            directory, console=console, out_dir=report, settings=command_settings(config)
        )
    except (FileNotFoundError, ValueError) as exc:
        raise fail(exc) from None
    if as_json:
        sys.stdout.write(json.dumps(result, sort_keys=True) + "\n")


def evaluate_suite(
    out: Annotated[Path, typer.Option("--out", help="Directory for the suite files.")],
    seed: Annotated[int, typer.Option(min=0, help="Seed of the suite.")] = DEFAULT_SEED,
    seeds: Annotated[
        str | None,
        typer.Option(
            help="Several seeds, each in OUT/seed-N: '1-5', '1,3,7', 'tuning' (1-5) or "
            "'held-out' (101-110)."
        ),
    ] = None,
    classic: Annotated[
        bool, typer.Option("--classic", help="The old five fixed scenarios instead of the family.")
    ] = False,
    evaluate: Annotated[
        bool,
        typer.Option("--evaluate", help="Also score each seed and report the spread across seeds."),
    ] = False,
    jobs: Annotated[int, typer.Option(min=1, help="Seeds scored in parallel (--evaluate).")] = 1,
    as_json: Annotated[bool, typer.Option("--json", help="Last line: figures as JSON.")] = False,
    config: ConfigFile = None,
) -> None:
    """Write the labelled scenario family for a seed or several, and score it.

    Writes NAME.jsonl and NAME.labels.json per stream (the family also NAME.brands.json:
    each brand's size); with --evaluate, scores them and reports recall, lead and false
    alarms by brand size with their spread across seeds.
    Tune on 'tuning', report 'held-out'."""
    from stormwatch.evaluation.family import evaluate_seeds, parse_seeds, write_family
    from stormwatch.evaluation.suite import write_suite

    try:
        chosen = parse_seeds(seeds) if seeds is not None else [seed]
    except ValueError as exc:
        raise fail(exc) from None
    if out.exists() and not out.is_dir():
        raise fail(f"--out {out} is a file: give a directory (it is created if missing)")
    console = Console(stderr=as_json)
    if evaluate:
        if classic:
            raise fail("--evaluate scores the family; use `evaluate scenarios` for --classic")
        result = evaluate_seeds(
            chosen, out, console=console, settings=command_settings(config), jobs=jobs
        )
        if as_json:
            sys.stdout.write(json.dumps(result, sort_keys=True) + "\n")
        return
    for s in chosen:
        directory = out if seeds is None else out / f"seed-{s}"
        paths = write_suite(directory, s) if classic else write_family(directory, s)
        console.print(f"seed {s}: wrote {len(paths)} streams to {directory}", markup=False)


def _last_json_line(path: Path) -> dict:
    """The figures a `--json` run printed: its last non-empty line (a file of the whole
    output reads as well as one of that line alone)."""
    try:
        lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    except (OSError, UnicodeDecodeError) as exc:
        raise fail(f"cannot read {path}: {exc}") from None
    if not lines:
        raise fail(f"{path} is empty: give the output of a --json run")
    try:
        figures = json.loads(lines[-1])
    except json.JSONDecodeError as exc:
        raise fail(f"{path}: its last line is not JSON ({exc.msg})") from None
    if not isinstance(figures, dict):
        raise fail(f"{path}: its last line is not a JSON object")
    return figures


def evaluate_compare(
    before: Annotated[Path, typer.Argument(help="--json output of the run before the change.")],
    after: Annotated[Path, typer.Argument(help="--json output of the run after it.")],
    as_json: Annotated[bool, typer.Option("--json", help="Last line: figures as JSON.")] = False,
) -> None:
    """Two runs of the same seeds, event by event: what a change did.

    Reads the --json output of two `evaluate suite --evaluate` runs or of two
    `evaluate real-volume` runs; prints the events whose result, lead or incidents
    changed, how many crises opened earlier or later, benign events that newly opened
    an incident, and each run's false alarms and median lead from 500 a day."""
    from stormwatch.evaluation.comparison import ComparisonError, compare, print_comparison

    try:
        result = compare(_last_json_line(before), _last_json_line(after))
    except (ComparisonError, KeyError, TypeError) as exc:
        reason = f"missing field {exc}" if isinstance(exc, KeyError) else str(exc)
        raise fail(f"cannot compare {before} with {after}: {reason}") from None
    print_comparison(result, Console(stderr=as_json))
    if as_json:
        sys.stdout.write(json.dumps(result, sort_keys=True) + "\n")

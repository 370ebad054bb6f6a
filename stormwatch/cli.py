"""The `stormwatch` command."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import orjson
import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table
from rich.text import Text

from stormwatch.config import Settings, load_settings
from stormwatch.exceptions import StormwatchError

if TYPE_CHECKING:
    from stormwatch.pipeline import Pipeline
    from stormwatch.stored_checkpoint import IntervalCheckpoints

app = typer.Typer(
    add_completion=False,
    no_args_is_help=False,
    help="Early warning for negative social-media firestorms.",
)
evaluate_app = typer.Typer(help="Measure detection against labelled data.")
playbooks_app = typer.Typer(help="Response playbooks.")
negativity_app = typer.Typer(help="The negativity model.")
app.add_typer(evaluate_app, name="evaluate")
app.add_typer(playbooks_app, name="playbooks")
app.add_typer(negativity_app, name="negativity")

err = Console(stderr=True)

# The same seed everywhere a command generates data (the demo, the scenario family).
DEFAULT_SEED = 7

# Environment variables behind options, shown by `--help` (typer's `envvar=`).
CONFIG_ENV = "STORMWATCH_CONFIG"
DATABASE_ENV = "STORMWATCH_DATABASE_URL"


def _version(value: bool) -> None:
    if value:
        from stormwatch import __version__

        typer.echo(f"stormwatch {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Early warning for negative social-media firestorms."""


def _positive(value: float | None) -> float | None:
    if value is not None and not value > 0:
        raise typer.BadParameter(f"{value} is not > 0 (60 = an hour of comments per minute)")
    return value


def _fail(message: object, code: int = 2) -> typer.Exit:
    """Prints one line naming the problem (and the fix); returns the exit to raise:
    2 for a wrong usage, 1 for a failure at run time. Messages are escaped: `[kafka]` in
    a message is text, not rich markup."""
    err.print(f"[red]error:[/red] {escape(str(message))}", soft_wrap=True, highlight=False)
    return typer.Exit(code)


def _input_file(path: str | Path, what: str) -> None:
    """An existing, readable regular file, else a usage error naming it."""
    p = Path(path)
    if not p.exists():
        raise _fail(f"{what} {p} does not exist: give the path of an existing file")
    if p.is_dir():
        raise _fail(f"{what} {p} is a directory: give a file")
    if not os.access(p, os.R_OK):
        raise _fail(f"{what} {p} is not readable: check its permissions")


def _output_file(path: str | Path | None, what: str, option: str) -> None:
    """A path a file can be written to (its directory exists and is writable)."""
    if path is None or str(path) == "-":
        return
    p = Path(path)
    if p.is_dir():
        raise _fail(f"{option} {p} is a directory: give the path of the {what} file")
    parent = p.parent
    if not parent.is_dir():
        raise _fail(
            f"{option} {p}: directory {parent} does not exist: create it or choose another path"
        )
    if not os.access(parent, os.W_OK) or (p.exists() and not os.access(p, os.W_OK)):
        raise _fail(f"{option} {p} is not writable: check its permissions")


def _settings(config: Path | None, **overrides: object) -> Settings:
    if config is not None:
        _input_file(config, "config file")
    try:
        return load_settings(config, overrides=overrides)
    except StormwatchError as exc:
        raise _fail(f"configuration error: {exc}") from None


class _RateColumn(ProgressColumn):
    """Comments read so far and per second."""

    def render(self, task: Task) -> Text:
        comments = int(task.fields.get("comments", task.completed))
        elapsed = task.elapsed or 0.0
        rate = f", {comments / elapsed:,.0f}/s" if elapsed > 0 else ""
        return Text(f"{comments:,} comments{rate}", style="progress.data.speed")


def _progress(*, by_bytes: bool) -> Progress:
    """Progress on stderr (stdout stays the report), only on a terminal; a file shows MB
    read and MB/s, every input comments and comments/s."""
    sizes = [DownloadColumn(), TransferSpeedColumn()] if by_bytes else [MofNCompleteColumn()]
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        *sizes,
        _RateColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    )


@app.command()
def run(
    input: Annotated[
        str | None,
        typer.Argument(help="JSONL file of comments, or - for stdin. Omit to replay the demo."),
    ] = None,
    alerts_jsonl: Annotated[
        Path | None, typer.Option("--alerts-jsonl", help="Append alert events here (JSONL).")
    ] = None,
    dead_letter: Annotated[
        Path | None, typer.Option("--dead-letter", help="Write undecodable records here (JSONL).")
    ] = None,
    db: Annotated[
        str | None,
        typer.Option(
            "--db", envvar=DATABASE_ENV, help="Incident store: a SQLite path or a database URL."
        ),
    ] = None,
    config: Annotated[
        Path | None, typer.Option("--config", envvar=CONFIG_ENV, help="TOML settings file.")
    ] = None,
    speed: Annotated[
        float | None,
        typer.Option(
            "--speed",
            callback=_positive,
            help="Pace in event time: 60 = an hour of comments per minute (> 0).",
        ),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the demo scenario.")] = DEFAULT_SEED,
    metrics_port: Annotated[
        int | None,
        typer.Option(
            "--metrics-port",
            help="Serve /metrics, /healthz and /readyz here (or STORMWATCH_METRICS_PORT).",
        ),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only the summary line.")] = False,
) -> None:
    """Run the pipeline over a file, stdin or the built-in demo, in event time."""
    from stormwatch.console import render_run
    from stormwatch.runtime import build_pipeline

    if input is not None and input != "-":
        _input_file(input, "input")
    _output_file(alerts_jsonl, "alerts", "--alerts-jsonl")
    _output_file(dead_letter, "dead-letter", "--dead-letter")
    settings = _settings(config, database_url=db)
    out = Console(stderr=alerts_jsonl is not None and str(alerts_jsonl) == "-")
    try:
        observer, server = _metrics(metrics_port)
        pipeline = build_pipeline(
            settings,
            alerts_jsonl=alerts_jsonl,
            dead_letter=dead_letter,
            console=None if quiet else out,
            observer=observer,
            config_path=config,
        )
        checkpoints = _resume(pipeline, settings.database_url)
    except StormwatchError as exc:
        raise _fail(exc) from None
    labels = ()
    # Paced input moves slowly: refresh on every line, else every 2,000 lines.
    every = 1 if speed else 2000
    # Asked on every line (a clock read), so a stream that trickles in is checkpointed too.
    checkpoint_if_due = checkpoints.save_if_due if checkpoints is not None else lambda: None
    with _progress(by_bytes=input not in (None, "-")) as progress:
        if input is None:
            from stormwatch.evaluation.demo import demo_scenario

            task = progress.add_task("generating demo", total=None)
            scenario = demo_scenario(seed)
            labels = tuple(scenario.labels)
            progress.update(task, description="replaying demo", total=len(scenario.comments))
            feed = pipeline.feed
            for n, comment in enumerate(scenario.comments, 1):
                feed(orjson.dumps(comment), f"demo:{n}")
                checkpoint_if_due()
                if n % every == 0:
                    progress.update(task, completed=n)
        else:
            from stormwatch.ingest.file_source import FileSource

            source = FileSource(input, speed=speed)
            task = progress.add_task(f"reading {source.name}", total=source.size(), comments=0)
            feed = pipeline.feed
            name = source.name
            n = 0
            for n, line in enumerate(source.lines(), 1):
                feed(line, f"{name}:{n}")
                checkpoint_if_due()
                if n % every == 0:
                    progress.update(task, completed=source.bytes_read, comments=n)
            progress.update(task, completed=source.bytes_read, comments=n)
    if checkpoints is not None:
        # Before `finish()`: the minute in progress and held records stay open in the
        # checkpoint, so a run over the continued input goes on as if never stopped.
        checkpoints.save()
        checkpoints.stored.store.close()
    stats = pipeline.finish()
    if server is not None:
        server.close()
    if quiet:
        out.print(
            f"read={stats.read} processed={stats.processed} dead_lettered={stats.dead_lettered} "
            f"incidents={len(pipeline.tracker.history)} seconds={stats.seconds:.1f}"
        )
        return
    ok = render_run(out, pipeline, labels)
    if labels and not ok:
        raise typer.Exit(1)


def _resume(pipeline: Pipeline, url: str | None) -> IntervalCheckpoints | None:
    """With a store: the pipeline resumes from the store's checkpoint (said on stderr),
    and is checkpointed there every `checkpoint_seconds` and at the end of the input."""
    if not url:
        return None
    from stormwatch.alerts.store import IncidentStore
    from stormwatch.stored_checkpoint import IntervalCheckpoints, StoredCheckpoint

    stored = StoredCheckpoint(IncidentStore.open(url))
    if stored.restore(pipeline):
        stats = pipeline.stats
        err.print(
            f"resumed from the checkpoint in the store: {stats.read:,} records read before, "
            f"open incidents: {len(pipeline.tracker.open)}; ids seen before count as "
            "duplicates and the counts go on from there"
        )
    every = pipeline.settings.checkpoint_seconds
    return IntervalCheckpoints(stored, pipeline, every_seconds=every)


def _metrics(port: int | None):  # type: ignore[no-untyped-def]
    """A metrics observer and its HTTP server, when a port is configured."""
    from stormwatch.service.exporter import metrics_address

    address = metrics_address(port)
    if address is None:
        return None, None
    from prometheus_client import CollectorRegistry

    from stormwatch.metrics import MetricsObserver, StormwatchMetrics
    from stormwatch.service.exporter import start_metrics_server

    registry = CollectorRegistry()
    observer = MetricsObserver(StormwatchMetrics(registry))
    try:
        server = start_metrics_server(address[1], registry, host=address[0])
    except OSError as exc:
        raise _fail(
            f"cannot serve metrics on {address[0]}:{address[1]} ({exc.strerror or exc}): "
            "choose another --metrics-port or STORMWATCH_METRICS_PORT",
            1,
        ) from None
    return observer, server


@app.command()
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

    _input_file(alerts, "alerts file")
    if comments is not None:
        _input_file(comments, "comments file")
    _output_file(out, "PNG", "--out")
    try:
        written = render_report(alerts, out, comments_path=comments, brand=brand)
    except ReportError as exc:
        raise _fail(exc) from None
    except OSError as exc:
        raise _fail(f"cannot write {out}: {exc.strerror or exc}", 1) from None
    Console().print(f"wrote {written}")


@evaluate_app.command("nab")
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

    if directory is not None and not directory.is_dir():
        raise _fail(
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
        raise _fail(f"{exc}: not a NAB data directory (data/ and labels/)") from None
    if as_json:
        sys.stdout.write(json.dumps(result, sort_keys=True) + "\n")


@evaluate_app.command("scenarios")
def evaluate_scenarios(
    directory: Annotated[Path, typer.Argument(help="NAME.jsonl + NAME.labels.json files.")],
    as_json: Annotated[bool, typer.Option("--json", help="Last line: figures as JSON.")] = False,
    report: Annotated[
        Path | None, typer.Option("--report", help="Write one PNG per event here.")
    ] = None,
    config: Annotated[
        Path | None, typer.Option("--config", envvar=CONFIG_ENV, help="TOML settings file.")
    ] = None,
) -> None:
    """Run the pipeline over labelled streams: recall, lead, false alarms, benign incidents."""
    from stormwatch.evaluation.scenario_scoring import evaluate_scenarios_dir

    console = Console(stderr=as_json)  # keep stdout's last line the JSON
    try:
        result = evaluate_scenarios_dir(
            directory, console=console, out_dir=report, settings=_settings(config)
        )
    except FileNotFoundError as exc:
        raise _fail(exc) from None
    if as_json:
        sys.stdout.write(json.dumps(result, sort_keys=True) + "\n")


@evaluate_app.command("suite")
def evaluate_suite(
    out: Annotated[Path, typer.Option("--out", help="Directory for the suite files.")],
    seed: Annotated[int, typer.Option(help="Seed of the suite.")] = DEFAULT_SEED,
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
    jobs: Annotated[int, typer.Option(help="Seeds scored in parallel (--evaluate).")] = 1,
    as_json: Annotated[bool, typer.Option("--json", help="Last line: figures as JSON.")] = False,
    config: Annotated[
        Path | None, typer.Option("--config", envvar=CONFIG_ENV, help="TOML settings file.")
    ] = None,
) -> None:
    """Write the labelled scenario family for a seed or several, and score it.

    Writes NAME.jsonl, .labels.json and .brands.json; with --evaluate, scores them and
    reports recall, lead and false alarms by brand size with their spread across seeds.
    Tune on 'tuning', report 'held-out'."""
    from stormwatch.evaluation.family import evaluate_seeds, parse_seeds, write_family
    from stormwatch.evaluation.suite import write_suite

    try:
        chosen = parse_seeds(seeds) if seeds is not None else [seed]
    except ValueError as exc:
        raise _fail(exc) from None
    if out.exists() and not out.is_dir():
        raise _fail(f"--out {out} is a file: give a directory (it is created if missing)")
    console = Console(stderr=as_json)
    if evaluate:
        if classic:
            raise _fail("--evaluate scores the family; use `evaluate scenarios` for --classic")
        result = evaluate_seeds(chosen, out, console=console, settings=_settings(config), jobs=jobs)
        if as_json:
            sys.stdout.write(json.dumps(result, sort_keys=True) + "\n")
        return
    for s in chosen:
        directory = out if seeds is None else out / f"seed-{s}"
        paths = write_suite(directory, s) if classic else write_family(directory, s)
        console.print(f"seed {s}: wrote {len(paths)} streams to {directory}")


@playbooks_app.command("check")
def playbooks_check(
    directory: Annotated[Path, typer.Argument(help="Directory or file of playbooks.")],
) -> None:
    """Validate playbooks; exit 1 listing file, line and reason of each problem."""
    from stormwatch.playbooks.loader import check

    if not directory.exists():
        raise _fail(f"{directory} does not exist: give a playbook directory or YAML file")
    if directory.is_dir() and not any(
        p.suffix in (".yaml", ".yml") for p in directory.iterdir() if p.is_file()
    ):
        raise _fail(f"{directory} holds no playbooks (*.yaml): nothing to check", 1)
    problems = check(directory)
    for problem in problems:
        err.print(str(problem))
    if problems:
        raise typer.Exit(1)
    Console().print(f"[green]playbooks OK[/green]: {directory}")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
    db: Annotated[
        str | None, typer.Option("--db", help="Incident store: SQLite path or URL.")
    ] = None,
    config: Annotated[Path | None, typer.Option("--config", help="TOML settings file.")] = None,
    alerts_jsonl: Annotated[
        Path | None, typer.Option("--alerts-jsonl", help="Also append alert events here (JSONL).")
    ] = None,
    dead_letter: Annotated[
        Path | None, typer.Option("--dead-letter", help="Write undecodable records here (JSONL).")
    ] = None,
    metrics_port: Annotated[
        int | None,
        typer.Option(
            "--metrics-port",
            help="Also serve /metrics, /healthz, /readyz here (they are on --port too).",
        ),
    ] = None,
) -> None:
    """The always-on service: the live pipeline, its incident store, Slack and on-call.

    Comments come over POST /ingest, Meta webhooks and the collectors the config file
    lists; Slack buttons, delivery, on-call escalation, /metrics, /healthz and /readyz
    are served too. SIGTERM stops it cleanly; a restart resumes from its checkpoint."""
    import logging

    from prometheus_client import CollectorRegistry

    from stormwatch.service.exporter import metrics_address, start_metrics_server
    from stormwatch.service.serve import build_service

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    settings = _settings(config, database_url=db)
    registry = CollectorRegistry()
    metrics_server = None
    service = None
    address = None
    try:
        service = build_service(
            settings,
            host=host,
            port=port,
            config_path=config,
            alerts_jsonl=alerts_jsonl,
            dead_letter=dead_letter,
            registry=registry,
        )
        address = metrics_address(metrics_port)
        if address is not None:
            metrics_server = start_metrics_server(
                address[1], registry, host=address[0], health=service.health, ready=service.ready
            )
        service.run(ready=lambda url: err.print(f"stormwatch serve listening on {url}"))
    except StormwatchError as exc:
        raise _fail(exc) from None
    except OSError as exc:
        # The metrics server is up before the service binds --port: a busy port now is
        # --port's, unless the metrics server never started.
        option, where = (
            ("--port", f"{host}:{port}")
            if address is None or metrics_server is not None
            else ("--metrics-port", f"{address[0]}:{address[1]}")
        )
        raise _fail(
            f"cannot listen on {where} ({exc.strerror or exc}): choose another {option}", 1
        ) from None
    finally:
        if metrics_server is not None:
            metrics_server.close()
        if service is not None:
            service.store.close()


def _existing_store(url: str) -> None:
    """A SQLite store must exist already: a typo in the path would otherwise create an
    empty database and record the verdict where nobody reads it."""
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(url if "://" in url else f"sqlite:///{url}")
    except Exception:  # noqa: BLE001 - the store reports a bad URL itself
        return
    if parsed.get_backend_name() != "sqlite":
        return
    database = parsed.database
    if database and database != ":memory:" and not Path(database).is_file():
        raise _fail(
            f"incident store {database} does not exist: give the --db of the run "
            f"(or {DATABASE_ENV}) that recorded the incident"
        )


@app.command()
def feedback(
    incident: Annotated[str | None, typer.Argument(help="Incident key.")] = None,
    false_alarm: Annotated[bool, typer.Option("--false-alarm", help="Not a crisis.")] = False,
    confirmed: Annotated[bool, typer.Option("--confirmed", help="A real crisis.")] = False,
    comment: Annotated[
        str | None,
        typer.Option("--comment", help="A comment's id (a sample of an alert) to label."),
    ] = None,
    negative: Annotated[
        bool | None,
        typer.Option("--negative/--not-negative", help="How the comment reads (with --comment)."),
    ] = None,
    text: Annotated[
        str | None, typer.Option(help="The comment's text, when it is no stored sample.")
    ] = None,
    brand: Annotated[
        str | None, typer.Option(help="The comment's brand, when it is no stored sample.")
    ] = None,
    lang: Annotated[str | None, typer.Option(help="The comment's language (ISO 639-1).")] = None,
    who: Annotated[str, typer.Option(help="Who says so.")] = "cli",
    db: Annotated[
        str | None,
        typer.Option("--db", envvar=DATABASE_ENV, help="Incident store: SQLite path or URL."),
    ] = None,
    config: Annotated[
        Path | None, typer.Option("--config", envvar=CONFIG_ENV, help="TOML settings file.")
    ] = None,
) -> None:
    """Record whether an incident was a real crisis, or how one comment reads.

    A verdict on an incident feeds detector tuning. With --comment ID
    --negative/--not-negative it teaches that brand's negativity: runs with --db learn it
    at start-up."""
    from stormwatch.alerts.feedback import record_feedback
    from stormwatch.alerts.store import IncidentStore

    settings = _settings(config, database_url=db)
    if comment is not None:
        if incident is not None or false_alarm or confirmed:
            raise _fail("--comment labels a comment: no incident, --false-alarm or --confirmed")
        if negative is None:
            raise _fail("give --negative or --not-negative with --comment")
        _label_comment(settings, comment, negative, text=text, brand=brand, lang=lang, who=who)
        return
    if incident is None:
        raise _fail("give an incident key, or --comment ID")
    if false_alarm == confirmed:
        raise _fail("give exactly one of --false-alarm or --confirmed")
    if not settings.database_url:
        raise _fail(f"needs --db or {DATABASE_ENV}")
    _existing_store(settings.database_url)
    try:
        with IncidentStore.open(settings.database_url) as store:
            label = "false_alarm" if false_alarm else "confirmed"
            record_feedback(store, incident, label, who=who)
    except StormwatchError as exc:
        raise _fail(exc, 1) from None
    Console().print(f"recorded {label} for {incident}")


def _label_comment(
    settings: Settings,
    comment: str,
    negative: bool,
    *,
    text: str | None,
    brand: str | None,
    lang: str | None,
    who: str,
) -> None:
    from stormwatch.alerts.store import IncidentStore

    if not settings.database_url:
        raise _fail(f"needs --db or {DATABASE_ENV}")
    _existing_store(settings.database_url)
    try:
        with IncidentStore.open(settings.database_url) as store:
            if text is None:
                sample = store.find_sample(comment, brand)
                if sample is None:
                    raise _fail(
                        f"no alert shows a comment {comment!r} as a sample: give its --text "
                        "and --brand"
                    )
                text, brand = sample.text, sample.brand
            elif brand is None:
                raise _fail("--text needs --brand")
            store.add_negativity_label(
                brand=brand, comment_id=comment, text=text, lang=lang, negative=negative, who=who
            )
    except StormwatchError as exc:
        raise _fail(exc, 1) from None
    reading = "negative" if negative else "not negative"
    Console().print(f"recorded: comment {comment} of {brand} reads {reading}")


@app.command()
def purge(
    older_than: Annotated[
        float,
        typer.Option(
            "--older-than", metavar="DAYS", help="Purge what was recorded before this many days."
        ),
    ],
    db: Annotated[
        str | None,
        typer.Option("--db", envvar=DATABASE_ENV, help="Incident store: SQLite path or URL."),
    ] = None,
    config: Annotated[
        Path | None, typer.Option("--config", envvar=CONFIG_ENV, help="TOML settings file.")
    ] = None,
) -> None:
    """Delete stored comment texts and author ids older than DAYS.

    Alert samples and loudest accounts go; incidents, their figures and verdicts stay."""
    from stormwatch.alerts.store import IncidentStore
    from stormwatch.alerts.store.retention import purge as purge_store

    if not older_than >= 0:
        raise _fail(f"--older-than {older_than} is not >= 0 (days)")
    settings = _settings(config, database_url=db)
    if not settings.database_url:
        raise _fail(f"needs --db or {DATABASE_ENV}")
    _existing_store(settings.database_url)
    try:
        with IncidentStore.open(settings.database_url) as store:
            report = purge_store(store, older_than_days=older_than)
    except StormwatchError as exc:
        raise _fail(exc, 1) from None
    Console().print(
        f"purged comment texts and author ids older than {older_than:g} days: "
        f"{report.events} events, {report.incidents} incidents, "
        f"{report.deliveries} deliveries"
    )


# ------------------------------------------------------------------- negativity


def _negativity_scorer(settings: Settings):  # type: ignore[no-untyped-def]
    from stormwatch.detectors.negativity import build_scorer

    model = Path(settings.negativity_model) if settings.negativity_model else None
    try:
        return build_scorer({"en": settings.negativity_en, "de": settings.negativity_de}, model)
    except StormwatchError as exc:
        raise _fail(exc, 2) from None


def _input_lines(input: str):  # type: ignore[no-untyped-def]
    if input == "-":
        return sys.stdin.buffer
    try:
        return open(input, "rb")  # noqa: SIM115 - closed by the caller's with
    except OSError as exc:
        raise _fail(exc, 2) from None


@app.command()
def score(
    input: Annotated[str, typer.Argument(help="JSONL file of comments, or - for stdin.")],
    config: Annotated[
        Path | None, typer.Option("--config", envvar=CONFIG_ENV, help="TOML settings file.")
    ] = None,
) -> None:
    """Print how each comment is read: JSONL of id, lang, negativity, negative, topics."""
    from stormwatch.detectors.enrich import Enricher
    from stormwatch.detectors.topics import TopicTagger, load_vocabulary

    settings = _settings(config)
    tagger = TopicTagger(load_vocabulary(settings.topics_file)) if settings.topics_file else None
    enricher = Enricher(_negativity_scorer(settings), tagger)
    threshold = settings.negative_threshold
    out = sys.stdout.buffer
    skipped = 0
    with _input_lines(input) as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                record = orjson.loads(line)
                text = record["text"]
                lang = record.get("lang")
                if not isinstance(text, str):
                    raise TypeError("text is not a string")
            except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
                err.print(f"line {number}: skipped ({exc})")
                skipped += 1
                continue
            lang, negativity, topics = enricher.enrich(
                text, lang if isinstance(lang, str) else None
            )
            result = {
                "id": record.get("id"),
                "lang": lang,
                "negativity": round(negativity, 4),
                "negative": negativity >= threshold,
                "topics": list(topics),
            }
            out.write(orjson.dumps(result) + b"\n")
    out.flush()
    if skipped:
        raise typer.Exit(1)


@evaluate_app.command("negativity")
def evaluate_negativity(
    input: Annotated[str, typer.Argument(help="Labelled JSONL (text, label, lang?), or -.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
    config: Annotated[
        Path | None, typer.Option("--config", envvar=CONFIG_ENV, help="TOML settings file.")
    ] = None,
) -> None:
    """Precision, recall and F1 of "negative" on labelled comments, per language."""
    from stormwatch.detectors.negativity_training import as_json as scores_json
    from stormwatch.detectors.negativity_training import negative_scores, read_labelled

    settings = _settings(config)
    scorer = _negativity_scorer(settings)
    try:
        with _input_lines(input) as lines:
            comments = list(read_labelled(lines, source=input))
    except StormwatchError as exc:
        raise _fail(exc, 2) from None
    threshold = settings.negative_threshold
    flagged = [scorer.score(c.text, c.lang) >= threshold for c in comments]
    scores = negative_scores(comments, flagged)
    if as_json:
        sys.stdout.buffer.write(scores_json(scores) + b"\n")
        return
    table = Table(title=f"negative at negativity >= {threshold}")
    for column in ("language", "comments", "negatives", "precision", "recall", "F1"):
        table.add_column(column, justify="left" if column == "language" else "right")
    for lang, s in scores.items():
        table.add_row(
            lang,
            str(s.comments),
            str(s.negatives),
            f"{s.precision:.3f}",
            f"{s.recall:.3f}",
            f"{s.f1:.3f}",
        )
    Console().print(table)


@negativity_app.command("train")
def negativity_train(
    train: Annotated[
        list[Path], typer.Option("--train", help="Labelled JSONL for training (repeatable).")
    ],
    validation: Annotated[
        list[Path],
        typer.Option("--validation", help="Labelled JSONL that chooses the thresholds."),
    ],
    out: Annotated[
        Path | None, typer.Option("--out", help="Model file (default: the shipped one).")
    ] = None,
    bits: Annotated[int, typer.Option(help="log2 of the number of hashed features.")] = 18,
    c: Annotated[float, typer.Option("--c", help="Inverse regularisation strength.")] = 2.0,
    seed: Annotated[int, typer.Option(help="Seed of the cross-validation folds.")] = 0,
    plain: Annotated[
        list[Path] | None,
        typer.Option(
            "--plain", help="JSONL of a brand's ordinary comments (labels ignored; repeatable)."
        ),
    ] = None,
    max_plain_flagged: Annotated[
        float,
        typer.Option(
            min=0.0, max=1.0, help="At most this share of the --plain comments reads negative."
        ),
    ] = 0.01,
) -> None:
    """Retrain the negativity model, one per language, thresholds from validation.

    Each threshold is the best mean validation F1 that reads at most
    --max-plain-flagged of the --plain comments as negative."""
    from stormwatch.detectors.negativity_model import default_model_path, save_model
    from stormwatch.detectors.negativity_training import train_models

    try:
        model_file = train_models(
            train,
            validation,
            bits=bits,
            c=c,
            seed=seed,
            plain=plain or [],
            max_plain_flagged=max_plain_flagged if plain else 1.0,
        )
    except (StormwatchError, OSError) as exc:
        raise _fail(exc, 2) from None
    path = out if out is not None else default_model_path()
    save_model(model_file, path)
    console = Console()
    for lang, record in model_file.meta["languages"].items():
        flagged = record["plain_flagged"]
        console.print(
            f"{lang}: {record['train_comments']} comments, threshold {record['threshold']:.2f}, "
            f"validation F1 {record['validation_mean_f1']:.3f}"
            + ("" if flagged is None else f", plain comments read negative {flagged:.1%}")
        )
    console.print(f"wrote {path}")


def _kafka_commands() -> None:
    # Defined in their own module (options for brokers, groups and topics); imports inside
    # the commands are lazy, so `stormwatch run` does not load kafka-python.
    from stormwatch.kafka.commands import produce, worker

    app.command()(produce)
    app.command()(worker)


_kafka_commands()


def _collect_commands() -> None:
    # `stormwatch collect rss ...`: the collectors, defined with their sources.
    from stormwatch.ingest.collect_commands import collect_app

    app.add_typer(collect_app, name="collect")


_collect_commands()


def main() -> None:
    """The console script: click's usage errors and file errors as one line, no traceback."""
    try:
        code = app(prog_name="stormwatch", standalone_mode=False)
    except typer.Abort:
        err.print("aborted")
        code = 130
    except typer.TyperException as exc:  # typer's own click: usage errors, bad parameters
        code = getattr(exc, "exit_code", 2)
        message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        ctx = getattr(exc, "ctx", None)
        hint = f" (see `{ctx.command_path} --help`)" if ctx is not None else ""
        _fail(f"{message}{hint}", code)
    except OSError as exc:
        # a file problem no command foresaw: still one line, as a runtime failure
        _fail(exc, 1)
        code = 1
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()

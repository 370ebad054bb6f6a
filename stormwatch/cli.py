"""The `stormwatch` command."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from stormwatch.config import Settings, load_settings
from stormwatch.exceptions import StormwatchError

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


def _settings(config: Path | None, **overrides: object) -> Settings:
    try:
        return load_settings(config, overrides=overrides)
    except StormwatchError as exc:
        err.print(f"[red]configuration error:[/red] {exc}")
        raise typer.Exit(2) from None


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    )


@app.command()
def run(
    input: Annotated[
        str | None,
        typer.Argument(help="JSONL file of comments, or - for stdin. Omit to replay the demo."),
    ] = None,
    alerts_jsonl: Annotated[
        Path | None, typer.Option("--alerts-jsonl", help="Write alert events here (JSONL).")
    ] = None,
    dead_letter: Annotated[
        Path | None, typer.Option("--dead-letter", help="Write undecodable records here (JSONL).")
    ] = None,
    db: Annotated[
        str | None,
        typer.Option("--db", help="Incident store: a SQLite path or a database URL."),
    ] = None,
    config: Annotated[Path | None, typer.Option("--config", help="TOML settings file.")] = None,
    speed: Annotated[
        float | None,
        typer.Option("--speed", help="Pace in event time: 60 = an hour of comments per minute."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the demo scenario.")] = 7,
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

    settings = _settings(config, database_url=db)
    out = Console(stderr=alerts_jsonl is not None and str(alerts_jsonl) == "-")
    try:
        observer, server = _metrics(metrics_port)
        pipeline = build_pipeline(
            settings,
            alerts_jsonl=alerts_jsonl,
            dead_letter=dead_letter,
            console=out,
            observer=observer,
            config_path=config,
        )
    except StormwatchError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    labels = ()
    with _progress(out) as progress:
        if input is None:
            from stormwatch.evaluation.demo import demo_scenario

            task = progress.add_task("generating demo", total=None)
            scenario = demo_scenario(seed)
            labels = tuple(scenario.labels)
            progress.update(task, description="replaying demo", total=len(scenario.comments))
            feed = pipeline.feed
            for n, comment in enumerate(scenario.comments, 1):
                feed(orjson.dumps(comment), f"demo:{n}")
                if n % 5000 == 0:
                    progress.update(task, completed=n)
        else:
            from stormwatch.ingest.file_source import FileSource

            source = FileSource(input, speed=speed)
            size = source.size()
            task = progress.add_task(f"reading {source.name}", total=size)
            feed = pipeline.feed
            name = source.name
            for n, line in enumerate(source.lines(), 1):
                feed(line, f"{name}:{n}")
                if n % 5000 == 0:
                    progress.update(task, completed=source.bytes_read)
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
    return observer, start_metrics_server(address[1], registry, host=address[0])


@app.command()
def report(
    alerts: Annotated[Path, typer.Argument(help="Alert events (JSONL) from a run.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="PNG to write.")] = Path(
        "stormwatch-report.png"
    ),
    comments: Annotated[
        Path | None, typer.Option("--comments", help="The comments of the run, for volume.")
    ] = None,
    brand: Annotated[str | None, typer.Option("--brand", help="Brand to plot.")] = None,
) -> None:
    """PNG of a brand's volume, negative share and incidents over time."""
    from stormwatch.evaluation.report import ReportError, render_report

    try:
        written = render_report(alerts, out, comments_path=comments, brand=brand)
    except ReportError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    Console().print(f"wrote {written}")


@evaluate_app.command("nab")
def evaluate_nab(
    directory: Annotated[
        Path | None,
        typer.Argument(help="NAB-format data directory (default: the vendored realTweets)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Last line: figures as JSON.")] = False,
    threshold: Annotated[
        float | None, typer.Option(help="Fixed z threshold (default: tuned per profile).")
    ] = None,
) -> None:
    """Score the volume detector on NAB data with NAB's rules."""
    from stormwatch.evaluation.nab_scoring import evaluate_nab_dir

    result = evaluate_nab_dir(directory, console=Console(stderr=as_json), threshold=threshold)
    if as_json:
        sys.stdout.write(json.dumps(result, sort_keys=True) + "\n")


@evaluate_app.command("scenarios")
def evaluate_scenarios(
    directory: Annotated[Path, typer.Argument(help="NAME.jsonl + NAME.labels.json files.")],
    as_json: Annotated[bool, typer.Option("--json", help="Last line: figures as JSON.")] = False,
    report: Annotated[
        Path | None, typer.Option("--report", help="Write one PNG per event here.")
    ] = None,
    config: Annotated[Path | None, typer.Option("--config", help="TOML settings file.")] = None,
) -> None:
    """Run the pipeline over labelled streams: recall, lead, false alarms, benign incidents."""
    from stormwatch.evaluation.scenario_scoring import evaluate_scenarios_dir

    console = Console(stderr=as_json)  # keep stdout's last line the JSON
    try:
        result = evaluate_scenarios_dir(
            directory, console=console, out_dir=report, settings=_settings(config)
        )
    except FileNotFoundError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    if as_json:
        sys.stdout.write(json.dumps(result, sort_keys=True) + "\n")


@evaluate_app.command("suite")
def evaluate_suite(
    out: Annotated[Path, typer.Option("--out", help="Directory for the suite files.")],
    seed: Annotated[int, typer.Option(help="Seed of the suite.")] = 1,
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
    config: Annotated[Path | None, typer.Option("--config", help="TOML settings file.")] = None,
) -> None:
    """Write the labelled scenario family (NAME.jsonl, .labels.json, .brands.json) for a
    seed or several; with --evaluate, score them and report recall, lead and false alarms
    by brand size with their spread across seeds. Tune on 'tuning', report 'held-out'."""
    from stormwatch.evaluation.family import evaluate_seeds, parse_seeds, write_family
    from stormwatch.evaluation.suite import write_suite

    try:
        chosen = parse_seeds(seeds) if seeds is not None else [seed]
    except ValueError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    console = Console(stderr=as_json)
    if evaluate:
        if classic:
            err.print("[red]error:[/red] --evaluate scores the family; use `evaluate scenarios`")
            raise typer.Exit(2)
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
    """The always-on service: the pipeline live over POST /ingest and Meta webhooks, the
    incident store, Slack buttons and delivery, on-call escalation, /metrics, /healthz,
    /readyz. SIGTERM stops it cleanly; a restart resumes from its checkpoint."""
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
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    except OSError as exc:
        err.print(
            f"[red]error:[/red] cannot listen ({exc.strerror or exc}): "
            "choose another --port or --metrics-port"
        )
        raise typer.Exit(1) from None
    finally:
        if metrics_server is not None:
            metrics_server.close()
        if service is not None:
            service.store.close()


@app.command()
def feedback(
    incident: Annotated[str, typer.Argument(help="Incident key.")],
    false_alarm: Annotated[bool, typer.Option("--false-alarm", help="Not a crisis.")] = False,
    confirmed: Annotated[bool, typer.Option("--confirmed", help="A real crisis.")] = False,
    who: Annotated[str, typer.Option(help="Who says so.")] = "cli",
    db: Annotated[str | None, typer.Option("--db", help="Incident store.")] = None,
    config: Annotated[Path | None, typer.Option("--config", help="TOML settings file.")] = None,
) -> None:
    """Record whether an incident was a real crisis (feeds detector tuning)."""
    if false_alarm == confirmed:
        err.print("give exactly one of --false-alarm or --confirmed")
        raise typer.Exit(2)
    from stormwatch.alerts.feedback import record_feedback
    from stormwatch.alerts.store import IncidentStore

    settings = _settings(config, database_url=db)
    if not settings.database_url:
        err.print("needs --db or STORMWATCH_DATABASE_URL")
        raise typer.Exit(2)
    try:
        with IncidentStore.open(settings.database_url) as store:
            label = "false_alarm" if false_alarm else "confirmed"
            record_feedback(store, incident, label, who=who)
    except StormwatchError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None
    Console().print(f"recorded {label} for {incident}")


# ------------------------------------------------------------------- negativity


def _negativity_scorer(settings: Settings):  # type: ignore[no-untyped-def]
    from stormwatch.detectors.negativity import build_scorer

    model = Path(settings.negativity_model) if settings.negativity_model else None
    try:
        return build_scorer({"en": settings.negativity_en, "de": settings.negativity_de}, model)
    except StormwatchError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None


def _input_lines(input: str):  # type: ignore[no-untyped-def]
    if input == "-":
        return sys.stdin.buffer
    try:
        return open(input, "rb")  # noqa: SIM115 - closed by the caller's with
    except OSError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None


@app.command()
def score(
    input: Annotated[str, typer.Argument(help="JSONL file of comments, or - for stdin.")],
    config: Annotated[Path | None, typer.Option("--config", help="TOML settings file.")] = None,
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
    config: Annotated[Path | None, typer.Option("--config", help="TOML settings file.")] = None,
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
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
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
    c: Annotated[float, typer.Option("--c", help="Inverse regularisation strength.")] = 4.0,
    seed: Annotated[int, typer.Option(help="Seed of the cross-validation folds.")] = 0,
) -> None:
    """Retrain the negativity model, one per language, thresholds chosen on validation."""
    from stormwatch.detectors.negativity_model import default_model_path, save_model
    from stormwatch.detectors.negativity_training import train_models

    try:
        model_file = train_models(train, validation, bits=bits, c=c, seed=seed)
    except (StormwatchError, OSError) as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    path = out if out is not None else default_model_path()
    save_model(model_file, path)
    console = Console()
    for lang, record in model_file.meta["languages"].items():
        console.print(
            f"{lang}: {record['train_comments']} comments, threshold {record['threshold']:.2f}, "
            f"validation F1 {record['validation_mean_f1']:.3f}"
        )
    console.print(f"wrote {path}")


def _kafka_commands() -> None:
    # Defined in their own module (options for brokers, groups and topics); imports inside
    # the commands are lazy, so `stormwatch run` does not load kafka-python.
    from stormwatch.kafka.commands import produce, worker

    app.command()(produce)
    app.command()(worker)


_kafka_commands()


def main() -> None:
    app()


if __name__ == "__main__":
    main()

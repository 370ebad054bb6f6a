"""`stormwatch produce` and `stormwatch worker`: the Kafka commands.

Written as plain typer command functions so that the main CLI registers them with
`app.command()(produce)` and `app.command()(worker)`; `python -m
stormwatch.kafka.commands worker ...` runs them without it (the integration tests do,
so that a SIGKILL hits a real worker process).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.console import Console
from rich.markup import escape

from stormwatch.command_arguments import MetricsPort
from stormwatch.exceptions import StormwatchError

err = Console(stderr=True)

BootstrapOption = Annotated[
    str | None,
    typer.Option(
        "--bootstrap",
        envvar="STORMWATCH_KAFKA_BOOTSTRAP",
        help="Kafka brokers, HOST:PORT[,HOST:PORT].",
    ),
]
TopicOption = Annotated[
    str | None,
    typer.Option(
        "--topic",
        envvar="STORMWATCH_KAFKA_TOPIC",
        help="Input topic of comments (default: comments).",
    ),
]
PartitionsOption = Annotated[
    int | None,
    typer.Option("--partitions", help="Partitions of topics created here (default 6)."),
]
ReplicationOption = Annotated[
    int | None,
    typer.Option("--replication-factor", help="Replication of topics created here (default 1)."),
]
ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config", envvar="STORMWATCH_CONFIG", help="TOML settings file (its \\[kafka] section)."
    ),
]


def _fail(exc: Exception) -> typer.Exit:
    # escaped: "[kafka]" in a message is text, not rich markup; one line, however narrow
    err.print(f"[red]error:[/red] {escape(str(exc))}", soft_wrap=True, highlight=False)
    return typer.Exit(2)


def produce(
    input: Annotated[str, typer.Argument(help="JSONL file of comments, or - for stdin.")],
    bootstrap: BootstrapOption = None,
    topic: TopicOption = None,
    partitions: PartitionsOption = None,
    replication_factor: ReplicationOption = None,
    config: ConfigOption = None,
) -> None:
    """Publish comments to Kafka keyed by brand (acks=all); invalid lines are reported."""
    from stormwatch.kafka.producer import TopicWriter, publish_comments
    from stormwatch.kafka.settings import load_kafka_settings
    from stormwatch.kafka.topics import TopicSpec, ensure_topics

    try:
        kafka = load_kafka_settings(
            config,
            overrides={
                "bootstrap": bootstrap,
                "topic": topic,
                "partitions": partitions,
                "replication_factor": replication_factor,
            },
        )
        client = kafka.client_options()
        if kafka.create_topics:
            ensure_topics(
                client, [TopicSpec(kafka.topic, kafka.partitions, kafka.replication_factor)]
            )
        writer = TopicWriter(client)
        try:
            report = publish_comments(input, topic=kafka.topic, writer=writer, console=err)
        finally:
            writer.close()
    except (StormwatchError, OSError) as exc:
        raise _fail(exc) from None
    for letter in report.examples:
        # Escaped: the detail quotes the input ("[object Object]", "[/b]": a markup
        # error after every valid line was sent, and no summary).
        what = escape(f"{letter.source}: {letter.reason}: {letter.detail}")
        err.print(f"[yellow]invalid[/yellow] {what}", highlight=False)
    reasons = ", ".join(f"{r}={n}" for r, n in report.invalid.most_common())
    err.print(
        f"sent={report.sent} invalid={report.invalid_total}"
        + (f" ({reasons})" if reasons else "")
        + f" topic={kafka.topic}"
    )


def worker(
    bootstrap: BootstrapOption = None,
    topic: TopicOption = None,
    group: Annotated[
        str | None,
        typer.Option(
            "--group", envvar="STORMWATCH_KAFKA_GROUP", help="Consumer group (default: stormwatch)."
        ),
    ] = None,
    alerts_topic: Annotated[
        str | None,
        typer.Option("--alerts-topic", help="Alert events topic (default: stormwatch-alerts)."),
    ] = None,
    dead_letter_topic: Annotated[
        str | None,
        typer.Option("--dead-letter-topic", help="Default: the input topic + '-dlq'."),
    ] = None,
    stop_when_idle: Annotated[
        float | None,
        typer.Option(
            "--stop-when-idle",
            min=0.0,
            help="Exit cleanly, offsets committed, after this many seconds without input.",
        ),
    ] = None,
    alerts_jsonl: Annotated[
        Path | None, typer.Option("--alerts-jsonl", help="Also append alert events here.")
    ] = None,
    dead_letter: Annotated[
        Path | None,
        typer.Option("--dead-letter", help="Also append undecodable records here (JSONL)."),
    ] = None,
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            envvar="STORMWATCH_DATABASE_URL",
            help="Incident store URL (PostgreSQL) or SQLite path; required.",
        ),
    ] = None,
    config: ConfigOption = None,
    partitions: PartitionsOption = None,
    replication_factor: ReplicationOption = None,
    checkpoint_seconds: Annotated[
        float | None,
        typer.Option("--checkpoint-seconds", help="Checkpoint and commit interval (default 5)."),
    ] = None,
    metrics_port: MetricsPort = None,
    status_file: Annotated[
        Path | None,
        typer.Option("--status-file", help="Append lifecycle events here (JSONL)."),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only the summary line.")] = False,
    resume_cold: Annotated[
        bool,
        typer.Option(
            "--resume-cold",
            help="Resume a partition whose checkpoint is gone at its committed offset, "
            "without its state (default: stop).",
        ),
    ] = False,
) -> None:
    """Run the pipeline as one member of a Kafka consumer group."""
    from stormwatch.alerts.sinks import ConsoleAlertSink, JsonlAlertSink
    from stormwatch.alerts.store import IncidentStore
    from stormwatch.config import load_settings
    from stormwatch.ingest.dead_letters import JsonlDeadLetters
    from stormwatch.kafka.settings import load_kafka_settings
    from stormwatch.kafka.sinks import StatusLog
    from stormwatch.kafka.worker import Worker, pipeline_factory, summary_json

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("kafka").setLevel(logging.WARNING)
    try:
        settings = load_settings(config, overrides={"database_url": db})
        kafka = load_kafka_settings(
            config,
            overrides={
                "bootstrap": bootstrap,
                "topic": topic,
                "group": group,
                "alerts_topic": alerts_topic,
                "dead_letter_topic": dead_letter_topic,
                "partitions": partitions,
                "replication_factor": replication_factor,
                "checkpoint_seconds": checkpoint_seconds,
            },
        )
        if not settings.database_url:
            raise StormwatchError(
                "the worker needs an incident store shared by all workers: "
                "--db postgresql+psycopg://... or STORMWATCH_DATABASE_URL"
            )
        store = IncidentStore.open(settings.database_url)
        observer, metrics, registry = None, None, None
        from stormwatch.service.exporter import metrics_address

        address = metrics_address(metrics_port)
        if address is not None:
            from prometheus_client import CollectorRegistry

            from stormwatch.metrics import MetricsObserver, StormwatchMetrics

            registry = CollectorRegistry()
            metrics = StormwatchMetrics(registry)
            observer = MetricsObserver(metrics, key_gauges=False)  # the worker sums them
        local = []
        if not quiet:
            local.append(ConsoleAlertSink(err))
        if alerts_jsonl is not None:
            append = str(alerts_jsonl) != "-"
            local.append(JsonlAlertSink(alerts_jsonl, append=append, skip_known=append))
        status = StatusLog(status_file)
        w = Worker(
            kafka,
            store=store,
            new_pipeline=pipeline_factory(settings, observer=observer),
            local_alerts=local,
            local_dead_letters=JsonlDeadLetters(dead_letter) if dead_letter else None,
            metrics=metrics,
            status=status,
            resume_cold=resume_cold,
        )
        server = None
        if address is not None and registry is not None:
            from stormwatch.service.exporter import start_metrics_server

            server = start_metrics_server(
                address[1], registry, host=address[0], health=w.healthy, ready=w.ready
            )
        try:
            summary = w.run(stop_when_idle=stop_when_idle)
        finally:
            if server is not None:
                server.close()
            status.close()
            store.close()
    except StormwatchError as exc:
        raise _fail(exc) from None
    print(orjson.dumps(summary_json(summary)).decode(), flush=True)


app = typer.Typer(add_completion=False, rich_markup_mode="markdown", help="stormwatch on Kafka.")
app.command()(produce)
app.command()(worker)

if __name__ == "__main__":
    app()

"""`stormwatch run`: the embedded runtime over a file, stdin or the built-in demo.

Reads in event time into one pipeline (wired by `stormwatch.runtime`), shows progress on
stderr while stdout stays the report, resumes from and checkpoints into the incident
store with `--db`, and serves metrics when a port is configured.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import orjson
import typer
from rich.console import Console
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
from rich.text import Text

from stormwatch.alerts.exceptions import StoreError, StoreUrlError
from stormwatch.command_arguments import (
    DATABASE_ENV,
    DEFAULT_SEED,
    ConfigFile,
    DeadLetterFile,
    MetricsPort,
    check_distinct_files,
    check_input_file,
    check_output_file,
    command_settings,
    err,
    fail,
)
from stormwatch.exceptions import StormwatchError

if TYPE_CHECKING:
    from stormwatch.pipeline import Pipeline
    from stormwatch.stored_checkpoint import IntervalCheckpoints

__all__ = ["run"]


def _positive(value: float | None) -> float | None:
    if value is not None and not value > 0:
        raise typer.BadParameter(f"{value} is not > 0 (60 = an hour of comments per minute)")
    return value


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


class _StopRequested(Exception):
    """Raised into the wait for the next record by a stop asked for while waiting."""


class _StopOnInterrupt:
    """Ctrl-C or SIGTERM (`docker stop`, systemd, `kill`) stops the run after the record
    being processed, which then ends as at the end of its input: checkpointed, judged,
    counted (a record cut half-way through would be counted as read and never as
    processed, or saved half-applied). While the run waits for a record (stdin idle, a
    paced file's next line not due) it stops at once. A second Ctrl-C aborts at once."""

    def __init__(self) -> None:
        self.requested = False
        self.signal: int | None = None  # the first that asked
        self.waiting = False  # for the next record: a stop need not wait for one
        self._previous: dict[int, object] = {}

    def __enter__(self) -> _StopOnInterrupt:
        # Not where a signal was ignored (`nohup`, a background job of a script): a
        # Ctrl-C meant for the foreground job must not stop this run.
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                if signal.getsignal(signum) is not signal.SIG_IGN:
                    self._previous[signum] = signal.signal(signum, self._interrupted)
        return self

    def __exit__(self, *exc: object) -> None:
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)  # type: ignore[arg-type]

    @property
    def exit_status(self) -> int:
        """As a shell reports a job stopped by that signal (130 for Ctrl-C)."""
        return 128 + (self.signal or signal.SIGINT)

    def next_record(self, records: Iterator[bytes]) -> bytes | None:
        """The next record, or None at the input's end or on a stop asked for meanwhile."""
        if self.requested:
            return None
        self.waiting = True
        try:
            return next(records, None)
        except _StopRequested:
            return None
        finally:
            self.waiting = False

    def _interrupted(self, signum: int, frame: object) -> None:
        first = not self.requested
        self.requested = True
        if first:
            self.signal = signum
        if signum == signal.SIGINT:
            previous = self._previous.get(signum)
            handler = previous if callable(previous) else signal.default_int_handler
            signal.signal(signal.SIGINT, handler)  # type: ignore[arg-type]
        if first:
            when = "now" if self.waiting else "after this record"
            if signum == signal.SIGINT:
                err.print(f"interrupted: stopping {when} (Ctrl-C again to abort)")
            else:
                err.print(f"terminated: stopping {when}")
        if self.waiting:
            raise _StopRequested


class _AboveProgress:
    """The console incident events print on: while the progress bar runs on the same
    terminal, the bar's own console (the line goes above the bar); else `out`. Rich
    writes to the real stdout even while a live display redirects it, so events printed
    on `out` and the bar on stderr overwrote each other on a terminal."""

    def __init__(self, out: Console) -> None:
        self.out = out
        self.progress: Progress | None = None

    def _target(self) -> Console:
        progress = self.__dict__.get("progress")  # (not via __getattr__: copies recursed)
        if progress is not None and progress.live.is_started and self.out.is_terminal:
            return progress.console
        return self.__dict__["out"]

    def print(self, *objects: object, **options: object) -> None:
        self._target().print(*objects, **options)  # type: ignore[arg-type]

    def __getattr__(self, name: str) -> object:
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self._target(), name)


def run(
    input: Annotated[
        str | None,
        typer.Argument(help="JSONL file of comments, or - for stdin. Omit to replay the demo."),
    ] = None,
    alerts_jsonl: Annotated[
        Path | None, typer.Option("--alerts-jsonl", help="Append alert events here (JSONL).")
    ] = None,
    dead_letter: DeadLetterFile = None,
    db: Annotated[
        str | None,
        typer.Option(
            "--db", envvar=DATABASE_ENV, help="Incident store: a SQLite path or a database URL."
        ),
    ] = None,
    config: ConfigFile = None,
    speed: Annotated[
        float | None,
        typer.Option(
            "--speed",
            callback=_positive,
            help="Pace in event time: 60 = an hour of comments per minute (> 0).",
        ),
    ] = None,
    seed: Annotated[int, typer.Option(min=0, help="Seed of the demo scenario.")] = DEFAULT_SEED,
    metrics_port: MetricsPort = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only the summary line.")] = False,
) -> None:
    """Run the pipeline over a file, stdin or the built-in demo, in event time."""
    from stormwatch.console import render_run
    from stormwatch.runtime import build_pipeline

    if input is not None and input != "-":
        check_input_file(input, "input")
    check_output_file(alerts_jsonl, "alerts", "--alerts-jsonl")
    check_output_file(dead_letter, "dead-letter", "--dead-letter")
    check_distinct_files(input=input, alerts_jsonl=alerts_jsonl, dead_letter=dead_letter)
    settings = command_settings(config, database_url=db)
    out = Console(stderr=alerts_jsonl is not None and str(alerts_jsonl) == "-")
    events = _AboveProgress(out)
    try:
        observer, server = _metrics(metrics_port)
        pipeline = build_pipeline(
            settings,
            alerts_jsonl=alerts_jsonl,
            dead_letter=dead_letter,
            console=None if quiet else events,
            observer=observer,
            config_path=config,
        )
        if input is not None and input != "-" and Path(input).is_file():
            # A backtest: a stray record stamped about now, first in the file, started
            # the stream at once, and every real record after it came hours late.
            pipeline.clock = None
        checkpoints = _resume(pipeline, settings.database_url)
        processed_before = pipeline.stats.processed  # a resumed run's counts go on
    except StormwatchError as exc:
        # A store that does not answer is a failure (1); a wrong URL or setting, a usage.
        unanswered = isinstance(exc, StoreError) and not isinstance(exc, StoreUrlError)
        raise fail(exc, 1 if unanswered else 2) from None
    labels = ()
    # Paced input moves slowly: refresh on every line, else every 2,000 lines.
    every = 1 if speed else 2000
    # Asked on every line (a clock read), so a stream that trickles in is checkpointed too.
    checkpoint_if_due = checkpoints.save_if_due if checkpoints is not None else lambda: None
    with _StopOnInterrupt() as stop, _progress(by_bytes=input not in (None, "-")) as progress:
        events.progress = progress
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
                if stop.requested:
                    break
                if n % every == 0:
                    progress.update(task, completed=n)
        else:
            from stormwatch.ingest.file_source import FileSource

            source = FileSource(input, speed=speed)
            task = progress.add_task(f"reading {source.name}", total=source.size(), comments=0)
            feed = pipeline.feed
            name = source.name
            n = 0
            records = source.lines()
            # (`next_record` returns None once a stop is asked for.)
            while (line := stop.next_record(records)) is not None:
                n += 1
                feed(line, f"{name}:{n}")
                checkpoint_if_due()
                if n % every == 0:
                    progress.update(task, completed=source.bytes_read, comments=n)
            progress.update(task, completed=source.bytes_read, comments=n)
    events.progress = None
    if checkpoints is not None:
        # Before `finish()`: the minute in progress and the records held far ahead
        # stay open in the checkpoint, so a run over the continued input goes on as if
        # never stopped (the held records are carried to it, not settled here).
        checkpoints.save()
        checkpoints.stored.store.close()
    stats = pipeline.finish(carry_held=checkpoints is not None)
    if server is not None:
        server.close()
    undelivered = _report_undelivered(pipeline, settings.database_url)
    if quiet:
        out.print(
            f"read={stats.read} processed={stats.processed} dead_lettered={stats.dead_lettered} "
            + (f"held={stats.held} " if stats.held else "")
            + f"incidents={len(pipeline.tracker.history)} seconds={stats.seconds:.1f}"
        )
        ok = True
    else:
        ok = render_run(out, pipeline, labels, processed_before=processed_before)
    if stop.requested:
        raise typer.Exit(stop.exit_status)
    if (labels and not ok) or undelivered:
        raise typer.Exit(1)


def _report_undelivered(pipeline: Pipeline, url: str | None) -> int:
    """Says on stderr how many of this run's alert deliveries were not sent (Slack down
    for the whole drain, a revoked token): the run ended 0 and they were gone without a
    word. Returns how many."""
    sinks = [s for s in pipeline.sinks if getattr(s, "undelivered", 0) or getattr(s, "dead", 0)]
    dead = sum(s.dead for s in sinks)
    waiting = sum(s.undelivered for s in sinks)
    reason = next((s.last_error for s in sinks if s.last_error), None)
    parts = []
    if dead:
        parts.append(f"{dead} failed for good")
    if waiting:
        parts.append(
            f"{waiting} stay in the store for `stormwatch serve` to send"
            if url
            else f"{waiting} are lost with the run (give --db to keep them)"
        )
    if parts:
        err.print(
            f"error: {dead + waiting} alert deliveries were not sent"
            + (f" ({reason})" if reason else "")
            + ": "
            + "; ".join(parts),
            soft_wrap=True,
            markup=False,
            highlight=False,
        )
    return dead + waiting


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
            "duplicates and the counts go on from there",
            soft_wrap=True,
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
        raise fail(
            f"cannot serve metrics on {address[0]}:{address[1]} ({exc.strerror or exc}): "
            "choose another --metrics-port or STORMWATCH_METRICS_PORT",
            1,
        ) from None
    return observer, server

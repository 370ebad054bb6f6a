"""What `stormwatch run` prints at 80 columns and piped: compact lines that fit, dates with
times, and no progress bar on stdout."""

from __future__ import annotations

import io
import os
import re
import signal
import subprocess
import sys

import pytest
from rich.console import Console

WEEKDAY_ONLY = re.compile(r"\b(Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d\d:\d\d\b")
DATE_TIME = re.compile(r"\b20\d\d-\d\d-\d\d \d\d:\d\d\b")


@pytest.mark.slow
def test_demo_piped_at_80_columns_fits_and_has_no_progress(tmp_path) -> None:  # type: ignore[no-untyped-def]
    env = {**os.environ, "COLUMNS": "80"}
    for name in ("STORMWATCH_CONFIG", "STORMWATCH_DATABASE_URL", "SLACK_BOT_TOKEN"):
        env.pop(name, None)
    result = subprocess.run(
        [sys.executable, "-m", "stormwatch.cli", "run"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) > 20
    too_wide = [line for line in lines if len(line) > 80]
    assert not too_wide, too_wide
    # progress belongs on stderr, and only on a terminal
    for mark in ("\r", "━", "replaying demo", "generating demo"):
        assert mark not in result.stdout
        assert mark not in result.stderr
    # no table ladders: no box drawing, one line per incident heading
    assert "│" not in result.stdout and "┃" not in result.stdout
    assert not WEEKDAY_ONLY.search(result.stdout)
    assert DATE_TIME.search(result.stdout)
    assert any(line.startswith("Incidents opened") for line in lines)


def test_progress_columns_show_units_and_rate(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import stormwatch.run_command as run_command

    out = io.StringIO()
    monkeypatch.setattr(run_command, "err", Console(file=out, force_terminal=True, width=160))
    progress = run_command._progress(by_bytes=True)
    task = progress.add_task("reading comments.jsonl", total=50_000_000, comments=0)
    progress.update(task, completed=12_500_000, comments=42_000)
    progress.tasks[0].start_time = progress.get_time() - 2.0
    rendered = io.StringIO()
    Console(file=rendered, width=160).print(progress.make_tasks_table(progress.tasks))
    text = rendered.getvalue()
    assert "12.5/50.0 MB" in text
    assert "42,000 comments" in text and "/s" in text
    assert "12500000" not in text


def test_event_lines_stay_on_one_line_when_narrow() -> None:
    from stormwatch.alerts.sinks import one_line

    narrow = Console(file=io.StringIO(), width=80)
    wide = Console(file=io.StringIO(), width=160, force_terminal=True)
    assert one_line(narrow) == {"no_wrap": True, "overflow": "ellipsis"}
    assert one_line(wide) == {}
    # An event with a long summary, printed by the console sink at 80 columns: one line.
    from stormwatch.alerts.event import AlertEvent
    from stormwatch.alerts.sinks import ConsoleAlertSink

    event = AlertEvent(
        incident="acme/p1/1", event="opened", brand="acme", thread_id="p1", severity="high",
        score=1.0, at=1_772_442_902.0, emitted_at=1_800_000_000.0,
        summary="Negative comments about price and service run at 9/min, 30x the normal "
        "0.3/min; 80% of comments are negative, from 41 accounts, on post p1 of acme",
    )  # fmt: skip
    out = io.StringIO()
    ConsoleAlertSink(Console(file=out, width=80)).emit(event)
    lines = out.getvalue().splitlines()
    assert len(lines) == 1 and len(lines[0]) <= 80 and lines[0].lstrip().startswith("opened")


def test_every_command_summary_is_one_line() -> None:
    """A command list shows the first paragraph of each docstring with its line breaks
    (typer's rich mode): a summary over several source lines becomes a ragged ladder in
    `stormwatch --help` at 80 columns. The summary is one line, details follow a blank."""
    import inspect

    import typer

    from stormwatch.cli import app

    def commands(group, path):  # type: ignore[no-untyped-def]
        for name, command in group.commands.items():
            yield f"{path} {name}", command
            if hasattr(command, "commands"):
                yield from commands(command, f"{path} {name}")

    ragged = [
        path
        for path, command in commands(typer.main.get_command(app), "stormwatch")
        if "\n" in inspect.cleandoc(command.short_help or command.help or "").split("\n\n")[0]
    ]
    assert not ragged


def test_reasons_for_leaving_a_surge_alone_are_whole_at_80_columns() -> None:
    """Printed under each surge with a 4-space indent: a longer reason is cut mid-sentence."""
    from stormwatch.detectors.accounts import BENIGN_REASONS

    assert [r for r in BENIGN_REASONS.values() if len(r) + 4 > 80] == []


def test_events_print_above_the_progress_bar_on_a_terminal() -> None:
    """On a terminal, an incident's line goes through the bar's console while the bar
    runs (printed above it), not straight to stdout, where the bar's redraws on stderr
    overwrote the lines and the lines broke the bar; after it, and when stdout is not a
    terminal, to stdout."""
    from rich.progress import Progress

    from stormwatch.run_command import _AboveProgress

    stdout, stderr = io.StringIO(), io.StringIO()
    out = Console(file=stdout, force_terminal=True, width=120)
    events = _AboveProgress(out)
    with Progress(console=Console(file=stderr, force_terminal=True, width=120)) as progress:
        events.progress = progress
        events.print("opened while reading")
    events.progress = None
    events.print("opened after reading")
    assert "opened while reading" in stderr.getvalue()
    assert "opened while reading" not in stdout.getvalue()
    assert "opened after reading" in stdout.getvalue()
    piped = _AboveProgress(Console(file=io.StringIO(), width=80))
    with Progress(console=Console(file=io.StringIO(), force_terminal=True)) as progress:
        piped.progress = progress
        assert piped.width == 80 and not piped.is_terminal  # stdout's own console


def test_surges_left_alone_lists_neither_blips_nor_an_incidents_own_posts() -> None:
    """The posts of a spreading storm each too small alone are that incident's, not
    surges left alone; nor is a surge at its key's normal rates, or a blip."""
    from stormwatch.alerts.decisions import SuppressedSurge
    from stormwatch.alerts.incidents import Incident
    from stormwatch.console import listed_surges, render_run
    from stormwatch.pipeline import Pipeline

    pipeline = Pipeline()
    spread = Incident("b:mart", "mart", None, "spreading", "high", 100, 9.0, 12.0, 200, 12.0)
    pipeline.tracker.history.append(spread)

    def surge(thread: str, first: int, last: int, neg: float, vol: float) -> SuppressedSurge:
        return SuppressedSurge(f"t:{thread}", "mart", thread, "too_small", first, last, neg, vol)

    kept = [surge("launch", 20, 50, 2.0, 7.0), surge("after", 230, 240, 3.0, 1.0),
            surge("blip-but-big", 300, 300, 1.0, 4.0)]  # fmt: skip
    left_out = [surge("spread-post", 150, 160, 1.0, 1.0), surge("in-tail", 190, 260, 5.0, 5.0),
                surge("normal", 400, 420, 1.0, 1.4), surge("blip", 500, 501, 6.0, 2.0)]  # fmt: skip
    pipeline.decisions.suppressed.extend(kept + left_out)
    assert listed_surges(pipeline) == kept
    text = io.StringIO()
    render_run(Console(file=text, width=80), pipeline)
    assert "Surges left alone (7, 3 listed)" in text.getvalue()
    assert "mart/after" in text.getvalue() and "mart/spread-post" not in text.getvalue()
    pipeline.tracker.open[spread.key] = spread  # still open: every later surge is its own
    assert listed_surges(pipeline) == kept[:1]


def test_a_resumed_runs_rate_counts_its_own_comments() -> None:
    from stormwatch.console import render_run
    from stormwatch.pipeline import Pipeline

    pipeline = Pipeline()
    pipeline.stats.processed = 1_000_000  # 990,000 of them processed before the resume
    pipeline.stats.started, pipeline.stats.finished = 0.0, 10.0
    text = io.StringIO()
    render_run(Console(file=text, width=80), pipeline, processed_before=990_000)
    assert "1,000 comments/s" in text.getvalue()


def run_on_stdin(tmp_path) -> subprocess.Popen[str]:  # type: ignore[no-untyped-def]
    """`stormwatch run - -q` reading a pipe, with SIGINT as a terminal's foreground job
    gets it: pytest's workers ignore it, and an ignored SIGINT stays ignored."""
    env = {**os.environ, "COLUMNS": "80"}
    for name in ("STORMWATCH_CONFIG", "STORMWATCH_DATABASE_URL", "SLACK_BOT_TOKEN"):
        env.pop(name, None)
    return subprocess.Popen(
        [sys.executable, "-m", "stormwatch.cli", "run", "-", "-q"],
        cwd=tmp_path, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip


@pytest.mark.parametrize(
    ("signum", "said"), [(signal.SIGINT, "interrupted"), (signal.SIGTERM, "terminated")]
)
def test_a_stop_while_the_input_is_idle_ends_the_run_at_once(  # type: ignore[no-untyped-def]
    tmp_path, signum: int, said: str
) -> None:
    """`tail -f ... | stormwatch run -` under `docker stop` or Ctrl-C: the input is open
    and idle, and the run ends at once with every record it read processed, not at the
    next record (which may never come) nor killed without its counts."""
    import fcntl
    import termios
    import time

    import orjson

    process = run_on_stdin(tmp_path)
    assert process.stdin is not None
    for i in range(10):
        comment = {"id": f"c{i}", "text": "nice coffee", "created_at": 1_772_409_600 + i,
                   "brand": "acme"}  # fmt: skip
        process.stdin.write(orjson.dumps(comment).decode() + "\n")
    process.stdin.flush()
    waiting = bytearray(4)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # until the run has taken every line off the pipe
        fcntl.ioctl(process.stdin.fileno(), termios.FIONREAD, waiting)
        if int.from_bytes(waiting, sys.byteorder) == 0:
            break
        time.sleep(0.05)
    time.sleep(1.0)  # (the lines are being processed; then it waits for the next)
    process.send_signal(signum)
    assert process.wait(timeout=30) == 128 + signum  # stdin still open
    stdout, stderr = process.communicate()
    assert f"{said}: stopping now" in stderr and "Traceback" not in stderr, stderr
    counts = dict(part.split("=") for part in stdout.split())
    assert (int(counts["read"]), int(counts["processed"])) == (10, 10)


def test_ctrl_c_ends_a_run_with_its_counts(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Ctrl-C stops after the record being processed, and the run ends as at the end of
    its input: every record read counted as processed or dead-lettered, then the report,
    exit status 130. (Fed on stdin: once more than a pipe's buffer is written, the run
    is reading, its handler in place.)"""
    import time

    import orjson

    process = run_on_stdin(tmp_path)
    assert process.stdin is not None
    lines = "".join(
        orjson.dumps(
            {"id": f"c{i}", "text": "nice coffee", "created_at": 1_772_409_600 + 2 * i,
             "brand": "acme"}
        ).decode() + "\n"
        for i in range(3000)
    )  # fmt: skip
    process.stdin.write(lines)  # 250 KB: returns once the run has read most of it
    process.stdin.flush()
    process.send_signal(signal.SIGINT)
    time.sleep(0.5)
    stdout, stderr = process.communicate(input="", timeout=120)  # closes stdin: its end
    assert process.returncode == 130, stderr
    assert "interrupted" in stderr and "Traceback" not in stderr
    counts = dict(part.split("=") for part in stdout.split())
    read, processed = int(counts["read"]), int(counts["processed"])
    assert 0 < read <= 3000 and read == processed + int(counts["dead_lettered"])


@pytest.mark.parametrize("terminal", [False, True])
def test_brands_and_threads_print_as_they_are_not_as_markup(terminal: bool) -> None:
    """Brands and threads come from the input: `[/x]` stopped the report with a markup
    error, and `[red]` was eaten."""
    from stormwatch.alerts.decisions import SuppressedSurge
    from stormwatch.alerts.incidents import Incident
    from stormwatch.console import render_run
    from stormwatch.pipeline import Pipeline

    pipeline = Pipeline()
    brand, thread = "[red]mart", "t[/x]"
    pipeline.tracker.history.append(
        Incident(f"{brand}/{thread}", brand, thread, "firestorm", "high", 100, 9.0, 12.0, 200, 12.0)
    )
    pipeline.decisions.suppressed.append(
        SuppressedSurge("k", brand, "[b]post", "too_small", 20, 50, 2.0, 7.0)
    )
    text = io.StringIO()
    render_run(Console(file=text, width=160, force_terminal=terminal), pipeline)  # tables
    out = text.getvalue()
    assert "[red]mart" in out and "t[/x]" in out and "[b]post" in out, out

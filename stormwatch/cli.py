"""The `stormwatch` command: its tree of commands and groups, and the console script.

Each command is a plain typer function defined with what it drives (the pattern of
`stormwatch/kafka/commands.py`), registered here in the order `--help` lists them:

- `run`: `stormwatch/run_command.py`; `serve`: `stormwatch/service/commands.py`
- `report`, `evaluate compare|nab|real-volume|scenarios|suite`: `stormwatch/evaluation/commands.py`
- `feedback`, `purge`: `alerts/store_commands.py`
- `score`, `evaluate negativity`, `negativity train`: `detectors/negativity_commands.py`
- `produce`, `worker`: `stormwatch/kafka/commands.py`
- `playbooks check`: `playbooks/commands.py`; `collect ...`: `ingest/collect_commands.py`

What they share (one-line errors, file and config checks, defaults) is
`stormwatch/command_arguments.py`; every command, of every group, checks the
`STORMWATCH_*` environment before it runs (`EnvironmentCheckedCommand`, given to all of
them below, so a new command cannot miss it). Imports inside the commands are lazy, so `stormwatch
run` loads neither kafka-python nor the web stack.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from stormwatch.alerts.store_commands import feedback, purge
from stormwatch.command_arguments import EnvironmentCheckedCommand, err, fail
from stormwatch.detectors.negativity_commands import evaluate_negativity, negativity_train, score
from stormwatch.evaluation.commands import (
    evaluate_compare,
    evaluate_nab,
    evaluate_real_volume,
    evaluate_scenarios,
    evaluate_suite,
    report,
)
from stormwatch.gc_settings import tune_for_streaming
from stormwatch.ingest.collect_commands import collect_app
from stormwatch.kafka.commands import produce, worker
from stormwatch.playbooks.commands import playbooks_check
from stormwatch.run_command import run
from stormwatch.service.commands import serve

# Help in markdown mode: a docstring's lines reflow as one paragraph. In rich mode its
# line breaks were kept and cut a word onto a line of its own at 80 columns.
app = typer.Typer(
    add_completion=False,
    rich_markup_mode="markdown",
    no_args_is_help=False,
    help="Early warning for negative social-media firestorms.",
)
evaluate_app = typer.Typer(
    rich_markup_mode="markdown", help="Measure detection against labelled data."
)
playbooks_app = typer.Typer(rich_markup_mode="markdown", help="Response playbooks.")
negativity_app = typer.Typer(rich_markup_mode="markdown", help="The negativity model.")
app.add_typer(evaluate_app, name="evaluate")
app.add_typer(playbooks_app, name="playbooks")
app.add_typer(negativity_app, name="negativity")


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


app.command()(run)
app.command()(report)
evaluate_app.command("compare")(evaluate_compare)
evaluate_app.command("nab")(evaluate_nab)
evaluate_app.command("real-volume")(evaluate_real_volume)
evaluate_app.command("scenarios")(evaluate_scenarios)
evaluate_app.command("suite")(evaluate_suite)
playbooks_app.command("check")(playbooks_check)
app.command()(serve)
app.command()(feedback)
app.command()(purge)
app.command()(score)
evaluate_app.command("negativity")(evaluate_negativity)
negativity_app.command("train")(negativity_train)
app.command()(produce)
app.command()(worker)
app.add_typer(collect_app, name="collect")


def _check_environment_first(commands: typer.Typer) -> None:
    """Every command of `commands` and of its groups checks the environment first: the
    app callback runs before a command's options are parsed, so it cannot see the
    `--config` file, which may name variables of its own."""
    for info in commands.registered_commands:
        info.cls = EnvironmentCheckedCommand
    for group in commands.registered_groups:
        if group.typer_instance is not None:
            _check_environment_first(group.typer_instance)


_check_environment_first(app)


def main() -> None:
    """The console script: click's usage errors and file errors as one line, no traceback."""
    tune_for_streaming()  # most commands run a pipeline; for the rest it costs nothing
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
        fail(f"{message}{hint}", code)
    except OSError as exc:
        # a file problem no command foresaw: still one line, as a runtime failure
        fail(exc, 1)
        code = 1
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()

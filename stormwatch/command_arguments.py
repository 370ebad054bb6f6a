"""What every `stormwatch` command does with what it is given: one-line errors, checks of
the files and the config it names, and the defaults several commands share.

A problem with an argument is one line on stderr naming it and the fix (`fail`), with
exit code 2 for a wrong usage and 1 for a failure at run time, so a script can tell the
two apart and nobody reads a traceback for a typo in a path.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperCommand

from stormwatch.config import Settings, check_environment, load_settings
from stormwatch.exceptions import StormwatchError

__all__ = [
    "CONFIG_ENV",
    "DATABASE_ENV",
    "DEFAULT_SEED",
    "EnvironmentCheckedCommand",
    "check_input_file",
    "check_output_file",
    "command_settings",
    "err",
    "fail",
]

err = Console(stderr=True)

# The same seed everywhere a command generates data (the demo, the scenario family).
DEFAULT_SEED = 7

# Environment variables behind options, shown by `--help` (typer's `envvar=`).
CONFIG_ENV = "STORMWATCH_CONFIG"
DATABASE_ENV = "STORMWATCH_DATABASE_URL"

# The options several commands share, declared once (typer reads them from the
# annotation, so each command writes `config: ConfigFile = None`).
ConfigFile = Annotated[
    Path | None, typer.Option("--config", envvar=CONFIG_ENV, help="TOML settings file.")
]
StoreUrl = Annotated[
    str | None,
    typer.Option("--db", envvar=DATABASE_ENV, help="Incident store: SQLite path or URL."),
]
DeadLetterFile = Annotated[
    Path | None, typer.Option("--dead-letter", help="Append undecodable records here (JSONL).")
]
MetricsPort = Annotated[
    int | None,
    typer.Option(
        "--metrics-port",
        help="Serve /metrics, /healthz and /readyz here (or STORMWATCH_METRICS_PORT).",
    ),
]


def fail(message: object, code: int = 2) -> typer.Exit:
    """Prints one line naming the problem (and the fix); returns the exit to raise:
    2 for a wrong usage, 1 for a failure at run time. Messages are escaped: `[kafka]` in
    a message is text, not rich markup."""
    err.print(f"[red]error:[/red] {escape(str(message))}", soft_wrap=True, highlight=False)
    return typer.Exit(code)


def check_input_file(path: str | Path, what: str) -> None:
    """An existing, readable regular file, else a usage error naming it."""
    p = Path(path)
    if not p.exists():
        raise fail(f"{what} {p} does not exist: give the path of an existing file")
    if p.is_dir():
        raise fail(f"{what} {p} is a directory: give a file")
    if not os.access(p, os.R_OK):
        raise fail(f"{what} {p} is not readable: check its permissions")


def check_output_file(path: str | Path | None, what: str, option: str) -> None:
    """A path a file can be written to (its directory exists and is writable)."""
    if path is None or str(path) == "-":
        return
    p = Path(path)
    if p.is_dir():
        raise fail(f"{option} {p} is a directory: give the path of the {what} file")
    parent = p.parent
    if not parent.is_dir():
        raise fail(
            f"{option} {p}: directory {parent} does not exist: create it or choose another path"
        )
    if not os.access(parent, os.W_OK) or (p.exists() and not os.access(p, os.W_OK)):
        raise fail(f"{option} {p} is not writable: check its permissions")


def check_distinct_files(**paths: str | Path | None) -> None:
    """The input and output files of a command are different files (by option name,
    `_` for `-`): a dead-letter file that was the input read each letter back as a bad
    record and wrote it again until the disk was full; an alerts file that was the
    input lost its last line to the torn-line repair of a resumed run."""
    seen: list[tuple[str, Path]] = []
    for name, path in paths.items():
        if path is None or str(path) == "-":
            continue
        option = "--" + name.replace("_", "-") if name != "input" else "the input"
        p = Path(path)
        if p.exists() and not p.is_file():
            continue  # a terminal or pipe two outputs share (`2>&1`) harms nothing
        for other_name, other in seen:
            same = p.resolve() == other.resolve()
            if not same and p.exists() and other.exists():
                same = os.path.samefile(p, other)
            if same:
                raise fail(f"{option} {p} is the same file as {other_name}: choose another path")
        seen.append((option, p))


def command_settings(config: Path | None, **overrides: object) -> Settings:
    """The settings of the config file with the command's options over them; a missing or
    invalid file is a usage error."""
    if config is not None:
        check_input_file(config, "config file")
    try:
        return load_settings(config, overrides=overrides)
    except StormwatchError as exc:
        raise fail(f"configuration error: {exc}") from None


class EnvironmentCheckedCommand(TyperCommand):
    """A command that first stops on a `STORMWATCH_*` variable nothing reads (a
    misspelling would otherwise be ignored without a word), whether or not it loads the
    settings. `stormwatch.cli` gives every command this class.

    The check runs once the command's options are parsed (`--help` still answers): the
    config file it was given (`--config`, else `STORMWATCH_CONFIG`) may name variables
    of its own (`*_env` secrets, `[ingest.tokens]`). A config file that is not there is
    left to the command to report, as it does without this check."""

    def invoke(self, ctx: typer.Context) -> Any:
        config = ctx.params.get("config") or os.environ.get(CONFIG_ENV)
        if not config or Path(config).is_file():
            try:
                check_environment(config_path=config)
            except StormwatchError as exc:
                raise fail(f"configuration error: {exc}") from None
        return super().invoke(ctx)

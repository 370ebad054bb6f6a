"""`stormwatch playbooks check`: validate playbooks before a service loads them.

A plain typer command function, registered by the main CLI (`stormwatch.cli`); the loader
is imported when it runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from stormwatch.command_arguments import err, fail

__all__ = ["playbooks_check"]


def playbooks_check(
    directory: Annotated[Path, typer.Argument(help="Directory or file of playbooks.")],
) -> None:
    """Validate playbooks; exit 1 listing file, line and reason of each problem."""
    from stormwatch.playbooks.loader import check

    if not directory.exists():
        raise fail(f"{directory} does not exist: give a playbook directory or YAML file")
    if directory.is_dir() and not any(  # as the loader reads them: not hidden files
        p.suffix in (".yaml", ".yml") and not p.name.startswith(".")
        for p in directory.iterdir()
        if p.is_file()
    ):
        raise fail(f"{directory} holds no playbooks (*.yaml): nothing to check", 1)
    problems = check(directory)
    for problem in problems:
        # As they are: no markup, not wrapped inside a path (one problem a line).
        err.print(str(problem), markup=False, soft_wrap=True, highlight=False)
    if problems:
        raise typer.Exit(1)
    Console().print(f"[green]playbooks OK[/green]: {escape(str(directory))}")

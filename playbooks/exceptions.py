"""Errors raised by `stormwatch.playbooks`.

A broken playbook is an operator's typo, so its error carries the file and line to fix
and prints like a compiler message (`playbooks/x.yaml:12: reason`) that editors and CI
logs turn into links.
"""

from __future__ import annotations

from pathlib import Path

from stormwatch.exceptions import StormwatchError


class PlaybookError(StormwatchError):
    """A playbook file (or a set of them) is invalid; `line` is 1-based, None for the file."""

    def __init__(self, file: Path | str, line: int | None, reason: str) -> None:
        # Passing the fields to Exception keeps the error picklable (worker processes).
        super().__init__(file, line, reason)
        self.file = Path(file)
        self.line = line
        self.reason = reason

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else f"{self.file}"
        return f"{where}: {self.reason}"


class RenderError(StormwatchError, ValueError):
    """A response template cannot be filled: unknown template or values missing."""

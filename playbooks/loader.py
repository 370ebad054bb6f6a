"""Reading playbooks from the shipped defaults and an optional user directory.

Override rule: a user playbook with the id of a default *replaces* that default as a
whole. There is no field-by-field merge, because a reader of the user's file must be able
to see every step that will be followed without consulting the shipped copy. Two files
in the same directory with one id are an error, as is a set without a catch-all
playbook: every incident must get a playbook, so matching never fails at storm time.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from stormwatch.playbooks.exceptions import PlaybookError
from stormwatch.playbooks.marked_yaml import load_marked
from stormwatch.playbooks.matcher import PlaybookSet
from stormwatch.playbooks.model import Playbook
from stormwatch.playbooks.validate import parse_playbook

# The defaults are package data next to this module; an installed wheel is never zipped,
# so a real path is available and error messages can name the file.
DEFAULTS_DIR = Path(__file__).resolve().parent
_SUFFIXES = (".yaml", ".yml")


def load_playbooks(user_dir: Path | str | None = None) -> PlaybookSet:
    """The shipped playbooks, overridden and extended by those in `user_dir`.

    Raises the first `PlaybookError`; the others are attached as notes, and `check`
    returns them all.
    """
    playbooks, errors = _load(Path(user_dir) if user_dir is not None else None)
    if errors:
        first = errors[0]
        for other in errors[1:]:
            first.add_note(str(other))
        raise first
    return PlaybookSet(playbooks)


def check(path: Path | str) -> list[PlaybookError]:
    """Every error that loading `path` (a directory or one file) as the user playbooks
    on top of the defaults would meet; empty when it would load. The defaults directory
    itself is checked alone."""
    path = Path(path)
    is_defaults = path.exists() and path.resolve() == DEFAULTS_DIR
    return _load(None if is_defaults else path)[1]


def _load(user_path: Path | None) -> tuple[list[Playbook], list[PlaybookError]]:
    defaults, errors = _read_source(DEFAULTS_DIR)
    merged = {p.id: p for p in defaults}
    overridden: dict[str, Playbook] = {}
    if user_path is not None:
        mine, user_errors = _read_source(user_path)
        errors += user_errors
        for playbook in mine:
            if playbook.id in merged:
                overridden[playbook.id] = merged[playbook.id]
            merged[playbook.id] = playbook
    if merged and not any(p.match.is_catch_all for p in merged.values()):
        errors += _missing_catch_all(merged, overridden, user_path or DEFAULTS_DIR)
    return list(merged.values()), errors


def _missing_catch_all(
    merged: dict[str, Playbook], overridden: dict[str, Playbook], where: Path
) -> list[PlaybookError]:
    lost = [merged[i] for i, old in overridden.items() if old.match.is_catch_all]
    if lost:
        return [
            PlaybookError(
                p.source,
                p.line,
                f"playbook {p.id!r} replaces the default catch-all but has match conditions; "
                "keep `match: {}` or add another playbook with `match: {}`",
            )
            for p in lost
        ]
    return [
        PlaybookError(
            where,
            None,
            "no catch-all playbook (one with `match: {}`): an incident no other playbook "
            "matches would get none",
        )
    ]


def _read_source(path: Path) -> tuple[list[Playbook], list[PlaybookError]]:
    """Playbooks from a directory (its `*.yaml`/`*.yml`, not recursive) or one file;
    ids must be unique within it."""
    if path.is_dir():
        files = sorted(
            f
            for f in path.iterdir()
            if f.suffix in _SUFFIXES and not f.name.startswith(".") and f.is_file()
        )
    elif path.is_file():
        files = [path]
    else:
        return [], [PlaybookError(path, None, "no such playbook file or directory")]

    playbooks: dict[str, Playbook] = {}
    errors: list[PlaybookError] = []
    for file in files:
        playbook, file_errors = _read_file(file)
        errors += file_errors
        if playbook is None:
            continue
        first = playbooks.get(playbook.id)
        if first is not None:
            errors.append(
                PlaybookError(
                    file,
                    playbook.line,
                    f"duplicate id {playbook.id!r}: already defined at {first.source}:{first.line}",
                )
            )
            continue
        playbooks[playbook.id] = playbook
    return list(playbooks.values()), errors


def _read_file(file: Path) -> tuple[Playbook | None, list[PlaybookError]]:
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [PlaybookError(file, None, f"cannot read: {exc}")]
    try:
        doc = load_marked(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = " ".join(p for p in (exc.context, exc.problem) if p)
        return None, [PlaybookError(file, line, f"invalid YAML: {problem}")]
    except yaml.YAMLError as exc:  # e.g. a control character: reader errors carry no mark
        return None, [PlaybookError(file, None, f"invalid YAML: {exc}")]
    except (ValueError, TypeError, AttributeError) as exc:
        # A value that parses but cannot be built: `!!int abc`, `!!timestamp soon`, an
        # integer of more digits than Python converts.
        return None, [PlaybookError(file, None, f"invalid YAML value: {exc}")]
    except RecursionError:
        # Collections nested a few hundred deep (`[[[[...`): the builder recurses per
        # level, and the traceback stopped `playbooks check` and serve's start.
        return None, [PlaybookError(file, None, "invalid YAML: nested too deep")]
    return parse_playbook(doc, file)

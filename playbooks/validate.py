"""Turn one parsed YAML document into a `Playbook`, or into every reason it is not one.

An explicit validator rather than a JSON Schema: the messages name the playbook's own
words (`steps[1].deadline_minutes must be a positive integer`), point at the line, and
suggest the key that was probably meant. It keeps going after the first problem so that
`stormwatch playbooks check` reports a file's mistakes in one run.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from difflib import get_close_matches
from pathlib import Path
from types import MappingProxyType
from typing import Any

from stormwatch.playbooks.exceptions import PlaybookError
from stormwatch.playbooks.marked_yaml import MarkedMap, MarkedSeq
from stormwatch.playbooks.model import (
    DEFAULT_TEMPLATE,
    REQUIRED_LANGUAGES,
    ROLES,
    SEVERITIES,
    MatchRule,
    Playbook,
    Step,
)
from stormwatch.playbooks.templates import PLACEHOLDERS, placeholders_in

_TOP_REQUIRED = (
    "id",
    "title",
    "description",
    "match",
    "steps",
    "do",
    "dont",
    "templates",
    "escalate_to",
)
_TOP_OPTIONAL = ("priority",)
_MATCH_KEYS = ("topics", "min_severity", "platforms", "brands")
_STEP_KEYS = ("role", "action", "deadline_minutes")

_ID = re.compile(r"[a-z0-9][a-z0-9_-]*")
_TAG = re.compile(r"[a-z][a-z0-9_]*")  # topic, platform and template names
_LANG = re.compile(r"[a-z]{2}")  # ISO 639-1


def _did_you_mean(word: object, choices: Collection[str]) -> str:
    """` (did you mean 'x'?)` for a near miss, else the empty string."""
    if not isinstance(word, str) or len(word) > 100:
        return ""  # a list or mapping (a YAML alias bomb printed megabytes): no near miss
    close = get_close_matches(word, sorted(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _shown(value: object) -> str:
    """A value as an error message shows it: a string cut to 40 characters, anything
    else by its kind. A 332-byte file whose aliases expand to millions of items held
    `playbooks check` and the start of serve while `repr` wrote them out."""
    if isinstance(value, str):
        return repr(value if len(value) <= 40 else value[:39] + "…")
    if isinstance(value, bool | int | float) or value is None:
        return repr(value)
    if isinstance(value, list):
        return "a list"
    return "a mapping" if isinstance(value, dict) else f"a {type(value).__name__}"


def _join(path: str, key: object) -> str:
    return f"{path}.{key}" if path else str(key)


class _Validator:
    """Checks one document; `errors` collects everything found in it."""

    def __init__(self, file: Path) -> None:
        self.file = file
        self.errors: list[PlaybookError] = []

    def error(self, line: int, reason: str) -> None:
        self.errors.append(PlaybookError(self.file, line, reason))

    # --- generic shapes -------------------------------------------------------------

    def keys(
        self, mapping: MarkedMap, path: str, required: Collection[str], optional: Collection[str]
    ) -> None:
        allowed = (*required, *optional)
        for key in mapping:
            if key not in allowed:
                hint = _did_you_mean(key, allowed) or f" (allowed: {', '.join(allowed)})"
                self.error(mapping.key_line(key), f"{_join(path, key)}: unknown key{hint}")
        for key in required:
            if key not in mapping:
                where = f"{path}: missing" if path else "missing"
                self.error(mapping.line, f"{where} required key {key!r}")

    def text(self, mapping: MarkedMap, key: str, path: str) -> str | None:
        value = mapping.get(key)
        if not isinstance(value, str) or not value.strip():
            self.error(mapping.key_line(key), f"{_join(path, key)} must be a non-empty string")
            return None
        return value.strip()

    def seq(self, mapping: MarkedMap, key: str, path: str, example: str) -> MarkedSeq | None:
        value = mapping.get(key)
        if not isinstance(value, MarkedSeq) or not value:
            self.error(
                mapping.key_line(key),
                f"{_join(path, key)} must be a non-empty list, e.g. {example}",
            )
            return None
        return value

    def texts(self, mapping: MarkedMap, key: str, path: str) -> tuple[str, ...]:
        items = self.seq(mapping, key, path, '["State the facts."]')
        if items is None:
            return ()
        result = []
        for i, item in enumerate(items):
            if not isinstance(item, str) or not item.strip():
                self.error(
                    items.item_lines[i], f"{_join(path, key)}[{i}] must be a non-empty string"
                )
            else:
                result.append(item.strip())
        return tuple(result)

    def names(
        self,
        mapping: MarkedMap,
        key: str,
        path: str,
        *,
        what: str,
        pattern: re.Pattern[str] | None = None,
        allowed: Collection[str] | None = None,
        example: str,
    ) -> tuple[str, ...]:
        """A list of names, each matching `pattern` or one of `allowed`; case-folded, deduped."""
        items = self.seq(mapping, key, path, example)
        if items is None:
            return ()
        result: dict[str, None] = {}
        for i, item in enumerate(items):
            where = f"{_join(path, key)}[{i}]"
            line = items.item_lines[i]
            if not isinstance(item, str) or not item.strip():
                self.error(line, f"{where} must be a non-empty string")
            elif allowed is not None and item not in allowed:
                hint = _did_you_mean(item, allowed) or f" (known: {', '.join(sorted(allowed))})"
                self.error(line, f"{where}: unknown {what} {item!r}{hint}")
            elif pattern is not None and not pattern.fullmatch(item):
                self.error(line, f"{where}: {what} {item!r} must be lowercase letters, digits, '_'")
            else:
                result[item.strip().casefold()] = None
        return tuple(result)

    def severity(self, value: object, line: int, where: str) -> bool:
        if value in SEVERITIES:
            return True
        hint = _did_you_mean(value, SEVERITIES) or f" (expected one of {', '.join(SEVERITIES)})"
        self.error(line, f"{where}: unknown severity {_shown(value)}{hint}")
        return False

    # --- sections -------------------------------------------------------------------

    def playbook(self, doc: Any) -> Playbook | None:
        if not isinstance(doc, MarkedMap):
            what = "empty" if doc is None else "a list" if isinstance(doc, list) else "one value"
            line = getattr(doc, "line", 1)
            self.error(line, f"a playbook file holds one mapping (id, title, ...), not {what}")
            return None
        self.keys(doc, "", _TOP_REQUIRED, _TOP_OPTIONAL)

        playbook_id = self.text(doc, "id", "") if "id" in doc else None
        if playbook_id is not None and not _ID.fullmatch(playbook_id):
            self.error(
                doc.key_line("id"),
                f"id {playbook_id!r} must be lowercase letters, digits, '-' and '_' "
                "(e.g. price-anger)",
            )
        title = self.text(doc, "title", "") if "title" in doc else None
        description = self.text(doc, "description", "") if "description" in doc else None
        priority = doc.get("priority", 0)
        if not isinstance(priority, int) or isinstance(priority, bool):
            self.error(doc.key_line("priority"), "priority must be an integer")
        match = self.match(doc) if "match" in doc else None
        steps = self.steps(doc) if "steps" in doc else ()
        do = self.texts(doc, "do", "") if "do" in doc else ()
        dont = self.texts(doc, "dont", "") if "dont" in doc else ()
        templates = self.templates(doc) if "templates" in doc else {}
        escalate_to = self.escalate_to(doc) if "escalate_to" in doc else {}

        if self.errors:
            return None
        # Without errors every required value was read; the checks narrow the types.
        if playbook_id is None or title is None or description is None or match is None:
            return None
        return Playbook(
            id=playbook_id,
            title=title,
            description=description,
            priority=priority,
            match=match,
            steps=steps,
            do=do,
            dont=dont,
            templates=MappingProxyType(templates),
            escalate_to=MappingProxyType(escalate_to),
            source=self.file,
            line=doc.key_line("id"),
        )

    def match(self, doc: MarkedMap) -> MatchRule | None:
        rule = doc["match"]
        if not isinstance(rule, MarkedMap):
            self.error(
                doc.key_line("match"),
                "match must be a mapping (write `match: {}` for a playbook that matches anything)",
            )
            return None
        self.keys(rule, "match", (), _MATCH_KEYS)
        before = len(self.errors)
        topics: tuple[str, ...] = ()
        platforms: tuple[str, ...] = ()
        brands: tuple[str, ...] = ()
        if "topics" in rule:
            topics = self.names(
                rule, "topics", "match", what="topic", pattern=_TAG, example="[environment]"
            )
        if "platforms" in rule:
            platforms = self.names(
                rule, "platforms", "match", what="platform", pattern=_TAG, example="[facebook]"
            )
        if "brands" in rule:
            brands = self.names(rule, "brands", "match", what="brand", example="[acme]")
        min_severity = rule.get("min_severity", "low")
        if "min_severity" in rule:
            self.severity(min_severity, rule.key_line("min_severity"), "match.min_severity")
        if len(self.errors) > before:
            return None
        return MatchRule(frozenset(topics), min_severity, frozenset(platforms), frozenset(brands))

    def steps(self, doc: MarkedMap) -> tuple[Step, ...]:
        items = self.seq(doc, "steps", "", "[{role: pr, action: ..., deadline_minutes: 60}]")
        if items is None:
            return ()
        steps = []
        for i, item in enumerate(items):
            path = f"steps[{i}]"
            if not isinstance(item, MarkedMap):
                self.error(
                    items.item_lines[i], f"{path} must be a mapping with {', '.join(_STEP_KEYS)}"
                )
                continue
            before = len(self.errors)
            self.keys(item, path, _STEP_KEYS, ())
            role = item.get("role")
            if "role" in item and (not isinstance(role, str) or role not in ROLES):
                hint = _did_you_mean(role, ROLES) or f" (known: {', '.join(sorted(ROLES))})"
                self.error(item.key_line("role"), f"{path}.role: unknown role {_shown(role)}{hint}")
            action = self.text(item, "action", path) if "action" in item else None
            deadline = item.get("deadline_minutes")
            if not isinstance(deadline, int) or isinstance(deadline, bool) or deadline <= 0:
                deadline = None
            if "deadline_minutes" in item and deadline is None:
                self.error(
                    item.key_line("deadline_minutes"),
                    f"{path}.deadline_minutes must be a positive integer",
                )
            if len(self.errors) == before and action is not None and deadline is not None:
                steps.append(Step(role=str(role), action=action, deadline_minutes=deadline))
        return tuple(steps)

    def templates(self, doc: MarkedMap) -> dict[str, MappingProxyType[str, str]]:
        templates = doc["templates"]
        if not isinstance(templates, MarkedMap) or not templates:
            self.error(
                doc.key_line("templates"),
                f"templates must be a mapping of template name to texts, e.g. "
                f"{DEFAULT_TEMPLATE}: {{en: ..., de: ...}}",
            )
            return {}
        if DEFAULT_TEMPLATE not in templates:
            self.error(
                doc.key_line("templates"),
                f"templates: missing required template {DEFAULT_TEMPLATE!r}",
            )
        result = {}
        for name, texts in templates.items():
            path = f"templates.{name}"
            line = templates.key_line(name)
            if not isinstance(name, str) or not _TAG.fullmatch(name):
                self.error(line, f"{path}: template name must be lowercase letters, digits and '_'")
                continue
            if name in REQUIRED_LANGUAGES:
                self.error(
                    line,
                    f"{path}: put the texts under a template name, "
                    f"e.g. templates.{DEFAULT_TEMPLATE}.{name}",
                )
                continue
            if not isinstance(texts, MarkedMap):
                self.error(line, f"{path} must map languages to texts, e.g. {{en: ..., de: ...}}")
                continue
            for lang in REQUIRED_LANGUAGES:
                if lang not in texts:
                    self.error(line, f"{path}: missing language {lang!r}")
            checked = {}
            for lang, text in texts.items():
                where = f"{path}.{lang}"
                lang_line = texts.key_line(lang)
                if not isinstance(lang, str) or not _LANG.fullmatch(lang):
                    self.error(lang_line, f"{where}: language must be an ISO 639-1 code like 'de'")
                elif not isinstance(text, str) or not text.strip():
                    self.error(lang_line, f"{where} must be a non-empty string")
                elif self.placeholders(text, where, lang_line):
                    checked[lang] = text.strip()
            result[name] = MappingProxyType(checked)
        return result

    def placeholders(self, text: str, path: str, line: int) -> bool:
        try:
            used = placeholders_in(text)
        except ValueError as exc:
            self.error(line, f"{path}: {exc} (write {{{{ and }}}} for literal braces)")
            return False
        unknown = sorted(used - PLACEHOLDERS)
        for name in unknown:
            hint = _did_you_mean(name, PLACEHOLDERS) or (
                f" (known: {', '.join('{' + p + '}' for p in sorted(PLACEHOLDERS))})"
            )
            self.error(line, f"{path}: unknown placeholder {{{name}}}{hint}")
        return not unknown

    def escalate_to(self, doc: MarkedMap) -> dict[str, tuple[str, ...]]:
        levels = doc["escalate_to"]
        if not isinstance(levels, MarkedMap) or not levels:
            self.error(
                doc.key_line("escalate_to"),
                "escalate_to must map severities to roles, e.g. high: [pr, legal]",
            )
            return {}
        result = {}
        for level in levels:
            if self.severity(level, levels.key_line(level), f"escalate_to.{level}"):
                result[level] = self.names(
                    levels, level, "escalate_to", what="role", allowed=ROLES, example="[pr, legal]"
                )
        return result


def parse_playbook(doc: Any, file: Path) -> tuple[Playbook | None, list[PlaybookError]]:
    """The playbook in `doc` (read from `file`), or None and every error found."""
    validator = _Validator(file)
    playbook = validator.playbook(doc)
    validator.errors.sort(key=lambda e: e.line or 0)
    return playbook, validator.errors

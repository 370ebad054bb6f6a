"""What a playbook is: immutable records built by the loader, read by the router.

A playbook tells the on-call community manager what to do in the first hours of a storm
of one kind: who does what by when, the lessons of earlier storms as do/don't lists,
reply drafts in English and German, and whom to pull in as the storm grows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from stormwatch.playbooks.exceptions import RenderError
from stormwatch.playbooks.templates import fill

SEVERITIES: tuple[str, ...] = ("low", "medium", "high", "critical")
"""Incident severities, mildest first (the alert contract's `severity`)."""

ROLES: frozenset[str] = frozenset(
    {
        "community_manager",
        "social_media_lead",
        "customer_service",
        "pr",
        "legal",
        "data_protection_officer",
        "product",
        "quality",
        "hr",
        "sustainability",
        "executive",
    }
)
"""Roles a step or an escalation may name. A closed set, so that a typo cannot page nobody;
on-call routing maps each role to people."""

REQUIRED_LANGUAGES: tuple[str, ...] = ("en", "de")
DEFAULT_TEMPLATE = "acknowledge"


def severity_rank(severity: str) -> int:
    """0 for `low` up to 3 for `critical`; `ValueError` for anything else."""
    try:
        return SEVERITIES.index(severity)
    except ValueError:
        raise ValueError(
            f"unknown severity {severity!r}; expected one of {', '.join(SEVERITIES)}"
        ) from None


@dataclass(frozen=True, slots=True)
class Step:
    """One thing one role does, due `deadline_minutes` after the incident opened."""

    role: str
    action: str
    deadline_minutes: int


@dataclass(frozen=True, slots=True)
class MatchRule:
    """Which incidents a playbook is for. An empty set means "any"; all conditions must hold.

    `topics` matches when the incident carries at least one of them. Topics, platforms
    and brands are stored case-folded and compared case-insensitively.
    """

    topics: frozenset[str] = frozenset()
    min_severity: str = "low"
    platforms: frozenset[str] = frozenset()
    brands: frozenset[str] = frozenset()

    @property
    def is_catch_all(self) -> bool:
        """True if it matches every incident: the fallback that makes matching total."""
        return not (self.topics or self.platforms or self.brands) and self.min_severity == "low"

    @property
    def specificity(self) -> tuple[int, int, int, int]:
        """Sort key, more specific first when sorted descending.

        Topic beats brand beats platform beats severity: the topic decides what the
        response must say (a recall is a recall whoever sells the product), while a brand-
        or platform-only playbook is a local variant of the generic one.
        """
        return (
            int(bool(self.topics)),
            int(bool(self.brands)),
            int(bool(self.platforms)),
            severity_rank(self.min_severity),
        )

    def accepts(
        self, *, topics: frozenset[str], severity: int, platform: str | None, brand: str
    ) -> bool:
        """Whether an incident (case-folded topics, severity rank) falls under this rule.

        An incident of unknown platform (None) never matches a platform-restricted rule.
        """
        return (
            severity >= severity_rank(self.min_severity)
            and (not self.topics or not self.topics.isdisjoint(topics))
            and (not self.platforms or (platform is not None and platform in self.platforms))
            and (not self.brands or brand in self.brands)
        )


@dataclass(frozen=True, slots=True)
class Playbook:
    """A validated playbook; `source` and `line` say where it was defined."""

    id: str
    title: str
    description: str
    priority: int
    match: MatchRule
    steps: tuple[Step, ...]
    do: tuple[str, ...]
    dont: tuple[str, ...]
    templates: Mapping[str, Mapping[str, str]]  # template name -> language -> text
    escalate_to: Mapping[str, tuple[str, ...]]  # severity -> roles added at that level
    source: Path
    line: int = 1

    def render(self, lang: str, *, template: str = DEFAULT_TEMPLATE, **values: object) -> str:
        """A reply draft in `lang` with placeholders filled from `values`.

        `lang` is an ISO 639-1 code (a region suffix like `de-AT` is ignored). A language
        the playbook has no text for falls back to English: a draft in the wrong language
        that a human reviews beats no draft in the first minutes of a storm.
        """
        texts = self.templates.get(template)
        if texts is None:
            known = ", ".join(sorted(self.templates))
            raise RenderError(f"playbook {self.id!r} has no template {template!r} ({known})")
        code = lang.replace("_", "-").split("-", 1)[0].lower()
        text = texts.get(code, texts["en"])
        try:
            return fill(text, values)
        except RenderError as exc:
            raise RenderError(f"playbook {self.id!r}, template {template!r}: {exc}") from None

    def escalation(self, severity: str) -> tuple[str, ...]:
        """Roles to involve at `severity`: those listed for it and for every lower level.

        Escalation is cumulative because people are added as a storm grows, never swapped.
        """
        rank = severity_rank(severity)
        roles = (
            role for level in SEVERITIES[: rank + 1] for role in self.escalate_to.get(level, ())
        )
        return tuple(dict.fromkeys(roles))  # first mention wins, order kept

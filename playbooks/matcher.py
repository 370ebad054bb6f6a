"""Choosing the playbook for an incident.

Playbooks are ranked once, when the set is built: more specific match rules first (see
`MatchRule.specificity`), then higher `priority`, then id for a stable answer. The first
playbook in that order whose rule accepts the incident wins, so `match` is a short scan
with no scoring per call; it runs per incident event, not per comment.

Specificity comes before priority, so a refinement (`topics: [safety]` plus
`brands: [acme]`) wins without having to know the defaults' priorities. The price: for an
incident tagged with several topics, a refined playbook for one topic beats a plain
playbook of higher priority for another (an Instagram-only service playbook takes a
discrimination + service storm on Instagram). Write refinements for the serious topics
too, or keep refinements to brands and platforms where that is what you want.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from stormwatch.playbooks.model import Playbook, severity_rank


class PlaybookSet:
    """Validated playbooks, unique by id, in match order."""

    def __init__(self, playbooks: Iterable[Playbook]) -> None:
        by_id: dict[str, Playbook] = {}
        for playbook in playbooks:
            if playbook.id in by_id:
                raise ValueError(f"duplicate playbook id {playbook.id!r}")
            by_id[playbook.id] = playbook
        self._by_id = by_id
        by_name = sorted(by_id.values(), key=lambda p: p.id)
        self._ranked = tuple(
            sorted(by_name, key=lambda p: (p.match.specificity, p.priority), reverse=True)
        )

    def __iter__(self) -> Iterator[Playbook]:
        """Playbooks in match order: the one tried first comes first."""
        return iter(self._ranked)

    def __len__(self) -> int:
        return len(self._ranked)

    def __contains__(self, playbook_id: object) -> bool:
        return playbook_id in self._by_id

    def __getitem__(self, playbook_id: str) -> Playbook:
        return self._by_id[playbook_id]

    def candidates(
        self, *, topics: Iterable[str], severity: str, platform: str | None, brand: str
    ) -> list[Playbook]:
        """Every playbook that accepts the incident, best first (for "why this one?")."""
        if isinstance(topics, str):
            # A bare string would be read as its letters and silently match nothing.
            raise TypeError("topics must be an iterable of topic names, not a string")
        wanted = frozenset(t.casefold() for t in topics)
        rank = severity_rank(severity)
        where = platform.casefold() if platform is not None else None
        who = brand.casefold()
        return [
            p
            for p in self._ranked
            if p.match.accepts(topics=wanted, severity=rank, platform=where, brand=who)
        ]

    def match(
        self, *, topics: Iterable[str], severity: str, platform: str | None, brand: str
    ) -> Playbook:
        """The most specific, then highest-priority playbook for an incident.

        Sets from `load_playbooks` always hold a catch-all, so this never fails for them;
        a hand-built set without one raises `LookupError` when nothing matches.
        """
        topics = topics if isinstance(topics, str) else tuple(topics)  # reused in the message
        found = self.candidates(topics=topics, severity=severity, platform=platform, brand=brand)
        if not found:
            raise LookupError(
                f"no playbook matches topics={sorted(topics)} severity={severity} "
                f"platform={platform} brand={brand}"
            )
        return found[0]

"""What marking a shown comment "negative" or "not negative" in Slack does.

The label goes into the store with the same call as `stormwatch feedback --comment ID
--negative/--not-negative` (text and brand from the alert that showed the comment), so
every runtime that opens the store learns it at start-up; `learn` (in `serve`: the live
pipeline) learns it at once. The incident's Slack message is refreshed through the
outbox to show the mark, with a note in its thread. A repeated mark (a retried or
double-clicked press) changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from stormwatch.alerts.content import cut_text
from stormwatch.alerts.escalation import SLACK
from stormwatch.alerts.slack_message import escape_user
from stormwatch.alerts.store import IncidentStore
from stormwatch.alerts.store.negativity_labels import NegativityLabel

SNIPPET_CHARS = 80


@dataclass(frozen=True, slots=True)
class ReadingResult:
    """`label` is None when nothing was recorded; `note` says why, or what happened."""

    note: str
    label: NegativityLabel | None = None


class CommentReadings:
    def __init__(
        self,
        store: IncidentStore,
        *,
        notify_slack: bool = True,
        learn: Callable[[NegativityLabel], None] | None = None,
    ) -> None:
        """`learn(label)` teaches a running pipeline the new label (None: learned at the
        next start of whatever opens the store)."""
        self.store = store
        self.notify_slack = notify_slack
        self.learn = learn

    def mark(
        self,
        incident: str,
        comment_id: str,
        *,
        platform: str | None = None,
        negative: bool,
        who: str,
    ) -> ReadingResult:
        """Record `who`'s reading of a comment the incident's alerts showed (`platform`:
        the comment's, when the button carries it; ids are unique per platform only)."""
        found = self.store.get_incident(incident)
        if found is None:
            return ReadingResult(f"Unknown incident {incident}")
        sample = self.store.find_sample(
            comment_id, found.brand, incident=incident, platform=platform
        )
        if sample is None:
            return ReadingResult(
                "That comment's text is no longer stored (purged), so it cannot be marked"
            )
        reading = "negative" if negative else "not negative"
        if self._already(found.brand, comment_id, negative=negative, who=who):
            return ReadingResult(f"Already marked {reading} by {who}")
        label = self.store.add_negativity_label(
            brand=found.brand,
            comment_id=comment_id,
            text=sample.text,
            lang=sample.lang,
            negative=negative,
            who=who,
        )
        if self.learn is not None:
            self.learn(label)
            when = "from now on"
        else:
            when = "once stormwatch restarts"
        # People's words, as on the card: inert, cut between characters as drawn.
        snippet = cut_text(" ".join(sample.text.split()), SNIPPET_CHARS)
        note = (
            f"🏷️ {who} marked a comment as {reading}: “{escape_user(snippet)}”. "
            f"Stormwatch corrects how {escape_user(found.brand)}'s comments with its words read, "
            f"{when}."
        )
        if self.notify_slack:
            self.store.enqueue(
                incident=incident,
                target=SLACK,
                payload={"action": "refresh", "note": note, "who": who},
            )
        return ReadingResult(note, label)

    def _already(self, brand: str, comment_id: str, *, negative: bool, who: str) -> bool:
        """Whether `who`'s latest reading of this comment is this one."""
        mine = [
            label
            for label in self.store.negativity_labels(brand)
            if label.comment_id == comment_id and label.who == who
        ]
        return bool(mine) and mine[-1].negative == negative

"""People's readings of single comments ("negative" / "not negative"), per brand.

A community manager who marks a sample comment of an alert teaches that brand's
negativity correction (`stormwatch.detectors.negativity_feedback`); the labels are kept
here, so every runtime that opens the store learns them at start-up.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from stormwatch.alerts.store.connection import StoreBase
from stormwatch.alerts.store.rows import from_row
from stormwatch.alerts.store.schema import INCIDENT_EVENTS, INCIDENTS, NEGATIVITY_LABELS


@dataclass(slots=True, frozen=True)
class NegativityLabel:
    id: int
    brand: str
    comment_id: str
    text: str
    lang: str | None
    negative: bool
    who: str
    at: float


@dataclass(slots=True, frozen=True)
class SampleComment:
    """A comment shown as a sample of an incident: what a label needs to know."""

    brand: str
    comment_id: str
    text: str
    incident: str
    lang: str | None = None  # as the pipeline read it; None in alerts from before it said


class NegativityLabels(StoreBase):
    """Labels on single comments, and the sample comments they usually point at."""

    def add_negativity_label(
        self,
        *,
        brand: str,
        comment_id: str,
        text: str,
        negative: bool,
        who: str,
        lang: str | None = None,
        at: float | None = None,
    ) -> NegativityLabel:
        at = self._clock() if at is None else at
        values = {
            "brand": brand,
            "comment_id": comment_id,
            "text": text,
            "lang": lang,
            "negative": negative,
            "who": who,
            "at": at,
        }
        with self._transaction(write=True) as conn:
            row_id = conn.execute(
                NEGATIVITY_LABELS.insert().values(**values).returning(NEGATIVITY_LABELS.c.id)
            ).scalar_one()
        return NegativityLabel(id=row_id, **values)  # type: ignore[arg-type]

    def negativity_labels(self, brand: str | None = None) -> list[NegativityLabel]:
        """Labels oldest first (all brands, or one)."""
        query = sa.select(NEGATIVITY_LABELS).order_by(
            NEGATIVITY_LABELS.c.at, NEGATIVITY_LABELS.c.id
        )
        if brand is not None:
            query = query.where(NEGATIVITY_LABELS.c.brand == brand)
        with self._transaction() as conn:
            return [from_row(NegativityLabel, row) for row in conn.execute(query)]

    def find_sample(
        self,
        comment_id: str,
        brand: str | None = None,
        *,
        incident: str | None = None,
        platform: str | None = None,
    ) -> SampleComment | None:
        """The newest recorded sample comment with this id (optionally of one brand, of
        one incident's alerts, of one platform: ids are unique per platform only)."""
        query = (
            sa.select(INCIDENT_EVENTS.c.incident, INCIDENT_EVENTS.c.payload, INCIDENTS.c.brand)
            .join(INCIDENTS, INCIDENTS.c.key == INCIDENT_EVENTS.c.incident)
            .order_by(INCIDENT_EVENTS.c.id.desc())
        )
        if brand is not None:
            query = query.where(INCIDENTS.c.brand == brand)
        if incident is not None:
            query = query.where(INCIDENT_EVENTS.c.incident == incident)
        with self._transaction() as conn:
            for shown_in, payload, event_brand in conn.execute(query):
                for sample in (payload or {}).get("samples") or ():
                    if (
                        isinstance(sample, dict)
                        and str(sample.get("id")) == comment_id
                        and (platform is None or sample.get("platform") == platform)
                    ):
                        text = sample.get("text")
                        if isinstance(text, str):
                            lang = sample.get("lang")
                            return SampleComment(
                                event_brand,
                                comment_id,
                                text,
                                shown_in,
                                lang if isinstance(lang, str) else None,
                            )
        return None

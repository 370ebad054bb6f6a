"""The delivery outbox: claim due deliveries with a lease, mark them sent or failed."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Final

import sqlalchemy as sa

from stormwatch.alerts.exceptions import StoreError
from stormwatch.alerts.store.connection import StoreBase
from stormwatch.alerts.store.incidents import require_incident
from stormwatch.alerts.store.rows import Delivery, from_row
from stormwatch.alerts.store.schema import (
    DELIVERIES,
)

_CLAIMABLE: Final = ("pending", "failed")  # statuses a claim may hand out


class Outbox(StoreBase):
    """Deliveries per incident and target, handed out in order."""

    def pending_deliveries(
        self, target: str, *, now: float | None = None, limit: int = 100, lease: float = 60.0
    ) -> list[Delivery]:
        """Claim up to `limit` due deliveries for `target`, oldest first.

        Claimed rows are leased: hidden from other claimers for `lease` seconds, after
        which they come back unless marked delivered or failed. A row waits while an
        earlier row of the same incident and target is still pending or failed.
        """
        now = self._clock() if now is None else now
        d = DELIVERIES
        earlier = DELIVERIES.alias("earlier")
        blocked = sa.exists().where(
            earlier.c.incident == d.c.incident,
            earlier.c.target == d.c.target,
            earlier.c.id < d.c.id,
            earlier.c.status.in_(_CLAIMABLE),
        )
        query = (
            sa.select(d)
            .where(
                d.c.target == target,
                d.c.status.in_(_CLAIMABLE),
                d.c.next_attempt_at <= now,
                ~blocked,
            )
            .order_by(d.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True, of=d)  # SQLite: no-op, BEGIN IMMEDIATE holds
        )
        with self._transaction(write=True) as conn:
            rows = conn.execute(query).all()
            if not rows:
                return []
            lease_until = now + lease
            conn.execute(
                d.update()
                .where(d.c.id.in_([row.id for row in rows]))
                .values(attempts=d.c.attempts + 1, next_attempt_at=lease_until, updated_at=now)
            )
        return [
            replace(
                from_row(Delivery, row),
                attempts=row.attempts + 1,
                next_attempt_at=lease_until,
                updated_at=now,
            )
            for row in rows
        ]

    def held_claims(self, claims: list[tuple[int, int]], *, now: float | None = None) -> set[int]:
        """Of (delivery id, attempts) claims, the ids still held: not sent or dead, not
        claimed again since (the same attempt), and their lease not run out."""
        if not claims:
            return set()
        now = self._clock() if now is None else now
        d = DELIVERIES
        query = sa.select(d.c.id, d.c.attempts).where(
            d.c.id.in_([i for i, _ in claims]),
            d.c.status.in_(_CLAIMABLE),
            d.c.next_attempt_at > now,
        )
        with self._transaction() as conn:
            current = {row.id: row.attempts for row in conn.execute(query)}
        return {i for i, attempts in claims if current.get(i) == attempts}

    def deliveries(self, incident: str) -> list[Delivery]:
        """All deliveries of an incident, oldest first (for inspection; does not claim)."""
        query = sa.select(DELIVERIES).where(DELIVERIES.c.incident == incident)
        with self._transaction() as conn:
            return [
                from_row(Delivery, row) for row in conn.execute(query.order_by(DELIVERIES.c.id))
            ]

    def mark_delivered(self, delivery_id: int, external_id: str | None = None) -> None:
        """The delivery went out; `external_id` is what the target called it (Slack ts)."""
        with self._transaction(write=True) as conn:
            result = conn.execute(
                DELIVERIES.update()
                .where(DELIVERIES.c.id == delivery_id)
                .values(
                    status="sent",
                    external_id=external_id,
                    next_attempt_at=None,
                    updated_at=self._clock(),
                )
            )
            if result.rowcount == 0:
                raise StoreError(f"no delivery with id {delivery_id}")

    def mark_failed(self, delivery_id: int, error: str, *, retry_at: float | None) -> None:
        """The attempt failed: retry at wall-clock `retry_at`, or never (`None`: dead).
        A delivery already sent (e.g. by a worker whose lease overlapped) stays sent."""
        with self._transaction(write=True) as conn:
            result = conn.execute(
                DELIVERIES.update()
                .where(DELIVERIES.c.id == delivery_id, DELIVERIES.c.status.in_(_CLAIMABLE))
                .values(
                    status="dead" if retry_at is None else "failed",
                    last_error=error,
                    next_attempt_at=retry_at,
                    updated_at=self._clock(),
                )
            )
            if (
                result.rowcount == 0
                and conn.scalar(sa.select(DELIVERIES.c.id).where(DELIVERIES.c.id == delivery_id))
                is None
            ):
                raise StoreError(f"no delivery with id {delivery_id}")

    def enqueue(
        self,
        *,
        incident: str,
        target: str,
        payload: dict[str, Any],
        not_before: float | None = None,
    ) -> int:
        """A delivery not tied to an alert event (an on-call page, a message refresh after
        a button press), after every earlier one of the incident; returns its id."""
        return self.enqueue_all(incident, [(target, payload)], not_before=not_before)[0]

    def enqueue_all(
        self,
        incident: str,
        rows: list[tuple[str, dict[str, Any]]],
        *,
        not_before: float | None = None,
    ) -> list[int]:
        """Several deliveries (target, payload) in one transaction, all or none: a level
        that pages two targets must not page one of them for good if the second insert
        fails (a locked database), as the level then counts as paged."""
        if not all(target for target, _ in rows):
            raise ValueError("target must be a non-empty string")
        now = self._clock()
        with self._transaction(write=True) as conn:
            require_incident(conn, incident)
            return [
                int(
                    conn.scalar(
                        DELIVERIES.insert()
                        .values(
                            incident=incident,
                            event_id=None,
                            target=target,
                            payload=payload,
                            status="pending",
                            attempts=0,
                            next_attempt_at=now if not_before is None else max(now, not_before),
                            created_at=now,
                            updated_at=now,
                        )
                        .returning(DELIVERIES.c.id)
                    )
                )
                for target, payload in rows
            ]

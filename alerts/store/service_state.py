"""State of `stormwatch serve` that must outlive the process: which signed requests were
acted on (replay protection), and the embedded pipeline's checkpoint."""

from __future__ import annotations

import sqlalchemy as sa

from stormwatch.alerts.store.connection import StoreBase
from stormwatch.alerts.store.schema import CHECKPOINTS, REQUEST_CLAIMS


class ServiceState(StoreBase):
    """Request claims and pipeline checkpoints."""

    def ping(self) -> None:
        """Raises `StoreError` unless the database answers."""
        with self._transaction() as conn:
            conn.execute(sa.select(sa.literal(1)))

    # -- replay protection -------------------------------------------------------------

    def claim_request(
        self, key: str, *, at: float | None = None, stale_after: float = 30.0
    ) -> bool:
        """Claim a signed request before acting on it: False when it was acted on already
        (a replay) or another claim on it is in progress. A claim neither completed nor
        released within `stale_after` seconds (the process died while acting) can be taken
        again, so a retry of a press that never took effect is not refused forever."""
        now = self._clock() if at is None else at
        with self._transaction(write=True) as conn:
            inserted = conn.execute(
                self._insert(REQUEST_CLAIMS)
                .values(key=key, claimed_at=now, done=False)
                .on_conflict_do_nothing(index_elements=["key"])
            ).rowcount
            if inserted:
                return True
            retaken = conn.execute(
                REQUEST_CLAIMS.update()
                .where(
                    REQUEST_CLAIMS.c.key == key,
                    REQUEST_CLAIMS.c.done.is_(False),
                    REQUEST_CLAIMS.c.claimed_at < now - stale_after,
                )
                .values(claimed_at=now)
            ).rowcount
        return bool(retaken)

    def complete_request(self, key: str) -> None:
        with self._transaction(write=True) as conn:
            conn.execute(
                REQUEST_CLAIMS.update().where(REQUEST_CLAIMS.c.key == key).values(done=True)
            )

    def release_request(self, key: str) -> None:
        """Forget a claim whose action failed, so the sender's retry is accepted."""
        with self._transaction(write=True) as conn:
            conn.execute(REQUEST_CLAIMS.delete().where(REQUEST_CLAIMS.c.key == key))

    def forget_requests(self, *, before: float) -> int:
        """Drop claims older than `before` (requests that old are refused as stale anyway)."""
        with self._transaction(write=True) as conn:
            return conn.execute(
                REQUEST_CLAIMS.delete().where(REQUEST_CLAIMS.c.claimed_at < before)
            ).rowcount

    # -- checkpoints -------------------------------------------------------------------

    def save_checkpoint(self, name: str, state: bytes, *, seq: int) -> None:
        """Replace checkpoint `name` in one transaction (the old one stays until then)."""
        now = self._clock()
        with self._transaction(write=True) as conn:
            conn.execute(
                self._insert(CHECKPOINTS)
                .values(name=name, seq=seq, saved_at=now, state=state)
                .on_conflict_do_update(
                    index_elements=["name"],
                    set_={"seq": seq, "saved_at": now, "state": state},
                )
            )

    def load_checkpoint(self, name: str) -> tuple[int, bytes] | None:
        """(seq, state) of checkpoint `name`, None when there is none."""
        with self._transaction() as conn:
            row = conn.execute(
                sa.select(CHECKPOINTS.c.seq, CHECKPOINTS.c.state).where(CHECKPOINTS.c.name == name)
            ).first()
        return None if row is None else (int(row.seq), bytes(row.state))

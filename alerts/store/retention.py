"""Retention: what the incident store keeps of people's comments, and `purge`.

Alert events carry the comments that tell a storm (`samples`: id, text, author,
followers, thread) and its loudest accounts (`drivers.top_accounts`); both are stored with
every incident event, in the incident's last event and in the payloads queued for
delivery. Everything else the store keeps is about the storm, not about a person: counts,
rates, topics, top terms, thread ids, verdicts. The store keeps comment texts and ids
until they are purged: `stormwatch purge --older-than DAYS` empties `samples` and
`top_accounts` of everything recorded or last updated before then (pending deliveries
excepted: they still have to be sent). Verdicts keep working after a purge: they read
topics, terms, peaks, the platform and the posts, not samples; the loudest accounts a
purge emptied are left out of the comparison.

People's readings of single comments (`negativity_labels`: the comment's id and text,
who marked it) are a person's teaching, but they hold a comment's text as well: the
retention promise wins, so a purge deletes the labels recorded before the cutoff too.
Runtimes learn labels at start-up, so the next start no longer learns the purged ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from stormwatch.alerts.store.connection import StoreBase
from stormwatch.alerts.store.schema import (
    DELIVERIES,
    INCIDENT_EVENTS,
    INCIDENTS,
    NEGATIVITY_LABELS,
)

# Where texts and author ids are: samples and accounts of alerts, and the note a comment
# reading's Slack refresh carries (it quotes the comment).
PERSONAL_KEYS = ("samples", "top_accounts", "note")
SETTLED = ("sent", "dead")  # deliveries that will not be sent again
PURGE_PAGE_ROWS = 500


@dataclass
class PurgeReport:
    events: int = 0
    incidents: int = 0
    deliveries: int = 0
    labels: int = 0  # negativity labels deleted (they hold the comment's text)


def scrub(payload: Any) -> tuple[Any, bool]:
    """The payload without comment texts and ids (at any depth); whether it changed."""
    if isinstance(payload, dict):
        changed = False
        out = {}
        for key, value in payload.items():
            if key in PERSONAL_KEYS and value:
                out[key] = "" if isinstance(value, str) else []
                changed = True
            else:
                out[key], sub = scrub(value)
                changed |= sub
        return out, changed
    if isinstance(payload, list):
        items = [scrub(v) for v in payload]
        return [v for v, _ in items], any(c for _, c in items)
    return payload, False


def purge(store: StoreBase, *, older_than_days: float, now: float | None = None) -> PurgeReport:
    """Empty the comment texts and author ids of everything older than `older_than_days`,
    and delete the negativity labels recorded before then."""
    if not older_than_days >= 0:
        raise ValueError("older_than_days must be >= 0")
    cutoff = (store._clock() if now is None else now) - older_than_days * 86400.0
    report = PurgeReport()
    targets = (
        (INCIDENT_EVENTS, INCIDENT_EVENTS.c.id, "payload", INCIDENT_EVENTS.c.recorded_at, "events"),
        (INCIDENTS, INCIDENTS.c.key, "last_event", INCIDENTS.c.updated_at, "incidents"),
        (DELIVERIES, DELIVERIES.c.id, "payload", DELIVERIES.c.updated_at, "deliveries"),
    )
    for table, key, column, when, counter in targets:
        # A page of rows per transaction: one transaction over a large store held the
        # write lock past a live `serve`'s busy time-out (26 s over 60,000 events), and
        # its button presses and alerts failed meanwhile. A purge cut short by a crash
        # leaves what it did done; the next one does the rest.
        after: Any = None
        while True:
            with store._transaction(write=True) as conn:
                query = sa.select(key, table.c[column]).where(when < cutoff)
                if table is DELIVERIES:
                    query = query.where(DELIVERIES.c.status.in_(SETTLED))
                if after is not None:
                    query = query.where(key > after)
                rows = conn.execute(query.order_by(key).limit(PURGE_PAGE_ROWS)).all()
                for row_key, payload in rows:
                    cleaned, changed = scrub(payload)
                    if changed:
                        conn.execute(
                            sa.update(table).where(key == row_key).values({column: cleaned})
                        )
                        setattr(report, counter, getattr(report, counter) + 1)
            if len(rows) < PURGE_PAGE_ROWS:
                break
            after = rows[-1][0]
    with store._transaction(write=True) as conn:
        deleted = conn.execute(sa.delete(NEGATIVITY_LABELS).where(NEGATIVITY_LABELS.c.at < cutoff))
        report.labels = deleted.rowcount
    return report

"""`IncidentStore`: one object over one database, composed of the store's concerns.

Each concern is a class of its own module over the same connection (`StoreBase`):
incidents and their events (`incidents`), the delivery outbox (`outbox`), and what people
add (`human_input`). The tables and migrations are in `schema`, the rows in `rows`.
"""

from __future__ import annotations

from stormwatch.alerts.store.human_input import HumanInput
from stormwatch.alerts.store.incidents import IncidentRecords
from stormwatch.alerts.store.negativity_labels import NegativityLabels
from stormwatch.alerts.store.outbox import Outbox
from stormwatch.alerts.store.service_state import ServiceState


class IncidentStore(IncidentRecords, Outbox, HumanInput, NegativityLabels, ServiceState):
    """Incidents, their events, the delivery outbox, human input and the state of
    `stormwatch serve` (request claims, the pipeline checkpoint), in one database.

    Open with `IncidentStore.open(url)`; safe to share between threads, and between
    processes on one PostgreSQL database (or one SQLite file).
    """

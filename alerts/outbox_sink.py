"""Alert sinks for Slack in `stormwatch run`: live delivery through the outbox when a
token is configured, else a dry run that prints what would have been posted."""

from __future__ import annotations

from collections.abc import Sequence

from rich.markup import escape

from stormwatch.alerts.delivery import OutboxWorker
from stormwatch.alerts.escalation import Escalator
from stormwatch.alerts.event import AlertEvent
from stormwatch.alerts.sinks import one_line
from stormwatch.alerts.slack_config import SlackConfig
from stormwatch.alerts.slack_message import headline
from stormwatch.alerts.store import IncidentStore


class OutboxSink:
    """Records each event with its delivery targets, then delivers what is due at once;
    `close()` waits (bounded) for the backlog, so a short run does not end with its
    alerts still queued. Deliveries left over stay in the store for `stormwatch serve`."""

    def __init__(
        self,
        store: IncidentStore,
        worker: OutboxWorker,
        *,
        targets: Sequence[str],
        escalator: Escalator | None = None,
        drain_seconds: float = 60.0,
    ) -> None:
        self.store = store
        self.worker = worker
        self.targets = tuple(targets)
        self.escalator = escalator
        self.drain_seconds = drain_seconds
        self.recorded = 0
        self.last_new = True  # whether the last event emitted was new to the store
        self._incidents: set[str] = set()
        self._since = store._clock()  # deliveries queued from now on are this run's
        # After `close()`: this run's deliveries not sent by then, still to be retried
        # (`undelivered`: Slack down past the drain) or failed for good (`dead`: a
        # revoked token), and the last error of one.
        self.undelivered = 0
        self.dead = 0
        self.last_error: str | None = None

    def emit(self, event: AlertEvent) -> None:
        self._incidents.add(event.incident)
        self.last_new = self.store.record(event, targets=self.targets)
        if self.last_new:
            self.recorded += 1
        if self.escalator is not None:
            self.escalator.reconcile(event.incident)
        self.worker.run_once()

    def close(self) -> None:
        try:
            self.worker.drain(timeout=self.drain_seconds)
            for key in sorted(self._incidents):
                for delivery in self.store.deliveries(key):
                    if (
                        delivery.status == "sent"
                        or delivery.created_at < self._since
                        or delivery.target not in self.worker.notifiers
                    ):
                        continue
                    if delivery.status == "dead":
                        self.dead += 1
                    else:
                        self.undelivered += 1
                    self.last_error = delivery.last_error or self.last_error
        finally:
            self.store.close()


class DryRunSlackSink:
    """One line per Slack message stormwatch would have posted or edited."""

    def __init__(self, console: object, config: SlackConfig) -> None:
        self.console = console
        self.config = config
        self.channels: dict[str, str] = {}

    def emit(self, event: AlertEvent) -> None:
        alert = event.to_json_dict()
        if event.event == "updated":
            return  # edits in place; the thread reply is rate-limited
        channel = self.channels.setdefault(
            event.incident, self.config.channel_for(event.brand, event.severity)
        )
        what = "post" if event.event == "opened" else "edit + thread reply"
        text = headline(alert).strip()
        self.console.print(  # type: ignore[attr-defined]
            f"[dim]slack dry run → {escape(channel)}: {what} “{escape(text)}” "
            f"({event.event})[/dim]",
            highlight=False,
            **one_line(self.console),
        )

    def close(self) -> None:
        pass
